package web_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// TestBrowserDashboard: a coordinator signs in and opens their area's
// dashboard: take-up over time against the threshold and the line to it,
// today's figures with both prices, the map of every address, and the
// pledge list searched by a resident's e-mail.
func TestBrowserDashboard(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	svc, _ := MustOpenDemoService(t, clock)
	ctx := context.Background()
	const code = "D002" // below its threshold in the demo
	as, err := svc.AreaAddresses(ctx, code, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Three more pledges over the next three days.
	made := 0
	for _, a := range as {
		if made == 3 {
			break
		}
		if a.PledgedUnits < a.Units {
			mu.Lock()
			now = now.Add(24 * time.Hour)
			mu.Unlock()
			if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: a.ID, Name: "Dorte Dag " + strconv.Itoa(made),
				Email: "dag" + strconv.Itoa(made) + "@example.dk", Consent: true}, ""); err != nil {
				t.Fatal(err)
			}
			made++
		}
	}
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "dash@forening.example", Name: "Dan", Role: pledge.RoleCoordinator, Areas: []string{code}})
	d, err := svc.Dashboard(pledge.WithUser(ctx, &coord), code)
	if err != nil {
		t.Fatal(err)
	}
	srv := startHandler(t, svc)
	b := newBrowser(t, srv.URL, 390, 844)
	b.open("/login")
	b.waitPage("login", "#login-form")
	b.do("sign in", chromedp.SendKeys("#email", coord.Email), chromedp.SendKeys("#password", authzPassword), chromedp.Click("#login-submit"))
	b.waitPage("account", "#me-email")
	b.do("open the dashboard", chromedp.Click(`.account-nav a[href="/coordinator/areas/`+code+`"]`))
	b.waitPage("dashboard", "#figures")
	if got := b.eval(`document.querySelector("#dash-pledged").dataset.pledged`); got != strconv.Itoa(d.Area.PledgedUnits) {
		t.Errorf("pledged shown %s, want %d", got, d.Area.PledgedUnits)
	}
	// The chart has a point per day since the first pledge, and the line
	// to the threshold at the deadline.
	pts := strings.Fields(b.eval(`document.querySelector("#chart-pledged").getAttribute("points")`))
	if len(pts) != len(d.Days) || len(d.Days) < 4 {
		t.Errorf("%d points for %d days", len(pts), len(d.Days))
	}
	if b.eval(`String(!!document.querySelector("#chart-target"))`) != "true" {
		t.Error("no target line")
	}
	if rows := b.eval(`String(document.querySelectorAll("#takeup-table tbody tr").length)`); rows != strconv.Itoa(len(d.Days)) {
		t.Errorf("%s rows in the day table", rows)
	}
	for _, id := range []string{"#dash-price-now", "#dash-price-threshold", "#dash-next"} {
		if got := b.text(id); !strings.Contains(got, "kr.") {
			t.Errorf("%s = %q", id, got)
		}
	}
	b.do("wait for the map", chromedp.Poll[chromedp.Void](`document.querySelector("#area-map").dataset.loaded === "true"`, chromedp.WithPollingTimeout(20*time.Second)))
	if n := b.eval(`document.querySelector("#area-map").dataset.drawn`); n != strconv.Itoa(len(as)) {
		t.Errorf("%s addresses on the map, want %d", n, len(as))
	}
	pledgedOnMap := b.eval(`String(document.querySelectorAll("#area-map path.addr-pledged").length)`)
	now2, err := svc.AreaAddresses(ctx, code, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, a := range now2 {
		if a.PledgedUnits > 0 {
			want++
		}
	}
	if pledgedOnMap != strconv.Itoa(want) {
		t.Errorf("%s pledged addresses on the map, want %d", pledgedOnMap, want)
	}
	b.screenshot("dashboard")
	if body := b.eval(`document.body.innerText`); strings.Contains(body, "\u27e6") {
		t.Errorf("the dashboard has a text missing from the catalogue: %q", body)
	}
	b.submit("search a resident", "#pledge-count", chromedp.SendKeys("#pledge-q", "dag1@example.dk"), chromedp.Click("#pledge-filter-submit"))
	if n := b.eval(`String(document.querySelectorAll("#pledges tbody tr").length)`); n != "1" {
		t.Errorf("%s rows for one e-mail", n)
	}
	if got := b.text("#pledges tbody"); !strings.Contains(got, "Dorte Dag 1") {
		t.Errorf("search result %q", got)
	}
}

// startHandler serves svc's pages with tiles from a port where nothing
// listens, as on a machine without internet.
func startHandler(t *testing.T, svc *pledge.Service) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(web.NewServer(svc, web.Config{PledgeRateLimit: -1, TenderPackage: tenderPackageFor(svc),
		TileURL: "http://127.0.0.1:9/{z}/{x}/{y}.png", TileAttribution: "unreachable tiles"}, quietLog()))
	t.Cleanup(srv.Close)
	return srv
}
