package pledge

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// referenceSearchKey is the plain definition SearchKey must match: NFD the
// whole string, drop marks, fold letters. Slow, and obviously right.
func referenceSearchKey(s string) string {
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

// with prefix, for range scans: key >= prefix AND key < PrefixEnd(prefix).
