package flows

import (
	"strings"
	"testing"
	"time"
)

func vnLoc(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The carry-over arithmetic at its edges: new not_after = max(old not_after,
// time of issue) + months, days counted on Vietnamese calendar dates.
func TestNewExpiryAndCarriedDays(t *testing.T) {
	loc := vnLoc(t)
	vn := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	cases := []struct {
		name      string
		notAfter  time.Time
		issuedAt  time.Time
		months    int
		wantExp   time.Time
		wantCarry int
	}{
		{"day before expiry carries one day",
			vn(2026, 12, 16, 23, 59), vn(2026, 12, 15, 10, 0), 12, vn(2027, 12, 16, 23, 59), 1},
		{"on the expiry day, still valid: nothing to carry but the hours",
			vn(2026, 12, 16, 23, 59), vn(2026, 12, 16, 9, 0), 12, vn(2027, 12, 16, 23, 59), 0},
		{"at the exact expiry instant",
			vn(2026, 12, 16, 0, 0), vn(2026, 12, 16, 0, 0), 12, vn(2027, 12, 16, 0, 0), 0},
		{"an hour after expiry: base is the issue time",
			vn(2026, 12, 16, 0, 0), vn(2026, 12, 16, 1, 0), 12, vn(2027, 12, 16, 1, 0), 0},
		{"long after expiry: base is the issue time",
			vn(2025, 3, 1, 0, 0), vn(2026, 11, 26, 10, 0), 24, vn(2028, 11, 26, 10, 0), 0},
		{"20 days left (the demo's case 1)",
			vn(2026, 12, 16, 0, 0), vn(2026, 11, 26, 10, 0), 12, vn(2027, 12, 16, 0, 0), 20},
		{"29 February + 12 months is 28 February",
			vn(2028, 2, 29, 12, 0), vn(2028, 1, 10, 9, 0), 12, vn(2029, 2, 28, 12, 0), 50},
		{"29 February + 48 months is 29 February again",
			vn(2028, 2, 29, 12, 0), vn(2028, 2, 1, 9, 0), 48, vn(2032, 2, 29, 12, 0), 28},
		{"issued on 29 February after expiry",
			vn(2028, 1, 1, 0, 0), vn(2028, 2, 29, 15, 0), 12, vn(2029, 2, 28, 15, 0), 0},
		{"31 January + 1 month, common year",
			vn(2027, 1, 31, 8, 0), vn(2027, 1, 30, 8, 0), 1, vn(2027, 2, 28, 8, 0), 1},
		{"31 January + 1 month, leap year",
			vn(2028, 1, 31, 8, 0), vn(2028, 1, 30, 8, 0), 1, vn(2028, 2, 29, 8, 0), 1},
		{"36 months",
			vn(2026, 12, 16, 23, 59), vn(2026, 11, 26, 10, 0), 36, vn(2029, 12, 16, 23, 59), 20},
		{"31 March + 36 months stays 31 March",
			vn(2026, 3, 31, 0, 0), vn(2026, 3, 1, 0, 0), 36, vn(2029, 3, 31, 0, 0), 30},
		{"31 October + 1 month is 30 November",
			vn(2026, 10, 31, 0, 0), vn(2026, 10, 1, 0, 0), 1, vn(2026, 11, 30, 0, 0), 30},
		// Across the date line of Asia/Ho_Chi_Minh: 23:30 on 31/12 is 16:30 UTC
		// the same day; 00:10 on 01/01 is still 31/12 in UTC. Days follow
		// Vietnamese dates.
		{"issued 23:30 +07 on New Year's Eve",
			vn(2027, 1, 2, 0, 10), vn(2026, 12, 31, 23, 30), 12, vn(2028, 1, 2, 0, 10), 2},
		{"issued 00:10 +07 on New Year's Day (31/12 in UTC)",
			vn(2027, 1, 3, 23, 0), vn(2027, 1, 1, 0, 10), 12, vn(2028, 1, 3, 23, 0), 2},
		{"expiry 00:10 +07 (the previous day in UTC)",
			vn(2027, 1, 1, 0, 10), vn(2026, 12, 31, 8, 0), 12, vn(2028, 1, 1, 0, 10), 1},
		{"expired, issued 00:10 +07 on 31 January (30 January in UTC)",
			vn(2027, 1, 1, 0, 0), vn(2027, 1, 31, 0, 10), 1, vn(2027, 2, 28, 0, 10), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The inputs arrive in UTC (as from the database): the result
			// must not depend on the location they carry.
			for _, in := range []*time.Location{loc, time.UTC} {
				na, at := tc.notAfter.In(in), tc.issuedAt.In(in)
				got := NewExpiry(na, at, tc.months, loc)
				if !got.Equal(tc.wantExp) {
					t.Errorf("NewExpiry(%s, %s, %d) in %s = %s, want %s", na, at, tc.months, in, got.In(loc), tc.wantExp)
				}
				if got.Location() != loc {
					t.Errorf("NewExpiry location = %s, want %s", got.Location(), loc)
				}
				if d := CarriedDays(na, at, loc); d != tc.wantCarry {
					t.Errorf("CarriedDays(%s, %s) in %s = %d, want %d", na, at, in, d, tc.wantCarry)
				}
			}
		})
	}
}

func TestCarriedDaysUTCWouldDiffer(t *testing.T) {
	// Guard that the date-line cases above really discriminate: counted on
	// UTC dates they would give other numbers.
	loc := vnLoc(t)
	issued := time.Date(2027, 1, 1, 0, 10, 0, 0, loc)   // 2026-12-31 17:10 UTC
	notAfter := time.Date(2027, 1, 3, 23, 0, 0, 0, loc) // 2027-01-03 16:00 UTC
	if vn, utc := CarriedDays(notAfter, issued, loc), CarriedDays(notAfter, issued, time.UTC); vn != 2 || utc != 3 {
		t.Fatalf("CarriedDays vn=%d utc=%d, want 2 and 3", vn, utc)
	}
}

func TestAddMonths(t *testing.T) {
	loc := vnLoc(t)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 13, 45, 7, 9, loc) }
	cases := []struct {
		in     time.Time
		months int
		want   time.Time
	}{
		{d(2027, 1, 31), 1, d(2027, 2, 28)},
		{d(2028, 1, 31), 1, d(2028, 2, 29)},
		{d(2028, 2, 29), 12, d(2029, 2, 28)},
		{d(2028, 2, 29), 24, d(2030, 2, 28)},
		{d(2028, 2, 29), 48, d(2032, 2, 29)},
		{d(2026, 12, 31), 1, d(2027, 1, 31)},
		{d(2026, 12, 31), 2, d(2027, 2, 28)},
		{d(2026, 8, 31), 1, d(2026, 9, 30)},
		{d(2026, 5, 15), 36, d(2029, 5, 15)},
		{d(2026, 5, 15), 0, d(2026, 5, 15)},
		{d(2026, 11, 30), 3, d(2027, 2, 28)},
	}
	for _, tc := range cases {
		if got := AddMonths(tc.in, tc.months); !got.Equal(tc.want) || got.Location() != loc {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tc.in, tc.months, got, tc.want)
		}
	}
}

func TestCheckPromo(t *testing.T) {
	loc := vnLoc(t)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, loc)
	ind1 := Package{ID: 1, Code: "CN1", CertType: Individual, Name: "CN 1 năm", Months: 12, PriceVND: 1_250_000, Active: true}
	base := PromoCode{ID: 7, Code: "X", Kind: PromoDiscount, PercentOff: 10,
		ValidFrom: now.AddDate(0, 0, -30), ValidUntil: now.AddDate(0, 0, 30), MaxUses: 100, PerCustomer: 1}
	with := func(f func(*PromoCode)) PromoCode { p := base; f(&p); return p }
	cases := []struct {
		name         string
		p            PromoCode
		pkg          Package
		at           time.Time
		uses         int
		wantDiscount int64
		wantReason   string
	}{
		{"valid percent", base, ind1, now, 0, 125_000, ""},
		{"not started", with(func(p *PromoCode) { p.ValidFrom = now.Add(time.Second) }), ind1, now, 0, 0, "err_code_not_started"},
		{"starts exactly now", with(func(p *PromoCode) { p.ValidFrom = now }), ind1, now, 0, 125_000, ""},
		{"expired at exactly ValidUntil", with(func(p *PromoCode) { p.ValidUntil = now }), ind1, now, 0, 0, "err_code_expired"},
		{"a nanosecond before ValidUntil", with(func(p *PromoCode) { p.ValidUntil = now.Add(time.Nanosecond) }), ind1, now, 0, 125_000, ""},
		{"long expired", with(func(p *PromoCode) { p.ValidUntil = now.AddDate(0, 0, -1) }), ind1, now, 0, 0, "err_code_expired"},
		{"exhausted", with(func(p *PromoCode) { p.MaxUses, p.Used = 5, 5 }), ind1, now, 0, 0, "err_code_exhausted"},
		{"one use left", with(func(p *PromoCode) { p.MaxUses, p.Used = 5, 4 }), ind1, now, 0, 125_000, ""},
		{"unlimited uses", with(func(p *PromoCode) { p.MaxUses, p.Used = 0, 10_000 }), ind1, now, 0, 125_000, ""},
		{"used by this customer", base, ind1, now, 1, 0, "err_code_used"},
		{"per customer 2, used once", with(func(p *PromoCode) { p.PerCustomer = 2 }), ind1, now, 1, 125_000, ""},
		{"per customer unlimited", with(func(p *PromoCode) { p.PerCustomer = 0 }), ind1, now, 9, 125_000, ""},
		{"not for this cert type", with(func(p *PromoCode) { p.CertTypes = []CertType{Organization} }), ind1, now, 0, 0, "err_code_not_applicable"},
		{"for this cert type", with(func(p *PromoCode) { p.CertTypes = []CertType{Organization, Individual} }), ind1, now, 0, 125_000, ""},
		{"not for this package", with(func(p *PromoCode) { p.PackageCodes = []string{"CN3", "TC3"} }), ind1, now, 0, 0, "err_code_not_applicable"},
		{"for this package", with(func(p *PromoCode) { p.PackageCodes = []string{"CN1"} }), ind1, now, 0, 125_000, ""},
		{"percent rounds down", with(func(p *PromoCode) { p.PercentOff = 15 }), Package{Code: "P", CertType: Individual, PriceVND: 999_999}, now, 0, 149_999, ""},
		{"percent of a small price rounds down to zero", with(func(p *PromoCode) { p.PercentOff = 10 }), Package{Code: "P", CertType: Individual, PriceVND: 9}, now, 0, 0, ""},
		{"100 percent", with(func(p *PromoCode) { p.PercentOff = 100 }), ind1, now, 0, 1_250_000, ""},
		{"fixed amount", with(func(p *PromoCode) { p.PercentOff, p.AmountOffVND = 0, 200_000 }), ind1, now, 0, 200_000, ""},
		{"fixed amount capped at the price", with(func(p *PromoCode) { p.PercentOff, p.AmountOffVND = 0, 2_000_000 }), ind1, now, 0, 1_250_000, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, reason := CheckPromo(tc.p, tc.pkg, tc.at, tc.uses)
			if d != tc.wantDiscount || reason != tc.wantReason {
				t.Fatalf("CheckPromo = %d %q, want %d %q", d, reason, tc.wantDiscount, tc.wantReason)
			}
			if d < 0 || d > tc.pkg.PriceVND {
				t.Fatalf("discount %d outside [0, %d]", d, tc.pkg.PriceVND)
			}
		})
	}
}

func TestNormalizeCode(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"GIAM10", "GIAM10", true},
		{"giam10", "GIAM10", true},
		{"  GioiThieu \n", "GIOITHIEU", true},
		{"CODE-2026_A", "CODE-2026_A", true},
		{strings.Repeat("A", maxCodeLen), strings.Repeat("A", maxCodeLen), true},
		{strings.Repeat("A", maxCodeLen+1), "", false},
		{"giảm giá cho tôi với nhé bạn ơi, mã dài quá", "", false},
		{"", "", false},
		{"   ", "", false},
		{"GIAM 10", "", false},
		{"GIAM\t10", "", false},
		{"GIẢM10", "", false}, // Vietnamese letters are not in codes
		{"ĐÔNG", "", false},   // đ
		{"ГИАМ10", "", false}, // Cyrillic
		{"GІAM10", "", false}, // Cyrillic І that looks like I
		{"ＧＩＡＭ１０", "", false}, // full-width
		{"GIAM10!", "", false},
		{"GIAM.10", "", false},
		{"สวัสดี", "", false},
	}
	for _, tc := range cases {
		got, ok := NormalizeCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeCode(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"0912345678", "0912345678", true},
		{"+84 912 345 678", "0912345678", true},
		{"+84912345678", "0912345678", true},
		{"84912345678", "0912345678", true},
		{"0912.345.678", "0912345678", true},
		{"0912 345 678", "0912345678", true},
		{"0912-345-678", "0912345678", true},
		{"(+84) 987 654 321", "", false}, // '+' only first
		{"912345678", "0912345678", true},
		{"0387654321", "0387654321", true},
		{"0703111222", "0703111222", true},
		{"0845123456", "0845123456", true},
		{"0562345678", "0562345678", true},
		{" 0903111222 ", "0903111222", true},
		{"024 3826 1234", "", false}, // Hà Nội landline, 11 digits
		{"0243826123", "", false},    // landline-ish prefix 02
		{"0112345678", "", false},
		{"+84 24 3826 1234", "", false},
		{"091234567", "", false},          // 9 digits with a leading 0
		{"09123456789", "", false},        // 11 digits
		{"849123456", "0849123456", true}, // 9 digits: 084 9123456, not +84
		{"849123456789", "", false},
		{"+1 415 555 0100", "", false},
		{"0912+345678", "", false},
		{"0912345678a", "", false},
		{"", "", false},
		{"không có", "", false},
	}
	for _, tc := range cases {
		got, ok := NormalizePhone(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("NormalizePhone(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if msg := CheckPhone(tc.in); (msg == "") != tc.ok {
			t.Errorf("CheckPhone(%q) = %q", tc.in, msg)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	good := []string{"an.nguyen@example.vn", "binh+renew@cong-ty.com.vn", " chau@example.vn "}
	bad := []string{"", "an", "an@", "@example.vn", "an@localhost", "an@@example.vn", "An <an@example.vn>",
		"an nguyen@example.vn", "an@example..vn", strings.Repeat("a", 250) + "@example.vn"}
	for _, s := range good {
		if msg := CheckEmail(s); msg != "" {
			t.Errorf("CheckEmail(%q) = %q, want ok", s, msg)
		}
	}
	for _, s := range bad {
		if msg := CheckEmail(s); msg != "err_email" {
			t.Errorf("CheckEmail(%q) = %q, want err_email", s, msg)
		}
	}
}

func TestNormalizeTaxCode(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"0101234567", "0101234567", true},
		{" 0101234567 ", "0101234567", true},
		{"0101234567001", "0101234567-001", true},
		{"0101234567-001", "0101234567-001", true},
		{"010123456-7001", "", false},  // dash in the wrong place
		{"01012345670-01", "", false},  // dash in the wrong place
		{"0101234567-00-1", "", false}, // two dashes
		{"0101234567-01", "", false},   // 12 digits
		{"010123456", "", false},       // 9 digits
		{"01012345678", "", false},     // 11 digits
		{"01012345670012", "", false},  // 14 digits
		{"0101 234 567", "", false},
		{"01012345a7", "", false},
		{"12345", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := NormalizeTaxCode(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("NormalizeTaxCode(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if msg := CheckTaxCode(tc.in); (msg == "") != tc.ok {
			t.Errorf("CheckTaxCode(%q) = %q", tc.in, msg)
		}
	}
}

func TestCheckIDNumber(t *testing.T) {
	for s, want := range map[string]string{
		"001085012345":    "",
		" 079190001234 ":  "",
		"123456789":       "", // old CMND
		"12345678":        "err_id_number",
		"0010850123":      "err_id_number",
		"0010850123456":   "err_id_number",
		"00108501234a":    "err_id_number",
		"001 085 012 345": "err_id_number",
		"":                "err_id_number",
	} {
		if got := CheckIDNumber(s); got != want {
			t.Errorf("CheckIDNumber(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestCheckText(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"Nguyễn Văn An", 120, ""},
		{"12 Trần Hưng Đạo, Hoàn Kiếm, Hà Nội", 250, ""},
		{"Công ty TNHH Một thành viên Đầu tư & Phát triển (An Phát) - số 1/2", 250, ""},
		{strings.Repeat("ệ", 120), 120, ""}, // runes, not bytes
		{strings.Repeat("ệ", 121), 120, "err_too_long"},
		{strings.Repeat("a", 251), 250, "err_too_long"},
		{"", 120, "err_required"},
		{"  \t ", 120, "err_required"},
		{"สวัสดี", 250, "err_script"},
		{"12 ถนน Sukhumvit", 250, "err_script"},
		{"你好", 120, "err_script"},
		{"Nguyễn 安", 120, "err_script"},
		{"Иван Петров", 120, "err_script"},
		{"An\x00", 120, "err_script"},
		{"An\u0007Binh", 120, "err_script"},
	}
	for _, tc := range cases {
		if got := CheckText(tc.in, tc.max); got != tc.want {
			t.Errorf("CheckText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
