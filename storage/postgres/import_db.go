package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// The import's checks against the database and its writes. Both run in the
// import's transaction, under its advisory lock.

const sqlImportPhoneOwners = `SELECT phone, code FROM customers WHERE phone = ANY($1)`

const sqlImportCustomerCodes = `SELECT code FROM customers WHERE code = ANY($1)`

const sqlImportSerialOwners = `
SELECT c.serial, cu.code
FROM certificates c JOIN customers cu ON cu.id = c.customer_id
WHERE c.serial = ANY($1)`

const sqlImportPackageCodes = `SELECT code FROM packages WHERE code = ANY($1)`

const sqlImportPromoUses = `SELECT code, used FROM promo_codes WHERE code = ANY($1)`

// checkWithDatabase reports rows that clash with what is stored: a phone of
// a customer the files do not mention, a certificate of another customer, a
// reference to nothing, a promo code limited below its uses so far.
func (im *importer) checkWithDatabase(ctx context.Context, tx pgx.Tx) error {
	// Phones: the owner after the import is the customer of the files, or the
	// stored one when the files do not mention that customer.
	var phones []string
	for _, cu := range im.customers {
		phones = append(phones, cu.Phone)
	}
	phoneOwner, err := stringPairs(ctx, tx, sqlImportPhoneOwners, phones)
	if err != nil {
		return err
	}
	for _, cu := range im.customers {
		if owner, ok := phoneOwner[cu.Phone]; ok && owner != cu.Code && !im.customerCodes[owner] {
			im.add(cu.at, "phone %s belongs to customer %s in the database", cu.Phone, owner)
		}
	}

	// Certificates: the customer exists, and a stored serial stays with its customer.
	var serials, custCodes []string
	for _, ce := range im.certificates {
		serials = append(serials, ce.Serial)
		if !im.customerCodes[ce.customerCode] {
			custCodes = append(custCodes, ce.customerCode)
		}
	}
	storedCustomers, err := stringSet(ctx, tx, sqlImportCustomerCodes, custCodes)
	if err != nil {
		return err
	}
	serialOwner, err := stringPairs(ctx, tx, sqlImportSerialOwners, serials)
	if err != nil {
		return err
	}
	for _, ce := range im.certificates {
		if !im.customerCodes[ce.customerCode] && !storedCustomers[ce.customerCode] {
			im.add(ce.at, "customer_code %q is in neither the files nor the database", ce.customerCode)
			continue
		}
		if owner, ok := serialOwner[ce.Serial]; ok && owner != ce.customerCode {
			im.add(ce.at, "certificate %s belongs to another customer (%s) in the database", ce.Serial, owner)
		}
	}

	// Promo codes: packages exist; a limit is not below the uses so far.
	var pkgCodes, promoCodes []string
	for _, p := range im.promos {
		promoCodes = append(promoCodes, p.Code)
		for _, code := range p.PackageCodes {
			if !im.packageCodes[code] {
				pkgCodes = append(pkgCodes, code)
			}
		}
	}
	storedPackages, err := stringSet(ctx, tx, sqlImportPackageCodes, pkgCodes)
	if err != nil {
		return err
	}
	uses := map[string]int{}
	rows, _ := tx.Query(ctx, sqlImportPromoUses, promoCodes)
	var code string
	var used int
	if _, err := pgx.ForEachRow(rows, []any{&code, &used}, func() error { uses[code] = used; return nil }); err != nil {
		return err
	}
	for _, p := range im.promos {
		for _, code := range p.PackageCodes {
			if !im.packageCodes[code] && !storedPackages[code] {
				im.add(p.at, "package_codes: package %q is in neither the files nor the database", code)
			}
		}
		if u := uses[p.Code]; p.MaxUses > 0 && p.MaxUses < u {
			im.add(p.at, "max_uses %d is below the %d uses of %s so far", p.MaxUses, u, p.Code)
		}
	}
	return nil
}

// stringPairs runs a query of (key, value) text columns with keys as $1.
func stringPairs(ctx context.Context, tx pgx.Tx, sql string, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, _ := tx.Query(ctx, sql, keys)
	var k, v string
	_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { out[k] = v; return nil })
	return out, err
}

// stringSet runs a query of one text column with keys as $1.
func stringSet(ctx context.Context, tx pgx.Tx, sql string, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, _ := tx.Query(ctx, sql, keys)
	var k string
	_, err := pgx.ForEachRow(rows, []any{&k}, func() error { out[k] = true; return nil })
	return out, err
}

// Each upsert returns (xmax = 0), true for an insert, for an update; no row
// when the stored row already equals the file's (the WHERE of DO UPDATE), so
// a re-import writes nothing.

// The phone constraint is deferred so that two customers may swap phones.
const sqlImportDeferPhone = `SET CONSTRAINTS customers_phone_key DEFERRED`

const sqlImportCustomer = `
INSERT INTO customers (code, name, phone, email, id_number, tax_code, address, sales_rep)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (code) DO UPDATE SET
	name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email,
	id_number = EXCLUDED.id_number, tax_code = EXCLUDED.tax_code,
	address = EXCLUDED.address, sales_rep = EXCLUDED.sales_rep
WHERE (customers.name, customers.phone, customers.email, customers.id_number,
		customers.tax_code, customers.address, customers.sales_rep)
	IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.phone, EXCLUDED.email, EXCLUDED.id_number,
		EXCLUDED.tax_code, EXCLUDED.address, EXCLUDED.sales_rep)
RETURNING (xmax = 0)`

const sqlImportPackage = `
INSERT INTO packages (code, cert_type, name, months, price_vnd, active)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (code) DO UPDATE SET
	cert_type = EXCLUDED.cert_type, name = EXCLUDED.name, months = EXCLUDED.months,
	price_vnd = EXCLUDED.price_vnd, active = EXCLUDED.active
WHERE (packages.cert_type, packages.name, packages.months, packages.price_vnd, packages.active)
	IS DISTINCT FROM (EXCLUDED.cert_type, EXCLUDED.name, EXCLUDED.months, EXCLUDED.price_vnd, EXCLUDED.active)
RETURNING (xmax = 0)`

// The customer was checked to be the stored owner, so customer_id is not
// updated.
const sqlImportCertificate = `
INSERT INTO certificates (serial, customer_id, type, subject, not_before, not_after)
VALUES ($1, (SELECT id FROM customers WHERE code = $2), $3, $4, $5, $6)
ON CONFLICT (serial) DO UPDATE SET
	type = EXCLUDED.type, subject = EXCLUDED.subject,
	not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after
WHERE (certificates.type, certificates.subject, certificates.not_before, certificates.not_after)
	IS DISTINCT FROM (EXCLUDED.type, EXCLUDED.subject, EXCLUDED.not_before, EXCLUDED.not_after)
RETURNING (xmax = 0)`

// used is never written by an import.
const sqlImportPromo = `
INSERT INTO promo_codes (code, kind, percent_off, amount_off_vnd, valid_from, valid_until,
	max_uses, per_customer, cert_types, package_codes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (code) DO UPDATE SET
	kind = EXCLUDED.kind, percent_off = EXCLUDED.percent_off,
	amount_off_vnd = EXCLUDED.amount_off_vnd, valid_from = EXCLUDED.valid_from,
	valid_until = EXCLUDED.valid_until, max_uses = EXCLUDED.max_uses,
	per_customer = EXCLUDED.per_customer, cert_types = EXCLUDED.cert_types,
	package_codes = EXCLUDED.package_codes
WHERE (promo_codes.kind, promo_codes.percent_off, promo_codes.amount_off_vnd,
		promo_codes.valid_from, promo_codes.valid_until, promo_codes.max_uses,
		promo_codes.per_customer, promo_codes.cert_types, promo_codes.package_codes)
	IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.percent_off, EXCLUDED.amount_off_vnd,
		EXCLUDED.valid_from, EXCLUDED.valid_until, EXCLUDED.max_uses,
		EXCLUDED.per_customer, EXCLUDED.cert_types, EXCLUDED.package_codes)
RETURNING (xmax = 0)`

// write upserts every row, customers and packages before the certificates and
// promo codes that refer to them, pipelined in one batch per kind.
func (im *importer) write(ctx context.Context, tx pgx.Tx) (ImportReport, error) {
	var r ImportReport
	if _, err := tx.Exec(ctx, sqlImportDeferPhone); err != nil {
		return r, err
	}
	var err error
	if r.Customers, err = upsertAll(ctx, tx, im.customers, func(c customerIn) (string, []any) {
		return sqlImportCustomer, []any{c.Code, c.Name, c.Phone, c.Email, c.IDNumber, c.TaxCode, c.Address, c.SalesRep}
	}); err != nil {
		return r, err
	}
	if r.Packages, err = upsertAll(ctx, tx, im.packages, func(p packageIn) (string, []any) {
		return sqlImportPackage, []any{p.Code, string(p.CertType), p.Name, p.Months, p.PriceVND, p.Active}
	}); err != nil {
		return r, err
	}
	if r.Certificates, err = upsertAll(ctx, tx, im.certificates, func(c certificateIn) (string, []any) {
		return sqlImportCertificate, []any{c.Serial, c.customerCode, string(c.Type), c.Subject, c.NotBefore, c.NotAfter}
	}); err != nil {
		return r, err
	}
	if r.PromoCodes, err = upsertAll(ctx, tx, im.promos, func(p promoIn) (string, []any) {
		types := make([]string, len(p.CertTypes))
		for i, t := range p.CertTypes {
			types[i] = string(t)
		}
		return sqlImportPromo, []any{p.Code, string(p.Kind), p.PercentOff, p.AmountOffVND, p.ValidFrom,
			p.ValidUntil, p.MaxUses, p.PerCustomer, types, p.PackageCodes}
	}); err != nil {
		return r, err
	}
	return r, nil
}

func upsertAll[T any](ctx context.Context, tx pgx.Tx, rows []T, stmt func(T) (string, []any)) (ImportCounts, error) {
	var n ImportCounts
	if len(rows) == 0 {
		return n, nil
	}
	b := &pgx.Batch{}
	for _, row := range rows {
		sql, args := stmt(row)
		b.Queue(sql, args...)
	}
	br := tx.SendBatch(ctx, b)
	for range rows {
		var inserted bool
		err := br.QueryRow().Scan(&inserted)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			n.Unchanged++
		case err != nil:
			br.Close()
			return n, err
		case inserted:
			n.Inserted++
		default:
			n.Updated++
		}
	}
	return n, br.Close()
}
