package web_test

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
)

// TestBrowserCoordinatorDay: a coordinator signs in, sees the dashboard
// and its chart, prints a walk list (the PDF read back with pdftotext),
// records an outcome, enters a paper pledge by its code, places the POP
// on the map, extends the deadline, and watches the count and the
// extension on the public page.
func TestBrowserCoordinatorDay(t *testing.T) {
	svc, _ := MustOpenDemoService(t, time.Now)
	ctx := context.Background()
	const code = "D002"
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "dag@forening.example", Name: "Dagny", Role: pledge.RoleCoordinator, Areas: []string{code}})
	// A neighbour reports a ruin from the address page.
	as, err := svc.AreaAddresses(ctx, code, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ruin pledge.Address
	for _, a := range as {
		if a.PledgedUnits == 0 {
			ruin = a
		}
	}
	ch, _, err := svc.ReportChallenge(ctx, pledge.ChallengeRequest{AddressID: ruin.ID, Kind: pledge.ChallengeRuin, Note: "Huset er revet ned"})
	if err != nil {
		t.Fatal(err)
	}
	srv := startHandler(t, svc)
	pub := newBrowser(t, srv.URL, 390, 844)
	pub.open("/")
	pub.waitPage("home", "#area-"+code)
	before := pub.pledged(code)

	b := newBrowser(t, srv.URL, 1280, 900)
	b.open("/login")
	b.waitPage("login", "#login-form")
	b.do("sign in", chromedp.SendKeys("#email", coord.Email), chromedp.SendKeys("#password", authzPassword), chromedp.Click("#login-submit"))
	b.waitPage("account", "#me-email")
	b.do("open the dashboard", chromedp.Click(`.account-nav a[href="/coordinator/areas/`+code+`"]`))
	b.waitPage("dashboard", "#figures")
	if b.eval(`String(!!document.querySelector("#chart-pledged"))`) != "true" {
		t.Error("no chart on the dashboard")
	}

	// Walks of 8, printed.
	b.do("open the walks", chromedp.Click("#nav-walks"))
	b.waitPage("walks", "#generate-form")
	b.eval(`document.querySelector("#size").value = "8"; ""`)
	b.submit("make walks", "#walks-pdf", chromedp.Click("#generate-submit"))
	pdf64 := b.evalAsync(`fetch(document.querySelector("#walks-pdf").href).then(r => r.arrayBuffer()).then(b => {
		let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`)
	pdf, err := base64.StdEncoding.DecodeString(pdf64)
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("walk list is not a PDF (%d bytes, %v)", len(pdf), err)
	}
	file := filepath.Join(t.TempDir(), "walks.pdf")
	os.WriteFile(file, pdf, 0o644)
	out, err := exec.Command(testenv.Tool(t, "pdftotext", "poppler-utils"), "-layout", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	walks, err := svc.Walks(pledge.WithUser(ctx, &coord), code)
	if err != nil || len(walks) < 2 {
		t.Fatalf("walks %d, %v", len(walks), err)
	}
	first, second := walks[0].Stops[0], walks[0].Stops[1]
	if !strings.Contains(string(out), first.Code) || !strings.Contains(string(out), second.Code) {
		t.Errorf("the printed walk list lacks the codes %s and %s", first.Code, second.Code)
	}

	// The volunteers are back: one not at home, one signed on paper.
	b.eval(`document.querySelector("#code").value = ""; document.querySelector("#outcome").value = "not_home"; ""`)
	b.submit("record an outcome", "#recorded", chromedp.SendKeys("#code", first.Code+"\n"))
	if oc, _ := svc.AddressOutcomes(pledge.WithUser(ctx, &coord), code); oc[first.Address.ID].Outcome != pledge.OutcomeNotHome {
		t.Errorf("outcome of %s: %+v", first.Code, oc[first.Address.ID])
	}
	b.open("/coordinator/areas/" + code)
	b.do("wait for the dashboard map", chromedp.Poll[chromedp.Void](`document.querySelector("#area-map").dataset.loaded === "true"`, chromedp.WithPollingTimeout(20*time.Second)))
	if n := b.eval(`String(document.querySelectorAll("#area-map path.addr-not-home").length)`); n != "1" {
		t.Errorf("%s addresses not at home on the dashboard map, want 1", n)
	}
	b.open("/coordinator/areas/" + code + "/entry")
	b.waitPage("entry", "#entry-form")
	b.do("the batch", chromedp.SendKeys("#entry-batch", "Kirkevej, lørdag"))
	b.submit("enter a paper pledge by code", "#notice", chromedp.SendKeys("#entry-code", strings.ToLower(second.Code)),
		chromedp.SendKeys("#entry-name", "Poul Papir"), chromedp.SendKeys("#entry-phone", "20304050"),
		chromedp.Click("#entry-poa"), chromedp.SendKeys("#entry-phone", "\n"))
	if n := b.eval(`String(document.querySelectorAll("#batch tbody tr").length)`); n != "1" {
		t.Errorf("%s pledges in the batch", n)
	}
	if got := b.eval(`document.activeElement.id`); got != "entry-code" {
		t.Errorf("after saving the cursor is on %q, not the code", got)
	}

	// The challenge: accepted, so the ruin's households leave the
	// threshold's denominator.
	unitsBefore := mustArea(t, svc, code).Units
	b.open("/coordinator/areas/" + code)
	b.waitPage("dashboard", "#nav-challenges")
	b.do("open the challenges", chromedp.Click("#nav-challenges"))
	b.waitPage("challenges", "#challenges")
	id := strconv.FormatInt(ch.ID, 10)
	b.submit("accept the challenge", "#notice", chromedp.SendKeys("#reason-"+id, "Set på stedet"),
		chromedp.Click(`#challenge-`+id+` button[value="accept"]`))
	if st := b.eval(`document.querySelector("#challenge-` + id + `").dataset.status`); st != "accepted" {
		t.Errorf("challenge is %q", st)
	}
	if got := mustArea(t, svc, code).Units; got != unitsBefore-ruin.Units {
		t.Errorf("eligible units %d -> %d, want %d fewer", unitsBefore, got, ruin.Units)
	}

	// The settings: the POP by a click, then a later deadline.
	b.open("/coordinator/areas/" + code + "/settings")
	b.waitPage("settings", "#cost-form")
	b.do("wait for the POP map", chromedp.Poll[chromedp.Void](`document.querySelector("#pop-map").dataset.loaded === "true"`, chromedp.WithPollingTimeout(20*time.Second)))
	b.do("click the map", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		r, err := chromedp.Evaluate[[]float64](`(() => { const m = document.querySelector("#pop-map"); m.scrollIntoView({block: "center"});
			const r = m.getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2]; })()`)(ctx, tg)
		if err != nil {
			return err
		}
		_, err = chromedp.MouseClickXY(r[0], r[1])(ctx, tg)
		return err
	}))
	if b.eval(`document.querySelector("#c-pop-lon").value`) == "" {
		t.Fatal("a click on the map did not place the POP")
	}
	b.submit("save the cost model", "#notice", chromedp.Click("#cost-submit"))
	if cp, stored, _ := svc.CostParams(ctx, code); !stored || cp.POP == nil {
		t.Errorf("the POP was not stored: %+v", cp.POP)
	}
	a, _ := svc.Area(ctx, code)
	later := a.Deadline.AddDate(0, 0, 30).Format(time.DateOnly)
	b.eval(`document.querySelector("#s-deadline").value = "` + later + `"; ""`)
	b.submit("extend the deadline", "#notice", chromedp.Click("#settings-submit"))
	b.screenshot("settings")

	// The public page: one more household, and the extension announced.
	pub.open("/")
	pub.waitPage("home", "#area-"+code)
	if after := pub.pledged(code); after != before+1 {
		t.Errorf("public count %d -> %d, want one more", before, after)
	}
	if got := pub.text("#area-" + code + " .extended"); !strings.Contains(got, "forlænget") || !strings.Contains(got, strconv.Itoa(a.Deadline.AddDate(0, 0, 30).Year())) {
		t.Errorf("the extension reads %q", got)
	}
}

func mustArea(t *testing.T, svc *pledge.Service, code string) pledge.Area {
	t.Helper()
	a, err := svc.Area(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
