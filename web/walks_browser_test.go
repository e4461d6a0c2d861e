package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
	"github.com/paulmach/orb"
)

// TestBrowserWalks: a coordinator on a phone records one outcome by
// typing its code and pressing Enter, and another by clicking the
// address on the walk map; both reach the store.
func TestBrowserWalks(t *testing.T) {
	svc, _ := MustOpenDemoService(t, time.Now)
	srv := httptest.NewServer(web.NewServer(svc, web.Config{PledgeRateLimit: -1, WalkPDF: walkPDF, WalkCSV: walkCSV,
		TileURL: "http://127.0.0.1:9/{z}/{x}/{y}.png", TileAttribution: "unreachable tiles"}, quietLog()))
	t.Cleanup(srv.Close)
	u := mustUser(t, svc, pledge.InviteRequest{Email: "co@forening.example", Name: "Co", Role: pledge.RoleCoordinator, Areas: []string{areaA}})
	ctx := pledge.WithUser(context.Background(), &u)
	// An imported address text with markup: the map shows it as text.
	as, err := svc.AreaAddresses(ctx, areaA, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := as[0].Point
	hostile := pledge.Records{{ID: "markup-1", Text: `<img id="injected" src="x">Markupvej 1`, Point: orb.Point{p[0] + 0.0003, p[1]}, Units: 1}}
	if _, err := svc.ImportAddresses(sysCtx(), &hostile, pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	ws, err := svc.GenerateWalks(ctx, areaA, 20)
	if err != nil {
		t.Fatal(err)
	}
	typed, clicked := ws[0].Stops[2], ws[1].Stops[5]

	b := newBrowser(t, srv.URL, 390, 844)
	b.open("/login?next=/coordinator/areas/" + areaA + "/walks")
	b.waitPage("login page", "#login-form")
	b.do("sign in", chromedp.SendKeys("#email", u.Email), chromedp.SendKeys("#password", authzPassword), chromedp.Click("#login-submit"))
	b.waitPage("walks page", "#outcome-form")
	b.do("type a code and press Enter", chromedp.SetValue("#outcome", "declined"), chromedp.SendKeys("#code", typed.Code+"\r"))
	b.waitPage("recorded", "#recorded")
	b.do("map loaded", chromedp.WaitReady(`#walk-map[data-loaded="true"]`))
	b.do("click the address on the map",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('path[data-code="`+clicked.Code+`"]').dispatchEvent(new MouseEvent("click", {bubbles: true}))`),
		chromedp.WaitVisible(`.outcome-button[data-outcome="do_not_knock"]`),
		chromedp.Click(`.outcome-button[data-outcome="do_not_knock"]`),
		chromedp.WaitReady(`path[data-code="`+clicked.Code+`"][data-outcome="do_not_knock"]`))
	var markup string
	for _, w := range ws {
		for _, s := range w.Stops {
			if s.Address.ID == "markup-1" {
				markup = s.Code
			}
		}
	}
	if markup == "" {
		t.Fatal("the address with markup is on no walk")
	}
	b.do("hover the address with markup",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('path[data-code="`+markup+`"]').dispatchEvent(new MouseEvent("mouseover", {bubbles: true}))`),
		chromedp.WaitVisible(`.leaflet-tooltip`))
	if n := b.eval(`String(document.querySelectorAll("#injected").length)`); n != "0" {
		t.Error("an address text's markup became an element")
	}
	if tip := b.eval(`Array.from(document.querySelectorAll(".leaflet-tooltip")).map(e => e.textContent).join(" | ")`); !strings.Contains(tip, `<img id="injected"`) {
		t.Errorf("tooltip %q, want the text as written", tip)
	}
	b.screenshot("walks")
	outs, err := svc.AddressOutcomes(ctx, areaA)
	if err != nil {
		t.Fatal(err)
	}
	if o := outs[typed.Address.ID]; o.Outcome != pledge.OutcomeDeclined || o.Code != typed.Code {
		t.Errorf("typed outcome = %+v", o)
	}
	if o := outs[clicked.Address.ID]; o.Outcome != pledge.OutcomeDoNotKnock || !o.DoNotKnock {
		t.Errorf("clicked outcome = %+v", o)
	}
}
