package redisstate_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/redisstate"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func TestSessionRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	s := redistest.New(t, redisstate.WithClock(fixedClock{now}))
	ctx := context.Background()

	if _, err := s.LoadSession(ctx, 42); !flows.IsCode(err, flows.NotFound) {
		t.Fatalf("LoadSession before save: err = %v, want NotFound", err)
	}

	in := flows.Session{
		ChatID: 42, UserID: 7, State: flows.StateAwaitContact, Lang: "vi",
		CustomerID: 3, CertificateID: 4, PackageID: 5, OrderID: 6,
		PendingCode: "TET2026", EditField: "invoice.tax_code",
		Back: []flows.State{flows.StateNew, flows.StateIdle},
	}
	saved, err := s.SaveSession(ctx, in)
	if err != nil {
		t.Fatalf("SaveSession: %v", err)
	}
	want := in
	want.Schema = flows.SessionSchema
	want.Version = 1
	want.UpdatedAt = now
	if diff := cmp.Diff(want, saved); diff != "" {
		t.Errorf("SaveSession returned (-want +got):\n%s", diff)
	}
	got, err := s.LoadSession(ctx, 42)
	if err != nil {
		t.Fatalf("LoadSession: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadSession (-want +got):\n%s", diff)
	}

	got.State = flows.StateIdle
	got.Back = nil
	saved2, err := s.SaveSession(ctx, got)
	if err != nil {
		t.Fatalf("second SaveSession: %v", err)
	}
	if saved2.Version != 2 {
		t.Errorf("version after second save = %d, want 2", saved2.Version)
	}

	if err := s.DeleteSession(ctx, 42); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, err := s.LoadSession(ctx, 42); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("LoadSession after delete: err = %v, want NotFound", err)
	}
	if err := s.DeleteSession(ctx, 42); err != nil {
		t.Errorf("DeleteSession of a missing session: %v", err)
	}
}

func TestSessionStaleVersionRejected(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()

	v1, err := s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateNew})
	if err != nil {
		t.Fatal(err)
	}
	// Version 0 means "must not exist": a second fresh session conflicts.
	if _, err := s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateIdle}); !flows.IsCode(err, flows.Conflict) {
		t.Errorf("save fresh over existing: err = %v, want Conflict", err)
	}
	if _, err := s.SaveSession(ctx, v1); err != nil {
		t.Fatalf("save v1: %v", err)
	}
	// v1 is now stale (stored is 2); so is a version from the future.
	for _, v := range []int64{1, 3} {
		stale := v1
		stale.Version = v
		stale.State = flows.StateIdle
		if _, err := s.SaveSession(ctx, stale); !flows.IsCode(err, flows.Conflict) {
			t.Errorf("save with version %d: err = %v, want Conflict", v, err)
		}
	}
	got, err := s.LoadSession(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.State != flows.StateNew {
		t.Errorf("stored = version %d state %q, want version 2 state new", got.Version, got.State)
	}
	// A missing session with a non-zero version conflicts too.
	if _, err := s.SaveSession(ctx, flows.Session{ChatID: 2, State: flows.StateNew, Version: 5}); !flows.IsCode(err, flows.Conflict) {
		t.Errorf("save version 5 of missing session: err = %v, want Conflict", err)
	}
}

func TestSessionSaveRejectsUnknownState(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	for _, in := range []flows.Session{
		{ChatID: 1, State: "nonsense"},
		{ChatID: 1, State: flows.StateIdle, Back: []flows.State{"nonsense"}},
		{ChatID: 1, State: flows.StateIdle, Version: -1},
	} {
		if _, err := s.SaveSession(ctx, in); !flows.IsCode(err, flows.Invalid) {
			t.Errorf("SaveSession(%+v): err = %v, want Invalid", in, err)
		}
	}
}

func TestSessionConcurrentSaveOneWins(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	for round := range 50 {
		chat := int64(1000 + round)
		base := flows.Session{ChatID: chat, State: flows.StateNew}
		if round%2 == 1 { // alternate between creating and updating
			var err error
			if base, err = s.SaveSession(ctx, base); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				next := base
				next.UserID = int64(i + 1)
				_, errs[i] = s.SaveSession(ctx, next)
			})
		}
		wg.Wait()
		won, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case flows.IsCode(err, flows.Conflict):
				conflicts++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if won != 1 || conflicts != 1 {
			t.Fatalf("round %d: %d saves won, %d conflicted; want exactly one each", round, won, conflicts)
		}
		got, err := s.LoadSession(ctx, chat)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != base.Version+1 {
			t.Errorf("round %d: stored version %d, want %d", round, got.Version, base.Version+1)
		}
	}
}

func TestSessionTTL(t *testing.T) {
	ctx := context.Background()
	t.Run("default 7 days", func(t *testing.T) {
		s := redistest.New(t)
		if _, err := s.SaveSession(ctx, flows.Session{ChatID: 9, State: flows.StateNew}); err != nil {
			t.Fatal(err)
		}
		ttl, err := s.SessionPTTL(ctx, 9)
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= redisstate.DefaultSessionTTL-time.Minute || ttl > redisstate.DefaultSessionTTL {
			t.Errorf("PTTL = %v, want about %v", ttl, redisstate.DefaultSessionTTL)
		}
	})
	t.Run("expires", func(t *testing.T) {
		s := redistest.New(t, redisstate.WithSessionTTL(30*time.Millisecond))
		if _, err := s.SaveSession(ctx, flows.Session{ChatID: 9, State: flows.StateNew}); err != nil {
			t.Fatal(err)
		}
		ttl, err := s.SessionPTTL(ctx, 9)
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > 30*time.Millisecond {
			t.Errorf("PTTL = %v, want in (0, 30ms]", ttl)
		}
		waitGone(t, func() bool {
			_, err := s.LoadSession(ctx, 9)
			return flows.IsCode(err, flows.NotFound)
		})
	})
}

func TestSessionUnreadableIsDiscarded(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	good, err := json.Marshal(flows.Session{Schema: flows.SessionSchema, ChatID: 5, State: flows.StateIdle, Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	newer, _ := json.Marshal(flows.Session{Schema: flows.SessionSchema + 1, ChatID: 5, State: flows.StateIdle, Version: 3})
	unknown, _ := json.Marshal(flows.Session{Schema: flows.SessionSchema, ChatID: 5, State: "from_the_future", Version: 3})
	for name, raw := range map[string]string{
		"not json":      "{{{",
		"newer schema":  string(newer),
		"unknown state": string(unknown),
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.PutRawSession(ctx, 5, raw); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LoadSession(ctx, 5); !flows.IsCode(err, flows.NotFound) {
				t.Fatalf("LoadSession: err = %v, want NotFound", err)
			}
			// The chat is not stuck: a fresh session can be saved.
			if _, err := s.SaveSession(ctx, flows.Session{ChatID: 5, State: flows.StateNew}); err != nil {
				t.Fatalf("SaveSession after discard: %v", err)
			}
			if err := s.DeleteSession(ctx, 5); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A readable document is of course kept.
	if err := s.PutRawSession(ctx, 5, string(good)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadSession(ctx, 5); err != nil || got.Version != 3 {
		t.Errorf("LoadSession(good) = version %d, %v; want 3, nil", got.Version, err)
	}
}

// waitGone polls cond until it holds, for TTL expiry checks with ms TTLs.
func waitGone(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition did not hold within 2s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
