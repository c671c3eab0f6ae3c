package vietqr

import (
	"strings"
	"unicode"
)

// vietnamese lists, per base letter, every lower-case Vietnamese letter built
// on it (breve, circumflex, horn, and the five tone marks on each).
var vietnamese = map[rune]string{
	'a': "àáảãạăằắẳẵặâầấẩẫậ",
	'd': "đ",
	'e': "èéẻẽẹêềếểễệ",
	'i': "ìíỉĩị",
	'o': "òóỏõọôồốổỗộơờớởỡợ",
	'u': "ùúủũụưừứửữự",
	'y': "ỳýỷỹỵ",
}

// fold maps each accented Vietnamese letter, both cases, to its ASCII base.
var fold = func() map[rune]rune {
	m := make(map[rune]rune)
	for base, letters := range vietnamese {
		for _, r := range letters {
			m[r] = base
			m[unicode.ToUpper(r)] = unicode.ToUpper(base)
		}
	}
	return m
}()

// ASCIIFold writes Vietnamese text without diacritics, as bank transfer memos
// need: "Nguyễn Văn Đức" -> "Nguyen Van Duc". ASCII passes through unchanged;
// any other non-ASCII rune (dashes, emoji, combining marks of decomposed
// text) is dropped.
func ASCIIFold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case fold[r] != 0:
			b.WriteRune(fold[r])
		}
	}
	return b.String()
}
