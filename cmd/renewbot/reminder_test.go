package main

import (
	"context"
	"strings"
	"time"

	"github.com/renewbot/renewbot/sandbox"
	"testing"
)

// A reminder sent by the scheduler opens the renewal at the package step for
// its certificate when "Renew now" is pressed, even after the conversation
// has moved on (its button never expires).
func TestReminderRenewNowOpensPackageStep(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	c.link("0912345678")
	ctx := context.Background()
	if _, err := w.app.sched.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	// Dispatch as the cron job does, the clock moving on (the app's own
	// dispatcher runs too and may postpone a row by the per-chat rate).
	var m sandbox.Message
	for i := 0; ; i++ {
		w.dispatch()
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		var err error
		m, err = c.u.WaitFor(ctx, func(m sandbox.Message) bool { return m.HasButton("Gia hạn ngay") })
		cancel()
		if err == nil {
			break
		}
		if i == 30 {
			t.Fatalf("no reminder: %v", err)
		}
		w.clock.Set(w.clock.Now().Add(2 * time.Second))
	}
	if !strings.Contains(m.Body(), serialAn) || !strings.Contains(m.Body(), "còn 20 ngày") {
		t.Fatalf("reminder does not name the certificate and its expiry: %q", m.Body())
	}
	// Move the conversation on: the reminder's button must still work.
	c.say("/lang")
	c.expect("Chọn ngôn ngữ")
	c.press(m, "Gia hạn ngay")
	c.expect("Bảng giá", serialAn)
	// Sweeping again sends nothing new: one reminder per tier.
	before := len(c.u.Messages())
	if _, err := w.app.sched.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.sched.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(c.u.Messages()); got != before {
		t.Fatalf("a second sweep sent %d more messages", got-before)
	}
}
