package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/sandbox"
	"github.com/renewbot/renewbot/scheduler"
	"github.com/renewbot/renewbot/storage/postgres"
	"github.com/renewbot/renewbot/storage/postgres/pgtest"
	"github.com/renewbot/renewbot/storage/redisstate"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

var hcm = func() *time.Location {
	l, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return l
}()

// clock is a controllable flows.Clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	t     *testing.T
	db    *postgres.DB
	rs    *redisstate.Store
	srv   *sandbox.Server
	bot   *bot.Adapter
	clock *clock
	n     int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.NewDB(t)
	rs := redistest.New(t)
	srv := sandbox.New(sandbox.Config{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cat, err := bot.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := bot.New(bot.Config{Token: srv.Token(), APIURL: url}, nil, nil, nil, db, cat, log)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, rs: rs, srv: srv, bot: a, clock: &clock{}}
}

func (e *env) scheduler(cfg scheduler.Config, mod ...func(*scheduler.Deps)) *scheduler.Scheduler {
	e.t.Helper()
	cfg.Loc = hcm
	if cfg.ChatRate == 0 {
		cfg.ChatRate = 1000 // most tests send a few messages to one chat at one fake instant
	}
	if cfg.Rate == 0 {
		cfg.Rate = 1000
	}
	d := scheduler.Deps{Reminders: e.db, Outbox: e.db, Sender: e.bot, Limiter: e.rs, Leader: e.rs, Clock: e.clock}
	for _, m := range mod {
		m(&d)
	}
	s, err := scheduler.New(cfg, d)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// customer adds a customer, linked to chat (the sandbox user) unless chat is 0.
func (e *env) customer(chat int64) int64 {
	e.t.Helper()
	e.n++
	var id int64
	err := e.db.Pool().QueryRow(context.Background(),
		`INSERT INTO customers (code, name) VALUES ($1, $2) RETURNING id`,
		fmt.Sprintf("KH%05d", e.n), fmt.Sprintf("Khách %d", e.n)).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	if chat != 0 {
		e.srv.User(chat)
		if err := e.db.LinkChat(context.Background(), flows.Link{CustomerID: id, ChatID: chat, UserID: chat, Lang: "vi"}); err != nil {
			e.t.Fatal(err)
		}
	}
	return id
}

func (e *env) cert(customer int64, notAfter time.Time) int64 {
	e.t.Helper()
	e.n++
	var id int64
	err := e.db.Pool().QueryRow(context.Background(), `
		INSERT INTO certificates (serial, customer_id, type, subject, not_before, not_after)
		VALUES ($1, $2, 'individual', 'Nguyễn Văn An', $3, $4) RETURNING id`,
		fmt.Sprintf("SER%06d", e.n), customer, notAfter.AddDate(-1, 0, 0), notAfter).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Pool().Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatal(err)
	}
}

// run sweeps and dispatches, twice, as a cron tick and a re-run would.
func (e *env) run(s *scheduler.Scheduler) {
	e.t.Helper()
	for range 2 {
		if _, err := s.Sweep(ctx(e.t)); err != nil {
			e.t.Fatal(err)
		}
		if _, err := s.Dispatch(ctx(e.t)); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) messages(chat int64) []sandbox.Message { return e.srv.User(chat).Messages() }

func (e *env) ledger(cert int64) []postgres.ReminderRow {
	e.t.Helper()
	rows, err := e.db.RemindersOf(context.Background(), cert)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, hcm) }

var expiry = time.Date(2026, 3, 15, 17, 0, 0, 0, hcm)

func TestEveryTierFiresOnceAndRerunsSendNothing(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat = 1001
	cert := e.cert(e.customer(chat), expiry)

	// Every day from 40 days before to 20 days after expiry, at 09:00 and 15:00.
	for d := -40; d <= 20; d++ {
		for _, h := range []int{9, 15} {
			e.clock.Set(at(2026, 3, 15+d, h))
			e.run(s)
		}
	}
	msgs := e.messages(chat)
	if len(msgs) != 8 {
		for _, m := range msgs {
			t.Logf("%s: %q", m.Date, m.Text)
		}
		t.Fatalf("got %d reminders, want 8 (one per tier)", len(msgs))
	}
	var tiers []flows.Tier
	for _, r := range e.ledger(cert) {
		if r.Status != flows.ReminderSent {
			t.Errorf("tier %s: status %s, want sent", r.Tier, r.Status)
		}
		tiers = append(tiers, r.Tier)
	}
	if fmt.Sprint(tiers) != fmt.Sprint(flows.DefaultTiers) {
		t.Errorf("ledger tiers %v, want %v", tiers, flows.DefaultTiers)
	}
	for _, want := range []string{"còn 30 ngày", "còn 1 ngày", "Hết hạn hôm nay", "3 ngày trước", "14 ngày trước"} {
		found := false
		for _, m := range msgs {
			found = found || strings.Contains(m.Text, want)
		}
		if !found {
			t.Errorf("no reminder says %q", want)
		}
	}
	// The Renew now button is versionless and names the certificate.
	b := msgs[0].Buttons[0][0]
	if b.Text != "🔄 Gia hạn ngay" || b.Data != fmt.Sprintf("v1:*:renew:%d", cert) {
		t.Errorf("button %+v", b)
	}
}

func TestLateReminderSendsOnlyTheMostUrgentTier(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat = 1002
	cert := e.cert(e.customer(chat), expiry)
	// The service was down until two days before expiry: 30, 14, 7 and 3 were missed.
	e.clock.Set(at(2026, 3, 13, 10))
	e.run(s)
	e.clock.Set(at(2026, 3, 13, 16))
	e.run(s)
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages, want 1", n)
	}
	rows := e.ledger(cert)
	if len(rows) != 1 || rows[0].Tier != 3 {
		t.Fatalf("ledger %+v, want only the 3 days tier", rows)
	}
}

func TestQuietHoursDeferToTheMorning(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat = 1003
	e.cert(e.customer(chat), expiry)
	// Seven days before, 22:30: due, but quiet.
	e.clock.Set(time.Date(2026, 3, 8, 22, 30, 0, 0, hcm))
	c, err := s.Sweep(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Claimed != 0 || c.Deferred != 1 {
		t.Fatalf("counts %+v, want nothing claimed and one deferred", c)
	}
	e.clock.Set(time.Date(2026, 3, 9, 7, 59, 0, 0, hcm))
	e.run(s)
	if n := len(e.messages(chat)); n != 0 {
		t.Fatalf("%d messages during quiet hours", n)
	}
	e.clock.Set(time.Date(2026, 3, 9, 8, 0, 0, 0, hcm))
	e.run(s)
	msgs := e.messages(chat)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "còn 6 ngày") {
		t.Fatalf("messages %+v, want one at 08:00", msgs)
	}
}

func TestOptOutOpenOrderAndNotLinked(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	optedOut := e.customer(1004)
	e.exec(`UPDATE customers SET reminders_off = true WHERE id = $1`, optedOut)
	c1 := e.cert(optedOut, expiry)
	renewing := e.customer(1005)
	c2 := e.cert(renewing, expiry)
	e.exec(`INSERT INTO packages (code, cert_type, name, months, price_vnd) VALUES ('P1', 'individual', '1 năm', 12, 1000)`)
	e.exec(`INSERT INTO orders (customer_id, certificate_id, package_id, price_vnd, total_vnd)
		SELECT $1, $2, id, 1000, 1000 FROM packages WHERE code = 'P1'`, renewing, c2)
	c3 := e.cert(e.customer(0), expiry)

	e.clock.Set(at(2026, 3, 8, 9))
	e.run(s)
	for _, chat := range []int64{1004, 1005} {
		if n := len(e.messages(chat)); n != 0 {
			t.Errorf("chat %d got %d messages", chat, n)
		}
	}
	for cert, want := range map[int64]string{c1: "skipped/opted_out", c2: "skipped/open_order", c3: "undeliverable/not_linked"} {
		rows := e.ledger(cert)
		if len(rows) != 1 || string(rows[0].Status)+"/"+rows[0].Reason != want {
			t.Errorf("certificate %d ledger %+v, want one row %s", cert, rows, want)
		}
	}
}

func TestRenewedCertificateStopsReminders(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat = 1006
	cert := e.cert(e.customer(chat), expiry)
	e.clock.Set(at(2026, 3, 8, 9))
	e.run(s)
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages, want the 7 days reminder", n)
	}
	// Renewed: a new period a year on.
	e.exec(`UPDATE certificates SET not_after = not_after + interval '1 year' WHERE id = $1`, cert)
	for d := 9; d <= 31; d++ {
		e.clock.Set(at(2026, 3, d, 9))
		e.run(s)
	}
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages after renewal, want none new", n)
	}
	// The new period is reminded in its own time.
	e.clock.Set(at(2027, 2, 13, 9))
	e.run(s)
	if n := len(e.messages(chat)); n != 2 {
		t.Fatalf("got %d messages, want the new period's 30 days reminder", n)
	}
}

func TestCertificatesOfOneCustomerGrouped(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat = 1007
	cu := e.customer(chat)
	a := e.cert(cu, expiry)
	b := e.cert(cu, expiry.AddDate(0, 0, 2))
	// Daily at 09:00 from 35 days before: b's tiers come two days after a's,
	// within GroupWithin, so each of a's reminders takes b's along.
	for d := -35; d <= -5; d++ {
		e.clock.Set(at(2026, 3, 15+d, 9))
		e.run(s)
	}
	msgs := e.messages(chat)
	if len(msgs) != 3 {
		for _, m := range msgs {
			t.Logf("%q", m.Text)
		}
		t.Fatalf("got %d messages, want 3 (30, 14, 7 days) listing both", len(msgs))
	}
	for _, m := range msgs {
		if !strings.Contains(m.Text, "2 chứng thư số") || len(m.Buttons) != 2 {
			t.Errorf("message does not list both: %q", m.Text)
		}
	}
	la, lb := e.ledger(a), e.ledger(b)
	if len(la) != 3 || len(lb) != 3 || lb[2].Tier != 7 {
		t.Fatalf("ledgers %+v %+v", la, lb)
	}
}

// failingOutbox simulates a crash right after the send: the outcome is
// never recorded.
type failingOutbox struct {
	*postgres.DB
	fail atomic.Bool
}

func (f *failingOutbox) FinishOutbox(ctx context.Context, id int64, r flows.OutboxResult, now time.Time) error {
	if f.fail.Load() {
		return errors.New("crash: process died before recording the send")
	}
	return f.DB.FinishOutbox(ctx, id, r, now)
}

func TestCrashBetweenSendAndRecordDoesNotDuplicate(t *testing.T) {
	e := newEnv(t)
	fo := &failingOutbox{DB: e.db}
	fo.fail.Store(true)
	crashing := e.scheduler(scheduler.Config{}, func(d *scheduler.Deps) { d.Outbox = fo })
	const chat = 1008
	cert := e.cert(e.customer(chat), expiry)
	e.clock.Set(at(2026, 3, 8, 9))
	if _, err := crashing.Sweep(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := crashing.Dispatch(ctx(t)); err == nil {
		t.Fatal("dispatch did not fail")
	}
	// Restarted: sweeps and dispatches again, also after the lease ran out.
	s := e.scheduler(scheduler.Config{})
	e.run(s)
	e.clock.Add(10 * time.Minute)
	e.run(s)
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages, want 1", n)
	}
	rows, err := e.db.OutboxRows(context.Background(), chat)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Status != flows.OutboxFailed || !strings.Contains(rows[0].LastError, "unknown") {
		t.Fatalf("outbox %+v, want one failed with an unknown outcome", rows)
	}
	if l := e.ledger(cert); len(l) != 1 || l[0].Status != flows.ReminderClaimed {
		t.Fatalf("ledger %+v", l)
	}
}

func TestCrashBetweenClaimAndSendDoesNotSkip(t *testing.T) {
	e := newEnv(t)
	const chat = 1009
	e.cert(e.customer(chat), expiry)
	e.clock.Set(at(2026, 3, 8, 9))
	if _, err := e.scheduler(scheduler.Config{}).Sweep(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// The instance died here; another one carries on.
	e.run(e.scheduler(scheduler.Config{}))
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages, want 1", n)
	}
}

func TestTwoSchedulersAtOnceSendOnce(t *testing.T) {
	e := newEnv(t)
	const customers = 40
	for i := range customers {
		cu := e.customer(int64(2000 + i))
		e.cert(cu, expiry.Add(time.Duration(i)*time.Hour))
		e.cert(cu, expiry.AddDate(0, 0, 1))
	}
	a, b := e.scheduler(scheduler.Config{SweepBatch: 7}), e.scheduler(scheduler.Config{SweepBatch: 5})
	for _, day := range []int{8, 9, 12} {
		e.clock.Set(at(2026, 3, day, 9))
		var wg sync.WaitGroup
		for _, s := range []*scheduler.Scheduler{a, b, a, b} {
			wg.Go(func() {
				if _, err := s.Sweep(ctx(t)); err != nil {
					t.Error(err)
				}
				if _, err := s.Dispatch(ctx(t)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	var total int
	for i := range customers {
		total += len(e.messages(int64(2000 + i)))
	}
	var claimed int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM reminders`).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	var outbox int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE status = 'sent'`).Scan(&outbox); err != nil {
		t.Fatal(err)
	}
	if total != outbox {
		t.Fatalf("%d messages delivered, %d recorded sent", total, outbox)
	}
	// Each certificate: 7 days and 3 days tiers, claimed once each.
	if claimed != customers*2*2 {
		t.Fatalf("%d ledger rows, want %d", claimed, customers*4)
	}
}

func Test429ThenSuccessDeliversOnce(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat, other = 1010, 1011
	e.cert(e.customer(chat), expiry)
	e.cert(e.customer(other), expiry)
	e.srv.InjectError(chat, 429, 3, 1)
	e.clock.Set(at(2026, 3, 8, 9))
	if _, err := s.Sweep(ctx(t)); err != nil {
		t.Fatal(err)
	}
	c, err := s.Dispatch(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sent != 1 || c.Retrying != 1 {
		t.Fatalf("counts %+v: the other chat must not wait", c)
	}
	if n := len(e.messages(other)); n != 1 {
		t.Fatalf("other chat got %d", n)
	}
	e.clock.Add(2 * time.Second) // retry_after not over yet
	e.run(s)
	if n := len(e.messages(chat)); n != 0 {
		t.Fatalf("retried before retry_after: %d", n)
	}
	e.clock.Add(2 * time.Second)
	e.run(s)
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages, want 1", n)
	}
}

func Test403DeactivatesTheLink(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{})
	const chat = 1012
	cu := e.customer(chat)
	cert := e.cert(cu, expiry)
	e.srv.User(chat).Block()
	e.clock.Set(at(2026, 3, 8, 9))
	c1, _ := s.Sweep(ctx(t))
	c, err := s.Dispatch(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Blocked != 1 {
		t.Fatalf("counts %+v %+v", c1, c)
	}
	if _, err := e.db.LinkByCustomer(context.Background(), cu); !flows.IsCode(err, flows.NotFound) {
		t.Fatalf("link still active: %v", err)
	}
	rows := e.ledger(cert)
	if len(rows) != 1 || rows[0].Status != flows.ReminderUndeliverable || rows[0].Reason != flows.ReasonBlocked {
		t.Fatalf("ledger %+v", rows)
	}
	// Later tiers are not even tried.
	e.clock.Set(at(2026, 3, 12, 9))
	e.run(s)
	rows = e.ledger(cert)
	if len(rows) != 2 || rows[1].Reason != flows.ReasonNotLinked {
		t.Fatalf("ledger %+v", rows)
	}
}

func TestTransientErrorsRetryWithBackoff(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{MaxAttempts: 3})
	const chat = 1013
	e.cert(e.customer(chat), expiry)
	e.srv.InjectError(chat, 502, 0, 2)
	e.clock.Set(at(2026, 3, 8, 9))
	for range 4 {
		e.run(s)
		e.clock.Add(5 * time.Second)
	}
	if n := len(e.messages(chat)); n != 1 {
		t.Fatalf("got %d messages, want 1 after two 502s", n)
	}
}

func TestPerChatRate(t *testing.T) {
	e := newEnv(t)
	s := e.scheduler(scheduler.Config{ChatRate: 1})
	const chat = 1014
	for i := range 3 {
		if _, _, err := e.db.Enqueue(context.Background(), flows.OutboxMessage{ChatID: chat, Kind: flows.OutboxNotice,
			Key: fmt.Sprint("n", i), Lang: "vi", Replies: []flows.Reply{flows.Say("cancelled")}}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.User(chat)
	c, err := s.Dispatch(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sent != 1 || c.Postponed != 2 {
		t.Fatalf("counts %+v, want one sent and two held back", c)
	}
	// A repeated key is not enqueued twice.
	if _, created, err := e.db.Enqueue(context.Background(), flows.OutboxMessage{ChatID: chat, Kind: flows.OutboxNotice,
		Key: "n0", Lang: "vi"}, e.clock.Now()); err != nil || created {
		t.Fatalf("repeated key: created %v, %v", created, err)
	}
}

// leaderOf counts the sweeps an instance runs.
type countingReminders struct {
	flows.Reminders
	n atomic.Int64
}

func (c *countingReminders) ReminderCandidates(ctx context.Context, now, until time.Time, limit int) ([]flows.ReminderCandidate, error) {
	c.n.Add(1)
	return c.Reminders.ReminderCandidates(ctx, now, until, limit)
}

// flakyLeader loses Redis on demand (a dead or partitioned leader).
type flakyLeader struct {
	scheduler.Leader
	dead atomic.Bool
}

func (f *flakyLeader) AcquireLeader(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if f.dead.Load() {
		return false, errors.New("connection refused")
	}
	return f.Leader.AcquireLeader(ctx, name, owner, ttl)
}

func TestOneLeaderAndTakeover(t *testing.T) {
	e := newEnv(t)
	cfg := scheduler.Config{SweepSpec: "@every 1s", DispatchSpec: "@every 1s", LeaderTTL: 2 * time.Second, LeaderRenew: 300 * time.Millisecond}
	type inst struct {
		s      *scheduler.Scheduler
		count  *countingReminders
		leader *flakyLeader
	}
	var insts []inst
	for i := range 2 {
		cr := &countingReminders{Reminders: e.db}
		fl := &flakyLeader{Leader: e.rs}
		c := cfg
		c.Owner = fmt.Sprint("instance-", i)
		insts = append(insts, inst{e.scheduler(c, func(d *scheduler.Deps) { d.Reminders, d.Leader = cr, fl }), cr, fl})
	}
	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, in := range insts {
		wg.Go(func() {
			if err := in.s.Run(runCtx); err != nil {
				t.Error(err)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(2500 * time.Millisecond)
	a, b := insts[0].count.n.Load(), insts[1].count.n.Load()
	if (a == 0) == (b == 0) {
		t.Fatalf("sweeps per instance %d, %d: want exactly one leader", a, b)
	}
	lead, follow := insts[0], insts[1]
	if a == 0 {
		lead, follow = follow, lead
	}
	lead.leader.dead.Store(true) // the leader loses Redis: it stops, the other takes over
	start := time.Now()
	base := follow.count.n.Load()
	for follow.count.n.Load() == base {
		if time.Since(start) > 10*time.Second {
			t.Fatal("no takeover within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("takeover after %v (TTL %v)", time.Since(start).Round(10*time.Millisecond), cfg.LeaderTTL)
	time.Sleep(1500 * time.Millisecond)
	old := lead.count.n.Load()
	time.Sleep(1500 * time.Millisecond)
	if lead.count.n.Load() != old {
		t.Fatal("the old leader still runs jobs")
	}
}
