package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/scheduler"
	"github.com/renewbot/renewbot/storage/postgres/pgtest"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

// BenchmarkSweep1M loads 1,000,000 certificates of 100,000 linked customers
// (1,000 expiring per day over 1,000 days), plans them once, then measures
// one sweep a day later, when the 1,000 certificates of one day reach their
// 30 days tier: candidates read, ledger claims and 1,000 outbox messages.
//
//	scripts/with-services.sh go test ./scheduler/ -run '^$' -bench Sweep1M -benchtime 5x
func BenchmarkSweep1M(b *testing.B) {
	db := pgtest.NewDB(b)
	rs := redistest.New(b)
	ctx := context.Background()
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, hcm) // day 0 of the expiries
	load := time.Now()
	for _, q := range []string{
		`INSERT INTO customers (code, name) SELECT 'C' || g, 'Khách ' || g FROM generate_series(1, 100000) g`,
		`INSERT INTO telegram_links (chat_id, user_id, customer_id) SELECT 5000000 + id, 5000000 + id, id FROM customers`,
		`INSERT INTO certificates (serial, customer_id, type, subject, not_before, not_after)
		 SELECT 'S' || g, (SELECT min(id) FROM customers) + g % 100000, 'individual', 'Subject ' || g,
		        $1::timestamptz - interval '1 year', $1::timestamptz + ((g / 100000) * 100 + (g % 100)) * interval '1 day' + interval '10 hours'
		 FROM generate_series(0, 999999) g`,
		`ANALYZE`,
	} {
		args := []any{}
		if len(q) > 200 {
			args = append(args, base)
		}
		if _, err := db.Pool().Exec(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	var perDay int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM certificates WHERE not_after >= $1 AND not_after < $1 + interval '1 day'`, base).Scan(&perDay); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded 1,000,000 certificates in %v (%d expire per day)", time.Since(load).Round(time.Millisecond), perDay)

	clk := &clock{}
	clk.Set(base.AddDate(0, 0, -31).Add(9 * time.Hour)) // nothing due yet
	mk := func(batch int) *scheduler.Scheduler {
		s, err := scheduler.New(scheduler.Config{Loc: hcm, SweepBatch: batch},
			scheduler.Deps{Reminders: db, Outbox: db, Sender: nopSender{}, Limiter: rs, Clock: clk,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	plan := time.Now()
	c, err := mk(5000).Sweep(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first sweep planned %d new certificates in %v (claimed %d)", c.Candidates, time.Since(plan).Round(time.Millisecond), c.Claimed)

	s := mk(500)
	// An idle sweep: nothing due.
	idle := time.Now()
	if c, err := s.Sweep(ctx); err != nil || c.Candidates != 0 {
		b.Fatalf("idle sweep %+v %v", c, err)
	}
	b.Logf("idle sweep (nothing due) took %v", time.Since(idle))

	var claimed, msgs int
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		clk.Add(24 * time.Hour) // one more day of certificates reaches its 30 days tier
		b.StartTimer()
		c, err := s.Sweep(ctx)
		if err != nil {
			b.Fatal(err)
		}
		claimed += c.Claimed
		msgs += c.Messages
	}
	b.ReportMetric(float64(claimed)/float64(b.N), "claimed/sweep")
	b.ReportMetric(float64(msgs)/float64(b.N), "messages/sweep")
}

type nopSender struct{}

func (nopSender) Post(context.Context, int64, string, []flows.Reply) error { return nil }
