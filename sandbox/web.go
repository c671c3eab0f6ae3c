package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed web
var webFS embed.FS

// servePage serves the web chat page and its static files.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(webFS, "web")
	if r.URL.Path == "/" {
		w.Header().Set("Cache-Control", "no-store")
	}
	http.FileServer(http.FS(sub)).ServeHTTP(w, r)
}

// Web page JSON API, under /sandbox/api/:
//
//	GET  state                      bot, demo users, staff users and group, features
//	GET  chat?chat=ID&after=SEQ     a chat's messages; waits up to 20 s for a change after SEQ
//	POST send     {chat, from, text, thread}
//	POST press    {chat, from, message_id, data}
//	POST contact  {chat, phone}     share the user's own contact (phone defaults to the demo user's)
//	POST upload   multipart: chat, from, thread, kind (photo|document), caption, file
//	POST block    {chat, blocked}
//	GET  file?id=FILE_ID            a stored file's bytes (no bot token in the page)
//	GET  mails                      the Mailbox's mails
//	POST pay      {order_ref, amount, payer_name, description}  simulate a bank transfer
func (s *Server) serveWebAPI(w http.ResponseWriter, r *http.Request, name string) {
	var err error
	switch name {
	case "state":
		err = s.webState(w)
	case "chat":
		err = s.webChat(w, r)
	case "send", "press", "contact", "block":
		err = s.webAction(w, r, name)
	case "upload":
		err = s.webUpload(w, r)
	case "file":
		s.webFile(w, r)
	case "mails":
		var mails []Mail
		if s.cfg.Mailbox != nil {
			mails = s.cfg.Mailbox.Mails()
		}
		if mails == nil {
			mails = []Mail{}
		}
		writeJSON(w, 200, mails)
	case "pay":
		err = s.webPay(w, r)
	default:
		http.NotFound(w, r)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
}

type webStateView struct {
	Bot        apiUser    `json:"bot"`
	Users      []DemoUser `json:"users"`
	StaffUsers []DemoUser `json:"staff_users"`
	StaffGroup *apiChat   `json:"staff_group"`
	Mailbox    bool       `json:"mailbox"`
	Payment    bool       `json:"payment"`
}

func (s *Server) webState(w http.ResponseWriter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := webStateView{Bot: s.bot, Users: append([]DemoUser{}, s.demo...), StaffUsers: []DemoUser{},
		Mailbox: s.cfg.Mailbox != nil, Payment: s.cfg.PaymentCallbackURL != ""}
	for _, u := range s.cfg.StaffUsers {
		v.StaffUsers = append(v.StaffUsers, withDefaults(u))
	}
	if c := s.chats[s.cfg.StaffGroupID]; c != nil && s.cfg.StaffGroupID != 0 {
		ac := s.apiChatLocked(c)
		v.StaffGroup = &ac
	}
	writeJSON(w, 200, v)
	return nil
}

type webChatView struct {
	Seq      int64              `json:"seq"`
	Chat     apiChat            `json:"chat"`
	Blocked  bool               `json:"blocked"`
	Messages []Message          `json:"messages"`
	Keyboard [][]KeyboardButton `json:"keyboard"`
	Action   string             `json:"action,omitempty"`
	Answers  []answerView       `json:"answers"`
	Topics   []Topic            `json:"topics"`
}

func (s *Server) webChat(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	idStr := q.Get("chat")
	if idStr == "" {
		idStr = q.Get("user")
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return fmt.Errorf("bad chat id %q", idStr)
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		c := s.chats[id]
		if c == nil {
			if _, known := s.users[id]; !known && id < 0 {
				s.mu.Unlock()
				return fmt.Errorf("no chat %d", id)
			}
			s.userHandleLocked(id)
			c = s.chats[id]
		}
		if c.seq > after || time.Now().After(deadline) {
			v := webChatView{Seq: c.seq, Chat: s.apiChatLocked(c), Blocked: c.blocked, Messages: c.messagesLocked(false),
				Keyboard: c.keyboard, Answers: c.answers, Topics: []Topic{}}
			if v.Messages == nil {
				v.Messages = []Message{}
			}
			if c.action != "" && time.Since(c.actionAt) < 5*time.Second {
				v.Action = c.action
			}
			for _, t := range c.topics {
				v.Topics = append(v.Topics, *t)
			}
			if v.Answers == nil {
				v.Answers = []answerView{}
			}
			s.mu.Unlock()
			writeJSON(w, 200, v)
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		s.waitChange(r.Context(), ch, time.Until(deadline))
		if r.Context().Err() != nil || s.ctx.Err() != nil {
			return nil
		}
	}
}

type webActionReq struct {
	Chat      int64  `json:"chat"`
	From      int64  `json:"from"`
	Text      string `json:"text"`
	Thread    int    `json:"thread"`
	MessageID int    `json:"message_id"`
	Data      string `json:"data"`
	Phone     string `json:"phone"`
	Blocked   bool   `json:"blocked"`
}

func (s *Server) webAction(w http.ResponseWriter, r *http.Request, name string) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("POST only")
	}
	var req webActionReq
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return fmt.Errorf("bad JSON: %v", err)
	}
	if req.From == 0 {
		req.From = req.Chat
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[req.Chat]
	if c == nil {
		if req.Chat <= 0 {
			return fmt.Errorf("no chat %d", req.Chat)
		}
		s.userHandleLocked(req.Chat)
		c = s.chats[req.Chat]
	}
	var out any = map[string]bool{"ok": true}
	switch name {
	case "send":
		if strings.TrimSpace(req.Text) == "" {
			return fmt.Errorf("empty text")
		}
		out = s.postLocked(c, req.From, req.Thread, &msg{text: req.Text})
	case "press":
		out = map[string]string{"callback_query_id": s.pressDataLocked(c, req.From, req.MessageID, req.Data)}
	case "contact":
		ui := s.userLocked(req.From)
		phone := req.Phone
		if phone == "" {
			phone = ui.Phone
		}
		if phone == "" {
			return fmt.Errorf("user %d has no phone number", req.From)
		}
		out = s.postLocked(c, req.From, 0, &msg{contact: &apiContact{PhoneNumber: phone, FirstName: ui.FirstName, LastName: ui.LastName, UserID: req.From}})
	case "block":
		if c.typ != "private" {
			return fmt.Errorf("only private chats can block the bot")
		}
		s.setBlockedLocked(c, req.Blocked)
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) webUpload(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return fmt.Errorf("bad upload: %v", err)
	}
	defer r.MultipartForm.RemoveAll()
	chatID, _ := strconv.ParseInt(r.FormValue("chat"), 10, 64)
	from, _ := strconv.ParseInt(r.FormValue("from"), 10, 64)
	thread, _ := strconv.Atoi(r.FormValue("thread"))
	if from == 0 {
		from = chatID
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		return fmt.Errorf("no file: %v", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return fmt.Errorf("no chat %d", chatID)
	}
	m := &msg{caption: r.FormValue("caption")}
	if r.FormValue("kind") == "photo" {
		m.photo, _ = s.storePhotoLocked(fh.Filename, data, false)
	} else {
		m.doc = s.storeFileLocked("documents", fh.Filename, mimeFor(fh.Filename, fh.Header.Get("Content-Type")), data, 0, 0)
	}
	writeJSON(w, 200, s.postLocked(c, from, thread, m))
	return nil
}

func (s *Server) webFile(w http.ResponseWriter, r *http.Request) {
	f, ok := s.FileByID(r.URL.Query().Get("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mimeFor(f.Name, f.MIME))
	if !strings.HasPrefix(f.Path, "photos/") {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", f.Name))
	}
	_, _ = w.Write(f.data)
}

// PaymentNotice is the JSON body of a simulated bank-transfer callback.
type PaymentNotice struct {
	TransactionID string `json:"transaction_id"`
	OrderRef      string `json:"order_ref"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	PaidAt        string `json:"paid_at"`
	PayerName     string `json:"payer_name"`
	Description   string `json:"description"`
}

// SignPayment returns the X-Signature value for body: hex(HMAC-SHA256(secret, body)).
func SignPayment(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// SimulatePayment POSTs a signed PaymentNotice (transaction id "SBX-<random>",
// currency VND, paid now) to Config.PaymentCallbackURL and returns the answer.
func (s *Server) SimulatePayment(ctx context.Context, orderRef string, amount int64, payerName, description string) (status int, body string, err error) {
	if s.cfg.PaymentCallbackURL == "" {
		return 0, "", fmt.Errorf("sandbox: no PaymentCallbackURL configured")
	}
	n := PaymentNotice{TransactionID: "SBX-" + strings.ToUpper(randomID(6)), OrderRef: orderRef, Amount: amount,
		Currency: "VND", PaidAt: time.Now().Format(time.RFC3339), PayerName: payerName, Description: description}
	raw, _ := json.Marshal(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.PaymentCallbackURL, bytes.NewReader(raw))
	if err != nil {
		return 0, "", fmt.Errorf("sandbox: payment callback: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", SignPayment(s.cfg.PaymentSecret, raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("sandbox: payment callback: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

func (s *Server) webPay(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		OrderRef    string `json:"order_ref"`
		Amount      int64  `json:"amount"`
		PayerName   string `json:"payer_name"`
		Description string `json:"description"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return fmt.Errorf("bad JSON: %v", err)
	}
	if req.OrderRef == "" || req.Amount <= 0 {
		return fmt.Errorf("order_ref and a positive amount are required")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	status, body, err := s.SimulatePayment(ctx, req.OrderRef, req.Amount, req.PayerName, req.Description)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"status": status, "body": body})
	return nil
}
