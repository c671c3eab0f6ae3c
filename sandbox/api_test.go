package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"

	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"
)

func TestRealClientMessagesKeyboardsAndCallbacks(t *testing.T) {
	s, base := start(t, Config{})
	b := client(t, base)
	c := ctx(t)

	me, err := b.GetMe(c)
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != 4242 || !me.IsBot || me.Username != "renewbot_sandbox_bot" {
		t.Errorf("getMe = %+v", me)
	}

	u := s.User(1001)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Gia hạn ngay", CallbackData: "v1:renew:7"}},
		{{Text: "Trang web", URL: "https://example.com/x"}, {Text: "Sao chép mã", CopyText: models.CopyTextButton{Text: "HD-123"}}},
	}}
	sent, err := b.SendMessage(c, &bot.SendMessageParams{ChatID: u.ID, Text: "Chứng thư sắp hết hạn", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	if sent.ID != 1 || sent.Chat.ID != 1001 || sent.Chat.Type != "private" || sent.From == nil || !sent.From.IsBot || sent.Date == 0 {
		t.Errorf("sent message = %+v", sent)
	}
	if diff := cmp.Diff(kb.InlineKeyboard, sent.ReplyMarkup.InlineKeyboard); diff != "" {
		t.Errorf("echoed keyboard (-sent +echo):\n%s", diff)
	}
	got, ok := u.Last()
	if !ok || got.Text != "Chứng thư sắp hết hạn" || !got.FromBot {
		t.Fatalf("last = %+v", got)
	}
	wantButtons := [][]Button{{{Text: "Gia hạn ngay", Data: "v1:renew:7"}}, {{Text: "Trang web", URL: "https://example.com/x"}, {Text: "Sao chép mã", CopyText: "HD-123"}}}
	if diff := cmp.Diff(wantButtons, got.Buttons); diff != "" {
		t.Errorf("buttons:\n%s", diff)
	}
	if !got.HasButton("Gia hạn") || got.HasButton("Hủy") {
		t.Error("HasButton")
	}
	if _, err := u.Press(got, "Trang web"); err == nil {
		t.Error("pressing a URL button must fail")
	}

	cbID, err := u.Press(got, "Gia hạn")
	if err != nil {
		t.Fatal(err)
	}
	ups := getUpdates(t, base, nil)
	if len(ups) != 1 {
		t.Fatalf("updates = %v", ups)
	}
	cq := ups[0]["callback_query"]
	if jget(cq, "id") != cbID || jget(cq, "data") != "v1:renew:7" || jget(cq, "from", "id") != float64(1001) ||
		jget(cq, "message", "message_id") != float64(1) || jget(cq, "message", "date") == nil ||
		jget(cq, "message", "reply_markup", "inline_keyboard", 0, 0, "callback_data") != "v1:renew:7" || jget(cq, "chat_instance") == "" {
		t.Errorf("callback_query = %v", cq)
	}
	if s.CallbackAnswered(cbID) {
		t.Error("answered too early")
	}
	if ok, err := b.AnswerCallbackQuery(c, &bot.AnswerCallbackQueryParams{CallbackQueryID: cbID, Text: "Đang xử lý"}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if text, ok := s.CallbackAnswer(cbID); !ok || text != "Đang xử lý" {
		t.Errorf("answer = %q %v", text, ok)
	}
	_, err = b.AnswerCallbackQuery(c, &bot.AnswerCallbackQueryParams{CallbackQueryID: cbID})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "query is too old") {
		t.Errorf("second answer: %v", err)
	}
	if n := len(s.UnansweredCallbacks()); n != 0 {
		t.Errorf("unanswered = %d", n)
	}

	// editMessageText: the edit replaces the text; without reply_markup the
	// inline keyboard goes away, as on Telegram.
	kb2 := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "OK", CallbackData: "ok"}}}}
	ed, err := b.EditMessageText(c, &bot.EditMessageTextParams{ChatID: u.ID, MessageID: sent.ID, Text: "Đã chọn gói 2 năm", ReplyMarkup: kb2})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Text != "Đã chọn gói 2 năm" || ed.EditDate == 0 {
		t.Errorf("edited = %+v", ed)
	}
	_, err = b.EditMessageText(c, &bot.EditMessageTextParams{ChatID: u.ID, MessageID: sent.ID, Text: "Đã chọn gói 2 năm", ReplyMarkup: kb2})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("identical edit: %v", err)
	}
	if _, err := b.EditMessageText(c, &bot.EditMessageTextParams{ChatID: u.ID, MessageID: sent.ID, Text: "Xong"}); err != nil {
		t.Fatal(err)
	}
	last, _ := u.Last()
	if !last.Edited || last.Text != "Xong" || len(last.Buttons) != 0 {
		t.Errorf("after edits = %+v", last)
	}
	_, err = b.EditMessageText(c, &bot.EditMessageTextParams{ChatID: u.ID, MessageID: 99, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Errorf("edit missing: %v", err)
	}
	if _, err := b.EditMessageReplyMarkup(c, &bot.EditMessageReplyMarkupParams{ChatID: u.ID, MessageID: sent.ID, ReplyMarkup: kb2}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.DeleteMessage(c, &bot.DeleteMessageParams{ChatID: u.ID, MessageID: sent.ID}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if n := len(u.Messages()); n != 0 {
		t.Errorf("messages after delete = %d", n)
	}

	// Reply keyboard with request_contact, then remove_keyboard.
	rk := &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "Chia sẻ số điện thoại", RequestContact: true}}}, OneTimeKeyboard: true}
	if _, err := b.SendMessage(c, &bot.SendMessageParams{ChatID: u.ID, Text: "Cho tôi số điện thoại", ReplyMarkup: rk}); err != nil {
		t.Fatal(err)
	}
	if k := u.Keyboard(); len(k) != 1 || !k[0][0].RequestContact {
		t.Errorf("keyboard = %v", k)
	}
	u.ShareContact("+84901234567")
	if k := u.Keyboard(); k != nil {
		t.Errorf("one-time keyboard still shown: %v", k)
	}
	ups = getUpdates(t, base, map[string]any{"offset": ups[0]["update_id"].(float64) + 1})
	if len(ups) != 1 || jget(ups[0], "message", "contact", "user_id") != float64(1001) || jget(ups[0], "message", "contact", "phone_number") != "+84901234567" {
		t.Errorf("contact update = %v", ups)
	}
	if _, err := b.SendMessage(c, &bot.SendMessageParams{ChatID: u.ID, Text: "Cảm ơn", ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}}); err != nil {
		t.Fatal(err)
	}
	last, _ = u.Last()
	if !last.RemoveKeyboard {
		t.Error("remove_keyboard not recorded")
	}
	if s.Calls("sendMessage") != 3 || s.Calls("answerCallbackQuery") != 2 {
		t.Errorf("calls: send %d answer %d", s.Calls("sendMessage"), s.Calls("answerCallbackQuery"))
	}
}

func TestRealClientFiles(t *testing.T) {
	s, base := start(t, Config{})
	b := client(t, base)
	c := ctx(t)
	u := s.User(7)

	pdf := []byte("%PDF-1.4 renewal form " + strings.Repeat("x", 5000))
	m, err := b.SendDocument(c, &bot.SendDocumentParams{ChatID: u.ID, Caption: "Đơn đề nghị",
		Document: &models.InputFileUpload{Filename: "don-gia-han.pdf", Data: bytes.NewReader(pdf)}})
	if err != nil {
		t.Fatal(err)
	}
	d := m.Document
	if d == nil || d.FileName != "don-gia-han.pdf" || d.MimeType != "application/pdf" || d.FileSize != int64(len(pdf)) || d.FileID == "" || d.FileUniqueID == "" || m.Caption != "Đơn đề nghị" {
		t.Fatalf("document = %+v", d)
	}
	f, err := b.GetFile(c, &bot.GetFileParams{FileID: d.FileID})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(b.FileDownloadLink(f))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, pdf) {
		t.Errorf("downloaded %d bytes, want %d", len(got), len(pdf))
	}
	// Re-send by file_id.
	m2, err := b.SendDocument(c, &bot.SendDocumentParams{ChatID: u.ID, Document: &models.InputFileString{Data: d.FileID}})
	if err != nil || m2.Document.FileID != d.FileID {
		t.Fatalf("resend: %v %+v", err, m2)
	}
	_, err = b.SendDocument(c, &bot.SendDocumentParams{ChatID: u.ID, Document: &models.InputFileString{Data: "nope"}})
	if err == nil || !strings.Contains(err.Error(), "wrong file identifier") {
		t.Errorf("unknown file_id: %v", err)
	}

	// Photos come back in several sizes, smallest first.
	img := pngImage(1000, 500)
	pm, err := b.SendPhoto(c, &bot.SendPhotoParams{ChatID: u.ID, Photo: &models.InputFileUpload{Filename: "qr.png", Data: bytes.NewReader(img)}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pm.Photo); n != 4 || pm.Photo[0].Width != 90 || pm.Photo[0].Height != 45 || pm.Photo[n-1].Width != 1000 || pm.Photo[n-1].Height != 500 {
		t.Errorf("photo sizes = %+v", pm.Photo)
	}
	_, err = b.SendPhoto(c, &bot.SendPhotoParams{ChatID: u.ID, Photo: &models.InputFileUpload{Filename: "x.png", Data: strings.NewReader("not an image")}})
	if err == nil || !strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") {
		t.Errorf("bad photo: %v", err)
	}

	// A user's photo: several sizes; the largest downloads as the original bytes.
	u.SendPhoto("scan.png", img, "ảnh đơn đã ký")
	ups := getUpdates(t, base, nil)
	photos, _ := jget(ups[0], "message", "photo").([]any)
	if len(photos) < 2 || jget(ups[0], "message", "caption") != "ảnh đơn đã ký" {
		t.Fatalf("photo update = %v", ups[0])
	}
	largest := photos[len(photos)-1].(map[string]any)
	lf, err := b.GetFile(c, &bot.GetFileParams{FileID: largest["file_id"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(b.FileDownloadLink(lf))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, img) {
		t.Error("largest photo size must be the original bytes")
	}

	// A user's document over 20 MB: getFile and the download refuse it.
	big := u.SendDocument("scan.tiff", "image/tiff", make([]byte, MaxDownloadSize+1), "")
	code, body := call(t, base, "getFile", map[string]any{"file_id": big.Document.ID})
	wantError(t, code, body, 400, `{"ok":false,"error_code":400,"description":"Bad Request: file is too big"}`)
	_, err = b.GetFile(c, &bot.GetFileParams{FileID: big.Document.ID})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("go-telegram getFile big: %v", err)
	}
	resp, _ = http.Get(base + "/file/bot" + testToken + "/" + big.Document.Path)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("big download status %d", resp.StatusCode)
	}
}

func TestGetUpdatesOffsetsAndLongPolling(t *testing.T) {
	s, base := start(t, Config{Users: []DemoUser{{ID: 55, FirstName: "Lan", LanguageCode: "en"}}})
	u := s.User(55)
	u.Send("/start ref-9")
	u.Send("xin chào")

	ups := getUpdates(t, base, map[string]any{"limit": 1})
	if len(ups) != 1 {
		t.Fatalf("limit 1: %d updates", len(ups))
	}
	first := ups[0]
	msg := first["message"]
	if jget(msg, "text") != "/start ref-9" || jget(msg, "from", "first_name") != "Lan" || jget(msg, "from", "is_bot") != false ||
		jget(msg, "from", "language_code") != "en" || jget(msg, "chat", "type") != "private" || jget(msg, "chat", "id") != float64(55) ||
		jget(msg, "date") == nil || jget(msg, "message_id") != float64(1) {
		t.Errorf("message = %v", msg)
	}
	wantEnt := []any{map[string]any{"type": "bot_command", "offset": float64(0), "length": float64(6)}}
	if diff := cmp.Diff(wantEnt, jget(msg, "entities")); diff != "" {
		t.Errorf("entities:\n%s", diff)
	}
	id := first["update_id"].(float64)
	ups = getUpdates(t, base, nil)
	if len(ups) != 2 {
		t.Fatalf("unconfirmed updates must stay: %d", len(ups))
	}
	ups = getUpdates(t, base, map[string]any{"offset": id + 1})
	if len(ups) != 1 || ups[0]["update_id"].(float64) != id+1 || jget(ups[0], "message", "entities") != nil {
		t.Fatalf("after confirming: %v", ups)
	}
	ups = getUpdates(t, base, map[string]any{"offset": id + 2})
	if len(ups) != 0 {
		t.Fatalf("all confirmed: %v", ups)
	}
	if s.PendingUpdates() != 0 {
		t.Error("confirmed updates must be dropped")
	}

	// A long poll returns as soon as an update arrives.
	done := make(chan []map[string]any)
	t0 := time.Now()
	go func() { done <- getUpdates(t, base, map[string]any{"offset": id + 2, "timeout": 5}) }()
	time.Sleep(150 * time.Millisecond)
	u.Send("ping")
	select {
	case ups = <-done:
		if len(ups) != 1 || jget(ups[0], "message", "text") != "ping" || time.Since(t0) > 2*time.Second {
			t.Errorf("long poll: %v after %v", ups, time.Since(t0))
		}
	case <-time.After(4 * time.Second):
		t.Fatal("long poll did not return on a new update")
	}
	// An empty long poll returns [] after its timeout.
	t0 = time.Now()
	ups = getUpdates(t, base, map[string]any{"offset": id + 3, "timeout": 1})
	if el := time.Since(t0); len(ups) != 0 || el < 900*time.Millisecond || el > 3*time.Second {
		t.Errorf("empty poll: %v after %v", ups, el)
	}
	// Query-string and form-encoded parameters work too.
	u.Send("a")
	u.Send("b")
	resp, err := http.Get(base + "/bot" + testToken + "/getUpdates?offset=-1")
	if err != nil {
		t.Fatal(err)
	}
	var r updatesResp
	_ = json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if !r.OK || len(r.Result) != 1 || !strings.Contains(string(r.Result[0]), `"text":"b"`) {
		t.Errorf("offset -1 via query: %+v", r)
	}
	code, body := form(t, base, "sendMessage", url.Values{"chat_id": {"55"}, "text": {"form body"},
		"reply_markup": {`{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}`}})
	if code != 200 || !strings.Contains(body, `"callback_data":"a"`) {
		t.Errorf("form sendMessage: %d %s", code, body)
	}
}

func TestErrorShapes(t *testing.T) {
	s, base := start(t, Config{})
	u := s.User(9)
	b := client(t, base)
	c := ctx(t)

	resp, err := http.Get(base + "/botWRONG:token/getMe")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, resp.StatusCode, strings.TrimSpace(string(body)), 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	code, out := call(t, base, "sendPigeon", nil)
	wantError(t, code, out, 404, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)

	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "text": ""})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`)
	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "text": strings.Repeat("a", 4097)})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`)
	// The limit counts UTF-16 code units: 4096 'ă' pass, 2049 emoji (4098 units) do not.
	if code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "text": strings.Repeat("ă", 4096)}); code != 200 {
		t.Errorf("4096 chars: %d %s", code, out)
	}
	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "text": strings.Repeat("😀", 2049)})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`)
	// HTML markup does not count and is removed from the shown text.
	if code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "parse_mode": "HTML", "text": "<b>" + strings.Repeat("a", 4096) + "</b>"}); code != 200 {
		t.Errorf("4096 chars in <b>: %d %.100s", code, out)
	}
	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "parse_mode": "HTML", "text": "a<br>b"})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 1"}`)
	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "parse_mode": "MarkdownV2", "text": "Giá 1.000 VND"})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"}`)
	if code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "parse_mode": "MarkdownV2", "text": "*Giá* 1\\.000 VND"}); code != 200 || !strings.Contains(out, `"text":"Giá 1.000 VND"`) {
		t.Errorf("escaped MarkdownV2: %d %s", code, out)
	}

	data := func(n int) map[string]any {
		return map[string]any{"chat_id": 9, "text": "x", "reply_markup": map[string]any{
			"inline_keyboard": [][]map[string]any{{{"text": "b", "callback_data": strings.Repeat("d", n)}}}}}
	}
	if code, out = call(t, base, "sendMessage", data(64)); code != 200 {
		t.Errorf("64-byte data: %d %s", code, out)
	}
	code, out = call(t, base, "sendMessage", data(65))
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: BUTTON_DATA_INVALID"}`)
	_, err = b.SendMessage(c, &bot.SendMessageParams{ChatID: 9, Text: "x", ReplyMarkup: &models.InlineKeyboardMarkup{
		InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "b", CallbackData: strings.Repeat("é", 33)}}}}})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "BUTTON_DATA_INVALID") {
		t.Errorf("66-byte data via client: %v", err)
	}

	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 404404, "text": "x"})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
	code, out = call(t, base, "editMessageText", map[string]any{"chat_id": 9, "message_id": 999, "text": "x"})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message to edit not found"}`)
	code, out = call(t, base, "answerCallbackQuery", map[string]any{"callback_query_id": "123"})
	wantError(t, code, out, 400, `{"ok":false,"error_code":400,"description":"Bad Request: query is too old and response timeout expired or query ID is invalid"}`)

	u.Block()
	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 9, "text": "x"})
	wantError(t, code, out, 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
	_, err = b.SendMessage(c, &bot.SendMessageParams{ChatID: 9, Text: "x"})
	if !errors.Is(err, bot.ErrorForbidden) {
		t.Errorf("client error for blocked user: %v", err)
	}
	ups := getUpdates(t, base, nil)
	if len(ups) != 1 || jget(ups[0], "my_chat_member", "new_chat_member", "status") != "kicked" {
		t.Errorf("block update = %v", ups)
	}
	u.Unblock()
	if _, err := b.SendMessage(c, &bot.SendMessageParams{ChatID: 9, Text: "welcome back"}); err != nil {
		t.Error(err)
	}
}

func TestRateLimitAndInjectedErrors(t *testing.T) {
	s, base := start(t, Config{RateLimit: 1, GlobalRateLimit: 3})
	b := client(t, base)
	c := ctx(t)
	for _, id := range []int64{1, 2, 3, 4} {
		s.User(id)
	}
	if code, out := call(t, base, "sendMessage", map[string]any{"chat_id": 1, "text": "a"}); code != 200 {
		t.Fatal(out)
	}
	code, out := call(t, base, "sendMessage", map[string]any{"chat_id": 1, "text": "b"})
	wantError(t, code, out, 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
	_, err := b.SendMessage(c, &bot.SendMessageParams{ChatID: 1, Text: "c"})
	var tmr *bot.TooManyRequestsError
	if !errors.As(err, &tmr) || tmr.RetryAfter != 1 || !bot.IsTooManyRequestsError(err) {
		t.Errorf("client error = %#v", err)
	}
	// The global limit spans chats: 3 per second in all.
	for _, id := range []int{2, 3} {
		if code, out := call(t, base, "sendMessage", map[string]any{"chat_id": id, "text": "a"}); code != 200 {
			t.Fatalf("chat %d: %s", id, out)
		}
	}
	code, _ = call(t, base, "sendMessage", map[string]any{"chat_id": 4, "text": "a"})
	if code != 429 {
		t.Errorf("global limit: %d", code)
	}
	time.Sleep(1100 * time.Millisecond)
	if code, out := call(t, base, "sendMessage", map[string]any{"chat_id": 1, "text": "later"}); code != 200 {
		t.Errorf("after waiting: %s", out)
	}

	s.InjectError(4, 429, 7, 1)
	s.InjectError(4, 502, 0, 1)
	time.Sleep(1100 * time.Millisecond)
	_, err = b.SendMessage(c, &bot.SendMessageParams{ChatID: 4, Text: "x"})
	if !errors.As(err, &tmr) || tmr.RetryAfter != 7 {
		t.Errorf("injected 429: %v", err)
	}
	code, out = call(t, base, "sendMessage", map[string]any{"chat_id": 4, "text": "x"})
	wantError(t, code, out, 502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`)
	if code, out := call(t, base, "sendMessage", map[string]any{"chat_id": 4, "text": "x"}); code != 200 {
		t.Errorf("after injected errors: %s", out)
	}
}

func TestWebhook(t *testing.T) {
	type hit struct {
		secret string
		body   map[string]any
	}
	hits := make(chan hit, 10)
	fail := 1
	hook := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		hits <- hit{r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), body}
		if fail > 0 {
			fail--
			w.WriteHeader(500)
		}
	})}
	s, base := start(t, Config{WebhookRetryMin: 20 * time.Millisecond})
	ln, hookURL := listen(t)
	go func() { _ = hook.Serve(ln) }()
	t.Cleanup(func() { _ = hook.Close() })

	b := client(t, base)
	c := ctx(t)
	if ok, err := b.SetWebhook(c, &bot.SetWebhookParams{URL: hookURL + "/tg", SecretToken: "s3cr3t_token"}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	s.User(77).Send("hello")
	var first, second hit
	for i, h := range []*hit{&first, &second} {
		select {
		case *h = <-hits:
		case <-time.After(3 * time.Second):
			t.Fatalf("webhook delivery %d missing", i)
		}
	}
	if first.secret != "s3cr3t_token" || jget(first.body, "message", "text") != "hello" {
		t.Errorf("first delivery = %+v", first)
	}
	if jget(second.body, "update_id") != jget(first.body, "update_id") {
		t.Error("a failed delivery must be retried with the same update")
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.PendingUpdates() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	info, err := b.GetWebhookInfo(c)
	if err != nil || info.URL != hookURL+"/tg" || info.PendingUpdateCount != 0 || !strings.Contains(info.LastErrorMessage, "500") {
		t.Errorf("webhook info = %+v %v", info, err)
	}
	code, out := call(t, base, "getUpdates", nil)
	wantError(t, code, out, 409, `{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}`)
	if ok, err := b.DeleteWebhook(c, &bot.DeleteWebhookParams{}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	s.User(77).Send("again")
	if ups := getUpdates(t, base, nil); len(ups) != 1 {
		t.Errorf("polling after deleteWebhook: %v", ups)
	}
	select {
	case h := <-hits:
		t.Errorf("delivery after deleteWebhook: %+v", h)
	default:
	}
}

func TestForumTopicsAndCopy(t *testing.T) {
	s, base := start(t, Config{StaffGroupID: -1001234, StaffUsers: []DemoUser{{ID: 501, FirstName: "Hà", Label: "Hà (support)"}}})
	b := client(t, base)
	c := ctx(t)
	g := s.Group(-1001234, "Nhóm hỗ trợ", true)
	u := s.User(8)

	topic, err := b.CreateForumTopic(c, &bot.CreateForumTopicParams{ChatID: g.ID, Name: "Nguyễn Văn A · HD-1"})
	if err != nil {
		t.Fatal(err)
	}
	if topic.MessageThreadID == 0 || topic.Name != "Nguyễn Văn A · HD-1" {
		t.Fatalf("topic = %+v", topic)
	}
	m, err := b.SendMessage(c, &bot.SendMessageParams{ChatID: g.ID, MessageThreadID: topic.MessageThreadID, Text: "Khách cần hỗ trợ"})
	if err != nil || m.MessageThreadID != topic.MessageThreadID || !m.IsTopicMessage || m.Chat.Type != "supergroup" || !m.Chat.IsForum {
		t.Fatalf("topic message = %+v %v", m, err)
	}
	_, err = b.SendMessage(c, &bot.SendMessageParams{ChatID: g.ID, MessageThreadID: 9999, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "message thread not found") {
		t.Errorf("unknown thread: %v", err)
	}
	photo := u.SendPhoto("giay-to.png", pngImage(50, 50), "hồ sơ")
	cp, err := b.CopyMessage(c, &bot.CopyMessageParams{ChatID: g.ID, FromChatID: u.ID, MessageID: photo.ID, MessageThreadID: topic.MessageThreadID})
	if err != nil {
		t.Fatal(err)
	}
	msgs := g.Messages()
	lastMsg := msgs[len(msgs)-1]
	if lastMsg.ID != cp.ID || lastMsg.Caption != "hồ sơ" || len(lastMsg.Photo) == 0 || lastMsg.ThreadID != topic.MessageThreadID || !lastMsg.FromBot {
		t.Errorf("copied = %+v", lastMsg)
	}

	g.Send(501, "Chào anh, em là Hà", topic.MessageThreadID)
	ups := getUpdates(t, base, map[string]any{"offset": -1})
	gm := ups[0]["message"]
	if jget(gm, "message_thread_id") != float64(topic.MessageThreadID) || jget(gm, "is_topic_message") != true ||
		jget(gm, "from", "first_name") != "Hà" || jget(gm, "chat", "type") != "supergroup" || jget(gm, "chat", "is_forum") != true {
		t.Errorf("group update = %v", gm)
	}
	if ok, err := b.CloseForumTopic(c, &bot.CloseForumTopicParams{ChatID: g.ID, MessageThreadID: topic.MessageThreadID}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	_, err = b.CloseForumTopic(c, &bot.CloseForumTopicParams{ChatID: g.ID, MessageThreadID: topic.MessageThreadID})
	if err == nil || !strings.Contains(err.Error(), "TOPIC_NOT_MODIFIED") {
		t.Errorf("close twice: %v", err)
	}
	if ts := g.Topics(); len(ts) != 1 || !ts[0].Closed {
		t.Errorf("topics = %+v", ts)
	}
	if _, err := b.ReopenForumTopic(c, &bot.ReopenForumTopicParams{ChatID: g.ID, MessageThreadID: topic.MessageThreadID}); err != nil {
		t.Error(err)
	}
	if _, err := b.EditForumTopic(c, &bot.EditForumTopicParams{ChatID: g.ID, MessageThreadID: topic.MessageThreadID, Name: "Đã xong"}); err != nil {
		t.Error(err)
	}
	if ts := g.Topics(); ts[0].Closed || ts[0].Name != "Đã xong" {
		t.Errorf("topics = %+v", ts)
	}
	_, err = b.CreateForumTopic(c, &bot.CreateForumTopicParams{ChatID: u.ID, Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "the chat is not a forum") {
		t.Errorf("topic in private chat: %v", err)
	}
	if ok, err := b.SetMyCommands(c, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "renew", Description: "Gia hạn"}}}); !ok || err != nil {
		t.Error(ok, err)
	}
	if ok, err := b.SendChatAction(c, &bot.SendChatActionParams{ChatID: u.ID, Action: models.ChatActionTyping}); !ok || err != nil {
		t.Error(ok, err)
	}
}

func TestWaitFor(t *testing.T) {
	s, base := start(t, Config{})
	u := s.User(3)
	u.Send("hi")
	go func() {
		time.Sleep(50 * time.Millisecond)
		call(t, base, "sendMessage", map[string]any{"chat_id": 3, "text": "Chọn gói"})
		call(t, base, "sendMessage", map[string]any{"chat_id": 3, "text": "Gói 1 năm: 500.000đ"})
	}()
	c := ctx(t)
	m, err := u.WaitFor(c, func(m Message) bool { return strings.Contains(m.Text, "1 năm") })
	// Message ids are shared by both sides of a private chat: "hi" is 1.
	if err != nil || m.ID != 3 {
		t.Fatalf("WaitFor = %+v %v", m, err)
	}
	// An earlier message that arrived after Send is still there to wait for.
	if m, err := u.WaitFor(c, func(m Message) bool { return true }); err != nil || m.ID != 2 {
		t.Fatalf("WaitFor first = %+v %v", m, err)
	}
	short, cancel := contextWithTimeout(100 * time.Millisecond)
	defer cancel()
	_, err = u.WaitFor(short, func(m Message) bool { return true })
	if err == nil || !strings.Contains(err.Error(), "Gói 1 năm") || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("timeout error = %v", err)
	}
	// An edit counts as a new arrival.
	call(t, base, "editMessageText", map[string]any{"chat_id": 3, "message_id": 2, "text": "Chọn gói (đã chọn)"})
	if m, err := u.WaitFor(c, func(m Message) bool { return m.Edited }); err != nil || m.ID != 2 {
		t.Errorf("WaitFor edit = %+v %v", m, err)
	}

}
