package web_test

// Browser tests: the real server over a real SQLite store with the demo
// municipality, driven in Debian's chromium through chromedp. They skip
// when no chromium is installed, except with CI=true, where they fail.
// A failing test saves a screenshot to $KOMMUNITY_ARTIFACTS (or a temporary
// folder it names); KOMMUNITY_SCREENSHOTS=DIR saves one per step for a
// person to look at.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// chromePath finds the browser: $KOMMUNITY_CHROME, else chromium on PATH.
func chromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KOMMUNITY_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "browser tests need chromium: apt-get install -y chromium fonts-liberation (or set KOMMUNITY_CHROME)")
	return ""
}

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts a fresh headless chromium (its own profile, so its own
// cookies) with a viewport of width x height, asking for Danish pages.
func newBrowser(t *testing.T, base string, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromePath(t)),
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "da-DK"),
		chromedp.Flag("accept-lang", "da-DK,da"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx, base: base}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the screenshot is taken before the
	// browser closes.
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot("failed")
		}
		b.checkConsole()
	})
	return b
}

// checkConsole fails on script exceptions and CSP violations. Failed
// loads (the cost curve answers 404 until the cost model exists) are fine.
func (b *browser) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleException || (m.Type == chromedp.ConsoleError && !strings.Contains(m.Text, "Failed to load resource")) {
			b.t.Errorf("browser console %s: %s", m.Type, m.Text)
		}
	}
}

// screenshot saves the whole page as PNG.
func (b *browser) screenshot(name string) {
	dir := os.Getenv("KOMMUNITY_ARTIFACTS")
	if name != "failed" {
		dir = os.Getenv("KOMMUNITY_SCREENSHOTS")
	}
	if dir == "" && name != "failed" {
		return
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "kommunity-browser-")
		if err != nil {
			return
		}
		dir = d
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name())+"-"+name+".png")
	if err := os.WriteFile(file, buf, 0o644); err == nil {
		b.t.Logf("screenshot: %s", file)
	}
}

// do runs steps with a time limit, failing the test with what was tried.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// waitPage waits until a page that has sel has loaded. It polls from Go
// rather than with one WaitVisible, which can stay attached to the document
// a form post is replacing when the server is slow (a busy CI machine).
func (b *browser) waitPage(what, sel string) {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	expr := `document.readyState === "complete" && !!document.querySelector(` + string(q) + `)`
	deadline := time.Now().Add(45 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: no %s after 45 s (last error: %v)", what, sel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// waitSuggestion waits until the suggestions for all that was typed show
// text first: suggestions for shorter prefixes may show while typing.
func (b *browser) waitSuggestion(typed, text string) {
	b.t.Helper()
	q, _ := json.Marshal(typed)
	want, _ := json.Marshal(text)
	b.do("wait for the suggestion "+text, chromedp.Poll[chromedp.Void](
		`document.querySelector("#q-list").dataset.q === `+string(q)+
			` && (document.querySelector("#q-opt-0 .text") || {}).textContent === `+string(want), chromedp.WithPollingTimeout(10*time.Second)))
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// pledged reads an area's pledged-unit count from the page.
func (b *browser) pledged(code string) int {
	b.t.Helper()
	b.do("wait for area "+code, chromedp.WaitReady(chromedp.CSS("#area-"+code)))
	n, err := strconv.Atoi(b.eval(`document.querySelector("#area-` + code + `").dataset.pledged`))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// startServer serves the residents' pages over a demo store with the real
// clock. wrap, if given, may put handlers in front (stub endpoints).
func startServer(t *testing.T, wrap func(http.Handler) http.Handler) (*httptest.Server, *pledge.Service, pledge.Address) {
	t.Helper()
	svc, m := MustOpenDemoService(t, time.Now)
	// Tiles from a port where nothing listens, as on a machine without
	// internet: the map must work with its vector layers alone.
	cfg := web.Config{PledgeRateLimit: -1, TileURL: "http://127.0.0.1:9/{z}/{x}/{y}.png", TileAttribution: "unreachable tiles"}
	var h http.Handler = web.NewServer(svc, cfg, quietLog())
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// An address whose text has a Danish letter, so typing without accents
	// tests the accent-insensitive search, with one free unit.
	for _, a := range m.Areas {
		as, err := svc.AreaAddresses(context.Background(), a.Code, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ad := range as {
			if ad.Units == 1 && ad.PledgedUnits == 0 && strings.ContainsAny(ad.Text, "æøåÆØÅ") {
				return srv, svc, ad
			}
		}
	}
	t.Fatal("no unpledged single-unit address with æ, ø or å in the demo")
	return nil, nil, pledge.Address{}
}

// pledgeAndWithdraw is the resident's whole journey: search by typing
// without accents, choose from the suggestions, pledge, see the area's
// count move (also after a reload), and withdraw through the manage link.
func pledgeAndWithdraw(t *testing.T, b *browser, addr pledge.Address) {
	b.open("/")
	before := b.pledged(addr.AreaCode)
	b.screenshot("1-home")

	b.do("type in the search", chromedp.SendKeys(chromedp.CSS("#q"), pledge.SearchKey(addr.Text)))
	b.waitSuggestion(pledge.SearchKey(addr.Text), addr.Text)
	b.screenshot("2-suggestions")
	b.do("choose the suggestion", chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	b.waitPage("choose the suggestion", "#pledge-form")
	if got := b.text("#address-text"); got != addr.Text {
		t.Fatalf("address page for %q, want %q", got, addr.Text)
	}

	// First without consent: the error appears beside the checkbox.
	b.do("fill the form",
		chromedp.SendKeys(chromedp.CSS("#name"), "Test Beboer"),
		chromedp.SendKeys(chromedp.CSS("#email"), "test.beboer@example.dk"),
		chromedp.Click(chromedp.CSS("#pledge-submit")))
	b.waitPage("fill the form", "#consent-error")
	if got := b.text("#consent-error"); got != web.Message("da", "err.consent.required") {
		t.Errorf("consent error %q", got)
	}
	if got := b.eval(`document.activeElement.id`); got != "consent" {
		t.Errorf("focus after the error is on %q, want the checkbox", got)
	}
	b.screenshot("3-form-error")
	b.do("consent and send", chromedp.Click(chromedp.CSS("#consent")), chromedp.Click(chromedp.CSS("#pledge-submit")))
	b.waitPage("consent and send", "#manage-link")
	b.screenshot("4-receipt")
	manage := b.eval(`document.querySelector("#manage-link").getAttribute("href")`)
	if !strings.HasPrefix(manage, "/p/") {
		t.Fatalf("manage link %q", manage)
	}
	// The link to keep is shown whole, from the page's own origin.
	if shown, origin := b.eval(`document.querySelector("#manage-link").textContent`), b.eval(`location.origin`); shown != origin+manage {
		t.Errorf("manage link shown as %q, want %q", shown, origin+manage)
	}
	if got := b.pledged(addr.AreaCode); got != before+1 {
		t.Errorf("receipt shows %d pledged, want %d", got, before+1)
	}

	b.open("/")
	if got := b.pledged(addr.AreaCode); got != before+1 {
		t.Errorf("after pledging the home page shows %d pledged, want %d", got, before+1)
	}
	b.do("reload", chromedp.Reload())
	if got := b.pledged(addr.AreaCode); got != before+1 {
		t.Errorf("after a reload %d pledged, want %d", got, before+1)
	}

	b.open(manage)
	if got := b.text("#pledge-address"); got != addr.Text {
		t.Errorf("manage page address %q", got)
	}
	b.screenshot("5-manage")
	b.do("withdraw", chromedp.Click(chromedp.CSS("#withdraw-submit")))
	b.waitPage("withdraw", "#withdrawn")
	b.screenshot("6-withdrawn")
	b.open("/")
	if got := b.pledged(addr.AreaCode); got != before {
		t.Errorf("after withdrawing %d pledged, want %d", got, before)
	}
}

func TestBrowserPledgeAndWithdraw(t *testing.T) {
	chromePath(t)
	srv, _, addr := startServer(t, nil)
	b := newBrowser(t, srv.URL, 1280, 900)
	pledgeAndWithdraw(t, b, addr)
}

func TestBrowserPhone(t *testing.T) {
	chromePath(t)
	srv, _, addr := startServer(t, nil)
	b := newBrowser(t, srv.URL, 360, 740)
	for _, p := range []string{"/", "/address?id=" + url.QueryEscape(addr.ID)} {
		b.open(p)
		if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "360" {
			t.Errorf("%s is %s px wide on a 360 px screen", p, w)
		}
	}
	pledgeAndWithdraw(t, b, addr)
}

// TestBrowserKeyboardOnly pledges with the keyboard alone: Tab to the
// search, type, choose with the arrow keys, Tab through the labelled
// fields in order (the honeypot is never reached), Space, Enter.
func TestBrowserKeyboardOnly(t *testing.T) {
	chromePath(t)
	srv, _, addr := startServer(t, nil)
	b := newBrowser(t, srv.URL, 1024, 800)
	b.open("/")
	tabTo := func(id string, max int) {
		t.Helper()
		for i := 0; i < max; i++ {
			b.do("tab", chromedp.KeyEvent(kb.Tab))
			if b.eval(`document.activeElement.id`) == id {
				return
			}
		}
		t.Fatalf("%d tabs did not reach #%s", max, id)
	}
	tabTo("q", 8)
	b.do("type", chromedp.KeyEvent(pledge.SearchKey(addr.Text)))
	b.waitSuggestion(pledge.SearchKey(addr.Text), addr.Text)
	b.do("choose", chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	b.waitPage("choose", "#pledge-form")
	tabTo("name", 10)
	b.do("type name", chromedp.KeyEvent("Kirsten Tastatur"))
	for _, want := range []string{"email", "phone", "consent", "power-of-attorney", "pledge-submit"} {
		b.do("tab", chromedp.KeyEvent(kb.Tab))
		if got := b.eval(`document.activeElement.id`); got != want {
			t.Fatalf("tab reached %q, want %q", got, want)
		}
		// Every field has a label.
		if want != "pledge-submit" && b.eval(`document.activeElement.labels.length ? "yes" : "no"`) != "yes" {
			t.Errorf("#%s has no label", want)
		}
		switch want {
		case "email":
			b.do("type e-mail", chromedp.KeyEvent("kirsten@example.dk"))
		case "consent":
			b.do("tick", chromedp.KeyEvent(" "))
		}
	}
	b.do("send", chromedp.KeyEvent(kb.Enter))
	b.waitPage("send", "#manage-link")
	if got := b.text("#receipt-text"); !strings.Contains(got, addr.Text) {
		t.Errorf("receipt %q", got)
	}
	tabTo("manage-link", 12)
	b.do("open manage page", chromedp.KeyEvent(kb.Enter))
	b.waitPage("open manage page", "#withdraw-submit")
	if got := b.eval(`document.querySelector("#name").value`); got != "Kirsten Tastatur" {
		t.Errorf("manage page name %q", got)
	}
}

func TestBrowserLanguageSwitch(t *testing.T) {
	chromePath(t)
	srv, _, addr := startServer(t, nil)
	b := newBrowser(t, srv.URL, 1024, 800)
	b.open("/")
	if got := b.eval(`document.documentElement.lang`); got != "da" {
		t.Fatalf("lang %q with a Danish browser", got)
	}
	if got := b.text("h1"); got != web.Message("da", "site.title") {
		t.Errorf("Danish heading %q", got)
	}
	b.do("switch to English", chromedp.Click(chromedp.CSS(`nav.lang a[hreflang="en"]`)),
		chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)))
	if got := b.text("h1"); got != web.Message("en", "site.title") {
		t.Errorf("English heading %q", got)
	}
	if got := b.text("#areas-heading"); got != web.Message("en", "areas.heading") {
		t.Errorf("English areas heading %q", got)
	}
	b.screenshot("english")
	// The choice holds on the next page.
	b.open("/address?id=" + url.QueryEscape(addr.ID))
	if got := b.eval(`document.documentElement.lang`); got != "en" {
		t.Errorf("lang %q after the switch", got)
	}
	if got := b.text(`label[for="name"]`); got != web.Message("en", "form.name") {
		t.Errorf("English label %q", got)
	}
	b.do("switch back", chromedp.Click(chromedp.CSS(`nav.lang a[hreflang="da"]`)),
		chromedp.WaitReady(chromedp.CSS(`html[lang="da"]`)))
	if got := b.text(`label[for="name"]`); got != web.Message("da", "form.name") {
		t.Errorf("Danish label %q", got)
	}
}

// TestBrowserMapAndPrice checks the map draws every area without tiles,
// that a click finds the nearest address, and that the price from the
// cost model (stubbed here in its agreed shape) is shown in the locale.
func TestBrowserMapAndPrice(t *testing.T) {
	chromePath(t)
	var code string
	var above atomic.Bool
	stub := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/areas/"+code+"/cost/curve" {
				w.Header().Set("Content-Type", "application/json")
				// Below the threshold (120 of 250 units): the headline is
				// the price at the threshold; above it, the price now.
				pledged := 120
				if above.Load() {
					pledged = 260
				}
				fmt.Fprintf(w, `{"area_code":%q,"currency":"DKK","threshold_units":250,"points":[{"take_up_percent":50,"units":250,"household_share":425000,"threshold":true},
					{"take_up_percent":100,"units":500,"household_share":300000}],
					"current":{"pledged_units":%d,"household_share":510000},"if_more_join":[{"more_households":12,"household_share":425000}]}`, code, pledged)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv, svc, addr := startServer(t, stub)
	code = addr.AreaCode
	areas, _, err := svc.Areas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL, 1280, 900)
	b.open("/address?id=" + url.QueryEscape(addr.ID))
	b.do("wait for the areas on the map", chromedp.WaitReady(chromedp.CSS(`#map[data-loaded="true"]`)))
	if n := b.eval(`String(document.querySelectorAll("#map path.leaflet-interactive").length)`); n != strconv.Itoa(len(areas)) {
		t.Errorf("%s areas drawn, want %d", n, len(areas))
	}
	// Tiles are asked for at the configured template, and the areas show
	// although none arrives.
	if src := b.eval(`(document.querySelector("#map img.leaflet-tile") || {}).src || ""`); !strings.HasPrefix(src, "http://127.0.0.1:9/16/") {
		t.Errorf("tile requested from %q", src)
	}
	b.do("wait for the price", chromedp.WaitVisible(chromedp.CSS(".price .price-threshold")))
	if got, want := b.text(".price .price-threshold"), "Hvis området når 50 %: ca. 4.250 kr. pr. husstand"; got != want {
		t.Errorf("headline price %q, want %q", got, want)
	}
	if b.eval(`String(!!document.querySelector(".price .price-now"))`) != "false" {
		t.Error("the price at today's few pledges is shown below the threshold")
	}
	if got := b.eval(`document.querySelector(".price .price-curve").getAttribute("aria-label")`); got != "Prisen pr. husstand falder fra 4.250 kr. ved 50 % tilslutning til 3.000 kr., hvis alle er med." {
		t.Errorf("curve %q", got)
	}
	if got, want := b.text(".price .price-more"), "Hvis 12 husstande mere tilmelder sig, falder din andel til 4.250 kr."; got != want {
		t.Errorf("price if more join %q, want %q", got, want)
	}
	// The map is centred on the address: a click in the middle finds it.
	b.do("click the map centre", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		r, err := chromedp.Evaluate[[]float64](`(() => { const m = document.querySelector("#map"); m.scrollIntoView({block: "center"});
			const r = m.getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2]; })()`)(ctx, tg)
		if err != nil {
			return err
		}
		_, err = chromedp.MouseClickXY(r[0], r[1])(ctx, tg)
		return err
	}), chromedp.WaitVisible(chromedp.CSS("#nearest-link")))
	if got := b.text("#nearest-link"); got != addr.Text {
		t.Errorf("nearest address %q, want %q", got, addr.Text)
	}
	b.screenshot("map")
	// Above the threshold the price now is the headline; in English the
	// same price reads in English money.
	above.Store(true)
	b.open("/?lang=en")
	b.do("wait for the English price", chromedp.WaitVisible(chromedp.CSS("#area-"+code+" .price .price-now")))
	if got, want := b.text("#area-"+code+" .price .price-more"), "If 12 more households join, your share falls to DKK 4,250"; got != want {
		t.Errorf("English price %q, want %q", got, want)
	}
}
