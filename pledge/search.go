package pledge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SearchKey folds an address text or a query for prefix search: lower case,
// accents dropped (é -> e, å -> a), Danish and German letters spelled out
// (ø -> o, æ -> ae, ß -> ss), "aa" read as å (Aabenraa = Åbenrå), and
// punctuation folded into single spaces. "Norregade" finds "Nørregade".
// Stores keep SearchKey(text) beside each address and compare prefixes.
//
// It runs once per imported address, so ASCII and Latin letters take a
// table lookup; only other scripts pay for Unicode decomposition.
func SearchKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading spaces
	sep := func() {
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			c := byte(r)
			switch {
			case c >= 'A' && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
				space = false
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				b.WriteByte(c)
				space = false
			default:
				sep()
			}
		case r < latinEnd:
			if f := latinFold[r]; f != "" {
				b.WriteString(f)
				space = false
			} else {
				sep()
			}
		default:
			f, mark := foldRune(r)
			switch {
			case mark:
			case f != "":
				b.WriteString(f)
				space = false
			default:
				sep()
			}
		}
	}
	return collapseA(strings.TrimRight(b.String(), " "))
}

// collapseA reads "aa" as å, which folds to "a". A longer run of a's
// becomes one a as well: replacing pairs would fold "aaa" to "aa" and that
// again to "a", and a stored key must fold to itself, or the query that
// typed it would miss.
func collapseA(s string) string {
	if !strings.Contains(s, "aa") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == 'a' && i > 0 && s[i-1] == 'a' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// latinEnd bounds the precomputed folds: Latin-1 and Latin Extended-A/B.
const latinEnd = 0x250

// latinFold holds foldRune's result for every rune below latinEnd; "" marks
// a separator. It is computed once and only read.
var latinFold = func() (t [latinEnd]string) {
	for r := rune(0); r < latinEnd; r++ {
		t[r], _ = foldRune(r)
	}
	return t
}()

// foldRune folds one rune: its lower-case base letters, "" for a separator,
// or mark for a combining mark, which is dropped without separating.
func foldRune(r rune) (folded string, mark bool) {
	folded, mark, ok := fold(norm.NFD, r)
	if !ok {
		// A capital without a lower-case form (ℂ, 𝐀) folds by its
		// compatibility form (C, A); failing that it separates.
		if folded, mark, ok = fold(norm.NFKD, r); !ok {
			return "", false
		}
	}
	return folded, mark
}

// fold is foldRune by one decomposition; ok is false when a letter has no
// lower-case form, so a key would hold a capital.
func fold(form norm.Form, r rune) (folded string, mark, ok bool) {
	var b strings.Builder
	for _, d := range form.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d):
			if d == r {
				return "", true, true
			}
		case unicode.IsLetter(d) || unicode.IsDigit(d):
			switch d = unicode.ToLower(d); d {
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
				if unicode.IsUpper(d) || unicode.IsTitle(d) {
					return "", false, false
				}
				b.WriteRune(d)
			}
		default:
			return "", false, true
		}
	}
	return b.String(), false, true
}

// PrefixEnd is the smallest string greater than every string that starts
// with prefix, for range scans: key >= prefix AND key < PrefixEnd(prefix).
func PrefixEnd(prefix string) string {
	return prefix + "\U0010FFFF"
}
