package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/payments"
	"github.com/renewbot/renewbot/sandbox"
	"github.com/renewbot/renewbot/storage/postgres"
	"github.com/renewbot/renewbot/storage/postgres/pgtest"
	"github.com/renewbot/renewbot/storage/redisstate"
	"github.com/renewbot/renewbot/storage/redisstate/redistest"
)

// world is the whole product wired as in production — real PostgreSQL, real
// Redis, the sandbox Bot API over HTTP with the real go-telegram/bot client —
// with demo data loaded and a clock the test controls.
type world struct {
	t     *testing.T
	sb    *sandbox.Server
	box   *sandbox.Mailbox
	db    *postgres.DB
	rs    *redisstate.Store
	clock *testClock
	cfg   Config
	app   *app
	base  string // the app's HTTP address
	stop  func()
	logs  *syncBuffer
}

const testPaymentSecret = "test-payment-secret"

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newWorld(t *testing.T) *world {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: pgtest.NewDB(t), rs: redistest.New(t), logs: &syncBuffer{}}
	w.clock = &testClock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, loc)}
	w.box = sandbox.NewMailbox()
	smtpAddr, err := w.box.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.box.Close)
	users := []sandbox.DemoUser{}
	for _, u := range demoUsers {
		users = append(users, sandbox.DemoUser{ID: u.TelegramID, FirstName: u.FirstName, LanguageCode: u.Lang, Phone: u.Phone})
	}
	w.sb = sandbox.New(sandbox.Config{Users: users, StaffGroupID: demoStaffChatID, StaffGroupTitle: "Staff", PaymentSecret: testPaymentSecret})
	apiURL, err := w.sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.sb.Close)
	w.cfg, err = loadConfig(map[string]string{
		"TELEGRAM_TOKEN":   w.sb.Token(),
		"TELEGRAM_API_URL": apiURL,
		"DATABASE_URL":     "postgres://unused@127.0.0.1:1/x",
		"REDIS_URL":        "redis://127.0.0.1:1/0",
		"STAFF_CHAT_ID":    fmt.Sprint(demoStaffChatID),
		"STAFF_USER_IDS":   "9001,9002",
		"PAYMENT_SECRET":   testPaymentSecret,
		"OTP_SECRET":       "test-otp",
		"SMTP_ADDR":        smtpAddr,
		"LOG_LEVEL":        "debug",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadDemo(context.Background(), w.db, w.clock.Now(), loc); err != nil {
		t.Fatal(err)
	}
	w.start()
	t.Cleanup(func() {
		w.stop()
		if t.Failed() {
			t.Logf("app log:\n%s", tail(w.logs.String(), 6000))
		}
	})
	return w
}

// start runs the app (HTTP server + polling bot) until stop.
func (w *world) start() {
	w.t.Helper()
	a, err := newApp(context.Background(), w.cfg, w.logs, appOptions{Clock: w.clock, DB: w.db, Redis: w.rs})
	if err != nil {
		w.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	w.app, w.base = a, "http://"+ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	w.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				w.t.Errorf("app run: %v", err)
			}
		case <-time.After(40 * time.Second):
			w.t.Errorf("app did not stop")
		}
		w.stop = func() {}
	}
}

// restart stops the app and starts a new one on the same storage.
func (w *world) restart() {
	w.stop()
	w.start()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// customer is a demo user chatting with the bot.
type customer struct {
	w *world
	u *sandbox.User
}

func (w *world) customer(id int64) *customer { return &customer{w: w, u: w.sb.User(id)} }

// expect waits for a bot message containing every fragment.
func (c *customer) expect(fragments ...string) sandbox.Message {
	c.w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.u.WaitFor(ctx, func(m sandbox.Message) bool {
		body := m.Body()
		for _, f := range fragments {
			if !strings.Contains(body, f) {
				return false
			}
		}
		return true
	})
	if err != nil {
		c.w.t.Fatalf("waiting for %q: %v", fragments, err)
	}
	return m
}

// expectButton waits for a bot message carrying a button whose label contains label.
func (c *customer) expectButton(label string) sandbox.Message {
	c.w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.u.WaitFor(ctx, func(m sandbox.Message) bool { return m.HasButton(label) })
	if err != nil {
		c.w.t.Fatalf("waiting for button %q: %v", label, err)
	}
	return m
}

func (c *customer) say(text string) { c.u.Send(text) }

func (c *customer) press(m sandbox.Message, button string) {
	c.w.t.Helper()
	if _, err := c.u.Press(m, button); err != nil {
		c.w.t.Fatalf("press %q: %v (buttons %q)", button, err, m.ButtonTexts())
	}
}

// link walks /start and contact sharing.
func (c *customer) link(phone string) {
	c.w.t.Helper()
	c.say("/start")
	c.expect("Chia sẻ số điện thoại")
	c.u.ShareContact(phone)
	c.expect("Đã liên kết")
	c.expect("muốn làm gì") // the menu follows
}

// pay fires the payment provider's signed callback.
func (w *world) pay(txn, ref string, amount int64) (int, string) {
	w.t.Helper()
	body := fmt.Sprintf(`{"transaction_id":%q,"order_ref":%q,"amount":%d,"currency":"VND","paid_at":"2026-11-26T10:05:00+07:00","payer_name":"NGUYEN VAN AN"}`, txn, ref, amount)
	return w.postCallback(body, payments.Sign(testPaymentSecret, []byte(body)))
}

func (w *world) postCallback(body, sig string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.base+"/payments/callback", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// orderOf returns the certificate's open order.
func (w *world) orderOf(serial string) flows.Order {
	w.t.Helper()
	var id int64
	if err := w.db.Pool().QueryRow(context.Background(), `SELECT id FROM certificates WHERE serial=$1`, serial).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	o, err := w.db.OpenOrder(context.Background(), id)
	if err != nil {
		w.t.Fatalf("open order of %s: %v", serial, err)
	}
	return o
}
