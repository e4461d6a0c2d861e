package report

import "testing"

// Every language has every text, so no page shows a ⟦key⟧.
func TestCataloguesComplete(t *testing.T) {
	for _, lang := range Languages() {
		for _, other := range Languages() {
			for key := range catalogues[other] {
				if _, ok := catalogues[lang][key]; !ok {
					t.Errorf("%s lacks %q (in %s)", lang, key, other)
				}
			}
		}
	}
}

func TestNumbers(t *testing.T) {
	da, _ := newLocale("da")
	en, _ := newLocale("en")
	for _, tc := range []struct{ got, want string }{
		{da.Money(123456789), "1.234.567,89 kr."},
		{da.Money(250000), "2.500 kr."},
		{da.Money(-5), "-0,05 kr."},
		{en.Money(123456789), "DKK 1,234,567.89"},
		{da.Percent(50), "50 %"},
		{da.Percent(21.24), "21,2 %"},
		{en.Percent(99.96), "100%"},
		{da.Metres(13702.5), "13.702 m"},
		{da.Decimal(-0.4, 0), "0"},
		{da.Decimal(-0.4, 1), "-0,4"},
		{da.Int(-1234567), "-1.234.567"},
		{da.LonLat(10.1484041, 55.2690339), "55,269034° N, 10,148404° Ø"},
		{en.LonLat(-3.5, -12.25), "12.250000° S, 3.500000° W"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
