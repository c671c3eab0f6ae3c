package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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

var _ flows.Broadcasts = (*DB)(nil)

const broadcastColumns = `id, staff_id, status, step, text, segment, total, sent, failed, blocked, reported`

func scanBroadcast(row pgx.Row) (flows.Broadcast, error) {
	var b flows.Broadcast
	var status, step string
	var seg []byte
	if err := row.Scan(&b.ID, &b.StaffID, &status, &step, &b.Text, &seg, &b.Total, &b.Sent, &b.Failed, &b.Blocked, &b.Reported); err != nil {
		return b, err
	}
	b.Status = flows.BroadcastStatus(status)
	if step != "" {
		st, err := flows.ParseBroadcastStep(step)
		if err != nil {
			return b, err
		}
		b.Step = st
	}
	if err := json.Unmarshal(seg, &b.Segment); err != nil {
		return b, fmt.Errorf("broadcast %d segment: %w", b.ID, err)
	}
	return b, nil
}

const sqlBroadcastDraft = `SELECT ` + broadcastColumns + ` FROM broadcasts WHERE staff_id = $1 AND status = 'draft'`

// BroadcastDraft returns the staff member's draft. NotFound.
func (db *DB) BroadcastDraft(ctx context.Context, staffID int64) (flows.Broadcast, error) {
	b, err := scanBroadcast(db.pool.QueryRow(ctx, sqlBroadcastDraft, staffID))
	if err != nil {
		return b, dbError(err, "broadcast draft of staff %d", staffID)
	}
	return b, nil
}

const sqlDropDraft = `DELETE FROM broadcasts WHERE staff_id = $1 AND status = 'draft'`

const sqlNewDraft = `
INSERT INTO broadcasts (created_by, staff_id, text, step, created_at) VALUES ($1, $2, '', 'text', $3)
RETURNING ` + broadcastColumns

// NewBroadcastDraft replaces the staff member's draft with a new one.
// Conflict when another draft of theirs was created at the same moment.
func (db *DB) NewBroadcastDraft(ctx context.Context, staffID int64, now time.Time) (flows.Broadcast, error) {
	var b flows.Broadcast
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlDropDraft, staffID); err != nil {
			return err
		}
		var err error
		b, err = scanBroadcast(tx.QueryRow(ctx, sqlNewDraft, fmt.Sprintf("staff:%d", staffID), staffID, now))
		return err
	})
	if err != nil {
		return b, dbError(err, "new broadcast draft of staff %d", staffID)
	}
	return b, nil
}

const sqlSaveDraft = `
UPDATE broadcasts SET step = $3, text = $4, segment = $5
WHERE id = $1 AND status = 'draft' AND step = $2`

// SaveBroadcastDraft writes a draft still at step from. Conflict otherwise.
func (db *DB) SaveBroadcastDraft(ctx context.Context, b flows.Broadcast, from flows.BroadcastStep) error {
	seg, err := json.Marshal(b.Segment)
	if err != nil {
		return fmt.Errorf("save broadcast %d: %w", b.ID, err)
	}
	tag, err := db.pool.Exec(ctx, sqlSaveDraft, b.ID, string(from), string(b.Step), b.Text, seg)
	if err != nil {
		return dbError(err, "save broadcast %d", b.ID)
	}
	if tag.RowsAffected() != 1 {
		return flows.Errorf(flows.Conflict, "broadcast %d is not a draft at step %s any more", b.ID, from)
	}
	return nil
}

const sqlDeleteDraft = `DELETE FROM broadcasts WHERE id = $1 AND status = 'draft'`

// DeleteBroadcastDraft drops a draft; anything else is left alone.
func (db *DB) DeleteBroadcastDraft(ctx context.Context, id int64) error {
	if _, err := db.pool.Exec(ctx, sqlDeleteDraft, id); err != nil {
		return dbError(err, "delete broadcast draft %d", id)
	}
	return nil
}

// sqlSegmentChats selects the chats of a segment ($1 kind, $2 certificate
// type, $3 days, $4 now): active links of customers who did not opt out of
// reminders (telegram_links.chat_id is the key: one row per chat).
const sqlSegmentChats = `
SELECT l.chat_id, l.lang FROM telegram_links l JOIN customers c ON c.id = l.customer_id
WHERE l.active AND NOT c.reminders_off AND CASE $1::text
	WHEN 'all' THEN true
	WHEN 'type' THEN EXISTS (SELECT 1 FROM certificates ct WHERE ct.customer_id = c.id AND ct.type = $2::text)
	WHEN 'expiring' THEN EXISTS (SELECT 1 FROM certificates ct WHERE ct.customer_id = c.id
		AND ct.not_after > $4::timestamptz AND ct.not_after <= $4::timestamptz + make_interval(days => $3::int))
	WHEN 'never' THEN NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.paid_at IS NOT NULL)
	ELSE false END`

const sqlCountSegment = `SELECT count(*) FROM (` + sqlSegmentChats + `) s`

// CountRecipients counts the chats a segment reaches at now.
func (db *DB) CountRecipients(ctx context.Context, seg flows.BroadcastSegment, now time.Time) (int, error) {
	if err := seg.Check(); err != nil {
		return 0, err
	}
	var n int
	if err := db.pool.QueryRow(ctx, sqlCountSegment, string(seg.Kind), string(seg.Type), seg.Days, now).Scan(&n); err != nil {
		return 0, dbError(err, "count segment %+v", seg)
	}
	return n, nil
}

const sqlClaimDraft = `
UPDATE broadcasts SET status = 'running', step = '', started_at = $2
WHERE id = $1 AND status = 'draft' AND step = 'preview'
RETURNING ` + broadcastColumns

// The outbox rows and recipients of a starting broadcast, set-based ($5 id,
// $6 text, $7 due time).
const sqlEnqueueBroadcast = `
WITH seg AS (` + sqlSegmentChats + `),
ob AS (
	INSERT INTO outbox (chat_id, kind, payload, idempotency_key, next_attempt_at, created_at)
	SELECT chat_id, 'broadcast',
		jsonb_build_object('lang', lang, 'broadcast', jsonb_build_object('broadcast_id', $5::bigint, 'text', $6::text)),
		'broadcast:' || $5::bigint || ':' || chat_id, $7::timestamptz, $4::timestamptz
	FROM seg
	ON CONFLICT ON CONSTRAINT outbox_idempotency_key_key DO NOTHING
	RETURNING id, chat_id)
INSERT INTO broadcast_recipients (broadcast_id, chat_id, outbox_id)
SELECT $5::bigint, chat_id, id FROM ob`

const sqlSetTotal = `
UPDATE broadcasts SET total = $2,
	status = CASE WHEN $2 = 0 THEN 'done' ELSE status END,
	finished_at = CASE WHEN $2 = 0 THEN $3::timestamptz END
WHERE id = $1
RETURNING ` + broadcastColumns

// StartBroadcast turns a draft at the preview into a running broadcast with
// its recipients and outbox rows, in one transaction. Conflict when it is
// not a draft at the preview any more.
func (db *DB) StartBroadcast(ctx context.Context, id int64, now, at time.Time) (flows.Broadcast, error) {
	var b flows.Broadcast
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		b, err = scanBroadcast(tx.QueryRow(ctx, sqlClaimDraft, id, now))
		if err == pgx.ErrNoRows {
			return flows.Errorf(flows.Conflict, "broadcast %d is not a draft at the preview", id)
		}
		if err != nil {
			return err
		}
		if err := b.Segment.Check(); err != nil {
			return err
		}
		s := b.Segment
		tag, err := tx.Exec(ctx, sqlEnqueueBroadcast, string(s.Kind), string(s.Type), s.Days, now, b.ID, b.Text, at)
		if err != nil {
			return err
		}
		b, err = scanBroadcast(tx.QueryRow(ctx, sqlSetTotal, b.ID, tag.RowsAffected(), now))
		return err
	})
	if err != nil {
		return b, dbError(err, "start broadcast %d", id)
	}
	return b, nil
}

const sqlBroadcast = `SELECT ` + broadcastColumns + ` FROM broadcasts WHERE id = $1`

// Broadcast loads one. NotFound.
func (db *DB) Broadcast(ctx context.Context, id int64) (flows.Broadcast, error) {
	b, err := scanBroadcast(db.pool.QueryRow(ctx, sqlBroadcast, id))
	if err != nil {
		return b, dbError(err, "broadcast %d", id)
	}
	return b, nil
}

// setStatus moves a broadcast from one of from to to, or says why not.
func setStatus(ctx context.Context, tx pgx.Tx, id int64, to flows.BroadcastStatus, from ...flows.BroadcastStatus) (flows.Broadcast, error) {
	var cur string
	if err := tx.QueryRow(ctx, `SELECT status FROM broadcasts WHERE id = $1 AND status <> 'draft' FOR UPDATE`, id).Scan(&cur); err != nil {
		return flows.Broadcast{}, err
	}
	ok := false
	for _, f := range from {
		ok = ok || string(f) == cur
	}
	if !ok {
		return flows.Broadcast{}, flows.Errorf(flows.FailedPrecondition, "broadcast %d is %s", id, cur)
	}
	return scanBroadcast(tx.QueryRow(ctx, `UPDATE broadcasts SET status = $2 WHERE id = $1 RETURNING `+broadcastColumns, id, string(to)))
}

// pgtypeInfinity is the due time of held rows.
var pgtypeInfinity = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}

// While a broadcast is paused its pending rows are due at 'infinity': the
// dispatcher neither lists nor claims them (its claim re-checks the time).
const sqlHoldBroadcast = `
UPDATE outbox SET next_attempt_at = $2
WHERE status = 'pending' AND id IN (
	SELECT outbox_id FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'pending' AND outbox_id IS NOT NULL)`

// PauseBroadcast moves running to paused and holds its rows not sent yet.
func (db *DB) PauseBroadcast(ctx context.Context, id int64) (flows.Broadcast, error) {
	var b flows.Broadcast
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if b, err = setStatus(ctx, tx, id, flows.BroadcastPaused, flows.BroadcastRunning); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlHoldBroadcast, id, pgtypeInfinity)
		return err
	})
	if err != nil {
		return b, dbError(err, "pause broadcast %d", id)
	}
	return b, nil
}

// ResumeBroadcast moves paused to running; its rows are due at at. A
// broadcast whose last sends finished while it was paused is done.
func (db *DB) ResumeBroadcast(ctx context.Context, id int64, at time.Time) (flows.Broadcast, error) {
	var b flows.Broadcast
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if _, err = setStatus(ctx, tx, id, flows.BroadcastRunning, flows.BroadcastPaused); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, sqlHoldBroadcast, id, at); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, sqlFinishBroadcast, id, at); err != nil {
			return err
		}
		b, err = scanBroadcast(tx.QueryRow(ctx, sqlBroadcast, id))
		return err
	})
	if err != nil {
		return b, dbError(err, "resume broadcast %d", id)
	}
	return b, nil
}

// Deleting the pending rows races safely with a dispatcher's claim (both
// update the row under its lock, status = 'pending' is re-checked); the
// recipients whose row went (outbox_id set to NULL by the foreign key) are
// skipped, those being sent right now finish normally.
const sqlDropPendingRows = `
DELETE FROM outbox WHERE status = 'pending' AND id IN (
	SELECT outbox_id FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'pending' AND outbox_id IS NOT NULL)`

const sqlSkipRecipients = `
UPDATE broadcast_recipients SET status = 'skipped', last_error = 'cancelled'
WHERE broadcast_id = $1 AND status = 'pending' AND outbox_id IS NULL`

// CancelBroadcast moves running or paused to cancelled, for good: rows not
// sent yet are dropped and their recipients skipped.
func (db *DB) CancelBroadcast(ctx context.Context, id int64, now time.Time) (flows.Broadcast, error) {
	var b flows.Broadcast
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if _, err = setStatus(ctx, tx, id, flows.BroadcastCancelled, flows.BroadcastRunning, flows.BroadcastPaused); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, sqlDropPendingRows, id); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, sqlSkipRecipients, id); err != nil {
			return err
		}
		b, err = scanBroadcast(tx.QueryRow(ctx, `UPDATE broadcasts SET finished_at = $2 WHERE id = $1 RETURNING `+broadcastColumns, id, now))
		return err
	})
	if err != nil {
		return b, dbError(err, "cancel broadcast %d", id)
	}
	return b, nil
}

const sqlBroadcastsToReport = `
SELECT ` + broadcastColumns + ` FROM broadcasts
WHERE reported < 10 AND status IN ('running', 'paused', 'done') ORDER BY id`

// BroadcastsToReport lists started broadcasts whose final report is not made.
func (db *DB) BroadcastsToReport(ctx context.Context) ([]flows.Broadcast, error) {
	rows, _ := db.pool.Query(ctx, sqlBroadcastsToReport)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.Broadcast, error) { return scanBroadcast(row) })
	if err != nil {
		return nil, dbError(err, "broadcasts to report")
	}
	return out, nil
}

const sqlMarkReported = `UPDATE broadcasts SET reported = greatest(reported, $2) WHERE id = $1`

// MarkBroadcastReported records the report made.
func (db *DB) MarkBroadcastReported(ctx context.Context, id int64, reported int) error {
	if _, err := db.pool.Exec(ctx, sqlMarkReported, id, reported); err != nil {
		return dbError(err, "mark broadcast %d reported", id)
	}
	return nil
}
