package redisstate_test

import (
	"context"
	"testing"
	"time"

	"github.com/renewbot/renewbot/storage/redisstate"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

func TestMarkUpdate(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()

	first, err := s.MarkUpdate(ctx, 1, 100, 0)
	if err != nil || !first {
		t.Fatalf("first MarkUpdate = %v, %v; want true, nil", first, err)
	}
	if ttl, err := s.UpdatePTTL(ctx, 1, 100); err != nil || ttl <= 24*time.Hour || ttl > redisstate.DefaultUpdateTTL {
		t.Errorf("default TTL = %v, %v; want in (24h, %v]", ttl, err, redisstate.DefaultUpdateTTL)
	}
	first, err = s.MarkUpdate(ctx, 1, 100, 0)
	if err != nil || first {
		t.Errorf("second MarkUpdate = %v, %v; want false, nil", first, err)
	}
	// Another bot's update with the same id is a different update.
	if first, err := s.MarkUpdate(ctx, 2, 100, 0); err != nil || !first {
		t.Errorf("MarkUpdate of bot 2 = %v, %v; want true, nil", first, err)
	}
	// Handling failed: forget it, and the redelivery is handled again.
	if err := s.ForgetUpdate(ctx, 1, 100); err != nil {
		t.Fatal(err)
	}
	if first, err := s.MarkUpdate(ctx, 1, 100, 0); err != nil || !first {
		t.Errorf("MarkUpdate after ForgetUpdate = %v, %v; want true, nil", first, err)
	}
}

func TestMarkUpdateExpires(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if first, err := s.MarkUpdate(ctx, 1, 7, 20*time.Millisecond); err != nil || !first {
		t.Fatalf("MarkUpdate = %v, %v", first, err)
	}
	waitGone(t, func() bool {
		first, err := s.MarkUpdate(ctx, 1, 7, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return first
	})
}
