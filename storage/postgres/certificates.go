package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Certificates = (*DB)(nil)

const certificateColumns = `id, customer_id, serial, type, subject, not_before, not_after`

type certificateRow struct {
	ID         int64
	CustomerID int64
	Serial     string
	Type       string
	Subject    string
	NotBefore  time.Time
	NotAfter   time.Time
}

func scanCertificate(row pgx.Row) (flows.Certificate, error) {
	var r certificateRow
	if err := row.Scan(&r.ID, &r.CustomerID, &r.Serial, &r.Type, &r.Subject, &r.NotBefore, &r.NotAfter); err != nil {
		return flows.Certificate{}, err
	}
	return r.certificate(), nil
}

func (r certificateRow) certificate() flows.Certificate {
	return flows.Certificate{
		ID: r.ID, CustomerID: r.CustomerID, Serial: r.Serial, Type: flows.CertType(r.Type),
		Subject: r.Subject, NotBefore: r.NotBefore, NotAfter: r.NotAfter,
	}
}

const sqlCertificatesOf = `
SELECT ` + certificateColumns + `
FROM certificates
WHERE customer_id = $1
ORDER BY not_after, id`

// CertificatesOf lists a customer's certificates, soonest expiry first (none
// is not an error).
func (db *DB) CertificatesOf(ctx context.Context, customerID int64) ([]flows.Certificate, error) {
	rows, _ := db.pool.Query(ctx, sqlCertificatesOf, customerID)
	certs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.Certificate, error) {
		return scanCertificate(row)
	})
	if err != nil {
		return nil, dbError(err, "certificates of customer %d", customerID)
	}
	return certs, nil
}

const sqlCertificate = `SELECT ` + certificateColumns + ` FROM certificates WHERE id = $1`

// Certificate loads by id. NotFound.
func (db *DB) Certificate(ctx context.Context, id int64) (flows.Certificate, error) {
	c, err := scanCertificate(db.pool.QueryRow(ctx, sqlCertificate, id))
	if err != nil {
		return flows.Certificate{}, dbError(err, "load certificate %d", id)
	}
	return c, nil
}
