package geo_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/kommunity/kommunity/geo"
)

func TestInvisibleRune(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want rune
	}{
		{"NUL", "a\x00b", 0},
		{"ESC", "\x1b[31mred", 0x1b},
		{"RLO", "Anne\u202eMøller", 0x202e},
		{"ZWSP", "Nørre\u200bgade", 0x200b},
		{"WordJoiner", "x\u2060y", 0x2060},
		{"BOM", "\ufeffname", 0xfeff},
		{"Tab", "a\tb", '\t'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := geo.InvisibleRune(tc.in)
			if !ok || r != tc.want {
				t.Fatalf("InvisibleRune(%q) = %U, %v; want %U, true", tc.in, r, ok, tc.want)
			}
		})
	}
	for _, s := range []string{"", "Nørregade 1, 8305 Samsø", "Åbenrå", "O'Brien-Smith", "日本"} {
		if r, ok := geo.InvisibleRune(s); ok {
			t.Errorf("InvisibleRune(%q) = %U, want none", s, r)
		}
	}
}

// The byte-wise fast paths of InvisibleRune and of the tidying of imported
// texts agree with their definitions (unicode.Is over every rune;
// strings.Fields, then the comma rules) on every short string over an
// alphabet of the cases that matter, and on every rune alone and between
// letters.
func TestTextFastPathsMatchDefinitions(t *testing.T) {
	slowInvisible := func(s string) (rune, bool) {
		for _, r := range s {
			if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
				return r, true
			}
		}
		return 0, false
	}
	slowCollapse := func(s string) string {
		s = strings.Join(strings.Fields(s), " ")
		s = strings.ReplaceAll(s, " ,", ",")
		return strings.Trim(s, " ,")
	}
	check := func(s string) {
		t.Helper()
		r1, ok1 := geo.InvisibleRune(s)
		r2, ok2 := slowInvisible(s)
		if r1 != r2 || ok1 != ok2 {
			t.Fatalf("InvisibleRune(%q) = %U %v; by definition %U %v", s, r1, ok1, r2, ok2)
		}
		if got, want := geo.CollapseSpaces(s), slowCollapse(s); got != want {
			t.Fatalf("collapseSpaces(%q) = %q; by definition %q", s, got, want)
		}
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		check(string(r))
		check("a" + string(r) + "b")
	}
	check("\xff")
	check("a\xc3")
	alphabet := []string{"a", "ø", " ", ",", "\t", "\u00a0", "\u2003", "\x00", "\u202e", "\x85", "\u0085"}
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		check(prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			walk(prefix+c, n-1)
		}
	}
	walk("", 5)
}
