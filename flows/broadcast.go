package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Staff broadcasts (issue 6), composed in the staff chat:
//
//	/broadcast -> text -> segment [-> type | days] -> preview -> Confirm
//	                                                          -> running <-> paused
//	                                                          -> done | cancelled
//
// The draft is a broadcasts row with status draft (Postgres, durable: a
// restart or another instance continues it), one per staff member. Its step
// is the conversation cursor; every write of it is guarded by the step it
// was read in, so a double tap cannot move it twice. Confirm turns the draft
// into a running broadcast: recipients and their outbox rows are written in
// one transaction and the scheduler's dispatcher sends them at the shared
// rate, outside quiet hours (a broadcast is proactive, like a reminder).
//
// Decisions:
//   - Customers who opted out of reminders (/settings) are excluded: the
//     opt-out is their only "leave me alone" switch, and a broadcast is less
//     wanted than a reminder.
//   - Recipients are active links only (a chat that blocked the bot is not
//     written to), one per chat.
//   - A draft belongs to the staff member who typed /broadcast: only they can
//     type its text, choose its segment and confirm it. Pause, resume and
//     cancel of a running broadcast are open to every staff member (stopping
//     a wrong broadcast must not wait for its author).

// BroadcastStatus is the state of a broadcast row.
type BroadcastStatus string

const (
	BroadcastDraft     BroadcastStatus = "draft"
	BroadcastRunning   BroadcastStatus = "running"
	BroadcastPaused    BroadcastStatus = "paused"
	BroadcastCancelled BroadcastStatus = "cancelled" // final; rows not sent yet were dropped
	BroadcastDone      BroadcastStatus = "done"
)

// BroadcastStep is where a draft's composition stands.
type BroadcastStep string

const (
	BcAwaitText    BroadcastStep = "text"    // the next plain message is the text
	BcAwaitSegment BroadcastStep = "segment" // segment buttons shown
	BcAwaitType    BroadcastStep = "type"    // certificate type buttons shown
	BcAwaitDays    BroadcastStep = "days"    // 7/30/90 buttons shown (or a typed number)
	BcPreview      BroadcastStep = "preview" // preview, count, Confirm / Cancel
)

// ParseBroadcastStep accepts only known steps (read back from storage).
func ParseBroadcastStep(s string) (BroadcastStep, error) {
	switch st := BroadcastStep(s); st {
	case BcAwaitText, BcAwaitSegment, BcAwaitType, BcAwaitDays, BcPreview:
		return st, nil
	}
	return "", Errorf(Invalid, "unknown broadcast step %q", s)
}

// SegmentKind names a group of customers.
type SegmentKind string

const (
	SegmentAll      SegmentKind = "all"      // every linked customer
	SegmentType     SegmentKind = "type"     // holds a certificate of Type
	SegmentExpiring SegmentKind = "expiring" // a certificate expires within Days (not expired yet)
	SegmentNever    SegmentKind = "never"    // no order ever paid
)

// BroadcastSegment is who receives a broadcast (stored as JSON).
type BroadcastSegment struct {
	Kind SegmentKind `json:"kind"`
	Type CertType    `json:"type,omitempty"`
	Days int         `json:"days,omitempty"`
}

// MaxBroadcastDays bounds "expiring within N days".
const MaxBroadcastDays = 365

// MaxBroadcastText bounds the text: it goes out as one Telegram message with
// a prefix, under Telegram's 4096 characters.
const MaxBroadcastText = 3500

// Check validates a segment.
func (s BroadcastSegment) Check() error {
	switch s.Kind {
	case SegmentAll, SegmentNever:
		return nil
	case SegmentType:
		_, err := ParseCertType(string(s.Type))
		return err
	case SegmentExpiring:
		if s.Days < 1 || s.Days > MaxBroadcastDays {
			return Errorf(Invalid, "segment: %d days", s.Days)
		}
		return nil
	}
	return Errorf(Invalid, "unknown segment %q", s.Kind)
}

// Label describes the segment for staff.
func (s BroadcastSegment) Label() Text {
	switch s.Kind {
	case SegmentType:
		return T("seg_type", "Type", T("type_"+string(s.Type)))
	case SegmentExpiring:
		return T("seg_expiring", "Days", s.Days)
	case SegmentNever:
		return T("seg_never")
	}
	return T("seg_all")
}

// Broadcast is a broadcast row: a draft being composed, or a sending.
type Broadcast struct {
	ID      int64
	StaffID int64 // who composed it
	Status  BroadcastStatus
	Step    BroadcastStep // drafts only
	Text    string
	Segment BroadcastSegment
	Total   int // recipients
	Sent    int
	Failed  int
	Blocked int
	// Reported is the last progress reported to staff, in tenths of Total;
	// ReportedFinal means the final report was made.
	Reported int
}

// ReportedFinal is Broadcast.Reported once the final report is made.
const ReportedFinal = 10

// Ref is the broadcast's number as staff type it (/broadcast_pause 12).
func (b Broadcast) Ref() string { return strconv.FormatInt(b.ID, 10) }

// Broadcasts keeps broadcasts (storage/postgres).
type Broadcasts interface {
	// BroadcastDraft returns the staff member's draft. NotFound.
	BroadcastDraft(ctx context.Context, staffID int64) (Broadcast, error)
	// NewBroadcastDraft drops the staff member's draft, if any, and starts a
	// new one at BcAwaitText.
	NewBroadcastDraft(ctx context.Context, staffID int64, now time.Time) (Broadcast, error)
	// SaveBroadcastDraft writes a draft's step, text and segment if it is
	// still a draft at step from. Conflict otherwise.
	SaveBroadcastDraft(ctx context.Context, b Broadcast, from BroadcastStep) error
	// DeleteBroadcastDraft drops a draft (a running broadcast is left alone).
	DeleteBroadcastDraft(ctx context.Context, id int64) error
	// CountRecipients counts the chats a segment reaches at now: active
	// links of customers who did not opt out, one per chat.
	CountRecipients(ctx context.Context, seg BroadcastSegment, now time.Time) (int, error)
	// StartBroadcast turns a draft at BcPreview into a running broadcast:
	// its recipients (as CountRecipients) and their outbox rows, due at at,
	// in one transaction; with no recipient it is done at once. Conflict
	// when it is not a draft at BcPreview any more (a second Confirm).
	StartBroadcast(ctx context.Context, id int64, now, at time.Time) (Broadcast, error)
	// Broadcast loads one. NotFound.
	Broadcast(ctx context.Context, id int64) (Broadcast, error)
	// PauseBroadcast moves running to paused; its rows not sent yet wait.
	// NotFound, FailedPrecondition when it is not running.
	PauseBroadcast(ctx context.Context, id int64) (Broadcast, error)
	// ResumeBroadcast moves paused to running; its waiting rows are due at
	// at. NotFound, FailedPrecondition when it is not paused.
	ResumeBroadcast(ctx context.Context, id int64, at time.Time) (Broadcast, error)
	// CancelBroadcast moves running or paused to cancelled (final); its rows
	// not sent yet are dropped and their recipients skipped. NotFound,
	// FailedPrecondition when it is done or cancelled.
	CancelBroadcast(ctx context.Context, id int64, now time.Time) (Broadcast, error)
	// BroadcastsToReport lists started broadcasts whose final report is not
	// made yet.
	BroadcastsToReport(ctx context.Context) ([]Broadcast, error)
	// MarkBroadcastReported records the report made (tenths, or ReportedFinal).
	MarkBroadcastReported(ctx context.Context, id int64, reported int) error
}

// BroadcastReport is the report due for a started broadcast, if any: the
// final one once it is done, else progress when another tenth of its
// recipients was handled. Key is the outbox idempotency key of the staff
// message; Reported what to record once it is enqueued.
func (b Broadcast) BroadcastReport() (r Reply, key string, reported int, ok bool) {
	if b.Reported >= ReportedFinal || b.Status == BroadcastDraft {
		return Reply{}, "", 0, false
	}
	// Numbers as strings: the reply goes through the outbox as JSON.
	sent, total, blocked, failed := strconv.Itoa(b.Sent), strconv.Itoa(b.Total), strconv.Itoa(b.Blocked), strconv.Itoa(b.Failed)
	if b.Status == BroadcastDone {
		return Say("bc_report", "Ref", b.Ref(), "Count", sent, "Total", total, "Left", blocked, "N", failed),
			fmt.Sprintf("broadcast:%d:report", b.ID), ReportedFinal, true
	}
	if b.Status != BroadcastRunning || b.Total == 0 {
		return Reply{}, "", 0, false
	}
	tenths := 10 * (b.Sent + b.Failed + b.Blocked) / b.Total
	if tenths <= b.Reported || tenths >= ReportedFinal {
		return Reply{}, "", 0, false
	}
	return Say("bc_progress", "Ref", b.Ref(), "Count", sent, "Total", total, "Left", blocked, "N", failed), fmt.Sprintf("broadcast:%d:progress:%d", b.ID, tenths), tenths, true
}

// ---- the composition state machine (pure) ----

// BcEffect is what a transition asks the Broadcaster to do besides saving.
type BcEffect int

const (
	BcSave  BcEffect = iota // save the draft and show its new step
	BcAbort                 // drop the draft
	BcStart                 // start the broadcast
)

// BcInput is one staff action on a draft.
type BcInput struct {
	Input Input    // InText, or Btn(...)
	Text  string   // typed text
	Args  []string // button arguments after the draft id
}

// bcTransition changes a copy of the draft; an *Error with a MsgID refuses
// the input (said to staff, the step shown again).
type bcTransition func(d *Broadcast, in BcInput) (BcEffect, error)

// bcMachine is the table: step -> accepted inputs -> transition.
// bcEverywhere is accepted at every step.
var (
	bcMachine = map[BroadcastStep]map[Input]bcTransition{
		BcAwaitText:    {InText: bcText},
		BcAwaitSegment: {Btn("bcseg"): bcSegment},
		BcAwaitType:    {Btn("bctype"): bcType},
		BcAwaitDays:    {Btn("bcdays"): bcDays, InText: bcDays},
		BcPreview:      {Btn("bcsend"): bcSend},
	}
	bcEverywhere = map[Input]bcTransition{
		Btn("bcabort"): bcAbort,
		Cmd("cancel"):  bcAbort,
	}
)

// NextBroadcastDraft applies one input to a draft. ok is false when the
// input is not accepted at the draft's step (a stale button, a text when a
// button is expected).
func NextBroadcastDraft(d Broadcast, in BcInput) (next Broadcast, eff BcEffect, ok bool, err error) {
	f, found := bcMachine[d.Step][in.Input]
	if !found {
		f, found = bcEverywhere[in.Input]
	}
	if !found {
		return d, BcSave, false, nil
	}
	next = d
	eff, err = f(&next, in)
	if err != nil {
		return d, BcSave, true, err
	}
	return next, eff, true, nil
}

func bcText(d *Broadcast, in BcInput) (BcEffect, error) {
	text := strings.TrimSpace(in.Text)
	if text == "" || utf8.RuneCountInString(text) > MaxBroadcastText {
		return BcSave, refuse("bc_err_text")
	}
	d.Text, d.Step = text, BcAwaitSegment
	return BcSave, nil
}

func bcSegment(d *Broadcast, in BcInput) (BcEffect, error) {
	if len(in.Args) != 1 {
		return BcSave, Errorf(Invalid, "segment button without a kind")
	}
	switch k := SegmentKind(in.Args[0]); k {
	case SegmentAll, SegmentNever:
		d.Segment, d.Step = BroadcastSegment{Kind: k}, BcPreview
	case SegmentType:
		d.Step = BcAwaitType
	case SegmentExpiring:
		d.Step = BcAwaitDays
	default:
		return BcSave, Errorf(Invalid, "unknown segment %q", k)
	}
	return BcSave, nil
}

func bcType(d *Broadcast, in BcInput) (BcEffect, error) {
	if len(in.Args) != 1 {
		return BcSave, Errorf(Invalid, "type button without a type")
	}
	t, err := ParseCertType(in.Args[0])
	if err != nil {
		return BcSave, err
	}
	d.Segment, d.Step = BroadcastSegment{Kind: SegmentType, Type: t}, BcPreview
	return BcSave, nil
}

func bcDays(d *Broadcast, in BcInput) (BcEffect, error) {
	s := strings.TrimSpace(in.Text)
	if len(in.Args) == 1 {
		s = in.Args[0]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxBroadcastDays {
		return BcSave, refuse("bc_err_days")
	}
	d.Segment, d.Step = BroadcastSegment{Kind: SegmentExpiring, Days: n}, BcPreview
	return BcSave, nil
}

func bcSend(d *Broadcast, _ BcInput) (BcEffect, error) {
	if d.Text == "" || d.Segment.Check() != nil {
		return BcSave, Errorf(Invalid, "broadcast %d is not complete", d.ID)
	}
	return BcStart, nil
}

func bcAbort(*Broadcast, BcInput) (BcEffect, error) { return BcAbort, nil }

// BroadcastDaysChoices are the day buttons of "expiring within N days".
var BroadcastDaysChoices = []int{7, 30, 90}

// broadcastPrompt is the message that shows a draft's step; count is the
// number of recipients (preview only).
func broadcastPrompt(d Broadcast, count int) Reply {
	id := strconv.FormatInt(d.ID, 10)
	btn := func(label Text, action string, args ...string) Button {
		return Button{Label: label, Action: action, Args: append([]string{id}, args...)}
	}
	abort := []Button{btn(T("btn_bc_cancel"), "bcabort")}
	switch d.Step {
	case BcAwaitSegment:
		return Reply{Texts: []Text{T("bc_ask_segment")}, Buttons: [][]Button{
			{btn(T("btn_seg_all"), "bcseg", string(SegmentAll))},
			{btn(T("btn_seg_type"), "bcseg", string(SegmentType))},
			{btn(T("btn_seg_expiring"), "bcseg", string(SegmentExpiring))},
			{btn(T("btn_seg_never"), "bcseg", string(SegmentNever))},
			abort}}
	case BcAwaitType:
		var rows [][]Button
		for _, ct := range CertTypes {
			rows = append(rows, []Button{btn(T("type_"+string(ct)), "bctype", string(ct))})
		}
		return Reply{Texts: []Text{T("bc_ask_type")}, Buttons: append(rows, abort)}
	case BcAwaitDays:
		var row []Button
		for _, n := range BroadcastDaysChoices {
			row = append(row, btn(T("btn_bc_days", "Days", n), "bcdays", strconv.Itoa(n)))
		}
		return Reply{Texts: []Text{T("bc_ask_days")}, Buttons: [][]Button{row, abort}}
	case BcPreview:
		return Reply{Texts: []Text{T("bc_preview", "Value", d.Text, "Label", d.Segment.Label(), "Count", count)},
			Buttons: [][]Button{{btn(T("btn_bc_send"), "bcsend"), btn(T("btn_bc_cancel"), "bcabort")}}}
	}
	return Reply{Texts: []Text{T("bc_ask_text")}}
}

// runningButtons control a started broadcast.
func runningButtons(b Broadcast) [][]Button {
	id := b.Ref()
	switch b.Status {
	case BroadcastRunning:
		return [][]Button{{{Label: T("btn_bc_pause"), Action: "bcpause", Args: []string{id}},
			{Label: T("btn_bc_stop"), Action: "bcstop", Args: []string{id}}}}
	case BroadcastPaused:
		return [][]Button{{{Label: T("btn_bc_resume"), Action: "bcresume", Args: []string{id}},
			{Label: T("btn_bc_stop"), Action: "bcstop", Args: []string{id}}}}
	}
	return nil
}

// ---- the Broadcaster: the machine with its storage ----

// Broadcaster runs broadcast composition and control for the staff chat.
type Broadcaster struct {
	store Broadcasts
	clock Clock
	// quiet holds broadcasts back during the reminders' quiet hours
	// (zero: never quiet).
	quiet ReminderPolicy
	audit Audit
}

// NewBroadcaster returns a Broadcaster; quiet's quiet hours (when its Loc
// is set) delay the start of a broadcast confirmed during them.
func NewBroadcaster(store Broadcasts, clock Clock, quiet ReminderPolicy, audit Audit) *Broadcaster {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Broadcaster{store: store, clock: clock, quiet: quiet, audit: audit}
}

// due is when a message enqueued at now may go out.
func (b *Broadcaster) due(now time.Time) time.Time {
	if b.quiet.Loc == nil {
		return now
	}
	return b.quiet.AfterQuiet(now)
}

// Command runs /broadcast, /broadcast_pause|resume|cancel <id> and /cancel
// (drops the caller's draft). handled is false for other commands.
func (b *Broadcaster) Command(ctx context.Context, staffID int64, name, args string) (res StaffResult, handled bool, err error) {
	switch name {
	case "broadcast":
		d, err := b.store.NewBroadcastDraft(ctx, staffID, b.clock.Now())
		if err != nil {
			return res, true, err
		}
		return StaffResult{Replies: []Reply{broadcastPrompt(d, 0)}}, true, nil
	case "broadcast_pause", "broadcast_resume", "broadcast_cancel":
		id, perr := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(args), "#"), 10, 64)
		if perr != nil || id <= 0 {
			return StaffResult{Replies: []Reply{Say("bc_usage")}}, true, nil
		}
		res, err := b.control(ctx, staffID, strings.TrimPrefix(name, "broadcast_"), id)
		return res, true, err
	case "cancel":
		res, err := b.draftInput(ctx, staffID, 0, BcInput{Input: Cmd("cancel")})
		return res, true, err
	}
	return res, false, nil
}

// Text takes a staff member's plain message in the staff chat: the text or
// the number of days of their draft. Without a draft waiting for text it is
// chatter between staff: nothing is said.
func (b *Broadcaster) Text(ctx context.Context, staffID int64, text string) (StaffResult, error) {
	d, err := b.store.BroadcastDraft(ctx, staffID)
	if IsCode(err, NotFound) {
		return StaffResult{}, nil
	}
	if err != nil {
		return StaffResult{}, err
	}
	if _, ok := bcMachine[d.Step][InText]; !ok {
		return StaffResult{}, nil
	}
	return b.apply(ctx, d, BcInput{Input: InText, Text: text})
}

// Button takes a press on a broadcast button in the staff chat; args[0] is
// the broadcast's id. handled is false for other buttons.
func (b *Broadcaster) Button(ctx context.Context, staffID int64, action string, args []string) (res StaffResult, handled bool, err error) {
	if !strings.HasPrefix(action, "bc") {
		return res, false, nil
	}
	if len(args) == 0 {
		return StaffResult{Replies: []Reply{Say("btn_expired")}}, true, nil
	}
	id, perr := strconv.ParseInt(args[0], 10, 64)
	if perr != nil {
		return StaffResult{Replies: []Reply{Say("btn_expired")}}, true, nil
	}
	switch action {
	case "bcpause", "bcresume", "bcstop":
		res, err := b.control(ctx, staffID, map[string]string{"bcpause": "pause", "bcresume": "resume", "bcstop": "cancel"}[action], id)
		return res, true, err
	}
	res, err = b.draftInput(ctx, staffID, id, BcInput{Input: Btn(action), Args: args[1:]})
	return res, true, err
}

// draftInput applies an input to the staff member's own draft; id (when not
// 0) is the draft the pressed keyboard was drawn for: another staff
// member's draft, or an older one, is not touched.
func (b *Broadcaster) draftInput(ctx context.Context, staffID, id int64, in BcInput) (StaffResult, error) {
	d, err := b.store.BroadcastDraft(ctx, staffID)
	if IsCode(err, NotFound) || err == nil && id != 0 && d.ID != id {
		if in.Input == Cmd("cancel") {
			return StaffResult{}, nil
		}
		return StaffResult{Replies: []Reply{Say("bc_not_yours")}}, nil
	}
	if err != nil {
		return StaffResult{}, err
	}
	return b.apply(ctx, d, in)
}

func (b *Broadcaster) apply(ctx context.Context, d Broadcast, in BcInput) (StaffResult, error) {
	next, eff, ok, err := NextBroadcastDraft(d, in)
	if !ok {
		r, perr := b.prompt(ctx, d)
		if perr != nil {
			return StaffResult{}, perr
		}
		return StaffResult{Replies: []Reply{Say("btn_expired"), r}}, nil
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) && fe.Code != Internal && fe.MsgID != "" {
			r, perr := b.prompt(ctx, d)
			if perr != nil {
				return StaffResult{}, perr
			}
			return StaffResult{Replies: []Reply{{Texts: []Text{{ID: fe.MsgID, Data: errData(fe)}}}, r}}, nil
		}
		return StaffResult{}, fmt.Errorf("broadcast %d step %s input %s: %w", d.ID, d.Step, in.Input, err)
	}
	switch eff {
	case BcAbort:
		if err := b.store.DeleteBroadcastDraft(ctx, d.ID); err != nil {
			return StaffResult{}, err
		}
		return StaffResult{Replies: []Reply{Say("bc_aborted")}}, nil
	case BcStart:
		now := b.clock.Now()
		started, err := b.store.StartBroadcast(ctx, d.ID, now, b.due(now))
		if IsCode(err, Conflict) {
			return StaffResult{}, nil // a second Confirm: the first one answered
		}
		if err != nil {
			return StaffResult{}, err
		}
		if b.audit != nil {
			if err := b.audit.Audit(ctx, fmt.Sprintf("staff:%d", d.StaffID), "broadcast_start", "broadcast:"+started.Ref(),
				map[string]any{"segment": started.Segment, "total": started.Total}); err != nil {
				return StaffResult{}, err
			}
		}
		if started.Total == 0 {
			return StaffResult{Replies: []Reply{Say("bc_none")}}, nil
		}
		r := Say("bc_started", "Ref", started.Ref(), "Count", started.Total)
		if at := b.due(now); at.After(now) {
			r.Texts = append(r.Texts, T("bc_quiet", "Date", at.In(b.quiet.Loc).Format("15:04 02/01/2006")))
		}
		r.Buttons = runningButtons(started)
		return StaffResult{Replies: []Reply{r}}, nil
	}
	if err := b.store.SaveBroadcastDraft(ctx, next, d.Step); err != nil {
		if IsCode(err, Conflict) {
			return StaffResult{}, nil // a concurrent press moved it first
		}
		return StaffResult{}, err
	}
	if next.Step == BcPreview {
		n, err := b.store.CountRecipients(ctx, next.Segment, b.clock.Now())
		if err != nil {
			return StaffResult{}, err
		}
		if n == 0 {
			if err := b.store.DeleteBroadcastDraft(ctx, next.ID); err != nil {
				return StaffResult{}, err
			}
			return StaffResult{Replies: []Reply{Say("bc_none")}}, nil
		}
		return StaffResult{Replies: []Reply{broadcastPrompt(next, n)}}, nil
	}
	return StaffResult{Replies: []Reply{broadcastPrompt(next, 0)}}, nil
}

func (b *Broadcaster) prompt(ctx context.Context, d Broadcast) (Reply, error) {
	n := 0
	if d.Step == BcPreview {
		var err error
		if n, err = b.store.CountRecipients(ctx, d.Segment, b.clock.Now()); err != nil {
			return Reply{}, err
		}
	}
	return broadcastPrompt(d, n), nil
}

// control pauses, resumes or cancels a started broadcast (any staff member).
func (b *Broadcaster) control(ctx context.Context, staffID int64, what string, id int64) (StaffResult, error) {
	var (
		bc  Broadcast
		err error
	)
	ref := strconv.FormatInt(id, 10)
	switch what {
	case "pause":
		bc, err = b.store.PauseBroadcast(ctx, id)
	case "resume":
		bc, err = b.store.ResumeBroadcast(ctx, id, b.due(b.clock.Now()))
	default:
		bc, err = b.store.CancelBroadcast(ctx, id, b.clock.Now())
	}
	switch {
	case IsCode(err, NotFound), IsCode(err, FailedPrecondition):
		return StaffResult{Replies: []Reply{Say("bc_unknown", "Ref", ref)}}, nil
	case err != nil:
		return StaffResult{}, err
	}
	if b.audit != nil {
		if err := b.audit.Audit(ctx, fmt.Sprintf("staff:%d", staffID), "broadcast_"+what, "broadcast:"+ref, nil); err != nil {
			return StaffResult{}, err
		}
	}
	var r Reply
	switch what {
	case "pause":
		r = Say("bc_paused", "Ref", ref)
	case "resume":
		r = Say("bc_resumed", "Ref", ref)
	default:
		r = Say("bc_cancelled", "Ref", ref)
		r.Texts = append(r.Texts, T("bc_progress", "Ref", ref, "Count", strconv.Itoa(bc.Sent), "Total", strconv.Itoa(bc.Total),
			"Left", strconv.Itoa(bc.Blocked), "N", strconv.Itoa(bc.Failed)))
	}
	r.Buttons = runningButtons(bc)
	return StaffResult{Replies: []Reply{r}}, nil
}
