// Package scheduler is the room of "every minute / every second, a batch of
// due rows" (DESIGN.md): the expiry reminder sweep and the outbox dispatcher
// that sends everything the service sends proactively (reminders, broadcasts,
// status notices), run as robfig/cron v3 jobs by one leader at a time.
//
// The rules (which tier is due, quiet hours, grouping) are pure functions in
// flows (flows/reminders.go); storage/postgres keeps the ledger and the
// outbox; storage/redisstate the leader lock and the shared rate buckets;
// bot.Adapter.Post talks to Telegram. This package only orders the steps:
//
//	sweep:    candidates -> ReminderPolicy.Plan -> ApplyReminders (ledger claim
//	          + outbox row, one transaction) ... until nothing is due
//	dispatch: due outbox rows -> per-chat and global rate -> claim (lease) ->
//	          Post -> record the outcome (sent / retry at / blocked / failed)
//
// Exactly once: a reminder is claimed in the ledger under its unique key in
// the transaction that enqueues its message, so a re-run or a second
// instance cannot claim it again and a crash cannot lose it; a message is
// claimed (sending, under a lease) before it is posted, and a message whose
// sender died mid-send is failed as "outcome unknown", never sent again.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// Limiter is a rate bucket shared by every instance (redisstate.Store.Allow).
type Limiter interface {
	Allow(ctx context.Context, key string, rate float64, burst int) (ok bool, retryAfter time.Duration, err error)
}

// Leader is the leader lock (redisstate.Store).
type Leader interface {
	AcquireLeader(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLeader(ctx context.Context, name, owner string) error
}

// BroadcastReports are the broadcasts whose progress or final report staff
// have not seen yet (storage/postgres; a subset of flows.Broadcasts).
type BroadcastReports interface {
	BroadcastsToReport(ctx context.Context) ([]flows.Broadcast, error)
	MarkBroadcastReported(ctx context.Context, id int64, reported int) error
}

// Config tunes the scheduler. Zero values take the defaults in brackets.
type Config struct {
	Policy flows.ReminderPolicy // flows.DefaultReminderPolicy(Loc)
	Loc    *time.Location       // the provider's time zone [Asia/Ho_Chi_Minh, else UTC]

	SweepSpec    string // cron spec of the reminder sweep ["@every 1m"]
	DispatchSpec string // cron spec of the outbox dispatcher ["@every 1s"]
	SweepBatch   int    // certificates per sweep transaction [500]

	Rate        float64       // messages per second over all chats and instances [30]
	ChatRate    float64       // messages per second to one chat [1]
	Workers     int           // concurrent sends [16]
	Batch       int           // outbox rows read at once [4 x Rate, at least 64]
	Lease       time.Duration // a sending row's lease [2m]
	SendTimeout time.Duration // one Bot API call [30s]
	MaxAttempts int           // sends of one message on 5xx/timeouts [5]
	MaxWaits    int           // 429 answers borne by one message [30]

	// StaffChatID receives broadcast progress and final reports (0: none).
	StaffChatID int64

	LeaderName  string        // ["scheduler"]
	Owner       string        // this instance, unique [hostname:pid:random]
	LeaderTTL   time.Duration // [30s]: another instance takes over within it
	LeaderRenew time.Duration // [LeaderTTL/3]
}

// Deps are the scheduler's ports.
type Deps struct {
	Reminders flows.Reminders
	Outbox    flows.Outbox
	Sender    flows.Sender
	Limiter   Limiter
	Leader    Leader
	// Broadcasts, when set with Config.StaffChatID, lets Dispatch report
	// broadcast progress to staff.
	Broadcasts BroadcastReports
	Clock      flows.Clock
	Log        *slog.Logger
}

// Scheduler runs the sweep and the dispatcher. It is safe for concurrent
// use; Sweep and Dispatch may also be called directly (tests, a CLI).
type Scheduler struct {
	cfg Config
	d   Deps
}

// New checks cfg and deps and fills in defaults.
func New(cfg Config, d Deps) (*Scheduler, error) {
	if d.Reminders == nil || d.Outbox == nil || d.Sender == nil || d.Limiter == nil {
		return nil, errors.New("scheduler: Reminders, Outbox, Sender and Limiter are required")
	}
	if d.Clock == nil {
		d.Clock = flows.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Loc == nil {
		loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
		if err != nil {
			loc = time.UTC
		}
		cfg.Loc = loc
	}
	if cfg.Policy.Tiers == nil {
		cfg.Policy = flows.DefaultReminderPolicy(cfg.Loc)
	}
	if cfg.Policy.Loc == nil {
		cfg.Policy.Loc = cfg.Loc
	}
	p, err := cfg.Policy.Check()
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	cfg.Policy = p
	def := func(v *int, n int) {
		if *v <= 0 {
			*v = n
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if cfg.SweepSpec == "" {
		cfg.SweepSpec = "@every 1m"
	}
	if cfg.DispatchSpec == "" {
		cfg.DispatchSpec = "@every 1s"
	}
	def(&cfg.SweepBatch, 500)
	if cfg.Rate <= 0 {
		cfg.Rate = 30
	}
	if cfg.Rate > 1000 {
		return nil, fmt.Errorf("scheduler: rate %v over Telegram's paid broadcast limit of 1000/s", cfg.Rate)
	}
	if cfg.ChatRate <= 0 {
		cfg.ChatRate = 1
	}
	def(&cfg.Workers, 16)
	def(&cfg.Batch, max(64, int(4*cfg.Rate)))
	defd(&cfg.Lease, 2*time.Minute)
	defd(&cfg.SendTimeout, 30*time.Second)
	def(&cfg.MaxAttempts, 5)
	def(&cfg.MaxWaits, 30)
	if cfg.LeaderName == "" {
		cfg.LeaderName = "scheduler"
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	}
	defd(&cfg.LeaderTTL, 30*time.Second)
	defd(&cfg.LeaderRenew, cfg.LeaderTTL/3)
	if cfg.SendTimeout >= cfg.Lease {
		return nil, errors.New("scheduler: the lease must outlast a send")
	}
	return &Scheduler{cfg: cfg, d: d}, nil
}

// Config returns the configuration with defaults filled in.
func (s *Scheduler) Config() Config { return s.cfg }

// Sweep claims every reminder due now, in batches, and enqueues their
// messages; it returns what it did. Running it again (or on another
// instance at the same time) claims nothing twice.
func (s *Scheduler) Sweep(ctx context.Context) (flows.ReminderCounts, error) {
	var total flows.ReminderCounts
	now := s.d.Clock.Now()
	groupUntil := now.Add(s.cfg.Policy.GroupWithin)
	// Each batch plans every certificate it reads to a moment after now (or
	// claims it), so it leaves the due set: the loop ends. The bound is a
	// guard against a bug, not a limit on work.
	for range 100000 {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		cands, err := s.d.Reminders.ReminderCandidates(ctx, now, groupUntil, s.cfg.SweepBatch)
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		if len(cands) == 0 {
			return total, nil
		}
		plan := s.cfg.Policy.Plan(cands, now)
		c, err := s.applyWithRetry(ctx, plan, now)
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		c.Candidates = len(cands)
		for _, d := range plan.Decisions {
			if !d.Claim && d.NextAt.Equal(s.cfg.Policy.AfterQuiet(now)) && s.cfg.Policy.Quiet(now) {
				c.Deferred++
			}
		}
		total.Add(c)
	}
	return total, errors.New("sweep: did not converge")
}

func (s *Scheduler) applyWithRetry(ctx context.Context, plan flows.ReminderPlan, now time.Time) (flows.ReminderCounts, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.d.Reminders.ApplyReminders(ctx, plan, now)
		if err == nil || !flows.IsCode(err, flows.Conflict) || attempt == 3 {
			return c, err
		}
		// Another sweep held the same keys (deadlock or serialization):
		// the ledger decides who won, try again.
	}
}
