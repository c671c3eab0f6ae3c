package redisstate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

func TestLockChatExclusion(t *testing.T) {
	s := redistest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// counter is deliberately unsynchronised: only the Redis lock keeps
	// the increments apart. mu orders the enter/leave bookkeeping, so when
	// the lock works -race sees a happens-before edge between holders, and
	// when two holders overlap it reports the race on counter (and
	// maxInside > 1 catches the overlap without -race).
	var counter, inside, maxInside int
	var mu sync.Mutex // guards inside/maxInside only
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				unlock, err := s.LockChat(ctx, 77, 5*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside++
				maxInside = max(maxInside, inside)
				mu.Unlock()

				counter++

				mu.Lock()
				inside--
				mu.Unlock()
				if err := unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if counter != workers*each || maxInside != 1 {
		t.Errorf("counter = %d (want %d), max holders at once = %d (want 1)", counter, workers*each, maxInside)
	}
}

func TestLockDifferentChatsIndependent(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	u1, err := s.LockChat(ctx, 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer u1(ctx)
	quick, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	u2, err := s.LockChat(quick, 2, time.Second)
	if err != nil {
		t.Fatalf("lock of another chat: %v", err)
	}
	if err := u2(ctx); err != nil {
		t.Error(err)
	}
}

func TestTryLockAndExpiry(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()

	unlock, ok, err := s.TryLock(ctx, "job", 40*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("TryLock free = %v, %v; want true, nil", ok, err)
	}
	if u, ok, err := s.TryLock(ctx, "job", time.Second); err != nil || ok || u != nil {
		t.Errorf("TryLock held = %v, %v (unlock nil: %v); want false, nil, nil", ok, err, u == nil)
	}
	// Lock waits for the expiry of the first holder's TTL.
	wait, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	unlock2, err := s.Lock(wait, "job", time.Second)
	if err != nil {
		t.Fatalf("Lock after expiry: %v", err)
	}
	if waited := time.Since(start); waited > 1500*time.Millisecond {
		t.Errorf("waited %v for a 40ms lock", waited)
	}
	// The first holder's late unlock must not free the second's lock.
	if err := unlock(ctx); !flows.IsCode(err, flows.Conflict) {
		t.Errorf("late unlock: err = %v, want Conflict", err)
	}
	if _, ok, _ := s.TryLock(ctx, "job", time.Second); ok {
		t.Error("late unlock freed someone else's lock")
	}
	if err := unlock2(ctx); err != nil {
		t.Errorf("unlock2: %v", err)
	}
	if u, ok, err := s.TryLock(ctx, "job", time.Second); err != nil || !ok {
		t.Errorf("TryLock after unlock = %v, %v; want true, nil", ok, err)
	} else {
		_ = u(ctx)
	}
}

func TestLockGivesUpWithContext(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	unlock, err := s.Lock(ctx, "busy", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx)
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, "busy", time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock on a held lock: err = %v, want DeadlineExceeded", err)
	}
}

func TestLockRejectsTinyTTL(t *testing.T) {
	s := redistest.New(t)
	if _, _, err := s.TryLock(context.Background(), "x", 0); !flows.IsCode(err, flows.Invalid) {
		t.Errorf("TryLock ttl 0: err = %v, want Invalid", err)
	}
}

func TestLeader(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	const ttl = 150 * time.Millisecond

	mustLeader := func(owner string, want bool) {
		t.Helper()
		got, err := s.AcquireLeader(ctx, "scheduler", owner, ttl)
		if err != nil || got != want {
			t.Fatalf("AcquireLeader(%s) = %v, %v; want %v, nil", owner, got, err, want)
		}
	}
	mustLeader("a", true)
	mustLeader("b", false)
	// Renewals keep a leader in place beyond its first TTL.
	for range 4 {
		time.Sleep(ttl / 5)
		mustLeader("a", true)
		mustLeader("b", false)
	}
	// A's renewals stop: after the TTL b takes over.
	waitGone(t, func() bool {
		ok, err := s.AcquireLeader(ctx, "scheduler", "b", ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	mustLeader("a", false)
	// A stale release by a does nothing; b's release frees it at once.
	if err := s.ReleaseLeader(ctx, "scheduler", "a"); err != nil {
		t.Fatal(err)
	}
	mustLeader("a", false)
	if err := s.ReleaseLeader(ctx, "scheduler", "b"); err != nil {
		t.Fatal(err)
	}
	mustLeader("a", true)
	// Another name is another role.
	if ok, err := s.AcquireLeader(ctx, "broadcasts", "b", ttl); err != nil || !ok {
		t.Errorf("AcquireLeader(broadcasts, b) = %v, %v; want true, nil", ok, err)
	}
}
