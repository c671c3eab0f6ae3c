package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/postgres/pgtest"
)

func TestRecordPayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db

	o := awaiting(t, db, draft(s.an, s.anCert, s.ind1Y, &s.giam10))
	paidAt := time.Date(2025, 12, 1, 10, 0, 0, 0, vn)

	// Underpaid: recorded, order untouched, promo not redeemed.
	pay, ord := must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT001",
		OrderRef: strings.ToLower(o.Ref), AmountVND: o.TotalVND - 1000, PaidAt: paidAt, Raw: `{"id":"FT001"}`}))(t)
	wantPay := flows.Payment{ID: pay.ID, Provider: "bank", TransactionID: "FT001", OrderRef: o.Ref, OrderID: o.ID,
		AmountVND: o.TotalVND - 1000, PaidAt: paidAt, Status: flows.PaymentUnderpaid, Raw: `{"id":"FT001"}`}
	if diff := cmp.Diff(wantPay, pay); diff != "" {
		t.Errorf("underpaid payment (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(o, ord); diff != "" {
		t.Errorf("underpaid: order changed (-want +got):\n%s", diff)
	}
	if got := must(db.PromoByCode(ctx, "GIAM10"))(t); got.Used != 0 {
		t.Errorf("underpaid: promo used = %d", got.Used)
	}

	// Matched: order paid, promo redeemed once.
	pay, ord = must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT002",
		OrderRef: o.Ref, AmountVND: o.TotalVND, PaidAt: paidAt}))(t)
	if pay.Status != flows.PaymentMatched || pay.OrderID != o.ID {
		t.Errorf("matched payment = %+v", pay)
	}
	wantOrd := o
	wantOrd.Status, wantOrd.PaidAt, wantOrd.Version = flows.OrderPaid, paidAt, o.Version+1
	if diff := cmp.Diff(wantOrd, ord); diff != "" {
		t.Errorf("paid order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOrd, must(db.Order(ctx, o.ID))(t)); diff != "" {
		t.Errorf("stored paid order (-want +got):\n%s", diff)
	}
	if got := must(db.PromoByCode(ctx, "GIAM10"))(t); got.Used != 1 {
		t.Errorf("promo used = %d, want 1", got.Used)
	}

	// Duplicate: the first payment comes back, nothing changes.
	dup, dupOrd := must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT002",
		OrderRef: o.Ref, AmountVND: 1, PaidAt: paidAt.Add(time.Hour)}))(t)
	wantDup := pay
	wantDup.Status = flows.PaymentDuplicate
	if diff := cmp.Diff(wantDup, dup); diff != "" {
		t.Errorf("duplicate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOrd, dupOrd); diff != "" {
		t.Errorf("duplicate's order (-want +got):\n%s", diff)
	}
	// The same transaction id from another provider is another payment.
	other, _ := must2(db.RecordPayment(ctx, flows.Payment{Provider: "staff", TransactionID: "FT002",
		OrderRef: o.Ref, AmountVND: o.TotalVND}))(t)
	// Paying an order that is already paid: unmatched, kept for staff.
	if other.Status != flows.PaymentUnmatched || other.OrderID != 0 {
		t.Errorf("second payment of a paid order = %+v", other)
	}

	// Unmatched: no such order.
	un, unOrd := must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT003",
		OrderRef: "HD999999", AmountVND: 500000}))(t)
	if un.Status != flows.PaymentUnmatched || un.OrderID != 0 || unOrd.ID != 0 || un.PaidAt.IsZero() {
		t.Errorf("unmatched = %+v, %+v", un, unOrd)
	}
	un, _ = must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT004", AmountVND: 500000}))(t)
	if un.Status != flows.PaymentUnmatched {
		t.Errorf("payment without reference = %+v", un)
	}
	// A draft is not awaiting payment.
	d := must(db.CreateOrder(ctx, draft(s.an, s.anCert2, s.ind1Y, nil)))(t)
	un, _ = must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "FT005", OrderRef: d.Ref, AmountVND: d.TotalVND}))(t)
	if un.Status != flows.PaymentUnmatched {
		t.Errorf("payment of a draft = %+v", un)
	}

	// Staff payment by order id, overpaid: matched.
	o2 := awaiting(t, db, draft(s.anhDuong, s.orgCert, s.org1Y, nil))
	pay, ord = must2(db.RecordPayment(ctx, flows.Payment{Provider: "staff", TransactionID: "staff-1", OrderID: o2.ID, AmountVND: o2.TotalVND + 10000}))(t)
	if pay.Status != flows.PaymentMatched || ord.Status != flows.OrderPaid || pay.OrderRef != o2.Ref {
		t.Errorf("staff payment = %+v, order %+v", pay, ord)
	}

	// Invalid input.
	for _, bad := range []flows.Payment{
		{TransactionID: "x", AmountVND: 1},
		{Provider: "bank", AmountVND: 1},
		{Provider: "bank", TransactionID: "x", AmountVND: 0},
	} {
		_, _, err := db.RecordPayment(ctx, bad)
		wantCode(t, err, flows.Invalid)
	}

	var counts []string
	rows, _ := db.Pool().Query(ctx, `SELECT status || '=' || count(*) FROM payments GROUP BY status ORDER BY status`)
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts = append(counts, c)
	}
	if diff := cmp.Diff([]string{"matched=2", "underpaid=1", "unmatched=4"}, counts); diff != "" {
		t.Errorf("stored payments (-want +got):\n%s", diff)
	}
}

func TestRecordPaymentPerCustomerLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db // GIAM10: one use per customer

	o1 := awaiting(t, db, draft(s.an, s.anCert, s.ind1Y, &s.giam10))
	o2 := awaiting(t, db, draft(s.an, s.anCert2, s.ind2Y, &s.giam10))
	p1, _ := must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "A", OrderRef: o1.Ref, AmountVND: o1.TotalVND}))(t)
	p2, ord2 := must2(db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "B", OrderRef: o2.Ref, AmountVND: o2.TotalVND}))(t)
	if p1.Status != flows.PaymentMatched || p2.Status != flows.PaymentUnderpaid || ord2.Status != flows.OrderAwaitingPayment {
		t.Errorf("per-customer limit: %s, %s (order %s); want matched, underpaid (awaiting_payment)", p1.Status, p2.Status, ord2.Status)
	}
	if n := must(db.PromoUsesBy(ctx, s.giam10.ID, s.an.ID))(t); n != 1 {
		t.Errorf("uses = %d, want 1", n)
	}
}

// N+3 orders using a code with N uses left are paid at the same time:
// exactly N are redeemed, the others are kept as underpaid for staff.
func TestRecordPaymentConcurrentPromo(t *testing.T) {
	t.Parallel()
	const maxUses, orders = 5, 5 + 3
	ctx := context.Background()
	db := pgtest.NewDB(t)

	var cust, certs strings.Builder
	cust.WriteString("code,name,phone,email,id_number,tax_code,address,sales_rep\n")
	certs.WriteString("serial,customer_code,type,subject,not_before,not_after\n")
	for i := range orders {
		fmt.Fprintf(&cust, "C%02d,Khách hàng số %d,09%08d,,,,,\n", i, i, i)
		fmt.Fprintf(&certs, "S%02d,C%02d,individual,Khách hàng số %d,2025-01-01,2026-01-01\n", i, i, i)
	}
	_, err := db.Import(ctx, files(
		"customers.csv", cust.String(),
		"certificates.csv", certs.String(),
		"packages.csv", packagesCSV,
		"promos.csv", "code,kind,percent_off,amount_off_vnd,valid_from,valid_until,max_uses,per_customer,cert_types,package_codes\n"+
			fmt.Sprintf("FLASH,discount,50,,2025-01-01,2030-01-01,%d,0,,\n", maxUses)))
	if err != nil {
		t.Fatal(err)
	}
	promo := must(db.PromoByCode(ctx, "FLASH"))(t)
	pkg := must(db.Packages(ctx, flows.Individual))(t)[0]

	var pending []flows.Order
	for i := range orders {
		c := must(db.CustomerByPhone(ctx, fmt.Sprintf("09%08d", i)))(t)
		cert := must(db.CertificatesOf(ctx, c.ID))(t)[0]
		pending = append(pending, awaiting(t, db, draft(c, cert, pkg, &promo)))
	}

	statuses := make([]flows.PaymentStatus, orders)
	errs := make([]error, orders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, o := range pending {
		wg.Go(func() {
			<-start
			p, _, err := db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: fmt.Sprintf("T%d", i),
				OrderRef: o.Ref, AmountVND: o.TotalVND})
			statuses[i], errs[i] = p.Status, err
		})
	}
	close(start)
	wg.Wait()

	count := map[flows.PaymentStatus]int{}
	for i := range orders {
		if errs[i] != nil {
			t.Fatalf("payment %d: %v", i, errs[i])
		}
		count[statuses[i]]++
	}
	want := map[flows.PaymentStatus]int{flows.PaymentMatched: maxUses, flows.PaymentUnderpaid: orders - maxUses}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("payment outcomes (-want +got):\n%s", diff)
	}
	if got := must(db.PromoByCode(ctx, "FLASH"))(t); got.Used != maxUses {
		t.Errorf("promo used = %d, want %d", got.Used, maxUses)
	}
	var redemptions, paid int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM promo_redemptions), (SELECT count(*) FROM orders WHERE status = 'paid')`).Scan(&redemptions, &paid); err != nil {
		t.Fatal(err)
	}
	if redemptions != maxUses || paid != maxUses {
		t.Errorf("redemptions = %d, paid orders = %d; want %d each", redemptions, paid, maxUses)
	}
}

// The same bank callback delivered several times at once is recorded once.
func TestRecordPaymentConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	o := awaiting(t, s.db, draft(s.an, s.anCert, s.ind1Y, nil))

	const n = 6
	statuses := make([]flows.PaymentStatus, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p, _, err := s.db.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "SAME", OrderRef: o.Ref, AmountVND: o.TotalVND})
			statuses[i], errs[i] = p.Status, err
		})
	}
	wg.Wait()
	count := map[flows.PaymentStatus]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		count[statuses[i]]++
	}
	if diff := cmp.Diff(map[flows.PaymentStatus]int{flows.PaymentMatched: 1, flows.PaymentDuplicate: n - 1}, count); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}
