package flows

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field validators shared by the conversation and the CSV import. Each returns
// a catalogue message id explaining the problem, or "" when the value is fine.

// NormalizePhone turns the ways Vietnamese mobile numbers are written
// (+84 912 345 678, 84912345678, 0912.345.678) into 0912345678. ok is false
// when the result is not a 10-digit Vietnamese mobile number.
func NormalizePhone(s string) (phone string, ok bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '.', r == '-', r == '(', r == ')':
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "84") && len(d) == 11:
		d = "0" + d[2:]
	case len(d) == 9 && d[0] != '0':
		d = "0" + d
	}
	if len(d) != 10 || d[0] != '0' || !strings.ContainsRune("35789", rune(d[1])) {
		return "", false
	}
	return d, true
}

// CheckPhone validates a Vietnamese mobile number.
func CheckPhone(s string) string {
	if _, ok := NormalizePhone(s); !ok {
		return "err_phone"
	}
	return ""
}

// CheckEmail validates a plain address (no display name).
func CheckEmail(s string) string {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 {
		return "err_email"
	}
	at := strings.LastIndexByte(s, '@')
	if !strings.Contains(s[at+1:], ".") {
		return "err_email"
	}
	return ""
}

// NormalizeTaxCode accepts a Vietnamese tax code (mã số thuế): 10 digits, or
// 13 digits for a branch, written 0123456789-001 or 0123456789001.
func NormalizeTaxCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	d := strings.ReplaceAll(s, "-", "")
	if strings.Count(s, "-") > 1 || (strings.Contains(s, "-") && strings.Index(s, "-") != 10) {
		return "", false
	}
	if !allDigits(d) || (len(d) != 10 && len(d) != 13) {
		return "", false
	}
	if len(d) == 13 {
		return d[:10] + "-" + d[10:], true
	}
	return d, true
}

// CheckTaxCode validates a tax code.
func CheckTaxCode(s string) string {
	if _, ok := NormalizeTaxCode(s); !ok {
		return "err_tax_code"
	}
	return ""
}

// CheckIDNumber validates a personal ID number: CCCD (12 digits) or the old
// CMND (9 digits).
func CheckIDNumber(s string) string {
	s = strings.TrimSpace(s)
	if !allDigits(s) || (len(s) != 12 && len(s) != 9) {
		return "err_id_number"
	}
	return ""
}

// CheckText validates a required free-text field: present, at most max
// characters, printable, and in a Latin script (Vietnamese included).
func CheckText(s string, max int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "err_required"
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "err_too_long"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "err_script"
		}
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return "err_script"
		}
	}
	return ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
