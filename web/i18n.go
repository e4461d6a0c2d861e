package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Languages the pages speak; the first is the default.
var (
	languages   = []string{"da", "en"}
	langMatcher = language.NewMatcher([]language.Tag{language.Danish, language.English})
)

// langCookie remembers the language chosen with the switch.
const langCookie = "kommunity_lang"

// Locale formats texts, numbers, dates and money in one language. Every
// visible string of the pages comes from its catalogue.
type Locale struct {
	Lang string
	msgs map[string]string
}

// newLocale returns the locale of lang, or Danish for an unknown one.
func newLocale(lang string) *Locale {
	m, ok := catalogues[lang]
	if !ok {
		lang, m = languages[0], catalogues[languages[0]]
	}
	return &Locale{Lang: lang, msgs: m}
}

// chooseLang picks the language of a request: the ?lang= of the switch,
// then the remembered choice, then Accept-Language, then Danish.
func chooseLang(r *http.Request) (lang string, fromSwitch bool) {
	if l := r.URL.Query().Get("lang"); catalogues[l] != nil {
		return l, true
	}
	if c, err := r.Cookie(langCookie); err == nil && catalogues[c.Value] != nil {
		return c.Value, false
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return languages[0], false
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return languages[0], false
	}
	return languages[i], false
}

// missing marks a key without a text, so tests can find it.
const missing = "\u27e6%s\u27e7"

// T returns the text of key, formatted with args if any.
func (l *Locale) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		return fmt.Sprintf(missing, key)
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// N returns the singular (key.one) or plural (key.other) text for n; the
// count is formatted as the first argument, then args.
func (l *Locale) N(key string, n int, args ...any) string {
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return l.T(key+form, append([]any{l.Int(n)}, args...)...)
}

// Int formats a whole number with the locale's thousands separator.
func (l *Locale) Int(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := l.T("num.thousands")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Percent formats a percent (0-100) with at most one decimal: "42 %" in
// Danish, "42%" in English.
func (l *Locale) Percent(p float64) string {
	s := strconv.FormatFloat(float64(int64(p*10+0.5))/10, 'f', -1, 64)
	return l.T("num.percent", strings.Replace(s, ".", l.T("num.decimal"), 1))
}

// Money formats an amount in øre as whole kroner when it is whole, else
// with two decimals: "4.250 kr." in Danish, "DKK 4,250" in English.
func (l *Locale) Money(ore int64) string {
	neg := ore < 0
	if neg {
		ore = -ore
	}
	s := l.Int(int(ore / 100))
	if frac := ore % 100; frac != 0 {
		s += l.T("num.decimal") + fmt.Sprintf("%02d", frac)
	}
	if neg {
		s = "-" + s
	}
	return l.T("num.money", s)
}

// Date formats a calendar date: "12. marts 2026", "12 March 2026".
func (l *Locale) Date(t time.Time) string {
	return l.T("date.format", t.Day(), l.T("month."+strconv.Itoa(int(t.Month()))), t.Year())
}

// DateOf formats *t, or "" for nil.
// DateTime is a date with the time of day (UTC), e.g. for sessions.
func (l *Locale) DateTime(t time.Time) string {
	return l.Date(t) + " " + t.UTC().Format("15:04") + " UTC"
}

func (l *Locale) DateOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return l.Date(*t)
}

// jsMessages are the keys the page's script needs, handed to it as JSON.
var jsMessages = []string{
	"num.thousands", "num.decimal", "num.money",
	"price.now", "price.more.one", "price.more.other", "price.at_threshold", "price.curve",
	"search.none", "search.suggestions", "map.loading", "map.nearest", "map.none_near", "map.pledge_here", "map.failed",
	"map.area_tooltip", "address.pledged_of",
	// the walk-list page's map (walks.js)
	"walks.outcome.visited", "walks.outcome.not_home", "walks.outcome.declined", "walks.outcome.pledged_paper",
	"walks.outcome.do_not_knock", "walks.outcome.none", "walks.map.failed", "walks.map.saved", "walks.drive",
}

// JSMessages returns the texts the script needs.
func (l *Locale) JSMessages() map[string]string {
	m := make(map[string]string, len(jsMessages))
	for _, k := range jsMessages {
		m[k] = l.T(k)
	}
	return m
}
