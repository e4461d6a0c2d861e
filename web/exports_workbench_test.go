package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// TestAssociationExports: a coordinator downloads the pledges as CSV (a
// hostile name is defused), the subsidy annex as CSV and as a PDF read
// back with pdftotext, and the area with its addresses as GeoJSON. A
// resident's power of attorney, ticked in the pledge form, shows in both.
func TestAssociationExports(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	svc, _ := MustOpenDemoService(t, func() time.Time { return now })
	srv := web.NewServer(svc, web.Config{PledgeRateLimit: -1}, quietLog())
	ctx := context.Background()
	const code = "D002"
	as, err := svc.AreaAddresses(ctx, code, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var free pledge.Address
	for _, a := range as {
		if a.Units == 1 && a.PledgedUnits == 0 {
			free = a
			break
		}
	}
	// The resident pledges in the browser's form, ticking the power of
	// attorney, with a name a spreadsheet would run as a formula.
	cl := newClient(t, srv, "198.51.100.7")
	page := cl.get("/address?id=" + url.QueryEscape(free.ID))
	form := hidden(page.Body.String())
	form.Set("address_id", free.ID)
	form.Set("name", "=HYPERLINK(\"http://evil.example\",\"x\")")
	form.Set("email", "formel@example.dk")
	form.Set("consent", "yes")
	form.Set("power_of_attorney", "yes")
	if w := cl.post("/pledge", form); w.Code != 303 {
		t.Fatalf("pledge: %d %s", w.Code, w.Body)
	}
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "ex@forening.example", Name: "Ex", Role: pledge.RoleCoordinator, Areas: []string{code}})
	tok, _, err := svc.CreateAPIToken(pledge.WithUser(ctx, pledge.SystemUser()), coord.Email, "exports", []pledge.Scope{pledge.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) []byte {
		t.Helper()
		w := getTender(srv, path, "Bearer "+tok)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment;") {
			t.Errorf("%s is not an attachment", path)
		}
		return w.Body.Bytes()
	}

	recs, err := csv.NewReader(strings.NewReader(string(get("/api/areas/" + code + "/export/pledges.csv")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, r := range recs[1:] {
		if r[5] == "formel@example.dk" {
			mine = r
		}
	}
	if mine == nil || mine[4] != "'=HYPERLINK(\"http://evil.example\",\"x\")" || mine[8] != "form" {
		t.Errorf("the pledge's CSV row: %q", mine)
	}

	annex := get("/api/areas/" + code + "/export/subsidy.csv")
	recs, err = csv.NewReader(strings.NewReader(string(annex))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "address_id,address,units,pledged_units,own_payment_dkk,power_of_attorney,complete,rules" {
		t.Errorf("annex header %q", recs[0])
	}
	found := false
	for _, r := range recs[1:] {
		if r[0] == free.ID {
			found = r[3] == "1" && r[5] == "1" && r[6] == "true" && r[7] == "example-2026"
		}
	}
	if !found {
		t.Errorf("the address with a power of attorney is not complete in the annex")
	}

	pdf := get("/api/areas/" + code + "/export/subsidy.pdf?lang=da")
	bin := testenv.Tool(t, "pdftotext", "poppler-utils")
	file := filepath.Join(t.TempDir(), "annex.pdf")
	os.WriteFile(file, pdf, 0o644)
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"Bilag til ansøgning om tilskud", "example-2026", "Mindste egenbetaling pr. husstand", strings.SplitN(free.Text, ",", 2)[0]} {
		if !strings.Contains(text, want) {
			t.Errorf("the annex PDF lacks %q", want)
		}
	}
	if strings.Contains(text, "HYPERLINK") || strings.Contains(text, "formel@example.dk") {
		t.Error("the annex PDF names a resident")
	}

	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(get("/api/areas/"+code+"/export/area.geojson"), &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 1+len(as) || fc.Features[0].Properties["kind"] != "area" {
		t.Errorf("%d features, want %d", len(fc.Features), 1+len(as))
	}

	// The manage page says the power of attorney is on file.
	pl, err := svc.AreaPledges(pledge.WithUser(ctx, &coord), code)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pl {
		if p.Email == "formel@example.dk" {
			if body := cl.get("/p/" + p.Token).Body.String(); !strings.Contains(body, `id="poa-given"`) {
				t.Error("the manage page does not show the power of attorney")
			}
		}
	}
}

// TestDeadlineExtensionAnnounced: a coordinator extends the deadline; the
// area's public pages announce the old and the new date, an event is
// recorded once, and a shortened deadline is no extension.
func TestDeadlineExtensionAnnounced(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	svc, _ := MustOpenDemoService(t, func() time.Time { return now })
	srv := web.NewServer(svc, web.Config{PledgeRateLimit: -1}, quietLog())
	ctx := context.Background()
	const code = "D002"
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "ext@forening.example", Name: "Ex", Role: pledge.RoleCoordinator, Areas: []string{code}})
	cctx := pledge.WithUser(ctx, &coord)
	a, err := svc.Area(ctx, code)
	if err != nil || a.Deadline == nil {
		t.Fatalf("area %+v %v", a, err)
	}
	later := a.Deadline.AddDate(0, 1, 0)
	if _, err := svc.UpdateAreaSettings(cctx, code, pledge.AreaSettings{Deadline: &later}); err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, srv, "198.51.100.9")
	body := cl.get("/").Body.String()
	i := strings.Index(body, `id="area-`+code+`"`)
	if i < 0 || !strings.Contains(body[i:], `data-extended="true"`) {
		t.Fatalf("the home page does not announce the extension")
	}
	months := []string{"", "januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"}
	date := func(d time.Time) string { return fmt.Sprintf("%d. %s %d", d.Day(), months[d.Month()], d.Year()) }
	if want := "Fristen er forlænget fra " + date(*a.Deadline) + " til " + date(later) + "."; !strings.Contains(body, want) {
		t.Errorf("the announcement does not read %q", want)
	}
	// Setting the same deadline again records nothing new; a shorter one
	// is no extension.
	if _, err := svc.UpdateAreaSettings(cctx, code, pledge.AreaSettings{Deadline: &later}); err != nil {
		t.Fatal(err)
	}
	earlier := later.AddDate(0, 0, -3)
	if _, err := svc.UpdateAreaSettings(cctx, code, pledge.AreaSettings{Deadline: &earlier}); err != nil {
		t.Fatal(err)
	}
	exts, err := svc.DeadlineExtensions(ctx)
	if err != nil || !exts[code].To.Equal(later) {
		t.Errorf("extensions %+v %v", exts, err)
	}
}
