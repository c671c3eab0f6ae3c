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
	return StaffResult{Replies: []Reply{{Texts: []Text{T("staff_help"), T("bc_help")}}}}, nil
}

// StaffDesk is what the staff chat talks to: broadcast commands, texts and
// buttons go to the Broadcaster, other commands to the Engine. bot/ checks
// that the sender is a configured staff member in the staff chat.
type StaffDesk struct {
	Engine     *Engine
	Broadcasts *Broadcaster
}

// StaffCommand runs a staff command.
func (d StaffDesk) StaffCommand(ctx context.Context, staffID int64, name, args string) (StaffResult, error) {
	if d.Broadcasts != nil {
		if res, ok, err := d.Broadcasts.Command(ctx, staffID, name, args); ok {
			return res, err
		}
	}
	return d.Engine.StaffCommand(ctx, staffID, name, args)
}

// StaffText takes a plain message of a staff member (a broadcast's text);
// other messages are chatter and produce nothing.
func (d StaffDesk) StaffText(ctx context.Context, staffID int64, text string) (StaffResult, error) {
	if d.Broadcasts == nil {
		return StaffResult{}, nil
	}
	return d.Broadcasts.Text(ctx, staffID, text)
}

// StaffButton takes a press on a button the bot drew in the staff chat.
// Unknown buttons get the "expired" text.
func (d StaffDesk) StaffButton(ctx context.Context, staffID int64, action string, args []string) (StaffResult, error) {
	if d.Broadcasts != nil {
		if res, ok, err := d.Broadcasts.Button(ctx, staffID, action, args); ok {
			return res, err
		}
	}
	return StaffResult{Replies: []Reply{Say("btn_expired")}}, nil
}
