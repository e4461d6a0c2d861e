package pledge_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kommunity/kommunity/pledge"
)

// FuzzSearchKey: SearchKey is what stores keep and what queries are folded
// to, so it must be idempotent (a stored key folds to itself, or a prefix
// query on it would miss), and its output is only lower-case letters and
// digits in words separated by single spaces: no upper case, punctuation,
// symbols or invisible characters, valid UTF-8.
func FuzzSearchKey(f *testing.F) {
	for _, s := range []string{
		"Nørregade 12, 8305 Samsø", "Aabenraa", "Åbenrå", "AAA", "aaa", "Straße", "Ærøskøbing", "Ĳsselmeer", "ǅemal",
		"İstanbul", "ℂ", "Ⅻ", "ﬁ", "²", "a\u0301", "\u0301a", "x\u200by", "\u202eabc", "\x00", "\xff\xfe", "\ufeffVej",
		"  --Vej--  1 ", "ΣΊΣΥΦΟΣ", "Привет", "東京", "١٢٣", "a\tb\nc", strings.Repeat("a", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := pledge.SearchKey(s)
		if again := pledge.SearchKey(k); again != k {
			t.Fatalf("SearchKey(%q) = %q, but SearchKey(%q) = %q", s, k, k, again)
		}
		if !utf8.ValidString(k) {
			t.Fatalf("SearchKey(%q) = %q is not valid UTF-8", s, k)
		}
		if k != strings.TrimSpace(k) || strings.Contains(k, "  ") {
			t.Fatalf("SearchKey(%q) = %q has stray spaces", s, k)
		}
		for _, r := range k {
			if r == ' ' {
				continue
			}
			if unicode.IsUpper(r) || unicode.IsTitle(r) || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
				t.Fatalf("SearchKey(%q) = %q holds %q (U+%04X)", s, k, r, r)
			}
		}
	})
}
