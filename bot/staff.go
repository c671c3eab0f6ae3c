package bot

import (
	"context"
	"slices"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/renewbot/renewbot/flows"
)

// StaffHandler runs what staff do in the staff chat (flows.StaffDesk):
// commands, plain messages (a broadcast's text) and button presses.
type StaffHandler interface {
	StaffCommand(ctx context.Context, staffID int64, name, args string) (flows.StaffResult, error)
	StaffText(ctx context.Context, staffID int64, text string) (flows.StaffResult, error)
	StaffButton(ctx context.Context, staffID int64, action string, args []string) (flows.StaffResult, error)
}

// SetStaff enables staff commands in the staff chat. onPayment announces a
// payment a staff member recorded, like the payment provider's callback does.
func (a *Adapter) SetStaff(h StaffHandler, staffIDs []int64, onPayment func(context.Context, flows.Payment, flows.Order)) {
	a.staff, a.staffIDs, a.onPayment = h, staffIDs, onPayment
}

// handleStaff takes commands, and plain text outside forum topics (a
// broadcast's text; flows ignores it when nothing waits for it), from
// configured staff members in the staff chat; everything else there is
// ignored (chatter between agents, other people).
func (a *Adapter) handleStaff(ctx context.Context, m *models.Message) {
	if a.staff == nil || m.From == nil || !a.isStaff(m.From.ID) {
		return
	}
	name, args, ok := command(m)
	var res flows.StaffResult
	var err error
	switch {
	case ok:
		res, err = a.staff.StaffCommand(ctx, m.From.ID, name, args)
	case m.Text != "" && !m.IsTopicMessage:
		name = "(text)"
		res, err = a.staff.StaffText(ctx, m.From.ID, clip(m.Text))
	default:
		return
	}
	if err != nil {
		a.log.Error("staff command", "command", name, "err", err)
		a.sendText(ctx, m.Chat.ID, a.cat.Render("vi", flows.T("err_internal")))
		return
	}
	a.Deliver(ctx, m.Chat.ID, "vi", 0, res.Replies)
	if res.Payment != nil && a.onPayment != nil {
		a.onPayment(ctx, *res.Payment, res.Order)
	}
}

func (a *Adapter) isStaff(id int64) bool { return slices.Contains(a.staffIDs, id) }

// handleStaffButton takes a press on a button in the staff chat. Every
// press is answered (or the button spins); a press by someone who is not
// a configured staff member changes nothing.
func (a *Adapter) handleStaffButton(ctx context.Context, q *models.CallbackQuery) {
	toast := ""
	defer func() {
		if _, err := a.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: toast}); err != nil {
			a.log.Warn("answer staff callback", "err", err)
		}
	}()
	if a.staff == nil || !a.isStaff(q.From.ID) {
		toast = a.cat.Render("vi", flows.T("staff_only"))
		return
	}
	chatID := q.Message.Message.Chat.ID
	_, action, args, err := decodeCallback(q.Data)
	if err != nil {
		toast = a.cat.Render("vi", flows.T("btn_expired"))
		return
	}
	res, err := a.staff.StaffButton(ctx, q.From.ID, action, args)
	if err != nil {
		a.log.Error("staff button", "action", action, "err", err)
		a.sendText(ctx, chatID, a.cat.Render("vi", flows.T("err_internal")))
		return
	}
	a.Deliver(ctx, chatID, "vi", 0, res.Replies)
}
