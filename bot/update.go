package bot

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
	"github.com/renewbot/renewbot/flows"
)

// maxTextIn bounds what we take from a customer's message; Telegram allows
// 4096 characters, no field of ours needs more than a few hundred.
const maxTextIn = 4096

// toEvent translates an update of a private chat. ok is false for updates the
// conversations do not take (edited messages, group chatter, channel posts);
// callbackID is set for button presses, which must always be answered.
func toEvent(u *models.Update) (ev flows.Event, callbackID string, ok bool) {
	switch {
	case u.Message != nil:
		m := u.Message
		if m.Chat.Type != models.ChatTypePrivate || m.From == nil || m.From.IsBot {
			return ev, "", false
		}
		ev = flows.Event{ChatID: m.Chat.ID, UserID: m.From.ID, LangHint: m.From.LanguageCode, At: time.Unix(int64(m.Date), 0)}
		switch {
		case m.Contact != nil:
			ev.Input = flows.InContact
			ev.Contact = &flows.Contact{Phone: m.Contact.PhoneNumber, UserID: m.Contact.UserID}
		case len(m.Photo) > 0:
			p := m.Photo[len(m.Photo)-1] // the largest size
			ev.Input = flows.InPhoto
			ev.File = &flows.File{ID: p.FileID, Name: "photo.jpg", MIME: "image/jpeg", Size: int64(p.FileSize)}
			ev.Text = clip(m.Caption)
		case m.Document != nil:
			d := m.Document
			ev.Input = flows.InDocument
			ev.File = &flows.File{ID: d.FileID, Name: d.FileName, MIME: d.MimeType, Size: d.FileSize}
			ev.Text = clip(m.Caption)
		case m.Text != "":
			if name, args, isCmd := command(m); isCmd {
				ev.Input = flows.Cmd(name)
				ev.Text = clip(args)
			} else {
				ev.Input = flows.InText
				ev.Text = clip(m.Text)
			}
		default:
			ev.Input = flows.InOther
		}
		return ev, "", true
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		m := q.Message.Message
		if m == nil || m.Chat.Type != models.ChatTypePrivate {
			return ev, q.ID, false
		}
		ev = flows.Event{ChatID: m.Chat.ID, UserID: q.From.ID, LangHint: q.From.LanguageCode, At: time.Now()}
		version, action, args, err := decodeCallback(q.Data)
		if err != nil {
			// Unknown or forged data: treat it as an expired button.
			ev.Input, ev.Version = flows.Btn("invalid"), -1
			return ev, q.ID, true
		}
		ev.Input, ev.Version, ev.Args = flows.Btn(action), version, args
		return ev, q.ID, true
	}
	return ev, "", false
}

// command recognises "/name args" and "/name@bot args" by its bot_command entity.
func command(m *models.Message) (name, args string, ok bool) {
	for _, e := range m.Entities {
		if e.Type == models.MessageEntityTypeBotCommand && e.Offset == 0 {
			end := utf16ToByteLen(m.Text, e.Length)
			cmd := strings.TrimPrefix(m.Text[:end], "/")
			if i := strings.IndexByte(cmd, '@'); i >= 0 {
				cmd = cmd[:i]
			}
			return strings.ToLower(cmd), strings.TrimSpace(m.Text[end:]), true
		}
	}
	if strings.HasPrefix(m.Text, "/") && !strings.ContainsAny(m.Text, " \n") && len(m.Text) < 33 {
		return strings.ToLower(strings.SplitN(m.Text[1:], "@", 2)[0]), "", true
	}
	return "", "", false
}

// utf16ToByteLen converts an entity length (UTF-16 code units) to bytes of s.
func utf16ToByteLen(s string, units int) int {
	n := 0
	for i, r := range s {
		if n >= units {
			return i
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return len(s)
}

func clip(s string) string {
	if len(s) <= maxTextIn {
		return s
	}
	for i := maxTextIn; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return ""
}
