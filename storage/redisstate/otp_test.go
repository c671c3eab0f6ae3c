package redisstate_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

type check struct {
	Ok   bool
	Left int
	Code flows.Code
}

func checkOTP(t *testing.T, s interface {
	CheckOTP(context.Context, string, string, int) (bool, int, error)
}, key, hash string, max int) check {
	t.Helper()
	ok, left, err := s.CheckOTP(context.Background(), key, hash, max)
	return check{ok, left, flows.ErrorCode(err)}
}

func TestOTPWrongThenRight(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.IssueOTP(ctx, "link:1", "h-good", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	got := []check{
		checkOTP(t, s, "link:1", "h-bad", 3),
		checkOTP(t, s, "link:1", "h-bad", 3),
		checkOTP(t, s, "link:1", "h-good", 3),
		checkOTP(t, s, "link:1", "h-good", 3), // consumed
	}
	want := []check{{false, 2, ""}, {false, 1, ""}, {true, 1, ""}, {false, 0, flows.NotFound}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
}

func TestOTPLockoutAfterMaxAttempts(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.IssueOTP(ctx, "k", "h-good", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	got := []check{
		checkOTP(t, s, "k", "x", 3),
		checkOTP(t, s, "k", "y", 3),
		checkOTP(t, s, "k", "z", 3),
		checkOTP(t, s, "k", "h-good", 3), // too late: the code is gone
	}
	want := []check{{false, 2, ""}, {false, 1, ""}, {false, 0, ""}, {false, 0, flows.NotFound}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	// A new code (no cooldown here) starts a fresh count.
	if _, err := s.IssueOTP(ctx, "k", "h-new", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if got := checkOTP(t, s, "k", "h-new", 3); got != (check{true, 3, ""}) {
		t.Errorf("check of the new code = %+v", got)
	}
}

func TestOTPStoresOnlyTheHash(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.IssueOTP(ctx, "k", "sha256:abc", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	fields, err := s.OTPFields(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"h": "sha256:abc", "a": "0"}, fields); diff != "" {
		t.Errorf("stored fields (-want +got):\n%s", diff)
	}
}

func TestOTPNeverIssued(t *testing.T) {
	s := redistest.New(t)
	if got := checkOTP(t, s, "nobody", "h", 3); got != (check{false, 0, flows.NotFound}) {
		t.Errorf("check = %+v, want NotFound", got)
	}
}

func TestOTPCooldown(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if wait, err := s.IssueOTP(ctx, "k", "h1", time.Minute, 200*time.Millisecond); err != nil || wait != 0 {
		t.Fatalf("first issue = %v, %v", wait, err)
	}
	wait, err := s.IssueOTP(ctx, "k", "h2", time.Minute, 200*time.Millisecond)
	if !flows.IsCode(err, flows.FailedPrecondition) || wait <= 0 || wait > 200*time.Millisecond {
		t.Fatalf("resend in cooldown = %v, %v; want (0, 200ms], FailedPrecondition", wait, err)
	}
	// The refused resend did not replace the code.
	if got := checkOTP(t, s, "k", "h2", 3); got.Ok {
		t.Error("refused resend replaced the code")
	}
	waitGone(t, func() bool {
		_, err := s.IssueOTP(ctx, "k", "h3", time.Minute, 200*time.Millisecond)
		return err == nil
	})
	if got := checkOTP(t, s, "k", "h3", 3); got != (check{true, 3, ""}) {
		t.Errorf("check after resend = %+v", got)
	}
}

func TestOTPExpires(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.IssueOTP(ctx, "k", "h", 30*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	waitGone(t, func() bool {
		_, _, err := s.CheckOTP(ctx, "k", "wrong", 100)
		return flows.IsCode(err, flows.NotFound)
	})
	if got := checkOTP(t, s, "k", "h", 100); got.Code != flows.NotFound {
		t.Errorf("check of an expired code = %+v, want NotFound", got)
	}
}

func TestOTPConcurrentWrongGuessesNeverExceedMax(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	const max, guessers = 5, 40
	for round := range 10 {
		key := "race:" + strings.Repeat("x", round)
		if _, err := s.IssueOTP(ctx, key, "h-good", time.Minute, 0); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		counted, notFound := 0, 0
		var wg sync.WaitGroup
		for range guessers {
			wg.Go(func() {
				ok, _, err := s.CheckOTP(ctx, key, "h-bad", max)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case ok:
					t.Error("a wrong guess succeeded")
				case err == nil:
					counted++
				case flows.IsCode(err, flows.NotFound):
					notFound++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if counted != max || notFound != guessers-max {
			t.Errorf("round %d: %d guesses counted, %d refused; want %d and %d", round, counted, notFound, max, guessers-max)
		}
		if got := checkOTP(t, s, key, "h-good", max); got.Code != flows.NotFound {
			t.Errorf("round %d: correct code after lockout = %+v, want NotFound", round, got)
		}
	}
}

func TestOTPCorrectConsumedOnceUnderRace(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.IssueOTP(ctx, "k", "h", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, _, err := s.CheckOTP(ctx, "k", "h", 3)
			if err != nil && !flows.IsCode(err, flows.NotFound) {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("correct code accepted %d times, want 1", wins)
	}
}

func TestOTPInvalidArguments(t *testing.T) {
	s := redistest.New(t)
	ctx := context.Background()
	if _, err := s.IssueOTP(ctx, "k", "", time.Minute, 0); !flows.IsCode(err, flows.Invalid) {
		t.Errorf("empty hash: err = %v, want Invalid", err)
	}
	if _, err := s.IssueOTP(ctx, "k", "h", 0, 0); !flows.IsCode(err, flows.Invalid) {
		t.Errorf("ttl 0: err = %v, want Invalid", err)
	}
	if _, _, err := s.CheckOTP(ctx, "k", "h", 0); !flows.IsCode(err, flows.Invalid) {
		t.Errorf("maxAttempts 0: err = %v, want Invalid", err)
	}
}
