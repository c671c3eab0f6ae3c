package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func postJSON(t *testing.T, url string, v any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestWebJSONEndpoints(t *testing.T) {
	var gotSig, gotBody string
	payee := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotSig = string(b), r.Header.Get("X-Signature")
		_, _ = w.Write([]byte(`{"status":"paid"}`))
	})}
	ln, payURL := listen(t)
	go func() { _ = payee.Serve(ln) }()
	t.Cleanup(func() { _ = payee.Close() })

	s, base := start(t, Config{
		Users:              []DemoUser{{ID: 31, FirstName: "An", Phone: "+84900000031", Label: "Lê An"}},
		StaffGroupID:       -100500,
		StaffUsers:         []DemoUser{{ID: 900, FirstName: "Hà"}},
		PaymentCallbackURL: payURL + "/payments/callback", PaymentSecret: "k3y",
	})
	api := base + "/sandbox/api/"

	resp, err := http.Get(api + "state")
	if err != nil {
		t.Fatal(err)
	}
	var st webStateView
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Users) != 1 || st.Users[0].Label != "Lê An" || st.StaffGroup == nil || st.StaffGroup.ID != -100500 || !st.Payment {
		t.Errorf("state = %+v", st)
	}
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `id="send-btn"`) || !strings.Contains(string(page), "Nhóm hỗ trợ (staff)") {
		t.Error("page not served")
	}

	if code, out := postJSON(t, api+"send", map[string]any{"chat": 31, "text": "/renew"}); code != 200 || out["text"] != "/renew" {
		t.Errorf("send: %d %v", code, out)
	}
	if code, out := postJSON(t, api+"contact", map[string]any{"chat": 31}); code != 200 || jget(out, "contact", "phone") != "+84900000031" {
		t.Errorf("contact: %d %v", code, out)
	}
	if code, _ := postJSON(t, api+"send", map[string]any{"chat": -100500, "from": 900, "text": "đã nhận", "thread": 0}); code != 200 {
		t.Errorf("staff send: %d", code)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("chat", "31")
	_ = mw.WriteField("kind", "photo")
	_ = mw.WriteField("caption", "ảnh")
	fw, _ := mw.CreateFormFile("file", "scan.png")
	_, _ = fw.Write(pngImage(400, 300))
	_ = mw.Close()
	resp, err = http.Post(api+"upload", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	var up Message
	_ = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if len(up.Photo) != 3 || up.Caption != "ảnh" {
		t.Errorf("upload = %+v", up)
	}
	ups := getUpdates(t, base, nil)
	if len(ups) != 4 || jget(ups[0], "message", "entities", 0, "type") != "bot_command" ||
		jget(ups[2], "message", "chat", "id") != float64(-100500) || jget(ups[3], "message", "photo", 2, "width") != float64(400) {
		t.Errorf("updates = %v", ups)
	}
	resp, err = http.Get(api + "file?id=" + up.Photo[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(img, pngImage(400, 300)) {
		t.Error("file endpoint")
	}
	resp, err = http.Get(api + "chat?chat=31&after=0")
	if err != nil {
		t.Fatal(err)
	}
	var cv webChatView
	_ = json.NewDecoder(resp.Body).Decode(&cv)
	resp.Body.Close()
	if len(cv.Messages) != 3 || cv.Seq == 0 {
		t.Errorf("chat view = %+v", cv)
	}
	if code, _ := postJSON(t, api+"block", map[string]any{"chat": 31, "blocked": true}); code != 200 {
		t.Error("block")
	}
	if code, out := call(t, base, "sendMessage", map[string]any{"chat_id": 31, "text": "x"}); code != 403 {
		t.Errorf("blocked via page: %d %s", code, out)
	}

	code, out := postJSON(t, api+"pay", map[string]any{"order_ref": "HD-123", "amount": 123000, "payer_name": "LE AN", "description": "HD-123 gia han"})
	if code != 200 || out["status"] != float64(200) || out["body"] != `{"status":"paid"}` {
		t.Errorf("pay: %d %v", code, out)
	}
	var notice PaymentNotice
	if err := json.Unmarshal([]byte(gotBody), &notice); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(notice.TransactionID, "SBX-") || notice.OrderRef != "HD-123" || notice.Amount != 123000 || notice.Currency != "VND" || notice.PaidAt == "" {
		t.Errorf("notice = %+v", notice)
	}
	if gotSig != SignPayment("k3y", []byte(gotBody)) || len(gotSig) != 64 {
		t.Errorf("signature %q", gotSig)
	}
	_ = s
}
