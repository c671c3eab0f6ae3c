package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Deps are the ports and settings the conversations need.
type Deps struct {
	Customers    Customers
	Certificates Certificates
	Catalog      Catalog
	Orders       Orders
	Sessions     Sessions
	OTPs         OTPs
	Audit        Audit
	Mailer       Mailer
	Files        Files
	Clock        Clock
	Loc          *time.Location // the provider's time zone (Asia/Ho_Chi_Minh)
	Support      Support
	Bank         BankAccount
	// OTPSecret keys the hash of one-time codes.
	OTPSecret string
}

// Support is how a customer reaches a person.
type Support struct {
	Hotline string
	Email   string
}

// Engine runs the conversations: it turns an Event and the chat's Session
// into replies and the next Session, following the transition table in
// machine.go. It is safe for concurrent use; the caller keeps one chat's
// events in order (bot/ does).
type Engine struct {
	d Deps
}

// NewEngine checks deps and returns an Engine.
func NewEngine(d Deps) (*Engine, error) {
	if d.Customers == nil || d.Certificates == nil || d.Sessions == nil {
		return nil, errors.New("flows: Customers, Certificates and Sessions are required")
	}
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Loc == nil {
		d.Loc = time.UTC
	}
	return &Engine{d: d}, nil
}

// Location is the provider's time zone.
func (e *Engine) Location() *time.Location { return e.d.Loc }

// turn is one event being handled: the session being changed, and what to send.
type turn struct {
	S       *Session
	Ev      Event
	Replies []Reply
	Staff   []Reply
	Notice  *Text
}

func (t *turn) say(r ...Reply)   { t.Replies = append(t.Replies, r...) }
func (t *turn) staff(r ...Reply) { t.Staff = append(t.Staff, r...) }

// step handles one input in one state. It may change t.S (its State, ids...)
// and adds the replies to send. An *Error with a MsgID and a code other than
// Internal is shown to the customer followed by the current step again, and
// the session is left as it was.
type step func(e *Engine, ctx context.Context, t *turn) error

// Handle applies one event to its chat's session.
func (e *Engine) Handle(ctx context.Context, ev Event) (Outcome, error) {
	s, err := e.d.Sessions.LoadSession(ctx, ev.ChatID)
	switch {
	case IsCode(err, NotFound):
		s = Session{Schema: SessionSchema, ChatID: ev.ChatID, UserID: ev.UserID, State: StateNew, Lang: LangFromHint(ev.LangHint)}
		if l, lerr := e.d.Customers.LinkByChat(ctx, ev.ChatID); lerr == nil {
			// Redis lost the cursor but Postgres knows the chat: nothing asked twice.
			s.CustomerID, s.State = l.CustomerID, StateIdle
			if l.Lang != "" {
				s.Lang = l.Lang
			}
		} else if !IsCode(lerr, NotFound) {
			return Outcome{}, fmt.Errorf("load link of chat %d: %w", ev.ChatID, lerr)
		}
	case err != nil:
		return Outcome{}, fmt.Errorf("load session of chat %d: %w", ev.ChatID, err)
	}
	if s.UserID == 0 {
		s.UserID = ev.UserID
	}
	if ev.At.IsZero() {
		ev.At = e.d.Clock.Now()
	}

	if strings.HasPrefix(string(ev.Input), "btn:") && ev.Version != s.Version && !versionless[ev.Input] {
		// A press on a keyboard drawn for an older step.
		r, err := e.prompt(ctx, &s)
		if err != nil {
			return Outcome{}, err
		}
		// The transfer was requested already (a double-tapped Pay lands here):
		// show the step's text with the account details, not another VietQR.
		r.Transfer = nil
		n := T("btn_expired")
		return Outcome{Session: s, Replies: []Reply{Say("btn_expired"), r}, Notice: &n}, nil
	}

	do, ok := lookup(s.State, ev.Input)
	if !ok {
		r, err := e.prompt(ctx, &s)
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Session: s, Replies: []Reply{Say(unexpectedText(ev.Input)), r}}, nil
	}

	next := s
	next.Back = append([]State(nil), s.Back...)
	t := &turn{S: &next, Ev: ev}
	err = do(e, ctx, t)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) && fe.Code != Internal && fe.MsgID != "" {
			// The customer's input was refused: say why, show the same step again.
			r, perr := e.prompt(ctx, &s)
			if perr != nil {
				return Outcome{}, perr
			}
			return Outcome{Session: s, Replies: []Reply{{Texts: []Text{{ID: fe.MsgID, Data: errData(fe)}}}, r}}, nil
		}
		return Outcome{}, fmt.Errorf("chat %d state %s input %s: %w", ev.ChatID, s.State, ev.Input, err)
	}
	next.Schema = SessionSchema
	saved, err := e.d.Sessions.SaveSession(ctx, next)
	if err != nil {
		return Outcome{}, fmt.Errorf("save session of chat %d: %w", ev.ChatID, err)
	}
	return Outcome{Session: saved, Replies: t.Replies, Staff: t.Staff, Notice: t.Notice}, nil
}

func unexpectedText(in Input) string {
	switch {
	case in == InPhoto || in == InDocument || in == InOther:
		return "err_unexpected_file"
	case strings.HasPrefix(string(in), "cmd:"):
		return "err_unexpected_command"
	}
	return "err_unexpected"
}

// refuse builds the error a step returns when the customer's input is refused.
func refuse(msgID string, kv ...any) error {
	t := T(msgID, kv...)
	return &Error{Code: Invalid, MsgID: msgID, Msg: msgID, Err: dataErr{t.Data}}
}

type dataErr struct{ data map[string]any }

func (dataErr) Error() string { return "refused" }

func errData(fe *Error) map[string]any {
	var d dataErr
	if errors.As(fe.Err, &d) {
		return d.data
	}
	return nil
}

// AnyVersion marks buttons of proactive messages (reminders, broadcasts,
// payment notices), which are not drawn for one step of the conversation.
const AnyVersion int64 = -2

// versionless are entry points: they work from any message at any time
// (a reminder's "Renew now", a certificate list's "Renew" button), so they
// never expire; every other button is checked against the session version.
var versionless = map[Input]bool{Btn("renew"): true, Btn("status"): true, Btn("certs"): true, Btn("menu"): true, Btn("human"): true}

// LangFromHint picks the conversation language from Telegram's
// language_code: English for en*, Vietnamese otherwise.
func LangFromHint(code string) string {
	if strings.HasPrefix(strings.ToLower(code), "en") {
		return "en"
	}
	return "vi"
}
