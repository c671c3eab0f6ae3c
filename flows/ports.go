package flows

import (
	"context"
	"time"
)

// The ports below are what the conversations need from the outside world.
// storage/postgres and storage/redisstate implement them; each method lists
// the error codes it returns besides Internal.

// Customers finds customers and their Telegram links.
type Customers interface {
	// CustomerByPhone finds a customer by a phone already normalized with
	// NormalizePhone. NotFound when nobody has it.
	CustomerByPhone(ctx context.Context, phone string) (Customer, error)
	// Customer loads by id. NotFound.
	Customer(ctx context.Context, id int64) (Customer, error)
	// LinkByChat returns the active link of a private chat. NotFound when the
	// chat is not linked.
	LinkByChat(ctx context.Context, chatID int64) (Link, error)
	// LinkByCustomer returns the customer's active chat link (the most
	// recent when several). NotFound when the customer has none.
	LinkByCustomer(ctx context.Context, customerID int64) (Link, error)
	// LinkChat links (or re-links) a chat to a customer and activates it.
	LinkChat(ctx context.Context, l Link) error
	// SetLinkLang stores the chat's language. NotFound when not linked.
	SetLinkLang(ctx context.Context, chatID int64, lang string) error
	// DeactivateLink marks a chat unreachable (Telegram answered 403).
	DeactivateLink(ctx context.Context, chatID int64) error
}

// Certificates reads certificates.
type Certificates interface {
	// CertificatesOf lists a customer's certificates, soonest expiry first.
	CertificatesOf(ctx context.Context, customerID int64) ([]Certificate, error)
	// Certificate loads by id. NotFound.
	Certificate(ctx context.Context, id int64) (Certificate, error)
}

// Catalog reads the price list and promo codes.
type Catalog interface {
	// Packages lists the active packages of a certificate type, shortest first.
	Packages(ctx context.Context, t CertType) ([]Package, error)
	// Package loads by id (active or not). NotFound.
	Package(ctx context.Context, id int64) (Package, error)
	// PromoByCode finds a code case-insensitively. NotFound.
	PromoByCode(ctx context.Context, code string) (PromoCode, error)
	// PromoUsesBy counts paid redemptions of a code by one customer.
	PromoUsesBy(ctx context.Context, promoID, customerID int64) (int, error)
}

// Session is the conversation cursor of one chat, kept in Redis with a TTL.
// It is typed and versioned: Save succeeds only if Version still matches what
// is stored, so two updates (or two instances) never both move one chat.
type Session struct {
	Schema  int    `json:"schema"` // SessionSchema when written
	ChatID  int64  `json:"chat_id"`
	UserID  int64  `json:"user_id"`
	State   State  `json:"state"`
	Version int64  `json:"version"` // 0 = never saved
	Lang    string `json:"lang"`

	CustomerID    int64 `json:"customer_id,omitempty"`
	CertificateID int64 `json:"certificate_id,omitempty"`
	PackageID     int64 `json:"package_id,omitempty"`
	OrderID       int64 `json:"order_id,omitempty"`

	// PendingCode is a code typed but not applied yet (it counts only after Apply).
	PendingCode string `json:"pending_code,omitempty"`
	// EditField names the inherited-info field being edited, e.g. "invoice.tax_code".
	EditField string `json:"edit_field,omitempty"`
	// Back is the stack of states to return to.
	Back []State `json:"back,omitempty"`

	UpdatedAt time.Time `json:"updated_at"`
}

// SessionSchema is bumped when Session changes incompatibly.
const SessionSchema = 1

// Sessions stores conversation cursors.
type Sessions interface {
	// LoadSession returns the chat's session, or NotFound (the caller starts a
	// fresh one with Version 0).
	LoadSession(ctx context.Context, chatID int64) (Session, error)
	// SaveSession writes s if the stored version equals s.Version (0 = must not
	// exist) and returns the session with its new version. Conflict otherwise.
	SaveSession(ctx context.Context, s Session) (Session, error)
	// DeleteSession forgets a chat's cursor.
	DeleteSession(ctx context.Context, chatID int64) error
}

// Clock is injected so tests and the scheduler control time.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Orders keeps orders, payments and dossiers (Postgres: money and documents
// never live only in Redis).
type Orders interface {
	// OpenOrder returns the certificate's order that is not finished
	// (draft, awaiting_payment, paid, submitted or rejected). NotFound.
	OpenOrder(ctx context.Context, certificateID int64) (Order, error)
	// CreateOrder inserts a draft and assigns ID, Ref, Version, CreatedAt.
	// Conflict when the certificate already has an open order.
	CreateOrder(ctx context.Context, o Order) (Order, error)
	// Order loads by id. NotFound.
	Order(ctx context.Context, id int64) (Order, error)
	// OrderByRef loads by reference. NotFound.
	OrderByRef(ctx context.Context, ref string) (Order, error)
	// UpdateDraft writes a draft's package, prices, promo and info when
	// o.Version matches, and returns it with the new version. Conflict on a
	// version mismatch, FailedPrecondition when the order is not a draft.
	UpdateDraft(ctx context.Context, o Order) (Order, error)
	// SetOrderStatus moves an order from one status to another and bumps the
	// version. Conflict when the order is not in status from.
	SetOrderStatus(ctx context.Context, id int64, from, to OrderStatus) (Order, error)
	// LatestOrderOf returns the customer's most recent order that reached
	// awaiting_payment or later (the source of inherited info). NotFound.
	LatestOrderOf(ctx context.Context, customerID int64) (Order, error)
	// OrdersOf lists a customer's orders, newest first.
	OrdersOf(ctx context.Context, customerID int64) ([]Order, error)

	// RecordPayment stores a payment, idempotent by (Provider, TransactionID).
	// When it names an awaiting_payment order and pays its total in full, the
	// order becomes paid and its promo code is redeemed in the same
	// transaction, never beyond MaxUses or PerCustomer (if the code ran out
	// meanwhile the payment is kept as underpaid for staff). A repeat returns
	// the first payment with Status PaymentDuplicate. Returns the order (zero
	// when unmatched).
	RecordPayment(ctx context.Context, p Payment) (Payment, Order, error)

	// Dossier returns the order's dossier with its files' metadata. NotFound.
	Dossier(ctx context.Context, orderID int64) (Dossier, error)
	// SaveDossier creates or updates the order's dossier (method, status,
	// signed time, reject reason).
	SaveDossier(ctx context.Context, d Dossier) (Dossier, error)
	// AddDossierFile stores a file and its bytes. Invalid when over 20 MB.
	AddDossierFile(ctx context.Context, f DossierFile, content []byte) (DossierFile, error)
	// SubmitDossier marks the dossier submitted and the order submitted in one
	// transaction. FailedPrecondition when the order is not paid or rejected.
	SubmitDossier(ctx context.Context, orderID int64, at time.Time) (Order, error)
}

// Audit records who did what, for staff and for disputes.
type Audit interface {
	Audit(ctx context.Context, actor, action, subject string, detail any) error
}

// OTPs keeps one-time codes, hashed, with attempts and a resend cooldown.
type OTPs interface {
	// IssueOTP stores the hash for key with ttl. FailedPrecondition when a
	// code for key was issued less than cooldown ago; wait says how long.
	IssueOTP(ctx context.Context, key, hash string, ttl, cooldown time.Duration) (wait time.Duration, err error)
	// CheckOTP compares hash with the stored one, counting attempts. ok is
	// true once and the code is then deleted. NotFound when there is no live
	// code (expired, never issued, or used up by maxAttempts wrong tries).
	CheckOTP(ctx context.Context, key, hash string, maxAttempts int) (ok bool, attemptsLeft int, err error)
}

// Mail is an email the service sends (OTP codes, application forms, results).
type Mail struct {
	To          string
	Subject     string
	Body        string
	Attachments []Attachment
}

// Mailer sends email (SMTP in production, the sandbox's mailbox locally).
type Mailer interface {
	SendMail(ctx context.Context, m Mail) error
}

// Files fetches what a customer uploaded (bot/ implements it with getFile).
type Files interface {
	// Download returns the file's bytes. Invalid when it is larger than max.
	Download(ctx context.Context, fileID string, max int64) ([]byte, error)
}
