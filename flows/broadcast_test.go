package flows

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The composition table: (step, input) -> (next step, segment, effect).
func TestNextBroadcastDraft(t *testing.T) {
	d := func(step BroadcastStep) Broadcast { return Broadcast{ID: 7, StaffID: 9001, Step: step, Text: "hi"} }
	tests := []struct {
		name    string
		from    Broadcast
		in      BcInput
		ok      bool
		refused string // MsgID
		step    BroadcastStep
		seg     BroadcastSegment
		eff     BcEffect
	}{
		{"text", Broadcast{Step: BcAwaitText}, BcInput{Input: InText, Text: " Ưu đãi "}, true, "", BcAwaitSegment, BroadcastSegment{}, BcSave},
		{"empty text", Broadcast{Step: BcAwaitText}, BcInput{Input: InText, Text: "  "}, true, "bc_err_text", BcAwaitText, BroadcastSegment{}, BcSave},
		{"button at text step", d(BcAwaitText), BcInput{Input: Btn("bcseg"), Args: []string{"all"}}, false, "", BcAwaitText, BroadcastSegment{}, BcSave},
		{"all", d(BcAwaitSegment), BcInput{Input: Btn("bcseg"), Args: []string{"all"}}, true, "", BcPreview, BroadcastSegment{Kind: SegmentAll}, BcSave},
		{"never", d(BcAwaitSegment), BcInput{Input: Btn("bcseg"), Args: []string{"never"}}, true, "", BcPreview, BroadcastSegment{Kind: SegmentNever}, BcSave},
		{"by type", d(BcAwaitSegment), BcInput{Input: Btn("bcseg"), Args: []string{"type"}}, true, "", BcAwaitType, BroadcastSegment{}, BcSave},
		{"expiring", d(BcAwaitSegment), BcInput{Input: Btn("bcseg"), Args: []string{"expiring"}}, true, "", BcAwaitDays, BroadcastSegment{}, BcSave},
		{"text at segment step", d(BcAwaitSegment), BcInput{Input: InText, Text: "x"}, false, "", BcAwaitSegment, BroadcastSegment{}, BcSave},
		{"type", d(BcAwaitType), BcInput{Input: Btn("bctype"), Args: []string{"organization"}}, true, "", BcPreview, BroadcastSegment{Kind: SegmentType, Type: Organization}, BcSave},
		{"30 days", d(BcAwaitDays), BcInput{Input: Btn("bcdays"), Args: []string{"30"}}, true, "", BcPreview, BroadcastSegment{Kind: SegmentExpiring, Days: 30}, BcSave},
		{"typed days", d(BcAwaitDays), BcInput{Input: InText, Text: "45"}, true, "", BcPreview, BroadcastSegment{Kind: SegmentExpiring, Days: 45}, BcSave},
		{"too many days", d(BcAwaitDays), BcInput{Input: InText, Text: "400"}, true, "bc_err_days", BcAwaitDays, BroadcastSegment{}, BcSave},
		{"confirm", Broadcast{ID: 7, Step: BcPreview, Text: "hi", Segment: BroadcastSegment{Kind: SegmentAll}}, BcInput{Input: Btn("bcsend")}, true, "", BcPreview, BroadcastSegment{Kind: SegmentAll}, BcStart},
		{"confirm at segment step", d(BcAwaitSegment), BcInput{Input: Btn("bcsend")}, false, "", BcAwaitSegment, BroadcastSegment{}, BcSave},
		{"cancel button", d(BcAwaitDays), BcInput{Input: Btn("bcabort")}, true, "", BcAwaitDays, BroadcastSegment{}, BcAbort},
		{"/cancel", d(BcAwaitText), BcInput{Input: Cmd("cancel")}, true, "", BcAwaitText, BroadcastSegment{}, BcAbort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, eff, ok, err := NextBroadcastDraft(tt.from, tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if tt.refused != "" {
				var fe *Error
				if err == nil || !asErr(err, &fe) || fe.MsgID != tt.refused {
					t.Fatalf("err = %v, want refusal %s", err, tt.refused)
				}
				if diff := cmp.Diff(tt.from, next); diff != "" {
					t.Fatalf("a refused input changed the draft: %s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if next.Step != tt.step || next.Segment != tt.seg || eff != tt.eff {
				t.Fatalf("got (%s, %+v, %v), want (%s, %+v, %v)", next.Step, next.Segment, eff, tt.step, tt.seg, tt.eff)
			}
		})
	}
}

func asErr(err error, fe **Error) bool {
	e, ok := err.(*Error)
	*fe = e
	return ok
}

// Progress is reported once per tenth crossed, the final report once.
func TestBroadcastReport(t *testing.T) {
	tests := []struct {
		b        Broadcast
		ok       bool
		id, key  string
		reported int
	}{
		{Broadcast{ID: 3, Status: BroadcastRunning, Total: 100, Sent: 5}, false, "", "", 0},
		{Broadcast{ID: 3, Status: BroadcastRunning, Total: 100, Sent: 25, Blocked: 2}, true, "bc_progress", "broadcast:3:progress:2", 2},
		{Broadcast{ID: 3, Status: BroadcastRunning, Total: 100, Sent: 29, Reported: 2}, false, "", "", 0},
		{Broadcast{ID: 3, Status: BroadcastPaused, Total: 100, Sent: 50, Reported: 2}, false, "", "", 0},
		{Broadcast{ID: 3, Status: BroadcastDone, Total: 2, Sent: 1, Blocked: 1, Reported: 0}, true, "bc_report", "broadcast:3:report", ReportedFinal},
		{Broadcast{ID: 3, Status: BroadcastDone, Total: 2, Sent: 2, Reported: ReportedFinal}, false, "", "", 0},
		{Broadcast{ID: 3, Status: BroadcastCancelled, Total: 2, Sent: 1}, false, "", "", 0},
	}
	for i, tt := range tests {
		r, key, reported, ok := tt.b.BroadcastReport()
		if ok != tt.ok || key != tt.key || reported != tt.reported || ok && r.Texts[0].ID != tt.id {
			t.Errorf("%d: got (%v, %q, %d, %v), want (%s, %q, %d, %v)", i, r.Texts, key, reported, ok, tt.id, tt.key, tt.reported, tt.ok)
		}
	}
}
