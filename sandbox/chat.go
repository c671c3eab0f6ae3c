package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// chat is one chat with the bot: a user's private chat or a (forum) supergroup.
type chat struct {
	id       int64
	typ      string // "private" or "supergroup"
	title    string
	forum    bool
	nextID   int
	msgs     []*msg
	byID     map[int]*msg
	blocked  bool
	topics   []*Topic
	keyboard [][]KeyboardButton // reply keyboard currently shown
	oneTime  bool
	action   string
	actionAt time.Time
	answers  []answerView
	seq      int64
	bucket   bucket
}

type answerView struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	ShowAlert bool   `json:"show_alert,omitempty"`
	Seq       int64  `json:"seq"`
}

// msg is a stored message.
type msg struct {
	id        int
	thread    int
	from      apiUser
	fromBot   bool
	date      time.Time
	editDate  time.Time
	text      string // as shown (markup removed)
	raw       string // as sent
	parseMode string
	entities  []apiEntity
	caption   string
	photo     []*File
	doc       *File
	contact   *apiContact
	inline    [][]Button
	replyKB   [][]KeyboardButton
	removeKB  bool
	service   string
	topic     *apiTopicCreated
	edited    bool
	deleted   bool
	seq       int64
}

func (s *Server) privateChatLocked(userID int64) *chat {
	c := s.chats[userID]
	if c == nil {
		c = &chat{id: userID, typ: "private", byID: map[int]*msg{}}
		s.chats[userID] = c
	}
	return c
}

func (s *Server) userLocked(id int64) *userInfo {
	u := s.users[id]
	if u == nil {
		u = &userInfo{DemoUser: withDefaults(DemoUser{ID: id})}
		s.users[id] = u
	}
	return u
}

func (u *userInfo) api() apiUser {
	return apiUser{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

func (s *Server) apiChatLocked(c *chat) apiChat {
	ac := apiChat{ID: c.id, Type: c.typ}
	if c.typ == "private" {
		u := s.userLocked(c.id)
		ac.FirstName, ac.LastName, ac.Username = u.FirstName, u.LastName, u.Username
	} else {
		ac.Title = c.title
		ac.IsForum = c.forum
	}
	return ac
}

// addMsgLocked stores m in c with the next message id and stamps it.
func (s *Server) addMsgLocked(c *chat, m *msg) {
	c.nextID++
	m.id = c.nextID
	if m.date.IsZero() {
		m.date = time.Now()
	}
	c.msgs = append(c.msgs, m)
	c.byID[m.id] = m
	s.touchLocked(c, m)
}

func (s *Server) touchLocked(c *chat, m *msg) {
	s.notifyLocked()
	c.seq = s.seq
	if m != nil {
		m.seq = s.seq
	}
}

func (s *Server) topicLocked(c *chat, thread int) *Topic {
	for _, t := range c.topics {
		if t.ThreadID == thread {
			return t
		}
	}
	return nil
}

func (s *Server) apiMsgLocked(c *chat, m *msg) apiMessage {
	from := m.from
	am := apiMessage{
		MessageID: m.id,
		From:      &from,
		Date:      m.date.Unix(),
		Chat:      s.apiChatLocked(c),
		Text:      m.text,
		Entities:  m.entities,
		Caption:   m.caption,
		Contact:   m.contact,
	}
	if m.thread != 0 {
		am.MessageThreadID = m.thread
		am.IsTopicMessage = c.forum
	}
	if m.topic != nil {
		am.ForumTopicCreated = m.topic
	}
	if !m.editDate.IsZero() {
		am.EditDate = m.editDate.Unix()
	}
	for _, p := range m.photo {
		am.Photo = append(am.Photo, apiPhotoSize{FileID: p.ID, FileUniqueID: p.UniqueID, Width: p.Width, Height: p.Height, FileSize: p.Size})
	}
	if d := m.doc; d != nil {
		am.Document = &apiDocument{FileID: d.ID, FileUniqueID: d.UniqueID, FileName: d.Name, MimeType: d.MIME, FileSize: d.Size}
	}
	if len(m.inline) > 0 {
		mk := &apiInlineMarkup{}
		for _, row := range m.inline {
			var r []apiInlineButton
			for _, b := range row {
				ab := apiInlineButton{Text: b.Text, URL: b.URL, CallbackData: b.Data}
				if b.CopyText != "" {
					ab.CopyText = &apiCopyText{Text: b.CopyText}
				}
				r = append(r, ab)
			}
			mk.InlineKeyboard = append(mk.InlineKeyboard, r)
		}
		am.ReplyMarkup = mk
	}
	return am
}

func (s *Server) apiMsgJSONLocked(c *chat, m *msg) json.RawMessage {
	raw, _ := json.Marshal(s.apiMsgLocked(c, m))
	return raw
}

func (m *msg) view(c *chat) Message {
	v := Message{
		ID: m.id, ChatID: c.id, ThreadID: m.thread, FromID: m.from.ID,
		FromName: strings.TrimSpace(m.from.FirstName + " " + m.from.LastName),
		FromBot:  m.fromBot, Date: m.date, Edited: m.edited,
		Text: m.text, Caption: m.caption, ParseMode: m.parseMode, RawText: m.raw,
		Buttons: m.inline, ReplyKeyboard: m.replyKB, RemoveKeyboard: m.removeKB,
		Photo: m.photo, Document: m.doc, Service: m.service, seq: m.seq,
	}
	if m.contact != nil {
		v.Contact = &Contact{Phone: m.contact.PhoneNumber, FirstName: m.contact.FirstName, UserID: m.contact.UserID}
	}
	return v
}

// messagesLocked returns the chat's live messages, optionally only the bot's.
func (c *chat) messagesLocked(botOnly bool) []Message {
	var out []Message
	for _, m := range c.msgs {
		if m.deleted || (botOnly && !m.fromBot) {
			continue
		}
		out = append(out, m.view(c))
	}
	return out
}

func dump(ms []Message, n int) string {
	if len(ms) > n {
		ms = ms[len(ms)-n:]
	}
	var b strings.Builder
	if len(ms) == 0 {
		b.WriteString("  (no messages)\n")
	}
	for _, m := range ms {
		who := "user"
		if m.FromBot {
			who = "bot"
		}
		ed := ""
		if m.Edited {
			ed = " (edited)"
		}
		fmt.Fprintf(&b, "  #%d %s%s: %q", m.ID, who, ed, m.Body())
		if m.Service != "" {
			fmt.Fprintf(&b, " [%s]", m.Service)
		}
		if m.Document != nil {
			fmt.Fprintf(&b, " [document %s %d bytes]", m.Document.Name, m.Document.Size)
		}
		if len(m.Photo) > 0 {
			fmt.Fprintf(&b, " [photo]")
		}
		if len(m.Buttons) > 0 {
			fmt.Fprintf(&b, " buttons=%q", m.ButtonTexts())
		}
		if len(m.ReplyKeyboard) > 0 {
			fmt.Fprintf(&b, " keyboard=%v", m.ReplyKeyboard)
		}
		b.WriteString("\n")
	}
	return b.String()
}
