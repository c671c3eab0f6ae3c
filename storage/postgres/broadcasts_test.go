package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// A draft is composed under step guards, started once with one recipient
// and outbox row per active linked chat of the segment (opted-out customers
// excluded), paused rows are held, and cancel drops the rows not sent.
func TestBroadcastLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db
	now := time.Date(2025, 12, 1, 10, 0, 0, 0, vn)
	for _, l := range []flows.Link{
		{ChatID: 1001, UserID: 1, CustomerID: s.an.ID, Lang: "vi"},
		{ChatID: 1002, UserID: 2, CustomerID: s.an.ID, Lang: "en"}, // An's second chat
		{ChatID: 2001, UserID: 3, CustomerID: s.anhDuong.ID},
	} {
		if err := db.LinkChat(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	count := func(seg flows.BroadcastSegment) int { return must(db.CountRecipients(ctx, seg, now))(t) }
	for _, c := range []struct {
		seg  flows.BroadcastSegment
		want int
	}{
		{flows.BroadcastSegment{Kind: flows.SegmentAll}, 3},
		{flows.BroadcastSegment{Kind: flows.SegmentType, Type: flows.Organization}, 1},
		{flows.BroadcastSegment{Kind: flows.SegmentExpiring, Days: 60}, 2}, // An's 5401A1, 2026-01-15
		{flows.BroadcastSegment{Kind: flows.SegmentExpiring, Days: 7}, 0},
		{flows.BroadcastSegment{Kind: flows.SegmentNever}, 3},
	} {
		if got := count(c.seg); got != c.want {
			t.Errorf("count %+v = %d, want %d", c.seg, got, c.want)
		}
	}
	if err := db.DeactivateLink(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE customers SET reminders_off = true WHERE id = $1`, s.anhDuong.ID); err != nil {
		t.Fatal(err)
	}
	if got := count(flows.BroadcastSegment{Kind: flows.SegmentAll}); got != 1 {
		t.Fatalf("after deactivation and opt-out: %d recipients, want 1", got)
	}

	d := must(db.NewBroadcastDraft(ctx, 9001, now))(t)
	if d.Status != flows.BroadcastDraft || d.Step != flows.BcAwaitText {
		t.Fatalf("new draft %+v", d)
	}
	d2 := must(db.NewBroadcastDraft(ctx, 9001, now))(t) // replaces the first
	_, err := db.Broadcast(ctx, d.ID)
	wantCode(t, err, flows.NotFound)
	d2.Text, d2.Step, d2.Segment = "Xin chào", flows.BcPreview, flows.BroadcastSegment{Kind: flows.SegmentAll}
	wantCode(t, db.SaveBroadcastDraft(ctx, d2, flows.BcAwaitSegment), flows.Conflict)
	if err := db.SaveBroadcastDraft(ctx, d2, flows.BcAwaitText); err != nil {
		t.Fatal(err)
	}
	b := must(db.StartBroadcast(ctx, d2.ID, now, now))(t)
	if b.Status != flows.BroadcastRunning || b.Total != 1 {
		t.Fatalf("started %+v", b)
	}
	_, err = db.StartBroadcast(ctx, d2.ID, now, now)
	wantCode(t, err, flows.Conflict)
	due := must(db.DueOutbox(ctx, now, 10))(t)
	if len(due) != 1 || due[0].Broadcast == nil || due[0].Broadcast.Text != "Xin chào" || due[0].ChatID != 1001 || due[0].Lang != "vi" {
		t.Fatalf("due outbox %+v", due)
	}

	must(db.PauseBroadcast(ctx, b.ID))(t)
	_, err = db.PauseBroadcast(ctx, b.ID)
	wantCode(t, err, flows.FailedPrecondition)
	if n := len(must(db.DueOutbox(ctx, now.Add(1000*time.Hour), 10))(t)); n != 0 {
		t.Fatalf("%d rows due while paused", n)
	}
	must(db.ResumeBroadcast(ctx, b.ID, now))(t)
	if n := len(must(db.DueOutbox(ctx, now, 10))(t)); n != 1 {
		t.Fatalf("%d rows due after resume, want 1", n)
	}
	c := must(db.CancelBroadcast(ctx, b.ID, now))(t)
	if c.Status != flows.BroadcastCancelled {
		t.Fatalf("cancelled %+v", c)
	}
	if n := len(must(db.DueOutbox(ctx, now, 10))(t)); n != 0 {
		t.Fatalf("%d rows due after cancel", n)
	}
	_, err = db.ResumeBroadcast(ctx, b.ID, now)
	wantCode(t, err, flows.FailedPrecondition)
	_, err = db.CancelBroadcast(ctx, 999999, now)
	wantCode(t, err, flows.NotFound)
}
