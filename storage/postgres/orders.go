package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Orders = (*DB)(nil)

// openStatuses are the statuses of an order in progress; the partial unique
// index orders_one_open_per_certificate lists the same ones.
var openStatuses = []string{
	string(flows.OrderDraft), string(flows.OrderAwaitingPayment), string(flows.OrderPaid),
	string(flows.OrderSubmitted), string(flows.OrderRejected),
}

var orderStatuses = map[flows.OrderStatus]bool{
	flows.OrderDraft: true, flows.OrderAwaitingPayment: true, flows.OrderPaid: true,
	flows.OrderSubmitted: true, flows.OrderApproved: true, flows.OrderRejected: true,
	flows.OrderCancelled: true,
}

const orderColumns = `id, ref, customer_id, certificate_id, package_id, status, price_vnd,
	discount_vnd, total_vnd, promo_id, promo_code, subject, invoice, payment, created_at,
	paid_at, version`

type orderRow struct {
	ID            int64
	Ref           string
	CustomerID    int64
	CertificateID int64
	PackageID     int64
	Status        string
	PriceVND      int64
	DiscountVND   int64
	TotalVND      int64
	PromoID       *int64
	PromoCode     string
	Subject       flows.SubjectInfo
	Invoice       flows.InvoiceInfo
	Payment       flows.PaymentInfo
	CreatedAt     time.Time
	PaidAt        *time.Time
	Version       int64
}

func scanOrder(row pgx.Row) (flows.Order, error) {
	var r orderRow
	err := row.Scan(&r.ID, &r.Ref, &r.CustomerID, &r.CertificateID, &r.PackageID, &r.Status,
		&r.PriceVND, &r.DiscountVND, &r.TotalVND, &r.PromoID, &r.PromoCode, &r.Subject,
		&r.Invoice, &r.Payment, &r.CreatedAt, &r.PaidAt, &r.Version)
	if err != nil {
		return flows.Order{}, err
	}
	return r.order(), nil
}

func (r orderRow) order() flows.Order {
	return flows.Order{
		ID: r.ID, Ref: r.Ref, CustomerID: r.CustomerID, CertificateID: r.CertificateID,
		PackageID: r.PackageID, Status: flows.OrderStatus(r.Status), PriceVND: r.PriceVND,
		DiscountVND: r.DiscountVND, TotalVND: r.TotalVND, PromoID: idOf(r.PromoID),
		PromoCode: r.PromoCode, Subject: r.Subject, Invoice: r.Invoice, Payment: r.Payment,
		CreatedAt: r.CreatedAt, PaidAt: timeOf(r.PaidAt), Version: r.Version,
	}
}

func collectOrders(rows pgx.Rows) ([]flows.Order, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.Order, error) {
		return scanOrder(row)
	})
}

const sqlOpenOrder = `
SELECT ` + orderColumns + `
FROM orders
WHERE certificate_id = $1 AND status = ANY($2)`

// OpenOrder returns the certificate's order in progress. NotFound.
func (db *DB) OpenOrder(ctx context.Context, certificateID int64) (flows.Order, error) {
	o, err := scanOrder(db.pool.QueryRow(ctx, sqlOpenOrder, certificateID, openStatuses))
	if err != nil {
		return flows.Order{}, dbError(err, "open order of certificate %d", certificateID)
	}
	return o, nil
}

const sqlCreateOrder = `
INSERT INTO orders (customer_id, certificate_id, package_id, status, price_vnd, discount_vnd,
	total_vnd, promo_id, promo_code, subject, invoice, payment)
VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING ` + orderColumns

// CreateOrder inserts a draft and assigns ID, Ref, Version (1) and CreatedAt.
// Conflict when the certificate already has an open order; NotFound when the
// certificate (of that customer), the package or the promo code does not
// exist; Invalid when the status is not draft or the prices do not add up
// (total = price - discount, none negative).
func (db *DB) CreateOrder(ctx context.Context, o flows.Order) (flows.Order, error) {
	if o.Status != "" && o.Status != flows.OrderDraft {
		return flows.Order{}, flows.Errorf(flows.Invalid, "create order: status %q, want draft", o.Status)
	}
	out, err := scanOrder(db.pool.QueryRow(ctx, sqlCreateOrder, o.CustomerID, o.CertificateID,
		o.PackageID, o.PriceVND, o.DiscountVND, o.TotalVND, nullID(o.PromoID), o.PromoCode,
		o.Subject, o.Invoice, o.Payment))
	if err != nil {
		return flows.Order{}, dbError(err, "create order for certificate %d", o.CertificateID)
	}
	return out, nil
}

const sqlOrder = `SELECT ` + orderColumns + ` FROM orders WHERE id = $1`

// Order loads by id. NotFound.
func (db *DB) Order(ctx context.Context, id int64) (flows.Order, error) {
	o, err := scanOrder(db.pool.QueryRow(ctx, sqlOrder, id))
	if err != nil {
		return flows.Order{}, dbError(err, "load order %d", id)
	}
	return o, nil
}

const sqlOrderByRef = `SELECT ` + orderColumns + ` FROM orders WHERE ref = $1`

// OrderByRef loads by reference, case-insensitively (HD000123). NotFound.
func (db *DB) OrderByRef(ctx context.Context, ref string) (flows.Order, error) {
	o, err := scanOrder(db.pool.QueryRow(ctx, sqlOrderByRef, normalizeRef(ref)))
	if err != nil {
		return flows.Order{}, dbError(err, "load order %q", ref)
	}
	return o, nil
}

func normalizeRef(ref string) string { return strings.ToUpper(strings.TrimSpace(ref)) }

const sqlUpdateDraft = `
UPDATE orders SET
	package_id = $3, price_vnd = $4, discount_vnd = $5, total_vnd = $6, promo_id = $7,
	promo_code = $8, subject = $9, invoice = $10, payment = $11,
	updated_at = now(), version = version + 1
WHERE id = $1 AND version = $2 AND status = 'draft'
RETURNING ` + orderColumns

const sqlOrderVersion = `SELECT status, version FROM orders WHERE id = $1`

// UpdateDraft writes a draft's package, prices, promo and info when o.Version
// matches, and returns it with the new version. NotFound; FailedPrecondition
// when the order is not a draft (whatever the version); Conflict on a version
// mismatch; Invalid or NotFound as CreateOrder for bad values.
func (db *DB) UpdateDraft(ctx context.Context, o flows.Order) (flows.Order, error) {
	out, err := scanOrder(db.pool.QueryRow(ctx, sqlUpdateDraft, o.ID, o.Version, o.PackageID,
		o.PriceVND, o.DiscountVND, o.TotalVND, nullID(o.PromoID), o.PromoCode, o.Subject,
		o.Invoice, o.Payment))
	if err == nil {
		return out, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return flows.Order{}, dbError(err, "update draft %d", o.ID)
	}
	// Nothing updated: say why.
	var status string
	var version int64
	if err := db.pool.QueryRow(ctx, sqlOrderVersion, o.ID).Scan(&status, &version); err != nil {
		return flows.Order{}, dbError(err, "update draft %d", o.ID)
	}
	if status != string(flows.OrderDraft) {
		return flows.Order{}, flows.Errorf(flows.FailedPrecondition, "update draft %d: order is %s", o.ID, status)
	}
	return flows.Order{}, flows.Errorf(flows.Conflict, "update draft %d: version %d, stored %d", o.ID, o.Version, version)
}

// confirmed_at remembers the first move to awaiting_payment (or beyond, when
// staff skip a step); paid_at the first move to paid.
const sqlSetOrderStatus = `
UPDATE orders SET
	status = $3,
	confirmed_at = CASE WHEN $3 IN ('draft', 'cancelled') THEN confirmed_at ELSE COALESCE(confirmed_at, now()) END,
	paid_at = CASE WHEN $3 = 'paid' THEN COALESCE(paid_at, now()) ELSE paid_at END,
	updated_at = now(), version = version + 1
WHERE id = $1 AND status = $2
RETURNING ` + orderColumns

// SetOrderStatus moves an order from one status to another and bumps the
// version. NotFound; Conflict when the order is not in status from (or when
// reopening it would give its certificate a second open order); Invalid for an
// unknown status.
func (db *DB) SetOrderStatus(ctx context.Context, id int64, from, to flows.OrderStatus) (flows.Order, error) {
	if !orderStatuses[from] || !orderStatuses[to] {
		return flows.Order{}, flows.Errorf(flows.Invalid, "order %d: status %q -> %q: unknown status", id, from, to)
	}
	o, err := scanOrder(db.pool.QueryRow(ctx, sqlSetOrderStatus, id, string(from), string(to)))
	if err == nil {
		return o, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return flows.Order{}, dbError(err, "order %d: %s -> %s", id, from, to)
	}
	var status string
	var version int64
	if err := db.pool.QueryRow(ctx, sqlOrderVersion, id).Scan(&status, &version); err != nil {
		return flows.Order{}, dbError(err, "order %d: %s -> %s", id, from, to)
	}
	return flows.Order{}, flows.Errorf(flows.Conflict, "order %d: %s -> %s: order is %s", id, from, to, status)
}

const sqlLatestOrderOf = `
SELECT ` + orderColumns + `
FROM orders
WHERE customer_id = $1 AND confirmed_at IS NOT NULL
ORDER BY created_at DESC, id DESC
LIMIT 1`

// LatestOrderOf returns the customer's most recent order that reached
// awaiting_payment (even if it was cancelled later). NotFound.
func (db *DB) LatestOrderOf(ctx context.Context, customerID int64) (flows.Order, error) {
	o, err := scanOrder(db.pool.QueryRow(ctx, sqlLatestOrderOf, customerID))
	if err != nil {
		return flows.Order{}, dbError(err, "latest order of customer %d", customerID)
	}
	return o, nil
}

const sqlOrdersOf = `
SELECT ` + orderColumns + `
FROM orders
WHERE customer_id = $1
ORDER BY created_at DESC, id DESC`

// OrdersOf lists a customer's orders, newest first.
func (db *DB) OrdersOf(ctx context.Context, customerID int64) ([]flows.Order, error) {
	rows, _ := db.pool.Query(ctx, sqlOrdersOf, customerID)
	orders, err := collectOrders(rows)
	if err != nil {
		return nil, dbError(err, "orders of customer %d", customerID)
	}
	return orders, nil
}
