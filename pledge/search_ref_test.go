package pledge

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

var runOfA = regexp.MustCompile("a{2,}")

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
				if unicode.IsUpper(r) || unicode.IsTitle(r) {
					// No lower-case form (ℂ): the compatibility form's.
					b.WriteString(strings.ToLower(norm.NFKD.String(string(r))))
				} else {
					b.WriteRune(r)
				}
			}
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	// "aa" is å, so a run of a's is one a.
	return runOfA.ReplaceAllString(strings.TrimRight(b.String(), " "), "a")
}

// with prefix, for range scans: key >= prefix AND key < PrefixEnd(prefix).
