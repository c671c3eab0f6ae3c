package bot

import (
	"context"
	"slices"

	"github.com/go-telegram/bot/models"
	"github.com/renewbot/renewbot/flows"
)

// StaffHandler runs staff commands (flows.Engine).
type StaffHandler interface {
	StaffCommand(ctx context.Context, staffID int64, name, args string) (flows.StaffResult, error)
}

// SetStaff enables staff commands in the staff chat. onPayment announces a
// payment a staff member recorded, like the payment provider's callback does.
func (a *Adapter) SetStaff(h StaffHandler, staffIDs []int64, onPayment func(context.Context, flows.Payment, flows.Order)) {
	a.staff, a.staffIDs, a.onPayment = h, staffIDs, onPayment
}

// handleStaff takes commands from configured staff members in the staff
// chat; everything else there is ignored (chatter between agents).
func (a *Adapter) handleStaff(ctx context.Context, m *models.Message) {
	if a.staff == nil || m.From == nil || !slices.Contains(a.staffIDs, m.From.ID) {
		return
	}
	name, args, ok := command(m)
	if !ok {
		return
	}
	res, err := a.staff.StaffCommand(ctx, m.From.ID, name, args)
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
