package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// DispatchCounts sums up one Dispatch.
type DispatchCounts struct {
	Sent      int
	Retrying  int // 429 or a transient error: due again later
	Postponed int // held back by the per-chat rate
	Blocked   int
	Failed    int
	Expired   int // leases of dead senders, failed as outcome unknown
}

type dispatchTally struct{ sent, retrying, postponed, blocked, failed atomic.Int64 }

// Dispatch sends the outbox messages due now, until none is left (or ctx
// ends). Chats are spread over Workers goroutines; one chat's messages go
// in order, at most ChatRate per second, and all chats together at most Rate
// per second across instances. A chat that is held back (its own rate, a
// 429) is postponed without holding up the others.
func (s *Scheduler) Dispatch(ctx context.Context) (out DispatchCounts, err error) {
	n, err := s.d.Outbox.ExpireOutboxLeases(ctx, s.d.Clock.Now())
	if err != nil {
		return out, fmt.Errorf("dispatch: %w", err)
	}
	out.Expired = n
	if n > 0 {
		s.d.Log.Warn("outbox messages with an unknown outcome (sender died mid-send): not resent", "count", n)
	}
	var t dispatchTally
	defer func() {
		out.Sent, out.Retrying, out.Postponed = int(t.sent.Load()), int(t.retrying.Load()), int(t.postponed.Load())
		out.Blocked, out.Failed = int(t.blocked.Load()), int(t.failed.Load())
	}()
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		msgs, err := s.d.Outbox.DueOutbox(ctx, s.d.Clock.Now(), s.cfg.Batch)
		if err != nil {
			return out, fmt.Errorf("dispatch: %w", err)
		}
		if len(msgs) == 0 {
			// Reports of what the last batch did go out in this Dispatch.
			n, err := s.reportBroadcasts(ctx)
			if err != nil || n == 0 {
				return out, err
			}
			continue
		}
		// One queue per chat, in the order read.
		var order []int64
		byChat := map[int64][]flows.OutboxMessage{}
		for _, m := range msgs {
			if _, ok := byChat[m.ChatID]; !ok {
				order = append(order, m.ChatID)
			}
			byChat[m.ChatID] = append(byChat[m.ChatID], m)
		}
		work := make(chan []flows.OutboxMessage)
		var wg sync.WaitGroup
		var firstErr error
		var once sync.Once
		for range min(s.cfg.Workers, len(order)) {
			wg.Go(func() {
				for q := range work {
					if err := s.sendChat(ctx, q, &t); err != nil {
						once.Do(func() { firstErr = err })
					}
				}
			})
		}
		for _, chat := range order {
			work <- byChat[chat]
		}
		close(work)
		wg.Wait()
		if firstErr != nil {
			return out, firstErr
		}
		n, err := s.reportBroadcasts(ctx)
		if err != nil {
			return out, err
		}
		if len(msgs) < s.cfg.Batch && n == 0 {
			return out, nil
		}
	}
}

// reportBroadcasts enqueues, for the staff chat, the progress (at most one
// per batch, every tenth of the recipients) and final reports of
// broadcasts, and returns how many it enqueued. Each report has its own
// idempotency key, so a crash between enqueueing and marking it does not
// post it twice.
func (s *Scheduler) reportBroadcasts(ctx context.Context) (int, error) {
	if s.d.Broadcasts == nil || s.cfg.StaffChatID == 0 {
		return 0, nil
	}
	list, err := s.d.Broadcasts.BroadcastsToReport(ctx)
	if err != nil {
		return 0, fmt.Errorf("dispatch: %w", err)
	}
	n := 0
	for _, b := range list {
		r, key, reported, ok := b.BroadcastReport()
		if !ok {
			continue
		}
		m := flows.OutboxMessage{ChatID: s.cfg.StaffChatID, Kind: flows.OutboxNotice, Key: key, Lang: "vi", Replies: []flows.Reply{r}}
		if _, created, err := s.d.Outbox.Enqueue(ctx, m, s.d.Clock.Now()); err != nil {
			return n, fmt.Errorf("dispatch: report broadcast %d: %w", b.ID, err)
		} else if created {
			n++
		}
		if err := s.d.Broadcasts.MarkBroadcastReported(ctx, b.ID, reported); err != nil {
			return n, fmt.Errorf("dispatch: %w", err)
		}
	}
	return n, nil
}

// sendChat sends one chat's due messages in order; when the chat is held
// back, the rest of its queue is postponed with it.
func (s *Scheduler) sendChat(ctx context.Context, q []flows.OutboxMessage, t *dispatchTally) error {
	for i, m := range q {
		wait, err := s.send(ctx, m, t)
		if err != nil {
			return err
		}
		if wait > 0 {
			until := s.d.Clock.Now().Add(wait)
			for _, rest := range q[i+1:] {
				if err := s.d.Outbox.PostponeOutbox(ctx, rest.ID, until); err != nil {
					return fmt.Errorf("dispatch: %w", err)
				}
				t.postponed.Add(1)
			}
			return nil
		}
	}
	return nil
}

// send delivers one message; wait > 0 means the chat must wait that long.
func (s *Scheduler) send(ctx context.Context, m flows.OutboxMessage, t *dispatchTally) (wait time.Duration, err error) {
	ok, wait, err := s.d.Limiter.Allow(ctx, "outbox:chat:"+strconv.FormatInt(m.ChatID, 10), s.cfg.ChatRate, 1)
	if err != nil {
		return 0, fmt.Errorf("dispatch: chat rate: %w", err)
	}
	if !ok {
		if err := s.d.Outbox.PostponeOutbox(ctx, m.ID, s.d.Clock.Now().Add(wait)); err != nil {
			return 0, fmt.Errorf("dispatch: %w", err)
		}
		t.postponed.Add(1)
		return wait, nil
	}
	if err := s.globalToken(ctx); err != nil {
		return 0, err
	}
	now := s.d.Clock.Now()
	claimed, err := s.d.Outbox.ClaimOutbox(ctx, m.ID, now, now.Add(s.cfg.Lease))
	if err != nil {
		return 0, fmt.Errorf("dispatch: %w", err)
	}
	if !claimed {
		return 0, nil // another dispatcher took it
	}
	m.Attempts++

	// From the claim on, finish what was started even on shutdown: a send
	// cut short would leave an unknown outcome.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendTimeout)
	lang := m.Lang
	if lang == "" {
		lang = "vi"
	}
	sendErr := s.d.Sender.Post(sctx, m.ChatID, lang, m.Render(now, s.cfg.Loc))
	cancel()

	res := s.result(m, sendErr)
	switch res.Status {
	case flows.OutboxSent:
		t.sent.Add(1)
	case flows.OutboxPending:
		t.retrying.Add(1)
		if f, _ := flows.SendFailureOf(sendErr); f == flows.SendRetryLater {
			wait = res.RetryAt.Sub(s.d.Clock.Now())
		}
	case flows.OutboxBlocked:
		t.blocked.Add(1)
		s.d.Log.Warn("chat blocked the bot: link deactivated", "chat", m.ChatID, "outbox", m.ID, "kind", m.Kind)
	default:
		t.failed.Add(1)
		s.d.Log.Error("outbox message failed", "chat", m.ChatID, "outbox", m.ID, "kind", m.Kind, "attempts", m.Attempts, "err", sendErr)
	}
	if err := s.finish(context.WithoutCancel(ctx), m.ID, res); err != nil {
		return 0, err
	}
	return wait, nil
}

// result turns a send's outcome into the row's next state.
func (s *Scheduler) result(m flows.OutboxMessage, err error) flows.OutboxResult {
	now := s.d.Clock.Now()
	if err == nil {
		return flows.OutboxResult{Status: flows.OutboxSent}
	}
	f, after := flows.SendFailureOf(err)
	msg := err.Error()
	switch f {
	case flows.SendRetryLater:
		if m.Attempts >= s.cfg.MaxWaits {
			return flows.OutboxResult{Status: flows.OutboxFailed, Error: msg}
		}
		return flows.OutboxResult{Status: flows.OutboxPending, RetryAt: now.Add(after), Error: msg}
	case flows.SendBlocked:
		return flows.OutboxResult{Status: flows.OutboxBlocked, Error: msg}
	case flows.SendRejected:
		return flows.OutboxResult{Status: flows.OutboxFailed, Error: msg}
	}
	if m.Attempts >= s.cfg.MaxAttempts {
		return flows.OutboxResult{Status: flows.OutboxFailed, Error: msg}
	}
	return flows.OutboxResult{Status: flows.OutboxPending, RetryAt: now.Add(backoff(m.Attempts)), Error: msg}
}

// backoff after the n-th failed attempt: 2s, 4s, 8s ... at most 5 minutes.
func backoff(n int) time.Duration {
	return min(time.Second<<min(n, 10), 5*time.Minute)
}

// finish records an outcome, retrying briefly: until it is recorded the
// message stays sending, and a lost record would turn it into an unknown.
func (s *Scheduler) finish(ctx context.Context, id int64, res flows.OutboxResult) error {
	var err error
	for attempt := range 4 {
		if err = s.d.Outbox.FinishOutbox(ctx, id, res, s.d.Clock.Now()); err == nil {
			return nil
		}
		time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
	}
	return fmt.Errorf("dispatch: record outcome of outbox %d: %w", id, err)
}

// globalToken waits for a token of the global rate, shared by instances.
func (s *Scheduler) globalToken(ctx context.Context) error {
	for {
		ok, wait, err := s.d.Limiter.Allow(ctx, "outbox:global", s.cfg.Rate, 1)
		if err != nil {
			return fmt.Errorf("dispatch: global rate: %w", err)
		}
		if ok {
			return nil
		}
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		case <-tm.C:
		}
	}
}
