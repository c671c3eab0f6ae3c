package flows

import "strings"

// Masking personal data for logs and staff notices.

// MaskPhone keeps the last three digits: 0912345678 -> *******678.
func MaskPhone(s string) string { return maskKeep(s, 3) }

// MaskID keeps the last three characters of an ID number or tax code.
func MaskID(s string) string { return maskKeep(s, 3) }

// MaskEmail keeps the first letter and the domain: a***@example.com.
func MaskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return maskKeep(s, 0)
	}
	return s[:1] + "***" + s[at:]
}

func maskKeep(s string, keep int) string {
	r := []rune(s)
	if len(r) <= keep {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-keep) + string(r[len(r)-keep:])
}
