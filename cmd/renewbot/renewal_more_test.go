package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/sandbox"
)

// More renewal scenarios of issue 4: every code rejection, a double-tapped
// Pay, a restart and a Redis flush mid-flow, and inputs that do not fit the
// step.

// exec runs SQL against the test database.
func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.db.Pool().Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
}

// toOrderStep links An, starts /renew and picks the individual 1-year
// package; it returns the order step message.
func toOrderStep(c *customer) sandbox.Message {
	c.w.t.Helper()
	c.link("0912345678")
	c.say("/renew")
	m := c.expect("Anh/chị muốn gia hạn chứng thư số (CTS) nào?") // An has two certificates
	c.press(m, "Gia hạn "+serialAn)
	m = c.expect("Bảng giá", serialAn)
	c.press(m, "Gia hạn CTS cá nhân 1 năm")
	return c.expect("Tổng thanh toán: 1.250.000 ₫", "16/12/2027", "20 ngày")
}

// orderTotals reads the order's price, discount, total and code.
func (w *world) orderTotals(ref string) (price, discount, total int64, code string) {
	w.t.Helper()
	err := w.db.Pool().QueryRow(context.Background(),
		`SELECT price_vnd, discount_vnd, total_vnd, promo_code FROM orders WHERE ref=$1`, ref).Scan(&price, &discount, &total, &code)
	if err != nil {
		w.t.Fatal(err)
	}
	return
}

func TestRenewalEveryCodeRejection(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	toOrderStep(c)
	o := w.orderOf(serialAn)
	now := w.clock.Now()
	// A code that starts tomorrow, one with no use left, and GIAM10 already
	// redeemed once (its limit per customer) on another paid order of An's.
	w.exec(`INSERT INTO promo_codes (code, kind, percent_off, valid_from, valid_until, max_uses, per_customer)
		VALUES ('SAPTOI', 'discount', 10, $1, $2, 100, 1)`, now.AddDate(0, 0, 1), now.AddDate(0, 0, 30))
	w.exec(`INSERT INTO promo_codes (code, kind, percent_off, valid_from, valid_until, max_uses, per_customer, used)
		VALUES ('HETLUOT', 'discount', 10, $1, $2, 5, 1, 5)`, now.AddDate(0, 0, -10), now.AddDate(0, 0, 30))
	w.exec(`INSERT INTO orders (customer_id, certificate_id, package_id, status, price_vnd, discount_vnd, total_vnd, promo_id, promo_code, created_at, paid_at)
		SELECT c.customer_id, c.id, p.id, 'approved', p.price_vnd, 185000, p.price_vnd - 185000, pc.id, pc.code, $1, $1
		FROM certificates c, packages p, promo_codes pc
		WHERE c.serial = $2 AND p.code = 'TC1' AND pc.code = 'GIAM10'`, now.AddDate(-1, 0, 0), serialAnOrg)
	w.exec(`INSERT INTO promo_redemptions (promo_id, order_id, customer_id, redeemed_at)
		SELECT o.promo_id, o.id, o.customer_id, o.created_at FROM orders o JOIN certificates c ON c.id = o.certificate_id
		WHERE c.serial = $1`, serialAnOrg)

	unchanged := func(after string) {
		t.Helper()
		if p, d, tot, code := w.orderTotals(o.Ref); p != 1_250_000 || d != 0 || tot != 1_250_000 || code != "" {
			t.Fatalf("after %s the order changed: price %d discount %d total %d code %q", after, p, d, tot, code)
		}
	}
	refused := func(typed, code, reason string) {
		t.Helper()
		c.say(typed)
		m := c.expectButton("Áp dụng mã " + code)
		if !strings.Contains(m.Body(), "Tổng thanh toán: 1.250.000 ₫") {
			t.Fatalf("the pending code changed the total: %q", m.Body())
		}
		unchanged("typing " + code) // typing alone counts for nothing
		c.press(m, "Áp dụng mã "+code)
		c.expect(reason)
		// The order step again, the code still pending.
		m = c.expect("Tổng thanh toán: 1.250.000 ₫", "Anh/chị đã nhập mã "+code)
		if !m.HasButton("Áp dụng mã "+code) || !m.HasButton("Kiểm tra thông tin") {
			t.Fatalf("order step buttons after refusing %s: %q", code, m.ButtonTexts())
		}
		unchanged("applying " + code)
	}
	refused("khongco", "KHONGCO", "Mã KHONGCO không tồn tại")
	refused("HETHAN", "HETHAN", "Mã HETHAN đã hết hạn sử dụng")
	refused("chi3nam", "CHI3NAM", "Mã CHI3NAM không áp dụng cho loại CTS hoặc gói sản phẩm")
	refused("SAPTOI", "SAPTOI", "Mã SAPTOI chưa đến thời gian áp dụng")
	refused("hetluot", "HETLUOT", "Mã HETLUOT đã hết lượt sử dụng")
	refused("GIAM10", "GIAM10", "Anh/chị đã sử dụng mã GIAM10 đủ số lần cho phép")

	// Not a code at all: too long, spaces, another script. Refused before
	// anything is looked up; the step (with the last pending code) again.
	for _, typed := range []string{strings.Repeat("GIAM", 9), "GIAM 10", "GIẢMGIÁ", "ГИАМ10"} {
		c.say(typed)
		c.expect("Mã không hợp lệ", "tối đa 32 ký tự")
		c.expect("Tổng thanh toán: 1.250.000 ₫", "Anh/chị đã nhập mã GIAM10")
		unchanged("typing " + typed)
	}

	// A valid code applies...
	c.say("gioithieu")
	m := c.expectButton("Áp dụng mã GIOITHIEU")
	c.press(m, "Áp dụng mã GIOITHIEU")
	c.expect("Đã áp dụng mã GIOITHIEU", "200.000 ₫")
	m = c.expectButton("Bỏ mã GIOITHIEU")
	if !strings.Contains(m.Body(), "Tổng thanh toán: 1.050.000 ₫") || !strings.Contains(m.Body(), "GIOITHIEU: −200.000 ₫") {
		t.Fatalf("order step with the code: %q", m.Body())
	}
	if p, d, tot, code := w.orderTotals(o.Ref); p != 1_250_000 || d != 200_000 || tot != 1_050_000 || code != "GIOITHIEU" {
		t.Fatalf("after applying GIOITHIEU: price %d discount %d total %d code %q", p, d, tot, code)
	}
	// ...and removing it restores the price.
	c.press(m, "Bỏ mã GIOITHIEU")
	c.expect("Đã bỏ mã giảm giá")
	m = c.expect("Tổng thanh toán: 1.250.000 ₫")
	if strings.Contains(m.Body(), "GIOITHIEU") || m.HasButton("Bỏ mã") {
		t.Fatalf("the code is still shown after removal: %q %q", m.Body(), m.ButtonTexts())
	}
	unchanged("removing GIOITHIEU")
	if n := w.queryInt(`SELECT count(*) FROM promo_redemptions`); n != 1 {
		t.Fatalf("%d redemptions, want only the one inserted", n)
	}
	if n := w.queryInt(`SELECT used FROM promo_codes WHERE code='GIOITHIEU'`); n != 0 {
		t.Fatalf("GIOITHIEU used %d times before any payment", n)
	}
}

// toConfirm walks from the order step through the three info blocks to the
// final summary with the Pay button.
func toConfirm(c *customer, orderStep sandbox.Message) sandbox.Message {
	c.w.t.Helper()
	c.press(orderStep, "Kiểm tra thông tin")
	c.press(c.expect("Nguyễn Văn An", "001085012345"), "Thông tin đúng")
	c.press(c.expect("MST trên hóa đơn"), "Thông tin đúng")
	c.press(c.expect("Người thanh toán"), "Thông tin đúng")
	return c.expectButton("Thanh toán")
}

// waitAnswered waits until the bot answered the callback query id.
func (w *world) waitAnswered(id string) string {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if text, ok := w.sb.CallbackAnswer(id); ok {
			return text
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("callback %s never answered", id)
	return ""
}

func photos(ms []sandbox.Message) int {
	n := 0
	for _, m := range ms {
		if len(m.Photo) > 0 {
			n++
		}
	}
	return n
}

func TestRenewalDoubleTappedPay(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	m := toConfirm(c, toOrderStep(c))
	before := len(c.u.Messages())
	id1, err1 := c.u.Press(m, "Thanh toán")
	id2, err2 := c.u.Press(m, "Thanh toán")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	c.expect("1.250.000 ₫", "Vietcombank", "0011004567890")
	w.waitAnswered(id1)
	notice := w.waitAnswered(id2)
	// The second tap is answered with the expired-button notice (or shows
	// the step it is at now); give its messages time to arrive.
	c.expect("Nút này đã hết hiệu lực")
	time.Sleep(300 * time.Millisecond)
	if n := w.queryInt(`SELECT count(*) FROM orders o JOIN certificates c ON c.id=o.certificate_id WHERE c.serial=$1`, serialAn); n != 1 {
		t.Fatalf("%d orders for the certificate after a double tap", n)
	}
	o := w.orderOf(serialAn)
	if o.Status != flows.OrderAwaitingPayment || o.TotalVND != 1_250_000 {
		t.Fatalf("order after a double tap: %s %d", o.Status, o.TotalVND)
	}
	after := c.u.Messages()[before:]
	if n := photos(after); n != 1 {
		var bodies []string
		for _, m := range after {
			bodies = append(bodies, m.Body())
		}
		t.Errorf("%d VietQR pictures sent for a double tap, want 1 (notice %q, messages %q)", n, notice, bodies)
	}
}

func TestRenewalRestartMidFlow(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	m := toOrderStep(c)
	w.restart()
	c.say("GIAM10")
	m = c.expectButton("Áp dụng mã GIAM10")
	c.press(m, "Áp dụng mã GIAM10")
	c.expect("Đã áp dụng mã GIAM10", "125.000 ₫")
	m = c.expect("Tổng thanh toán: 1.125.000 ₫")
	m = toConfirm(c, m)
	c.press(m, "Thanh toán")
	if qr := c.expect(); len(qr.Photo) == 0 {
		t.Fatalf("want the VietQR picture, got %q", qr.Body())
	}
	c.expect("1.125.000 ₫", "Vietcombank")
	o := w.orderOf(serialAn)
	if o.Status != flows.OrderAwaitingPayment || o.TotalVND != 1_125_000 || o.PromoCode != "GIAM10" {
		t.Fatalf("order after Pay: %s %d %q", o.Status, o.TotalVND, o.PromoCode)
	}
}

func TestRenewalRedisFlushedMidFlow(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	m := toOrderStep(c)
	ref := w.orderOf(serialAn).Ref
	c.press(m, "Kiểm tra thông tin")
	c.press(c.expect("Nguyễn Văn An", "001085012345"), "Thông tin đúng")
	m = c.expect("MST trên hóa đơn")
	c.press(m, "Sửa MST trên hóa đơn")
	c.expect("Vui lòng nhập giá trị mới", "MST trên hóa đơn")
	c.say("0101234567-001")
	c.expect("Đã lưu")
	invoice := c.expect("MST trên hóa đơn", "0101234567-001")

	// Redis loses the conversation.
	if err := w.rs.DeleteSession(context.Background(), 1001); err != nil {
		t.Fatal(err)
	}
	c.press(invoice, "Thông tin đúng")
	c.expect("Nút này đã hết hiệu lực")
	c.say("/renew")
	m = c.expect("Anh/chị muốn gia hạn chứng thư số (CTS) nào?")
	c.press(m, "Gia hạn "+serialAn)
	c.expect("Anh/chị đang có đơn gia hạn " + ref + " chưa hoàn tất")
	m = c.expect("Đơn gia hạn "+ref, "Tổng thanh toán: 1.250.000 ₫")
	if !m.HasButton("Kiểm tra thông tin") {
		t.Fatalf("not the order step: %q", m.ButtonTexts())
	}
	if n := w.queryInt(`SELECT count(*) FROM orders`); n != 1 {
		t.Fatalf("%d orders, want the same one", n)
	}
	// Nothing lost: the edited tax code is still there.
	c.press(m, "Kiểm tra thông tin")
	c.press(c.expect("Nguyễn Văn An", "001085012345"), "Thông tin đúng")
	c.press(c.expect("MST trên hóa đơn", "0101234567-001"), "Thông tin đúng")
	c.press(c.expect("Người thanh toán"), "Thông tin đúng")
	c.press(c.expectButton("Thanh toán"), "Thanh toán")
	c.expect("1.250.000 ₫", "Vietcombank")
	if o := w.orderOf(serialAn); o.Ref != ref || o.Status != flows.OrderAwaitingPayment || o.Invoice.TaxCode != "0101234567-001" {
		t.Fatalf("order after Pay: %+v", o)
	}
}

func TestRenewalUnexpectedInputs(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	m := toOrderStep(c)
	ref := w.orderOf(serialAn).Ref

	// A photo where text (a code) was expected.
	c.u.SendPhoto("anh.jpg", tinyJPEG, "")
	c.expect("Ở bước này tôi chưa cần tệp hay ảnh")
	m = c.expect("Đơn gia hạn "+ref, "Tổng thanh toán: 1.250.000 ₫")

	// Text in another script in an edit field.
	c.press(m, "Kiểm tra thông tin")
	m = c.expect("Nguyễn Văn An", "001085012345")
	c.press(m, "Sửa Địa chỉ")
	c.expect("Vui lòng nhập giá trị mới", "Địa chỉ")
	c.say("สวัสดี")
	c.expect("Vui lòng nhập bằng chữ tiếng Việt hoặc chữ Latin")
	c.expect("Vui lòng nhập giá trị mới", "Địa chỉ")
	c.u.SendPhoto("anh.jpg", tinyJPEG, "")
	c.expect("Ở bước này tôi chưa cần tệp hay ảnh")
	c.expect("Vui lòng nhập giá trị mới", "Địa chỉ")
	if o := w.orderOf(serialAn); o.Subject.Address != "12 Trần Hưng Đạo, Hoàn Kiếm, Hà Nội" {
		t.Fatalf("address changed to %q", o.Subject.Address)
	}
	c.say("15 Lý Thái Tổ, Hoàn Kiếm, Hà Nội")
	c.expect("Đã lưu")
	m = c.expect("Nguyễn Văn An", "15 Lý Thái Tổ")
	c.press(m, "Thông tin đúng")
	c.expect("MST trên hóa đơn")

	// A command in the middle of the invoice step works...
	c.say("/certs")
	c.expect("Anh/chị có 2 chứng thư số", serialAn, serialAnOrg)
	// ...and the renewal continues with /renew.
	c.say("/renew")
	m = c.expect("Anh/chị muốn gia hạn chứng thư số (CTS) nào?")
	c.press(m, "Gia hạn "+serialAn)
	c.expect("Anh/chị đang có đơn gia hạn " + ref)
	m = c.expect("Đơn gia hạn "+ref, "Tổng thanh toán: 1.250.000 ₫")
	if o := w.orderOf(serialAn); o.Subject.Address != "15 Lý Thái Tổ, Hoàn Kiếm, Hà Nội" {
		t.Fatalf("address is %q after resuming", o.Subject.Address)
	}

	// Cancel on the order step cancels the draft and shows the menu.
	c.press(m, "Hủy")
	c.expect("Đã hủy đơn gia hạn " + ref)
	c.expect("muốn làm gì")
	var status string
	if err := w.db.Pool().QueryRow(context.Background(), `SELECT status FROM orders WHERE ref=$1`, ref).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != string(flows.OrderCancelled) {
		t.Fatalf("order %s is %s after Cancel", ref, status)
	}
	// A new /renew starts afresh at the price list.
	c.say("/renew")
	m = c.expect("Anh/chị muốn gia hạn chứng thư số (CTS) nào?")
	c.press(m, "Gia hạn "+serialAn)
	c.expect("Bảng giá", serialAn)
}
