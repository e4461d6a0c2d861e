package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
	"github.com/kommunity/kommunity/web"
)

// walkPDF and walkCSV wire the report package as cmd does.
var (
	walkPDF = func(w io.Writer, a pledge.Area, ws []pledge.Walk, lang string, now time.Time) error {
		return report.WalkPDF(w, a, ws, report.WalkOptions{Lang: lang, Now: now})
	}
	walkCSV = report.WalkCSV
)

func newWalkAPI(t *testing.T) *tenderAPI {
	a := newTenderAPI(t)
	a.srv = web.NewServer(a.svc, web.Config{WalkPDF: walkPDF, WalkCSV: walkCSV}, quietLog())
	return a
}

// TestWalksAPIShape checks the answer of GET /api/areas/{code}/walks key
// by key: the contract is {"walks":[{"id","length_m","stops":[{"seq",
// "address_id","code","lon","lat","units"}]}]}, extra keys allowed.
func TestWalksAPIShape(t *testing.T) {
	a := newWalkAPI(t)
	var raw map[string][]map[string]any
	a.json("GET", "/api/areas/"+areaA+"/walks?size=25", a.coord, "", 200, &raw)
	walks, ok := raw["walks"]
	if !ok || len(raw) != 1 || len(walks) < 2 {
		t.Fatalf("answer = %v", raw)
	}
	ids := map[float64]bool{}
	codes := map[string]bool{}
	for _, w := range walks {
		for _, k := range []string{"id", "length_m", "stops"} {
			if _, ok := w[k]; !ok {
				t.Fatalf("walk lacks %q: %v", k, w)
			}
		}
		id, _ := w["id"].(float64)
		if id <= 0 || ids[id] {
			t.Errorf("walk id %v", w["id"])
		}
		ids[id] = true
		if l, _ := w["length_m"].(float64); l <= 0 {
			t.Errorf("length_m %v", w["length_m"])
		}
		stops, _ := w["stops"].([]any)
		if len(stops) == 0 || len(stops) > 25 {
			t.Fatalf("%d stops, want 1 to 25", len(stops))
		}
		for i, so := range stops {
			s := so.(map[string]any)
			for _, k := range []string{"seq", "address_id", "code", "lon", "lat", "units"} {
				if _, ok := s[k]; !ok {
					t.Fatalf("stop lacks %q: %v", k, s)
				}
			}
			if s["seq"].(float64) != float64(i+1) {
				t.Errorf("seq %v at position %d", s["seq"], i)
			}
			code := s["code"].(string)
			if _, ok := pledge.NormaliseWalkCode(code); !ok || codes[code] {
				t.Errorf("code %q", code)
			}
			codes[code] = true
			if lon, lat := s["lon"].(float64), s["lat"].(float64); lon < 8 || lon > 16 || lat < 54 || lat > 58 {
				t.Errorf("stop at %v, %v", lon, lat)
			}
			if s["units"].(float64) < 1 {
				t.Errorf("units %v", s["units"])
			}
			if _, ok := s["address_id"].(string); !ok {
				t.Errorf("address_id %v", s["address_id"])
			}
		}
	}
	// Every unpledged address of the area is on exactly one walk.
	as, err := a.svc.AreaAddresses(context.Background(), areaA, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, ad := range as {
		if ad.PledgedUnits < ad.Units {
			want = append(want, ad.ID)
		}
	}
	for _, w := range walks {
		for _, so := range w["stops"].([]any) {
			got = append(got, so.(map[string]any)["address_id"].(string))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("walked %d addresses, want the %d unpledged ones", len(got), len(want))
	}
	// The same GET answers the same stored batch.
	var again struct{ Walks []web.WalkJSON }
	a.json("GET", "/api/areas/"+areaA+"/walks?size=25", a.coord, "", 200, &again)
	if len(again.Walks) != len(walks) || float64(again.Walks[0].ID) != walks[0]["id"].(float64) {
		t.Errorf("second GET made another batch")
	}
	// Bad sizes are a clear 400 naming the field.
	for _, q := range []string{"size=0", "size=abc", "size=1", "size=201"} {
		w := a.call("GET", "/api/areas/"+areaA+"/walks?"+q, a.coord, "", nil)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"size"`) {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
}

func TestWalksAPIDay(t *testing.T) {
	a := newWalkAPI(t)
	var made struct{ Walks []web.WalkJSON }
	a.json("POST", "/api/areas/"+areaA+"/walks", a.coord, `{"size":30}`, 201, &made)
	if len(made.Walks) == 0 || made.Walks[0].Batch != 1 {
		t.Fatalf("made %+v", made)
	}
	first := made.Walks[0]
	stop := first.Stops[3]

	// Do not knock, by code; not home, by address id.
	var o web.OutcomeJSON
	a.json("POST", "/api/areas/"+areaA+"/walks/outcomes", a.coord, `{"code":"`+strings.ToLower(stop.Code)+`","outcome":"do_not_knock"}`, 200, &o)
	if o.AddressID != stop.AddressID || !o.DoNotKnock || o.Code != stop.Code {
		t.Errorf("outcome = %+v", o)
	}
	other := first.Stops[4]
	a.json("POST", "/api/areas/"+areaA+"/walks/outcomes", a.coord, `{"address_id":"`+other.AddressID+`","outcome":"not_home"}`, 200, &o)
	var list struct{ Outcomes []web.OutcomeJSON }
	a.json("GET", "/api/areas/"+areaA+"/walks/outcomes", a.coord, "", 200, &list)
	if len(list.Outcomes) != 2 {
		t.Fatalf("outcomes = %+v", list)
	}
	// The outcome shows on the walk.
	var cur struct{ Walks []web.WalkJSON }
	a.json("GET", "/api/areas/"+areaA+"/walks", a.coord, "", 200, &cur)
	if s := cur.Walks[0].Stops[3]; s.Outcome != "do_not_knock" || !s.DoNotKnock {
		t.Errorf("stop after outcome = %+v", s)
	}
	// The next batch leaves the do-not-knock address out.
	var next struct{ Walks []web.WalkJSON }
	a.json("POST", "/api/areas/"+areaA+"/walks", a.coord, `{"size":30}`, 201, &next)
	for _, w := range next.Walks {
		if w.Batch != 2 {
			t.Errorf("batch %d, want 2", w.Batch)
		}
		for _, s := range w.Stops {
			if s.AddressID == stop.AddressID {
				t.Errorf("do-not-knock address %s on the next batch", s.AddressID)
			}
			if s.AddressID == other.AddressID && !strings.HasPrefix(s.Code, "2W") {
				t.Errorf("code %s in batch 2", s.Code)
			}
		}
	}

	// Assign, conflict, return.
	id := itoa(next.Walks[0].ID)
	var w web.WalkJSON
	a.json("POST", "/api/walks/"+id+"/assign", a.coord, `{"volunteer":"Kirsten Ødegaard","days":5}`, 200, &w)
	if !w.Taken || w.AssignedTo != "Kirsten Ødegaard" || w.ExpiresAt == nil || !w.ExpiresAt.Equal(a.clock().AddDate(0, 0, 5)) {
		t.Errorf("assigned = %+v", w)
	}
	if r := a.call("POST", "/api/walks/"+id+"/assign", a.coord, "application/json", strings.NewReader(`{"volunteer":"Bo"}`)); r.Code != 409 {
		t.Errorf("assign a taken walk: %d %s", r.Code, r.Body)
	}
	if r := a.call("POST", "/api/walks/"+id+"/assign", a.coord, "application/json", strings.NewReader(`{"volunteer":"","days":5}`)); r.Code != 400 || !strings.Contains(r.Body.String(), `"field":"volunteer"`) {
		t.Errorf("assign without a name: %d %s", r.Code, r.Body)
	}
	a.json("POST", "/api/walks/"+id+"/return", a.coord, "", 200, &w)
	if w.Taken || w.ReturnedAt == nil {
		t.Errorf("returned = %+v", w)
	}
	// A read-only token lists but does not change.
	sys := pledge.WithUser(context.Background(), pledge.SystemUser())
	ro, _, err := a.svc.CreateAPIToken(sys, "co@forening.example", "read only", []pledge.Scope{pledge.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	a.json("GET", "/api/areas/"+areaA+"/walks", ro, "", 200, nil)
	if r := a.call("POST", "/api/areas/"+areaA+"/walks", ro, "application/json", strings.NewReader(`{"size":30}`)); r.Code != 403 {
		t.Errorf("read-only token generates: %d", r.Code)
	}

	// CSV: every stop of the latest batch, codes and addresses.
	r := a.call("GET", "/api/areas/"+areaA+"/walks.csv", a.coord, "", nil)
	if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Code, r.Header())
	}
	rows, err := csv.NewReader(r.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, wk := range next.Walks {
		n += len(wk.Stops)
	}
	if len(rows) != n+1 || rows[1][2] != next.Walks[0].Stops[0].Code || rows[1][4] != next.Walks[0].Stops[0].Text {
		t.Errorf("csv: %d rows for %d stops; first %v", len(rows), n, rows[1])
	}

	// The PDF, read back with pdftotext: codes and addresses.
	r = a.call("GET", "/api/areas/"+areaA+"/walks.pdf?lang=en&size=30", a.coord, "", nil)
	if r.Code != 200 || r.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %s", r.Code, r.Body)
	}
	text := pdfToText(t, r.Body.Bytes())
	for _, s := range next.Walks[0].Stops {
		street, _, _ := strings.Cut(s.Text, ",")
		if !strings.Contains(text, s.Code) || !strings.Contains(text, street) {
			t.Errorf("PDF lacks %s %s", s.Code, street)
		}
	}
	if r := a.call("GET", "/api/areas/"+areaA+"/walks.pdf?lang=xx", a.coord, "", nil); r.Code != 400 {
		t.Errorf("pdf in xx: %d", r.Code)
	}
}

func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool := testenv.Tool(t, "pdftotext", "poppler-utils")
	p := filepath.Join(t.TempDir(), "w.pdf")
	if err := os.WriteFile(p, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestWalksPage drives the coordinator's page with its forms: make walks,
// record an outcome by typing a code, give a walk to a volunteer and take
// it back; the volunteer's name is on the coordinator's page only.
func TestWalksPage(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc, _ := MustOpenDemoService(t, func() time.Time { return now })
	// Every log line, at every level, to check that no volunteer's name
	// is in one.
	var logs bytes.Buffer
	srv := web.NewServer(svc, web.Config{WalkPDF: walkPDF, WalkCSV: walkCSV}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	u := mustUser(t, svc, pledge.InviteRequest{Email: "co@forening.example", Name: "Co", Role: pledge.RoleCoordinator, Areas: []string{areaA}})
	cl := newClient(t, srv, "198.51.100.7")
	if w := cl.postJSON("/api/session", `{"email":"`+u.Email+`","password":"`+authzPassword+`"}`); w.Code != 200 {
		t.Fatalf("sign in: %d", w.Code)
	}
	page := "/coordinator/areas/" + areaA + "/walks"
	w := cl.get(page + "?lang=en")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="no-walks"`) || !strings.Contains(w.Body.String(), `<html lang="en">`) {
		t.Fatalf("empty page: %d %s", w.Code, w.Body)
	}
	csrf := hidden(w.Body.String()).Get("csrf_token")
	form := func(path string, v url.Values) *http.Response {
		v.Set("csrf_token", csrf)
		return cl.post(path, v).Result()
	}
	// Without the CSRF token nothing happens.
	if r := cl.post(page, url.Values{"size": {"20"}}); r.Code != 403 {
		t.Errorf("generate without CSRF: %d", r.Code)
	}
	if r := form(page, url.Values{"size": {"20"}}); r.StatusCode != 303 {
		t.Fatalf("generate: %d", r.StatusCode)
	}
	ws, err := svc.Walks(pledge.WithUser(context.Background(), &u), areaA)
	if err != nil || len(ws) == 0 {
		t.Fatalf("walks after the form: %v, %v", ws, err)
	}
	body := cl.get(page + "?lang=da").Body.String()
	for _, want := range []string{`id="walks-pdf"`, "/api/areas/" + areaA + "/walks.pdf?size=20&amp;lang=da", ws[0].Stops[0].Code, `id="walk-map"`, "walks.js"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Record by code: the form keeps the outcome for the next form.
	code := ws[0].Stops[1].Code
	r := form(page+"/outcome", url.Values{"code": {strings.ToLower(code)}, "outcome": {"declined"}})
	if r.StatusCode != 303 {
		t.Fatalf("record: %d", r.StatusCode)
	}
	loc := r.Header.Get("Location")
	body = cl.get(loc).Body.String()
	if !strings.Contains(body, `id="recorded"`) || !strings.Contains(body, code) || !strings.Contains(body, `<option value="declined" selected>`) {
		t.Errorf("after recording (%s): %s", loc, body)
	}
	outs, _ := svc.AddressOutcomes(pledge.WithUser(context.Background(), &u), areaA)
	if outs[ws[0].Stops[1].Address.ID].Outcome != pledge.OutcomeDeclined {
		t.Errorf("outcomes = %v", outs)
	}
	// A bad code shows the page again with the error at the field.
	if r := cl.post(page+"/outcome", url.Values{"csrf_token": {csrf}, "code": {"nope"}, "outcome": {"visited"}}); r.Code != 400 ||
		!strings.Contains(r.Body.String(), `id="code-error"`) || !strings.Contains(r.Body.String(), `value="nope"`) {
		t.Errorf("bad code: %d", r.Code)
	}
	// Assign and return.
	id := itoa(ws[0].ID)
	if r := form("/coordinator/walks/"+id+"/assign", url.Values{"volunteer": {"Kirsten Ødegaard"}, "days": {"7"}}); r.StatusCode != 303 {
		t.Fatalf("assign: %d", r.StatusCode)
	}
	body = cl.get(page).Body.String()
	if !strings.Contains(body, "Kirsten Ødegaard") || !strings.Contains(body, `id="return-`+id+`"`) {
		t.Errorf("page after assigning lacks the volunteer")
	}
	if r := cl.post("/coordinator/walks/"+id+"/assign", url.Values{"csrf_token": {csrf}, "volunteer": {"Bo"}}); r.Code != 409 || !strings.Contains(r.Body.String(), `id="form-error"`) {
		t.Errorf("assign a taken walk: %d", r.Code)
	}
	if r := form("/coordinator/walks/"+id+"/return", url.Values{}); r.StatusCode != 303 {
		t.Fatalf("return: %d", r.StatusCode)
	}
	if body := cl.get(page).Body.String(); strings.Contains(body, "Kirsten") {
		t.Errorf("returned walk still shows the volunteer")
	}
	if logs.Len() == 0 {
		t.Error("no log lines: the check below proves nothing")
	}
	if strings.Contains(logs.String(), "Kirsten") || strings.Contains(logs.String(), "degaard") {
		t.Errorf("a log line has the volunteer's name:\n%s", logs.String())
	}
	// Never on a public page.
	for _, p := range []string{"/", "/api/areas/" + areaA, "/search?q=ba"} {
		if b := newClient(t, srv, "198.51.100.8").get(p).Body.String(); strings.Contains(b, "Kirsten") {
			t.Errorf("%s shows the volunteer's name", p)
		}
	}
}

// walkState is the fixture area's walks and outcomes, for the
// catalogue's check that a refused request changed nothing.
func (f *catalogueFixture) walkState(t *testing.T) string {
	t.Helper()
	sys := pledge.WithUser(context.Background(), pledge.SystemUser())
	ws, err := f.svc.Walks(sys, f.addr.AreaCode)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := f.svc.AddressOutcomes(sys, f.addr.AreaCode)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{ws, outs})
	return string(b)
}

// walkCases are hostile walk-list requests: each is refused with its
// field and changes no walk, outcome or audit entry.
func (f *catalogueFixture) walkCases() []hostile {
	code := f.addr.AreaCode
	sys := pledge.WithUser(context.Background(), pledge.SystemUser())
	ws, err := f.svc.GenerateWalks(sys, code, 10)
	if err != nil || len(ws) == 0 {
		panic(fmt.Sprintf("catalogue walks: %v", err))
	}
	id := strconv.FormatInt(ws[0].ID, 10)
	stop := ws[0].Stops[0].Code
	var elsewhere string
	for _, a := range f.m.Areas {
		if a.Code != code {
			as, _ := f.svc.AreaAddresses(context.Background(), a.Code, nil, 1)
			if len(as) > 0 {
				elsewhere = as[0].ID
				break
			}
		}
	}
	auth := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	}
	walks, outcomes := "/api/areas/"+code+"/walks", "/api/areas/"+code+"/walks/outcomes"
	return []hostile{
		{name: "WalksSizeNotANumber", method: "GET", path: walks + "?size=abc", header: auth(f.coordToken), status: 400, field: "size"},
		{name: "WalksSizeHuge", method: "GET", path: walks + "?size=99999999999999999999", header: auth(f.coordToken), status: 400, field: "size"},
		{name: "WalksSizeNegativePDF", method: "GET", path: walks + ".pdf?size=-3", header: auth(f.coordToken), status: 400, field: "size"},
		{name: "WalksPDFUnknownLang", method: "GET", path: walks + ".pdf?lang=xx%27%3Cscript%3E", header: auth(f.adminToken), status: 400, field: "lang", reject: []string{"<script>"}},
		{name: "WalksPostSizeString", method: "POST", path: walks, header: auth(f.coordToken), status: 400, field: "size", body: `{"size":"40"}`, check: noGoTypes},
		{name: "WalksPostSizeZero", method: "POST", path: walks, header: auth(f.coordToken), status: 400, field: "size", body: `{"size":0}`},
		{name: "WalksPostSizeAboveMax", method: "POST", path: walks, header: auth(f.coordToken), status: 400, field: "size", body: `{"size":100000}`},
		{name: "WalksPostUnknownField", method: "POST", path: walks, header: auth(f.coordToken), status: 400, body: `{"size":40,"area":"D002"}`},
		{name: "WalksPostReadToken", method: "POST", path: walks, header: auth(f.adminToken), status: 403, body: `{"size":40}`},
		{name: "WalksPostProvider", method: "POST", path: walks, header: auth(f.bidToken), status: 403, body: `{"size":40}`},
		{name: "WalksListAdminScopeOnly", method: "GET", path: walks, header: auth(f.coordToken), status: 403},
		{name: "WalksPostAnonymous", method: "POST", path: walks, header: map[string]string{"Content-Type": "application/json"}, status: 401, body: `{"size":40}`},
		{name: "OutcomeUnknown", method: "POST", path: outcomes, header: auth(f.coordToken), status: 400, field: "outcome", body: `{"code":"` + stop + `","outcome":"maybe"}`},
		{name: "OutcomeNumber", method: "POST", path: outcomes, header: auth(f.coordToken), status: 400, field: "outcome", body: `{"code":"` + stop + `","outcome":1}`},
		{name: "OutcomeCodeInjection", method: "POST", path: outcomes, header: auth(f.coordToken), status: 400, field: "code", body: `{"code":"1W1-01' OR 1=1 --","outcome":"visited"}`},
		{name: "OutcomeCodeUnknown", method: "POST", path: outcomes, header: auth(f.coordToken), status: 404, body: `{"code":"99W9-99","outcome":"visited"}`},
		{name: "OutcomeCodeAndAddress", method: "POST", path: outcomes, header: auth(f.coordToken), status: 400, field: "code", body: `{"code":"` + stop + `","address_id":"` + f.addr.ID + `","outcome":"visited"}`},
		{name: "OutcomeAddressOtherArea", method: "POST", path: outcomes, header: auth(f.coordToken), status: 400, field: "address_id", body: `{"address_id":"` + elsewhere + `","outcome":"visited"}`},
		{name: "OutcomeNeither", method: "POST", path: outcomes, header: auth(f.coordToken), status: 400, field: "code", body: `{"outcome":"visited"}`},
		{name: "OutcomeReadToken", method: "POST", path: outcomes, header: auth(f.adminToken), status: 403, body: `{"code":"` + stop + `","outcome":"visited"}`},
		{name: "AssignInvisibleName", method: "POST", path: "/api/walks/" + id + "/assign", header: auth(f.coordToken), status: 400, field: "volunteer", body: `{"volunteer":"Bo\u202e"}`},
		{name: "AssignLongName", method: "POST", path: "/api/walks/" + id + "/assign", header: auth(f.coordToken), status: 400, field: "volunteer", body: `{"volunteer":"` + strings.Repeat("x", 101) + `"}`},
		{name: "AssignNoName", method: "POST", path: "/api/walks/" + id + "/assign", header: auth(f.coordToken), status: 400, field: "volunteer", body: `{"volunteer":"   "}`},
		{name: "AssignDaysHuge", method: "POST", path: "/api/walks/" + id + "/assign", header: auth(f.coordToken), status: 400, field: "days", body: `{"volunteer":"Bo","days":1000}`},
		{name: "AssignDaysString", method: "POST", path: "/api/walks/" + id + "/assign", header: auth(f.coordToken), status: 400, field: "days", body: `{"volunteer":"Bo","days":"7"}`},
		{name: "AssignIDNotANumber", method: "POST", path: "/api/walks/1e3/assign", header: auth(f.coordToken), status: 404, body: `{"volunteer":"Bo"}`},
		{name: "AssignReadToken", method: "POST", path: "/api/walks/" + id + "/assign", header: auth(f.adminToken), status: 403, body: `{"volunteer":"Bo"}`},
		{name: "ReturnNotTaken", method: "POST", path: "/api/walks/" + id + "/return", header: auth(f.coordToken), status: 409},
		{name: "WalksFormAnonymous", method: "POST", path: "/coordinator/areas/" + code + "/walks/outcome", status: 303,
			form: url.Values{"code": {stop}, "outcome": {"do_not_knock"}}},
		{name: "WalksFormForgedCSRF", method: "POST", path: "/coordinator/walks/" + id + "/assign", status: 403,
			form: url.Values{"volunteer": {"Bo"}}, csrf: str("forged")},
	}
}
