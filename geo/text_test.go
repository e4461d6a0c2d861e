package geo_test

import (
	"testing"

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
