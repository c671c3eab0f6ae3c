package sandbox

import (
	"encoding/json"
	"strings"
	"time"
)

// Wire types: the JSON shapes of the Bot API, only the fields the sandbox produces.

type apiUser struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	LastName                string `json:"last_name,omitempty"`
	Username                string `json:"username,omitempty"`
	LanguageCode            string `json:"language_code,omitempty"`
	CanJoinGroups           *bool  `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages *bool  `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   *bool  `json:"supports_inline_queries,omitempty"`
}

type apiChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

type apiEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

type apiPhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int64  `json:"file_size,omitempty"`
}

type apiDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int64  `json:"file_size,omitempty"`
}

type apiContact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name,omitempty"`
	UserID      int64  `json:"user_id,omitempty"`
}

type apiTopicCreated struct {
	Name      string `json:"name"`
	IconColor int    `json:"icon_color"`
}

type apiTopicEdited struct {
	Name string `json:"name,omitempty"`
}

type apiInlineButton struct {
	Text         string       `json:"text"`
	URL          string       `json:"url,omitempty"`
	CallbackData string       `json:"callback_data,omitempty"`
	CopyText     *apiCopyText `json:"copy_text,omitempty"`
}

type apiCopyText struct {
	Text string `json:"text"`
}

type apiInlineMarkup struct {
	InlineKeyboard [][]apiInlineButton `json:"inline_keyboard"`
}

type apiMessage struct {
	MessageID         int              `json:"message_id"`
	MessageThreadID   int              `json:"message_thread_id,omitempty"`
	From              *apiUser         `json:"from,omitempty"`
	Date              int64            `json:"date"`
	Chat              apiChat          `json:"chat"`
	IsTopicMessage    bool             `json:"is_topic_message,omitempty"`
	EditDate          int64            `json:"edit_date,omitempty"`
	Text              string           `json:"text,omitempty"`
	Entities          []apiEntity      `json:"entities,omitempty"`
	Caption           string           `json:"caption,omitempty"`
	Photo             []apiPhotoSize   `json:"photo,omitempty"`
	Document          *apiDocument     `json:"document,omitempty"`
	Contact           *apiContact      `json:"contact,omitempty"`
	ForumTopicCreated *apiTopicCreated `json:"forum_topic_created,omitempty"`
	ForumTopicEdited  *apiTopicEdited  `json:"forum_topic_edited,omitempty"`
	ForumTopicClosed  *struct{}        `json:"forum_topic_closed,omitempty"`
	ForumTopicReopend *struct{}        `json:"forum_topic_reopened,omitempty"`
	ReplyMarkup       *apiInlineMarkup `json:"reply_markup,omitempty"`
}

type apiCallbackQuery struct {
	ID           string          `json:"id"`
	From         apiUser         `json:"from"`
	Message      json.RawMessage `json:"message,omitempty"`
	ChatInstance string          `json:"chat_instance"`
	Data         string          `json:"data,omitempty"`
}

type apiChatMemberUpdated struct {
	Chat          apiChat       `json:"chat"`
	From          apiUser       `json:"from"`
	Date          int64         `json:"date"`
	OldChatMember apiChatMember `json:"old_chat_member"`
	NewChatMember apiChatMember `json:"new_chat_member"`
}

type apiChatMember struct {
	Status    string  `json:"status"`
	User      apiUser `json:"user"`
	UntilDate *int64  `json:"until_date,omitempty"`
}

type apiUpdate struct {
	UpdateID      int64                 `json:"update_id"`
	Message       *apiMessage           `json:"message,omitempty"`
	CallbackQuery *apiCallbackQuery     `json:"callback_query,omitempty"`
	MyChatMember  *apiChatMemberUpdated `json:"my_chat_member,omitempty"`
}

// Inputs, as the bot sends them.

type replyMarkupIn struct {
	InlineKeyboard  [][]inlineButtonIn  `json:"inline_keyboard"`
	Keyboard        [][]json.RawMessage `json:"keyboard"`
	RemoveKeyboard  bool                `json:"remove_keyboard"`
	OneTimeKeyboard bool                `json:"one_time_keyboard"`
	IsPersistent    bool                `json:"is_persistent"`
	Placeholder     string              `json:"input_field_placeholder"`
	ForceReply      bool                `json:"force_reply"`
}

type inlineButtonIn struct {
	Text                         string          `json:"text"`
	URL                          *string         `json:"url"`
	CallbackData                 *string         `json:"callback_data"`
	CopyText                     *apiCopyText    `json:"copy_text"`
	WebApp                       json.RawMessage `json:"web_app"`
	LoginURL                     json.RawMessage `json:"login_url"`
	SwitchInlineQuery            *string         `json:"switch_inline_query"`
	SwitchInlineQueryCurrentChat *string         `json:"switch_inline_query_current_chat"`
	Pay                          bool            `json:"pay"`
}

type keyboardButtonIn struct {
	Text            string `json:"text"`
	RequestContact  bool   `json:"request_contact"`
	RequestLocation bool   `json:"request_location"`
}

// Exported views for tests and the web page.

// Button is an inline keyboard button of a bot message. Exactly one of Data, URL
// and CopyText is set.
type Button struct {
	Text     string `json:"text"`
	Data     string `json:"data,omitempty"`
	URL      string `json:"url,omitempty"`
	CopyText string `json:"copy_text,omitempty"`
}

// KeyboardButton is a button of a reply keyboard (the keyboard that replaces the
// phone's keyboard). RequestContact buttons share the user's own phone number.
type KeyboardButton struct {
	Text           string `json:"text"`
	RequestContact bool   `json:"request_contact,omitempty"`
}

// File is a photo size or a document stored by the sandbox.
type File struct {
	ID       string `json:"file_id"`
	UniqueID string `json:"file_unique_id"`
	Name     string `json:"name,omitempty"`
	MIME     string `json:"mime_type,omitempty"`
	Size     int64  `json:"size"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Path     string `json:"file_path"`
	data     []byte
}

// Bytes returns the file's content (the caller must not modify it).
func (f *File) Bytes() []byte {
	if f == nil {
		return nil
	}
	return f.data
}

// Contact is a shared phone number.
type Contact struct {
	Phone     string `json:"phone"`
	FirstName string `json:"first_name"`
	UserID    int64  `json:"user_id,omitempty"`
}

// Message is a snapshot of one message of a chat, as the sandbox stores it: sent by
// the bot (FromBot) or by a user. Edits are applied in place (Edited is then true);
// deleted messages are not returned.
type Message struct {
	ID       int       `json:"id"`
	ChatID   int64     `json:"chat_id"`
	ThreadID int       `json:"thread_id,omitempty"`
	FromID   int64     `json:"from_id"`
	FromName string    `json:"from_name"`
	FromBot  bool      `json:"from_bot"`
	Date     time.Time `json:"date"`
	Edited   bool      `json:"edited,omitempty"`
	// Text is the message text as Telegram shows it: with parse_mode "HTML" or
	// "MarkdownV2" the markup is removed.
	Text    string `json:"text,omitempty"`
	Caption string `json:"caption,omitempty"`
	// ParseMode is the parse_mode the bot used, RawText the text before markup removal.
	ParseMode      string             `json:"parse_mode,omitempty"`
	RawText        string             `json:"-"`
	Buttons        [][]Button         `json:"buttons,omitempty"`
	ReplyKeyboard  [][]KeyboardButton `json:"reply_keyboard,omitempty"`
	RemoveKeyboard bool               `json:"remove_keyboard,omitempty"`
	// Photo holds the photo sizes, smallest first; the last one is the original.
	Photo    []*File  `json:"photo,omitempty"`
	Document *File    `json:"document,omitempty"`
	Contact  *Contact `json:"contact,omitempty"`
	// Service describes a service message (forum topic created/closed...), empty otherwise.
	Service string `json:"service,omitempty"`

	seq int64
}

// HasButton reports whether the message has an inline button whose text contains text.
func (m Message) HasButton(text string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, text) {
				return true
			}
		}
	}
	return false
}

// ButtonTexts returns the texts of the inline buttons, row by row.
func (m Message) ButtonTexts() []string {
	var out []string
	for _, row := range m.Buttons {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// LargestPhoto returns the biggest photo size, or nil when the message has no photo.
func (m Message) LargestPhoto() *File {
	if len(m.Photo) == 0 {
		return nil
	}
	return m.Photo[len(m.Photo)-1]
}

// Body returns the text or, for media, the caption.
func (m Message) Body() string {
	if m.Text != "" {
		return m.Text
	}
	return m.Caption
}

// Topic is a forum topic of a staff supergroup.
type Topic struct {
	ThreadID  int    `json:"thread_id"`
	Name      string `json:"name"`
	IconColor int    `json:"icon_color"`
	Closed    bool   `json:"closed,omitempty"`
}
