package flows

import "time"

// Input names what a customer did, as the transition table sees it.
type Input string

const (
	InText     Input = "text"
	InContact  Input = "contact"
	InPhoto    Input = "photo"
	InDocument Input = "document"
	InOther    Input = "other" // a sticker, a voice note...
)

// Cmd is the Input of a command such as /start.
func Cmd(name string) Input { return Input("cmd:" + name) }

// Btn is the Input of an inline button with the given action.
func Btn(action string) Input { return Input("btn:" + action) }

// Event is one thing the customer did, stripped of Telegram.
type Event struct {
	ChatID   int64
	UserID   int64
	LangHint string // Telegram's language_code of the sender
	At       time.Time

	Input Input
	Text  string   // text, or a command's arguments
	Args  []string // button arguments
	// Version is the session version the pressed keyboard was drawn for.
	Version int64
	Contact *Contact
	File    *File
}

// Contact is a shared phone number.
type Contact struct {
	Phone  string
	UserID int64 // whose contact it is; must be the sender's own
}

// File is a photo or document the customer sent.
type File struct {
	ID   string // opaque id of the chat platform, to download the bytes
	Name string
	MIME string
	Size int64
}

// Text is a catalogue message id and its template data.
type Text struct {
	ID   string
	Data map[string]any
}

// T builds a Text from an id and key/value pairs.
func T(id string, kv ...any) Text {
	t := Text{ID: id}
	if len(kv) > 0 {
		t.Data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			t.Data[kv[i].(string)] = kv[i+1]
		}
	}
	return t
}

// Button is an inline button. Action and Args become callback data in bot/.
type Button struct {
	Label  Text
	Action string
	Args   []string
	URL    string
}

// Attachment is a file the bot sends.
type Attachment struct {
	Photo bool // a picture (else a document)
	Name  string
	MIME  string
	Data  []byte
}

// Reply is one message the bot sends.
type Reply struct {
	Texts          []Text // joined by a blank line
	Buttons        [][]Button
	AskContact     bool // show a reply keyboard with a "share my phone number" button
	RemoveKeyboard bool
	Attachment     *Attachment
	// Transfer asks bot/ to draw a VietQR code for a bank transfer, sent as a
	// picture before the text.
	Transfer *Transfer
}

// Transfer is a requested bank transfer.
type Transfer struct {
	Bank      BankAccount
	AmountVND int64
	Purpose   string // ASCII, short: the order reference comes back in it
}

// Say builds a one-text reply.
func Say(id string, kv ...any) Reply { return Reply{Texts: []Text{T(id, kv...)}} }

// Outcome is what handling one event produced.
type Outcome struct {
	Session Session
	Replies []Reply
	// Notice is a short toast for a pressed button (e.g. "this button has expired").
	Notice *Text
	// Staff are messages for the staff chat.
	Staff []Reply
}
