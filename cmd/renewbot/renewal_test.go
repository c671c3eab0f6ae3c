package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/sandbox"
)

const (
	serialAn    = "5404FFFEB7033FB316D672201B7B0001" // individual, 20 days left
	serialAnOrg = "5404FFFEB7033FB316D672201B7B0002" // organization, 75 days left
	serialBinh  = "5404FFFEB7033FB316D672201B7B0003" // individual, expired 5 days ago
	serialChau  = "5404FFFEB7033FB316D672201B7B0004" // member_employee, 40 days left
)

func (w *world) certID(serial string) int64 {
	w.t.Helper()
	var id int64
	if err := w.db.Pool().QueryRow(context.Background(), `SELECT id FROM certificates WHERE serial=$1`, serial).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// remind sends a reminder-like message with a versionless "Renew now" button,
// the way the scheduler does.
func (w *world) remind(chatID int64, serial string) {
	w.app.bot.Deliver(context.Background(), chatID, "vi", flows.AnyVersion, []flows.Reply{{
		Texts:   []flows.Text{flows.T("certs_header", "Count", 1)},
		Buttons: [][]flows.Button{{{Label: flows.T("btn_renew_cert", "Serial", serial), Action: "renew", Args: []string{fmt.Sprint(w.certID(serial))}}}},
	}})
}

func (w *world) queryInt(sql string, args ...any) int64 {
	w.t.Helper()
	var n int64
	if err := w.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var otpRe = regexp.MustCompile(`\b(\d{6})\b`)

func (w *world) otpFrom(to string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := w.box.WaitMail(ctx, to)
	if err != nil {
		w.t.Fatalf("no OTP mail to %s: %v", to, err)
	}
	code := otpRe.FindStringSubmatch(m.Body)
	if code == nil {
		w.t.Fatalf("no code in mail %q", m.Body)
	}
	return code[1]
}

// Case 1: a still-valid individual certificate, from a reminder button, with
// a discount code, paid by the provider's callback, signed with an emailed OTP.
func TestRenewalCase1FromReminder(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	c.link("0912345678")
	w.remind(1001, serialAn)
	m := c.expect("Anh/chị có 1 chứng thư số")
	c.press(m, "Gia hạn "+serialAn)
	m = c.expect("Bảng giá", serialAn)
	c.press(m, "Gia hạn CTS cá nhân 1 năm")
	m = c.expect("1.250.000 ₫", "16/12/2027") // new expiry = old not_after + 12 months
	c.say("giam10")
	m = c.expect("GIAM10", "Áp dụng")
	c.press(m, "Áp dụng mã GIAM10")
	c.expect("Đã áp dụng mã GIAM10", "125.000 ₫")
	m = c.expect("1.125.000 ₫")
	c.press(m, "Kiểm tra thông tin")
	m = c.expect("Nguyễn Văn An", "001085012345")
	c.press(m, "Thông tin đúng")
	m = c.expect("MST trên hóa đơn")
	c.press(m, "Sửa MST trên hóa đơn")
	c.expect("MST trên hóa đơn")
	c.say("12345")
	c.expect("Mã số thuế không hợp lệ")
	c.say("0101234567-001")
	c.expect("Đã lưu")
	m = c.expect("0101234567-001")
	c.press(m, "Thông tin đúng")
	m = c.expect("Người thanh toán")
	c.press(m, "Thông tin đúng")
	m = c.expect("1.125.000 ₫")
	c.press(m, "Thanh toán")
	qr := c.expect() // the VietQR picture comes first
	if len(qr.Photo) == 0 {
		t.Fatalf("want the VietQR picture, got %q", qr.Body())
	}
	c.expect("1.125.000 ₫", "Vietcombank", "0011004567890")
	o := w.orderOf(serialAn)
	if o.Status != flows.OrderAwaitingPayment || o.TotalVND != 1_125_000 || o.Invoice.TaxCode != "0101234567-001" {
		t.Fatalf("order after Pay: %+v", o)
	}

	// A forged callback is refused and changes nothing.
	body := fmt.Sprintf(`{"transaction_id":"FT-1","order_ref":%q,"amount":1125000,"currency":"VND"}`, o.Ref)
	if code, _ := w.postCallback(body, strings.Repeat("0", 64)); code != 401 {
		t.Fatalf("forged callback: status %d, want 401", code)
	}
	if got := w.orderOf(serialAn).Status; got != flows.OrderAwaitingPayment {
		t.Fatalf("forged callback changed the order to %s", got)
	}
	// The real one pays the order; its duplicate is acknowledged and ignored.
	if code, resp := w.pay("FT-1", o.Ref, 1_125_000); code != 200 || !strings.Contains(resp, "matched") {
		t.Fatalf("callback: %d %s", code, resp)
	}
	c.expect("Đã nhận thanh toán", o.Ref)
	m = c.expect("Xác nhận", "đồng ý ký")
	if code, resp := w.pay("FT-1", o.Ref, 1_125_000); code != 200 || !strings.Contains(resp, "duplicate") {
		t.Fatalf("duplicate callback: %d %s", code, resp)
	}
	if n := w.queryInt(`SELECT count(*) FROM payments WHERE transaction_id='FT-1'`); n != 1 {
		t.Fatalf("%d payments recorded for one transaction", n)
	}
	if n := w.queryInt(`SELECT used FROM promo_codes WHERE code='GIAM10'`); n != 1 {
		t.Fatalf("GIAM10 used %d times, want 1", n)
	}

	c.press(m, "Xác nhận")
	c.expect("a***@example.vn")
	code := w.otpFrom("an.nguyen@example.vn")
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	c.say(wrong)
	c.expect("còn 4 lần")
	c.say(code)
	c.expect("Đã gửi hồ sơ", o.Ref)
	if n := w.queryInt(`SELECT count(*) FROM dossiers d JOIN orders o ON o.id=d.order_id WHERE o.ref=$1 AND d.method='otp' AND d.signed_at IS NOT NULL AND d.status='submitted'`, o.Ref); n != 1 {
		t.Fatalf("dossier not submitted with an OTP signature")
	}
	c.say("/status")
	c.expect(o.Ref)
	staff := w.sb.Group(demoStaffChatID, "", true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := staff.WaitFor(ctx, func(m sandbox.Message) bool { return strings.Contains(m.Body(), o.Ref) }); err != nil {
		t.Fatalf("staff not told of the dossier: %v", err)
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// tinyJPEG is the smallest JPEG header the dossier accepts as a photo.
var tinyJPEG = append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, make([]byte, 200)...)

// Case 2: an expired individual certificate, hand-signed application photo.
func TestRenewalCase2ExpiredHandSigned(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1002)
	c.link("0987654321")
	c.say("/renew") // one certificate: straight to the price list
	m := c.expect("Bảng giá", serialBinh)
	c.press(m, "Gia hạn CTS cá nhân 2 năm")
	m = c.expect("2.150.000 ₫")
	c.press(m, "Kiểm tra thông tin")
	c.press(c.expect("Trần Thị Bình"), "Thông tin đúng")
	c.press(c.expect("MST trên hóa đơn"), "Thông tin đúng")
	c.press(c.expect("Người thanh toán"), "Thông tin đúng")
	c.press(c.expect("2.150.000 ₫"), "Thanh toán")
	c.expect("Vietcombank", "2.150.000 ₫")
	o := w.orderOf(serialBinh)
	// Underpaid first: recorded, shown to staff, the order waits.
	if code, resp := w.pay("FT-2a", o.Ref, 2_000_000); code != 200 || !strings.Contains(resp, "underpaid") {
		t.Fatalf("underpaid callback: %d %s", code, resp)
	}
	c.expect("2.000.000 ₫")
	if got := w.orderOf(serialBinh).Status; got != flows.OrderAwaitingPayment {
		t.Fatalf("underpaid order is %s", got)
	}
	// Staff check the statement and mark it paid.
	staff := w.sb.Group(demoStaffChatID, "", true)
	staff.Send(9001, "/paid "+o.Ref, 0)
	c.expect("Đã nhận thanh toán", o.Ref)
	m = c.expect("Xác nhận")
	c.press(m, "Xác nhận")
	m = c.expect("Ký tay")
	c.press(m, "Ký tay")
	form := c.expect("In đơn")
	if form.Document == nil {
		t.Fatalf("want the application form as a document, got %q", form.Body())
	}
	c.expect("ảnh") // asks for photos
	c.u.SendDocument("notes.txt", "text/plain", []byte("hello"), "")
	c.expect("ảnh")
	c.u.SendPhoto("don.jpg", tinyJPEG, "")
	c.press(c.expectButton("Gửi hồ sơ"), "Gửi hồ sơ")
	c.expect("Đã gửi hồ sơ", o.Ref)
	c.expect("giữ lại bản giấy gốc")
	if n := w.queryInt(`SELECT count(*) FROM dossier_files f JOIN dossiers d ON d.id=f.dossier_id JOIN orders o ON o.id=d.order_id WHERE o.ref=$1 AND f.kind='photo' AND length(f.content) > 0`, o.Ref); n != 1 {
		t.Fatalf("%d photos kept, want 1", n)
	}
	if got := w.orderOf(serialBinh).Status; got != flows.OrderSubmitted {
		t.Fatalf("order is %s after Send dossier", got)
	}
}

// Case 2: a still-valid member (employee) certificate, digitally signed PDF.
func TestRenewalCase2MemberDigital(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1002)
	_ = c
	c = w.customer(1003)
	c.say("/start")
	c.u.ShareContact("0903111222")
	c.expect("is now linked")
	c.say("/renew")
	m := c.expect(serialChau)
	c.press(m, "Gia hạn CTS nhân viên 1 năm")
	c.press(c.expect("990.000 ₫"), "Check")
	c.press(c.expect("Lê Minh Châu"), "Correct")
	c.press(c.expect("invoice"), "Correct")
	c.press(c.expect("Payer"), "Correct")
	c.press(c.expect("990.000 ₫"), "Pay")
	c.expect("Vietcombank", "990.000 ₫")
	o := w.orderOf(serialChau)
	if code, _ := w.pay("FT-3", o.Ref, 990_000); code != 200 {
		t.Fatal("callback refused")
	}
	m = c.expect("Confirm")
	c.press(m, "Confirm")
	m = c.expect("Digital")
	c.press(m, "Digital")
	c.expect("PDF")
	c.u.SendPhoto("x.jpg", tinyJPEG, "")
	c.expect("PDF")
	c.u.SendDocument("don-ky-so.pdf", "application/pdf", []byte("%PDF-1.7\n% signed\n"), "")
	c.press(c.expectButton("Send dossier"), "Send dossier")
	c.expect(o.Ref)
	if got := w.orderOf(serialChau).Status; got != flows.OrderSubmitted {
		t.Fatalf("order is %s", got)
	}
}
