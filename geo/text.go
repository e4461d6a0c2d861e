package geo

import (
	"fmt"
	"unicode"
)

// InvisibleRune returns the first Unicode control (Cc) or format (Cf)
// character in s: NUL, ESC, the bidi overrides such as U+202E, zero-width
// spaces and joiners (U+200B, U+2060). Such characters let a name or an
// address text look like another, or break terminals and spreadsheets, so
// names, contact details and imported texts refuse them. ok is false when s
// has none. Invalid UTF-8 counts as U+FFFD, which is neither, so callers
// that need valid UTF-8 check it themselves.
func InvisibleRune(s string) (r rune, ok bool) {
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return r, true
		}
	}
	return 0, false
}

// InvisibleReason describes the invisible character r for an error message,
// e.g. "contains the invisible character U+202E".
func InvisibleReason(r rune) string {
	return fmt.Sprintf("contains the invisible or control character U+%04X", r)
}
