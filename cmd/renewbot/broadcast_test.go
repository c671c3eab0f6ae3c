package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/sandbox"
)

// staffDesk is the staff group as seen by a test.
type staffDesk struct {
	w *world
	g *sandbox.Group
}

func (w *world) staffDesk() *staffDesk {
	return &staffDesk{w: w, g: w.sb.Group(demoStaffChatID, "", true)}
}

func (s *staffDesk) say(from int64, text string) { s.g.Send(from, text, 0) }

// expect waits for a bot message in the staff group containing every fragment.
func (s *staffDesk) expect(fragments ...string) sandbox.Message {
	s.w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.g.WaitFor(ctx, func(m sandbox.Message) bool {
		for _, f := range fragments {
			if !strings.Contains(m.Body(), f) {
				return false
			}
		}
		return true
	})
	if err != nil {
		s.w.t.Fatalf("staff chat: waiting for %q: %v", fragments, err)
	}
	return m
}

func (s *staffDesk) press(from int64, m sandbox.Message, button string) {
	s.w.t.Helper()
	if _, err := s.g.Press(from, m, button); err != nil {
		s.w.t.Fatalf("staff press %q: %v (buttons %q)", button, err, m.ButtonTexts())
	}
}

var reBroadcastRef = regexp.MustCompile(`#(\d+)`)

func broadcastRef(t *testing.T, m sandbox.Message) string {
	t.Helper()
	sm := reBroadcastRef.FindStringSubmatch(m.Body())
	if sm == nil {
		t.Fatalf("no broadcast number in %q", m.Body())
	}
	return sm[1]
}

// expectDispatching waits for a staff message while running the dispatcher
// as its cron job would, with the clock moving on: a report enqueued by one
// dispatch is sent by a later one, and a message postponed by the per-chat
// rate (the app's own cron dispatcher runs concurrently) is due a second
// later — which a frozen test clock would never reach.
func (s *staffDesk) expectDispatching(fragments ...string) sandbox.Message {
	s.w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		m, err := s.g.WaitFor(ctx, func(m sandbox.Message) bool {
			for _, f := range fragments {
				if !strings.Contains(m.Body(), f) {
					return false
				}
			}
			return true
		})
		cancel()
		if err == nil {
			return m
		}
		if time.Now().After(deadline) {
			var dump []string
			rows, _ := s.w.db.Pool().Query(context.Background(), `SELECT format('broadcast %s %s total=%s sent=%s blocked=%s failed=%s reported=%s', id, status, total, sent, blocked, failed, reported) FROM broadcasts
				UNION ALL SELECT format('outbox %s chat=%s kind=%s key=%s status=%s attempts=%s next=%s', id, chat_id, kind, idempotency_key, status, attempts, next_attempt_at) FROM outbox`)
			for rows.Next() {
				var line string
				rows.Scan(&line)
				dump = append(dump, line)
			}
			rows.Close()
			s.w.t.Fatalf("staff chat: waiting for %q: %v\n%s", fragments, err, strings.Join(dump, "\n"))
		}
		s.w.clock.Set(s.w.clock.Now().Add(2 * time.Second))
		s.w.dispatch()
	}
}

func (w *world) dispatch() {
	w.t.Helper()
	if _, err := w.app.sched.Dispatch(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// compose walks /broadcast -> text -> segment buttons up to the preview.
func (s *staffDesk) compose(from int64, text string, segment ...string) sandbox.Message {
	s.w.t.Helper()
	s.say(from, "/broadcast")
	s.expect("Nhập nội dung thông báo")
	s.say(from, text)
	m := s.expect("Gửi cho nhóm khách hàng nào?")
	for _, b := range segment {
		s.press(from, m, b)
		m = s.expectButton()
	}
	return m
}

// expectButton waits for the next bot message with buttons.
func (s *staffDesk) expectButton() sandbox.Message {
	s.w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.g.WaitFor(ctx, func(m sandbox.Message) bool { return len(m.ButtonTexts()) > 0 })
	if err != nil {
		s.w.t.Fatalf("staff chat: waiting for buttons: %v", err)
	}
	return m
}

// A broadcast to "expiring within 30 days": the preview counts the linked
// customers of the segment, only the author confirms, the dispatcher sends
// it, a customer who blocked the bot is reported blocked, and staff get
// the final report.
func TestBroadcastExpiringWithin30Days(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Bình gets a second, valid certificate expiring in 10 days; An's
	// expires in 20 days; Châu's in 40 (outside the segment).
	if _, err := w.db.Pool().Exec(ctx, `
		INSERT INTO certificates (serial, customer_id, type, subject, not_before, not_after)
		SELECT 'BC-BINH-2', id, 'organization', 'CN=Hộ kinh doanh Bình', $1::timestamptz - interval '355 days', $1::timestamptz + interval '10 days'
		FROM customers WHERE code = 'KH002'`, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	an, binh, chau := w.customer(1001), w.customer(1002), w.customer(1003)
	an.link("0912345678")
	binh.link("0987654321")
	chau.say("/start")
	chau.expect("Share my phone number")
	chau.u.ShareContact("0903111222")
	chau.expect("is now linked")

	staff := w.staffDesk()
	text := "Ưu đãi tháng 12: giảm 10% phí gia hạn với mã GIAM10."
	m := staff.compose(9001, text, "Sắp hết hạn")
	if !strings.Contains(m.Body(), "Hết hạn trong bao nhiêu ngày") || !m.HasButton("30 ngày") {
		t.Fatalf("days step: %q %q", m.Body(), m.ButtonTexts())
	}
	staff.press(9001, m, "30 ngày")
	preview := staff.expect("Xem trước", text, "hết hạn trong 30 ngày", "Số người nhận: 2")

	// Another staff member cannot confirm someone else's draft.
	staff.press(9002, preview, "Gửi")
	staff.expect("chỉ người soạn mới xác nhận")
	if n := w.queryInt(`SELECT count(*) FROM broadcasts WHERE status = 'draft'`); n != 1 {
		t.Fatalf("%d drafts after a foreign Confirm, want 1", n)
	}

	binh.u.Block()
	staff.press(9001, preview, "Gửi")
	started := staff.expect("Đã bắt đầu gửi thông báo", "tới 2 người")
	ref := broadcastRef(t, started)
	// A second press on the same Confirm starts nothing more.
	staff.press(9001, preview, "Gửi")

	w.dispatch()
	an.expect("📣 " + text)
	staff.expectDispatching("#"+ref+" đã gửi xong", "thành công 1/2", "bị chặn 1", "lỗi 0")
	w.dispatch()

	if n := w.queryInt(`SELECT count(*) FROM broadcasts WHERE status = 'done' AND total = 2 AND sent = 1 AND blocked = 1 AND failed = 0 AND id = $1`, atoi(ref)); n != 1 {
		t.Fatalf("broadcast %s not done with 1 sent and 1 blocked", ref)
	}
	if n := w.queryInt(`SELECT count(*) FROM broadcast_recipients`); n != 2 {
		t.Fatalf("%d recipients, want 2 (one broadcast, one row per chat)", n)
	}
	if n := w.queryInt(`SELECT count(*) FROM telegram_links WHERE chat_id = 1002 AND active`); n != 0 {
		t.Fatalf("the blocked chat's link is still active")
	}
	for _, m := range chau.u.Messages() {
		if strings.Contains(m.Body(), text) {
			t.Fatalf("Châu (certificate expiring in 40 days) got the broadcast")
		}
	}
	if got := strings.Count(strings.Join(bodies(staff.g.Messages()), "\n"), "đã gửi xong"); got != 1 {
		t.Fatalf("%d final reports, want 1", got)
	}
	for _, id := range w.sb.UnansweredCallbacks() {
		t.Errorf("callback %s never answered", id)
	}
}

func bodies(ms []sandbox.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body())
	}
	return out
}

// A broadcast confirmed during quiet hours waits for the morning; paused, it
// is not sent even when due; resumed, it is; cancelled, it never is, and
// cannot be resumed. Customers who opted out of reminders get none.
func TestBroadcastPauseResumeCancel(t *testing.T) {
	w := newWorld(t)
	an, chau := w.customer(1001), w.customer(1003)
	an.link("0912345678")
	chau.say("/start")
	chau.expect("Share my phone number")
	chau.u.ShareContact("0903111222")
	chau.expect("is now linked")
	if _, err := w.db.Pool().Exec(context.Background(), `UPDATE customers SET reminders_off = true WHERE code = 'KH003'`); err != nil {
		t.Fatal(err)
	}
	staff := w.staffDesk()
	loc := w.cfg.loc
	day := w.clock.Now().In(loc)
	w.clock.Set(time.Date(day.Year(), day.Month(), day.Day(), 22, 0, 0, 0, loc))

	text := "Hệ thống bảo trì tối thứ bảy."
	preview := staff.compose(9001, text, "Tất cả")
	if !strings.Contains(preview.Body(), "Số người nhận: 1") {
		t.Fatalf("preview should count An only (Châu opted out): %q", preview.Body())
	}
	staff.press(9001, preview, "Gửi")
	started := staff.expect("Đã bắt đầu gửi", "giờ yên lặng", "08:00")
	ref := broadcastRef(t, started)
	w.dispatch()
	if n := w.queryInt(`SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'pending'`); n != 1 {
		t.Fatalf("%d pending broadcast rows during quiet hours, want 1", n)
	}

	staff.say(9002, "/broadcast_pause "+ref) // any staff member may pause
	staff.expect("Đã tạm dừng thông báo #" + ref)
	w.clock.Set(time.Date(day.Year(), day.Month(), day.Day()+1, 9, 0, 0, 0, loc))
	w.dispatch()
	if n := w.queryInt(`SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'pending'`); n != 1 {
		t.Fatalf("a paused broadcast was sent")
	}
	staff.say(9001, "/broadcast_resume "+ref)
	staff.expect("Tiếp tục gửi thông báo #" + ref)
	w.dispatch()
	an.expect("📣 " + text)
	staff.expectDispatching("#"+ref+" đã gửi xong", "thành công 1/1")

	// Cancel: nothing is sent, and it is final.
	w.clock.Set(time.Date(day.Year(), day.Month(), day.Day()+1, 23, 0, 0, 0, loc))
	preview = staff.compose(9001, "Tin sẽ bị hủy.", "Theo loại chứng thư", "CTS cá nhân")
	if !strings.Contains(preview.Body(), "Số người nhận: 1") {
		t.Fatalf("preview of individual certificate holders: %q", preview.Body())
	}
	staff.press(9001, preview, "Gửi")
	ref2 := broadcastRef(t, staff.expect("Đã bắt đầu gửi"))
	staff.say(9001, "/broadcast_cancel "+ref2)
	staff.expect("Đã hủy thông báo #" + ref2)
	w.clock.Set(time.Date(day.Year(), day.Month(), day.Day()+2, 9, 0, 0, 0, loc))
	w.dispatch()
	staff.say(9001, "/broadcast_resume "+ref2)
	staff.expect("Không tìm thấy thông báo đang chạy #" + ref2)
	w.dispatch()
	if n := w.queryInt(`SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'skipped'`, atoi(ref2)); n != 1 {
		t.Fatalf("cancelled broadcast's recipient not skipped")
	}
	for _, m := range an.u.Messages() {
		if strings.Contains(m.Body(), "Tin sẽ bị hủy") {
			t.Fatalf("a cancelled broadcast was sent")
		}
	}
	// /cancel drops a draft.
	staff.say(9001, "/broadcast")
	staff.expect("Nhập nội dung thông báo")
	staff.say(9001, "/cancel")
	staff.expect("Đã hủy soạn thông báo")
	if n := w.queryInt(`SELECT count(*) FROM broadcasts WHERE status = 'draft'`); n != 0 {
		t.Fatalf("draft left after /cancel")
	}
	for _, id := range w.sb.UnansweredCallbacks() {
		t.Errorf("callback %s never answered", id)
	}
}
