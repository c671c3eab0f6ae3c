package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

const chromiumPath = "/usr/bin/chromium"

// fakeBot polls the sandbox and answers each text with "pong: <text>" and an
// inline button; it reports callback data on presses.
func fakeBot(ctx context.Context, t *testing.T, base string, presses chan<- string) {
	b, err := bot.New(testToken, bot.WithServerURL(base), bot.WithSkipGetMe())
	if err != nil {
		t.Error(err)
		return
	}
	var offset int64
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/bot%s/getUpdates?timeout=1&offset=%d", base, testToken, offset), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		var r struct {
			Result []models.Update `json:"result"`
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_ = json.Unmarshal(raw, &r)
		for _, u := range r.Result {
			offset = u.ID + 1
			switch {
			case u.Message != nil && u.Message.Text != "":
				_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "pong: " + u.Message.Text,
					ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Đồng ý", CallbackData: "agree"}}}}})
				if err != nil && ctx.Err() == nil {
					t.Error(err)
				}
			case u.CallbackQuery != nil:
				_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID, Text: "Đã nhận"})
				presses <- u.CallbackQuery.Data
			}
		}
	}
}

func TestWebPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test drives the web page with headless Chromium, which is missing at %s (install it: apt-get install -y chromium): %v", chromiumPath, err)
	}
	mb := NewMailbox()
	if _, err := mb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mb.Close)
	s, base := start(t, Config{
		Users:        []DemoUser{{ID: 2001, FirstName: "Minh", Label: "Trần Minh — Cty ABC", Phone: "+84901112233"}},
		StaffGroupID: -100777, StaffUsers: []DemoUser{{ID: 9001, FirstName: "Hà"}},
		Mailbox: mb,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	presses := make(chan string, 1)
	botCtx, stopBot := context.WithCancel(ctx)
	botDone := make(chan struct{})
	go func() { defer close(botDone); fakeBot(botCtx, t, base, presses) }()
	defer func() { stopBot(); <-botDone }()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	botReply := chromedp.Search(`//div[@data-from-bot="true"]//div[@data-testid="message-text"][contains(., "pong: xin chào")]`)
	err := chromedp.Do(browser,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("user-2001")),
		chromedp.Click(chromedp.ID("user-2001")),
		chromedp.WaitEnabled(chromedp.ID("send-btn")),
		chromedp.SendKeys(chromedp.ID("text-input"), "xin chào"),
		chromedp.Click(chromedp.ID("send-btn")),
		chromedp.WaitVisible(botReply),
	)
	if err != nil {
		t.Fatalf("browser: %v\nchat:\n%s", err, dump(s.User(2001).History(), 10))
	}
	reply, err := chromedp.Run(browser, chromedp.Text(botReply))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(browser, chromedp.Click(chromedp.Search(`//button[@data-testid="inline-button"][contains(., "Đồng ý")]`))); err != nil {
		t.Fatal(err)
	}
	if reply != "pong: xin chào" {
		t.Errorf("reply text = %q", reply)
	}
	select {
	case data := <-presses:
		if data != "agree" {
			t.Errorf("callback data = %q", data)
		}
	case <-ctx.Done():
		t.Fatal("the fake bot never saw the button press")
	}
	// The bot's answer shows as a toast.
	if err := chromedp.Do(browser, chromedp.WaitVisible(chromedp.CSS("#toast.show"))); err != nil {
		t.Fatal(err)
	}
	toast, err := chromedp.Run(browser, chromedp.Text(chromedp.ID("toast")))
	if err != nil {
		t.Fatal(err)
	}
	if toast != "Đã nhận" {
		t.Errorf("toast = %q", toast)
	}
	hist := s.User(2001).History()
	if len(hist) != 2 || hist[0].Text != "xin chào" || hist[0].FromBot || !strings.HasPrefix(hist[1].Text, "pong") {
		t.Errorf("history:\n%s", dump(hist, 5))
	}
	if n := len(s.UnansweredCallbacks()); n != 0 {
		t.Errorf("%d unanswered callbacks", n)
	}
}
