package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/storage/postgres"
	"github.com/renewbot/renewbot/storage/postgres/pgtest"
)

// snapshot renders every imported table, to prove an import changed nothing.
func snapshot(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"customers", "certificates", "packages", "promo_codes"} {
		rows, _ := db.Pool().Query(context.Background(), `SELECT t::text FROM `+table+` t ORDER BY id`)
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(table + " " + s + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)

	// A BOM, CRLF line ends and a quoted field with a comma and a line break.
	bomCustomers := "\ufeff" + strings.ReplaceAll(customersCSV, "\n", "\r\n") +
		"KH003,\"Hộ kinh doanh Bà Tư\",0388 123 456,,,0312345678-001,\"Chợ Bến Thành, Quận 1\",\r\n"
	in := files("promos.csv", promosCSV, "certificates.csv", certificatesCSV,
		"customers.csv", bomCustomers, "packages.csv", packagesCSV)
	report := must(db.Import(ctx, in))(t)
	want := postgres.ImportReport{
		Customers:    postgres.ImportCounts{Inserted: 3},
		Certificates: postgres.ImportCounts{Inserted: 4},
		Packages:     postgres.ImportCounts{Inserted: 5},
		PromoCodes:   postgres.ImportCounts{Inserted: 2},
	}
	if diff := cmp.Diff(want, report); diff != "" {
		t.Errorf("first import (-want +got):\n%s", diff)
	}
	if got, want := report.String(), "customers 3 (3 new, 0 updated, 0 unchanged), certificates 4 (4 new, 0 updated, 0 unchanged), "+
		"packages 5 (5 new, 0 updated, 0 unchanged), promo codes 2 (2 new, 0 updated, 0 unchanged)"; got != want {
		t.Errorf("report = %q, want %q", got, want)
	}
	tu := must(db.CustomerByPhone(ctx, "0388123456"))(t)
	if tu.Name != "Hộ kinh doanh Bà Tư" || tu.TaxCode != "0312345678-001" || tu.Address != "Chợ Bến Thành, Quận 1" || tu.Email != "" {
		t.Errorf("customer KH003 = %+v", tu)
	}
	before := snapshot(t, db)

	// Re-import: nothing changes, the same rows are counted, all unchanged.
	again := files("customers.csv", bomCustomers, "packages.csv", packagesCSV,
		"certificates.csv", certificatesCSV, "promos.csv", promosCSV)
	report = must(db.Import(ctx, again))(t)
	want = postgres.ImportReport{
		Customers:    postgres.ImportCounts{Unchanged: 3},
		Certificates: postgres.ImportCounts{Unchanged: 4},
		Packages:     postgres.ImportCounts{Unchanged: 5},
		PromoCodes:   postgres.ImportCounts{Unchanged: 2},
	}
	if diff := cmp.Diff(want, report); diff != "" {
		t.Errorf("re-import (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
		t.Errorf("re-import changed the database (-before +after):\n%s", diff)
	}

	// Updates: a renamed customer, a new price, a later expiry; two customers
	// swap phones; the promo code's uses so far are kept.
	must(db.Pool().Exec(ctx, `UPDATE promo_codes SET used = 3 WHERE code = 'GIAM10'`))(t)
	report = must(db.Import(ctx, files(
		"c.csv", "code,name,phone,email,id_number,tax_code,address,sales_rep\n"+
			"KH001,Nguyễn Văn Ân,0987654321,an@example.vn,012345678901,,\"12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội\",Trần Thị Bích\n"+
			"KH002,Công ty TNHH Ánh Dương,0912345678,ketoan@anhduong.vn,,0101234567,\"45 Nguyễn Huệ, Quận 1, TP.HCM\",Lê Văn Cường\n",
		"p.csv", "code,cert_type,name,months,price_vnd,active\nIND-1Y,individual,Cá nhân 1 năm,12,1300000,true\n",
		"s.csv", "serial,customer_code,type,subject,not_before,not_after\n5401A1,KH001,individual,Nguyễn Văn Ân,2025-01-15,2027-01-15\n",
		"m.csv", "code,kind,percent_off,amount_off_vnd,valid_from,valid_until,max_uses,per_customer,cert_types,package_codes\nGIAM10,discount,15,,2025-01-01,2030-01-01,100,1,individual|organization,\n",
	)))(t)
	want = postgres.ImportReport{
		Customers:    postgres.ImportCounts{Updated: 2},
		Certificates: postgres.ImportCounts{Updated: 1},
		Packages:     postgres.ImportCounts{Updated: 1},
		PromoCodes:   postgres.ImportCounts{Updated: 1},
	}
	if diff := cmp.Diff(want, report); diff != "" {
		t.Errorf("update import (-want +got):\n%s", diff)
	}
	an := must(db.CustomerByPhone(ctx, "0987654321"))(t)
	if an.Code != "KH001" || an.Name != "Nguyễn Văn Ân" {
		t.Errorf("after the phone swap, 0987654321 is %+v", an)
	}
	if p := must(db.PromoByCode(ctx, "giam10"))(t); p.Used != 3 || p.PercentOff != 15 {
		t.Errorf("promo after import = %+v, want used 3 kept and 15%% off", p)
	}
	certs := must(db.CertificatesOf(ctx, an.ID))(t)
	if certs[0].Serial != "5401A1" || !certs[0].NotAfter.Equal(time.Date(2027, 1, 15, 0, 0, 0, 0, vn)) {
		t.Errorf("certificates after import = %+v", certs)
	}
}

func TestImportLocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	_, err := db.Import(ctx, files("customers.csv", customersCSV,
		"certificates.csv", "serial,customer_code,type,subject,not_before,not_after\n"+
			"X1,KH001,individual,Nguyễn Văn An,2025-01-15,2026-01-15T17:00:00Z\n"), postgres.WithLocation(time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	c := must(db.CertificatesOf(ctx, must(db.CustomerByPhone(ctx, "0912345678"))(t).ID))(t)[0]
	if !c.NotBefore.Equal(time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)) || !c.NotAfter.Equal(time.Date(2026, 1, 15, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("certificate period = %v .. %v", c.NotBefore, c.NotAfter)
	}
}

func TestImportRejectsBadRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seed(t)
	db := s.db
	must(db.Pool().Exec(ctx, `UPDATE promo_codes SET used = 7 WHERE code = 'GIOITHIEU'`))(t)
	before := snapshot(t, db)

	bad := files(
		"khach-hang.csv", "code,name,phone,email,id_number,tax_code,address,sales_rep\n"+
			"KH010,Lê Thị Hoa,12345,,,,,\n"+ // 2 bad phone
			"KH011,Đỗ Minh,0901234567,not-an-email,123,,,\n"+ // 3 bad email and id number
			"KH012,Vũ Lan,0901234568,,,,,\n"+ // 4 fine
			"KH012,Vũ Lan,0901234569,,,,,\n"+ // 5 duplicate code
			"KH013,Bùi Nam,0912 345 678,,,,,\n"+ // 6 phone of KH001 in the database
			"KH014,Hà Phương,0901234570,,,123,,\n"+ // 7 bad tax code
			",,0901234571,,,,,\n"+ // 8 code and name required
			"KH015,Ngô Quyền,0901234572,,,,\n"+ // 9 wrong field count
			"KH016,Trịnh Công,0901234568,,,,,\n"+ // 10 phone of KH012 in the files
			"KH017,\"Hai\ndòng\",0901234573,,,,,\n"+ // 11-12 a line break in a name
			"KH018,Lý Bình,0101234574,,,,,\n", // 13 landline, not a mobile number
		"chung-thu.csv", "serial,customer_code,type,subject,not_before,not_after\n"+
			"N1,KH012,personal,Vũ Lan,2025-01-01,2026-01-01\n"+ // 2 unknown type
			"N2,KH012,individual,Vũ Lan,2025-13-45,2026-01-01\n"+ // 3 bad date
			"N3,KH012,individual,Vũ Lan,2026-01-01,2026-01-01\n"+ // 4 not_after <= not_before
			"5401A1,KH002,individual,Nguyễn Văn An,2025-01-15,2026-01-15\n"+ // 5 serial of KH001
			"N4,KH999,individual,Ai Đó,2025-01-01,2026-01-01\n"+ // 6 customer nowhere
			"N5,KH001,individual,Nguyễn Văn An,2025-01-01,2026-01-01\n"+ // 7 fine (customer in the database)
			"N5,KH012,individual,Vũ Lan,2025-01-01,2026-01-01\n"+ // 8 duplicate serial
			"N6,KH010,individual,Lê Thị Hoa,2025-01-01,2026-01-01\n", // 9 fine: KH010 is in the files (bad, reported there)
		"bang-gia.csv", "code,cert_type,name,months,price_vnd,active\n"+
			"P1,individual,Gói âm,12,-5,true\n"+ // 2 negative price
			"P2,individual,Gói lạ,abc,100,true\n"+ // 3 months not a number
			"P3,robot,Gói robot,12,100,maybe\n", // 4 unknown type, bad active
		"ma-giam-gia.csv", "code,kind,percent_off,amount_off_vnd,valid_from,valid_until,max_uses,per_customer,cert_types,package_codes\n"+
			"BOTH,discount,10,50000,2025-01-01,2026-01-01,0,0,,\n"+ // 2 both discounts
			"NOPKG,discount,10,,2025-01-01,2026-01-01,0,0,individual,IND-1Y|NOPE\n"+ // 3 unknown package
			"GIOITHIEU,referral,,200000,2025-01-01,2030-01-01,5,0,,\n"+ // 4 limit below uses so far
			"WHEN,gift,10,,2026-01-01,2025-01-01,0,0,robot,\n", // 5 bad kind, period, cert type
		"ghi-chu.csv", "ten,so_dien_thoai\nA,B\n", // 1 unrecognised
		"thieu-cot.csv", "code,name,phone,email\n", // 1 looks like customers
		"rong.csv", "", // 1 empty
	)
	_, err := db.Import(ctx, bad)
	wantCode(t, err, flows.Invalid)
	var ie *postgres.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v does not wrap an *ImportError", err)
	}
	var got []string
	for _, r := range ie.Rows {
		got = append(got, r.String())
	}
	want := []string{
		"khach-hang.csv:2: phone:",
		"khach-hang.csv:3: email:",
		"khach-hang.csv:5: duplicate customer code \"KH012\" (first at khach-hang.csv:4)",
		"khach-hang.csv:6: phone 0912345678 belongs to customer KH001 in the database",
		"khach-hang.csv:7: tax_code:",
		"khach-hang.csv:8: code is required; name is required",
		"khach-hang.csv:9: 7 fields, the header has 8",
		"khach-hang.csv:10: phone 0901234568 is also the phone of the customer at khach-hang.csv:4",
		"khach-hang.csv:11: name has control characters",
		"khach-hang.csv:13: phone: \"0101234574\" is not a Vietnamese mobile number",
		"chung-thu.csv:2: type: unknown certificate type \"personal\"",
		"chung-thu.csv:3: not_before: \"2025-13-45\" is not a date",
		"chung-thu.csv:4: not_after 2026-01-01 is not after not_before 2026-01-01",
		"chung-thu.csv:5: certificate 5401A1 belongs to another customer (KH001) in the database",
		"chung-thu.csv:6: customer_code \"KH999\" is in neither the files nor the database",
		"chung-thu.csv:8: duplicate certificate serial \"N5\" (first at chung-thu.csv:7)",
		"bang-gia.csv:2: price_vnd must not be negative (-5)",
		"bang-gia.csv:3: months: \"abc\" is not a whole number",
		"bang-gia.csv:4: cert_type: unknown certificate type \"robot\"",
		"ma-giam-gia.csv:2: exactly one of percent_off and amount_off_vnd must be set",
		"ma-giam-gia.csv:3: package_codes: package \"NOPE\" is in neither the files nor the database",
		"ma-giam-gia.csv:4: max_uses 5 is below the 7 uses of GIOITHIEU so far",
		"ma-giam-gia.csv:5: kind: \"gift\" is not discount or referral",
		"ghi-chu.csv:1: unrecognised header",
		"thieu-cot.csv:1: header looks like customers",
		"rong.csv:1: empty file",
	}
	if len(got) != len(want) {
		t.Errorf("got %d bad rows, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("bad row %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
	// Every reason of a row is given, and the message carries them all.
	for _, s := range []string{"id_number: \"123\"", "active: \"maybe\"", "valid_until 2025-01-01 is not after valid_from 2026-01-01",
		"cert_types: unknown certificate type \"robot\""} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %q:\n%v", s, err)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
		t.Errorf("a rejected import changed the database (-before +after):\n%s", diff)
	}
}

func TestImportNothing(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	report, err := db.Import(context.Background(), nil)
	if err != nil || report != (postgres.ImportReport{}) {
		t.Errorf("Import(nil) = %+v, %v", report, err)
	}
}
