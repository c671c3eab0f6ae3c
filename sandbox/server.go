package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the bot token used when Config.Token is empty.
const DefaultToken = "123456789:SANDBOX-renewbot-local-token"

// Config configures a Server.
type Config struct {
	// Token is the bot token the server accepts (DefaultToken when empty). The bot's
	// user id is the number before the colon, as on Telegram.
	Token string
	// BotName and BotUsername are returned by getMe (defaults "RenewBot (sandbox)",
	// "renewbot_sandbox_bot").
	BotName, BotUsername string
	// RateLimit is the number of messages per second the bot may send to one chat
	// (sendMessage, sendPhoto, sendDocument, copyMessage); 0 turns the limit off.
	// Beyond it calls fail with 429 and parameters.retry_after, as on Telegram.
	RateLimit float64
	// GlobalRateLimit is the same limit over all chats together; 0 = off.
	GlobalRateLimit float64
	// Users are the demo customers: their private chats exist from the start (as if
	// they had started the bot) and the web page offers them in its picker.
	Users []DemoUser
	// StaffGroupID is the staff forum supergroup shown on the web page (0 = none).
	// It is created at start as a forum named StaffGroupTitle.
	StaffGroupID    int64
	StaffGroupTitle string
	// StaffUsers are the people a person can post as in the staff group page.
	StaffUsers []DemoUser
	// PaymentCallbackURL and PaymentSecret drive the page's "simulate bank
	// transfer" form: a JSON body signed with HMAC-SHA256(PaymentSecret) in the
	// X-Signature header (hex) is POSTed to PaymentCallbackURL.
	PaymentCallbackURL, PaymentSecret string
	// Mailbox, when set, is listed on the web page.
	Mailbox *Mailbox
	// WebhookRetryMin and WebhookRetryMax bound the backoff between webhook
	// delivery attempts (defaults 100 ms and 3 s; Telegram itself is slower).
	WebhookRetryMin, WebhookRetryMax time.Duration
}

// DemoUser is a Telegram user known in advance (a demo customer or a staff member).
type DemoUser struct {
	ID           int64  `json:"id"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
	Phone        string `json:"phone,omitempty"`
	// Label is shown in the web page picker, e.g. the customer's name and company.
	Label string `json:"label,omitempty"`
}

// Server is an in-memory Telegram Bot API server. Create it with New; serve it with
// Start or by mounting Handler in an http.Server.
type Server struct {
	cfg   Config
	token string
	bot   apiUser

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every state change
	seq        int64         // change counter
	updates    []queuedUpdate
	nextUpdate int64
	pollGen    int64
	webhook    webhookState
	chats      map[int64]*chat
	users      map[int64]*userInfo
	demo       []DemoUser
	files      map[string]*File
	paths      map[string]*File
	nextFile   int
	callbacks  map[string]*callbackState
	calls      map[string]int
	inject     map[int64][]injected
	global     bucket
	commands   json.RawMessage
	groups     map[int64]*Group

	httpSrv *http.Server
	ln      net.Listener
}

type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

type webhookState struct {
	url, secret string
	gen         int64
	lastErr     string
	lastErrAt   time.Time
}

type callbackState struct {
	chatID    int64
	answered  bool
	text      string
	showAlert bool
	at        time.Time
}

type injected struct {
	code, retryAfter int
}

type userInfo struct {
	DemoUser
	staff  bool
	handle *User
}

// apiError is a Telegram-shaped error answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.desc) }

func badRequest(desc string) error { return &apiError{code: 400, desc: "Bad Request: " + desc} }

// New returns a server with the given configuration. Call Close when done.
func New(cfg Config) *Server {
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	if cfg.BotName == "" {
		cfg.BotName = "RenewBot (sandbox)"
	}
	if cfg.BotUsername == "" {
		cfg.BotUsername = "renewbot_sandbox_bot"
	}
	if cfg.StaffGroupTitle == "" {
		cfg.StaffGroupTitle = "Nhóm hỗ trợ"
	}
	if cfg.WebhookRetryMin <= 0 {
		cfg.WebhookRetryMin = 100 * time.Millisecond
	}
	if cfg.WebhookRetryMax <= 0 {
		cfg.WebhookRetryMax = 3 * time.Second
	}
	botID, _ := strconv.ParseInt(strings.SplitN(cfg.Token, ":", 2)[0], 10, 64)
	if botID == 0 {
		botID = 123456789
	}
	t := true
	f := false
	s := &Server{
		cfg:   cfg,
		token: cfg.Token,
		bot: apiUser{ID: botID, IsBot: true, FirstName: cfg.BotName, Username: cfg.BotUsername,
			CanJoinGroups: &t, CanReadAllGroupMessages: &f, SupportsInlineQueries: &f},
		changed:    make(chan struct{}),
		nextUpdate: 100000001,
		chats:      map[int64]*chat{},
		users:      map[int64]*userInfo{},
		files:      map[string]*File{},
		paths:      map[string]*File{},
		callbacks:  map[string]*callbackState{},
		calls:      map[string]int{},
		inject:     map[int64][]injected{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.SetDemoUsers(cfg.Users)
	for _, u := range cfg.StaffUsers {
		s.mu.Lock()
		s.users[u.ID] = &userInfo{DemoUser: withDefaults(u), staff: true}
		s.mu.Unlock()
	}
	if cfg.StaffGroupID != 0 {
		s.Group(cfg.StaffGroupID, cfg.StaffGroupTitle, true)
	}
	return s
}

// Token returns the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// BotID returns the bot's user id.
func (s *Server) BotID() int64 { return s.bot.ID }

// URL returns the base URL after Start ("http://127.0.0.1:port"), else "".
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves Handler in the
// background. It returns the base URL to give to bot.WithServerURL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.httpSrv.Serve(ln)
	}()
	return s.URL(), nil
}

// Close stops webhook delivery, wakes long polls and, after Start, stops the HTTP
// server. It is safe to call more than once.
func (s *Server) Close() {
	s.cancel()
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			_ = s.httpSrv.Close()
		}
	}
	s.wg.Wait()
}

// SetDemoUsers replaces the demo users: each gets a private chat with the bot.
func (s *Server) SetDemoUsers(users []DemoUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.demo = nil
	for _, u := range users {
		u = withDefaults(u)
		s.demo = append(s.demo, u)
		s.users[u.ID] = &userInfo{DemoUser: u}
		s.privateChatLocked(u.ID)
	}
	s.notifyLocked()
}

func withDefaults(u DemoUser) DemoUser {
	if u.FirstName == "" {
		u.FirstName = fmt.Sprintf("User%d", u.ID)
	}
	if u.LanguageCode == "" {
		u.LanguageCode = "vi"
	}
	if u.Label == "" {
		u.Label = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	return u
}

// Calls returns how many times the bot called a Bot API method (case-insensitive),
// counting failed calls too.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// CallbackAnswered reports whether the bot answered the callback query id.
func (s *Server) CallbackAnswered(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[id]
	return cb != nil && cb.answered
}

// CallbackAnswer returns the text the bot answered a callback query with.
func (s *Server) CallbackAnswer(id string) (text string, answered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[id]
	if cb == nil || !cb.answered {
		return "", false
	}
	return cb.text, true
}

// UnansweredCallbacks returns the ids of callback queries the bot has not answered.
func (s *Server) UnansweredCallbacks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, cb := range s.callbacks {
		if !cb.answered {
			ids = append(ids, id)
		}
	}
	return ids
}

// InjectError makes the next n sending calls (sendMessage, sendPhoto, sendDocument,
// copyMessage) to chatID fail with the given HTTP/Telegram error code; retryAfter is
// reported in parameters.retry_after for 429.
func (s *Server) InjectError(chatID int64, code int, retryAfter int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.inject[chatID] = append(s.inject[chatID], injected{code: code, retryAfter: retryAfter})
	}
}

// PendingUpdates returns how many updates wait to be fetched or delivered.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Commands returns the commands last set with setMyCommands (raw JSON).
func (s *Server) Commands() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

func (s *Server) notifyLocked() {
	s.seq++
	close(s.changed)
	s.changed = make(chan struct{})
}

// enqueueLocked adds an update; build fills it given its id.
func (s *Server) enqueueLocked(u apiUpdate) {
	u.UpdateID = s.nextUpdate
	s.nextUpdate++
	raw, _ := json.Marshal(u)
	s.updates = append(s.updates, queuedUpdate{id: u.UpdateID, raw: raw})
	s.notifyLocked()
}

// waitChange waits until the state changes, ctx ends or d passes.
func (s *Server) waitChange(ctx context.Context, ch chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-s.ctx.Done():
	case <-t.C:
	}
	return false
}

// Handler returns the HTTP handler: the Bot API under /bot<token>/ and
// /file/bot<token>/, the web chat page at / and its JSON endpoints under /sandbox/api/.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/file/bot"):
			s.serveFile(w, r, strings.TrimPrefix(p, "/file/bot"))
		case strings.HasPrefix(p, "/bot"):
			s.serveAPI(w, r, strings.TrimPrefix(p, "/bot"))
		case strings.HasPrefix(p, "/sandbox/api/"):
			s.serveWebAPI(w, r, strings.TrimPrefix(p, "/sandbox/api/"))
		default:
			s.servePage(w, r)
		}
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *errorParameter `json:"parameters,omitempty"`
}

type errorParameter struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	b := errorBody{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 {
		b.Parameters = &errorParameter{RetryAfter: e.retryAfter}
	}
	writeJSON(w, e.code, b)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	token, method, ok := strings.Cut(rest, "/")
	if token != s.token {
		writeAPIError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	method = strings.TrimPrefix(method, "test/")
	h := apiMethods[strings.ToLower(method)]
	if !ok || h == nil {
		writeAPIError(w, &apiError{code: 404, desc: "Not Found: method not found"})
		return
	}
	s.mu.Lock()
	s.calls[strings.ToLower(method)]++
	s.mu.Unlock()
	p, err := parseParams(r)
	if err != nil {
		writeAPIError(w, &apiError{code: 400, desc: "Bad Request: " + err.Error()})
		return
	}
	res, err := h(s, r.Context(), p)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{code: 500, desc: "Internal Server Error: " + err.Error()}
		}
		writeAPIError(w, ae)
		return
	}
	raw, ok := res.(json.RawMessage)
	if !ok {
		raw, _ = json.Marshal(res)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"ok":true,"result":%s}`+"\n", raw)
}

// params are a method's parameters, from any of the encodings Telegram accepts.
// JSON values that are not strings are kept as their JSON text (so reply_markup is
// the same string whether it came in a form field or a JSON body).
type params struct {
	v     map[string]string
	files map[string]upload
}

type upload struct {
	name, mime string
	data       []byte
}

const maxUpload = 50 << 20

func parseParams(r *http.Request) (*params, error) {
	p := &params{v: map[string]string{}, files: map[string]upload{}}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p.v[k] = vs[0]
		}
	}
	if r.Method == http.MethodGet || r.Body == nil {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		// go-telegram/bot streams every call as multipart (chunked), and sends an
		// empty body without any part for parameterless calls.
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, fmt.Errorf("can't parse multipart body: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("can't parse multipart body: %v", err)
			}
			data, err := io.ReadAll(io.LimitReader(part, maxUpload+1))
			if err != nil {
				return nil, fmt.Errorf("can't read multipart body: %v", err)
			}
			if len(data) > maxUpload {
				return nil, &apiError{code: 413, desc: "Request Entity Too Large"}
			}
			if part.FileName() != "" {
				p.files[part.FormName()] = upload{name: part.FileName(), mime: part.Header.Get("Content-Type"), data: data}
			} else {
				p.v[part.FormName()] = string(data)
			}
		}
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUpload))
		if err != nil {
			return nil, err
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("can't parse form body: %v", err)
		}
		for k, vs := range vals {
			if len(vs) > 0 {
				p.v[k] = vs[0]
			}
		}
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUpload))
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			return p, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("can't parse JSON object")
		}
		for k, raw := range m {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				p.v[k] = str
			} else if string(raw) != "null" {
				p.v[k] = string(raw)
			}
		}
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxUpload))
	}
	return p, nil
}

func (p *params) str(k string) string { return p.v[k] }

func (p *params) has(k string) bool { _, ok := p.v[k]; return ok }

func (p *params) int64(k string) (int64, error) {
	v := strings.TrimSpace(p.v[k])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest(fmt.Sprintf("field \"%s\" must be of type Integer", k))
	}
	return n, nil
}

func (p *params) int(k string) (int, error) {
	n, err := p.int64(k)
	return int(n), err
}

func (p *params) bool(k string) bool {
	v := strings.ToLower(strings.TrimSpace(p.v[k]))
	return v == "true" || v == "1"
}

// chatID returns the chat_id (or another key) parameter.
func (p *params) chatID(k string) (int64, error) {
	v := strings.TrimSpace(p.v[k])
	if v == "" {
		return 0, badRequest(k + " is empty")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("chat not found")
	}
	return n, nil
}

// bucket is a token bucket for rate limits.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) refill(rate float64, now time.Time) {
	burst := math.Max(1, rate)
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
}

// retryAfter returns 0 when a token is available, else whole seconds to wait (>= 1).
func (b *bucket) retryAfter(rate float64) int {
	if rate <= 0 || b.tokens >= 1 {
		return 0
	}
	return int(math.Max(1, math.Ceil((1-b.tokens)/rate)))
}

func nowUnix() int64 { return time.Now().Unix() }

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
