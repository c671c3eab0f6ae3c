package postgres

import (
	"context"
	"encoding/json"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Audit = (*DB)(nil)

const sqlAudit = `INSERT INTO audit_log (actor, action, subject, detail) VALUES ($1, $2, $3, $4)`

// Audit records who did what. detail is stored as JSON (nil stores NULL);
// Invalid when it cannot be marshalled.
func (db *DB) Audit(ctx context.Context, actor, action, subject string, detail any) error {
	var raw []byte
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return flows.Wrap(flows.Invalid, err, "audit %s %s: detail", action, subject)
		}
		raw = b
	}
	// a []byte goes to jsonb as the JSON text itself
	if _, err := db.pool.Exec(ctx, sqlAudit, actor, action, subject, raw); err != nil {
		return dbError(err, "audit %s %s", action, subject)
	}
	return nil
}
