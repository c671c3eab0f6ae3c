package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/vietqr"
)

// Dedupe remembers which update ids were applied (storage/redisstate).
type Dedupe interface {
	MarkUpdate(ctx context.Context, botID, updateID int64, ttl time.Duration) (first bool, err error)
}

// ChatLocker serialises one chat's updates across instances (storage/redisstate).
type ChatLocker interface {
	LockChat(ctx context.Context, chatID int64, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// Handler is the conversation engine (flows.Engine).
type Handler interface {
	Handle(ctx context.Context, ev flows.Event) (flows.Outcome, error)
}

// Links lets the adapter stop writing to chats that blocked the bot.
type Links interface {
	DeactivateLink(ctx context.Context, chatID int64) error
}

// Config configures the adapter.
type Config struct {
	Token       string
	APIURL      string // e.g. https://api.telegram.org, or the sandbox
	StaffChatID int64
	// UpdateTimeout bounds the handling of one update.
	UpdateTimeout time.Duration
	// PollTimeout is getUpdates' long-poll timeout.
	PollTimeout time.Duration
	// WebhookSecret is checked on every webhook POST.
	WebhookSecret string
}

// Adapter is the bot: it receives updates (polling or webhook), applies them
// through the Handler in order per chat and exactly once, and sends replies.
type Adapter struct {
	cfg      Config
	api      *tg.Bot
	http     *http.Client
	botID    int64
	engine   Handler
	dedupe   Dedupe
	locks    ChatLocker
	links    Links
	cat      *Catalog
	log      *slog.Logger
	inFlight sync.WaitGroup

	staff     StaffHandler
	staffIDs  []int64
	onPayment func(context.Context, flows.Payment, flows.Order)
}

// New builds an adapter. It does not call Telegram.
func New(cfg Config, engine Handler, dedupe Dedupe, locks ChatLocker, links Links, cat *Catalog, log *slog.Logger) (*Adapter, error) {
	if cfg.Token == "" || cfg.APIURL == "" {
		return nil, errors.New("bot: token and API URL are required")
	}
	if cfg.UpdateTimeout == 0 {
		cfg.UpdateTimeout = 30 * time.Second
	}
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = 25 * time.Second
	}
	// go-telegram/bot keeps 2 idle connections by default: under load nearly
	// every call would open a new TCP connection.
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	hc := &http.Client{Transport: tr, Timeout: cfg.PollTimeout + 15*time.Second}
	var botID int64
	if i := strings.IndexByte(cfg.Token, ':'); i > 0 {
		fmt.Sscan(cfg.Token[:i], &botID)
	}
	api, err := tg.New(cfg.Token,
		tg.WithServerURL(cfg.APIURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(cfg.PollTimeout, hc),
		tg.WithErrorsHandler(func(err error) { log.Warn("telegram client", "err", err) }),
	)
	if err != nil {
		return nil, err
	}
	return &Adapter{cfg: cfg, api: api, http: hc, botID: botID, engine: engine, dedupe: dedupe, locks: locks, links: links, cat: cat, log: log}, nil
}

// API exposes the Bot API client for other senders of this process (scheduler).
func (a *Adapter) API() *tg.Bot { return a.api }

// Wait blocks until updates being handled are done (graceful shutdown).
func (a *Adapter) Wait() { a.inFlight.Wait() }

// HandleUpdate is the edge every update goes through: per-chat lock, dedupe,
// timeout, panic recovery, answering the callback query, error -> translated
// text, one log line per failure.
func (a *Adapter) HandleUpdate(ctx context.Context, u *models.Update) {
	a.inFlight.Add(1)
	defer a.inFlight.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.UpdateTimeout)
	defer cancel()

	if u.Message != nil && a.cfg.StaffChatID != 0 && u.Message.Chat.ID == a.cfg.StaffChatID {
		a.handleStaff(ctx, u.Message)
		return
	}
	if q := u.CallbackQuery; q != nil && a.cfg.StaffChatID != 0 && q.Message.Message != nil && q.Message.Message.Chat.ID == a.cfg.StaffChatID {
		a.handleStaffButton(ctx, q)
		return
	}
	ev, callbackID, ok := toEvent(u)
	answered := false
	answer := func(text string) {
		if callbackID == "" || answered {
			return
		}
		answered = true
		if _, err := a.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: callbackID, Text: text}); err != nil {
			a.log.Warn("answer callback", "update_id", u.ID, "err", err)
		}
	}
	defer answer("")
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("panic handling update", "update_id", u.ID, "panic", r, "stack", string(debug.Stack()))
			if ok {
				a.sendText(ctx, ev.ChatID, a.cat.Render(flows.LangFromHint(ev.LangHint), flows.T("err_internal")))
			}
		}
	}()
	if !ok {
		return
	}

	unlock, err := a.locks.LockChat(ctx, ev.ChatID, a.cfg.UpdateTimeout+5*time.Second)
	if err != nil {
		a.log.Error("lock chat", "update_id", u.ID, "chat", ev.ChatID, "err", err)
		a.sendText(ctx, ev.ChatID, a.cat.Render(flows.LangFromHint(ev.LangHint), flows.T("err_busy")))
		return
	}
	defer func() {
		if err := unlock(context.WithoutCancel(ctx)); err != nil {
			a.log.Warn("unlock chat", "chat", ev.ChatID, "err", err)
		}
	}()
	first, err := a.dedupe.MarkUpdate(ctx, a.botID, u.ID, 48*time.Hour)
	if err != nil {
		a.log.Error("dedupe update", "update_id", u.ID, "err", err)
		return
	}
	if !first {
		a.log.Info("update already applied", "update_id", u.ID)
		return
	}

	out, err := a.engine.Handle(ctx, ev)
	if err != nil {
		lang := flows.LangFromHint(ev.LangHint)
		a.log.Error("handle update", "update_id", u.ID, "chat", ev.ChatID, "input", ev.Input, "err", err)
		msg := "err_internal"
		if flows.IsCode(err, flows.Conflict) {
			msg = "err_busy"
		}
		a.sendText(ctx, ev.ChatID, a.cat.Render(lang, flows.T(msg)))
		return
	}
	if out.Notice != nil {
		answer(a.cat.Render(out.Session.Lang, *out.Notice))
	} else {
		answer("")
	}
	a.Deliver(ctx, ev.ChatID, out.Session.Lang, out.Session.Version, out.Replies)
	if a.cfg.StaffChatID != 0 && len(out.Staff) > 0 {
		a.Deliver(ctx, a.cfg.StaffChatID, "vi", 0, out.Staff)
	}
}

// Deliver sends replies to a chat. Buttons carry version for staleness checks.
func (a *Adapter) Deliver(ctx context.Context, chatID int64, lang string, version int64, replies []flows.Reply) {
	for _, r := range replies {
		if err := a.send(ctx, chatID, lang, version, r); err != nil {
			a.log.Error("send reply", "chat", chatID, "err", err)
			return
		}
	}
}

// maxText is Telegram's limit on a message's text, in characters.
const maxText = 4096

// maxCaption is Telegram's limit on a caption.
const maxCaption = 1024

func (a *Adapter) send(ctx context.Context, chatID int64, lang string, version int64, r flows.Reply) error {
	return a.render(ctx, chatID, lang, version, r, func(call func() error) error { return a.retry(ctx, chatID, call) })
}

// render sends one reply: the VietQR picture of a requested transfer, then an
// attachment (with the text as caption when it fits), then the text in pieces
// of at most 4096 characters, the keyboard on the last. Each Bot API call goes
// through do: retried for conversation replies, once for the outbox, whose
// dispatcher owns retries.
func (a *Adapter) render(ctx context.Context, chatID int64, lang string, version int64, r flows.Reply, do func(call func() error) error) error {
	text := a.cat.RenderAll(lang, r.Texts)
	markup, err := a.markup(lang, version, r)
	if err != nil {
		return err
	}
	if r.Transfer != nil {
		png, err := transferQR(r.Transfer)
		if err != nil {
			return err
		}
		if err := do(func() error {
			_, err := a.api.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: chatID, Photo: &models.InputFileUpload{Filename: "vietqr.png", Data: bytes.NewReader(png)}})
			return err
		}); err != nil {
			return err
		}
	}
	if r.Attachment != nil {
		caption := ""
		if utf8.RuneCountInString(text) <= maxCaption {
			caption, text = text, ""
		}
		var m models.ReplyMarkup
		if text == "" {
			m = markup
		}
		err := do(func() error {
			up := &models.InputFileUpload{Filename: r.Attachment.Name, Data: bytes.NewReader(r.Attachment.Data)}
			var err error
			if r.Attachment.Photo {
				_, err = a.api.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: chatID, Photo: up, Caption: caption, ReplyMarkup: m})
			} else {
				_, err = a.api.SendDocument(ctx, &tg.SendDocumentParams{ChatID: chatID, Document: up, Caption: caption, ReplyMarkup: m})
			}
			return err
		})
		if err != nil || text == "" {
			return err
		}
	}
	chunks := splitText(text, maxText)
	for i, c := range chunks {
		p := &tg.SendMessageParams{ChatID: chatID, Text: c}
		if i == len(chunks)-1 && markup != nil {
			p.ReplyMarkup = markup
		}
		if err := do(func() error { _, err := a.api.SendMessage(ctx, p); return err }); err != nil {
			return err
		}
	}
	return nil
}

func (a *Adapter) markup(lang string, version int64, r flows.Reply) (models.ReplyMarkup, error) {
	switch {
	case r.AskContact:
		return &models.ReplyKeyboardMarkup{
			Keyboard:        [][]models.KeyboardButton{{{Text: a.cat.Render(lang, flows.T("btn_share_contact")), RequestContact: true}}},
			ResizeKeyboard:  true,
			OneTimeKeyboard: true,
		}, nil
	case len(r.Buttons) > 0:
		kb := make([][]models.InlineKeyboardButton, 0, len(r.Buttons))
		for _, row := range r.Buttons {
			out := make([]models.InlineKeyboardButton, 0, len(row))
			for _, b := range row {
				btn := models.InlineKeyboardButton{Text: a.cat.Render(lang, b.Label)}
				if b.URL != "" {
					btn.URL = b.URL
				} else {
					data, err := encodeCallback(version, b.Action, b.Args)
					if err != nil {
						return nil, fmt.Errorf("button %s %v: %w", b.Action, b.Args, err)
					}
					btn.CallbackData = data
				}
				out = append(out, btn)
			}
			kb = append(kb, out)
		}
		return &models.InlineKeyboardMarkup{InlineKeyboard: kb}, nil
	case r.RemoveKeyboard:
		return &models.ReplyKeyboardRemove{RemoveKeyboard: true}, nil
	}
	return nil, nil
}

// transferQR draws the VietQR code of a requested bank transfer.
func transferQR(t *flows.Transfer) ([]byte, error) {
	payload, err := vietqr.Payload(vietqr.Params{BIN: t.Bank.BIN, Account: t.Bank.Number, AmountVND: t.AmountVND, Purpose: t.Purpose})
	if err != nil {
		return nil, fmt.Errorf("vietqr payload: %w", err)
	}
	return vietqr.PNG(payload, 512)
}

// retry runs one Bot API call for a conversation reply, waiting out 429s
// (retry_after) and retrying transient errors a few times; classify decides
// what an error means (a 403 deactivates the chat's link there).
func (a *Adapter) retry(ctx context.Context, chatID int64, call func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = call(); err == nil {
			return nil
		}
		var se *flows.SendError
		errors.As(a.classify(ctx, chatID, err), &se)
		var wait time.Duration
		switch se.Failure {
		case flows.SendRetryLater:
			wait = se.RetryAfter
		case flows.SendTransient:
			wait = time.Duration(200*(attempt+1)) * time.Millisecond
		default: // blocked or rejected: retrying cannot help
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

func (a *Adapter) sendText(ctx context.Context, chatID int64, text string) {
	if err := a.retry(ctx, chatID, func() error {
		_, err := a.api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chatID, Text: text})
		return err
	}); err != nil {
		a.log.Warn("send text", "chat", chatID, "err", err)
	}
}

// splitText cuts s into pieces of at most max characters, at line breaks when possible.
func splitText(s string, max int) []string {
	if s == "" {
		return []string{"…"}
	}
	var out []string
	for utf8.RuneCountInString(s) > max {
		cut := 0
		n := 0
		lastNL := -1
		for i := range s {
			if n == max {
				cut = i
				break
			}
			if s[i] == '\n' {
				lastNL = i
			}
			n++
		}
		if lastNL > cut/2 {
			cut = lastNL + 1
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}
