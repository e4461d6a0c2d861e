package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// With a mail server an English page's pledge is mailed a confirmation
// link in English; until it is used the pledge shows apart on the area's
// progress ("awaiting confirmation") and not in the counted units; the
// link's page confirms only on its button; the manage page states the
// lapse rules and stops the notices.
func TestConfirmationPages(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	st, svc, m := MustOpenDemoStore(t, func() time.Time { return now })
	svc.Mail, svc.PublicURL = true, "https://k.example"
	srv := web.NewServer(svc, web.Config{PublicURL: "https://k.example"}, quietLog())
	addr := addressWith(t, svc, m, 1, 0)
	ctx := context.Background()
	before, _ := svc.Area(ctx, addr.AreaCode)

	cl := newClient(t, srv, "192.0.2.40")
	cl.get("/?lang=en")
	f := formFor(t, cl, addr.ID)
	f.Set("name", "Ada Lovelace")
	f.Set("email", "ada@example.dk")
	f.Set("consent", "yes")
	w := cl.post("/pledge", f)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("pledge: %d %s", w.Code, w.Body)
	}
	receipt := strings.TrimPrefix(w.Header().Get("Location"), "https://k.example")
	manage := strings.TrimSuffix(receipt, "/receipt")
	if r := cl.get(receipt).Body.String(); !strings.Contains(r, `id="unconfirmed"`) || !strings.Contains(r, "not confirmed yet") {
		t.Errorf("the receipt does not ask for the confirmation")
	}
	after, _ := svc.Area(ctx, addr.AreaCode)
	if after.PledgedUnits != before.PledgedUnits || after.UnconfirmedUnits != before.UnconfirmedUnits+1 {
		t.Fatalf("area %d/%d -> %d/%d pledged/unconfirmed; want the pledge apart", before.PledgedUnits, before.UnconfirmedUnits,
			after.PledgedUnits, after.UnconfirmedUnits)
	}
	var area struct {
		PledgedUnits     int `json:"pledged_units"`
		UnconfirmedUnits int `json:"unconfirmed_units"`
		ConfirmDays      int `json:"confirm_days"`
	}
	if err := json.Unmarshal(cl.get("/api/areas/"+addr.AreaCode).Body.Bytes(), &area); err != nil ||
		area.PledgedUnits != after.PledgedUnits || area.UnconfirmedUnits != after.UnconfirmedUnits || area.ConfirmDays != pledge.DefaultConfirmDays {
		t.Errorf("API area %+v (%v); want %d pledged, %d unconfirmed, %d days", area, err, after.PledgedUnits, after.UnconfirmedUnits, pledge.DefaultConfirmDays)
	}
	if page := cl.get("/address?id=" + url.QueryEscape(addr.ID)).Body.String(); !strings.Contains(page, `class="unconfirmed">and 1 awaiting confirmation`) {
		i := strings.Index(page, `class="summary"`)
		t.Errorf("the address page does not show the unconfirmed pledge apart: %.300s", page[max(i, 0):])
	}

	evs, err := st.OutboxEvents(ctx, pledge.EventMail)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d e-mails (%v); want the confirmation", len(evs), err)
	}
	var msg pledge.MailMessage
	json.Unmarshal([]byte(evs[0].Payload), &msg)
	link := regexp.MustCompile(`https://k\.example(/confirm/[A-Za-z0-9_-]+)`).FindStringSubmatch(msg.Text)
	if msg.To != "ada@example.dk" || msg.Subject != "Confirm your fibre pledge" || link == nil {
		t.Fatalf("confirmation e-mail %+v", msg)
	}
	// Opening the link (a mail scanner does) confirms nothing.
	page := cl.get(link[1])
	if page.Code != 200 || !strings.Contains(page.Body.String(), `id="confirm-submit"`) || page.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("confirmation page %d", page.Code)
	}
	if a, _ := svc.Area(ctx, addr.AreaCode); a.PledgedUnits != before.PledgedUnits {
		t.Fatal("opening the link confirmed the pledge")
	}
	form := hidden(page.Body.String())
	w = cl.post(link[1], url.Values{"csrf_token": {form.Get("csrf_token")}})
	if w.Code != http.StatusSeeOther || !strings.HasSuffix(w.Header().Get("Location"), manage+"?confirmed=1") {
		t.Fatalf("confirm: %d %q", w.Code, w.Header().Get("Location"))
	}
	if a, _ := svc.Area(ctx, addr.AreaCode); a.PledgedUnits != before.PledgedUnits+1 || a.UnconfirmedUnits != before.UnconfirmedUnits {
		t.Errorf("after the confirmation %d/%d pledged/unconfirmed; want %d/%d", a.PledgedUnits, a.UnconfirmedUnits, before.PledgedUnits+1, before.UnconfirmedUnits)
	}
	body := cl.get(manage + "?confirmed=1").Body.String()
	for _, want := range []string{"Your pledge is confirmed", `id="lapse-rules"`, "within 14 days lapses", "every pledge lapses", `id="notices-submit"`, "Stop e-mails"} {
		if !strings.Contains(body, want) {
			t.Errorf("manage page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="unconfirmed"`) {
		t.Error("manage page still asks for the confirmation")
	}

	// Stop the notices; the page says so and offers them again.
	w = cl.post(manage+"/notices", url.Values{"csrf_token": {hidden(body).Get("csrf_token")}, "notices": {"off"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("notices off: %d %s", w.Code, w.Body)
	}
	token := strings.TrimPrefix(manage, "/p/")
	if p, err := svc.Pledge(ctx, token); err != nil || !p.NoticesOff {
		t.Errorf("notices after stopping: off %v (%v)", p.NoticesOff, err)
	}
	if body := cl.get(manage).Body.String(); !strings.Contains(body, "You have stopped the e-mails") || !strings.Contains(body, "Send me e-mails again") {
		t.Error("manage page does not show the notices stopped")
	}

	// A used link, posted again, changes nothing; an unknown one is a
	// clear 404 page.
	page = cl.get(link[1])
	if w := cl.post(link[1], url.Values{"csrf_token": {hidden(page.Body.String()).Get("csrf_token")}}); w.Code != http.StatusSeeOther {
		t.Errorf("second confirmation: %d", w.Code)
	}
	if w := cl.post("/confirm/"+strings.Repeat("A", 43), url.Values{"csrf_token": {hidden(page.Body.String()).Get("csrf_token")}}); w.Code != 404 ||
		!strings.Contains(w.Body.String(), "expired") {
		t.Errorf("unknown link: %d", w.Code)
	}
	if a, _ := svc.Area(ctx, addr.AreaCode); a.PledgedUnits != before.PledgedUnits+1 {
		t.Errorf("pledged units %d after the repeats; want %d", a.PledgedUnits, before.PledgedUnits+1)
	}
}

// Through the manage link a resident downloads what is kept about them
// and deletes it: while pledges may be withdrawn, deleting withdraws.
func TestMyDataPages(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	addr := addressWith(t, svc, m, 1, 0)
	ctx := context.Background()
	p, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: addr.ID, Name: "Bjørn Ågård", Email: "bjorn@example.dk",
		Phone: "+45 11 22 33 44", Consent: true, Language: "da"}, "")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := svc.Area(ctx, addr.AreaCode)
	cl := newClient(t, srv, "192.0.2.41")
	w := cl.get("/p/" + p.Token + "/data.json")
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("data.json: %d %v", w.Code, err)
	}
	if got["name"] != "Bjørn Ågård" || got["email"] != "bjorn@example.dk" || got["phone"] != "+45 11 22 33 44" ||
		got["address_text"] != addr.Text || got["status"] != "active" || got["confirmed"] != true || got["language"] != "da" {
		t.Errorf("data.json %v", got)
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("data.json headers: %q, %q", cd, w.Header().Get("Cache-Control"))
	}
	page := cl.get("/p/" + p.Token).Body.String()
	// Without a mail server pledges count at once: no confirmation rule.
	if !strings.Contains(page, `id="lapse-rules"`) || strings.Contains(page, "bekræftet via linket") {
		t.Error("the manage page without mail states a confirmation rule, or no rules")
	}
	if !strings.Contains(page, `id="delete-submit"`) || !strings.Contains(page, "fortrydes tilmeldingen også") {
		i := strings.Index(page, "data-heading")
		t.Fatalf("manage page lacks the deletion and what it does: %.600s", page[max(i, 0):])
	}
	w = cl.post("/p/"+p.Token+"/delete", url.Values{"csrf_token": {hidden(page).Get("csrf_token")}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	after := cl.get(strings.TrimPrefix(w.Header().Get("Location"), "http://example.com")).Body.String()
	if !strings.Contains(after, "Dine kontaktoplysninger er slettet") || strings.Contains(after, "Bjørn") {
		t.Error("the page after deletion does not say so, or still shows the name")
	}
	if a, _ := svc.Area(ctx, addr.AreaCode); a.PledgedUnits != before.PledgedUnits-1 {
		t.Errorf("pledged %d -> %d; want the pledge withdrawn", before.PledgedUnits, a.PledgedUnits)
	}
	json.Unmarshal(cl.get("/p/"+p.Token+"/data.json").Body.Bytes(), &got)
	if got["name"] != "" || got["email"] != "" || got["phone"] != "" || got["status"] != "withdrawn" {
		t.Errorf("data.json after deletion %v", got)
	}
}

// A resident reports a holiday home from the address page, follows the
// report through its secret link, and sees the coordinator's decision and
// reason; the accepted report takes the address's units out of the area.
func TestChallengePages(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	addr := addressWith(t, svc, m, 1, 0)
	ctx := context.Background()
	before, _ := svc.Area(ctx, addr.AreaCode)
	cl := newClient(t, srv, "192.0.2.42")
	cl.get("/?lang=en")
	page := cl.get("/address?id=" + url.QueryEscape(addr.ID)).Body.String()
	if !strings.Contains(page, `id="challenge-form"`) {
		t.Fatal("the address page has no report form")
	}
	w := cl.post("/challenge", url.Values{"csrf_token": {hidden(page).Get("csrf_token")}, "address_id": {addr.ID},
		"kind": {"empty_or_holiday"}, "note": {"Sommerhus, ingen bor der om vinteren"}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "/challenges/") {
		t.Fatalf("report: %d %q", w.Code, w.Header().Get("Location"))
	}
	outcome := strings.TrimPrefix(w.Header().Get("Location"), "http://example.com")
	r := cl.get(outcome)
	if body := r.Body.String(); r.Code != 200 || !strings.Contains(body, "waiting for the association") || !strings.Contains(body, addr.Text) ||
		r.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("outcome page %d", r.Code)
	}
	sys := pledge.WithUser(ctx, pledge.SystemUser())
	cs, err := svc.AreaChallenges(sys, addr.AreaCode)
	if err != nil || len(cs) != 1 || cs[0].Kind != pledge.ChallengeEmpty || cs[0].AddressID != addr.ID {
		t.Fatalf("the area's challenges: %+v (%v)", cs, err)
	}
	if _, err := svc.DecideChallenge(sys, addr.AreaCode, cs[0].ID, true, "Checked in BBR: a holiday home"); err != nil {
		t.Fatal(err)
	}
	body := cl.get(outcome).Body.String()
	if !strings.Contains(body, ">accepted<") || !strings.Contains(body, "Checked in BBR: a holiday home") {
		t.Error("the outcome page does not show the decision and its reason")
	}
	var got ChallengeOutcome
	json.Unmarshal(cl.get("/api"+outcome).Body.Bytes(), &got)
	if got.Status != "accepted" || got.Reason != "Checked in BBR: a holiday home" || got.UnitsAfter == nil || *got.UnitsAfter != 0 {
		t.Errorf("API outcome %+v", got)
	}
	if a, _ := svc.Area(ctx, addr.AreaCode); a.Units != before.Units-addr.Units {
		t.Errorf("eligible units %d -> %d; want -%d", before.Units, a.Units, addr.Units)
	}
}

// ChallengeOutcome is the part of GET /api/challenges/{secret} the test reads.
type ChallengeOutcome struct {
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	UnitsAfter *int   `json:"units_after"`
}

// Anonymous reports count against the client's limit, as pledges do.
func TestChallengeRateLimit(t *testing.T) {
	srv, _, _ := newServer(t, web.Config{PledgeRateLimit: 2, PledgeRateWindow: time.Hour})
	cl := newClient(t, srv, "192.0.2.43")
	for i, want := range []int{201, 400, 429, 429} {
		body := `{"kind":"missing","note":"Skovvej 3"}`
		if i == 1 {
			body = `{"kind":"haunted"}` // a bad one counts too
		}
		if w := cl.postJSON("/api/challenges", body); w.Code != want {
			t.Errorf("report %d: %d, want %d: %s", i+1, w.Code, want, w.Body)
		} else if want == 429 && w.Header().Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}
	if w := newClient(t, srv, "192.0.2.44").postJSON("/api/challenges", `{"kind":"missing","note":"Skovvej 3"}`); w.Code != 201 {
		t.Errorf("another client: %d", w.Code)
	}
}
