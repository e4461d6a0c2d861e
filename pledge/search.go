package pledge

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// SearchKey folds an address text or a query for prefix search: lower case,
// accents dropped (é -> e, å -> a), Danish and German letters spelled out
// (ø -> o, æ -> ae, ß -> ss), "aa" read as å (Aabenraa = Åbenrå), and
// punctuation folded into single spaces. "Norregade" finds "Nørregade".
// Stores keep SearchKey(text) beside each address and compare prefixes.
func SearchKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading spaces
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			switch r = unicode.ToLower(r); r {
			case 'ø':
				b.WriteByte('o')
			case 'æ':
				b.WriteString("ae")
			case 'ß':
				b.WriteString("ss")
			case 'đ', 'ð':
				b.WriteByte('d')
			case 'ł':
				b.WriteByte('l')
			case 'þ':
				b.WriteString("th")
			default:
				b.WriteRune(r)
			}
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.ReplaceAll(strings.TrimRight(b.String(), " "), "aa", "a")
}

// PrefixEnd is the smallest string greater than every string that starts
// with prefix, for range scans: key >= prefix AND key < PrefixEnd(prefix).
func PrefixEnd(prefix string) string {
	return prefix + "\U0010FFFF"
}
