package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"
)

type apiMethod func(s *Server, ctx context.Context, p *params) (any, error)

// apiMethods are the Bot API methods the sandbox implements, by lower-case name.
var apiMethods = map[string]apiMethod{
	"getme":                  (*Server).getMe,
	"getupdates":             (*Server).getUpdates,
	"setwebhook":             (*Server).setWebhook,
	"deletewebhook":          (*Server).deleteWebhook,
	"getwebhookinfo":         (*Server).getWebhookInfo,
	"sendmessage":            (*Server).sendMessage,
	"sendphoto":              (*Server).sendPhoto,
	"senddocument":           (*Server).sendDocument,
	"copymessage":            (*Server).copyMessage,
	"editmessagetext":        (*Server).editMessageText,
	"editmessagecaption":     (*Server).editMessageCaption,
	"editmessagereplymarkup": (*Server).editMessageReplyMarkup,
	"deletemessage":          (*Server).deleteMessage,
	"answercallbackquery":    (*Server).answerCallbackQuery,
	"getfile":                (*Server).getFile,
	"createforumtopic":       (*Server).createForumTopic,
	"editforumtopic":         (*Server).editForumTopic,
	"closeforumtopic":        (*Server).closeForumTopic,
	"reopenforumtopic":       (*Server).reopenForumTopic,
	"setmycommands":          (*Server).setMyCommands,
	"getmycommands":          (*Server).getMyCommands,
	"deletemycommands":       (*Server).deleteMyCommands,
	"sendchataction":         (*Server).sendChatAction,
	"getchat":                (*Server).getChat,
}

func (s *Server) getMe(context.Context, *params) (any, error) { return s.bot, nil }

func (s *Server) getUpdates(ctx context.Context, p *params) (any, error) {
	offset, err := p.int64("offset")
	if err != nil {
		return nil, err
	}
	limit, err := p.int("limit")
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, err := p.int("timeout")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Duration(max(timeout, 0)) * time.Second)

	s.mu.Lock()
	if s.webhook.url != "" {
		s.mu.Unlock()
		return nil, &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	s.pollGen++
	gen := s.pollGen
	s.notifyLocked() // wakes an older long poll, which then ends with 409
	s.mu.Unlock()

	for {
		s.mu.Lock()
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, &apiError{code: 409, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		if s.webhook.url != "" {
			s.mu.Unlock()
			return nil, &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
		}
		switch {
		case offset > 0:
			i := 0
			for i < len(s.updates) && s.updates[i].id < offset {
				i++
			}
			s.updates = s.updates[i:]
		case offset < 0:
			if keep := int(-offset); len(s.updates) > keep {
				s.updates = s.updates[len(s.updates)-keep:]
			}
		}
		var out []json.RawMessage
		for _, u := range s.updates {
			if len(out) == limit {
				break
			}
			out = append(out, u.raw)
		}
		ch := s.changed
		s.mu.Unlock()
		wait := time.Until(deadline)
		if len(out) > 0 || wait <= 0 {
			if out == nil {
				return json.RawMessage("[]"), nil
			}
			raw, _ := json.Marshal(out)
			return json.RawMessage(raw), nil
		}
		if !s.waitChange(ctx, ch, wait) {
			if ctx.Err() != nil || s.ctx.Err() != nil {
				return json.RawMessage("[]"), nil
			}
		}
	}
}

var secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(_ context.Context, p *params) (any, error) {
	u := p.str("url")
	secret := p.str("secret_token")
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
		}
	}
	if secret != "" && !secretRe.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	s.webhook.gen++
	s.webhook.url, s.webhook.secret = u, secret
	s.webhook.lastErr, s.webhook.lastErrAt = "", time.Time{}
	if u != "" {
		gen := s.webhook.gen
		s.wg.Add(1)
		go s.deliver(gen)
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteWebhook(_ context.Context, p *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	s.webhook.gen++
	s.webhook.url, s.webhook.secret = "", ""
	s.notifyLocked()
	return true, nil
}

type webhookInfo struct {
	URL                  string `json:"url"`
	HasCustomCertificate bool   `json:"has_custom_certificate"`
	PendingUpdateCount   int    `json:"pending_update_count"`
	LastErrorDate        int64  `json:"last_error_date,omitempty"`
	LastErrorMessage     string `json:"last_error_message,omitempty"`
	MaxConnections       int    `json:"max_connections,omitempty"`
}

func (s *Server) getWebhookInfo(context.Context, *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wi := webhookInfo{URL: s.webhook.url, PendingUpdateCount: len(s.updates), LastErrorMessage: s.webhook.lastErr}
	if !s.webhook.lastErrAt.IsZero() {
		wi.LastErrorDate = s.webhook.lastErrAt.Unix()
	}
	if wi.URL != "" {
		wi.MaxConnections = 40
	}
	return wi, nil
}

// botChatLocked returns a chat the bot may act in.
func (s *Server) botChatLocked(p *params, key string) (*chat, error) {
	id, err := p.chatID(key)
	if err != nil {
		return nil, err
	}
	c := s.chats[id]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	if c.blocked {
		return nil, &apiError{code: 403, desc: "Forbidden: bot was blocked by the user"}
	}
	return c, nil
}

// gateLocked applies injected errors and rate limits to a sending call.
func (s *Server) gateLocked(c *chat) error {
	if q := s.inject[c.id]; len(q) > 0 {
		e := q[0]
		s.inject[c.id] = q[1:]
		ae := &apiError{code: e.code, retryAfter: e.retryAfter}
		switch e.code {
		case 429:
			ae.desc = fmt.Sprintf("Too Many Requests: retry after %d", e.retryAfter)
		case 403:
			ae.desc = "Forbidden: bot was blocked by the user"
		case 400:
			ae.desc = "Bad Request: chat not found"
		case 502:
			ae.desc = "Bad Gateway"
		default:
			ae.desc = "Internal Server Error"
		}
		return ae
	}
	now := time.Now()
	perChat, global := s.cfg.RateLimit, s.cfg.GlobalRateLimit
	if perChat > 0 {
		c.bucket.refill(perChat, now)
	}
	if global > 0 {
		s.global.refill(global, now)
	}
	retry := max(c.bucket.retryAfter(perChat), s.global.retryAfter(global))
	if retry > 0 {
		return &apiError{code: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", retry), retryAfter: retry}
	}
	if perChat > 0 {
		c.bucket.tokens--
	}
	if global > 0 {
		s.global.tokens--
	}
	return nil
}

// threadLocked validates message_thread_id for chat c.
func (s *Server) threadLocked(c *chat, p *params) (int, error) {
	thread, err := p.int("message_thread_id")
	if err != nil || thread == 0 {
		return 0, err
	}
	if !c.forum {
		return 0, nil
	}
	if s.topicLocked(c, thread) == nil {
		return 0, badRequest("message thread not found")
	}
	return thread, nil
}

// newBotMsgLocked runs the checks shared by every sending method and stores m.
func (s *Server) newBotMsgLocked(p *params, m *msg, mk markup) (*chat, error) {
	c, err := s.botChatLocked(p, "chat_id")
	if err != nil {
		return nil, err
	}
	thread, err := s.threadLocked(c, p)
	if err != nil {
		return nil, err
	}
	if err := s.gateLocked(c); err != nil {
		return nil, err
	}
	m.thread = thread
	m.from = s.bot
	m.fromBot = true
	m.inline, m.replyKB, m.removeKB = mk.inline, mk.keyboard, mk.remove
	switch {
	case mk.keyboard != nil:
		c.keyboard, c.oneTime = mk.keyboard, mk.oneTime
	case mk.remove:
		c.keyboard = nil
	}
	c.action = ""
	s.addMsgLocked(c, m)
	return c, nil
}

func textParams(p *params, key string, limit int, tooLong string) (shown string, err error) {
	raw := p.str(key)
	shown, err = renderText(raw, p.str("parse_mode"))
	if err != nil {
		return "", err
	}
	if utf16Len(shown) > limit {
		return "", badRequest(tooLong)
	}
	return shown, nil
}

func (s *Server) sendMessage(_ context.Context, p *params) (any, error) {
	if strings.TrimSpace(p.str("text")) == "" {
		return nil, badRequest("message text is empty")
	}
	shown, err := textParams(p, "text", MaxTextLength, "message is too long")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(shown) == "" {
		return nil, badRequest("message text is empty")
	}
	mk, err := parseMarkup(p.str("reply_markup"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &msg{text: shown, raw: p.str("text"), parseMode: p.str("parse_mode")}
	c, err := s.newBotMsgLocked(p, m, mk)
	if err != nil {
		return nil, err
	}
	return s.apiMsgLocked(c, m), nil
}

// mediaParam resolves a photo/document parameter: an uploaded file part, an
// "attach://name" reference or an existing file_id.
func (s *Server) mediaParam(p *params, key string) (up *upload, fileID string, err error) {
	if f, ok := p.files[key]; ok {
		return &f, "", nil
	}
	v := strings.TrimSpace(p.str(key))
	if name, ok := strings.CutPrefix(v, "attach://"); ok {
		if f, ok := p.files[name]; ok {
			return &f, "", nil
		}
		return nil, "", badRequest("wrong file identifier/HTTP URL specified")
	}
	if v == "" {
		return nil, "", badRequest(fmt.Sprintf("there is no %s in the request", key))
	}
	return nil, v, nil
}

func (s *Server) sendPhoto(_ context.Context, p *params) (any, error) {
	return s.sendMedia(p, "photo")
}

func (s *Server) sendDocument(_ context.Context, p *params) (any, error) {
	return s.sendMedia(p, "document")
}

func (s *Server) sendMedia(p *params, kind string) (any, error) {
	up, fileID, err := s.mediaParam(p, kind)
	if err != nil {
		return nil, err
	}
	if up != nil && len(up.data) == 0 {
		return nil, badRequest("file must be non-empty")
	}
	if up != nil && kind == "photo" && len(up.data) > 10<<20 {
		return nil, badRequest("PHOTO_INVALID_DIMENSIONS")
	}
	caption, err := textParams(p, "caption", MaxCaptionLength, "message caption is too long")
	if err != nil {
		return nil, err
	}
	mk, err := parseMarkup(p.str("reply_markup"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &msg{caption: caption, raw: p.str("caption"), parseMode: p.str("parse_mode")}
	switch {
	case fileID != "":
		f := s.files[fileID]
		if f == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		isPhoto := strings.HasPrefix(f.Path, "photos/")
		if kind == "photo" {
			if !isPhoto {
				return nil, badRequest("can't use file of type Document as Photo")
			}
			m.photo = s.photoSetLocked(f)
		} else {
			if isPhoto {
				return nil, badRequest("can't use file of type Photo as Document")
			}
			m.doc = f
		}
	case kind == "photo":
		sizes, err := s.storePhotoLocked(up.name, up.data, true)
		if err != nil {
			return nil, err
		}
		m.photo = sizes
	default:
		name := up.name
		if name == "" {
			name = "document"
		}
		m.doc = s.storeFileLocked("documents", name, mimeFor(name, up.mime), up.data, 0, 0)
	}
	c, err := s.newBotMsgLocked(p, m, mk)
	if err != nil {
		return nil, err
	}
	return s.apiMsgLocked(c, m), nil
}

// photoSetLocked finds the size set a photo file belongs to (for re-sending by file_id).
func (s *Server) photoSetLocked(f *File) []*File {
	for _, c := range s.chats {
		for _, m := range c.msgs {
			for _, ph := range m.photo {
				if ph == f {
					return m.photo
				}
			}
		}
	}
	return []*File{f}
}

func (s *Server) copyMessage(_ context.Context, p *params) (any, error) {
	mk, err := parseMarkup(p.str("reply_markup"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	from, err := p.chatID("from_chat_id")
	if err != nil {
		return nil, err
	}
	src := s.chats[from]
	if src == nil {
		return nil, badRequest("chat not found")
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, err
	}
	om := src.byID[id]
	if om == nil || om.deleted {
		return nil, badRequest("message to copy not found")
	}
	if om.service != "" {
		return nil, badRequest("message can't be copied")
	}
	m := &msg{text: om.text, raw: om.raw, parseMode: om.parseMode, entities: om.entities, caption: om.caption,
		photo: om.photo, doc: om.doc, contact: om.contact}
	if p.has("caption") {
		c, err := textParams(p, "caption", MaxCaptionLength, "message caption is too long")
		if err != nil {
			return nil, err
		}
		m.caption, m.raw = c, p.str("caption")
	}
	if _, err := s.newBotMsgLocked(p, m, mk); err != nil {
		return nil, err
	}
	return map[string]int{"message_id": m.id}, nil
}

// editableLocked finds the bot message to edit.
func (s *Server) editableLocked(p *params) (*chat, *msg, error) {
	if p.str("inline_message_id") != "" {
		return nil, nil, badRequest("inline messages are not supported by the sandbox")
	}
	c, err := s.botChatLocked(p, "chat_id")
	if err != nil {
		return nil, nil, err
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, nil, err
	}
	m := c.byID[id]
	if m == nil || m.deleted || m.service != "" {
		return nil, nil, badRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, nil, badRequest("message can't be edited")
	}
	return c, m, nil
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// parseInlineMarkup reads reply_markup of an edit, which may only be an
// inline keyboard.
func parseInlineMarkup(p *params) (markup, error) {
	mk, err := parseMarkup(p.str("reply_markup"))
	if err != nil {
		return mk, err
	}
	if mk.keyboard != nil || mk.remove {
		return mk, badRequest("inline keyboard expected")
	}
	return mk, nil
}

func (s *Server) editMessageText(_ context.Context, p *params) (any, error) {
	if strings.TrimSpace(p.str("text")) == "" {
		return nil, badRequest("message text is empty")
	}
	shown, err := textParams(p, "text", MaxTextLength, "message is too long")
	if err != nil {
		return nil, err
	}
	mk, err := parseInlineMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editableLocked(p)
	if err != nil {
		return nil, err
	}
	if m.text == "" {
		return nil, badRequest("there is no text in the message to edit")
	}
	// Like Telegram, an edit without reply_markup removes the inline keyboard.
	if m.raw == p.str("text") && m.parseMode == p.str("parse_mode") && reflect.DeepEqual(m.inline, mk.inline) {
		return nil, badRequest(notModified)
	}
	m.text, m.raw, m.parseMode, m.inline = shown, p.str("text"), p.str("parse_mode"), mk.inline
	s.editedLocked(c, m)
	return s.apiMsgLocked(c, m), nil
}

func (s *Server) editedLocked(c *chat, m *msg) {
	m.edited = true
	m.editDate = time.Now()
	s.touchLocked(c, m)
}

func (s *Server) editMessageCaption(_ context.Context, p *params) (any, error) {
	caption, err := textParams(p, "caption", MaxCaptionLength, "message caption is too long")
	if err != nil {
		return nil, err
	}
	mk, err := parseInlineMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editableLocked(p)
	if err != nil {
		return nil, err
	}
	if m.photo == nil && m.doc == nil {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if m.raw == p.str("caption") && reflect.DeepEqual(m.inline, mk.inline) {
		return nil, badRequest(notModified)
	}
	m.caption, m.raw, m.parseMode, m.inline = caption, p.str("caption"), p.str("parse_mode"), mk.inline
	s.editedLocked(c, m)
	return s.apiMsgLocked(c, m), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, p *params) (any, error) {
	mk, err := parseInlineMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editableLocked(p)
	if err != nil {
		return nil, err
	}
	if reflect.DeepEqual(m.inline, mk.inline) {
		return nil, badRequest(notModified)
	}
	m.inline = mk.inline
	s.editedLocked(c, m)
	return s.apiMsgLocked(c, m), nil
}

func (s *Server) deleteMessage(_ context.Context, p *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.botChatLocked(p, "chat_id")
	if err != nil {
		return nil, err
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, err
	}
	m := c.byID[id]
	if m == nil || m.deleted {
		return nil, badRequest("message to delete not found")
	}
	m.deleted = true
	s.touchLocked(c, m)
	return true, nil
}

func (s *Server) answerCallbackQuery(_ context.Context, p *params) (any, error) {
	if utf16Len(p.str("text")) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := p.str("callback_query_id")
	cb := s.callbacks[id]
	if cb == nil || cb.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	cb.answered, cb.text, cb.showAlert, cb.at = true, p.str("text"), p.bool("show_alert"), time.Now()
	if c := s.chats[cb.chatID]; c != nil {
		s.touchLocked(c, nil)
		c.answers = append(c.answers, answerView{ID: id, Text: cb.text, ShowAlert: cb.showAlert, Seq: c.seq})
	}
	return true, nil
}

type apiFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

func (s *Server) getFile(_ context.Context, p *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strings.TrimSpace(p.str("file_id"))
	if id == "" {
		return nil, badRequest("file_id is empty")
	}
	f := s.files[id]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if f.Size > MaxDownloadSize {
		return nil, badRequest("file is too big")
	}
	return apiFile{FileID: f.ID, FileUniqueID: f.UniqueID, FileSize: f.Size, FilePath: f.Path}, nil
}

type apiForumTopic struct {
	MessageThreadID int    `json:"message_thread_id"`
	Name            string `json:"name"`
	IconColor       int    `json:"icon_color"`
}

func (s *Server) forumLocked(p *params) (*chat, error) {
	c, err := s.botChatLocked(p, "chat_id")
	if err != nil {
		return nil, err
	}
	if !c.forum {
		return nil, badRequest("the chat is not a forum")
	}
	return c, nil
}

func (s *Server) createForumTopic(_ context.Context, p *params) (any, error) {
	name := p.str("name")
	if n := utf16Len(name); n == 0 || n > 128 {
		return nil, badRequest("TOPIC_NAME_INVALID")
	}
	color, err := p.int("icon_color")
	if err != nil {
		return nil, err
	}
	if color == 0 {
		color = 7322096
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.forumLocked(p)
	if err != nil {
		return nil, err
	}
	m := &msg{from: s.bot, fromBot: true, topic: &apiTopicCreated{Name: name, IconColor: color}, service: "topic created: " + name}
	s.addMsgLocked(c, m)
	m.thread = m.id
	c.topics = append(c.topics, &Topic{ThreadID: m.id, Name: name, IconColor: color})
	return apiForumTopic{MessageThreadID: m.id, Name: name, IconColor: color}, nil
}

func (s *Server) topicParamLocked(p *params) (*chat, *Topic, error) {
	c, err := s.forumLocked(p)
	if err != nil {
		return nil, nil, err
	}
	thread, err := p.int("message_thread_id")
	if err != nil {
		return nil, nil, err
	}
	t := s.topicLocked(c, thread)
	if t == nil {
		return nil, nil, badRequest("TOPIC_ID_INVALID")
	}
	return c, t, nil
}

func (s *Server) topicServiceLocked(c *chat, t *Topic, text string) {
	s.addMsgLocked(c, &msg{from: s.bot, fromBot: true, thread: t.ThreadID, service: text})
}

func (s *Server) editForumTopic(_ context.Context, p *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, t, err := s.topicParamLocked(p)
	if err != nil {
		return nil, err
	}
	name := p.str("name")
	if name == "" || name == t.Name {
		return nil, badRequest("TOPIC_NOT_MODIFIED")
	}
	if utf16Len(name) > 128 {
		return nil, badRequest("TOPIC_NAME_INVALID")
	}
	t.Name = name
	s.topicServiceLocked(c, t, "topic renamed: "+name)
	return true, nil
}

func (s *Server) closeForumTopic(_ context.Context, p *params) (any, error) {
	return s.setTopicClosed(p, true)
}

func (s *Server) reopenForumTopic(_ context.Context, p *params) (any, error) {
	return s.setTopicClosed(p, false)
}

func (s *Server) setTopicClosed(p *params, closed bool) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, t, err := s.topicParamLocked(p)
	if err != nil {
		return nil, err
	}
	if t.Closed == closed {
		return nil, badRequest("TOPIC_NOT_MODIFIED")
	}
	t.Closed = closed
	if closed {
		s.topicServiceLocked(c, t, "topic closed")
	} else {
		s.topicServiceLocked(c, t, "topic reopened")
	}
	return true, nil
}

var commandRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(_ context.Context, p *params) (any, error) {
	var cmds []struct {
		Command     string `json:"command"`
		Description string `json:"description"`
	}
	raw := p.str("commands")
	if err := json.Unmarshal([]byte(raw), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	for _, c := range cmds {
		if !commandRe.MatchString(strings.TrimPrefix(c.Command, "/")) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(c.Description); n == 0 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = json.RawMessage(raw)
	return true, nil
}

func (s *Server) getMyCommands(context.Context, *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.commands == nil {
		return json.RawMessage("[]"), nil
	}
	return s.commands, nil
}

func (s *Server) deleteMyCommands(context.Context, *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = nil
	return true, nil
}

var chatActions = map[string]bool{"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true}

func (s *Server) sendChatAction(_ context.Context, p *params) (any, error) {
	action := p.str("action")
	if !chatActions[action] {
		return nil, badRequest("wrong type of chat action")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.botChatLocked(p, "chat_id")
	if err != nil {
		return nil, err
	}
	c.action, c.actionAt = action, time.Now()
	s.touchLocked(c, nil)
	return true, nil
}

func (s *Server) getChat(_ context.Context, p *params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.botChatLocked(p, "chat_id")
	if err != nil {
		return nil, err
	}
	return s.apiChatLocked(c), nil
}
