package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/pledge"
)

// TestBrowserTenderDay: a coordinator puts D001 out to tender from the
// browser; a provider, on a phone, signs in, sees the tender on the map
// and in the list, downloads the package, bids with a PDF and changes the
// bid; after the deadline the coordinator compares and awards it, and the
// provider sees the outcome.
func TestBrowserTenderDay(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	svc, _ := MustOpenDemoService(t, clock)
	// Sessions outlive the three weeks the test skips over.
	svc.SessionIdle, svc.SessionMaxAge = 90*24*time.Hour, 90*24*time.Hour
	srv := startHandler(t, svc)
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "karen@forening.example", Name: "Karen", Role: pledge.RoleCoordinator, Areas: []string{areaA}})
	prov := mustUser(t, svc, pledge.InviteRequest{Email: "gis@fiber-a.example", Name: "Finn", Role: pledge.RoleProvider, Provider: "Fiber A/S"})
	signIn := func(b *browser, email string) {
		b.open("/login")
		b.waitPage("login", "#login-form")
		b.do("sign in as "+email, chromedp.SendKeys("#email", email), chromedp.SendKeys("#password", authzPassword), chromedp.Click("#login-submit"))
		b.waitPage("account", "#me-email")
	}
	noMissingTexts := func(b *browser, page string) {
		if body := b.eval(`document.body.innerText`); strings.Contains(body, "\u27e6") {
			t.Errorf("%s has a text missing from the catalogue: %q", page, body)
		}
	}

	// The coordinator opens the tender.
	c := newBrowser(t, srv.URL, 1280, 900)
	signIn(c, coord.Email)
	c.do("open the area's dashboard", chromedp.Click(`.account-nav a[href="/coordinator/areas/`+areaA+`"]`))
	c.waitPage("dashboard", "#figures")
	c.do("open the tender page", chromedp.Click(`.area-nav a[href="/coordinator/areas/`+areaA+`/tender"]`))
	c.waitPage("tender page", "#tender-form")
	deadline := clock().AddDate(0, 0, 25).Format(time.DateOnly)
	c.do("put out to tender", chromedp.SetValue("#tender-deadline-input", deadline),
		chromedp.SendKeys("#tender-association-input", "Bårsted Fiberforening"), chromedp.Click("#tender-submit"))
	c.waitPage("opened", "#notice")
	if st := c.eval(`document.querySelector("#tender-status").dataset.status`); st != "tender_open" {
		t.Fatalf("status after opening: %s", st)
	}
	noMissingTexts(c, "the coordinator's tender page")

	// The provider's day, on a phone.
	p := newBrowser(t, srv.URL, 390, 844)
	signIn(p, prov.Email)
	p.do("open the tenders", chromedp.Click("#nav-tenders"))
	p.waitPage("tenders", "#tenders")
	p.do("wait for the map", chromedp.Poll[chromedp.Void](`document.querySelector("#tender-map").dataset.loaded === "true"`, chromedp.WithPollingTimeout(20*time.Second)))
	if n := p.eval(`document.querySelector("#tender-map").dataset.drawn`); n == "" || n == "0" {
		t.Errorf("no tender drawn on the map (%q)", n)
	}
	if st := p.eval(`document.querySelector('#tenders tr[data-code="` + areaA + `"]').dataset.status`); st != "tender_open" {
		t.Errorf("D001 listed as %q", st)
	}
	p.screenshot("tenders")
	noMissingTexts(p, "the tenders page")
	// Filtering by take-up above D001's hides it.
	p.do("filter", chromedp.SendKeys("#f-take-up", "99"), chromedp.Click("#tender-filter-submit"))
	p.waitPage("filtered", "#no-tenders")
	p.open("/provider")
	p.waitPage("tenders", "#tenders")
	p.do("open D001", chromedp.Click(`#tenders a[href="/provider/areas/`+areaA+`"]`))
	p.waitPage("tender", "#bid-form")
	if got := p.text("#tender-association"); got != "Bårsted Fiberforening" {
		t.Errorf("association %q", got)
	}
	// The package downloads with the provider's session.
	if got := p.evalAsync(`fetch(document.querySelector("#package-da").href).then(r => r.status + " " + r.headers.get("Content-Type") + " " + (r.headers.get("Content-Length") || "")).catch(e => String(e))`); !strings.HasPrefix(got, "200 application/zip") {
		t.Errorf("package download: %s", got)
	}
	pdf := filepath.Join(t.TempDir(), "tilbud.pdf")
	if err := os.WriteFile(pdf, offerPDF(t, "Tilbud fra Fiber A/S"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.do("bid", chromedp.SendKeys("#bid-price-input", "25.000"), chromedp.SendKeys("#bid-contribution", "5.000"),
		chromedp.SendKeys("#bid-timeline", "18"), chromedp.Click("#bid-open-access"),
		chromedp.SendKeys("#bid-notes", "Pløjning langs vejene"), chromedp.SetUploadFiles("#bid-file", []string{pdf}),
		chromedp.Click("#bid-submit"))
	p.waitPage("bid saved", "#notice")
	if got := p.text("#bid-price"); got != "25.000 kr." {
		t.Errorf("bid price shown as %q", got)
	}
	if p.eval(`String(!!document.querySelector("#bid-attachment"))`) != "true" {
		t.Error("the PDF is not shown with the bid")
	}
	p.eval(`document.querySelector("#bid-price-input").value = ""; ""`)
	p.submit("change the bid", "#notice", chromedp.SendKeys("#bid-price-input", "24.500"), chromedp.Click("#bid-submit"))
	if got := p.text("#bid-price"); got != "24.500 kr." {
		t.Errorf("changed price shown as %q", got)
	}
	if n := p.eval(`String(document.querySelectorAll("#bid-history tbody tr").length)`); n != "2" {
		t.Errorf("%s versions in the history, want 2", n)
	}
	p.screenshot("bid")
	noMissingTexts(p, "the provider's tender page")

	// After the deadline the coordinator compares and awards.
	mu.Lock()
	now = now.AddDate(0, 0, 27)
	mu.Unlock()
	c.open("/coordinator/areas/" + areaA + "/tender")
	c.waitPage("bids", "#award-form")
	if got := c.text("#bids"); !strings.Contains(got, "Fiber A/S") || !strings.Contains(got, "24.500 kr.") {
		t.Errorf("bids table: %q", got)
	}
	if c.eval(`String(document.querySelectorAll("#bid-chart .bar-row").length)`) != "1" {
		t.Error("no bar in the chart")
	}
	c.screenshot("compare")
	c.do("award", chromedp.Click(`#award-form input[name="bid_id"]`), chromedp.SendKeys("#award-reason", "Laveste pris for husstandene"),
		chromedp.Click("#award-submit"))
	c.waitPage("awarded", "#awarded")
	if st := c.eval(`document.querySelector("#tender-status").dataset.status`); st != "awarded" {
		t.Errorf("status after award: %s", st)
	}

	// The provider sees the outcome.
	p.open("/provider/areas/" + areaA)
	p.waitPage("outcome", "#bid-outcome")
	if st := p.eval(`document.querySelector("#my-bid").dataset.status`); st != "won" {
		t.Errorf("the provider's bid is %q", st)
	}
	if p.eval(`String(!!document.querySelector("#bid-form"))`) != "false" {
		t.Error("the bid form is still offered after the award")
	}
}

// evalAsync evaluates expr and waits for the promise it returns.
func (b *browser) evalAsync(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// submit runs steps that load a new page (a form post) and waits for that
// page to have sel: the old page is marked first, so a sel it has too is
// not taken for the new one.
func (b *browser) submit(what, sel string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.eval(`document.body.dataset.stale = "1"; ""`)
	b.do(what, steps...)
	b.waitPage(what, "body:not([data-stale]) "+sel)
}
