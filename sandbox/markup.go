package sandbox

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"unicode/utf16"
)

// MaxTextLength is Telegram's limit for a message text, in UTF-16 code units
// (Telegram's own unit) of the text after parse_mode markup is removed.
const MaxTextLength = 4096

// MaxCaptionLength is the limit for a media caption, counted the same way.
const MaxCaptionLength = 1024

// utf16Len returns the length of s in UTF-16 code units.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// renderText removes parse_mode markup and reports Telegram's "can't parse
// entities" errors.
func renderText(text, mode string) (string, error) {
	switch strings.ToLower(mode) {
	case "html":
		return renderHTML(text)
	case "markdownv2":
		return renderMarkdownV2(text)
	case "markdown":
		r := strings.NewReplacer("*", "", "_", "", "`", "")
		return r.Replace(text), nil
	case "":
		return text, nil
	default:
		return "", badRequest("unsupported parse_mode")
	}
}

var htmlTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true, "a": true, "code": true,
	"pre": true, "blockquote": true, "tg-emoji": true}

func renderHTML(text string) (string, error) {
	var out strings.Builder
	var stack []string
	for i := 0; i < len(text); {
		c := text[i]
		if c != '<' {
			j := strings.IndexByte(text[i:], '<')
			if j < 0 {
				j = len(text) - i
			}
			out.WriteString(html.UnescapeString(text[i : i+j]))
			i += j
			continue
		}
		end := strings.IndexByte(text[i:], '>')
		if end < 0 {
			return "", badRequest(fmt.Sprintf("can't parse entities: Unclosed start tag at byte offset %d", i))
		}
		tag := text[i+1 : i+end]
		closing := strings.HasPrefix(tag, "/")
		tag = strings.TrimPrefix(tag, "/")
		name := tag
		if k := strings.IndexAny(tag, " \t\n/"); k >= 0 {
			name = tag[:k]
		}
		name = strings.ToLower(name)
		if name == "" || strings.ContainsAny(name, "<=\"'") {
			return "", badRequest(fmt.Sprintf("can't parse entities: Unexpected end of name token at byte offset %d", i))
		}
		if closing {
			if len(stack) == 0 || stack[len(stack)-1] != name {
				exp := ""
				if len(stack) > 0 {
					exp = stack[len(stack)-1]
				}
				return "", badRequest(fmt.Sprintf("can't parse entities: Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, exp, name))
			}
			stack = stack[:len(stack)-1]
		} else {
			if !htmlTags[name] {
				return "", badRequest(fmt.Sprintf("can't parse entities: Unsupported start tag \"%s\" at byte offset %d", name, i))
			}
			stack = append(stack, name)
		}
		i += end + 1
	}
	if len(stack) > 0 {
		return "", badRequest(fmt.Sprintf("can't parse entities: Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1]))
	}
	return out.String(), nil
}

// renderMarkdownV2 follows https://core.telegram.org/bots/api#markdownv2-style:
// the characters _*[]()~`>#+-=|{}.! must be escaped with '\' unless they are markup.
func renderMarkdownV2(text string) (string, error) {
	var out strings.Builder
	open := map[string]int{} // entity -> byte offset where it opened
	names := map[string]string{"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}
	inLink := -1
	lineStart := true
	for i := 0; i < len(text); i++ {
		c := text[i]
		wasLineStart := lineStart
		lineStart = c == '\n'
		switch {
		case c == '\\':
			if i+1 < len(text) {
				i++
				out.WriteByte(text[i])
			}
		case c == '`':
			fence := "`"
			if strings.HasPrefix(text[i:], "```") {
				fence = "```"
			}
			j := strings.Index(text[i+len(fence):], fence)
			if j < 0 {
				return "", badRequest(fmt.Sprintf("can't parse entities: Can't find end of %s entity at byte offset %d", map[string]string{"`": "Code", "```": "Pre"}[fence], i))
			}
			body := text[i+len(fence) : i+len(fence)+j]
			if fence == "```" {
				if nl := strings.IndexByte(body, '\n'); nl >= 0 && !strings.ContainsAny(body[:nl], " ") {
					body = body[nl+1:]
				}
			}
			out.WriteString(strings.NewReplacer("\\`", "`", "\\\\", "\\").Replace(body))
			i += len(fence) + j + len(fence) - 1
		case c == '*' || c == '~' || c == '_' || (c == '|' && strings.HasPrefix(text[i:], "||")):
			tok := string(c)
			if (c == '_' && strings.HasPrefix(text[i:], "__")) || c == '|' {
				tok = text[i : i+2]
				i++
			}
			if _, ok := open[tok]; ok {
				delete(open, tok)
			} else {
				open[tok] = i
			}
		case c == '[':
			if inLink >= 0 {
				return "", reservedErr(c)
			}
			inLink = i
		case c == ']':
			if inLink < 0 {
				return "", reservedErr(c)
			}
			inLink = -1
			if i+1 < len(text) && text[i+1] == '(' {
				j := strings.IndexByte(text[i+1:], ')')
				if j < 0 {
					return "", badRequest(fmt.Sprintf("can't parse entities: Can't find end of a URL at byte offset %d", i+1))
				}
				i += 1 + j
			}
		case c == '>' && wasLineStart:
			// blockquote marker
		case strings.IndexByte("()>#+-=|{}.!", c) >= 0:
			return "", reservedErr(c)
		default:
			out.WriteByte(c)
		}
	}
	for tok, at := range open {
		return "", badRequest(fmt.Sprintf("can't parse entities: Can't find end of %s entity at byte offset %d", names[tok], at))
	}
	if inLink >= 0 {
		return "", badRequest(fmt.Sprintf("can't parse entities: Can't find end of a TextUrl entity at byte offset %d", inLink))
	}
	return out.String(), nil
}

func reservedErr(c byte) error {
	return badRequest(fmt.Sprintf("can't parse entities: Character '%c' is reserved and must be escaped with the preceding '\\'", c))
}

// markup is a parsed reply_markup.
type markup struct {
	inline   [][]Button
	keyboard [][]KeyboardButton
	remove   bool
	oneTime  bool
	set      bool
}

// MaxCallbackData is Telegram's limit for callback_data, in bytes.
const MaxCallbackData = 64

func parseMarkup(raw string) (markup, error) {
	var mk markup
	if strings.TrimSpace(raw) == "" {
		return mk, nil
	}
	var in replyMarkupIn
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return mk, badRequest("can't parse reply keyboard markup JSON object")
	}
	mk.set = true
	switch {
	case in.InlineKeyboard != nil:
		for _, row := range in.InlineKeyboard {
			var r []Button
			for _, b := range row {
				// go-telegram/bot always sends "copy_text":{"text":""}: an empty
				// copy_text is treated as absent.
				if b.CopyText != nil && b.CopyText.Text == "" {
					b.CopyText = nil
				}
				var btn Button
				btn.Text = b.Text
				switch {
				case b.CallbackData != nil:
					if n := len(*b.CallbackData); n == 0 || n > MaxCallbackData {
						return mk, badRequest("BUTTON_DATA_INVALID")
					}
					btn.Data = *b.CallbackData
				case b.URL != nil:
					u := *b.URL
					if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "tg://")) {
						return mk, badRequest(fmt.Sprintf("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", u))
					}
					btn.URL = u
				case b.CopyText != nil:
					btn.CopyText = b.CopyText.Text
				case b.WebApp != nil || b.LoginURL != nil || b.SwitchInlineQuery != nil || b.SwitchInlineQueryCurrentChat != nil || b.Pay:
					// accepted, not simulated
				default:
					return mk, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
				}
				if b.Text == "" {
					return mk, badRequest("BUTTON_TEXT_INVALID")
				}
				r = append(r, btn)
			}
			mk.inline = append(mk.inline, r)
		}
	case in.Keyboard != nil:
		for _, row := range in.Keyboard {
			var r []KeyboardButton
			for _, raw := range row {
				var kb keyboardButtonIn
				var text string
				if json.Unmarshal(raw, &text) == nil {
					kb.Text = text
				} else if err := json.Unmarshal(raw, &kb); err != nil {
					return mk, badRequest("can't parse keyboard button")
				}
				if kb.Text == "" {
					return mk, badRequest("keyboard button text is empty")
				}
				r = append(r, KeyboardButton{Text: kb.Text, RequestContact: kb.RequestContact})
			}
			mk.keyboard = append(mk.keyboard, r)
		}
		if len(mk.keyboard) == 0 {
			return mk, badRequest("keyboard must be non-empty")
		}
		mk.oneTime = in.OneTimeKeyboard
	case in.RemoveKeyboard:
		mk.remove = true
	case in.ForceReply:
	default:
		return mk, badRequest("can't find field \"inline_keyboard\"")
	}
	return mk, nil
}
