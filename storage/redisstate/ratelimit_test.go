package redisstate_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

func TestAllowLimitsBurst(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	// 1 per second with a burst of 5: a quick run of 8 lets exactly 5 through.
	var allowed int
	var lastRetry time.Duration
	for range 8 {
		ok, retry, err := s.Allow(ctx, "chat:1", 1, 5)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else {
			lastRetry = retry
		}
	}
	if allowed != 5 {
		t.Errorf("allowed %d of 8, want 5", allowed)
	}
	if lastRetry <= 0 || lastRetry > time.Second {
		t.Errorf("retryAfter = %v, want in (0, 1s]", lastRetry)
	}
	// Another key has its own bucket.
	if ok, _, err := s.Allow(ctx, "chat:2", 1, 5); err != nil || !ok {
		t.Errorf("other bucket = %v, %v; want true, nil", ok, err)
	}
}

func TestAllowRefills(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	// 50 per second: a token every 20ms.
	if ok, _, err := s.Allow(ctx, "k", 50, 1); err != nil || !ok {
		t.Fatalf("first = %v, %v", ok, err)
	}
	ok, retry, err := s.Allow(ctx, "k", 50, 1)
	if err != nil || ok || retry <= 0 || retry > 20*time.Millisecond {
		t.Fatalf("second = %v, %v, %v; want false, (0, 20ms], nil", ok, retry, err)
	}
	time.Sleep(retry + 2*time.Millisecond)
	if ok, _, err := s.Allow(ctx, "k", 50, 1); err != nil || !ok {
		t.Errorf("after retryAfter = %v, %v; want true, nil", ok, err)
	}
}

func TestAllowSharedUnderConcurrency(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			ok, _, err := s.Allow(ctx, "global", 0.5, 10)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 10 {
		t.Errorf("allowed %d of 50 concurrent calls, want 10", got)
	}
}

func TestAllowInvalid(t *testing.T) {
	s := redistest.New(t)
	for _, c := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}} {
		if _, _, err := s.Allow(context.Background(), "k", c.rate, c.burst); !flows.IsCode(err, flows.Invalid) {
			t.Errorf("Allow(rate %v, burst %d): err = %v, want Invalid", c.rate, c.burst, err)
		}
	}
}
