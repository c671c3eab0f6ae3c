package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
)

func TestCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	want := flows.Customer{
		ID: s.an.ID, Code: "KH001", Name: "Nguyễn Văn An", Phone: "0912345678",
		Email: "an@example.vn", IDNumber: "012345678901",
		Address: "12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội", SalesRep: "Trần Thị Bích",
	}
	if diff := cmp.Diff(want, s.an); diff != "" {
		t.Errorf("CustomerByPhone (-want +got):\n%s", diff)
	}
	got := must(db.Customer(ctx, s.an.ID))(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Customer (-want +got):\n%s", diff)
	}
	if s.anhDuong.TaxCode != "0101234567" || s.anhDuong.Phone != "0987654321" {
		t.Errorf("organization customer = %+v", s.anhDuong)
	}

	_, err := db.CustomerByPhone(ctx, "0900000000")
	wantCode(t, err, flows.NotFound)
	_, err = db.Customer(ctx, 999999)
	wantCode(t, err, flows.NotFound)
}

func TestLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	_, err := db.LinkByChat(ctx, 1001)
	wantCode(t, err, flows.NotFound)
	_, err = db.LinkByCustomer(ctx, s.an.ID)
	wantCode(t, err, flows.NotFound)
	wantCode(t, db.SetLinkLang(ctx, 1001, "en"), flows.NotFound)
	wantCode(t, db.LinkChat(ctx, flows.Link{ChatID: 1001, UserID: 11, CustomerID: 999999, Lang: "vi"}), flows.NotFound)
	wantCode(t, db.LinkChat(ctx, flows.Link{ChatID: 0, CustomerID: s.an.ID}), flows.Invalid)

	if err := db.LinkChat(ctx, flows.Link{ChatID: 1001, UserID: 11, CustomerID: s.an.ID, Lang: "vi"}); err != nil {
		t.Fatal(err)
	}
	link := must(db.LinkByChat(ctx, 1001))(t)
	want := flows.Link{CustomerID: s.an.ID, ChatID: 1001, UserID: 11, Lang: "vi", Active: true}
	if diff := cmp.Diff(want, link); diff != "" {
		t.Errorf("LinkByChat (-want +got):\n%s", diff)
	}

	if err := db.SetLinkLang(ctx, 1001, "en"); err != nil {
		t.Fatal(err)
	}
	want.Lang = "en"
	if diff := cmp.Diff(want, must(db.LinkByCustomer(ctx, s.an.ID))(t)); diff != "" {
		t.Errorf("LinkByCustomer after SetLinkLang (-want +got):\n%s", diff)
	}

	// A second chat of the same customer, linked later, is the one LinkByCustomer picks.
	time.Sleep(2 * time.Millisecond)
	if err := db.LinkChat(ctx, flows.Link{ChatID: 1002, UserID: 12, CustomerID: s.an.ID}); err != nil {
		t.Fatal(err)
	}
	if got := must(db.LinkByCustomer(ctx, s.an.ID))(t); got.ChatID != 1002 {
		t.Errorf("LinkByCustomer chat = %d, want 1002", got.ChatID)
	}

	// Blocked: not found any more, until re-linked; re-linking keeps the language.
	if err := db.DeactivateLink(ctx, 1001); err != nil {
		t.Fatal(err)
	}
	if err := db.DeactivateLink(ctx, 424242); err != nil {
		t.Fatalf("DeactivateLink of an unknown chat: %v", err)
	}
	_, err = db.LinkByChat(ctx, 1001)
	wantCode(t, err, flows.NotFound)
	wantCode(t, db.SetLinkLang(ctx, 1001, "vi"), flows.NotFound)
	if err := db.LinkChat(ctx, flows.Link{ChatID: 1001, UserID: 11, CustomerID: s.anhDuong.ID}); err != nil {
		t.Fatal(err)
	}
	want = flows.Link{CustomerID: s.anhDuong.ID, ChatID: 1001, UserID: 11, Lang: "en", Active: true}
	if diff := cmp.Diff(want, must(db.LinkByChat(ctx, 1001))(t)); diff != "" {
		t.Errorf("re-linked (-want +got):\n%s", diff)
	}
}

func TestCertificates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	got := must(db.CertificatesOf(ctx, s.anhDuong.ID))(t)
	want := []flows.Certificate{
		{ID: s.orgCert.ID, CustomerID: s.anhDuong.ID, Serial: "5401B2", Type: flows.Organization,
			Subject:   "Công ty TNHH Ánh Dương",
			NotBefore: time.Date(2024, 6, 1, 0, 0, 0, 0, vn), NotAfter: time.Date(2025, 6, 1, 0, 0, 0, 0, vn)},
		{ID: s.memberCert.ID, CustomerID: s.anhDuong.ID, Serial: "5401C3", Type: flows.MemberEmployee,
			Subject:   "Phạm Thị Dung",
			NotBefore: time.Date(2024, 6, 1, 8, 0, 0, 0, vn), NotAfter: time.Date(2026, 6, 1, 8, 0, 0, 0, vn)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CertificatesOf, soonest expiry first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1], must(db.Certificate(ctx, s.memberCert.ID))(t)); diff != "" {
		t.Errorf("Certificate (-want +got):\n%s", diff)
	}
	_, err := db.Certificate(ctx, 999999)
	wantCode(t, err, flows.NotFound)
	if none := must(db.CertificatesOf(ctx, 999999))(t); len(none) != 0 {
		t.Errorf("CertificatesOf(unknown) = %v, want none", none)
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	var codes []string
	for _, p := range must(db.Packages(ctx, flows.Individual))(t) {
		codes = append(codes, p.Code)
	}
	if diff := cmp.Diff([]string{"IND-1Y", "IND-2Y"}, codes); diff != "" {
		t.Errorf("active individual packages, shortest first (-want +got):\n%s", diff)
	}
	want := flows.Package{ID: s.ind1Y.ID, Code: "IND-1Y", CertType: flows.Individual, Name: "Cá nhân 1 năm", Months: 12, PriceVND: 1250000, Active: true}
	if diff := cmp.Diff(want, must(db.Package(ctx, s.ind1Y.ID))(t)); diff != "" {
		t.Errorf("Package (-want +got):\n%s", diff)
	}
	if got := must(db.Packages(ctx, flows.MemberManager))(t); len(got) != 0 {
		t.Errorf("member_manager packages = %v, want none", got)
	}
	_, err := db.Package(ctx, 999999)
	wantCode(t, err, flows.NotFound)

	wantPromo := flows.PromoCode{
		ID: s.giam10.ID, Code: "GIAM10", Kind: flows.PromoDiscount, PercentOff: 10,
		ValidFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, vn), ValidUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, vn),
		MaxUses: 100, PerCustomer: 1, CertTypes: []flows.CertType{flows.Individual, flows.Organization},
	}
	if diff := cmp.Diff(wantPromo, must(db.PromoByCode(ctx, " giam10 "))(t)); diff != "" {
		t.Errorf("PromoByCode (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"IND-1Y", "IND-2Y"}, s.gioiThieu.PackageCodes); diff != "" {
		t.Errorf("referral package codes (-want +got):\n%s", diff)
	}
	if s.gioiThieu.Kind != flows.PromoReferral || s.gioiThieu.AmountOffVND != 200000 || s.gioiThieu.CertTypes != nil {
		t.Errorf("referral code = %+v", s.gioiThieu)
	}
	_, err = db.PromoByCode(ctx, "NOPE")
	wantCode(t, err, flows.NotFound)

	if n := must(db.PromoUsesBy(ctx, s.giam10.ID, s.an.ID))(t); n != 0 {
		t.Errorf("PromoUsesBy before any payment = %d", n)
	}
	o := awaiting(t, db, draft(s.an, s.anCert, s.ind1Y, &s.giam10))
	pay, _ := must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "T1", OrderRef: o.Ref, AmountVND: o.TotalVND}))(t)
	if pay.Status != flows.PaymentMatched {
		t.Fatalf("payment status = %s", pay.Status)
	}
	if n := must(db.PromoUsesBy(ctx, s.giam10.ID, s.an.ID))(t); n != 1 {
		t.Errorf("PromoUsesBy after a paid order = %d, want 1", n)
	}
	if n := must(db.PromoUsesBy(ctx, s.giam10.ID, s.anhDuong.ID))(t); n != 0 {
		t.Errorf("PromoUsesBy of another customer = %d, want 0", n)
	}
}

// must2 is must for two results.
func must2[A, B any](a A, b B, err error) func(t testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}
