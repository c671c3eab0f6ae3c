package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

const paymentColumns = `id, provider, transaction_id, order_ref, order_id, amount_vnd, paid_at, status, raw`

type paymentRow struct {
	ID            int64
	Provider      string
	TransactionID string
	OrderRef      string
	OrderID       *int64
	AmountVND     int64
	PaidAt        time.Time
	Status        string
	Raw           string
}

func scanPayment(row pgx.Row) (flows.Payment, error) {
	var r paymentRow
	err := row.Scan(&r.ID, &r.Provider, &r.TransactionID, &r.OrderRef, &r.OrderID, &r.AmountVND,
		&r.PaidAt, &r.Status, &r.Raw)
	if err != nil {
		return flows.Payment{}, err
	}
	return r.payment(), nil
}

func (r paymentRow) payment() flows.Payment {
	return flows.Payment{
		ID: r.ID, Provider: r.Provider, TransactionID: r.TransactionID, OrderRef: r.OrderRef,
		OrderID: idOf(r.OrderID), AmountVND: r.AmountVND, PaidAt: r.PaidAt,
		Status: flows.PaymentStatus(r.Status), Raw: r.Raw,
	}
}

// The payment is first stored as unmatched; ON CONFLICT makes a repeated
// (provider, transaction_id) a no-op, and a concurrent repeat waits for the
// first transaction and then does nothing.
const sqlInsertPayment = `
INSERT INTO payments (provider, transaction_id, order_ref, amount_vnd, paid_at, status, raw)
VALUES ($1, $2, $3, $4, $5, 'unmatched', $6)
ON CONFLICT (provider, transaction_id) DO NOTHING
RETURNING ` + paymentColumns

const sqlPaymentByTransaction = `
SELECT ` + paymentColumns + ` FROM payments WHERE provider = $1 AND transaction_id = $2`

const sqlLockOrderByRef = `SELECT ` + orderColumns + ` FROM orders WHERE ref = $1 FOR UPDATE`
const sqlLockOrder = `SELECT ` + orderColumns + ` FROM orders WHERE id = $1`

// The promo row lock serializes every payment redeeming the code, so used and
// the per-customer count read below are current.
const sqlLockPromo = `SELECT max_uses, per_customer, used FROM promo_codes WHERE id = $1 FOR UPDATE`

const sqlRedeemPromo = `
INSERT INTO promo_redemptions (promo_id, order_id, customer_id, redeemed_at) VALUES ($1, $2, $3, $4)`

const sqlBumpPromo = `UPDATE promo_codes SET used = used + 1 WHERE id = $1`

const sqlPayOrder = `
UPDATE orders SET status = 'paid', paid_at = $2, updated_at = now(), version = version + 1
WHERE id = $1
RETURNING ` + orderColumns

const sqlSetPaymentStatus = `
UPDATE payments SET status = $2, order_id = $3, order_ref = CASE WHEN order_ref = '' THEN $4 ELSE order_ref END
WHERE id = $1`

// RecordPayment stores a payment, idempotent by (Provider, TransactionID),
// and pays the order it names when it can. The order is found by OrderID when
// set (staff), else by OrderRef (case-insensitive). Outcomes:
//
//   - matched: the order was awaiting_payment and AmountVND >= its total (an
//     overpayment is matched; staff refund the difference). The order becomes
//     paid and its promo code is redeemed, in the same transaction.
//   - underpaid: the order was awaiting_payment but the amount is short, or
//     its promo code ran out (MaxUses or PerCustomer) meanwhile. The order does
//     not change; staff must act. OrderID is set.
//   - unmatched: no such order, or it is not awaiting payment. OrderID is 0
//     and the returned order is zero.
//   - duplicate: the transaction was recorded before; the first payment is
//     returned with Status PaymentDuplicate, with its order, and nothing changes.
//
// Invalid without provider or transaction id, or with an amount <= 0. A zero
// PaidAt means now.
func (db *DB) RecordPayment(ctx context.Context, p flows.Payment) (flows.Payment, flows.Order, error) {
	p.Provider = strings.TrimSpace(p.Provider)
	p.TransactionID = strings.TrimSpace(p.TransactionID)
	p.OrderRef = normalizeRef(p.OrderRef)
	if p.Provider == "" || p.TransactionID == "" {
		return flows.Payment{}, flows.Order{}, flows.Errorf(flows.Invalid, "record payment: provider and transaction id are required")
	}
	if p.AmountVND <= 0 {
		return flows.Payment{}, flows.Order{}, flows.Errorf(flows.Invalid, "record payment %s/%s: amount %d", p.Provider, p.TransactionID, p.AmountVND)
	}
	if p.PaidAt.IsZero() {
		p.PaidAt = time.Now()
	}
	what := fmt.Sprintf("record payment %s/%s", p.Provider, p.TransactionID)

	var (
		pay       flows.Payment
		order     flows.Order
		duplicate bool
	)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		pay, err = scanPayment(tx.QueryRow(ctx, sqlInsertPayment, p.Provider, p.TransactionID,
			p.OrderRef, p.AmountVND, p.PaidAt, p.Raw))
		if errors.Is(err, pgx.ErrNoRows) {
			duplicate = true
			return nil
		}
		if err != nil {
			return err
		}
		pay.OrderID = 0
		order, pay.Status, err = settle(ctx, tx, p)
		if err != nil {
			return err
		}
		if pay.Status != flows.PaymentUnmatched {
			pay.OrderID = order.ID
			if pay.OrderRef == "" {
				pay.OrderRef = order.Ref
			}
		}
		_, err = tx.Exec(ctx, sqlSetPaymentStatus, pay.ID, string(pay.Status), nullID(pay.OrderID), pay.OrderRef)
		return err
	})
	if err != nil {
		return flows.Payment{}, flows.Order{}, dbError(err, "%s", what)
	}
	if duplicate {
		return db.duplicatePayment(ctx, p, what)
	}
	return pay, order, nil
}

// settle finds the order a new payment names and pays it if it can. It
// returns the order (zero when unmatched) and the payment's status.
func settle(ctx context.Context, tx pgx.Tx, p flows.Payment) (flows.Order, flows.PaymentStatus, error) {
	var row pgx.Row
	switch {
	case p.OrderID != 0:
		row = tx.QueryRow(ctx, sqlLockOrder, p.OrderID)
	case p.OrderRef != "":
		row = tx.QueryRow(ctx, sqlLockOrderByRef, p.OrderRef)
	default:
		return flows.Order{}, flows.PaymentUnmatched, nil
	}
	o, err := scanOrder(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.Order{}, flows.PaymentUnmatched, nil
	}
	if err != nil {
		return flows.Order{}, "", err
	}
	if o.Status != flows.OrderAwaitingPayment {
		return flows.Order{}, flows.PaymentUnmatched, nil
	}
	if p.AmountVND < o.TotalVND {
		return o, flows.PaymentUnderpaid, nil
	}
	if o.PromoID != 0 {
		ok, err := redeem(ctx, tx, o, p.PaidAt)
		if err != nil {
			return flows.Order{}, "", err
		}
		if !ok {
			return o, flows.PaymentUnderpaid, nil
		}
	}
	paid, err := scanOrder(tx.QueryRow(ctx, sqlPayOrder, o.ID, p.PaidAt))
	if err != nil {
		return flows.Order{}, "", err
	}
	return paid, flows.PaymentMatched, nil
}

// redeem uses the order's promo code once, unless that would go beyond
// MaxUses or PerCustomer; ok is false then.
func redeem(ctx context.Context, tx pgx.Tx, o flows.Order, at time.Time) (ok bool, err error) {
	var maxUses, perCustomer, used int
	if err := tx.QueryRow(ctx, sqlLockPromo, o.PromoID).Scan(&maxUses, &perCustomer, &used); err != nil {
		return false, err
	}
	if maxUses > 0 && used >= maxUses {
		return false, nil
	}
	if perCustomer > 0 {
		var n int
		if err := tx.QueryRow(ctx, sqlPromoUsesBy, o.PromoID, o.CustomerID).Scan(&n); err != nil {
			return false, err
		}
		if n >= perCustomer {
			return false, nil
		}
	}
	if _, err := tx.Exec(ctx, sqlRedeemPromo, o.PromoID, o.ID, o.CustomerID, at); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, sqlBumpPromo, o.PromoID); err != nil {
		return false, err
	}
	return true, nil
}

// duplicatePayment returns the first payment of a repeated transaction, with
// its order.
func (db *DB) duplicatePayment(ctx context.Context, p flows.Payment, what string) (flows.Payment, flows.Order, error) {
	first, err := scanPayment(db.pool.QueryRow(ctx, sqlPaymentByTransaction, p.Provider, p.TransactionID))
	if err != nil {
		return flows.Payment{}, flows.Order{}, dbError(err, "%s: load first payment", what)
	}
	first.Status = flows.PaymentDuplicate
	if first.OrderID == 0 {
		return first, flows.Order{}, nil
	}
	o, err := db.Order(ctx, first.OrderID)
	if err != nil {
		return flows.Payment{}, flows.Order{}, fmt.Errorf("%s: %w", what, err)
	}
	return first, o, nil
}
