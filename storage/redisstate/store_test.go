package redisstate_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/redisstate"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

func TestOpen(t *testing.T) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test`")
	}
	ctx := context.Background()
	s, err := redisstate.Open(ctx, url, "test:open:")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := redisstate.Open(ctx, "http://user:secret@x", "p:"); !flows.IsCode(err, flows.Invalid) || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(bad URL): err = %v, want Invalid without the password", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := redisstate.Open(short, "redis://127.0.0.1:1/0", "p:"); err == nil {
		t.Error("Open of a closed port succeeded")
	}
}

func TestKeysStayUnderPrefix(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateNew}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkUpdate(ctx, 1, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.LockChat(ctx, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx)
	if _, err := s.AcquireLeader(ctx, "l", "me", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueOTP(ctx, "k", "h", time.Minute, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Allow(ctx, "r", 1, 1); err != nil {
		t.Fatal(err)
	}
	// Every write above made exactly one key; fewer under the prefix would
	// mean one escaped it.
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 7 {
		t.Errorf("keys under prefix: %v, want 7", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, s.Prefix()) {
			t.Errorf("key %q outside prefix %q", k, s.Prefix())
		}
	}
}
