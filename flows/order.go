package flows

import "time"

// OrderStatus is where an order (đơn hàng gia hạn) stands.
type OrderStatus string

const (
	OrderDraft           OrderStatus = "draft"            // being assembled in chat
	OrderAwaitingPayment OrderStatus = "awaiting_payment" // fixed, VietQR shown
	OrderPaid            OrderStatus = "paid"             // payment matched; dossier next
	OrderSubmitted       OrderStatus = "submitted"        // dossier submitted, waiting for review
	OrderApproved        OrderStatus = "approved"         // new period issued
	OrderRejected        OrderStatus = "rejected"         // dossier rejected, customer can fix
	OrderCancelled       OrderStatus = "cancelled"
)

// SubjectInfo is "thông tin đối tượng sử dụng": who the certificate is for.
type SubjectInfo struct {
	FullName string `json:"full_name"`
	IDNumber string `json:"id_number,omitempty"` // person: CCCD/CMND
	TaxCode  string `json:"tax_code,omitempty"`  // organization: MST
	Address  string `json:"address"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
}

// InvoiceInfo is "thông tin cấp hóa đơn tài chính": who the VAT invoice is for.
type InvoiceInfo struct {
	Name    string `json:"name"`
	TaxCode string `json:"tax_code,omitempty"`
	Address string `json:"address"`
	Email   string `json:"email"`
}

// PaymentInfo is "thông tin thanh toán".
type PaymentInfo struct {
	Method    string `json:"method"` // "bank_transfer"
	PayerName string `json:"payer_name"`
}

// Order is one renewal purchase.
type Order struct {
	ID            int64
	Ref           string // customer-facing reference, e.g. HD000123
	CustomerID    int64
	CertificateID int64
	PackageID     int64
	Status        OrderStatus
	PriceVND      int64
	DiscountVND   int64
	TotalVND      int64
	PromoID       int64 // 0 = none
	PromoCode     string
	Subject       SubjectInfo
	Invoice       InvoiceInfo
	Payment       PaymentInfo
	CreatedAt     time.Time
	PaidAt        time.Time // zero until paid
	Version       int64     // bumped by every update (compare-and-set)
}

// Payment is a bank transfer reported by the payment provider or entered by staff.
type Payment struct {
	ID            int64
	Provider      string // "bank" or "staff"
	TransactionID string // provider's id; unique per provider
	OrderRef      string
	OrderID       int64 // 0 when unmatched
	AmountVND     int64
	PaidAt        time.Time
	Status        PaymentStatus
	Raw           string // the callback body, for audit
}

// PaymentStatus says what a received payment did.
type PaymentStatus string

const (
	PaymentMatched   PaymentStatus = "matched"   // paid the order in full
	PaymentUnderpaid PaymentStatus = "underpaid" // order found, amount short: staff must act
	PaymentUnmatched PaymentStatus = "unmatched" // no such order (or not awaiting payment)
	PaymentDuplicate PaymentStatus = "duplicate" // same transaction seen before; nothing changed
)

// SignMethod is how the renewal application gets signed.
type SignMethod string

const (
	SignOTP     SignMethod = "otp"     // case 1: confirm + email one-time code
	SignHand    SignMethod = "hand"    // case 2: printed, hand-signed (stamped), photographed
	SignDigital SignMethod = "digital" // case 2: PDF signed digitally
)

// DossierStatus is where a renewal dossier (hồ sơ gia hạn) stands.
type DossierStatus string

const (
	DossierCollecting DossierStatus = "collecting"
	DossierSubmitted  DossierStatus = "submitted"
	DossierApproved   DossierStatus = "approved"
	DossierRejected   DossierStatus = "rejected"
)

// Dossier is the application plus what the customer uploads.
type Dossier struct {
	ID           int64
	OrderID      int64
	Method       SignMethod
	Status       DossierStatus
	SignedAt     time.Time // OTP signature time (case 1)
	SubmittedAt  time.Time
	Files        []DossierFile
	RejectReason string
	// PaperCollected tracks the hand-signed original the provider must collect.
	PaperCollected bool
}

// DossierFile is metadata of one uploaded file; the bytes live in the file store.
type DossierFile struct {
	ID             int64
	DossierID      int64
	Kind           string // "photo" or "pdf"
	FileName       string
	MIME           string
	Size           int64
	SHA256         string
	StorageKey     string // where the bytes are kept (path under the file store)
	TelegramFileID string
	CreatedAt      time.Time
}
