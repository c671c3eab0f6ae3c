package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

const sqlFinishRecipient = `
UPDATE broadcast_recipients SET status = $2, last_error = $3,
	sent_at = CASE WHEN $2 = 'sent' THEN $4::timestamptz END
WHERE outbox_id = $1 AND status = 'pending'
RETURNING broadcast_id`

const sqlCountBroadcast = `
UPDATE broadcasts SET
	sent = sent + (CASE WHEN $2 = 'sent' THEN 1 ELSE 0 END),
	failed = failed + (CASE WHEN $2 = 'failed' THEN 1 ELSE 0 END),
	blocked = blocked + (CASE WHEN $2 = 'blocked' THEN 1 ELSE 0 END)
WHERE id = $1`

const sqlFinishBroadcast = `
UPDATE broadcasts SET status = 'done', finished_at = $2
WHERE id = $1 AND status = 'running'
  AND NOT EXISTS (SELECT 1 FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'pending')`

// finishRecipient copies an outbox outcome to the broadcast recipient and
// the broadcast's counters; the last recipient finishes the broadcast.
func finishRecipient(ctx context.Context, tx pgx.Tx, outboxID int64, st flows.OutboxStatus, msg string, now time.Time) error {
	switch st {
	case flows.OutboxSent, flows.OutboxFailed, flows.OutboxBlocked:
	default:
		return nil
	}
	var bid int64
	err := tx.QueryRow(ctx, sqlFinishRecipient, outboxID, string(st), msg, now).Scan(&bid)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sqlCountBroadcast, bid, string(st)); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, sqlFinishBroadcast, bid, now)
	return err
}
