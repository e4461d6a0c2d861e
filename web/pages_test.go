package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

func TestPages(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	addr := addressWith(t, svc, m, 1, 0)
	for _, c := range []struct {
		name, path, accept, wantLang, want string
		status                             int
	}{
		{"HomeDanishByDefault", "/", "", "da", "Områderne", 200},
		{"HomeEnglishByHeader", "/", "en-GB,en;q=0.9", "en", "The areas", 200},
		{"HomeDanishByHeader", "/", "da,en;q=0.5", "da", "Områderne", 200},
		{"HomeUnknownLanguage", "/", "de-DE", "da", "Områderne", 200},
		{"SwitchToEnglish", "/?lang=en", "da", "en", "The areas", 200},
		{"Search", "/search?q=" + url.QueryEscape(addr.Text), "", "da", addr.Text, 200},
		{"SearchTooShort", "/search?q=a", "", "da", "Skriv mindst to", 200},
		{"Address", "/address?id=" + url.QueryEscape(addr.ID), "", "da", `id="pledge-form"`, 200},
		{"AddressNotFound", "/address?id=nope", "", "da", "Vi kan ikke finde den adresse", 404},
		{"ManageNotFound", "/p/nope", "", "da", "Vi kan ikke finde en tilmelding", 404},
		{"PageNotFound", "/no/such/page", "en", "en", "This page does not exist", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := newClient(t, srv, "192.0.2.1")
			if c.accept != "" {
				cl.header.Set("Accept-Language", c.accept)
			}
			w := cl.get(c.path)
			body := w.Body.String()
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if !strings.Contains(body, `<html lang="`+c.wantLang+`">`) {
				t.Errorf("lang attribute is not %q", c.wantLang)
			}
			if !strings.Contains(body, c.want) {
				t.Errorf("page lacks %q", c.want)
			}
			if strings.Contains(body, "\u27e6") {
				t.Errorf("page has a missing catalogue key: %s", regexp.MustCompile("\u27e6[^\u27e7]*\u27e7").FindString(body))
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
		})
	}
	t.Run("TileURLReachesTheScript", func(t *testing.T) {
		// An attribute named like a URL would be escaped ({z} -> %7bz%7d).
		tiles := web.NewServer(svc, web.Config{TileURL: "https://{s}.tiles.example.org/{z}/{x}/{y}.png"}, quietLog())
		w := newClient(t, tiles, "192.0.2.1").get("/")
		if !strings.Contains(w.Body.String(), `data-tiles="https://{s}.tiles.example.org/{z}/{x}/{y}.png"`) {
			t.Error("the tile URL template is not passed on unchanged")
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://*.tiles.example.org;") {
			t.Errorf("tiles not allowed by the CSP: %q", csp)
		}
	})
	t.Run("SwitchIsRemembered", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.1")
		cl.get("/?lang=en")
		if body := cl.get("/").Body.String(); !strings.Contains(body, `<html lang="en">`) {
			t.Error("the language chosen with the switch was not remembered")
		}
	})
	t.Run("APINotFoundIsJSON", func(t *testing.T) {
		w := newClient(t, srv, "192.0.2.1").get("/api/nope")
		if w.Code != 404 || !strings.Contains(w.Body.String(), `"code":"not_found"`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("Static", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.1")
		for _, p := range []string{"/static/app.js", "/static/app.css", "/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/LICENSE"} {
			if w := cl.get(p + "?v=1"); w.Code != 200 || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
				t.Errorf("%s: %d %q", p, w.Code, w.Header().Get("Cache-Control"))
			}
		}
		if w := cl.get("/static/nope.js"); w.Code != 404 {
			t.Errorf("missing static file: %d", w.Code)
		}
		if w := cl.get("/static/vendor/"); w.Code != 404 {
			t.Errorf("directory listing: %d", w.Code)
		}
	})
}

// formFor opens the address page as a browser would and returns the form
// fields it carries (CSRF token, address, idempotency key).
func formFor(t *testing.T, cl *client, addressID string) url.Values {
	t.Helper()
	w := cl.get("/address?id=" + url.QueryEscape(addressID))
	if w.Code != 200 {
		t.Fatalf("address page: %d", w.Code)
	}
	f := hidden(w.Body.String())
	if f.Get("csrf_token") == "" || f.Get("address_id") != addressID {
		t.Fatalf("form fields: %v", f)
	}
	return f
}

// besideField reports whether the page shows text as the error of field,
// inside the field's own block, right after its input.
func besideField(body, field, text string) bool {
	in := strings.Index(body, `id="`+field+`"`)
	er := strings.Index(body, `<p class="field-error" id="`+field+`-error">`+text+`</p>`)
	if in < 0 || er < in {
		return false
	}
	between := body[in:er]
	return !strings.Contains(between, `class="field`) && strings.Contains(body[in:], `aria-invalid="true"`)
}

func TestPledgeFormValidation(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{PledgeRateLimit: -1})
	single := addressWith(t, svc, m, 1, 0)
	multi := addressWith(t, svc, m, 3, 0)
	long := strings.Repeat("x", 201)
	for _, lang := range []string{"da", "en"} {
		for _, c := range []struct {
			name, field, key string
			addr             pledge.Address
			set              url.Values
		}{
			{"ErrNameRequired", "name", "err.name.required", single, url.Values{"email": {"a@example.dk"}, "consent": {"yes"}}},
			{"ErrNameLong", "name", "err.name.long", single, url.Values{"name": {long}, "email": {"a@example.dk"}, "consent": {"yes"}}},
			{"ErrContactRequired", "email", "err.email.required", single, url.Values{"name": {"Ada"}, "consent": {"yes"}}},
			{"ErrEmailInvalid", "email", "err.email.invalid", single, url.Values{"name": {"Ada"}, "email": {"ada@"}, "consent": {"yes"}}},
			{"ErrPhoneInvalid", "phone", "err.phone.invalid", single, url.Values{"name": {"Ada"}, "phone": {"12 34"}, "consent": {"yes"}}},
			{"ErrConsentRequired", "consent", "err.consent.required", single, url.Values{"name": {"Ada"}, "email": {"a@example.dk"}}},
			{"ErrUnitRange", "unit", "err.unit.range", multi, url.Values{"name": {"Ada"}, "email": {"a@example.dk"}, "consent": {"yes"}, "unit": {strconv.Itoa(multi.Units + 1)}}},
		} {
			t.Run(lang+"/"+c.name, func(t *testing.T) {
				cl := newClient(t, srv, "192.0.2.2")
				cl.get("/?lang=" + lang)
				f := formFor(t, cl, c.addr.ID)
				for k, v := range c.set {
					f[k] = v
				}
				w := cl.post("/pledge", f)
				if w.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", w.Code)
				}
				body := w.Body.String()
				want := web.Message(lang, c.key)
				if !besideField(body, c.field, want) {
					t.Errorf("no %q beside field %s", want, c.field)
				}
				if n := strings.Count(body, `class="field-error"`); n != 1 {
					t.Errorf("%d field errors, want 1", n)
				}
				if !strings.Contains(body, web.Message(lang, "form.errors")) {
					t.Error("no summary above the form")
				}
				// What was typed is kept, except the honeypot.
				if v := c.set.Get("name"); v != "" && !strings.Contains(body, `value="`+v+`"`) {
					t.Error("the name typed is lost")
				}
				if w.Header().Get("Cache-Control") != "no-store" {
					t.Error("a page with what the resident typed may be cached")
				}
			})
		}
	}
	t.Run("ErrUnitTaken", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.3")
		f := formFor(t, cl, multi.ID)
		f.Set("name", "Ada")
		f.Set("email", "ada@example.dk")
		f.Set("consent", "yes")
		f.Set("unit", "2")
		if w := cl.post("/pledge", f); w.Code != http.StatusSeeOther {
			t.Fatalf("first pledge: %d", w.Code)
		}
		f = formFor(t, cl, multi.ID)
		f.Set("name", "Bo")
		f.Set("email", "bo@example.dk")
		f.Set("consent", "yes")
		f.Set("unit", "2")
		w := cl.post("/pledge", f)
		if w.Code != http.StatusConflict || !besideField(w.Body.String(), "unit", web.Message("da", "err.unit.taken")) {
			t.Fatalf("status %d; unit error beside field: %v", w.Code, besideField(w.Body.String(), "unit", web.Message("da", "err.unit.taken")))
		}
	})
	t.Run("ServiceMessagesAreTranslated", func(t *testing.T) {
		// Every message PledgeRequest.Validate can give has a catalogue
		// text, so a new rule cannot show up untranslated.
		cases := []pledge.PledgeRequest{
			{}, {AddressID: "a", Unit: -1}, {AddressID: "a"}, {AddressID: "a", Name: long},
			{AddressID: "a", Name: "A"}, {AddressID: "a", Name: "A", Email: "x"}, {AddressID: "a", Name: "A", Phone: "1"},
			{AddressID: "a", Name: "A", Email: "a@example.dk"}, {AddressID: "a", Name: "A\u202e", Email: "a@example.dk"},
			{AddressID: "a", Unit: pledge.MaxUnit + 1, Name: "A", Email: "a@example.dk", Consent: true},
		}
		for _, req := range cases {
			err := req.Validate()
			var pe *pledge.Error
			if err == nil || !asPledgeError(err, &pe) {
				t.Fatalf("%+v: %v", req, err)
			}
			if pe.Reason == "" || !web.KnownReason(pe.Reason) {
				t.Errorf("validation error %q (reason %q) has no catalogue text", pe.Message, pe.Reason)
			}
		}
	})
}

func asPledgeError(err error, pe **pledge.Error) bool {
	e, ok := err.(*pledge.Error)
	*pe = e
	return ok
}

func TestPledgeFormSuccess(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	addr := addressWith(t, svc, m, 1, 0)
	ctx := context.Background()
	before, _ := svc.Area(ctx, addr.AreaCode)
	cl := newClient(t, srv, "192.0.2.4")
	f := formFor(t, cl, addr.ID)
	f.Set("name", "Ada Lovelace")
	f.Set("email", "ada@example.dk")
	f.Set("consent", "yes")
	w := cl.post("/pledge", f)
	if w.Code != http.StatusSeeOther || !strings.HasSuffix(w.Header().Get("Location"), "/receipt") {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
	}
	receipt := w.Header().Get("Location")
	// Posting the same form again (a double click) makes no second pledge.
	if w2 := cl.post("/pledge", f); w2.Header().Get("Location") != receipt {
		t.Errorf("resubmission: %d %q, want the same receipt", w2.Code, w2.Header().Get("Location"))
	}
	after, _ := svc.Area(ctx, addr.AreaCode)
	if after.PledgedUnits != before.PledgedUnits+1 {
		t.Errorf("pledged units %d -> %d, want +1", before.PledgedUnits, after.PledgedUnits)
	}
	r := cl.get(receipt)
	body := r.Body.String()
	manage := strings.TrimSuffix(receipt, "/receipt")
	// Without a public URL the link is relative: the request's Host
	// header never shapes it.
	if r.Code != 200 || !strings.Contains(body, `href="`+manage+`"`) || !strings.Contains(body, ">"+manage+"<") ||
		strings.Contains(body, "example.com"+manage) {
		t.Fatalf("receipt %d lacks the relative manage link %s", r.Code, manage)
	}
	for _, h := range []struct{ name, want string }{{"Cache-Control", "no-store"}, {"Referrer-Policy", "no-referrer"}} {
		if got := r.Header().Get(h.name); got != h.want {
			t.Errorf("receipt %s = %q, want %q", h.name, got, h.want)
		}
	}
}

func TestCSRF(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	addr := addressWith(t, svc, m, 1, 0)
	valid := func(cl *client) url.Values {
		f := formFor(t, cl, addr.ID)
		f.Set("name", "Ada")
		f.Set("email", "ada@example.dk")
		f.Set("consent", "yes")
		return f
	}
	t.Run("ErrNoCookie", func(t *testing.T) {
		f := valid(newClient(t, srv, "192.0.2.5"))
		w := newClient(t, srv, "192.0.2.5").post("/pledge", f)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), web.Message("da", "err.csrf")) {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.5")
		f := valid(cl)
		f.Set("csrf_token", strings.Repeat("A", 48))
		if w := cl.post("/pledge", f); w.Code != http.StatusForbidden {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.5")
		f := valid(cl)
		f.Del("csrf_token")
		if w := cl.post("/pledge", f); w.Code != http.StatusForbidden {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("ErrCrossSite", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.5")
		f := valid(cl)
		cl.header.Set("Sec-Fetch-Site", "cross-site")
		cl.header.Set("Origin", "https://evil.example")
		if w := cl.post("/pledge", f); w.Code != http.StatusForbidden {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("ErrManageForms", func(t *testing.T) {
		for _, p := range []string{"/p/x/contact", "/p/x/withdraw"} {
			if w := newClient(t, srv, "192.0.2.5").post(p, url.Values{"name": {"x"}}); w.Code != http.StatusForbidden {
				t.Errorf("%s: %d", p, w.Code)
			}
		}
	})
	t.Run("OK", func(t *testing.T) {
		cl := newClient(t, srv, "192.0.2.5")
		if w := cl.post("/pledge", valid(cl)); w.Code != http.StatusSeeOther {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("JSONAPINeedsNoToken", func(t *testing.T) {
		other := addressWith(t, svc, m, 1, 0)
		w := newClient(t, srv, "192.0.2.6").postJSON("/api/pledges",
			`{"address_id":"`+other.ID+`","name":"Bo","email":"bo@example.dk","consent":true}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

func TestRateLimit(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{PledgeRateLimit: 3, PledgeRateWindow: time.Hour})
	cl := newClient(t, srv, "198.51.100.7")
	addrs := map[string]bool{}
	valid := func() url.Values {
		t.Helper()
		for _, a := range m.Areas {
			as, _ := svc.AreaAddresses(context.Background(), a.Code, nil, 0)
			for _, ad := range as {
				if ad.PledgedUnits == 0 && !addrs[ad.ID] {
					addrs[ad.ID] = true
					f := formFor(t, cl, ad.ID)
					f.Set("name", "Ada")
					f.Set("email", "ada@example.dk")
					f.Set("consent", "yes")
					return f
				}
			}
		}
		t.Fatal("no free address")
		return nil
	}
	// Mistakes count like pledges: the limit counts attempts, so a client
	// cannot slip past it with requests the service refuses.
	for i := 0; i < 2; i++ {
		f := valid()
		f.Del("name")
		if w := cl.post("/pledge", f); w.Code != http.StatusBadRequest {
			t.Fatalf("invalid post %d: %d", i, w.Code)
		}
	}
	for i := 1; i <= 1; i++ {
		if w := cl.post("/pledge", valid()); w.Code != http.StatusSeeOther {
			t.Fatalf("pledge %d: %d", i, w.Code)
		}
	}
	w := cl.post("/pledge", valid())
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), web.Message("da", "err.too_many_requests")) {
		t.Fatalf("4th pledge: %d", w.Code)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// The JSON API shares the client's count.
	api := func(cl *client) *httptest.ResponseRecorder {
		f := valid()
		return cl.postJSON("/api/pledges", `{"address_id":"`+f.Get("address_id")+`","name":"Bo","email":"bo@example.dk","consent":true}`)
	}
	if w := api(cl); w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), `"too_many_requests"`) {
		t.Fatalf("API: %d %s", w.Code, w.Body)
	}
	// Another client is not affected.
	if w := api(newClient(t, srv, "198.51.100.8")); w.Code != http.StatusCreated {
		t.Fatalf("another client: %d", w.Code)
	}
	// A second instance over the same store counts together with the first:
	// the count lives in the store, not in one process.
	srv2 := web.NewServer(svc, web.Config{PledgeRateLimit: 3, PledgeRateWindow: time.Hour}, quietLog())
	if w := api(newClient(t, srv2, "198.51.100.7")); w.Code != http.StatusTooManyRequests {
		t.Fatalf("second instance: %d", w.Code)
	}
}

func TestHoneypot(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	addr := addressWith(t, svc, m, 1, 0)
	ctx := context.Background()
	before, _ := svc.Area(ctx, addr.AreaCode)
	cl := newClient(t, srv, "192.0.2.9")
	f := formFor(t, cl, addr.ID)
	f.Set("name", "Bot")
	f.Set("email", "bot@example.dk")
	f.Set("consent", "yes")
	f.Set("website", "http://spam.example")
	w := cl.post("/pledge", f)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), web.Message("da", "thanks.text")) {
		t.Fatalf("%d", w.Code)
	}
	after, _ := svc.Area(ctx, addr.AreaCode)
	if after.PledgedUnits != before.PledgedUnits {
		t.Fatalf("a bot's pledge was stored: %d -> %d", before.PledgedUnits, after.PledgedUnits)
	}
}

func TestManagePage(t *testing.T) {
	srv, svc, _ := newServer(t, web.Config{})
	ctx := context.Background()
	// In a collecting area, so the test can open a tender there and
	// undo it (threshold_reached is not set by hand).
	var addr pledge.Address
	as, _ := svc.AreaAddresses(ctx, "D003", nil, 0)
	for _, a := range as {
		if a.Units == 1 && a.PledgedUnits == 0 {
			addr = a
			break
		}
	}
	cl := newClient(t, srv, "192.0.2.10")
	f := formFor(t, cl, addr.ID)
	f.Set("name", "Ada")
	f.Set("email", "ada@example.dk")
	f.Set("consent", "yes")
	w := cl.post("/pledge", f)
	manage := strings.TrimSuffix(w.Header().Get("Location"), "/receipt")
	token := strings.TrimPrefix(manage, "/p/")
	page := cl.get(manage)
	if page.Code != 200 || !strings.Contains(page.Body.String(), `value="ada@example.dk"`) {
		t.Fatalf("manage page %d", page.Code)
	}
	t.Run("ChangeContact", func(t *testing.T) {
		f := hidden(cl.get(manage).Body.String())
		f.Set("name", "Ada King")
		f.Set("email", "")
		f.Set("phone", "+45 11 22 33 44")
		w := cl.post(manage+"/contact", f)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%d", w.Code)
		}
		body := cl.get(w.Header().Get("Location")).Body.String()
		if !strings.Contains(body, `value="Ada King"`) || !strings.Contains(body, web.Message("da", "manage.saved")) {
			t.Fatal("change not shown")
		}
	})
	t.Run("ErrContactInvalid", func(t *testing.T) {
		f := hidden(cl.get(manage).Body.String())
		f.Set("name", "Ada")
		f.Set("email", "nope")
		w := cl.post(manage+"/contact", f)
		if w.Code != http.StatusBadRequest || !besideField(w.Body.String(), "email", web.Message("da", "err.email.invalid")) {
			t.Fatalf("%d", w.Code)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Error("cacheable")
		}
	})
	t.Run("ErrWithdrawBinding", func(t *testing.T) {
		area, _ := svc.Area(ctx, addr.AreaCode)
		sys := pledge.WithUser(ctx, pledge.SystemUser())
		open := pledge.StatusTenderOpen
		if _, err := svc.UpdateAreaSettings(sys, addr.AreaCode, pledge.AreaSettings{Status: &open}); err != nil {
			t.Fatal(err)
		}
		defer func() { svc.UpdateAreaSettings(sys, addr.AreaCode, pledge.AreaSettings{Status: &area.Status}) }()
		body := cl.get(manage).Body.String()
		if strings.Contains(body, `id="withdraw-form"`) || !strings.Contains(body, `id="binding"`) {
			t.Error("withdrawal offered in a binding area")
		}
		f := hidden(body)
		w := cl.post(manage+"/withdraw", f)
		if w.Code != http.StatusConflict {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("Withdraw", func(t *testing.T) {
		f := hidden(cl.get(manage).Body.String())
		w := cl.post(manage+"/withdraw", f)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%d", w.Code)
		}
		body := cl.get(manage).Body.String()
		if !strings.Contains(body, `data-status="withdrawn"`) || strings.Contains(body, "Ada") {
			t.Fatal("withdrawn pledge still shows contact details or is not withdrawn")
		}
		p, _ := svc.Pledge(ctx, token)
		if p.Status != pledge.PledgeWithdrawn {
			t.Fatalf("status %s", p.Status)
		}
	})
}

// TestNoPersonalData pledges with distinctive contact details, then reads
// every public page and API response and finds none of them. Only the
// resident's own manage page shows them.
func TestNoPersonalData(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc, m := MustOpenDemoService(t, func() time.Time { return now })
	var logs bytes.Buffer
	srv := web.NewServer(svc, web.Config{}, slog.New(slog.NewTextHandler(&logs, nil)))
	addr := addressWith(t, svc, m, 1, 0)
	secrets := []string{"Zyxqwv Privatsen", "zyxqwv.privat@example.dk", "+45 97 86 75 64", "97 86 75 64", "97867564"}
	cl := newClient(t, srv, "192.0.2.11")
	f := formFor(t, cl, addr.ID)
	f.Set("name", secrets[0])
	f.Set("email", secrets[1])
	f.Set("phone", secrets[2])
	f.Set("consent", "yes")
	w := cl.post("/pledge", f)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("%d", w.Code)
	}
	manage := strings.TrimSuffix(w.Header().Get("Location"), "/receipt")
	word := url.QueryEscape(strings.Fields(addr.Text)[0])
	lon, lat := strconv.FormatFloat(addr.Point[0], 'f', 6, 64), strconv.FormatFloat(addr.Point[1], 'f', 6, 64)
	public := []string{
		"/", "/?lang=en", "/search?q=" + word, "/address?id=" + url.QueryEscape(addr.ID),
		"/api/areas", "/api/areas.geojson", "/api/areas/" + addr.AreaCode, "/api/areas/" + addr.AreaCode + "/addresses",
		"/api/addresses?q=" + word, "/api/addresses/nearest?lon=" + lon + "&lat=" + lat, "/healthz",
	}
	anon := newClient(t, srv, "192.0.2.12")
	for _, p := range public {
		w := anon.get(p)
		if w.Code != 200 {
			t.Errorf("%s: %d", p, w.Code)
		}
		for _, s := range secrets {
			if strings.Contains(w.Body.String(), s) {
				t.Errorf("%s shows %q", p, s)
			}
		}
	}
	own := cl.get(manage)
	if !strings.Contains(own.Body.String(), secrets[1]) {
		t.Error("the resident's own page does not show their e-mail")
	}
	if own.Header().Get("Cache-Control") != "no-store" {
		t.Error("manage page is cacheable")
	}
	// Change and withdraw too, then check the log holds none of it, nor
	// the manage token, nor the client's address.
	f = hidden(own.Body.String())
	f.Set("name", secrets[0]+" Jr")
	f.Set("email", secrets[1])
	cl.post(manage+"/contact", f)
	cl.post(manage+"/withdraw", hidden(cl.get(manage).Body.String()))
	for _, s := range append(secrets, strings.TrimPrefix(manage, "/p/"), "192.0.2.11") {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %q", s)
		}
	}
	if !strings.Contains(logs.String(), "route=/p/:token") {
		t.Error("requests were not logged by route")
	}
}

func TestMapAPI(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{})
	cl := newClient(t, srv, "192.0.2.13")
	t.Run("AreasGeoJSON", func(t *testing.T) {
		w := cl.get("/api/areas.geojson")
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Type       string         `json:"type"`
				Properties map[string]any `json:"properties"`
				Geometry   struct {
					Type string `json:"type"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &fc); err != nil {
			t.Fatal(err)
		}
		if fc.Type != "FeatureCollection" || len(fc.Features) != len(m.Areas) {
			t.Fatalf("%s with %d features", fc.Type, len(fc.Features))
		}
		for _, k := range []string{"code", "name", "units", "pledged_units", "take_up", "threshold_percent", "status", "deadline"} {
			if _, ok := fc.Features[0].Properties[k]; !ok {
				t.Errorf("no property %s", k)
			}
		}
		if g := fc.Features[0].Geometry.Type; g != "MultiPolygon" {
			t.Errorf("geometry %s", g)
		}
	})
	t.Run("Nearest", func(t *testing.T) {
		addr := addressWith(t, svc, m, 1, 99)
		w := cl.get("/api/addresses/nearest?lon=" + strconv.FormatFloat(addr.Point[0], 'f', 7, 64) + "&lat=" + strconv.FormatFloat(addr.Point[1], 'f', 7, 64))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"address_id":"`+addr.ID+`"`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("ErrNearestInvalid", func(t *testing.T) {
		for _, q := range []string{"lon=x&lat=55", "lon=10", "lon=500&lat=55"} {
			if w := cl.get("/api/addresses/nearest?" + q); w.Code != 400 {
				t.Errorf("%s: %d", q, w.Code)
			}
		}
	})
	t.Run("ErrNearestNone", func(t *testing.T) {
		if w := cl.get("/api/addresses/nearest?lon=-40&lat=-40"); w.Code != 404 {
			t.Errorf("%d", w.Code)
		}
	})
}

// X-Forwarded-For names the client only when the peer is a trusted proxy;
// otherwise a client could dodge the limit by inventing addresses.
func TestRateLimitTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		// whether a second "client" behind the same peer gets its own count
		separate bool
	}{
		{"NoneTrusted", nil, false},
		{"ProxyTrusted", []string{"10.0.0.0/8"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, svc, m := newServer(t, web.Config{PledgeRateLimit: 1, PledgeRateWindow: time.Hour, TrustedProxies: tc.proxies})
			free := func() string {
				t.Helper()
				for _, a := range m.Areas {
					as, _ := svc.AreaAddresses(context.Background(), a.Code, nil, 0)
					for _, ad := range as {
						if ad.PledgedUnits < ad.Units {
							return ad.ID
						}
					}
				}
				t.Fatal("no free address")
				return ""
			}
			post := func(forwardedFor string) int {
				cl := newClient(t, srv, "10.1.2.3")
				cl.header.Set("X-Forwarded-For", forwardedFor)
				return cl.postJSON("/api/pledges", `{"address_id":"`+free()+`","name":"Bo","email":"bo@example.dk","consent":true}`).Code
			}
			if code := post("203.0.113.1"); code != http.StatusCreated {
				t.Fatalf("first pledge: %d", code)
			}
			code := post("203.0.113.2")
			if tc.separate != (code == http.StatusCreated) {
				t.Errorf("second client behind the same peer: %d", code)
			}
		})
	}
}
