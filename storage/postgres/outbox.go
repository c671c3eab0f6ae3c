package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Outbox = (*DB)(nil)

// outboxPayload is what outbox.payload holds: the language and the message's
// content, rendered at send time.
type outboxPayload struct {
	Lang      string                  `json:"lang,omitempty"`
	Reminder  *flows.ReminderMessage  `json:"reminder,omitempty"`
	Broadcast *flows.BroadcastMessage `json:"broadcast,omitempty"`
	Replies   []flows.Reply           `json:"replies,omitempty"`
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// The no-op update makes RETURNING give the existing row's id on a repeated key.
const sqlEnqueue = `
INSERT INTO outbox (chat_id, kind, payload, idempotency_key, next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT ON CONSTRAINT outbox_idempotency_key_key DO UPDATE SET kind = outbox.kind
RETURNING id, xmax = 0`

func enqueue(ctx context.Context, q querier, m flows.OutboxMessage, at time.Time) (int64, bool, error) {
	if m.ChatID == 0 || m.Kind == "" || m.Key == "" {
		return 0, false, flows.Errorf(flows.Invalid, "enqueue: chat, kind and key are required")
	}
	payload, err := json.Marshal(outboxPayload{Lang: m.Lang, Reminder: m.Reminder, Broadcast: m.Broadcast, Replies: m.Replies})
	if err != nil {
		return 0, false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	var id int64
	var created bool
	if err := q.QueryRow(ctx, sqlEnqueue, m.ChatID, string(m.Kind), payload, m.Key, at).Scan(&id, &created); err != nil {
		return 0, false, err
	}
	return id, created, nil
}

// Enqueue adds a pending message due at at; a repeated Key is ignored
// (created false, the existing id). Invalid without chat, kind or key.
func (db *DB) Enqueue(ctx context.Context, m flows.OutboxMessage, at time.Time) (int64, bool, error) {
	id, created, err := enqueue(ctx, db.pool, m, at)
	if err != nil {
		return 0, false, dbError(err, "enqueue %s", m.Key)
	}
	return id, created, nil
}

const outboxColumns = `id, chat_id, kind, idempotency_key, attempts, payload`

func scanOutbox(row pgx.Row) (flows.OutboxMessage, error) {
	var m flows.OutboxMessage
	var kind string
	var raw []byte
	if err := row.Scan(&m.ID, &m.ChatID, &kind, &m.Key, &m.Attempts, &raw); err != nil {
		return m, err
	}
	m.Kind = flows.OutboxKind(kind)
	var p outboxPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return m, fmt.Errorf("outbox %d payload: %w", m.ID, err)
	}
	m.Lang, m.Reminder, m.Broadcast, m.Replies = p.Lang, p.Reminder, p.Broadcast, p.Replies
	return m, nil
}

const sqlDueOutbox = `
SELECT ` + outboxColumns + ` FROM outbox
WHERE status = 'pending' AND next_attempt_at <= $1
ORDER BY next_attempt_at, id
LIMIT $2`

// DueOutbox lists up to limit pending messages due at now, oldest first.
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]flows.OutboxMessage, error) {
	rows, _ := db.pool.Query(ctx, sqlDueOutbox, now, limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.OutboxMessage, error) { return scanOutbox(row) })
	if err != nil {
		return nil, dbError(err, "due outbox")
	}
	return out, nil
}

const sqlPostponeOutbox = `UPDATE outbox SET next_attempt_at = $2 WHERE id = $1 AND status = 'pending'`

// PostponeOutbox moves a pending message's due time.
func (db *DB) PostponeOutbox(ctx context.Context, id int64, until time.Time) error {
	if _, err := db.pool.Exec(ctx, sqlPostponeOutbox, id, until); err != nil {
		return dbError(err, "postpone outbox %d", id)
	}
	return nil
}

// While a message is sending, next_attempt_at is its lease's end.
const sqlClaimOutbox = `
UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $3
WHERE id = $1 AND status = 'pending' AND next_attempt_at <= $2`

// ClaimOutbox moves a pending due message to sending under a lease.
func (db *DB) ClaimOutbox(ctx context.Context, id int64, now, leaseUntil time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, sqlClaimOutbox, id, now, leaseUntil)
	if err != nil {
		return false, dbError(err, "claim outbox %d", id)
	}
	return tag.RowsAffected() == 1, nil
}

const sqlFinishOutbox = `
UPDATE outbox SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), last_error = $4,
	sent_at = CASE WHEN $2 = 'sent' THEN $5::timestamptz END
WHERE id = $1 AND status = 'sending'
RETURNING kind, chat_id, payload`

// The reminders a message carried take its final outcome.
const sqlFinishReminders = `
UPDATE reminders SET status = $2, reason = $3, sent_at = $4
WHERE outbox_id = $1 AND status = 'claimed'`

// FinishOutbox records the outcome of a claimed message (a message not in
// sending any more, e.g. after its lease expired, is left alone) and copies
// a final outcome to the reminders ledger or the broadcast recipient.
func (db *DB) FinishOutbox(ctx context.Context, id int64, r flows.OutboxResult, now time.Time) error {
	var retry *time.Time
	if r.Status == flows.OutboxPending {
		retry = &r.RetryAt
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var kind string
		var chatID int64
		var raw []byte
		err := tx.QueryRow(ctx, sqlFinishOutbox, id, string(r.Status), retry, r.Error, now).Scan(&kind, &chatID, &raw)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		return copyOutcome(ctx, tx, id, flows.OutboxKind(kind), chatID, raw, r.Status, r.Error, now)
	})
	if err != nil {
		return dbError(err, "finish outbox %d", id)
	}
	return nil
}

// copyOutcome copies a final outbox status to what produced the message.
func copyOutcome(ctx context.Context, tx pgx.Tx, id int64, kind flows.OutboxKind, chatID int64, raw []byte, st flows.OutboxStatus, msg string, now time.Time) error {
	switch kind {
	case flows.OutboxReminder:
		var rs flows.ReminderStatus
		reason := ""
		var at *time.Time
		switch st {
		case flows.OutboxSent:
			rs, at = flows.ReminderSent, &now
		case flows.OutboxBlocked:
			rs, reason = flows.ReminderUndeliverable, flows.ReasonBlocked
		case flows.OutboxFailed:
			rs, reason = flows.ReminderUndeliverable, flows.ReasonFailed
		default:
			return nil
		}
		_, err := tx.Exec(ctx, sqlFinishReminders, id, string(rs), reason, at)
		return err
	case flows.OutboxBroadcast:
		return finishRecipient(ctx, tx, id, st, msg, now)
	}
	return nil
}

const sqlExpireOutboxLeases = `
UPDATE outbox SET status = 'failed', last_error = 'outcome unknown: the sender stopped during the send'
WHERE status = 'sending' AND next_attempt_at < $1
RETURNING id, kind, chat_id, payload`

// ExpireOutboxLeases fails messages whose sender lost its lease mid-send;
// they are not retried (a message is never sent twice) but reported.
func (db *DB) ExpireOutboxLeases(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, sqlExpireOutboxLeases, now)
		type expired struct {
			id     int64
			kind   string
			chatID int64
			raw    []byte
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (expired, error) {
			var e expired
			err := row.Scan(&e.id, &e.kind, &e.chatID, &e.raw)
			return e, err
		})
		if err != nil {
			return err
		}
		n = len(list)
		// A reminder whose outcome is unknown keeps its ledger row claimed
		// (it may well have been delivered); a broadcast counts it failed.
		for _, e := range list {
			if flows.OutboxKind(e.kind) != flows.OutboxBroadcast {
				continue
			}
			if err := finishRecipient(ctx, tx, e.id, flows.OutboxFailed, "outcome unknown", now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, dbError(err, "expire outbox leases")
	}
	return n, nil
}

// OutboxRow is an outbox message with its delivery state, for tests and
// staff reports.
type OutboxRow struct {
	flows.OutboxMessage
	Status    flows.OutboxStatus
	LastError string
	SentAt    time.Time
}

const sqlOutboxRows = `
SELECT ` + outboxColumns + `, status, last_error, sent_at FROM outbox
WHERE ($1 = 0 OR chat_id = $1) ORDER BY id`

// OutboxRows lists the outbox, of one chat when chatID is not 0.
func (db *DB) OutboxRows(ctx context.Context, chatID int64) ([]OutboxRow, error) {
	rows, _ := db.pool.Query(ctx, sqlOutboxRows, chatID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutboxRow, error) {
		var r OutboxRow
		var kind, status string
		var raw []byte
		var sent *time.Time
		if err := row.Scan(&r.ID, &r.ChatID, &kind, &r.Key, &r.Attempts, &raw, &status, &r.LastError, &sent); err != nil {
			return r, err
		}
		r.Kind, r.Status, r.SentAt = flows.OutboxKind(kind), flows.OutboxStatus(status), timeOf(sent)
		var p outboxPayload
		if err := json.Unmarshal(raw, &p); err != nil {
			return r, err
		}
		r.Lang, r.Reminder, r.Broadcast, r.Replies = p.Lang, p.Reminder, p.Broadcast, p.Replies
		return r, nil
	})
	if err != nil {
		return nil, dbError(err, "outbox rows")
	}
	return out, nil
}
