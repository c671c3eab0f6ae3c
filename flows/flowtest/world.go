package flowtest

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// The standard world: one linked customer with a certificate of each type
// (and an expired one), another customer who is not linked, packages of
// every type and promo codes that fail CheckPromo in each way.
const (
	ChatID      int64 = 1001 // the linked chat of Customer
	UserID      int64 = 1001
	OtherChat   int64 = 2002 // a chat nobody linked yet (OtherCustomer's phone owner)
	OtherUser   int64 = 2002
	Customer    int64 = 1
	OtherCust   int64 = 2
	OTPSecret         = "test-otp-secret"
	CustPhone         = "0912345678"
	OtherPhone        = "0987654321"
	CustEmail         = "an@example.com"
	Hotline           = "1900 0000"
	SupportMail       = "support@example.com"

	CertIndividual int64 = 11 // Customer's, valid for 20 more days
	CertExpired    int64 = 12 // Customer's individual, expired 5 days ago
	CertOrg        int64 = 13 // Customer's organization certificate, valid
	CertManager    int64 = 14 // Customer's member_manager, valid
	CertEmployee   int64 = 15 // Customer's member_employee, valid
	CertOther      int64 = 21 // OtherCust's individual

	PkgInd1Y   int64 = 101 // IND-1Y, 500.000 ₫
	PkgInd2Y   int64 = 102 // IND-2Y, 900.000 ₫
	PkgIndGone int64 = 103 // inactive individual package
	PkgOrg1Y   int64 = 201
	PkgMgr1Y   int64 = 301
	PkgEmp1Y   int64 = 401

	PriceInd1Y int64 = 500_000
)

// Promo codes of the standard world, by code.
const (
	CodeSave10   = "SAVE10"   // 10% off anything
	CodeFlat     = "FLAT100K" // 100.000 ₫ off
	CodeSoon     = "SOON"     // starts tomorrow
	CodeOld      = "OLD"      // ended yesterday
	CodeGone     = "GONE"     // MaxUses reached
	CodeOnce     = "ONCE"     // one per customer, Customer used it
	CodeOrgOnly  = "ORGONLY"  // organization certificates only
	CodeTwoYears = "TWOYEARS" // the IND-2Y package only
)

// Start is the standard world's now: 10 March 2026, 09:00 in Vietnam.
var (
	Loc   = time.FixedZone("ICT", 7*3600)
	Start = time.Date(2026, 3, 10, 9, 0, 0, 0, Loc)
	Bank  = flows.BankAccount{BIN: "970436", Number: "0011001234567", Name: "CONG TY CA", BankName: "Vietcombank"}
)

// World is a set of fakes wired into an Engine.
type World struct {
	Clock        *Clock
	Customers    *Customers
	Certificates *Certificates
	Catalog      *Catalog
	Orders       *Orders
	Sessions     *Sessions
	OTPs         *OTPs
	Mailer       *Mailer
	Files        *Files
	Audit        *Audit
	Engine       *flows.Engine
}

// Empty returns a world with empty fakes and an engine over them.
func Empty() *World {
	clock := NewClock(Start)
	cat := NewCatalog()
	w := &World{
		Clock: clock, Customers: NewCustomers(), Certificates: NewCertificates(), Catalog: cat,
		Orders: NewOrders(clock, cat), Sessions: NewSessions(clock), OTPs: NewOTPs(clock),
		Mailer: &Mailer{}, Files: NewFiles(), Audit: &Audit{},
	}
	e, err := flows.NewEngine(w.Deps())
	if err != nil {
		panic(err)
	}
	w.Engine = e
	return w
}

// Deps are the world's ports and settings.
func (w *World) Deps() flows.Deps {
	return flows.Deps{
		Customers: w.Customers, Certificates: w.Certificates, Catalog: w.Catalog, Orders: w.Orders,
		Sessions: w.Sessions, OTPs: w.OTPs, Audit: w.Audit, Mailer: w.Mailer, Files: w.Files, Clock: w.Clock,
		Loc: Loc, Support: flows.Support{Hotline: Hotline, Email: SupportMail}, Bank: Bank, OTPSecret: OTPSecret,
	}
}

// New returns the standard world (see the constants).
func New() *World {
	w := Empty()
	days := func(n int) time.Time { return Start.AddDate(0, 0, n).Add(8 * time.Hour) }
	w.Customers.Put(flows.Customer{ID: Customer, Code: "KH001", Name: "Nguyễn Văn An", Phone: CustPhone, Email: CustEmail,
		IDNumber: "012345678901", TaxCode: "0312345678", Address: "1 Lê Lợi, Quận 1, TP HCM", SalesRep: "Chị Lan 0901000000"})
	w.Customers.Put(flows.Customer{ID: OtherCust, Code: "KH002", Name: "Trần Thị Bình", Phone: OtherPhone,
		Email: "binh@example.com", IDNumber: "098765432109", Address: "2 Hai Bà Trưng, Hà Nội"})
	if err := w.Customers.LinkChat(context.Background(), flows.Link{CustomerID: Customer, ChatID: ChatID, UserID: UserID, Lang: "vi", Active: true}); err != nil {
		panic(err)
	}
	cert := func(id, cust int64, t flows.CertType, notAfter time.Time) {
		w.Certificates.Put(flows.Certificate{ID: id, CustomerID: cust, Serial: fmt.Sprintf("54%014d", id), Type: t,
			Subject: fmt.Sprintf("CN=cert %d", id), NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter})
	}
	cert(CertIndividual, Customer, flows.Individual, days(20))
	cert(CertExpired, Customer, flows.Individual, days(-5))
	cert(CertOrg, Customer, flows.Organization, days(40))
	cert(CertManager, Customer, flows.MemberManager, days(60))
	cert(CertEmployee, Customer, flows.MemberEmployee, days(90))
	cert(CertOther, OtherCust, flows.Individual, days(10))

	pkg := func(id int64, code string, t flows.CertType, months int, price int64, active bool) {
		w.Catalog.PutPackage(flows.Package{ID: id, Code: code, CertType: t, Name: code, Months: months, PriceVND: price, Active: active})
	}
	pkg(PkgInd1Y, "IND-1Y", flows.Individual, 12, PriceInd1Y, true)
	pkg(PkgInd2Y, "IND-2Y", flows.Individual, 24, 900_000, true)
	pkg(PkgIndGone, "IND-3Y", flows.Individual, 36, 1_200_000, false)
	pkg(PkgOrg1Y, "ORG-1Y", flows.Organization, 12, 1_500_000, true)
	pkg(PkgMgr1Y, "MGR-1Y", flows.MemberManager, 12, 700_000, true)
	pkg(PkgEmp1Y, "EMP-1Y", flows.MemberEmployee, 12, 600_000, true)

	from, until := Start.AddDate(0, 0, -30), Start.AddDate(0, 0, 30)
	promos := []flows.PromoCode{
		{ID: 1, Code: CodeSave10, Kind: flows.PromoDiscount, PercentOff: 10},
		{ID: 2, Code: CodeFlat, Kind: flows.PromoDiscount, AmountOffVND: 100_000},
		{ID: 3, Code: CodeSoon, Kind: flows.PromoDiscount, PercentOff: 5, ValidFrom: Start.AddDate(0, 0, 1)},
		{ID: 4, Code: CodeOld, Kind: flows.PromoDiscount, PercentOff: 5, ValidUntil: Start.AddDate(0, 0, -1)},
		{ID: 5, Code: CodeGone, Kind: flows.PromoDiscount, PercentOff: 5, MaxUses: 1, Used: 1},
		{ID: 6, Code: CodeOnce, Kind: flows.PromoReferral, PercentOff: 5, PerCustomer: 1},
		{ID: 7, Code: CodeOrgOnly, Kind: flows.PromoDiscount, PercentOff: 5, CertTypes: []flows.CertType{flows.Organization}},
		{ID: 8, Code: CodeTwoYears, Kind: flows.PromoDiscount, PercentOff: 5, PackageCodes: []string{"IND-2Y"}},
	}
	for _, p := range promos {
		if p.ValidFrom.IsZero() {
			p.ValidFrom = from
		}
		if p.ValidUntil.IsZero() {
			p.ValidUntil = until
		}
		w.Catalog.PutPromo(p)
	}
	w.Catalog.AddRedemption(6, Customer)
	return w
}

// Draft creates a draft order of Customer's (or OtherCust's) certificate for a
// package, with the info inherited from the customer record, as the engine
// would. It fails the test on error.
func (w *World) Draft(t testing.TB, certID, pkgID int64) flows.Order {
	t.Helper()
	ctx := context.Background()
	c, err := w.Certificates.Certificate(ctx, certID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Catalog.Package(ctx, pkgID)
	if err != nil {
		t.Fatal(err)
	}
	cu, err := w.Customers.Customer(ctx, c.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	o := flows.Order{CustomerID: c.CustomerID, CertificateID: c.ID, PackageID: p.ID, Status: flows.OrderDraft,
		PriceVND: p.PriceVND, TotalVND: p.PriceVND,
		Subject: flows.SubjectInfo{FullName: cu.Name, IDNumber: cu.IDNumber, Address: cu.Address, Email: cu.Email, Phone: cu.Phone},
		Invoice: flows.InvoiceInfo{Name: cu.Name, Address: cu.Address, Email: cu.Email},
		Payment: flows.PaymentInfo{Method: "bank_transfer", PayerName: cu.Name}}
	if c.Type == flows.Organization {
		o.Subject.IDNumber, o.Subject.TaxCode, o.Invoice.TaxCode = "", cu.TaxCode, cu.TaxCode
	}
	o, err = w.Orders.CreateOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// OrderIn creates an order as Draft does and moves it along the ordinary
// path (draft -> awaiting_payment -> paid -> submitted) to status; rejected
// and approved are forced from submitted.
func (w *World) OrderIn(t testing.TB, certID, pkgID int64, status flows.OrderStatus) flows.Order {
	t.Helper()
	ctx := context.Background()
	o := w.Draft(t, certID, pkgID)
	path := []flows.OrderStatus{flows.OrderDraft, flows.OrderAwaitingPayment, flows.OrderPaid, flows.OrderSubmitted}
	if status == flows.OrderCancelled {
		path = []flows.OrderStatus{flows.OrderDraft, flows.OrderCancelled}
	}
	for i := 1; i < len(path) && o.Status != status; i++ {
		var err error
		if o, err = w.Orders.SetOrderStatus(ctx, o.ID, path[i-1], path[i]); err != nil {
			t.Fatal(err)
		}
	}
	if o.Status != status {
		o = w.Orders.Force(o.ID, status)
	}
	return o
}

// Dossier saves a collecting dossier with a sign method for an order.
func (w *World) Dossier(t testing.TB, orderID int64, m flows.SignMethod) flows.Dossier {
	t.Helper()
	d, err := w.Orders.SaveDossier(context.Background(), flows.Dossier{OrderID: orderID, Method: m, Status: flows.DossierCollecting})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var otpRE = regexp.MustCompile(`\b(\d{6})\b`)

// LastOTP is the one-time code in the last mail sent, or "".
func (w *World) LastOTP() string {
	mails := w.Mailer.Mails()
	if len(mails) == 0 {
		return ""
	}
	m := otpRE.FindStringSubmatch(mails[len(mails)-1].Body)
	if m == nil {
		return ""
	}
	return m[1]
}

// Minimal file contents that pass the engine's magic-byte checks.
var (
	JPEG = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00 a tiny jpeg")
	PDF  = []byte("%PDF-1.7\n% a tiny pdf\n%%EOF\n")
)
