package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/renewbot/renewbot/sandbox"
)

func TestLinkAndListCertificates(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	c.say("/start")
	m := c.expect("Chia sẻ số điện thoại")
	if len(m.ReplyKeyboard) != 1 || !m.ReplyKeyboard[0][0].RequestContact {
		t.Fatalf("want a request_contact keyboard, got %+v", m.ReplyKeyboard)
	}
	c.say("0912345678")
	c.expect("dùng nút")
	c.u.ShareForeignContact("0987654321", 4242)
	c.expect("của chính anh/chị")
	c.u.ShareContact("+84 912 345 678")
	c.expect("Đã liên kết", "Nguyễn Văn An")
	c.say("/certs")
	m = c.expect("5404FFFEB7033FB316D672201B7B0001", "5404FFFEB7033FB316D672201B7B0002")
	for _, want := range []string{"CTS cá nhân", "CTS tổ chức", "còn 20 ngày", "còn 75 ngày", "16/12/2026"} {
		if !strings.Contains(m.Body(), want) {
			t.Errorf("certificate list lacks %q:\n%s", want, m.Body())
		}
	}
	// The button works as well as the command.
	menu := c.expect("muốn làm gì")
	_ = menu
	c.say("/menu")
	menu = c.expect("muốn làm gì")
	c.press(menu, "Chứng thư của tôi")
	c.expect("5404FFFEB7033FB316D672201B7B0001")
	for _, id := range w.sb.UnansweredCallbacks() {
		t.Errorf("callback %s never answered", id)
	}
}

func TestUnknownPhoneGetsAWayToAPerson(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1004)
	c.say("/start")
	c.expect("Chia sẻ số điện thoại")
	c.u.ShareContact("0977000111")
	m := c.expect("chưa có trong hệ thống", "1900 1234")
	c.press(m, "Gặp nhân viên")
	c.expect("nhân viên hỗ trợ")
	staff := w.sb.Group(demoStaffChatID, "", true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := staff.WaitFor(ctx, func(m sandbox.Message) bool { return strings.Contains(m.Body(), "*******111") }); err != nil {
		t.Fatalf("staff not told about the unknown number (masked): %v", err)
	}
}

func TestLanguageSwitch(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1003) // Telegram language_code en
	c.say("/start")
	c.expect("Share my phone number")
	c.u.ShareContact("0903111222")
	c.expect("is now linked")
	c.say("/lang")
	m := c.expect("Choose a language")
	c.press(m, "Tiếng Việt")
	c.expect("Đã chuyển sang tiếng Việt")
	c.say("/certs")
	c.expect("CTS cá nhân thuộc tổ chức (Nhân viên)")
}

// Two updates of one chat that arrive together are applied in order, once each.
func TestConcurrentUpdatesOfOneChatInOrder(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	c.link("0912345678")
	// Stop the bot so both updates wait in one getUpdates batch.
	w.stop()
	c.u.Send("/lang")
	c.u.Send("/certs")
	w.start()
	first := c.expect("Chọn ngôn ngữ")
	second := c.expect("5404FFFEB7033FB316D672201B7B0001")
	if first.ID >= second.ID {
		t.Fatalf("replies out of order: /lang answered as message %d, /certs as %d", first.ID, second.ID)
	}
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, m := range c.u.Messages() {
		if strings.Contains(m.Body(), "5404FFFEB7033FB316D672201B7B0002") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("/certs answered %d times, want 1", n)
	}
}

// The same update delivered twice (a crash before the offset moved, or two
// instances) is applied once.
func TestReplayedUpdateAppliedOnce(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	c.link("0912345678")
	before := len(c.u.Messages())
	u := &models.Update{ID: 777000, Message: &models.Message{
		ID: 9999, Date: int(time.Now().Unix()), Text: "/certs",
		From:     &models.User{ID: 1001, FirstName: "An", LanguageCode: "vi"},
		Chat:     models.Chat{ID: 1001, Type: models.ChatTypePrivate},
		Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: 6}},
	}}
	done := make(chan struct{})
	for range 2 {
		go func() { w.app.bot.HandleUpdate(context.Background(), u); done <- struct{}{} }()
	}
	<-done
	<-done
	w.app.bot.HandleUpdate(context.Background(), u)
	if got := len(c.u.Messages()) - before; got != 1 {
		t.Fatalf("replayed update produced %d messages, want 1", got)
	}
}

// A press on a keyboard drawn for an earlier step is refused politely and
// the current step is shown again.
func TestStaleButtonRejected(t *testing.T) {
	w := newWorld(t)
	c := w.customer(1001)
	c.link("0912345678")
	c.say("/lang")
	old := c.expect("Chọn ngôn ngữ")
	c.say("/lang")
	c.expect("Chọn ngôn ngữ")
	c.say("/certs") // moves the session version on
	c.expect("5404FFFEB7033FB316D672201B7B0001")
	// The language keyboard's buttons are not entry points: they expire.
	cb, err := c.u.Press(old, "English")
	if err != nil {
		t.Fatal(err)
	}
	c.expect("hết hiệu lực")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !w.sb.CallbackAnswered(cb) {
		select {
		case <-ctx.Done():
			t.Fatal("stale press not answered")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if text, _ := w.sb.CallbackAnswer(cb); !strings.Contains(text, "hết hiệu lực") {
		t.Errorf("callback answer %q, want the expiry notice", text)
	}
}
