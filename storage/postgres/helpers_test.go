package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/postgres"
	"github.com/renewbot/renewbot/storage/postgres/pgtest"
)

// The fixture every repository test starts from, loaded with Import.

const customersCSV = `code,name,phone,email,id_number,tax_code,address,sales_rep
KH001,Nguyễn Văn An,0912 345 678,an@example.vn,012345678901,,"12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội",Trần Thị Bích
KH002,Công ty TNHH Ánh Dương,+84 987 654 321,ketoan@anhduong.vn,,0101234567,"45 Nguyễn Huệ, Quận 1, TP.HCM",Lê Văn Cường
`

const certificatesCSV = `serial,customer_code,type,subject,not_before,not_after
5401A1,KH001,individual,Nguyễn Văn An,2025-01-15,2026-01-15
5401B2,KH002,organization,Công ty TNHH Ánh Dương,2024-06-01,2025-06-01
5401C3,KH002,member_employee,Phạm Thị Dung,2024-06-01T08:00:00+07:00,2026-06-01T08:00:00+07:00
5401D4,KH001,individual,Nguyễn Văn An,2025-03-01,2027-03-01
`

const packagesCSV = `code,cert_type,name,months,price_vnd,active
IND-2Y,individual,Cá nhân 2 năm,24,2100000,true
IND-1Y,individual,Cá nhân 1 năm,12,1250000,true
IND-3Y,individual,Cá nhân 3 năm,36,2900000,false
ORG-1Y,organization,Tổ chức 1 năm,12,2500000,
MEM-1Y,member_employee,Nhân viên 1 năm,12,900000,yes
`

const promosCSV = `code,kind,percent_off,amount_off_vnd,valid_from,valid_until,max_uses,per_customer,cert_types,package_codes
giam10,discount,10,,2025-01-01,2030-01-01,100,1,individual|organization,
GIOITHIEU,referral,,200000,2025-01-01,2030-01-01,0,0,,IND-1Y|IND-2Y
`

var vn = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

func files(nameContent ...string) []postgres.ImportFile {
	var out []postgres.ImportFile
	for i := 0; i+1 < len(nameContent); i += 2 {
		out = append(out, postgres.ImportFile{Name: nameContent[i], R: strings.NewReader(nameContent[i+1])})
	}
	return out
}

func fixtureFiles() []postgres.ImportFile {
	// deliberately not in dependency order
	return files("promos.csv", promosCSV, "certificates.csv", certificatesCSV,
		"customers.csv", customersCSV, "packages.csv", packagesCSV)
}

// seeded is a database with the fixture and handy ids.
type seeded struct {
	db                  *postgres.DB
	an, anhDuong        flows.Customer
	anCert, anCert2     flows.Certificate // individual
	orgCert, memberCert flows.Certificate
	ind1Y, ind2Y, org1Y flows.Package
	giam10, gioiThieu   flows.PromoCode
}

func seed(t *testing.T) seeded {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	if _, err := db.Import(ctx, fixtureFiles()); err != nil {
		t.Fatalf("import fixture: %v", err)
	}
	s := seeded{db: db}
	s.an = must(db.CustomerByPhone(ctx, "0912345678"))(t)
	s.anhDuong = must(db.CustomerByPhone(ctx, "0987654321"))(t)
	anCerts := must(db.CertificatesOf(ctx, s.an.ID))(t)
	s.anCert, s.anCert2 = anCerts[0], anCerts[1]
	orgCerts := must(db.CertificatesOf(ctx, s.anhDuong.ID))(t)
	s.orgCert, s.memberCert = orgCerts[0], orgCerts[1]
	inds := must(db.Packages(ctx, flows.Individual))(t)
	s.ind1Y, s.ind2Y = inds[0], inds[1]
	s.org1Y = must(db.Packages(ctx, flows.Organization))(t)[0]
	s.giam10 = must(db.PromoByCode(ctx, "GIAM10"))(t)
	s.gioiThieu = must(db.PromoByCode(ctx, "gioithieu"))(t)
	return s
}

// must turns (value, error) into a value or a fatal test failure.
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantCode fails unless err carries code.
func wantCode(t testing.TB, err error, code flows.Code) {
	t.Helper()
	if got := flows.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// draft builds an order for a certificate and package, with a promo if given.
func draft(cust flows.Customer, cert flows.Certificate, pkg flows.Package, promo *flows.PromoCode) flows.Order {
	o := flows.Order{
		CustomerID: cust.ID, CertificateID: cert.ID, PackageID: pkg.ID,
		PriceVND: pkg.PriceVND, TotalVND: pkg.PriceVND,
		Subject: flows.SubjectInfo{FullName: cust.Name, IDNumber: cust.IDNumber, Address: cust.Address, Email: cust.Email, Phone: cust.Phone},
		Invoice: flows.InvoiceInfo{Name: cust.Name, Address: cust.Address, Email: cust.Email},
		Payment: flows.PaymentInfo{Method: "bank_transfer", PayerName: cust.Name},
	}
	if promo != nil {
		o.PromoID, o.PromoCode = promo.ID, promo.Code
		if promo.PercentOff > 0 {
			o.DiscountVND = pkg.PriceVND * int64(promo.PercentOff) / 100
		} else {
			o.DiscountVND = min(promo.AmountOffVND, pkg.PriceVND)
		}
		o.TotalVND = o.PriceVND - o.DiscountVND
	}
	return o
}

// awaiting creates an order and confirms it (awaiting_payment).
func awaiting(t testing.TB, db *postgres.DB, o flows.Order) flows.Order {
	t.Helper()
	ctx := context.Background()
	o = must(db.CreateOrder(ctx, o))(t)
	return must(db.SetOrderStatus(ctx, o.ID, flows.OrderDraft, flows.OrderAwaitingPayment))(t)
}
