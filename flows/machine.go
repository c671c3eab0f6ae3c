package flows

import "context"

// The conversation is one transition table: for each state, the inputs it
// accepts and the step each causes. Inputs accepted in every state (commands,
// menu buttons, Cancel, Back, "talk to a person") are in everywhere; a state's
// own row wins over everywhere. Anything else is refused with a message and the
// current step shown again (see Engine.Handle). doc.go draws the diagram.
var (
	machine    map[State]map[Input]step
	everywhere map[Input]step
	prompts    map[State]func(e *Engine, ctx context.Context, s *Session) (Reply, error)
)

func init() {
	everywhere = map[Input]step{
		Cmd("start"):   (*Engine).start,
		Cmd("help"):    (*Engine).help,
		Cmd("menu"):    (*Engine).menu,
		Btn("menu"):    (*Engine).menu,
		Cmd("lang"):    (*Engine).askLang,
		Btn("lang"):    (*Engine).askLang,
		Btn("setlang"): (*Engine).setLang,
		Cmd("certs"):   linked((*Engine).listCerts),
		Btn("certs"):   linked((*Engine).listCerts),
		Cmd("human"):   (*Engine).human,
		Btn("human"):   (*Engine).human,
		Cmd("cancel"):  (*Engine).cancel,
		Btn("cancel"):  (*Engine).cancel,
		Btn("back"):    (*Engine).back,
	}
	machine = map[State]map[Input]step{
		StateNew: {},
		StateAwaitContact: {
			InContact: (*Engine).contact,
			InText:    (*Engine).contactTyped,
		},
		StateIdle: {},
	}
	prompts = map[State]func(e *Engine, ctx context.Context, s *Session) (Reply, error){
		StateNew:          (*Engine).promptContact,
		StateAwaitContact: (*Engine).promptContact,
		StateIdle:         (*Engine).promptMenu,
	}
	for _, r := range renewalRows() {
		machine[r.state] = r.inputs
		prompts[r.state] = r.prompt
		registerStates(r.state)
	}
}

// row is one state's line of the table, for rooms of the conversation kept
// in their own file (renewal.go).
type row struct {
	state  State
	inputs map[Input]step
	prompt func(e *Engine, ctx context.Context, s *Session) (Reply, error)
}

func lookup(s State, in Input) (step, bool) {
	if f, ok := machine[s][in]; ok {
		return f, true
	}
	f, ok := everywhere[in]
	return f, ok
}

// prompt is the message that shows state s (used after a refusal, a stale
// button, or to re-enter a step).
func (e *Engine) prompt(ctx context.Context, s *Session) (Reply, error) {
	p, ok := prompts[s.State]
	if !ok {
		return e.promptMenu(ctx, s)
	}
	return p(e, ctx, s)
}

// enter moves the session to state and adds its prompt. push remembers the
// state left, for Back.
func (e *Engine) enter(ctx context.Context, t *turn, state State, push bool) error {
	if push && t.S.State != state {
		t.S.Back = append(t.S.Back, t.S.State)
	}
	t.S.State = state
	r, err := e.prompt(ctx, t.S)
	if err != nil {
		return err
	}
	t.say(r)
	return nil
}

// Nav is the row of buttons every step carries.
func nav(back bool) []Button {
	row := []Button{}
	if back {
		row = append(row, Button{Label: T("btn_back"), Action: "back"})
	}
	row = append(row, Button{Label: T("btn_cancel"), Action: "cancel"}, Button{Label: T("btn_human"), Action: "human"})
	return row
}
