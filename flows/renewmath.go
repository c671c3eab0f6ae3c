package flows

import (
	"strings"
	"time"
)

// NewExpiry is the end of the renewed period. Early renewal keeps the
// remaining validity: max(old not_after, time of issue) + the package's
// months, counted in the provider's time zone; a day that does not exist in
// the target month (31st, 29 February) becomes that month's last day.
func NewExpiry(oldNotAfter, issuedAt time.Time, months int, loc *time.Location) time.Time {
	base := oldNotAfter
	if issuedAt.After(base) {
		base = issuedAt
	}
	return AddMonths(base.In(loc), months)
}

// CarriedDays is how many days of the old period move to the new one.
func CarriedDays(oldNotAfter, issuedAt time.Time, loc *time.Location) int {
	if !oldNotAfter.After(issuedAt) {
		return 0
	}
	return calendarDays(issuedAt.In(loc), oldNotAfter.In(loc))
}

// AddMonths adds months to t in t's location, clamping the day of month.
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// maxCodeLen bounds discount and referral codes.
const maxCodeLen = 32

// NormalizeCode upper-cases a typed code; ok is false for something that
// cannot be a code (too long, spaces, other scripts).
func NormalizeCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" || len(s) > maxCodeLen {
		return "", false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", false
		}
	}
	return s, true
}

// CheckPromo decides whether a code applies to a package for a customer who
// has already used it uses times, and how much it takes off. The reason is a
// catalogue id when it does not apply.
func CheckPromo(p PromoCode, pkg Package, now time.Time, uses int) (discount int64, reason string) {
	switch {
	case now.Before(p.ValidFrom):
		return 0, "err_code_not_started"
	case !p.ValidUntil.IsZero() && !now.Before(p.ValidUntil):
		return 0, "err_code_expired"
	case p.MaxUses > 0 && p.Used >= p.MaxUses:
		return 0, "err_code_exhausted"
	case p.PerCustomer > 0 && uses >= p.PerCustomer:
		return 0, "err_code_used"
	}
	if len(p.CertTypes) > 0 && !contains(p.CertTypes, pkg.CertType) {
		return 0, "err_code_not_applicable"
	}
	if len(p.PackageCodes) > 0 && !contains(p.PackageCodes, pkg.Code) {
		return 0, "err_code_not_applicable"
	}
	if p.PercentOff > 0 {
		discount = pkg.PriceVND * int64(p.PercentOff) / 100
	} else {
		discount = min(p.AmountOffVND, pkg.PriceVND)
	}
	return discount, ""
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
