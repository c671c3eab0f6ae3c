package flowtest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
)

// These tests pin the fakes to the port contracts of flows/ports.go, so that
// the room tests of flows keep meaning what storage/ does.

var ctx = context.Background()

func wantCode(t *testing.T, what string, err error, code flows.Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if !flows.IsCode(err, code) {
		t.Fatalf("%s: error %v, want code %s", what, err, code)
	}
}

func TestSessionsCompareAndSet(t *testing.T) {
	w := Empty()
	s := w.Sessions
	_, err := s.LoadSession(ctx, 1)
	wantCode(t, "load missing", err, flows.NotFound)

	_, err = s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateIdle, Version: 3})
	wantCode(t, "save v3 over nothing", err, flows.Conflict)
	_, err = s.SaveSession(ctx, flows.Session{ChatID: 1, State: "nowhere"})
	wantCode(t, "unknown state", err, flows.Invalid)
	_, err = s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateIdle, Back: []flows.State{"nowhere"}})
	wantCode(t, "unknown back state", err, flows.Invalid)
	_, err = s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateIdle, Version: -1})
	wantCode(t, "negative version", err, flows.Invalid)

	v1, err := s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateIdle, Back: []flows.State{flows.StateNew}})
	wantCode(t, "first save", err, "")
	if v1.Version != 1 || v1.Schema != flows.SessionSchema || !v1.UpdatedAt.Equal(Start) {
		t.Errorf("first save = %+v", v1)
	}
	_, err = s.SaveSession(ctx, flows.Session{ChatID: 1, State: flows.StateIdle})
	wantCode(t, "version 0 over an existing session", err, flows.Conflict)

	v2, err := s.SaveSession(ctx, v1)
	wantCode(t, "save v1", err, "")
	_, err = s.SaveSession(ctx, v1)
	wantCode(t, "save v1 again (lost update)", err, flows.Conflict)
	got, err := s.LoadSession(ctx, 1)
	wantCode(t, "load", err, "")
	if diff := cmp.Diff(v2, got); diff != "" {
		t.Errorf("stored session differs from what save returned (-saved +loaded):\n%s", diff)
	}
	// What is returned does not alias what is stored.
	v2.Back[0] = flows.StateIdle
	if got, _ := s.LoadSession(ctx, 1); got.Back[0] != flows.StateNew {
		t.Error("a caller's change leaked into the store")
	}
	wantCode(t, "delete", s.DeleteSession(ctx, 1), "")
	_, err = s.LoadSession(ctx, 1)
	wantCode(t, "load deleted", err, flows.NotFound)
}

func TestOrdersContract(t *testing.T) {
	w := New()
	o := w.Draft(t, CertIndividual, PkgInd1Y)
	if o.ID == 0 || o.Ref != "HD000001" || o.Version != 1 || o.Status != flows.OrderDraft || !o.CreatedAt.Equal(Start) {
		t.Fatalf("created %+v", o)
	}
	_, err := w.Orders.CreateOrder(ctx, flows.Order{CustomerID: Customer, CertificateID: CertIndividual, PackageID: PkgInd1Y, PriceVND: 1, TotalVND: 1})
	wantCode(t, "second open order of a certificate", err, flows.Conflict)
	_, err = w.Orders.CreateOrder(ctx, flows.Order{CustomerID: Customer, CertificateID: CertOrg, Status: flows.OrderPaid})
	wantCode(t, "create non-draft", err, flows.Invalid)
	_, err = w.Orders.CreateOrder(ctx, flows.Order{CustomerID: Customer, CertificateID: CertOrg, PriceVND: 10, DiscountVND: 1, TotalVND: 10})
	wantCode(t, "prices that do not add up", err, flows.Invalid)
	open, err := w.Orders.OpenOrder(ctx, CertIndividual)
	wantCode(t, "open order", err, "")
	if open.ID != o.ID {
		t.Errorf("open order %d, want %d", open.ID, o.ID)
	}
	_, err = w.Orders.OpenOrder(ctx, CertOrg)
	wantCode(t, "no open order", err, flows.NotFound)
	_, err = w.Orders.Order(ctx, 999)
	wantCode(t, "missing order", err, flows.NotFound)
	byRef, err := w.Orders.OrderByRef(ctx, " hd000001 ")
	wantCode(t, "order by ref, any case", err, "")
	if byRef.ID != o.ID {
		t.Errorf("by ref: %d", byRef.ID)
	}

	// UpdateDraft: version check, then drafts only.
	o.DiscountVND, o.TotalVND = 50_000, PriceInd1Y-50_000
	o2, err := w.Orders.UpdateDraft(ctx, o)
	wantCode(t, "update draft", err, "")
	if o2.Version != 2 || o2.TotalVND != PriceInd1Y-50_000 {
		t.Errorf("updated %+v", o2)
	}
	_, err = w.Orders.UpdateDraft(ctx, o)
	wantCode(t, "update with a stale version", err, flows.Conflict)
	o2.Status = flows.OrderPaid // UpdateDraft never changes the status
	o3, err := w.Orders.UpdateDraft(ctx, o2)
	wantCode(t, "update draft again", err, "")
	if o3.Status != flows.OrderDraft {
		t.Errorf("UpdateDraft changed the status to %s", o3.Status)
	}
	_, err = w.Orders.UpdateDraft(ctx, flows.Order{ID: 999})
	wantCode(t, "update missing", err, flows.NotFound)

	_, err = w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderPaid, flows.OrderSubmitted)
	wantCode(t, "status from the wrong status", err, flows.Conflict)
	aw, err := w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderDraft, flows.OrderAwaitingPayment)
	wantCode(t, "draft -> awaiting", err, "")
	if aw.Version != o3.Version+1 {
		t.Errorf("version %d after a status change, want %d", aw.Version, o3.Version+1)
	}
	_, err = w.Orders.UpdateDraft(ctx, aw)
	wantCode(t, "update a non-draft (current version)", err, flows.FailedPrecondition)
	_, err = w.Orders.UpdateDraft(ctx, o)
	wantCode(t, "update a non-draft (stale version)", err, flows.FailedPrecondition)
	latest, err := w.Orders.LatestOrderOf(ctx, Customer)
	wantCode(t, "latest", err, "")
	if latest.ID != o.ID {
		t.Errorf("latest %d", latest.ID)
	}
	_, err = w.Orders.LatestOrderOf(ctx, OtherCust)
	wantCode(t, "latest of a customer without confirmed orders", err, flows.NotFound)

	// Cancelled, the certificate can get a new order; the old one cannot reopen.
	_, err = w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderAwaitingPayment, flows.OrderCancelled)
	wantCode(t, "cancel", err, "")
	n := w.Draft(t, CertIndividual, PkgInd2Y)
	_, err = w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderCancelled, flows.OrderDraft)
	wantCode(t, "reopen beside a new open order", err, flows.Conflict)
	_, err = w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderCancelled, "lost")
	wantCode(t, "unknown status", err, flows.Invalid)
	all, _ := w.Orders.OrdersOf(ctx, Customer)
	if len(all) != 2 || all[0].ID != n.ID {
		t.Errorf("OrdersOf: %d orders, first %d; want the newest (%d) first", len(all), all[0].ID, n.ID)
	}
}

func TestRecordPayment(t *testing.T) {
	w := New()
	o := w.Draft(t, CertIndividual, PkgInd1Y)
	o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 1, CodeSave10, 50_000, 450_000
	o, _ = w.Orders.UpdateDraft(ctx, o)

	_, _, err := w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", AmountVND: 1})
	wantCode(t, "no transaction id", err, flows.Invalid)
	_, _, err = w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "t0", AmountVND: 0})
	wantCode(t, "zero amount", err, flows.Invalid)

	// A draft cannot be paid: unmatched, zero order.
	p, po, err := w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "t1", OrderRef: o.Ref, AmountVND: 450_000})
	wantCode(t, "pay a draft", err, "")
	if p.Status != flows.PaymentUnmatched || p.OrderID != 0 || po.ID != 0 {
		t.Errorf("paying a draft: %s, order %d", p.Status, po.ID)
	}
	if _, err := w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderDraft, flows.OrderAwaitingPayment); err != nil {
		t.Fatal(err)
	}
	p, po, _ = w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "t2", OrderRef: "hd000001", AmountVND: 449_999})
	if p.Status != flows.PaymentUnderpaid || p.OrderID != o.ID || po.Status != flows.OrderAwaitingPayment {
		t.Errorf("short payment: %s, order %d %s", p.Status, p.OrderID, po.Status)
	}
	p, po, _ = w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "t3", OrderRef: o.Ref, AmountVND: 450_000})
	if p.Status != flows.PaymentMatched || po.Status != flows.OrderPaid || po.PaidAt.IsZero() {
		t.Errorf("full payment: %s, order %s", p.Status, po.Status)
	}
	if got := w.Catalog.Promo(1).Used; got != 1 {
		t.Errorf("SAVE10 used %d times, want 1", got)
	}
	if n, _ := w.Catalog.PromoUsesBy(ctx, 1, Customer); n != 1 {
		t.Errorf("PromoUsesBy = %d, want 1", n)
	}
	// The same transaction again: the first payment, flagged, nothing changes.
	d, dorder, err := w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "t3", OrderRef: o.Ref, AmountVND: 999_999})
	wantCode(t, "repeat", err, "")
	if d.Status != flows.PaymentDuplicate || d.ID != p.ID || d.AmountVND != 450_000 || dorder.ID != o.ID {
		t.Errorf("repeat = %+v, order %d", d, dorder.ID)
	}
	if got := w.Catalog.Promo(1).Used; got != 1 || len(w.Orders.Payments()) != 3 {
		t.Errorf("a repeat changed things: used %d, %d payments", got, len(w.Orders.Payments()))
	}
	// Same transaction id from another provider is another payment.
	if p, _, _ := w.Orders.RecordPayment(ctx, flows.Payment{Provider: "staff", TransactionID: "t3", OrderRef: o.Ref, AmountVND: 1}); p.Status != flows.PaymentUnmatched {
		t.Errorf("another provider's t3 on a paid order: %s", p.Status)
	}
}

func TestRecordPaymentPromoLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		code flows.PromoCode
		prev int // the customer's earlier paid uses
		want flows.PaymentStatus
	}{
		{"room left", flows.PromoCode{MaxUses: 2, PerCustomer: 2}, 1, flows.PaymentMatched},
		{"MaxUses reached meanwhile", flows.PromoCode{MaxUses: 1}, 1, flows.PaymentUnderpaid},
		{"PerCustomer reached meanwhile", flows.PromoCode{PerCustomer: 1}, 1, flows.PaymentUnderpaid},
		{"unlimited", flows.PromoCode{}, 5, flows.PaymentMatched},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New()
			tc.code.ID, tc.code.Code, tc.code.PercentOff = 50, "LIMITED", 10
			w.Catalog.PutPromo(tc.code)
			for range tc.prev {
				w.Catalog.AddRedemption(50, Customer)
			}
			o := w.Draft(t, CertIndividual, PkgInd1Y)
			o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 50, "LIMITED", 50_000, 450_000
			o, _ = w.Orders.UpdateDraft(ctx, o)
			w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderDraft, flows.OrderAwaitingPayment)
			before := w.Catalog.Promo(50).Used
			p, po, err := w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "x", OrderID: o.ID, AmountVND: 450_000})
			wantCode(t, "pay", err, "")
			if p.Status != tc.want {
				t.Fatalf("status %s, want %s", p.Status, tc.want)
			}
			used := w.Catalog.Promo(50).Used
			if tc.want == flows.PaymentMatched && (used != before+1 || po.Status != flows.OrderPaid) {
				t.Errorf("matched but used %d -> %d, order %s", before, used, po.Status)
			}
			if tc.want == flows.PaymentUnderpaid && (used != before || po.Status != flows.OrderAwaitingPayment || p.OrderID != o.ID) {
				t.Errorf("refused redemption but used %d -> %d, order %s", before, used, po.Status)
			}
		})
	}
}

func TestDossierContract(t *testing.T) {
	w := New()
	o := w.OrderIn(t, CertIndividual, PkgInd1Y, flows.OrderAwaitingPayment)
	_, err := w.Orders.Dossier(ctx, o.ID)
	wantCode(t, "no dossier yet", err, flows.NotFound)
	_, err = w.Orders.SaveDossier(ctx, flows.Dossier{OrderID: 999})
	wantCode(t, "dossier of a missing order", err, flows.NotFound)
	_, err = w.Orders.SaveDossier(ctx, flows.Dossier{OrderID: o.ID, Method: "fax"})
	wantCode(t, "unknown method", err, flows.Invalid)
	d, err := w.Orders.SaveDossier(ctx, flows.Dossier{OrderID: o.ID, Method: flows.SignHand})
	wantCode(t, "save", err, "")
	if d.Status != flows.DossierCollecting {
		t.Errorf("empty status saved as %q", d.Status)
	}
	_, err = w.Orders.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: "video"}, nil)
	wantCode(t, "unknown kind", err, flows.Invalid)
	_, err = w.Orders.AddDossierFile(ctx, flows.DossierFile{DossierID: 999, Kind: "photo"}, JPEG)
	wantCode(t, "missing dossier", err, flows.NotFound)
	_, err = w.Orders.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: "pdf"}, make([]byte, MaxFileSize+1))
	wantCode(t, "over 20 MB", err, flows.Invalid)
	f, err := w.Orders.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: "photo", Size: 1}, JPEG)
	wantCode(t, "add", err, "")
	if f.Size != int64(len(JPEG)) || len(f.SHA256) != 64 {
		t.Errorf("file %+v: size and hash must come from the content", f)
	}
	if b, ok := w.Orders.FileContent(f.ID); !ok || string(b) != string(JPEG) {
		t.Error("file bytes not kept")
	}
	// Saving the dossier again keeps its id and files.
	d2, _ := w.Orders.SaveDossier(ctx, flows.Dossier{OrderID: o.ID, Method: flows.SignDigital})
	if d2.ID != d.ID || len(d2.Files) != 1 {
		t.Errorf("resave: id %d (was %d), %d files", d2.ID, d.ID, len(d2.Files))
	}
	_, err = w.Orders.SubmitDossier(ctx, o.ID, Start)
	wantCode(t, "submit an unpaid order", err, flows.FailedPrecondition)
	paid, _ := w.Orders.SetOrderStatus(ctx, o.ID, flows.OrderAwaitingPayment, flows.OrderPaid)
	noDossier := w.OrderIn(t, CertOrg, PkgOrg1Y, flows.OrderPaid)
	_, err = w.Orders.SubmitDossier(ctx, noDossier.ID, Start)
	wantCode(t, "submit without a dossier", err, flows.FailedPrecondition)
	sub, err := w.Orders.SubmitDossier(ctx, paid.ID, Start)
	wantCode(t, "submit", err, "")
	got, _ := w.Orders.Dossier(ctx, o.ID)
	if sub.Status != flows.OrderSubmitted || got.Status != flows.DossierSubmitted || !got.SubmittedAt.Equal(Start) {
		t.Errorf("after submit: order %s, dossier %s at %v", sub.Status, got.Status, got.SubmittedAt)
	}
	_, err = w.Orders.SubmitDossier(ctx, 999, Start)
	wantCode(t, "submit a missing order", err, flows.NotFound)
}

func TestOTPContract(t *testing.T) {
	w := Empty()
	s := w.OTPs
	if _, _, err := s.CheckOTP(ctx, "k", "h", 3); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("never issued: %v", err)
	}
	if _, err := s.IssueOTP(ctx, "k", "h1", time.Minute, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(10 * time.Second)
	wait, err := s.IssueOTP(ctx, "k", "h2", time.Minute, 30*time.Second)
	if !flows.IsCode(err, flows.FailedPrecondition) || wait != 20*time.Second {
		t.Errorf("within cooldown: wait %v, %v", wait, err)
	}
	ok, left, err := s.CheckOTP(ctx, "k", "bad", 3)
	if ok || left != 2 || err != nil {
		t.Errorf("wrong guess: %v %d %v", ok, left, err)
	}
	ok, left, err = s.CheckOTP(ctx, "k", "h1", 3)
	if !ok || err != nil {
		t.Errorf("right code: %v %d %v", ok, left, err)
	}
	if _, _, err := s.CheckOTP(ctx, "k", "h1", 3); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("a code works once: %v", err)
	}
	// Used up by wrong guesses.
	w.Clock.Advance(time.Minute)
	s.IssueOTP(ctx, "k", "h3", time.Minute, 0)
	s.CheckOTP(ctx, "k", "x", 2)
	if ok, left, err := s.CheckOTP(ctx, "k", "x", 2); ok || left != 0 || err != nil {
		t.Errorf("last wrong guess: %v %d %v", ok, left, err)
	}
	if _, _, err := s.CheckOTP(ctx, "k", "h3", 2); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("after the attempts ran out: %v", err)
	}
	// Expired.
	s.IssueOTP(ctx, "k", "h4", time.Minute, 0)
	w.Clock.Advance(time.Minute)
	if _, _, err := s.CheckOTP(ctx, "k", "h4", 2); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("expired: %v", err)
	}
}

func TestCustomersFilesAudit(t *testing.T) {
	w := New()
	if _, err := w.Customers.CustomerByPhone(ctx, "0900000000"); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("unknown phone: %v", err)
	}
	if err := w.Customers.LinkChat(ctx, flows.Link{CustomerID: 999, ChatID: 5}); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("link to a missing customer: %v", err)
	}
	if err := w.Customers.SetLinkLang(ctx, 5, "en"); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("lang of an unlinked chat: %v", err)
	}
	w.Customers.LinkChat(ctx, flows.Link{CustomerID: Customer, ChatID: 7, UserID: 7})
	if l, _ := w.Customers.LinkByCustomer(ctx, Customer); l.ChatID != 7 {
		t.Errorf("LinkByCustomer = chat %d, want the most recent (7)", l.ChatID)
	}
	w.Customers.DeactivateLink(ctx, 7)
	if _, err := w.Customers.LinkByChat(ctx, 7); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("deactivated link: %v", err)
	}
	if l, _ := w.Customers.LinkByCustomer(ctx, Customer); l.ChatID != ChatID {
		t.Errorf("LinkByCustomer after deactivation = chat %d", l.ChatID)
	}
	certs, _ := w.Certificates.CertificatesOf(ctx, Customer)
	if len(certs) != 5 || certs[0].ID != CertExpired || certs[4].ID != CertEmployee {
		t.Errorf("CertificatesOf not soonest expiry first: %v", certs)
	}
	pkgs, _ := w.Catalog.Packages(ctx, flows.Individual)
	if len(pkgs) != 2 || pkgs[0].ID != PkgInd1Y {
		t.Errorf("Packages: %v (active only, shortest first)", pkgs)
	}
	if p, err := w.Catalog.PromoByCode(ctx, " save10"); err != nil || p.ID != 1 {
		t.Errorf("PromoByCode is case-insensitive: %v %v", p, err)
	}

	w.Files.Put("f", []byte("12345"))
	if _, err := w.Files.Download(ctx, "f", 4); !flows.IsCode(err, flows.Invalid) {
		t.Errorf("over max: %v", err)
	}
	if _, err := w.Files.Download(ctx, "nope", 4); !flows.IsCode(err, flows.NotFound) {
		t.Errorf("unknown file: %v", err)
	}
	if b, err := w.Files.Download(ctx, "f", 5); err != nil || string(b) != "12345" {
		t.Errorf("download: %q %v", b, err)
	}
}
