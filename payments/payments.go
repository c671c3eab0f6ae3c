// Package payments is the HTTP endpoint the payment provider calls when a bank
// transfer arrives (the "bank callback"). It checks the provider's HMAC
// signature over the raw body, reads the transfer, hands it to flows'
// Orders.RecordPayment (which matches it to an order, idempotently), and tells
// the rest of the product about payments that paid or part-paid an order.
//
// Room: an adapter at the edge, like bot/. It knows HTTP and the provider's
// JSON; what a payment does to an order is decided in flows and storage. The
// wire format is documented in README.md.
package payments

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// MaxBody is the largest callback body accepted; a real one is a few hundred bytes.
const MaxBody = 64 << 10

// SignatureHeader carries hex(HMAC-SHA256(secret, raw body)).
const SignatureHeader = "X-Signature"

// Provider is the flows.Payment.Provider of payments received here.
const Provider = "bank"

// notifyTimeout bounds the context given to notify.
const notifyTimeout = 30 * time.Second

// maxTransactionID bounds the provider's id (it is stored and logged).
const maxTransactionID = 128

// Recorder stores a payment. flows.Orders satisfies it; see its
// RecordPayment for the contract (idempotent by provider and transaction id,
// PaymentDuplicate on a repeat).
type Recorder interface {
	RecordPayment(ctx context.Context, p flows.Payment) (flows.Payment, flows.Order, error)
}

var _ Recorder = (flows.Orders)(nil)

type handler struct {
	secret []byte
	rec    Recorder
	notify func(ctx context.Context, p flows.Payment, o flows.Order)
	log    *slog.Logger
	now    func() time.Time
}

// NewHandler returns the callback endpoint. An empty secret makes it refuse
// every request with 503 (a misconfigured deployment must not accept unsigned
// money). notify, when not nil, is called synchronously after a payment is
// recorded with status matched, underpaid or unmatched (so staff see
// problems) — never for a duplicate; it should hand work off quickly (e.g. enqueue an outbox
// row), since the provider waits for the answer. log may be nil.
func NewHandler(secret string, rec Recorder, notify func(ctx context.Context, p flows.Payment, o flows.Order), log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{secret: []byte(secret), rec: rec, notify: notify, log: log.With("component", "payments"), now: time.Now}
}

// Sign returns hex(HMAC-SHA256(secret, body)), the X-Signature value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// callback is the provider's JSON body.
type callback struct {
	TransactionID string      `json:"transaction_id"`
	OrderRef      string      `json:"order_ref"`
	Amount        json.Number `json:"amount"`
	Currency      string      `json:"currency"`
	PaidAt        string      `json:"paid_at"`
	PayerName     string      `json:"payer_name"`  // kept only in Raw; never logged
	Description   string      `json:"description"` // likewise
}

type response struct {
	OK       bool   `json:"ok"`
	Status   string `json:"status,omitempty"`
	OrderRef string `json:"order_ref,omitempty"`
	Error    string `json:"error,omitempty"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, response{Error: "method not allowed"})
		return
	}
	if len(h.secret) == 0 {
		h.log.ErrorContext(r.Context(), "payment callback refused: no secret configured")
		reply(w, http.StatusServiceUnavailable, response{Error: "payment callback not configured"})
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.WarnContext(r.Context(), "payment callback refused: body too large", "remote", r.RemoteAddr)
			reply(w, http.StatusRequestEntityTooLarge, response{Error: "body too large"})
			return
		}
		reply(w, http.StatusBadRequest, response{Error: "cannot read body"})
		return
	}
	if !h.signed(r.Header.Get(SignatureHeader), body) {
		h.log.WarnContext(r.Context(), "payment callback refused: bad signature", "remote", r.RemoteAddr, "bytes", len(body))
		reply(w, http.StatusUnauthorized, response{Error: "bad signature"})
		return
	}

	p, err := h.parse(body)
	if err != nil {
		h.log.WarnContext(r.Context(), "payment callback refused: bad request", "err", err)
		reply(w, http.StatusBadRequest, response{Error: err.Error()})
		return
	}
	saved, order, err := h.rec.RecordPayment(r.Context(), p)
	if err != nil {
		// 5xx so the provider retries: the transfer is not stored yet.
		h.log.ErrorContext(r.Context(), "record payment", "transaction_id", p.TransactionID, "order_ref", p.OrderRef, "amount_vnd", p.AmountVND, "err", err)
		reply(w, http.StatusInternalServerError, response{Error: "internal error"})
		return
	}

	ref := order.Ref
	if ref == "" {
		ref = p.OrderRef
	}
	h.log.InfoContext(r.Context(), "payment recorded", "transaction_id", p.TransactionID, "order_ref", ref,
		"amount_vnd", p.AmountVND, "status", string(saved.Status), "payment_id", saved.ID, "order_id", order.ID)
	if saved.Status == flows.PaymentMatched || saved.Status == flows.PaymentUnderpaid || saved.Status == flows.PaymentUnmatched {
		// The payment is stored whatever happens next: a provider that hangs
		// up now must not cut the notice short.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), notifyTimeout)
		h.notifySafely(ctx, saved, order)
		cancel()
	}
	// Duplicates are 200 too: the payment is stored, so the provider may stop retrying.
	reply(w, http.StatusOK, response{OK: true, Status: string(saved.Status), OrderRef: ref})
}

// signed reports whether header is hex(HMAC-SHA256(secret, body)).
func (h *handler) signed(header string, body []byte) bool {
	got, err := hex.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// parse turns a signed body into a payment; its error text is the 400 reason.
func (h *handler) parse(body []byte) (flows.Payment, error) {
	var c callback
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return flows.Payment{}, fmt.Errorf("malformed JSON: %v", err)
	}
	if dec.More() {
		return flows.Payment{}, errors.New("malformed JSON: data after the object")
	}
	c.TransactionID = strings.TrimSpace(c.TransactionID)
	switch {
	case c.TransactionID == "":
		return flows.Payment{}, errors.New("transaction_id is required")
	case len(c.TransactionID) > maxTransactionID:
		return flows.Payment{}, fmt.Errorf("transaction_id is longer than %d bytes", maxTransactionID)
	case c.Amount == "":
		return flows.Payment{}, errors.New("amount is required")
	}
	amount, err := c.Amount.Int64()
	if err != nil {
		return flows.Payment{}, fmt.Errorf("amount %s is not a whole number of VND", c.Amount)
	}
	if amount <= 0 {
		return flows.Payment{}, fmt.Errorf("amount %d must be positive", amount)
	}
	if cur := strings.TrimSpace(c.Currency); !strings.EqualFold(cur, "VND") {
		return flows.Payment{}, fmt.Errorf("currency %q is not VND", cur)
	}
	paidAt := h.now()
	if s := strings.TrimSpace(c.PaidAt); s != "" {
		if paidAt, err = time.Parse(time.RFC3339, s); err != nil {
			return flows.Payment{}, fmt.Errorf("paid_at %q is not RFC 3339", s)
		}
	}
	return flows.Payment{
		Provider:      Provider,
		TransactionID: c.TransactionID,
		OrderRef:      strings.ToUpper(strings.TrimSpace(c.OrderRef)),
		AmountVND:     amount,
		PaidAt:        paidAt,
		Raw:           string(body),
	}, nil
}

// notifySafely calls notify, keeping a panic in it from failing a request
// whose payment is already stored (a retry would only be a duplicate).
func (h *handler) notifySafely(ctx context.Context, p flows.Payment, o flows.Order) {
	if h.notify == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			h.log.ErrorContext(ctx, "payment notify panicked", "transaction_id", p.TransactionID, "order_ref", o.Ref, "panic", fmt.Sprint(v))
		}
	}()
	h.notify(ctx, p, o)
}

func reply(w http.ResponseWriter, code int, body response) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
