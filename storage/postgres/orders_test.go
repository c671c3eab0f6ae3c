package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/postgres"
)

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	in := draft(s.an, s.anCert, s.ind1Y, &s.giam10)
	o := must(db.CreateOrder(ctx, in))(t)
	if !regexp.MustCompile(`^HD\d{6}$`).MatchString(o.Ref) {
		t.Errorf("Ref = %q, want HD and six digits", o.Ref)
	}
	if o.ID == 0 || o.Version != 1 || o.Status != flows.OrderDraft || o.CreatedAt.IsZero() || !o.PaidAt.IsZero() {
		t.Errorf("created order = %+v", o)
	}
	want := in
	want.ID, want.Ref, want.Status, want.Version, want.CreatedAt = o.ID, o.Ref, flows.OrderDraft, 1, o.CreatedAt
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("CreateOrder (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(o, must(db.Order(ctx, o.ID))(t)); diff != "" {
		t.Errorf("Order (-created +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(o, must(db.OrderByRef(ctx, " "+toLower(o.Ref)))(t)); diff != "" {
		t.Errorf("OrderByRef (-created +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(o, must(db.OpenOrder(ctx, s.anCert.ID))(t)); diff != "" {
		t.Errorf("OpenOrder (-created +loaded):\n%s", diff)
	}

	// The open-order index: a second open order for the certificate is a Conflict.
	_, err := db.CreateOrder(ctx, draft(s.an, s.anCert, s.ind2Y, nil))
	wantCode(t, err, flows.Conflict)
	// ...but another certificate is fine, and refs differ.
	o2 := must(db.CreateOrder(ctx, draft(s.an, s.anCert2, s.ind2Y, nil)))(t)
	if o2.Ref == o.Ref {
		t.Errorf("two orders share ref %s", o.Ref)
	}
	// Once cancelled, the certificate may get a new order; reopening the old one then conflicts.
	must(db.SetOrderStatus(ctx, o.ID, flows.OrderDraft, flows.OrderCancelled))(t)
	_, err = db.OpenOrder(ctx, s.anCert.ID)
	wantCode(t, err, flows.NotFound)
	o3 := must(db.CreateOrder(ctx, draft(s.an, s.anCert, s.ind2Y, nil)))(t)
	_, err = db.SetOrderStatus(ctx, o.ID, flows.OrderCancelled, flows.OrderDraft)
	wantCode(t, err, flows.Conflict)
	if got := must(db.OpenOrder(ctx, s.anCert.ID))(t); got.ID != o3.ID {
		t.Errorf("OpenOrder = %d, want %d", got.ID, o3.ID)
	}

	// Bad input.
	for name, bad := range map[string]flows.Order{
		"certificate of another customer": draft(s.an, s.orgCert, s.ind1Y, nil),
		"unknown package":                 func() flows.Order { o := draft(s.anhDuong, s.orgCert, s.org1Y, nil); o.PackageID = 999999; return o }(),
		"unknown promo":                   func() flows.Order { o := draft(s.anhDuong, s.orgCert, s.org1Y, nil); o.PromoID = 999999; return o }(),
	} {
		if _, err := db.CreateOrder(ctx, bad); flows.ErrorCode(err) != flows.NotFound {
			t.Errorf("%s: code %q, want not_found (err %v)", name, flows.ErrorCode(err), err)
		}
	}
	bad := draft(s.anhDuong, s.memberCert, s.org1Y, nil)
	bad.TotalVND = 1
	_, err = db.CreateOrder(ctx, bad)
	wantCode(t, err, flows.Invalid)
	bad = draft(s.anhDuong, s.memberCert, s.org1Y, nil)
	bad.Status = flows.OrderPaid
	_, err = db.CreateOrder(ctx, bad)
	wantCode(t, err, flows.Invalid)
	_, err = db.CreateOrder(ctx, draft(s.anhDuong, flows.Certificate{ID: 999999}, s.org1Y, nil))
	wantCode(t, err, flows.NotFound)

	// Lookups of nothing.
	_, err = db.Order(ctx, 999999)
	wantCode(t, err, flows.NotFound)
	_, err = db.OrderByRef(ctx, "HD999999")
	wantCode(t, err, flows.NotFound)
	_, err = db.OpenOrder(ctx, s.orgCert.ID)
	wantCode(t, err, flows.NotFound)
}

func toLower(s string) string { return string(bytes.ToLower([]byte(s))) }

func TestUpdateDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	o := must(db.CreateOrder(ctx, draft(s.an, s.anCert, s.ind1Y, nil)))(t)
	edit := draft(s.an, s.anCert, s.ind2Y, &s.gioiThieu)
	edit.ID, edit.Version = o.ID, o.Version
	edit.Invoice.TaxCode = "0101234567-001"
	edit.Subject.FullName = "Nguyễn Văn Ân"
	got := must(db.UpdateDraft(ctx, edit))(t)
	want := edit
	want.Ref, want.Status, want.Version, want.CreatedAt = o.Ref, flows.OrderDraft, 2, o.CreatedAt
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateDraft (-want +got):\n%s", diff)
	}

	// A stale version (double tap) is a Conflict and changes nothing.
	stale := edit
	stale.PromoID, stale.PromoCode, stale.DiscountVND, stale.TotalVND = 0, "", 0, stale.PriceVND
	_, err := db.UpdateDraft(ctx, stale)
	wantCode(t, err, flows.Conflict)
	if diff := cmp.Diff(got, must(db.Order(ctx, o.ID))(t)); diff != "" {
		t.Errorf("order changed by a stale update (-want +got):\n%s", diff)
	}

	// Removing the promo with the current version works (promo_id back to NULL).
	stale.Version = got.Version
	got = must(db.UpdateDraft(ctx, stale))(t)
	if got.PromoID != 0 || got.PromoCode != "" || got.Version != 3 {
		t.Errorf("promo removed: %+v", got)
	}

	// Bad values: Invalid; unknown order: NotFound; not a draft: FailedPrecondition.
	badTotal := got
	badTotal.TotalVND = -5
	_, err = db.UpdateDraft(ctx, badTotal)
	wantCode(t, err, flows.Invalid)
	missing := got
	missing.ID = 999999
	_, err = db.UpdateDraft(ctx, missing)
	wantCode(t, err, flows.NotFound)
	confirmed := must(db.SetOrderStatus(ctx, o.ID, flows.OrderDraft, flows.OrderAwaitingPayment))(t)
	_, err = db.UpdateDraft(ctx, confirmed)
	wantCode(t, err, flows.FailedPrecondition)
	_, err = db.UpdateDraft(ctx, got) // old version and not a draft
	wantCode(t, err, flows.FailedPrecondition)
}

func TestSetOrderStatusAndHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	_, err := db.LatestOrderOf(ctx, s.an.ID)
	wantCode(t, err, flows.NotFound)

	first := must(db.CreateOrder(ctx, draft(s.an, s.anCert, s.ind1Y, nil)))(t)
	aw := must(db.SetOrderStatus(ctx, first.ID, flows.OrderDraft, flows.OrderAwaitingPayment))(t)
	if aw.Status != flows.OrderAwaitingPayment || aw.Version != first.Version+1 {
		t.Errorf("after SetOrderStatus: %+v", aw)
	}
	_, err = db.SetOrderStatus(ctx, first.ID, flows.OrderDraft, flows.OrderAwaitingPayment)
	wantCode(t, err, flows.Conflict)
	_, err = db.SetOrderStatus(ctx, 999999, flows.OrderDraft, flows.OrderAwaitingPayment)
	wantCode(t, err, flows.NotFound)
	_, err = db.SetOrderStatus(ctx, first.ID, flows.OrderAwaitingPayment, "shipped")
	wantCode(t, err, flows.Invalid)

	// A confirmed then cancelled order is still the source of inherited info;
	// a newer draft that was never confirmed is not.
	must(db.SetOrderStatus(ctx, first.ID, flows.OrderAwaitingPayment, flows.OrderCancelled))(t)
	second := must(db.CreateOrder(ctx, draft(s.an, s.anCert2, s.ind2Y, nil)))(t)
	if got := must(db.LatestOrderOf(ctx, s.an.ID))(t); got.ID != first.ID {
		t.Errorf("LatestOrderOf = %d, want the confirmed order %d", got.ID, first.ID)
	}
	must(db.SetOrderStatus(ctx, second.ID, flows.OrderDraft, flows.OrderAwaitingPayment))(t)
	if got := must(db.LatestOrderOf(ctx, s.an.ID))(t); got.ID != second.ID {
		t.Errorf("LatestOrderOf = %d, want %d", got.ID, second.ID)
	}
	paid := must(db.SetOrderStatus(ctx, second.ID, flows.OrderAwaitingPayment, flows.OrderPaid))(t)
	if paid.PaidAt.IsZero() {
		t.Errorf("a paid order has no PaidAt")
	}

	var ids []int64
	for _, o := range must(db.OrdersOf(ctx, s.an.ID))(t) {
		ids = append(ids, o.ID)
	}
	if diff := cmp.Diff([]int64{second.ID, first.ID}, ids); diff != "" {
		t.Errorf("OrdersOf, newest first (-want +got):\n%s", diff)
	}
	if got := must(db.OrdersOf(ctx, s.anhDuong.ID))(t); len(got) != 0 {
		t.Errorf("OrdersOf another customer = %v", got)
	}
}

func TestDossier(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	o := awaiting(t, db, draft(s.anhDuong, s.memberCert, s.org1Y, nil))
	_, err := db.Dossier(ctx, o.ID)
	wantCode(t, err, flows.NotFound)
	_, err = db.SaveDossier(ctx, flows.Dossier{OrderID: 999999})
	wantCode(t, err, flows.NotFound)
	_, err = db.SaveDossier(ctx, flows.Dossier{OrderID: o.ID, Method: "fax"})
	wantCode(t, err, flows.Invalid)

	d := must(db.SaveDossier(ctx, flows.Dossier{OrderID: o.ID, Method: flows.SignHand}))(t)
	if d.ID == 0 || d.Status != flows.DossierCollecting || d.Method != flows.SignHand || len(d.Files) != 0 {
		t.Errorf("new dossier = %+v", d)
	}

	photo := []byte("\xff\xd8\xff\xe0 a JPEG, honestly")
	f := must(db.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: "photo", FileName: "don-gia-han.jpg",
		MIME: "image/jpeg", TelegramFileID: "AgACAgIAAxkBAAI"}, photo))(t)
	sum := sha256.Sum256(photo)
	wantFile := flows.DossierFile{ID: f.ID, DossierID: d.ID, Kind: "photo", FileName: "don-gia-han.jpg",
		MIME: "image/jpeg", Size: int64(len(photo)), SHA256: hex.EncodeToString(sum[:]),
		TelegramFileID: "AgACAgIAAxkBAAI", CreatedAt: f.CreatedAt}
	if diff := cmp.Diff(wantFile, f); diff != "" {
		t.Errorf("AddDossierFile (-want +got):\n%s", diff)
	}
	meta, content := must2(db.DossierFileContent(ctx, f.ID))(t)
	if !bytes.Equal(content, photo) || meta.ID != f.ID {
		t.Errorf("DossierFileContent = %+v, %q", meta, content)
	}
	_, err = db.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: "pdf"}, make([]byte, postgres.MaxFileSize+1))
	wantCode(t, err, flows.Invalid)
	_, err = db.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: "zip"}, photo)
	wantCode(t, err, flows.Invalid)
	_, err = db.AddDossierFile(ctx, flows.DossierFile{DossierID: 999999, Kind: "pdf"}, photo)
	wantCode(t, err, flows.NotFound)

	// Not paid yet: cannot submit.
	_, err = db.SubmitDossier(ctx, o.ID, time.Now())
	wantCode(t, err, flows.FailedPrecondition)
	_, err = db.SubmitDossier(ctx, 999999, time.Now())
	wantCode(t, err, flows.NotFound)
	must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT1", OrderRef: o.Ref, AmountVND: o.TotalVND}))(t)

	at := time.Date(2025, 5, 20, 9, 30, 0, 0, vn)
	sub := must(db.SubmitDossier(ctx, o.ID, at))(t)
	if sub.Status != flows.OrderSubmitted {
		t.Errorf("order after submit = %s", sub.Status)
	}
	got := must(db.Dossier(ctx, o.ID))(t)
	want := flows.Dossier{ID: d.ID, OrderID: o.ID, Method: flows.SignHand, Status: flows.DossierSubmitted,
		SubmittedAt: at, Files: []flows.DossierFile{wantFile}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dossier after submit (-want +got):\n%s", diff)
	}
	_, err = db.SubmitDossier(ctx, o.ID, at)
	wantCode(t, err, flows.FailedPrecondition)

	// Staff reject; the customer fixes and submits again; the paper is collected.
	must(db.SetOrderStatus(ctx, o.ID, flows.OrderSubmitted, flows.OrderRejected))(t)
	got.Status, got.RejectReason = flows.DossierRejected, "Ảnh bị mờ, vui lòng chụp lại"
	got = must(db.SaveDossier(ctx, got))(t)
	if got.RejectReason != "Ảnh bị mờ, vui lòng chụp lại" || len(got.Files) != 1 {
		t.Errorf("rejected dossier = %+v", got)
	}
	must(db.SubmitDossier(ctx, o.ID, at.Add(time.Hour)))(t)
	got = must(db.Dossier(ctx, o.ID))(t)
	if got.Status != flows.DossierSubmitted || got.RejectReason != "" || !got.SubmittedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("resubmitted dossier = %+v", got)
	}
	got.PaperCollected = true
	got = must(db.SaveDossier(ctx, got))(t)
	if !got.PaperCollected {
		t.Errorf("paper not collected: %+v", got)
	}
	var collectedAt *time.Time
	if err := db.Pool().QueryRow(ctx, `SELECT paper_collected_at FROM dossiers WHERE id = $1`, got.ID).Scan(&collectedAt); err != nil || collectedAt == nil {
		t.Errorf("paper_collected_at = %v, %v", collectedAt, err)
	}

	// A paid order without a dossier cannot be submitted.
	o2 := awaiting(t, db, draft(s.anhDuong, s.orgCert, s.org1Y, nil))
	must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT2", OrderRef: o2.Ref, AmountVND: o2.TotalVND}))(t)
	_, err = db.SubmitDossier(ctx, o2.ID, at)
	wantCode(t, err, flows.FailedPrecondition)
}
