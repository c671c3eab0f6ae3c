package flows

import (
	"fmt"
	"time"
)

// CertType is the kind of certificate (CTS) a customer holds.
type CertType string

const (
	Individual     CertType = "individual"      // CTS cá nhân
	Organization   CertType = "organization"    // CTS tổ chức
	MemberManager  CertType = "member_manager"  // CTS cá nhân thuộc tổ chức (Quản lý)
	MemberEmployee CertType = "member_employee" // CTS cá nhân thuộc tổ chức (Nhân viên)
)

// CertTypes lists every valid CertType in display order.
var CertTypes = []CertType{Individual, Organization, MemberManager, MemberEmployee}

// ParseCertType rejects anything but the four known types.
func ParseCertType(s string) (CertType, error) {
	for _, t := range CertTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", Errorf(Invalid, "unknown certificate type %q", s)
}

// IsMember reports whether the certificate is a person's certificate issued
// under an organization (manager or employee): such renewals always go the
// seed's case 2 way.
func (t CertType) IsMember() bool { return t == MemberManager || t == MemberEmployee }

// Customer is a subscriber of the certificate authority.
type Customer struct {
	ID       int64
	Code     string // the provider's customer code (CSV key)
	Name     string
	Phone    string // normalized, see NormalizePhone
	Email    string
	IDNumber string // CCCD/CMND of a person
	TaxCode  string // MST of an organization or household
	Address  string
	SalesRep string // NVKD, free text (name and contact)
	// RemindersOff is the customer's opt-out from expiry reminders.
	RemindersOff bool
}

// Link ties a Telegram private chat to a customer.
type Link struct {
	CustomerID int64
	ChatID     int64
	UserID     int64
	Lang       string
	Active     bool // false after Telegram answered 403 (blocked the bot)
}

// Certificate is a remote-signing certificate (chứng thư số).
type Certificate struct {
	ID         int64
	CustomerID int64
	Serial     string
	Type       CertType
	Subject    string
	NotBefore  time.Time
	NotAfter   time.Time
}

// DaysLeft is the number of calendar days from now until NotAfter in loc
// (negative once expired, 0 on the expiry day).
func (c Certificate) DaysLeft(now time.Time, loc *time.Location) int {
	return calendarDays(now.In(loc), c.NotAfter.In(loc))
}

// Expired reports whether the certificate is no longer valid at now.
func (c Certificate) Expired(now time.Time) bool { return !now.Before(c.NotAfter) }

func calendarDays(from, to time.Time) int {
	a := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// Package is one line of the price list (gói sản phẩm) for a certificate type.
type Package struct {
	ID       int64
	Code     string
	CertType CertType
	Name     string
	Months   int   // validity bought
	PriceVND int64 // VAT included
	Active   bool
}

// PromoKind separates discount codes from referral codes (mã giảm giá / mã giới thiệu).
type PromoKind string

const (
	PromoDiscount PromoKind = "discount"
	PromoReferral PromoKind = "referral"
)

// PromoCode is a discount or referral code.
type PromoCode struct {
	ID           int64
	Code         string // stored upper-case
	Kind         PromoKind
	PercentOff   int   // 0..100; exclusive with AmountOffVND
	AmountOffVND int64 // fixed amount off
	ValidFrom    time.Time
	ValidUntil   time.Time  // exclusive
	MaxUses      int        // 0 = unlimited
	PerCustomer  int        // uses allowed per customer, 0 = unlimited
	Used         int        // redemptions so far
	CertTypes    []CertType // empty = every type
	PackageCodes []string   // empty = every package
}

// Money formats VND the Vietnamese way: 1.250.000 ₫.
func Money(vnd int64) string {
	neg := vnd < 0
	if neg {
		vnd = -vnd
	}
	s := fmt.Sprintf("%d", vnd)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out) + " ₫"
	}
	return string(out) + " ₫"
}
