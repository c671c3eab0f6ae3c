package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Reminders = (*DB)(nil)

// The sweep reads certificates by their planned moment (certificates.remind_at,
// migration 00002): never-planned rows first (a new certificate, or a new
// period), then those whose moment came. Both legs walk
// certificates_remind_at_idx and stop at the limit, so a sweep costs what is
// due, not the size of the table. Siblings for grouping come through
// certificates_customer_idx.
const sqlReminderCandidates = `
WITH due AS (
	(SELECT id, customer_id FROM certificates WHERE remind_at IS NULL LIMIT $3)
	UNION
	(SELECT id, customer_id FROM certificates WHERE remind_at <= $1 ORDER BY remind_at LIMIT $3)
), picked AS (
	SELECT c.*, true AS due FROM certificates c WHERE c.id IN (SELECT id FROM due)
	UNION ALL
	SELECT c.*, false FROM certificates c
	WHERE c.customer_id IN (SELECT customer_id FROM due)
	  AND c.remind_at > $1 AND c.remind_at <= $2
	  AND c.id NOT IN (SELECT id FROM due)
)
SELECT p.id, p.customer_id, p.serial, p.type, p.subject, p.not_before, p.not_after, p.due,
	cu.reminders_off,
	EXISTS (SELECT 1 FROM orders o WHERE o.certificate_id = p.id
		AND o.status IN ('draft', 'awaiting_payment', 'paid', 'submitted', 'rejected')),
	COALESCE(l.chat_id, 0), COALESCE(l.lang, ''),
	ARRAY(SELECT r.tier FROM reminders r WHERE r.certificate_id = p.id AND r.period_not_after = p.not_after)
FROM picked p
JOIN customers cu ON cu.id = p.customer_id
LEFT JOIN LATERAL (
	SELECT chat_id, lang FROM telegram_links
	WHERE customer_id = p.customer_id AND active
	ORDER BY linked_at DESC, chat_id DESC
	LIMIT 1
) l ON true
ORDER BY p.customer_id, p.not_after, p.id`

// ReminderCandidates returns up to 2*limit due certificates (never planned,
// or planned at or before now) and their customers' other certificates
// planned before groupUntil, ordered by customer.
func (db *DB) ReminderCandidates(ctx context.Context, now, groupUntil time.Time, limit int) ([]flows.ReminderCandidate, error) {
	rows, _ := db.pool.Query(ctx, sqlReminderCandidates, now, groupUntil, limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.ReminderCandidate, error) {
		var c flows.ReminderCandidate
		var r certificateRow
		var tiers []string
		err := row.Scan(&r.ID, &r.CustomerID, &r.Serial, &r.Type, &r.Subject, &r.NotBefore, &r.NotAfter,
			&c.Due, &c.RemindersOff, &c.OpenOrder, &c.ChatID, &c.Lang, &tiers)
		if err != nil {
			return c, err
		}
		c.Certificate = r.certificate()
		for _, s := range tiers {
			t, err := flows.ParseTier(s)
			if err != nil {
				return c, fmt.Errorf("certificate %d: %w", r.ID, err)
			}
			c.Claimed = append(c.Claimed, t)
		}
		return c, nil
	})
	if err != nil {
		return nil, dbError(err, "reminder candidates")
	}
	return out, nil
}

// A key claimed already (another sweep, a re-run) is left as it is.
const sqlClaimReminder = `
INSERT INTO reminders (certificate_id, period_not_after, tier, status, reason, claimed_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT ON CONSTRAINT reminders_period_tier_key DO NOTHING
RETURNING id`

const sqlLinkReminderOutbox = `UPDATE reminders SET outbox_id = $2 WHERE id = ANY($1)`

// The period guard: when not_after changed meanwhile (a renewal), the
// trigger of migration 00002 has set remind_at to NULL, and it stays so.
const sqlPlanReminders = `
UPDATE certificates c SET remind_at = u.at
FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS u(id, period, at)
WHERE c.id = u.id AND c.not_after = u.period`

// ApplyReminders writes a plan in one transaction (see flows.Reminders).
func (db *DB) ApplyReminders(ctx context.Context, plan flows.ReminderPlan, now time.Time) (flows.ReminderCounts, error) {
	var counts flows.ReminderCounts
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Claims first, in the plan's order (by customer, expiry, id), so
		// two sweeps touching the same keys queue rather than deadlock.
		b := &pgx.Batch{}
		var claims []int
		for i, d := range plan.Decisions {
			if !d.Claim {
				continue
			}
			claims = append(claims, i)
			b.Queue(sqlClaimReminder, d.CertificateID, d.Period, d.Tier.String(), string(d.Status), d.Reason, now)
		}
		ledger := map[int64]int64{} // certificate -> ledger id, for claims won here
		br := tx.SendBatch(ctx, b)
		for _, i := range claims {
			d := plan.Decisions[i]
			var id int64
			err := br.QueryRow().Scan(&id)
			if err == pgx.ErrNoRows {
				continue // claimed before
			}
			if err != nil {
				br.Close()
				return err
			}
			switch d.Status {
			case flows.ReminderClaimed:
				ledger[d.CertificateID] = id
				counts.Claimed++
			case flows.ReminderSkipped:
				counts.Skipped++
			case flows.ReminderUndeliverable:
				counts.Undeliverable++
			}
		}
		if err := br.Close(); err != nil {
			return err
		}

		for _, m := range plan.Messages {
			var items []flows.ReminderItem
			var ids []int64
			for _, it := range m.Items {
				if id, ok := ledger[it.CertificateID]; ok {
					items = append(items, it)
					ids = append(ids, id)
				}
			}
			if len(items) == 0 {
				continue
			}
			m.Items = items
			om := flows.OutboxMessage{ChatID: m.ChatID, Kind: flows.OutboxReminder, Key: m.Key(), Lang: m.Lang, Reminder: &m}
			id, created, err := enqueue(ctx, tx, om, now)
			if err != nil {
				return err
			}
			if created {
				counts.Messages++
			}
			if _, err := tx.Exec(ctx, sqlLinkReminderOutbox, ids, id); err != nil {
				return err
			}
		}

		ids := make([]int64, 0, len(plan.Decisions))
		periods := make([]time.Time, 0, len(plan.Decisions))
		ats := make([]time.Time, 0, len(plan.Decisions))
		for _, d := range plan.Decisions {
			ids, periods, ats = append(ids, d.CertificateID), append(periods, d.Period), append(ats, d.NextAt)
		}
		_, err := tx.Exec(ctx, sqlPlanReminders, ids, periods, ats)
		return err
	})
	if err != nil {
		return flows.ReminderCounts{}, dbError(err, "apply reminder plan")
	}
	return counts, nil
}

// ReminderRow is a ledger row, for tests and staff reports.
type ReminderRow struct {
	ID            int64
	CertificateID int64
	Period        time.Time
	Tier          flows.Tier
	Status        flows.ReminderStatus
	Reason        string
	OutboxID      int64
}

const sqlRemindersOf = `
SELECT id, certificate_id, period_not_after, tier, status, reason, COALESCE(outbox_id, 0)
FROM reminders WHERE certificate_id = $1 ORDER BY id`

// RemindersOf lists a certificate's ledger rows, oldest first.
func (db *DB) RemindersOf(ctx context.Context, certificateID int64) ([]ReminderRow, error) {
	rows, _ := db.pool.Query(ctx, sqlRemindersOf, certificateID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReminderRow, error) {
		var r ReminderRow
		var tier, status string
		if err := row.Scan(&r.ID, &r.CertificateID, &r.Period, &tier, &status, &r.Reason, &r.OutboxID); err != nil {
			return r, err
		}
		t, err := flows.ParseTier(tier)
		r.Tier, r.Status = t, flows.ReminderStatus(status)
		return r, err
	})
	if err != nil {
		return nil, dbError(err, "reminders of certificate %d", certificateID)
	}
	return out, nil
}
