package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// tenderAPI is a demo server with a settable clock and API tokens for a
// coordinator of D001, two providers of different companies and an admin.
type tenderAPI struct {
	t                          *testing.T
	svc                        *pledge.Service
	srv                        *web.Server
	mu                         sync.Mutex
	now                        time.Time
	coord, provA, provB, admin string
}

func (a *tenderAPI) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *tenderAPI) advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

func newTenderAPI(t *testing.T) *tenderAPI {
	a := &tenderAPI{t: t, now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	svc, _ := MustOpenDemoService(t, a.clock)
	a.svc = svc
	a.srv = web.NewServer(svc, web.Config{TenderPackage: tenderPackageFor(svc)}, quietLog())
	sys := pledge.WithUser(context.Background(), pledge.SystemUser())
	token := func(r pledge.InviteRequest, scopes ...pledge.Scope) string {
		u := mustUser(t, svc, r)
		tok, _, err := svc.CreateAPIToken(sys, u.Email, "script", scopes)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a.coord = token(pledge.InviteRequest{Email: "co@forening.example", Name: "Co", Role: pledge.RoleCoordinator, Areas: []string{areaA}}, pledge.ScopeAdmin, pledge.ScopeRead)
	a.provA = token(pledge.InviteRequest{Email: "gis@fiber-a.example", Name: "A", Role: pledge.RoleProvider, Provider: "Fiber A/S"}, pledge.ScopeBid, pledge.ScopeRead)
	a.provB = token(pledge.InviteRequest{Email: "gis@net-b.example", Name: "B", Role: pledge.RoleProvider, Provider: "Net B ApS"}, pledge.ScopeBid, pledge.ScopeRead)
	a.admin = token(pledge.InviteRequest{Email: "ad@kommune.example", Name: "Ad", Role: pledge.RoleAdmin}, pledge.ScopeAdmin, pledge.ScopeRead)
	return a
}

func (a *tenderAPI) call(method, path, token, contentType string, body io.Reader) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	a.srv.ServeHTTP(w, req)
	return w
}

func (a *tenderAPI) json(method, path, token, body string, want int, out any) {
	a.t.Helper()
	w := a.call(method, path, token, "application/json", strings.NewReader(body))
	if w.Code != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			a.t.Fatal(err)
		}
	}
}

// bid sends a multipart bid (with attachment when pdf is not nil).
func (a *tenderAPI) bid(method, path, token, bid string, pdf []byte) *httptest.ResponseRecorder {
	a.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("bid", bid)
	if pdf != nil {
		fw, _ := mw.CreateFormFile("attachment", "tilbud.pdf")
		fw.Write(pdf)
	}
	mw.Close()
	return a.call(method, path, token, mw.FormDataContentType(), &b)
}

// offerPDF is a real PDF made with fpdf, the provider's offer letter.
func offerPDF(t *testing.T, text string) []byte {
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(40, 10, text)
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type bidsAnswer struct {
	Tender *web.TenderJSON `json:"tender"`
	Bids   []web.BidJSON   `json:"bids"`
}

func TestTenderAPIProviderDay(t *testing.T) {
	a := newTenderAPI(t)
	var list struct {
		Tenders []web.TenderAreaJSON `json:"tenders"`
	}
	a.json("GET", "/api/tenders", a.provA, "", 200, &list)
	if len(list.Tenders) == 0 || list.Tenders[0].Code != areaA || list.Tenders[0].Tender != nil {
		t.Fatalf("before opening: %+v", list.Tenders)
	}
	// Opening: 21 days at least; then extended.
	w := a.call("POST", "/api/areas/"+areaA+"/tender", a.coord, "application/json", strings.NewReader(`{"deadline":"2026-12-20"}`))
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"deadline"`) {
		t.Fatalf("20 days: %d %s", w.Code, w.Body)
	}
	var opened web.TenderAreaJSON
	a.json("POST", "/api/areas/"+areaA+"/tender", a.coord, `{"deadline":"2026-12-24","association":"Bårsted Fiberforening","contact":"Karen, 20 30 40 50"}`, 200, &opened)
	if opened.Status != "tender_open" || opened.Tender == nil || opened.Tender.Deadline != "2026-12-24" || !opened.Tender.BidsOpen {
		t.Fatalf("opened: %+v", opened)
	}
	a.json("POST", "/api/areas/"+areaA+"/tender", a.coord, `{"deadline":"2027-01-05"}`, 200, &opened)
	if opened.Tender.Deadline != "2027-01-05" || opened.Tender.Association != "Bårsted Fiberforening" {
		t.Fatalf("extended: %+v", opened.Tender)
	}
	a.json("GET", "/api/tenders", a.provA, "", 200, &list)
	if list.Tenders[0].Tender == nil || list.Tenders[0].Tender.Deadline != "2027-01-05" || list.Tenders[0].Tender.AwardedBid != nil {
		t.Fatalf("listed: %+v", list.Tenders[0])
	}

	// The package names the area's own association and deadline, and is
	// the same bytes for every provider, whenever downloaded.
	pkgA := a.call("GET", "/api/areas/"+areaA+"/tender.zip", a.provA, "", nil)
	a.advance(2 * time.Hour)
	pkgB := a.call("GET", "/api/areas/"+areaA+"/tender.zip", a.provB, "", nil)
	if pkgA.Code != 200 || !bytes.Equal(pkgA.Body.Bytes(), pkgB.Body.Bytes()) {
		t.Fatalf("packages differ (%d, %d bytes)", pkgA.Body.Len(), pkgB.Body.Len())
	}
	area := zipFile(t, pkgA.Body.Bytes(), "area.geojson")
	if !strings.Contains(area, `"association":"Bårsted Fiberforening"`) || !strings.Contains(area, `"tender_deadline":"2027-01-05T23:59:00Z"`) {
		t.Errorf("package area.geojson: %.400s", area)
	}

	// Bids: A with a PDF, B without; a disguised file is refused.
	bidJSON := func(price int) string {
		return fmt.Sprintf(`{"price_per_connection":%d,"household_contribution":500000,"timeline_months":18,"open_access":true,"notes":"Pløjning"}`, price)
	}
	if w := a.bid("POST", "/api/areas/"+areaA+"/bids", a.provA, bidJSON(3000000), []byte("GIF89a not a pdf")); w.Code != 400 {
		t.Fatalf("disguised PDF: %d %s", w.Code, w.Body)
	}
	pdf := offerPDF(t, "Tilbud fra Fiber A/S")
	w = a.bid("POST", "/api/areas/"+areaA+"/bids", a.provA, bidJSON(3000000), pdf)
	if w.Code != 201 {
		t.Fatalf("bid A: %d %s", w.Code, w.Body)
	}
	var bidA web.BidJSON
	json.Unmarshal(w.Body.Bytes(), &bidA)
	if bidA.Attachment == nil || bidA.Attachment.Size != len(pdf) || bidA.Company != "Fiber A/S" {
		t.Fatalf("bid A: %+v", bidA)
	}
	var bidB web.BidJSON
	a.json("POST", "/api/areas/"+areaA+"/bids", a.provB, bidJSON(2600000), 201, &bidB)
	// A changes its bid (kept as revision 2, attachment kept).
	w = a.bid("PUT", fmt.Sprintf("/api/bids/%d", bidA.ID), a.provA, bidJSON(2500000), nil)
	if w.Code != 200 {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	var changed web.BidJSON
	json.Unmarshal(w.Body.Bytes(), &changed)
	if changed.Revision != 2 || changed.PricePerConnection != 2500000 || changed.Attachment == nil {
		t.Errorf("changed: %+v", changed)
	}

	// No provider sees another's bid by any route, nor how many bid.
	var mine bidsAnswer
	a.json("GET", "/api/areas/"+areaA+"/bids", a.provA, "", 200, &mine)
	if len(mine.Bids) != 1 || mine.Bids[0].ID != bidA.ID || mine.Bids[0].Implied != nil {
		t.Errorf("provider A lists %+v", mine.Bids)
	}
	for _, path := range []string{"/api/bids/%d", "/api/bids/%d/attachment"} {
		if w := a.call("GET", fmt.Sprintf(path, bidB.ID), a.provA, "", nil); w.Code != 404 || strings.Contains(w.Body.String(), "Net B") {
			t.Errorf("provider A reads %s: %d %s", path, w.Code, w.Body)
		}
	}
	if w := a.call("PUT", fmt.Sprintf("/api/bids/%d", bidB.ID), a.provA, "application/json", strings.NewReader(bidJSON(1))); w.Code != 404 {
		t.Errorf("provider A changes B's bid: %d", w.Code)
	}
	if w := a.call("DELETE", fmt.Sprintf("/api/bids/%d", bidB.ID), a.provA, "", nil); w.Code != 404 {
		t.Errorf("provider A withdraws B's bid: %d", w.Code)
	}
	for _, tok := range []string{a.provA, a.provB} {
		if w := a.call("GET", "/api/tenders", tok, "", nil); strings.Contains(w.Body.String(), "Fiber A/S") || strings.Contains(w.Body.String(), "Net B") || strings.Contains(w.Body.String(), `"bids":`) {
			t.Errorf("the tender list tells of bids: %s", w.Body)
		}
	}
	// The PDF reads back byte for byte for its bidder and the coordinator.
	for _, tok := range []string{a.provA, a.coord} {
		w := a.call("GET", fmt.Sprintf("/api/bids/%d/attachment", bidA.ID), tok, "", nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/pdf" || !bytes.Equal(w.Body.Bytes(), pdf) {
			t.Errorf("attachment: %d %s", w.Code, w.Header().Get("Content-Type"))
		}
	}

	// The coordinator compares, with the household price each implies.
	var all bidsAnswer
	a.json("GET", "/api/areas/"+areaA+"/bids", a.coord, "", 200, &all)
	if len(all.Bids) != 2 || all.Bids[0].Implied == nil || all.Bids[1].Implied == nil {
		t.Fatalf("coordinator lists %+v", all.Bids)
	}
	if all.Bids[0].Implied.BuildCost != 2500000*int64(all.Bids[0].Implied.Units) {
		t.Errorf("implied build cost %d for %d units", all.Bids[0].Implied.BuildCost, all.Bids[0].Implied.Units)
	}

	// After the deadline: no more bids; the award, and the outcome.
	if w := a.call("POST", "/api/areas/"+areaA+"/award", a.coord, "application/json", strings.NewReader(fmt.Sprintf(`{"bid_id":%d,"reason":"cheapest"}`, bidA.ID))); w.Code != 409 {
		t.Errorf("award before the deadline: %d %s", w.Code, w.Body)
	}
	a.advance(34 * 24 * time.Hour)
	if w := a.bid("PUT", fmt.Sprintf("/api/bids/%d", bidB.ID), a.provB, bidJSON(2000000), nil); w.Code != 409 {
		t.Errorf("change after the deadline: %d %s", w.Code, w.Body)
	}
	var awarded web.TenderAreaJSON
	a.json("POST", "/api/areas/"+areaA+"/award", a.coord, fmt.Sprintf(`{"bid_id":%d,"reason":"lowest household price, open access"}`, bidA.ID), 200, &awarded)
	if awarded.Status != "awarded" || awarded.Tender.AwardedBid == nil || *awarded.Tender.AwardedBid != bidA.ID {
		t.Fatalf("awarded: %+v", awarded)
	}
	var outA, outB bidsAnswer
	a.json("GET", "/api/areas/"+areaA+"/bids", a.provA, "", 200, &outA)
	a.json("GET", "/api/areas/"+areaA+"/bids", a.provB, "", 200, &outB)
	if outA.Bids[0].Status != "won" || outB.Bids[0].Status != "lost" || outB.Tender.AwardedBid != nil || outB.Tender.AwardReason != "" {
		t.Errorf("outcomes: A %+v, B %+v %+v", outA.Bids, outB.Bids, outB.Tender)
	}
	var ev struct {
		Entries []struct{ Action, Actor string } `json:"entries"`
	}
	a.json("GET", "/api/audit?area="+areaA, a.coord, "", 200, &ev)
	if len(ev.Entries) == 0 || ev.Entries[0].Action != "tender.award" || ev.Entries[0].Actor != "co@forening.example" {
		t.Errorf("audit: %+v", ev.Entries)
	}
}

func zipFile(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, name) {
			rc, _ := f.Open()
			data, _ := io.ReadAll(rc)
			return string(data)
		}
	}
	t.Fatalf("no %s in the package", name)
	return ""
}

func TestTenderAPIMoveBack(t *testing.T) {
	a := newTenderAPI(t)
	a.json("POST", "/api/areas/"+areaA+"/tender", a.coord, `{"deadline":"2027-01-05"}`, 200, nil)
	if w := a.call("POST", "/api/areas/"+areaA+"/move-back", a.coord, "application/json", strings.NewReader(`{"to":"threshold_reached","reason":"x"}`)); w.Code != 403 {
		t.Errorf("coordinator moves back: %d", w.Code)
	}
	var back web.AreaJSON
	a.json("POST", "/api/areas/"+areaA+"/move-back", a.admin, `{"to":"threshold_reached","reason":"the design changes"}`, 200, &back)
	if back.Status != "threshold_reached" {
		t.Errorf("moved back to %s", back.Status)
	}
	if w := a.call("PATCH", "/api/areas/"+areaA, a.coord, "application/json", strings.NewReader(`{"status":"tender_open"}`)); w.Code != 400 {
		t.Errorf("tender_open by settings: %d %s", w.Code, w.Body)
	}
}
