package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/renewbot/renewbot/flows"
)

const secret = "test-secret"

// fakeRecorder stands in for flows.Orders: it keeps payments by transaction
// id and answers with a preset status. (Postgres' RecordPayment is tested in
// storage against a real server.)
type fakeRecorder struct {
	mu     sync.Mutex
	calls  []flows.Payment
	seen   map[string]flows.Payment
	status flows.PaymentStatus // for a first sighting
	order  flows.Order
	err    error
}

func (f *fakeRecorder) RecordPayment(_ context.Context, p flows.Payment) (flows.Payment, flows.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, p)
	if f.err != nil {
		return flows.Payment{}, flows.Order{}, f.err
	}
	if f.seen == nil {
		f.seen = make(map[string]flows.Payment)
	}
	if first, ok := f.seen[p.TransactionID]; ok {
		first.Status = flows.PaymentDuplicate
		return first, f.order, nil
	}
	p.ID = int64(len(f.seen) + 1)
	p.Status = f.status
	if p.Status == "" {
		p.Status = flows.PaymentMatched
	}
	if p.Status != flows.PaymentUnmatched {
		p.OrderID = f.order.ID
	}
	f.seen[p.TransactionID] = p
	if p.Status == flows.PaymentUnmatched {
		return p, flows.Order{}, nil
	}
	return p, f.order, nil
}

func (f *fakeRecorder) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type notice struct {
	p flows.Payment
	o flows.Order
}

type fixture struct {
	rec     *fakeRecorder
	notices []notice
	logs    bytes.Buffer
	h       http.Handler
}

func newFixture(t *testing.T, secret string) *fixture {
	t.Helper()
	f := &fixture{rec: &fakeRecorder{order: flows.Order{ID: 7, Ref: "HD000123", TotalVND: 1250000}}}
	log := slog.New(slog.NewJSONHandler(&f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.h = NewHandler(secret, f.rec, func(_ context.Context, p flows.Payment, o flows.Order) {
		f.notices = append(f.notices, notice{p, o})
	}, log)
	return f
}

// do posts body signed with sig (no header when sig is empty).
func (f *fixture) do(t *testing.T, method, body, sig string) (int, response) {
	t.Helper()
	req := httptest.NewRequest(method, "/payments/callback", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	rw := httptest.NewRecorder()
	f.h.ServeHTTP(rw, req)
	if ct := rw.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var resp response
	if err := json.Unmarshal(rw.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q is not JSON: %v", rw.Body.String(), err)
	}
	return rw.Code, resp
}

const goodBody = `{"transaction_id":"FT25001234","order_ref":" hd000123 ","amount":1250000,"currency":"VND",` +
	`"paid_at":"2025-03-04T09:15:00+07:00","payer_name":"NGUYEN VAN DUC","description":"HD000123 gia han CTS"}`

func TestSignedPaymentIsRecordedAndNotified(t *testing.T) {
	f := newFixture(t, secret)
	code, resp := f.do(t, http.MethodPost, goodBody, Sign(secret, []byte(goodBody)))
	if diff := cmp.Diff(response{OK: true, Status: "matched", OrderRef: "HD000123"}, resp); code != http.StatusOK || diff != "" {
		t.Fatalf("code %d, response diff (-want +got):\n%s", code, diff)
	}
	want := flows.Payment{
		Provider:      "bank",
		TransactionID: "FT25001234",
		OrderRef:      "HD000123",
		AmountVND:     1250000,
		PaidAt:        time.Date(2025, 3, 4, 2, 15, 0, 0, time.UTC),
		Raw:           goodBody,
	}
	if len(f.rec.calls) != 1 {
		t.Fatalf("recorder called %d times, want 1", len(f.rec.calls))
	}
	if diff := cmp.Diff(want, f.rec.calls[0]); diff != "" {
		t.Errorf("recorded payment (-want +got):\n%s", diff)
	}
	if len(f.notices) != 1 {
		t.Fatalf("notify called %d times, want 1", len(f.notices))
	}
	if n := f.notices[0]; n.p.Status != flows.PaymentMatched || n.p.ID != 1 || n.o.Ref != "HD000123" {
		t.Errorf("notice = %+v", n)
	}
	// Personal data stays out of the log.
	for _, secretText := range []string{"NGUYEN", "gia han", secret} {
		if strings.Contains(f.logs.String(), secretText) {
			t.Errorf("log contains %q:\n%s", secretText, f.logs.String())
		}
	}
	if !strings.Contains(f.logs.String(), "FT25001234") {
		t.Errorf("log lacks the transaction id:\n%s", f.logs.String())
	}
}

func TestUpperCaseSignatureAccepted(t *testing.T) {
	f := newFixture(t, secret)
	if code, resp := f.do(t, http.MethodPost, goodBody, strings.ToUpper(Sign(secret, []byte(goodBody)))); code != http.StatusOK {
		t.Fatalf("code %d %+v, want 200", code, resp)
	}
}

func TestUnsignedRefused(t *testing.T) {
	tampered := strings.Replace(goodBody, "1250000", "9250000", 1)
	tests := []struct {
		name, body, sig string
	}{
		{"missing header", goodBody, ""},
		{"not hex", goodBody, "zzzz"},
		{"wrong secret", goodBody, Sign("other-secret", []byte(goodBody))},
		{"tampered body", tampered, Sign(secret, []byte(goodBody))},
		{"truncated signature", goodBody, Sign(secret, []byte(goodBody))[:32]},
		{"signature of empty body", goodBody, Sign(secret, nil)},
		{"malformed body, bad signature", "{", "00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, secret)
			code, resp := f.do(t, http.MethodPost, tt.body, tt.sig)
			if diff := cmp.Diff(response{OK: false, Error: "bad signature"}, resp); code != http.StatusUnauthorized || diff != "" {
				t.Fatalf("code %d, want 401; response diff (-want +got):\n%s", code, diff)
			}
			if n := f.rec.callCount(); n != 0 {
				t.Fatalf("recorder called %d times, want 0", n)
			}
			if len(f.notices) != 0 {
				t.Fatalf("notify called")
			}
		})
	}
}

func TestEmptySecretRefusesAll(t *testing.T) {
	f := newFixture(t, "")
	// Even a body "signed" with the empty key is refused.
	code, resp := f.do(t, http.MethodPost, goodBody, Sign("", []byte(goodBody)))
	if code != http.StatusServiceUnavailable || resp.OK {
		t.Fatalf("code %d %+v, want 503", code, resp)
	}
	if f.rec.callCount() != 0 {
		t.Fatal("recorder called")
	}
}

func TestDuplicateIsOKWithoutNotice(t *testing.T) {
	f := newFixture(t, secret)
	sig := Sign(secret, []byte(goodBody))
	if code, _ := f.do(t, http.MethodPost, goodBody, sig); code != http.StatusOK {
		t.Fatalf("first: code %d", code)
	}
	code, resp := f.do(t, http.MethodPost, goodBody, sig)
	if diff := cmp.Diff(response{OK: true, Status: "duplicate", OrderRef: "HD000123"}, resp); code != http.StatusOK || diff != "" {
		t.Fatalf("repeat: code %d, response diff (-want +got):\n%s", code, diff)
	}
	if len(f.notices) != 1 {
		t.Fatalf("notify called %d times over two deliveries, want 1", len(f.notices))
	}
}

func TestStatuses(t *testing.T) {
	tests := []struct {
		status flows.PaymentStatus
		ref    string // in the response
		notify bool
	}{
		{flows.PaymentMatched, "HD000123", true},
		{flows.PaymentUnderpaid, "HD000123", true},
		{flows.PaymentUnmatched, "HD000123", true}, // the ref as sent, normalised; staff are told
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			f := newFixture(t, secret)
			f.rec.status = tt.status
			code, resp := f.do(t, http.MethodPost, goodBody, Sign(secret, []byte(goodBody)))
			if diff := cmp.Diff(response{OK: true, Status: string(tt.status), OrderRef: tt.ref}, resp); code != http.StatusOK || diff != "" {
				t.Fatalf("code %d, response diff (-want +got):\n%s", code, diff)
			}
			if got := len(f.notices) == 1; got != tt.notify {
				t.Fatalf("notified = %v, want %v", got, tt.notify)
			}
		})
	}
}

func TestRecorderErrorIs500(t *testing.T) {
	f := newFixture(t, secret)
	f.rec.err = flows.Wrap(flows.Internal, errors.New("connection refused"), "record payment FT25001234")
	code, resp := f.do(t, http.MethodPost, goodBody, Sign(secret, []byte(goodBody)))
	if diff := cmp.Diff(response{OK: false, Error: "internal error"}, resp); code != http.StatusInternalServerError || diff != "" {
		t.Fatalf("code %d, want 500; response diff (-want +got):\n%s", code, diff)
	}
	if len(f.notices) != 0 {
		t.Fatal("notify called after a failed record")
	}
	if strings.Contains(resp.Error, "connection refused") {
		t.Fatal("internal error leaked to the provider")
	}
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name, body, reason string
	}{
		{"malformed JSON", `{"transaction_id":`, "malformed JSON"},
		{"not an object", `[1,2]`, "malformed JSON"},
		{"trailing data", `{"transaction_id":"T1","amount":1,"currency":"VND"} {}`, "malformed JSON"},
		{"missing transaction_id", `{"order_ref":"HD1","amount":1000,"currency":"VND"}`, "transaction_id is required"},
		{"blank transaction_id", `{"transaction_id":"  ","amount":1000,"currency":"VND"}`, "transaction_id is required"},
		{"long transaction_id", `{"transaction_id":"` + strings.Repeat("x", 129) + `","amount":1000,"currency":"VND"}`, "transaction_id is longer"},
		{"missing amount", `{"transaction_id":"T1","currency":"VND"}`, "amount is required"},
		{"zero amount", `{"transaction_id":"T1","amount":0,"currency":"VND"}`, "must be positive"},
		{"negative amount", `{"transaction_id":"T1","amount":-5,"currency":"VND"}`, "must be positive"},
		{"fractional amount", `{"transaction_id":"T1","amount":1000.5,"currency":"VND"}`, "not a whole number"},
		{"wrong currency", `{"transaction_id":"T1","amount":1000,"currency":"USD"}`, "is not VND"},
		{"missing currency", `{"transaction_id":"T1","amount":1000}`, "is not VND"},
		{"bad paid_at", `{"transaction_id":"T1","amount":1000,"currency":"VND","paid_at":"04/03/2025"}`, "paid_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, secret)
			code, resp := f.do(t, http.MethodPost, tt.body, Sign(secret, []byte(tt.body)))
			if code != http.StatusBadRequest || resp.OK || !strings.Contains(resp.Error, tt.reason) {
				t.Fatalf("code %d %+v, want 400 mentioning %q", code, resp, tt.reason)
			}
			if f.rec.callCount() != 0 {
				t.Fatal("recorder called")
			}
		})
	}
}

func TestPaidAtDefaultsToNow(t *testing.T) {
	f := newFixture(t, secret)
	body := `{"transaction_id":"T1","order_ref":"HD000123","amount":1250000,"currency":"vnd"}`
	before := time.Now()
	if code, resp := f.do(t, http.MethodPost, body, Sign(secret, []byte(body))); code != http.StatusOK {
		t.Fatalf("code %d %+v", code, resp)
	}
	if got := f.rec.calls[0].PaidAt; got.Before(before) || got.After(time.Now()) {
		t.Fatalf("PaidAt = %v, want about now", got)
	}
}

func TestOversizedBody(t *testing.T) {
	f := newFixture(t, secret)
	body := `{"transaction_id":"T1","amount":1000,"currency":"VND","description":"` + strings.Repeat("a", MaxBody) + `"}`
	code, resp := f.do(t, http.MethodPost, body, Sign(secret, []byte(body)))
	if code != http.StatusRequestEntityTooLarge || resp.OK {
		t.Fatalf("code %d %+v, want 413", code, resp)
	}
	if f.rec.callCount() != 0 {
		t.Fatal("recorder called")
	}
}

func TestWrongMethod(t *testing.T) {
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		f := newFixture(t, secret)
		req := httptest.NewRequest(m, "/payments/callback", strings.NewReader(goodBody))
		req.Header.Set(SignatureHeader, Sign(secret, []byte(goodBody)))
		rw := httptest.NewRecorder()
		f.h.ServeHTTP(rw, req)
		if rw.Code != http.StatusMethodNotAllowed || rw.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: code %d Allow %q, want 405 Allow POST", m, rw.Code, rw.Header().Get("Allow"))
		}
		if f.rec.callCount() != 0 {
			t.Errorf("%s: recorder called", m)
		}
	}
}

func TestNotifyPanicStillAnswers200(t *testing.T) {
	rec := &fakeRecorder{order: flows.Order{ID: 7, Ref: "HD000123"}}
	h := NewHandler(secret, rec, func(context.Context, flows.Payment, flows.Order) { panic("boom") }, nil)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(goodBody))
	req.Header.Set(SignatureHeader, Sign(secret, []byte(goodBody)))
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	if rw.Code != http.StatusOK {
		t.Fatalf("code %d, want 200 (the payment is stored)", rw.Code)
	}
}

// TestOverHTTP runs the handler behind a real server, as the provider sees it.
func TestOverHTTP(t *testing.T) {
	f := newFixture(t, secret)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(goodBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(SignatureHeader, Sign(secret, []byte(goodBody)))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"ok":true,"status":"matched","order_ref":"HD000123"}` {
		t.Fatalf("got %d %s", res.StatusCode, b)
	}
}

func TestSign(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign("Jefe", []byte("what do ya want for nothing?"))
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}
