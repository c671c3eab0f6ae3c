package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Run runs the cron jobs (sweep, dispatch) while this instance holds the
// leader lock, and returns nil when ctx ends. It renews the lock every
// LeaderRenew; when renewal fails or another instance holds it, the jobs
// stop (cron's Stop is awaited, running jobs are cancelled) and Run keeps
// trying, so that if the leader dies another instance takes over within
// LeaderTTL. On the way out it releases the lock for an immediate takeover.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.d.Leader == nil {
		return errors.New("scheduler: Run needs a Leader")
	}
	var (
		c         *cron.Cron
		jobCancel context.CancelFunc
	)
	stop := func() {
		if c == nil {
			return
		}
		jobCancel()
		<-c.Stop().Done()
		c = nil
		s.d.Log.Info("scheduler: jobs stopped", "owner", s.cfg.Owner)
	}
	defer stop()

	tick := time.NewTicker(s.cfg.LeaderRenew)
	defer tick.Stop()
	for {
		lead, err := s.d.Leader.AcquireLeader(ctx, s.cfg.LeaderName, s.cfg.Owner, s.cfg.LeaderTTL)
		if err != nil && ctx.Err() == nil {
			// Not knowing is not leading: another instance may take over.
			s.d.Log.Warn("scheduler: renew leader lock", "err", err)
		}
		switch {
		case lead && c == nil:
			jobCtx, cancel := context.WithCancel(ctx)
			jobCancel = cancel
			c, err = s.startCron(jobCtx)
			if err != nil {
				cancel()
				return err
			}
			s.d.Log.Info("scheduler: leader, jobs started", "owner", s.cfg.Owner)
		case !lead && c != nil:
			stop()
		}
		select {
		case <-ctx.Done():
			stop()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.d.Leader.ReleaseLeader(rctx, s.cfg.LeaderName, s.cfg.Owner); err != nil {
				s.d.Log.Warn("scheduler: release leader lock", "err", err)
			}
			return nil
		case <-tick.C:
		}
	}
}

func (s *Scheduler) startCron(ctx context.Context) (*cron.Cron, error) {
	logger := cronLogger{s.d.Log}
	c := cron.New(cron.WithLocation(s.cfg.Loc), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	jobs := []struct {
		name, spec string
		run        func(context.Context) (any, error)
	}{
		{"sweep", s.cfg.SweepSpec, func(ctx context.Context) (any, error) { return s.Sweep(ctx) }},
		{"dispatch", s.cfg.DispatchSpec, func(ctx context.Context) (any, error) { return s.Dispatch(ctx) }},
	}
	for _, j := range jobs {
		if _, err := c.AddFunc(j.spec, func() {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			res, err := j.run(ctx)
			if err != nil && ctx.Err() == nil {
				s.d.Log.Error("scheduler job failed", "job", j.name, "err", err)
				return
			}
			s.d.Log.Debug("scheduler job done", "job", j.name, "result", fmt.Sprintf("%+v", res), "took", time.Since(start))
		}); err != nil {
			return nil, fmt.Errorf("scheduler: job %s spec %q: %w", j.name, j.spec, err)
		}
	}
	c.Start()
	return c, nil
}

// cronLogger adapts slog to cron.Logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
