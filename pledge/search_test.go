package pledge

import (
	"math/rand/v2"
	"testing"
)

func TestSearchKeyMatchesReference(t *testing.T) {
	samples := []string{"Nørregade 12, 8305 Samsø", "Åbenrå", "AABENRAA", "Østergade 1, Gerlev, 5210 Søum", "Straße ½ Łódź Þór café naïve", "  --Hello,,World!! ", "Ærø–Øst ŝ ł", "日本 東京", "Ελλάδα", "İstanbul", "ǅemal", "x\u0301y", "\u0301abc", "1º 2ª", "aaa", "Haaab", "ℂℍ 𝐀"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aAzZ09 ,.-/æøåÆØÅéÉüÜöÖäÄßłŁðÐþÞđĐçÇñÑ\u0301\u0308ǅİıΣσς日本½ºªℂ𝐀\t")
	for range 200000 {
		n := r.IntN(12)
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		samples = append(samples, string(rs))
	}
	for _, s := range samples {
		if got, want := SearchKey(s), referenceSearchKey(s); got != want {
			t.Fatalf("SearchKey(%q) = %q, reference %q", s, got, want)
		}
	}
}

func BenchmarkSearchKeyNew(b *testing.B) {
	for range b.N {
		SearchKey("Øladegårdvej 24, Østrup, 5200 Bårsted")
	}
}
