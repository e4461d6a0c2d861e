package geo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InvisibleRune returns the first Unicode control (Cc) or format (Cf)
// character in s: NUL, ESC, the bidi overrides such as U+202E, zero-width
// spaces and joiners (U+200B, U+2060). Such characters let a name or an
// address text look like another, or break terminals and spreadsheets, so
// names, contact details and imported texts refuse them. ok is false when s
// has none. Invalid UTF-8 counts as U+FFFD, which is neither, so callers
// that need valid UTF-8 check it themselves.
func InvisibleRune(s string) (r rune, ok bool) {
	// ASCII by byte: its only invisible characters are the controls (no
	// ASCII character is Cf). A 4M-address import spent half of its CSV
	// parsing in unicode.Is before.
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return rune(c), true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return r, true
		}
		i += n
	}
	return 0, false
}

// InvisibleReason describes the invisible character r for an error message,
// e.g. "contains the invisible character U+202E".
func InvisibleReason(r rune) string {
	return fmt.Sprintf("contains the invisible or control character U+%04X", r)
}

// invisibleIn is InvisibleReason for the first invisible character of s,
// or "" when it has none.
func invisibleIn(s string) string {
	if r, ok := InvisibleRune(s); ok {
		return InvisibleReason(r)
	}
	return ""
}

// textReason says why an imported text cannot be stored (invalid UTF-8,
// an invisible character), or "".
func textReason(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	return invisibleIn(s)
}

// parseUnits reads a unit count written as text: a whole number from 1 to
// MaxUnits. The reason names the value as the file wrote it.
func parseUnits(s string) (int, string) {
	n, err := strconv.Atoi(s)
	if err != nil {
		// "99999999999999999999" or "1e9": say it is too many, which is
		// what is wrong, rather than that it is not a whole number.
		v, ferr := strconv.ParseFloat(s, 64)
		if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-") || ferr == nil && v > MaxUnits {
			return 0, fmt.Sprintf("%q is more than %d units, the most one address may have", s, MaxUnits)
		}
	}
	if err != nil || n < 1 {
		return 0, fmt.Sprintf("%q is not a whole number of at least 1", s)
	}
	if n > MaxUnits {
		return 0, fmt.Sprintf("%d is more than %d units, the most one address may have", n, MaxUnits)
	}
	return n, ""
}
