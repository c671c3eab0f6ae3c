package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
)

const testToken = "4242:test-token"

// start runs a sandbox on a free loopback port for the test.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	s := New(cfg)
	u, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, u
}

// client returns the real go-telegram/bot client pointed at the sandbox.
func client(t *testing.T, base string) *bot.Bot {
	t.Helper()
	b, err := bot.New(testToken, bot.WithServerURL(base), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// call makes a raw Bot API call with a JSON body and returns status and body.
func call(t *testing.T, base, method string, params map[string]any) (int, string) {
	t.Helper()
	var body io.Reader
	if params != nil {
		raw, _ := json.Marshal(params)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/bot"+testToken+"/"+method, body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// form makes a raw call with an application/x-www-form-urlencoded body.
func form(t *testing.T, base, method string, v url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(base+"/bot"+testToken+"/"+method, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// wantError checks an exact Telegram error answer.
func wantError(t *testing.T, status int, body string, code int, want string) {
	t.Helper()
	if status != code || body != want {
		t.Errorf("got %d %s\nwant %d %s", status, body, code, want)
	}
}

type updatesResp struct {
	OK     bool              `json:"ok"`
	Result []json.RawMessage `json:"result"`
}

func getUpdates(t *testing.T, base string, params map[string]any) []map[string]any {
	t.Helper()
	code, body := call(t, base, "getUpdates", params)
	if code != 200 {
		t.Fatalf("getUpdates: %d %s", code, body)
	}
	var r struct {
		Result []map[string]any `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r.Result
}

func pngImage(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// path walks a decoded JSON value: jget(v, "message", "chat", "id").
func jget(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
