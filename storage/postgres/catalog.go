package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Catalog = (*DB)(nil)

const packageColumns = `id, code, cert_type, name, months, price_vnd, active`

type packageRow struct {
	ID       int64
	Code     string
	CertType string
	Name     string
	Months   int
	PriceVND int64
	Active   bool
}

func scanPackage(row pgx.Row) (flows.Package, error) {
	var r packageRow
	if err := row.Scan(&r.ID, &r.Code, &r.CertType, &r.Name, &r.Months, &r.PriceVND, &r.Active); err != nil {
		return flows.Package{}, err
	}
	return r.pkg(), nil
}

func (r packageRow) pkg() flows.Package {
	return flows.Package{
		ID: r.ID, Code: r.Code, CertType: flows.CertType(r.CertType), Name: r.Name,
		Months: r.Months, PriceVND: r.PriceVND, Active: r.Active,
	}
}

const sqlPackages = `
SELECT ` + packageColumns + `
FROM packages
WHERE cert_type = $1 AND active
ORDER BY months, price_vnd, id`

// Packages lists the active packages of a certificate type, shortest first.
func (db *DB) Packages(ctx context.Context, t flows.CertType) ([]flows.Package, error) {
	rows, _ := db.pool.Query(ctx, sqlPackages, string(t))
	pkgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.Package, error) {
		return scanPackage(row)
	})
	if err != nil {
		return nil, dbError(err, "packages of type %s", t)
	}
	return pkgs, nil
}

const sqlPackage = `SELECT ` + packageColumns + ` FROM packages WHERE id = $1`

// Package loads by id, active or not. NotFound.
func (db *DB) Package(ctx context.Context, id int64) (flows.Package, error) {
	p, err := scanPackage(db.pool.QueryRow(ctx, sqlPackage, id))
	if err != nil {
		return flows.Package{}, dbError(err, "load package %d", id)
	}
	return p, nil
}

const promoColumns = `id, code, kind, percent_off, amount_off_vnd, valid_from, valid_until,
	max_uses, per_customer, used, cert_types, package_codes`

type promoRow struct {
	ID           int64
	Code         string
	Kind         string
	PercentOff   int
	AmountOffVND int64
	ValidFrom    time.Time
	ValidUntil   time.Time
	MaxUses      int
	PerCustomer  int
	Used         int
	CertTypes    []string
	PackageCodes []string
}

func scanPromo(row pgx.Row) (flows.PromoCode, error) {
	var r promoRow
	err := row.Scan(&r.ID, &r.Code, &r.Kind, &r.PercentOff, &r.AmountOffVND, &r.ValidFrom, &r.ValidUntil,
		&r.MaxUses, &r.PerCustomer, &r.Used, &r.CertTypes, &r.PackageCodes)
	if err != nil {
		return flows.PromoCode{}, err
	}
	return r.promo(), nil
}

func (r promoRow) promo() flows.PromoCode {
	p := flows.PromoCode{
		ID: r.ID, Code: r.Code, Kind: flows.PromoKind(r.Kind), PercentOff: r.PercentOff,
		AmountOffVND: r.AmountOffVND, ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil,
		MaxUses: r.MaxUses, PerCustomer: r.PerCustomer, Used: r.Used,
	}
	for _, t := range r.CertTypes {
		p.CertTypes = append(p.CertTypes, flows.CertType(t))
	}
	if len(r.PackageCodes) > 0 {
		p.PackageCodes = r.PackageCodes
	}
	return p
}

const sqlPromoByCode = `SELECT ` + promoColumns + ` FROM promo_codes WHERE code = $1`

// PromoByCode finds a code case-insensitively (codes are stored upper-case).
// NotFound.
func (db *DB) PromoByCode(ctx context.Context, code string) (flows.PromoCode, error) {
	p, err := scanPromo(db.pool.QueryRow(ctx, sqlPromoByCode, normalizePromoCode(code)))
	if err != nil {
		return flows.PromoCode{}, dbError(err, "promo code %q", code)
	}
	return p, nil
}

// normalizePromoCode is how codes are stored: trimmed, upper-case.
func normalizePromoCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

const sqlPromoUsesBy = `SELECT count(*) FROM promo_redemptions WHERE promo_id = $1 AND customer_id = $2`

// PromoUsesBy counts redemptions of a code by one customer. Redemptions are
// only written when an order is paid, so every one of them is a paid use.
func (db *DB) PromoUsesBy(ctx context.Context, promoID, customerID int64) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, sqlPromoUsesBy, promoID, customerID).Scan(&n); err != nil {
		return 0, dbError(err, "uses of promo %d by customer %d", promoID, customerID)
	}
	return n, nil
}
