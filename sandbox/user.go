package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
)

// waiter remembers which bot messages a test already waited for.
type waiter struct {
	base     int64             // only changes after this seq count
	consumed map[[2]int64]bool // (message id, seq) pairs already returned
}

func (w *waiter) reset(seq int64) {
	w.base = seq
	w.consumed = nil
}

// User acts as a Telegram user in a private chat with the bot. Get one with
// Server.User; handles for the same id share their WaitFor position.
type User struct {
	s  *Server
	ID int64
	w  waiter // guarded by s.mu
}

// User returns a handle to act as the private-chat user id. Unknown users are
// created with a default name ("User<id>") and language "vi"; their chat with the
// bot exists from then on (as if they had pressed Start).
func (s *Server) User(id int64) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userHandleLocked(id)
}

func (s *Server) userHandleLocked(id int64) *User {
	ui := s.userLocked(id)
	if ui.handle == nil {
		ui.handle = &User{s: s, ID: id}
		ui.handle.w.reset(s.seq)
	}
	s.privateChatLocked(id)
	return ui.handle
}

// SetLanguage sets the language_code sent with the user's next updates.
func (u *User) SetLanguage(code string) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.s.userLocked(u.ID).LanguageCode = code
}

// SetPhone sets the phone number ShareContact uses by default on the web page.
func (u *User) SetPhone(phone string) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.s.userLocked(u.ID).Phone = phone
}

// commandEntities returns a bot_command entity for text starting with '/'.
func commandEntities(text string) []apiEntity {
	if !strings.HasPrefix(text, "/") || len(text) < 2 {
		return nil
	}
	cmd := text
	if i := strings.IndexAny(text, " \n\t"); i >= 0 {
		cmd = text[:i]
	}
	return []apiEntity{{Type: "bot_command", Offset: 0, Length: utf16Len(cmd)}}
}

// postLocked stores a message a person sent in chat c and queues its update.
func (s *Server) postLocked(c *chat, from int64, thread int, m *msg) Message {
	ui := s.userLocked(from)
	m.from = ui.api()
	m.thread = thread
	if m.text != "" {
		m.raw = m.text
		m.entities = commandEntities(m.text)
	}
	if c.typ == "private" {
		if c.blocked {
			s.setBlockedLocked(c, false) // writing to the bot again restarts it
		}
		if c.oneTime {
			c.keyboard, c.oneTime = nil, false
		}
	}
	s.addMsgLocked(c, m)
	am := s.apiMsgLocked(c, m)
	s.enqueueLocked(apiUpdate{Message: &am})
	return m.view(c)
}

func (u *User) post(m *msg) Message {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.postLocked(s.privateChatLocked(u.ID), u.ID, 0, m)
	u.w.reset(s.seq)
	return v
}

// Send sends a text message to the bot; text starting with '/' carries a
// bot_command entity. Later WaitFor calls only see bot messages after it.
func (u *User) Send(text string) Message { return u.post(&msg{text: text}) }

// ShareContact shares the user's own contact (contact.user_id == the user's id),
// as the "share my phone number" reply-keyboard button does.
func (u *User) ShareContact(phone string) Message {
	u.s.mu.Lock()
	ui := u.s.userLocked(u.ID)
	ct := &apiContact{PhoneNumber: phone, FirstName: ui.FirstName, LastName: ui.LastName, UserID: u.ID}
	u.s.mu.Unlock()
	return u.post(&msg{contact: ct})
}

// ShareForeignContact shares someone else's contact card (user_id is userID, 0 for
// a phone number that is not on Telegram).
func (u *User) ShareForeignContact(phone string, userID int64) Message {
	return u.post(&msg{contact: &apiContact{PhoneNumber: phone, FirstName: "Contact", UserID: userID}})
}

// SendPhoto sends a photo. Decodable images (JPEG, PNG, GIF) arrive in several
// sizes like on Telegram; other bytes arrive as a single size.
func (u *User) SendPhoto(name string, data []byte, caption string) Message {
	u.s.mu.Lock()
	sizes, _ := u.s.storePhotoLocked(name, data, false)
	u.s.mu.Unlock()
	return u.post(&msg{photo: sizes, caption: caption})
}

// SendDocument sends a file as a document.
func (u *User) SendDocument(name, mimeType string, data []byte, caption string) Message {
	u.s.mu.Lock()
	f := u.s.storeFileLocked("documents", name, mimeFor(name, mimeType), data, 0, 0)
	u.s.mu.Unlock()
	return u.post(&msg{doc: f, caption: caption})
}

// findButton finds a callback button by text: an exact match, else a unique
// substring match.
func findButton(m *msg, text string) (Button, error) {
	var subs []Button
	for _, row := range m.inline {
		for _, b := range row {
			if b.Text == text {
				return b, nil
			}
			if strings.Contains(b.Text, text) {
				subs = append(subs, b)
			}
		}
	}
	switch len(subs) {
	case 1:
		return subs[0], nil
	case 0:
		var texts []string
		for _, row := range m.inline {
			for _, b := range row {
				texts = append(texts, b.Text)
			}
		}
		return Button{}, fmt.Errorf("sandbox: message %d has no button %q (buttons: %q)", m.id, text, texts)
	default:
		return Button{}, fmt.Errorf("sandbox: message %d has %d buttons containing %q", m.id, len(subs), text)
	}
}

func (s *Server) pressLocked(c *chat, from int64, m Message, buttonText string) (string, error) {
	cur := c.byID[m.ID]
	if cur == nil || cur.deleted {
		return "", fmt.Errorf("sandbox: message %d of chat %d no longer exists", m.ID, c.id)
	}
	b, err := findButton(cur, buttonText)
	if err != nil {
		return "", err
	}
	if b.Data == "" {
		return "", fmt.Errorf("sandbox: button %q of message %d is not a callback button (url %q, copy_text %q)", b.Text, m.ID, b.URL, b.CopyText)
	}
	return s.pressDataLocked(c, from, m.ID, b.Data), nil
}

func (s *Server) pressDataLocked(c *chat, from int64, messageID int, data string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprint(binary.BigEndian.Uint64(b[:]) >> 2)
	s.callbacks[id] = &callbackState{chatID: c.id}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", s.bot.ID, c.id)
	cq := &apiCallbackQuery{ID: id, From: s.userLocked(from).api(), ChatInstance: fmt.Sprint(int64(h.Sum64() >> 1)), Data: data}
	if m := c.byID[messageID]; m != nil && !m.deleted {
		cq.Message = s.apiMsgJSONLocked(c, m)
	} else {
		// InaccessibleMessage: date 0.
		cq.Message, _ = json.Marshal(map[string]any{"chat": s.apiChatLocked(c), "message_id": messageID, "date": 0})
	}
	s.enqueueLocked(apiUpdate{CallbackQuery: cq})
	return id
}

// Press presses the inline button of bot message m whose text is buttonText (or
// uniquely contains it), as shown now (edits applied). It returns the callback
// query id; see Server.CallbackAnswered.
func (u *User) Press(m Message, buttonText string) (callbackID string, err error) {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.pressLocked(s.privateChatLocked(u.ID), u.ID, m, buttonText)
	if err == nil {
		u.w.reset(s.seq)
	}
	return id, err
}

// PressData sends a callback query with arbitrary data for message messageID
// (stale or forged presses included) and returns its id.
func (u *User) PressData(messageID int, data string) string {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.pressDataLocked(s.privateChatLocked(u.ID), u.ID, messageID, data)
	u.w.reset(s.seq)
	return id
}

func (s *Server) setBlockedLocked(c *chat, blocked bool) {
	if c.blocked == blocked {
		return
	}
	c.blocked = blocked
	ui := s.userLocked(c.id)
	bot := s.bot
	bot.CanJoinGroups, bot.CanReadAllGroupMessages, bot.SupportsInlineQueries = nil, nil, nil
	oldS, newS := "member", "kicked"
	if !blocked {
		oldS, newS = newS, oldS
	}
	upd := &apiChatMemberUpdated{Chat: s.apiChatLocked(c), From: ui.api(), Date: nowUnix(),
		OldChatMember: apiChatMember{Status: oldS, User: bot}, NewChatMember: apiChatMember{Status: newS, User: bot}}
	if newS == "kicked" {
		zero := int64(0)
		upd.NewChatMember.UntilDate = &zero
	} else {
		zero := int64(0)
		upd.OldChatMember.UntilDate = &zero
	}
	s.touchLocked(c, nil)
	s.enqueueLocked(apiUpdate{MyChatMember: upd})
}

// Block makes the user block the bot: the bot gets a my_chat_member update and
// its calls to this chat fail with 403 "Forbidden: bot was blocked by the user".
func (u *User) Block() {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.s.setBlockedLocked(u.s.privateChatLocked(u.ID), true)
}

// Unblock undoes Block (the user restarted the bot).
func (u *User) Unblock() {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.s.setBlockedLocked(u.s.privateChatLocked(u.ID), false)
}

// Messages returns what the bot sent to this chat, as it stands now (edits
// applied, deleted messages removed), oldest first.
func (u *User) Messages() []Message {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	return u.s.privateChatLocked(u.ID).messagesLocked(true)
}

// History returns every live message of the chat, the user's own included.
func (u *User) History() []Message {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	return u.s.privateChatLocked(u.ID).messagesLocked(false)
}

// Last returns the bot's latest message in this chat.
func (u *User) Last() (Message, bool) {
	ms := u.Messages()
	if len(ms) == 0 {
		return Message{}, false
	}
	return ms[len(ms)-1], true
}

// Keyboard returns the reply keyboard the user currently sees (nil when none).
func (u *User) Keyboard() [][]KeyboardButton {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	return u.s.privateChatLocked(u.ID).keyboard
}

// WaitFor waits for a bot message (new, or an edit) matching pred among those that
// arrived after the user's last Send/Press and that no earlier WaitFor returned.
// On timeout it returns ctx's error with a dump of the chat's last messages.
func (u *User) WaitFor(ctx context.Context, pred func(Message) bool) (Message, error) {
	return u.s.waitFor(ctx, u.ID, &u.w, pred)
}

func (s *Server) waitFor(ctx context.Context, chatID int64, w *waiter, pred func(Message) bool) (Message, error) {
	for {
		s.mu.Lock()
		c := s.chats[chatID]
		var ch chan struct{}
		if c != nil {
			var best *msg
			for _, m := range c.msgs {
				if !m.fromBot || m.deleted || m.service != "" || m.seq <= w.base || w.consumed[[2]int64{int64(m.id), m.seq}] {
					continue
				}
				if (best == nil || m.seq < best.seq) && pred(m.view(c)) {
					best = m
				}
			}
			if best != nil {
				if w.consumed == nil {
					w.consumed = map[[2]int64]bool{}
				}
				w.consumed[[2]int64{int64(best.id), best.seq}] = true
				v := best.view(c)
				s.mu.Unlock()
				return v, nil
			}
		}
		ch = s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			var ms []Message
			if c != nil {
				ms = c.messagesLocked(false)
			}
			s.mu.Unlock()
			return Message{}, fmt.Errorf("sandbox: no matching bot message in chat %d: %w\nlast messages:\n%s", chatID, ctx.Err(), dump(ms, 8))
		}
	}
}

// Group is a staff supergroup (a forum when created so) the bot is an
// administrator of; people post in it with Send.
type Group struct {
	s  *Server
	ID int64
	w  waiter
}

// Group creates (or returns) the supergroup chatID with the bot in it.
func (s *Server) Group(chatID int64, title string, forum bool) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		c = &chat{id: chatID, byID: map[int]*msg{}}
		s.chats[chatID] = c
	}
	c.typ, c.title, c.forum = "supergroup", title, forum
	if s.groups == nil {
		s.groups = map[int64]*Group{}
	}
	g := s.groups[chatID]
	if g == nil {
		g = &Group{s: s, ID: chatID}
		g.w.reset(s.seq)
		s.groups[chatID] = g
	}
	s.notifyLocked()
	return g
}

// Send posts text as user fromUserID in topic threadID (0 = General).
func (g *Group) Send(fromUserID int64, text string, threadID int) Message {
	s := g.s
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.postLocked(s.chats[g.ID], fromUserID, threadID, &msg{text: text})
	g.w.reset(s.seq)
	return v
}

// SendDocument posts a document as user fromUserID in topic threadID.
func (g *Group) SendDocument(fromUserID int64, threadID int, name, mimeType string, data []byte, caption string) Message {
	s := g.s
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.storeFileLocked("documents", name, mimeFor(name, mimeType), data, 0, 0)
	v := s.postLocked(s.chats[g.ID], fromUserID, threadID, &msg{doc: f, caption: caption})
	g.w.reset(s.seq)
	return v
}

// Press presses an inline button of a bot message in the group as fromUserID.
func (g *Group) Press(fromUserID int64, m Message, buttonText string) (string, error) {
	s := g.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.pressLocked(s.chats[g.ID], fromUserID, m, buttonText)
	if err == nil {
		g.w.reset(s.seq)
	}
	return id, err
}

// Messages returns every live message of the group (staff and bot, service
// messages included), oldest first.
func (g *Group) Messages() []Message {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	return g.s.chats[g.ID].messagesLocked(false)
}

// Topics returns the forum topics, in creation order.
func (g *Group) Topics() []Topic {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	var out []Topic
	for _, t := range g.s.chats[g.ID].topics {
		out = append(out, *t)
	}
	return out
}

// WaitFor is User.WaitFor for the bot's messages in the group.
func (g *Group) WaitFor(ctx context.Context, pred func(Message) bool) (Message, error) {
	return g.s.waitFor(ctx, g.ID, &g.w, pred)
}
