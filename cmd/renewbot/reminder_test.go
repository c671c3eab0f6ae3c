package main

import (
	"context"
	"strings"
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
	if _, err := w.app.sched.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	m := c.expectButton("Gia hạn ngay")
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
