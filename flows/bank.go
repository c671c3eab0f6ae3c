package flows

// BankAccount is where customers transfer money (shown as text and in the VietQR code).
type BankAccount struct {
	BIN      string // 6-digit NAPAS bank identifier
	Number   string
	Name     string // account holder
	BankName string
}
