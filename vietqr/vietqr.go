// Package vietqr builds, renders and parses VietQR payment codes: the EMVCo
// merchant-presented QR payload in the NAPAS profile that Vietnamese banking
// apps scan to pre-fill a transfer (bank, account, amount, memo).
//
// It is a leaf package: standard library plus skip2/go-qrcode, nothing of
// ours, so flows, bot and staff tools can all use it. No VietQR module is
// available from the module proxy here, so the format is written out below.
//
// A payload is a sequence of fields, each ID (2 digits) + length (2 digits) +
// value; some values are themselves such sequences (templates):
//
//	00 "01"                       payload format indicator
//	01 "12" / "11"                dynamic (amount present) / static
//	38 template                   NAPAS merchant account information
//	   00 "A000000727"            NAPAS GUID
//	   01 template                beneficiary
//	      00 BIN                  6-digit bank identifier
//	      01 account or card no.
//	   02 "QRIBFTTA" / "QRIBFTTC" transfer to account / to card
//	53 "704"                      currency (VND)
//	54 amount                     whole VND, omitted when 0
//	58 "VN"                       country
//	62 template                   additional data
//	   08 purpose                 transfer memo, ASCII, at most 25 chars
//	63 CRC                        CRC-16/CCITT-FALSE over everything before
//	                              its value, "6304" included; 4 uppercase hex
package vietqr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error about a bad Params or a malformed payload.
var ErrInvalid = errors.New("vietqr: invalid")

// Field IDs and fixed values of the NAPAS profile.
const (
	napasGUID      = "A000000727"
	serviceAccount = "QRIBFTTA" // transfer to a bank account
	serviceCard    = "QRIBFTTC" // transfer to a card number
	currencyVND    = "704"      // ISO 4217 numeric
	countryVN      = "VN"

	// MaxPurpose is the longest memo we put in field 62.08. Banks cut memos
	// at different lengths; 25 fits all the apps we know of.
	MaxPurpose = 25
	// MaxAmountVND is the largest amount field 54 may hold (13 digits).
	MaxAmountVND = 9_999_999_999_999
)

// Params describes one transfer to encode.
type Params struct {
	BIN       string // 6-digit NAPAS bank identifier, e.g. "970436"
	Account   string // account number, or card number when Card is set
	AmountVND int64  // whole VND; 0 makes a static code without amount
	Purpose   string // memo; folded to ASCII and trimmed, see PurposeText
	Card      bool   // Account is a card number (QRIBFTTC)
}

// Payload returns the VietQR payload for p. Errors wrap ErrInvalid.
func Payload(p Params) (string, error) {
	if !allDigits(p.BIN) || len(p.BIN) != 6 {
		return "", fmt.Errorf("%w: BIN %q must be 6 digits", ErrInvalid, p.BIN)
	}
	if n := len(p.Account); n < 1 || n > 19 || !allAlnum(p.Account) {
		return "", fmt.Errorf("%w: account %q must be 1 to 19 letters or digits", ErrInvalid, p.Account)
	}
	if p.AmountVND < 0 || p.AmountVND > MaxAmountVND {
		return "", fmt.Errorf("%w: amount %d VND out of range 0..%d", ErrInvalid, p.AmountVND, int64(MaxAmountVND))
	}

	service := serviceAccount
	if p.Card {
		service = serviceCard
	}
	var b tlvBuilder
	beneficiary := b.sub(func(t *tlvBuilder) {
		t.add("00", p.BIN)
		t.add("01", p.Account)
	})
	merchant := b.sub(func(t *tlvBuilder) {
		t.add("00", napasGUID)
		t.add("01", beneficiary)
		t.add("02", service)
	})

	b.add("00", "01")
	if p.AmountVND > 0 {
		b.add("01", "12")
	} else {
		b.add("01", "11")
	}
	b.add("38", merchant)
	b.add("53", currencyVND)
	if p.AmountVND > 0 {
		b.add("54", strconv.FormatInt(p.AmountVND, 10))
	}
	b.add("58", countryVN)
	if purpose := PurposeText(p.Purpose); purpose != "" {
		b.add("62", b.sub(func(t *tlvBuilder) { t.add("08", purpose) }))
	}
	if b.err != nil {
		return "", b.err
	}
	s := b.String() + "6304"
	return s + fmt.Sprintf("%04X", CRC16([]byte(s))), nil
}

// PurposeText is the memo as it goes into field 62.08: Vietnamese folded to
// ASCII (ASCIIFold), only letters, digits and spaces kept, runs of spaces
// collapsed, and at most MaxPurpose characters.
func PurposeText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range ASCIIFold(s) {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			space = b.Len() > 0
			continue
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			continue // punctuation is refused by some banking apps
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > MaxPurpose {
		out = strings.TrimRight(out[:MaxPurpose], " ")
	}
	return out
}

// tlvBuilder writes ID+length+value fields, remembering the first error.
type tlvBuilder struct {
	strings.Builder
	err error
}

func (b *tlvBuilder) add(id, value string) {
	if len(value) > 99 {
		if b.err == nil {
			b.err = fmt.Errorf("%w: field %s is %d characters, at most 99 fit", ErrInvalid, id, len(value))
		}
		return
	}
	fmt.Fprintf(b, "%s%02d%s", id, len(value), value)
}

// sub builds a template value, passing its error up to b.
func (b *tlvBuilder) sub(fill func(*tlvBuilder)) string {
	var t tlvBuilder
	fill(&t)
	if t.err != nil && b.err == nil {
		b.err = t.err
	}
	return t.String()
}

// CRC16 is CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no
// reflection, no final XOR. CRC16([]byte("123456789")) == 0x29B1.
func CRC16(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range data {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
