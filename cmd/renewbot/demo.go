package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/renewbot/renewbot/storage/postgres"
)

// Demo data for `renewbot sandbox`: loaded through the same CSV import as
// production data, with expiry dates relative to today so that every case of
// the seed can be played at any date.

type demoUser struct {
	TelegramID int64
	FirstName  string
	Lang       string
	Phone      string
	Label      string
}

var demoUsers = []demoUser{
	{1001, "An", "vi", "0912345678", "Nguyễn Văn An — CTS cá nhân còn hạn + CTS tổ chức (trường hợp 1)"},
	{1002, "Bình", "vi", "0987654321", "Trần Thị Bình — CTS cá nhân đã hết hạn (trường hợp 2)"},
	{1003, "Chau", "en", "0903111222", "Lê Minh Châu — CTS nhân viên thuộc tổ chức (case 2, English)"},
	{1004, "Khách", "vi", "0977000111", "Khách lạ — số điện thoại chưa đăng ký"},
}

const demoStaffChatID = -1001000000001

var demoStaff = []demoUser{{9001, "Hạnh", "vi", "", "Hạnh — hỗ trợ khách hàng"}, {9002, "Phúc", "vi", "", "Phúc — NVKD"}}

func demoFiles(now time.Time, loc *time.Location) []postgres.ImportFile {
	day := func(d int) string { return now.In(loc).AddDate(0, 0, d).Format("2006-01-02") }
	customers := `code,name,phone,email,id_number,tax_code,address,sales_rep
KH001,Nguyễn Văn An,0912345678,an.nguyen@example.vn,001085012345,,"12 Trần Hưng Đạo, Hoàn Kiếm, Hà Nội",Phúc (0901 234 567)
KH002,Trần Thị Bình,0987654321,binh.tran@example.vn,079190001234,,"45 Lê Lợi, Quận 1, TP. Hồ Chí Minh",Phúc (0901 234 567)
KH003,Lê Minh Châu,0903111222,chau.le@example.vn,048095006789,,"8 Bạch Đằng, Hải Châu, Đà Nẵng",
`
	certs := fmt.Sprintf(`serial,customer_code,type,subject,not_before,not_after
5404FFFEB7033FB316D672201B7B0001,KH001,individual,CN=Nguyễn Văn An,%s,%s
5404FFFEB7033FB316D672201B7B0002,KH001,organization,CN=Công ty TNHH An Phát; MST=0101234567,%s,%s
5404FFFEB7033FB316D672201B7B0003,KH002,individual,CN=Trần Thị Bình,%s,%s
5404FFFEB7033FB316D672201B7B0004,KH003,member_employee,CN=Lê Minh Châu; O=Công ty CP Sông Hàn,%s,%s
`, day(-345), day(20), day(-290), day(75), day(-370), day(-5), day(-325), day(40))
	packages := `code,cert_type,name,months,price_vnd,active
CN1,individual,Gia hạn CTS cá nhân 1 năm,12,1250000,true
CN2,individual,Gia hạn CTS cá nhân 2 năm,24,2150000,true
CN3,individual,Gia hạn CTS cá nhân 3 năm,36,2950000,true
TC1,organization,Gia hạn CTS tổ chức 1 năm,12,1850000,true
TC2,organization,Gia hạn CTS tổ chức 2 năm,24,3300000,true
TC3,organization,Gia hạn CTS tổ chức 3 năm,36,4500000,true
QL1,member_manager,Gia hạn CTS quản lý 1 năm,12,990000,true
QL2,member_manager,Gia hạn CTS quản lý 2 năm,24,1690000,true
NV1,member_employee,Gia hạn CTS nhân viên 1 năm,12,990000,true
NV2,member_employee,Gia hạn CTS nhân viên 2 năm,24,1690000,true
`
	promos := fmt.Sprintf(`code,kind,percent_off,amount_off_vnd,valid_from,valid_until,max_uses,per_customer,cert_types,package_codes
GIAM10,discount,10,0,%s,%s,100,1,,
GIOITHIEU,referral,0,200000,%s,%s,0,1,individual|organization,
HETHAN,discount,20,0,%s,%s,100,1,,
CHI3NAM,discount,15,0,%s,%s,50,1,,CN3|TC3
`, day(-30), day(60), day(-30), day(365), day(-60), day(-1), day(-30), day(60))
	return []postgres.ImportFile{
		{Name: "demo-customers.csv", R: strings.NewReader(customers)},
		{Name: "demo-certificates.csv", R: strings.NewReader(certs)},
		{Name: "demo-packages.csv", R: strings.NewReader(packages)},
		{Name: "demo-promos.csv", R: strings.NewReader(promos)},
	}
}

// loadDemo imports the demo data when the database has no customers yet.
func loadDemo(ctx context.Context, db *postgres.DB, now time.Time, loc *time.Location) (bool, error) {
	empty, err := db.Empty(ctx)
	if err != nil || !empty {
		return false, err
	}
	if _, err := db.Import(ctx, demoFiles(now, loc), postgres.WithLocation(loc)); err != nil {
		return false, fmt.Errorf("demo data: %w", err)
	}
	return true, nil
}
