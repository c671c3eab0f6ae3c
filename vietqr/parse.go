package vietqr

import (
	"fmt"
	"strconv"
)

// Parse splits a payload into its fields after checking its CRC. Keys are
// field IDs; fields inside templates are joined with dots, e.g. "38.01.00" is
// the bank BIN. Templates also keep their raw value under their own ID
// ("38"). Templates are the EMVCo ones (26-51 merchant account information,
// 62 additional data, 64 language, 80-99 unreserved) and, inside a NAPAS
// merchant account (GUID A000000727), the beneficiary field 01.
// The payload must start with field 00 and end with field 63. Errors wrap
// ErrInvalid.
func Parse(payload string) (map[string]string, error) {
	n := len(payload)
	if n < 8 || payload[n-8:n-4] != "6304" {
		return nil, fmt.Errorf("%w: payload does not end with a CRC field 63", ErrInvalid)
	}
	want, err := strconv.ParseUint(payload[n-4:], 16, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: CRC %q is not 4 hex digits", ErrInvalid, payload[n-4:])
	}
	if got := CRC16([]byte(payload[:n-4])); uint64(got) != want {
		return nil, fmt.Errorf("%w: CRC is %s, computed %04X", ErrInvalid, payload[n-4:], got)
	}

	fields := make(map[string]string)
	top, err := splitTLV(payload)
	if err != nil {
		return nil, err
	}
	if len(top) == 0 || top[0].id != "00" {
		return nil, fmt.Errorf("%w: payload does not start with field 00", ErrInvalid)
	}
	if last := top[len(top)-1]; last.id != "63" || len(last.value) != 4 {
		return nil, fmt.Errorf("%w: payload does not end with a CRC field 63", ErrInvalid)
	}
	for _, f := range top {
		if err := put(fields, f.id, f.value); err != nil {
			return nil, err
		}
		if !isTemplate(f.id) {
			continue
		}
		subs, err := splitTLV(f.value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.id, err)
		}
		napas := false
		for _, s := range subs {
			napas = napas || s.id == "00" && s.value == napasGUID
		}
		for _, s := range subs {
			key := f.id + "." + s.id
			if err := put(fields, key, s.value); err != nil {
				return nil, err
			}
			if !(napas && s.id == "01") {
				continue
			}
			leaves, err := splitTLV(s.value)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", key, err)
			}
			for _, l := range leaves {
				if err := put(fields, key+"."+l.id, l.value); err != nil {
					return nil, err
				}
			}
		}
	}
	return fields, nil
}

type tlv struct{ id, value string }

// splitTLV reads a sequence of ID(2)+length(2)+value fields covering all of s.
func splitTLV(s string) ([]tlv, error) {
	var out []tlv
	for i := 0; i < len(s); {
		if len(s)-i < 4 || !allDigits(s[i:i+4]) {
			return nil, fmt.Errorf("%w: bad field header at offset %d", ErrInvalid, i)
		}
		id := s[i : i+2]
		n, _ := strconv.Atoi(s[i+2 : i+4])
		i += 4
		if len(s)-i < n {
			return nil, fmt.Errorf("%w: field %s wants %d characters, %d left", ErrInvalid, id, n, len(s)-i)
		}
		out = append(out, tlv{id, s[i : i+n]})
		i += n
	}
	return out, nil
}

func put(m map[string]string, key, value string) error {
	if _, dup := m[key]; dup {
		return fmt.Errorf("%w: field %s appears twice", ErrInvalid, key)
	}
	m[key] = value
	return nil
}

func isTemplate(id string) bool {
	n, _ := strconv.Atoi(id)
	return n >= 26 && n <= 51 || n == 62 || n == 64 || n >= 80 && n <= 99
}
