package flows

import (
	"context"
	"fmt"
	"strings"
)

// Staff commands, typed in the staff chat by configured staff members (bot/
// checks both before calling).

// StaffResult is what a staff command produced: replies for the staff chat,
// and a payment to announce to the customer when one was recorded.
type StaffResult struct {
	Replies []Reply
	Payment *Payment
	Order   Order
}

// StaffCommand runs /paid <order ref> (mark an order paid after checking the
// bank statement) and /order <ref> (show an order).
func (e *Engine) StaffCommand(ctx context.Context, staffID int64, name, args string) (StaffResult, error) {
	ref := strings.ToUpper(strings.TrimSpace(args))
	switch name {
	case "paid":
		if ref == "" {
			return StaffResult{Replies: []Reply{Say("staff_usage_paid")}}, nil
		}
		o, err := e.d.Orders.OrderByRef(ctx, ref)
		if IsCode(err, NotFound) {
			return StaffResult{Replies: []Reply{Say("staff_no_order", "Ref", ref)}}, nil
		}
		if err != nil {
			return StaffResult{}, err
		}
		if o.Status != OrderAwaitingPayment {
			return StaffResult{Replies: []Reply{Say("staff_not_awaiting", "Ref", o.Ref, "Status", T("status_"+string(o.Status)))}}, nil
		}
		p, o, err := e.d.Orders.RecordPayment(ctx, Payment{Provider: "staff", TransactionID: fmt.Sprintf("staff:%s", o.Ref),
			OrderRef: o.Ref, AmountVND: o.TotalVND, PaidAt: e.d.Clock.Now(), Raw: fmt.Sprintf(`{"staff_id":%d}`, staffID)})
		if err != nil {
			return StaffResult{}, err
		}
		if e.d.Audit != nil {
			if err := e.d.Audit.Audit(ctx, fmt.Sprintf("staff:%d", staffID), "mark_paid", "order:"+o.Ref, map[string]any{"payment_status": p.Status}); err != nil {
				return StaffResult{}, err
			}
		}
		res := StaffResult{Replies: []Reply{Say("staff_marked_paid", "Ref", o.Ref, "Status", string(p.Status))}, Order: o}
		if p.Status == PaymentMatched {
			res.Payment = &p
		}
		return res, nil
	case "order":
		o, err := e.d.Orders.OrderByRef(ctx, ref)
		if IsCode(err, NotFound) {
			return StaffResult{Replies: []Reply{Say("staff_no_order", "Ref", ref)}}, nil
		}
		if err != nil {
			return StaffResult{}, err
		}
		return StaffResult{Replies: []Reply{Say("staff_order", "Ref", o.Ref, "Status", T("status_"+string(o.Status)),
			"Total", Money(o.TotalVND), "Code", o.PromoCode, "Name", o.Subject.FullName)}}, nil
	}
	return StaffResult{Replies: []Reply{Say("staff_help")}}, nil
}
