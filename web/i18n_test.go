package web

import (
	"net/http/httptest"
	"sort"
	"testing"
	"time"
)

func TestCatalogues(t *testing.T) {
	keys := func(lang string) []string {
		var ks []string
		for k := range catalogues[lang] {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	for _, lang := range languages {
		for _, k := range keys(languages[0]) {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for _, k := range keys(lang) {
			if _, ok := catalogues[languages[0]][k]; !ok {
				t.Errorf("%s has %q, which %s lacks", lang, k, languages[0])
			}
		}
		for _, k := range jsMessages {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s lacks script text %q", lang, k)
			}
		}
	}
	for reason, k := range reasonKeys {
		for _, lang := range languages {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("reason %q maps to %q, which %s lacks", reason, k, lang)
			}
		}
	}
}

func TestLocaleFormats(t *testing.T) {
	da, en := newLocale("da"), newLocale("en")
	d := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{da.Money(425000), "4.250 kr."},
		{en.Money(425000), "DKK 4,250"},
		{da.Money(1234567), "12.345,67 kr."},
		{en.Money(1234567), "DKK 12,345.67"},
		{da.Money(5), "0,05 kr."},
		{da.Int(1234567), "1.234.567"},
		{en.Int(-1234), "-1,234"},
		{da.Int(999), "999"},
		{da.Percent(49.96), "50 %"},
		{da.Percent(21.24), "21,2 %"},
		{en.Percent(21.24), "21.2%"},
		{da.Date(d), "12. marts 2026"},
		{en.Date(d), "12 March 2026"},
		{da.N("progress.days", 1), "1 dag tilbage"},
		{en.N("progress.days", 1200), "1,200 days left"},
		{newLocale("xx").Lang, "da"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestChooseLang(t *testing.T) {
	for _, c := range []struct{ query, cookie, accept, want string }{
		{"", "", "", "da"},
		{"", "", "en-US,en;q=0.9", "en"},
		{"", "", "sv,en;q=0.8", "en"},
		{"", "", "sv", "da"},
		{"", "en", "da", "en"},
		{"da", "en", "en", "da"},
		{"xx", "", "en", "en"},
	} {
		r := httptest.NewRequest("GET", "/?lang="+c.query, nil)
		if c.cookie != "" {
			r.Header.Set("Cookie", langCookie+"="+c.cookie)
		}
		r.Header.Set("Accept-Language", c.accept)
		if got, _ := chooseLang(r); got != c.want {
			t.Errorf("%+v: got %s", c, got)
		}
	}
}

func TestTileSource(t *testing.T) {
	for tmpl, want := range map[string]string{
		"https://tile.openstreetmap.org/{z}/{x}/{y}.png":  "https://tile.openstreetmap.org",
		"https://{s}.tile.example.org/{z}/{x}/{y}{r}.png": "https://*.tile.example.org",
		"/tiles/{z}/{x}/{y}.png":                          "",
		"":                                                "",
		"javascript:alert(1)":                             "",
	} {
		if got := tileSource(tmpl); got != want {
			t.Errorf("%q: got %q, want %q", tmpl, got, want)
		}
	}
}
