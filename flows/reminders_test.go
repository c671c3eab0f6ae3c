package flows

import (
	"testing"
	"time"
)

func TestTierNames(t *testing.T) {
	for _, tier := range []Tier{30, 1, 0, -3, -14} {
		got, err := ParseTier(tier.String())
		if err != nil || got != tier {
			t.Errorf("ParseTier(%q) = %v, %v", tier.String(), got, err)
		}
	}
	if _, err := ParseTier("soon"); err == nil {
		t.Error("ParseTier accepted nonsense")
	}
	ts, err := ParseTiers("1, 30,-3,0,30")
	if err != nil || len(ts) != 4 || ts[0] != 30 || ts[3] != -3 {
		t.Errorf("ParseTiers = %v, %v", ts, err)
	}
}

func TestReminderPolicy(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	p, err := DefaultReminderPolicy(loc).Check()
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, loc) }
	na := at(15, 17, 0)
	tests := []struct {
		name    string
		now     time.Time
		claimed []Tier
		want    Tier
		ok      bool
	}{
		{"31 days before: nothing", at(12, 9, 0).AddDate(0, -1, 0), nil, 0, false},
		{"30 days before, 07:59: not yet", time.Date(2026, 2, 13, 7, 59, 0, 0, loc), nil, 0, false},
		{"30 days before, 08:00", time.Date(2026, 2, 13, 8, 0, 0, 0, loc), nil, 30, true},
		{"missed 30, 14, 7: only 3", at(13, 10, 0), nil, 3, true},
		{"3 claimed already", at(13, 10, 0), []Tier{3}, 0, false},
		{"a more urgent tier was pulled forward", at(13, 10, 0), []Tier{1}, 0, false},
		{"expiry day", at(15, 8, 0), []Tier{1}, 0, true},
		{"14 after, late but within a week", at(31, 12, 0), nil, -14, true},
		{"14 after, more than a week late", time.Date(2026, 4, 6, 12, 0, 0, 0, loc), nil, 0, false},
	}
	for _, tc := range tests {
		got, ok := p.Due(na, tc.claimed, tc.now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Due = %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if !p.Quiet(at(1, 21, 0)) || !p.Quiet(at(1, 7, 59)) || p.Quiet(at(1, 8, 0)) || p.Quiet(at(1, 20, 59)) {
		t.Error("quiet hours are not 21:00-08:00")
	}
	if got := p.AfterQuiet(at(1, 22, 30)); !got.Equal(at(2, 8, 0)) {
		t.Errorf("AfterQuiet(22:30) = %v", got)
	}
	if got := p.AfterQuiet(at(2, 3, 0)); !got.Equal(at(2, 8, 0)) {
		t.Errorf("AfterQuiet(03:00) = %v", got)
	}
	if m, tier, ok := p.Next(na, at(13, 10, 0)); !ok || tier != 1 || !m.Equal(at(14, 8, 0)) {
		t.Errorf("Next = %v %v %v", m, tier, ok)
	}
}

func TestPlanGroupsAndSkips(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	p, _ := DefaultReminderPolicy(loc).Check()
	now := time.Date(2026, 3, 8, 9, 0, 0, 0, loc)
	na := time.Date(2026, 3, 15, 17, 0, 0, 0, loc)
	cert := func(id, cust int64, na time.Time) Certificate {
		return Certificate{ID: id, CustomerID: cust, NotAfter: na, Serial: "S", Type: Individual}
	}
	plan := p.Plan([]ReminderCandidate{
		{Certificate: cert(1, 1, na), Due: true, ChatID: 10, Claimed: []Tier{30, 14}},
		{Certificate: cert(2, 1, na.AddDate(0, 0, 2)), ChatID: 10, Claimed: []Tier{30, 14}},
		{Certificate: cert(3, 2, na), Due: true, RemindersOff: true},
		{Certificate: cert(4, 3, na), Due: true},
	}, now)
	if len(plan.Messages) != 1 || len(plan.Messages[0].Items) != 2 {
		t.Fatalf("messages %+v", plan.Messages)
	}
	want := map[int64]string{1: "claimed", 2: "claimed", 3: "skipped/opted_out", 4: "undeliverable/not_linked"}
	for _, d := range plan.Decisions {
		got := string(d.Status)
		if d.Reason != "" {
			got += "/" + d.Reason
		}
		if got != want[d.CertificateID] || d.Tier != 7 || !d.NextAt.After(now) {
			t.Errorf("decision %+v, want %s at tier 7", d, want[d.CertificateID])
		}
	}
	if quiet := p.Plan([]ReminderCandidate{{Certificate: cert(1, 1, na), Due: true, ChatID: 10}}, now.Add(13*time.Hour)); len(quiet.Messages) != 0 || quiet.Decisions[0].Claim {
		t.Errorf("claimed during quiet hours: %+v", quiet)
	}
}
