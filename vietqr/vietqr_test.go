package vietqr

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCRC16CheckValue(t *testing.T) {
	if got := CRC16([]byte("123456789")); got != 0x29B1 {
		t.Fatalf("CRC16(123456789) = %04X, want 29B1", got)
	}
	if got := CRC16(nil); got != 0xFFFF {
		t.Fatalf("CRC16(empty) = %04X, want FFFF (the initial value)", got)
	}
}

// The expected payload is written out field by field from the TLV rules;
// its CRC was computed independently (a bitwise CRC-16/CCITT-FALSE in Python).
func TestPayloadExact(t *testing.T) {
	want := "000201" + // 00 format indicator "01"
		"010212" + // 01 "12": dynamic, an amount is present
		"3857" + // 38 NAPAS merchant account, 57 characters:
		/**/ "0010A000000727" + // 38.00 NAPAS GUID
		/**/ "0127" + // 38.01 beneficiary, 27 characters:
		/*  */ "0006970436" + // 38.01.00 BIN
		/*  */ "01130011004567890" + // 38.01.01 account, 13 digits
		/**/ "0208QRIBFTTA" + // 38.02 transfer to account
		"5303704" + // 53 currency VND
		"54071250000" + // 54 amount, 7 digits
		"5802VN" + // 58 country
		"6224" + // 62 additional data, 24 characters:
		/**/ "0820HD000123 gia han CTS" + // 62.08 purpose, diacritics folded
		"6304" + "DC1F" // 63 CRC over everything before, "6304" included

	got, err := Payload(Params{BIN: "970436", Account: "0011004567890", AmountVND: 1250000, Purpose: "HD000123 gia hạn CTS"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("payload mismatch (-want +got):\n%s", diff)
	}
}

func TestPayloadStaticCardNoPurpose(t *testing.T) {
	got, err := Payload(Params{BIN: "970415", Account: "9704150000000001", Card: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"00":       "01",
		"01":       "11",
		"38":       "0010A000000727" + "0130" + "0006970415" + "0116" + "9704150000000001" + "0208QRIBFTTC",
		"38.00":    "A000000727",
		"38.01":    "0006970415" + "0116" + "9704150000000001",
		"38.01.00": "970415",
		"38.01.01": "9704150000000001",
		"38.02":    "QRIBFTTC",
		"53":       "704",
		"58":       "VN",
		"63":       got[len(got)-4:],
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Fatalf("fields mismatch (-want +got):\n%s", diff)
	}
}

func TestASCIIFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nguyễn Văn Đức – Gia hạn", "Nguyen Van Duc  Gia han"},
		{"đường Trần Hưng Đạo", "duong Tran Hung Dao"},
		{"ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ àáảãạăằắẳẵặâầấẩẫậ", "AAAAAAAAAAAAAAAAA aaaaaaaaaaaaaaaaa"},
		{"ÈÉẺẼẸÊỀẾỂỄỆ ÌÍỈĨỊ ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ ÙÚỦŨỤƯỪỨỬỮỰ ỲÝỶỸỴ", "EEEEEEEEEEE IIIII OOOOOOOOOOOOOOOOO UUUUUUUUUUU YYYYY"},
		{"Nguye\u0302\u0303n", "Nguyen"}, // decomposed: combining marks dropped
		{"chữ ký số 🙂 €5", "chu ky so  5"},
		{"plain ASCII: 100% (ok)", "plain ASCII: 100% (ok)"},
	}
	for _, tt := range tests {
		if got := ASCIIFold(tt.in); got != tt.want {
			t.Errorf("ASCIIFold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPurposeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HD000123 gia hạn CTS", "HD000123 gia han CTS"},
		{"  Nguyễn Văn Đức – Gia hạn  ", "Nguyen Van Duc Gia han"},
		{"HD-000123/2025: thanh toán", "HD0001232025 thanh toan"},
		{"Thanh toan don hang HD000123 cho cong ty", "Thanh toan don hang HD000"}, // 25 chars
		{"abcdefghijklmnopqrstuvwx yz", "abcdefghijklmnopqrstuvwx"},               // no trailing space
		{"–!?", ""},
	}
	for _, tt := range tests {
		if got := PurposeText(tt.in); got != tt.want {
			t.Errorf("PurposeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPayloadRejects(t *testing.T) {
	good := Params{BIN: "970436", Account: "0011004567890", AmountVND: 1000}
	tests := []struct {
		name string
		edit func(*Params)
	}{
		{"BIN too short", func(p *Params) { p.BIN = "97043" }},
		{"BIN too long", func(p *Params) { p.BIN = "9704361" }},
		{"BIN not digits", func(p *Params) { p.BIN = "97O436" }},
		{"BIN empty", func(p *Params) { p.BIN = "" }},
		{"account empty", func(p *Params) { p.Account = "" }},
		{"account 20 chars", func(p *Params) { p.Account = strings.Repeat("1", 20) }},
		{"account with dash", func(p *Params) { p.Account = "0011-004567" }},
		{"account with space", func(p *Params) { p.Account = "0011 004567" }},
		{"account non-ASCII", func(p *Params) { p.Account = "00110045đ" }},
		{"negative amount", func(p *Params) { p.AmountVND = -1 }},
		{"amount 14 digits", func(p *Params) { p.AmountVND = 10_000_000_000_000 }},
	}
	for _, tt := range tests {
		p := good
		tt.edit(&p)
		if s, err := Payload(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Payload = %q, %v; want ErrInvalid", tt.name, s, err)
		}
	}
	// The limits themselves are accepted.
	p := good
	p.Account = strings.Repeat("A", 19)
	p.AmountVND = MaxAmountVND
	if _, err := Payload(p); err != nil {
		t.Errorf("19-char account and 13-digit amount: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	good, err := Payload(Params{BIN: "970436", Account: "0011004567890", AmountVND: 1250000, Purpose: "HD000123"})
	if err != nil {
		t.Fatal(err)
	}
	withCRC := func(s string) string {
		s += "6304"
		return s + fmt.Sprintf("%04X", CRC16([]byte(s)))
	}
	tests := map[string]string{
		"empty":            "",
		"wrong CRC":        good[:len(good)-4] + "0000",
		"changed amount":   strings.Replace(good, "1250000", "1350000", 1),
		"no CRC field":     good[:len(good)-8],
		"CRC not hex":      good[:len(good)-4] + "ZZZZ",
		"truncated field":  withCRC("000201" + "5899VN"),
		"bad header":       withCRC("000201" + "5x02VN"),
		"duplicate field":  withCRC("000201" + "5802VN" + "5802VN"),
		"not starting 00":  withCRC("5802VN" + "000201"),
		"broken template":  withCRC("000201" + "3806" + "001099"),
		"broken NAPAS ben": withCRC("000201" + "3820" + "0010A000000727" + "0102" + "99"),
	}
	for name, s := range tests {
		if f, err := Parse(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse(%q) = %v, %v; want ErrInvalid", name, s, f, err)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	s, err := Payload(Params{BIN: "970436", Account: "0011004567890", AmountVND: 1250000, Purpose: "HD000123 gia hạn CTS"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"00": "01", "01": "12", "38.00": "A000000727", "38.01.00": "970436",
		"38.01.01": "0011004567890", "38.02": "QRIBFTTA", "53": "704",
		"54": "1250000", "58": "VN", "62.08": "HD000123 gia han CTS", "63": "DC1F",
	} {
		if f[key] != want {
			t.Errorf("field %s = %q, want %q", key, f[key], want)
		}
	}
}

// TestPNGScans renders a code and reads it back with a real decoder, zbarimg
// from Debian's zbar-tools: what a banking app's camera would see.
func TestPNGScans(t *testing.T) {
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg not found: install zbar-tools (apt-get install zbar-tools) to run this test")
	}
	for _, p := range []Params{
		{BIN: "970436", Account: "0011004567890", AmountVND: 1250000, Purpose: "HD000123 gia hạn CTS"},
		{BIN: "970415", Account: "9704150000000001", Card: true},
	} {
		payload, err := Payload(p)
		if err != nil {
			t.Fatal(err)
		}
		png, err := PNG(payload, 512)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(png), "\x89PNG\r\n\x1a\n") {
			t.Fatalf("PNG output does not start with the PNG signature")
		}
		file := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(file, png, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbarimg, "--raw", "-q", file).Output()
		if err != nil {
			t.Fatalf("zbarimg %s: %v (output %q)", file, err, out)
		}
		if got := strings.TrimRight(string(out), "\n"); got != payload {
			t.Fatalf("zbarimg decoded %q, want %q", got, payload)
		}
	}
}

func TestPNGRejects(t *testing.T) {
	if _, err := PNG("", 256); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty payload: %v, want ErrInvalid", err)
	}
	if _, err := PNG("000201", 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("size 0: %v, want ErrInvalid", err)
	}
}
