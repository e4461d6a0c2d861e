package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
	"github.com/kommunity/kommunity/web"
)

// The bad-input catalogue: hostile requests across the JSON API, the
// forms, manage links, search, static files and the tender download. Each
// case states the status and the error's field it must get, and the store
// must be exactly as before: same areas, counters, per-address pledged
// units, outbox, and the fixture's own pledge untouched. It runs on
// SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (CI).

// catalogueFixture is a server over a demo store with one known pledge.
type catalogueFixture struct {
	svc   *pledge.Service
	st    pledge.Store
	srv   *web.Server
	m     demo.Municipality
	token string // the fixture pledge's manage token
	addr  pledge.Address
	// adminToken is an admin's API token (read scope).
	adminToken string
	// coordToken (admin scope) is a coordinator's of the fixture's area;
	// bidToken (bid scope) a provider's.
	coordToken, bidToken string
	// providerToken is a provider's API token (admin scope: it manages
	// webhooks); hook is that provider's endpoint, otherHook one of no
	// company of theirs.
	providerToken   string
	hook, otherHook int64
}

var catalogueNow = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func newCatalogueFixture(t *testing.T, st pledge.Store) *catalogueFixture {
	t.Helper()
	ctx := context.Background()
	svc := pledge.NewService(st)
	svc.Now = func() time.Time { return catalogueNow }
	m := demo.Generate(demoConfig)
	m.Roads = nil
	if err := demo.Seed(ctx, svc, m, func(i int) time.Time { return catalogueNow.AddDate(0, 0, 30*(i+1)) }); err != nil {
		t.Fatal(err)
	}
	f := &catalogueFixture{svc: svc, st: st, m: m}
	f.addr = addressWith(t, svc, m, 2, 0)
	p, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: f.addr.ID, Unit: 1, Name: "Fixture Person",
		Email: "fixture@example.dk", Consent: true}, "fixture-key")
	if err != nil {
		t.Fatal(err)
	}
	f.token = p.Token
	admin := mustUser(t, svc, pledge.InviteRequest{Email: "admin@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	if f.adminToken, _, err = svc.CreateAPIToken(pledge.WithUser(ctx, pledge.SystemUser()), admin.Email, "catalogue", nil); err != nil {
		t.Fatal(err)
	}
	sys := pledge.WithUser(ctx, pledge.SystemUser())
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "coord@forening.example", Name: "Co", Role: pledge.RoleCoordinator, Areas: []string{f.addr.AreaCode}})
	if f.coordToken, _, err = svc.CreateAPIToken(sys, coord.Email, "catalogue", []pledge.Scope{pledge.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	prov := mustUser(t, svc, pledge.InviteRequest{Email: "bid@fiber.example", Name: "Pi", Role: pledge.RoleProvider, Provider: "Fiber A/S"})
	if f.bidToken, _, err = svc.CreateAPIToken(sys, prov.Email, "catalogue", []pledge.Scope{pledge.ScopeBid, pledge.ScopeRead}); err != nil {
		t.Fatal(err)
	}
	hooksUser := mustUser(t, svc, pledge.InviteRequest{Email: "hooks@fiber.example", Name: "Per", Role: pledge.RoleProvider, Provider: "Fiber A/S"})
	if f.providerToken, _, err = svc.CreateAPIToken(sys, hooksUser.Email, "hooks", []pledge.Scope{pledge.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	hooks := make([]int64, 2)
	for i, ctx := range []context.Context{pledge.WithUser(ctx, &hooksUser), sys} {
		w, _, err := svc.RegisterWebhook(ctx, pledge.WebhookRequest{URL: fmt.Sprintf("https://hooks%d.example/k", i), Events: pledge.WebhookEvents})
		if err != nil {
			t.Fatal(err)
		}
		hooks[i] = w.ID
	}
	f.hook, f.otherHook = hooks[0], hooks[1]
	f.srv = web.NewServer(svc, web.Config{
		MaxBodyBytes: 4096, PledgeRateLimit: 1000, WalkPDF: walkPDF, WalkCSV: walkCSV,
		TenderPackage: func(ctx context.Context, code, lang string, w io.Writer) error {
			data, err := svc.TenderData(ctx, code)
			if err != nil {
				return err
			}
			return report.Write(w, report.Tender{TenderData: data, Now: svc.Now(), Lang: lang})
		},
	}, quietLog())
	return f
}

// storeState is what a rejected request must leave as it was.
type storeState struct {
	Areas      []pledge.Area
	Unassigned pledge.Unassigned
	Pledged    map[string]int
	Events     int
	Fixture    pledge.Pledge
	Users      []pledge.User
	Audit      int
	Walks      string // the fixture area's walks and outcomes, as JSON
	Webhooks   []pledge.Webhook
}

func (f *catalogueFixture) state(t *testing.T) storeState {
	t.Helper()
	ctx := context.Background()
	areas, u, err := f.svc.Areas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := storeState{Areas: areas, Unassigned: u, Pledged: map[string]int{}}
	for _, a := range areas {
		as, err := f.svc.AreaAddresses(ctx, a.Code, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ad := range as {
			if ad.PledgedUnits > 0 {
				s.Pledged[ad.ID] = ad.PledgedUnits
			}
		}
	}
	events, err := f.st.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Events = len(events)
	if s.Fixture, err = f.svc.Pledge(ctx, f.token); err != nil {
		t.Fatal(err)
	}
	sys := pledge.WithUser(ctx, pledge.SystemUser())
	if s.Users, err = f.svc.Users(sys); err != nil {
		t.Fatal(err)
	}
	audit, err := f.svc.Audit(sys, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	s.Audit = len(audit)
	s.Walks = f.walkState(t)
	if s.Webhooks, err = f.svc.Webhooks(sys); err != nil {
		t.Fatal(err)
	}
	return s
}

// hostile is one catalogue case.
type hostile struct {
	name   string
	method string
	path   string
	body   string
	header map[string]string
	form   url.Values // a form post, with a valid CSRF token unless csrf is set
	csrf   *string    // the CSRF field to send instead of the valid one
	status int
	field  string                                       // the JSON error's field, if any
	reject []string                                     // must not appear in the body or Location
	check  func(*testing.T, *httptest.ResponseRecorder) // more to assert
}

func str(s string) *string { return &s }

// pledgeJSON is a valid pledge body for address id with the extra or
// replaced members in extra (raw JSON, e.g. `"name":"x"`).
func pledgeBody(id string, extra string) string {
	base := map[string]string{"address_id": `"` + id + `"`, "name": `"Ada Hostile"`, "email": `"ada@example.dk"`, "consent": "true"}
	for _, kv := range strings.Split(extra, ",\x00") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, ":")
		base[strings.Trim(k, `"`)] = v
	}
	parts := []string{}
	for _, k := range []string{"address_id", "unit", "name", "email", "phone", "consent"} {
		if v, ok := base[k]; ok {
			parts = append(parts, `"`+k+`":`+v)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (f *catalogueFixture) cases() []hostile {
	id := f.addr.ID
	valid := pledgeBody(id, "")
	asJSON := map[string]string{"Content-Type": "application/json"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	cs := []hostile{
		// The JSON API's pledge endpoint.
		{name: "TextPlainCrossSiteForm", method: "POST", path: "/api/pledges", body: valid,
			header: map[string]string{"Content-Type": "text/plain"}, status: 415},
		{name: "NoContentType", method: "POST", path: "/api/pledges", body: valid, status: 415},
		{name: "FormEncoded", method: "POST", path: "/api/pledges", body: "address_id=" + id,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415},
		{name: "CrossSiteFetch", method: "POST", path: "/api/pledges", body: valid,
			header: with(asJSON, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), status: 403},
		{name: "CrossOriginNoFetchMetadata", method: "POST", path: "/api/pledges", body: valid,
			header: with(asJSON, "Origin", "https://evil.example"), status: 403},
		{name: "TrailingObject", method: "POST", path: "/api/pledges", body: valid + valid, header: asJSON, status: 400},
		{name: "TrailingGarbage", method: "POST", path: "/api/pledges", body: valid + " x", header: asJSON, status: 400},
		{name: "DuplicateKey", method: "POST", path: "/api/pledges", header: asJSON, status: 400, field: "consent",
			body: `{"address_id":"` + id + `","name":"A","email":"a@example.dk","consent":false,"consent":true}`},
		{name: "UnknownField", method: "POST", path: "/api/pledges", header: asJSON, status: 400, field: "e-mail",
			body: `{"address_id":"` + id + `","name":"A","e-mail":"a@example.dk","consent":true}`},
		{name: "ArrayBody", method: "POST", path: "/api/pledges", body: "[" + valid + "]", header: asJSON, status: 400, check: noGoTypes},
		{name: "StringBody", method: "POST", path: "/api/pledges", body: `"hello"`, header: asJSON, status: 400, check: noGoTypes},
		{name: "UnitWrongType", method: "POST", path: "/api/pledges", body: pledgeBody(id, `unit:"one"`), header: asJSON,
			status: 400, field: "unit", check: noGoTypes},
		{name: "UnitOverflow", method: "POST", path: "/api/pledges", body: pledgeBody(id, `unit:99999999999999999999`),
			header: asJSON, status: 400, field: "unit", check: noGoTypes},
		{name: "UnitWrapsInt32", method: "POST", path: "/api/pledges", body: pledgeBody(id, `unit:4294967297`),
			header: asJSON, status: 400, field: "unit"},
		{name: "UnitFraction", method: "POST", path: "/api/pledges", body: pledgeBody(id, `unit:1.5`), header: asJSON,
			status: 400, field: "unit"},
		{name: "ConsentString", method: "POST", path: "/api/pledges", body: pledgeBody(id, `consent:"true"`), header: asJSON,
			status: 400, field: "consent", check: noGoTypes},
		{name: "HugeBody", method: "POST", path: "/api/pledges", header: asJSON, status: 400,
			body: pledgeBody(id, `name:"`+strings.Repeat("x", 10000)+`"`)},
		{name: "DeepNesting", method: "POST", path: "/api/pledges", header: asJSON, status: 400,
			body: `{"address_id":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`},
		{name: "NameNUL", method: "POST", path: "/api/pledges", body: pledgeBody(id, `name:"Ada\u0000"`), header: asJSON, status: 400, field: "name"},
		{name: "NameRLO", method: "POST", path: "/api/pledges", body: pledgeBody(id, `name:"Ada \u202eevoM"`), header: asJSON, status: 400, field: "name"},
		{name: "NameZWSP", method: "POST", path: "/api/pledges", body: pledgeBody(id, `name:"A\u200bda"`), header: asJSON, status: 400, field: "name"},
		{name: "NameESC", method: "POST", path: "/api/pledges", body: pledgeBody(id, `name:"\u001b[31mAda"`), header: asJSON, status: 400, field: "name"},
		{name: "NameInvalidUTF8", method: "POST", path: "/api/pledges", body: pledgeBody(id, "name:\"Ada\xff\""), header: asJSON, status: 400},
		{name: "EmailWordJoiner", method: "POST", path: "/api/pledges", body: pledgeBody(id, `email:"ada\u2060@example.dk"`), header: asJSON, status: 400, field: "email"},
		{name: "EmailBadHostname", method: "POST", path: "/api/pledges", body: pledgeBody(id, `email:"ada@-bad-.dk"`), header: asJSON, status: 400, field: "email"},
		{name: "EmailBadPunycode", method: "POST", path: "/api/pledges", body: pledgeBody(id, `email:"ada@xn--zz.dk"`), header: asJSON, status: 400, field: "email"},
		{name: "EmailUnderscoreHost", method: "POST", path: "/api/pledges", body: pledgeBody(id, `email:"ada@exa_mple.dk"`), header: asJSON, status: 400, field: "email"},
		{name: "PhoneBOM", method: "POST", path: "/api/pledges", body: pledgeBody(id, `phone:"\ufeff12345678"`), header: asJSON, status: 400, field: "phone"},
		{name: "IdempotencyKeyTooLong", method: "POST", path: "/api/pledges", body: valid,
			header: with(asJSON, "Idempotency-Key", strings.Repeat("k", 201)), status: 400, field: "Idempotency-Key"},
		{name: "IdempotencyKeyInvisible", method: "POST", path: "/api/pledges", body: valid,
			header: with(asJSON, "Idempotency-Key", "key\u200b"), status: 400, field: "Idempotency-Key"},
		{name: "IdempotencyKeyReused", method: "POST", path: "/api/pledges", body: pledgeBody(id, `unit:2`),
			header: with(asJSON, "Idempotency-Key", "fixture-key"), status: 409},
		{name: "UnitTaken", method: "POST", path: "/api/pledges", body: pledgeBody(id, `unit:1`), header: asJSON, status: 409},
		// Manage links, through the API and the pages.
		{name: "WithdrawCrossSite", method: "DELETE", path: "/api/pledges/" + f.token,
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "WithdrawUnknownToken", method: "DELETE", path: "/api/pledges/" + strings.Repeat("A", 43), status: 404},
		{name: "ManageTokenTraversal", method: "GET", path: "/api/pledges/..%2f..%2fetc%2fpasswd", status: 404},
		{name: "ManagePageUnknown", method: "GET", path: "/p/" + strings.Repeat("x", 43), status: 404, reject: []string{"Fixture Person"}},
		{name: "WithdrawFormNoCSRF", method: "POST", path: "/p/" + f.token + "/withdraw", form: url.Values{}, csrf: str(""), status: 403},
		{name: "WithdrawFormPlantedCSRF", method: "POST", path: "/p/" + f.token + "/withdraw", form: url.Values{}, csrf: str("x"),
			header: map[string]string{"Cookie": "kommunity_csrf=x"}, status: 403},
		{name: "WithdrawFormForgedSignature", method: "POST", path: "/p/" + f.token + "/withdraw", form: url.Values{},
			csrf: str(strings.Repeat("A", 67)), header: map[string]string{"Cookie": "kommunity_csrf=" + strings.Repeat("A", 67)}, status: 403},
		{name: "ContactFormInvisible", method: "POST", path: "/p/" + f.token + "/contact",
			form: url.Values{"name": {"Fixture\u202ePerson"}, "email": {"fixture@example.dk"}}, status: 400},
		{name: "ContactFormCrossSite", method: "POST", path: "/p/" + f.token + "/contact",
			form: url.Values{"name": {"Evil"}, "email": {"evil@example.dk"}}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		// The pledge form.
		{name: "PledgeFormNoCSRF", method: "POST", path: "/pledge", csrf: str(""),
			form: url.Values{"address_id": {id}, "name": {"Ada"}, "email": {"ada@example.dk"}, "consent": {"yes"}}, status: 403},
		{name: "PledgeFormRLO", method: "POST", path: "/pledge",
			form: url.Values{"address_id": {id}, "name": {"Ada\u202e"}, "email": {"ada@example.dk"}, "consent": {"yes"}}, status: 400},
		{name: "PledgeFormUnitOverflow", method: "POST", path: "/pledge",
			form: url.Values{"address_id": {id}, "unit": {"4294967297"}, "name": {"Ada"}, "email": {"ada@example.dk"}, "consent": {"yes"}}, status: 400},
		// Search and map reads never fail loudly on junk.
		{name: "SearchNUL", method: "GET", path: "/api/addresses?q=%00%00", status: 200},
		{name: "SearchBadEscape", method: "GET", path: "/api/addresses?q=%zz", status: 200},
		{name: "SearchHuge", method: "GET", path: "/api/addresses?q=" + strings.Repeat("a", 5000), status: 200},
		{name: "SearchPageHostile", method: "GET", path: "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", status: 200,
			reject: []string{"<script>alert(1)"}},
		{name: "BBoxNaN", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/addresses?bbox=NaN,0,1,1", status: 400, field: "bbox"},
		{name: "BBoxThree", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/addresses?bbox=1,2,3", status: 400, field: "bbox"},
		{name: "BBoxInverted", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/addresses?bbox=11,56,10,55", status: 400, field: "bbox"},
		{name: "CostTakeUpHostile", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/cost?take_up=1e309", status: 400},
		// Static files stay inside the embedded folder.
		{name: "StaticTraversal", method: "GET", path: "/static/../../go.mod", status: 404, reject: []string{"module github.com"}},
		{name: "StaticEncodedTraversal", method: "GET", path: "/static/%2e%2e/%2e%2e/go.mod", status: 404, reject: []string{"module github.com"}},
		{name: "StaticVendorTraversal", method: "GET", path: "/static/vendor/leaflet/..%2f..%2f..%2fweb.go", status: 404, reject: []string{"package web"}},
		{name: "StaticNUL", method: "GET", path: "/static/app.js%00.png", status: 404},
		// The tender download.
		{name: "TenderNoAuth", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/tender.zip", status: 401},
		{name: "TenderBasicAuth", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/tender.zip",
			header: map[string]string{"Authorization": "Basic " + f.adminToken}, status: 401},
		{name: "TenderTokenPrefix", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/tender.zip",
			header: bearer(f.adminToken[:len(f.adminToken)-1]), status: 401},
		{name: "TenderManageTokenAsBearer", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/tender.zip",
			header: bearer(f.token), status: 401},
		{name: "TenderTokenNoPrefix", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/tender.zip",
			header: bearer(strings.TrimPrefix(f.adminToken, "kmt_")), status: 401},
		{name: "TenderTokenHuge", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/tender.zip",
			header: bearer(strings.Repeat("x", 8000)), status: 401},
		{name: "TenderCodeTraversal", method: "GET", path: "/api/areas/..%2f..%2fetc/tender.zip",
			header: bearer(f.adminToken), status: 404},
		// Accounts: sign-in, invitations, tokens and resets take the same
		// strict JSON and refuse what is not theirs to give.
		{name: "SignInTextPlain", method: "POST", path: "/api/session", body: `{"email":"admin@kommune.example","password":"x"}`,
			header: map[string]string{"Content-Type": "text/plain"}, status: 415},
		{name: "SignInDuplicateKey", method: "POST", path: "/api/session", header: asJSON, status: 400, field: "password",
			body: `{"email":"admin@kommune.example","password":"a","password":"b"}`},
		{name: "SignInCrossSite", method: "POST", path: "/api/session", body: `{"email":"admin@kommune.example","password":"x"}`,
			header: with(asJSON, "Sec-Fetch-Site", "cross-site"), status: 403},
		{name: "SignInWrongPassword", method: "POST", path: "/api/session", header: asJSON, status: 401,
			body: `{"email":"admin@kommune.example","password":"not the password at all"}`},
		{name: "InvitationUnknown", method: "POST", path: "/api/invitations/" + strings.Repeat("A", 43), header: asJSON, status: 404,
			body: `{"password":"a long enough password","name":"X"}`},
		{name: "InvitationTokenTooLong", method: "GET", path: "/api/invitations/" + strings.Repeat("A", 500), status: 404},
		{name: "InviteAnonymous", method: "POST", path: "/api/invitations", header: asJSON, status: 401,
			body: `{"email":"evil@example.dk","role":"admin"}`},
		{name: "InviteWithReadToken", method: "POST", path: "/api/invitations", status: 403,
			body: `{"email":"evil@example.dk","role":"admin"}`, header: with(asJSON, "Authorization", "Bearer "+f.adminToken)},
		{name: "TokenAnonymous", method: "POST", path: "/api/tokens", header: asJSON, status: 401, body: `{"name":"x","scopes":["admin"]}`},
		{name: "ResetTokenForged", method: "POST", path: "/api/password-resets/" + strings.Repeat("B", 43), header: asJSON, status: 404,
			body: `{"password":"a long enough password"}`},
		{name: "PatchAreaAnonymous", method: "PATCH", path: "/api/areas/" + f.addr.AreaCode, header: asJSON, status: 401,
			body: `{"threshold_percent":1}`},
		{name: "PatchAreaReadToken", method: "PATCH", path: "/api/areas/" + f.addr.AreaCode, status: 403,
			body: `{"threshold_percent":1}`, header: with(asJSON, "Authorization", "Bearer "+f.adminToken)},
		{name: "PledgesContactAnonymous", method: "GET", path: "/api/areas/" + f.addr.AreaCode + "/pledges", status: 401,
			reject: []string{"Fixture Person", "fixture@example.dk"}},
		{name: "LoginFormOffsiteNext", method: "POST", path: "/login", status: 401,
			form: url.Values{"email": {"admin@kommune.example"}, "password": {"wrong"}, "next": {"//evil.example"}}, reject: []string{"evil.example"}},
	}
	cs = append(cs, f.tenderCases()...)
	cs = append(cs, f.walkCases()...)
	// Webhooks: URLs that would reach inside the network, or carry
	// credentials, and another company's endpoints, which are not found.
	prov := with(asJSON, "Authorization", "Bearer "+f.providerToken)
	hookBody := func(url string) string { return `{"url":` + url + `,"events":["tender.opened"]}` }
	otherHook := fmt.Sprint(f.otherHook)
	cs = append(cs, []hostile{
		{name: "WebhookAnonymous", method: "POST", path: "/api/webhooks", header: asJSON, status: 401, body: hookBody(`"https://hooks.example/"`)},
		{name: "WebhookReadToken", method: "POST", path: "/api/webhooks", status: 403, body: hookBody(`"https://hooks.example/"`),
			header: with(asJSON, "Authorization", "Bearer "+f.adminToken)},
		{name: "WebhookLoopback", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"http://127.0.0.1:8080/"`)},
		{name: "WebhookLoopbackV6Mapped", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"http://[::ffff:127.0.0.1]/"`)},
		{name: "WebhookMetadata", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"http://169.254.169.254/latest/meta-data/"`)},
		{name: "WebhookPrivate", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"https://10.0.0.7/hook"`)},
		{name: "WebhookLocalhost", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"http://localhost/"`)},
		{name: "WebhookCredentials", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"https://u:p@hooks.example/"`)},
		{name: "WebhookJavascript", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"javascript:alert(1)"`)},
		{name: "WebhookFile", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"file:///etc/passwd"`)},
		{name: "WebhookURLTooLong", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`"https://hooks.example/` + strings.Repeat("a", 2100) + `"`)},
		{name: "WebhookURLNumber", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "url", body: hookBody(`42`)},
		{name: "WebhookUnknownEvent", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "events",
			body: `{"url":"https://hooks.example/","events":["pledge.created"]}`},
		{name: "WebhookEventsString", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "events",
			body: `{"url":"https://hooks.example/","events":"tender.opened"}`},
		{name: "WebhookNoEvents", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "events", body: `{"url":"https://hooks.example/","events":[]}`},
		{name: "WebhookSecretField", method: "POST", path: "/api/webhooks", header: prov, status: 400, field: "secret",
			body: `{"url":"https://hooks.example/","events":["tender.opened"],"secret":"whsec_mine"}`},
		{name: "WebhookOtherDeliveries", method: "GET", path: "/api/webhooks/" + otherHook + "/deliveries", header: prov, status: 404, reject: []string{"hooks1.example"}},
		{name: "WebhookOtherDelete", method: "DELETE", path: "/api/webhooks/" + otherHook, header: prov, status: 404},
		{name: "WebhookOtherRotate", method: "POST", path: "/api/webhooks/" + otherHook + "/rotate", header: prov, status: 404, reject: []string{"whsec_"}},
		{name: "WebhookOtherReplay", method: "POST", path: "/api/webhooks/" + otherHook + "/deliveries/1/replay", header: prov, status: 404},
		{name: "WebhookListHidesOther", method: "GET", path: "/api/webhooks", header: prov, status: 200, reject: []string{"hooks1.example", "whsec_"}},
		{name: "WebhookIDNotNumber", method: "GET", path: "/api/webhooks/..%2f1/deliveries", header: prov, status: 404},
		{name: "WebhookIDHuge", method: "DELETE", path: "/api/webhooks/99999999999999999999999", header: prov, status: 404},
		{name: "WebhookReplayNotNumber", method: "POST", path: "/api/webhooks/" + fmt.Sprint(f.hook) + "/deliveries/-1/replay", header: prov, status: 404},
		{name: "WebhookReplayUnknown", method: "POST", path: "/api/webhooks/" + fmt.Sprint(f.hook) + "/deliveries/424242/replay", header: prov, status: 404},
		{name: "WebhookFormAnonymous", method: "POST", path: "/provider/webhooks", status: 303,
			form: url.Values{"url": {"https://hooks.example/"}, "event": {"tender.opened"}}},
		{name: "WebhookFormForgedCSRF", method: "POST", path: "/provider/webhooks", status: 403, csrf: str("forged"),
			form: url.Values{"url": {"https://hooks.example/"}, "event": {"tender.opened"}}},
	}...)
	// Manage tokens of every wrong length.
	for _, n := range []int{1, 2, 16, 31, 42, 43, 44, 64, 200, 201, 1000} {
		tok := strings.Repeat("Q", n)
		cs = append(cs,
			hostile{name: fmt.Sprintf("TokenLength%d", n), method: "GET", path: "/api/pledges/" + tok, status: 404},
			hostile{name: fmt.Sprintf("TokenLength%dPage", n), method: "GET", path: "/p/" + tok + "/receipt", status: 404})
	}
	return cs
}

// run sends one case as a browser would: form posts carry the cookie and
// CSRF field that the address page issued, unless the case forges them.
func (f *catalogueFixture) run(t *testing.T, c hostile) *httptest.ResponseRecorder {
	t.Helper()
	cl := newClient(t, f.srv, "198.51.100.20")
	var req *http.Request
	if c.form != nil {
		form := url.Values{}
		for k, v := range c.form {
			form[k] = v
		}
		page := cl.get("/address?id=" + url.QueryEscape(f.addr.ID))
		h := hidden(page.Body.String())
		form.Set("csrf_token", h.Get("csrf_token"))
		form.Set("idempotency_key", h.Get("idempotency_key"))
		if c.csrf != nil {
			form.Set("csrf_token", *c.csrf)
			delete(cl.cookies, "kommunity_csrf")
		}
		req = httptest.NewRequest(c.method, c.path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
		req.URL, _ = url.Parse(c.path)
		req.RequestURI = c.path
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	return cl.do(req)
}

func runCatalogue(t *testing.T, st pledge.Store) {
	f := newCatalogueFixture(t, st)
	cases := f.cases()
	if len(cases) < 40 {
		t.Fatalf("the catalogue has %d cases, want at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.state(t)
			w := f.run(t, c)
			if w.Code != c.status {
				t.Errorf("status %d, want %d: %.300s", w.Code, c.status, w.Body)
			}
			if c.field != "" {
				var e struct {
					Error struct{ Field string } `json:"error"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Field != c.field {
					t.Errorf("error field %q (%v), want %q: %s", e.Error.Field, err, c.field, w.Body)
				}
			}
			if w.Code >= 500 || strings.Contains(w.Body.String(), "goroutine ") {
				t.Errorf("internal failure reached the client: %d %.300s", w.Code, w.Body)
			}
			for _, r := range c.reject {
				if strings.Contains(w.Body.String(), r) || strings.Contains(w.Header().Get("Location"), r) {
					t.Errorf("response holds %q", r)
				}
			}
			if c.check != nil {
				c.check(t, w)
			}
			if after := f.state(t); !reflect.DeepEqual(before, after) {
				t.Errorf("the store changed: %s", stateDiff(before, after))
			}
		})
	}
}

// stateDiff names what differs between two states, briefly.
func stateDiff(a, b storeState) string {
	var d []string
	if !reflect.DeepEqual(a.Areas, b.Areas) {
		d = append(d, "areas")
	}
	if a.Unassigned != b.Unassigned {
		d = append(d, "unassigned")
	}
	for id, n := range b.Pledged {
		if a.Pledged[id] != n {
			d = append(d, fmt.Sprintf("address %s pledged %d -> %d", id, a.Pledged[id], n))
		}
	}
	for id, n := range a.Pledged {
		if _, ok := b.Pledged[id]; !ok {
			d = append(d, fmt.Sprintf("address %s pledged %d -> 0", id, n))
		}
	}
	if a.Events != b.Events {
		d = append(d, fmt.Sprintf("events %d -> %d", a.Events, b.Events))
	}
	if a.Fixture != b.Fixture {
		d = append(d, fmt.Sprintf("fixture pledge %+v -> %+v", a.Fixture, b.Fixture))
	}
	if !reflect.DeepEqual(a.Users, b.Users) {
		d = append(d, "users")
	}
	if a.Audit != b.Audit {
		d = append(d, fmt.Sprintf("audit entries %d -> %d", a.Audit, b.Audit))
	}
	if !reflect.DeepEqual(a.Webhooks, b.Webhooks) {
		d = append(d, "webhooks")
	}
	return strings.Join(d, "; ")
}

func TestBadInputCatalogueSQLite(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	runCatalogue(t, st)
}

func TestBadInputCataloguePostgres(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	runCatalogue(t, st)
}

// A slow body (a client that trickles its request to hold a connection)
// is cut off by the server's read timeout and stores nothing.
func TestSlowBodyIsCutOff(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := newCatalogueFixture(t, st)
	ts := httptest.NewUnstartedServer(f.srv)
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	before := f.state(t)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := pledgeBody(f.addr.ID, `unit:2`)
	fmt.Fprintf(conn, "POST /api/pledges HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	start := time.Now()
	var resp []byte
	for i := 0; i < len(body); i++ {
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			break // the server closed the connection: good
		}
		time.Sleep(50 * time.Millisecond)
		if time.Since(start) > 3*time.Second {
			break
		}
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, _ = io.ReadAll(conn)
	if strings.Contains(string(resp), "201 Created") {
		t.Fatalf("a trickled body was accepted: %s", resp)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("the server held the slow connection for %v", time.Since(start))
	}
	if after := f.state(t); !reflect.DeepEqual(before, after) {
		t.Errorf("the store changed")
	}
}

// The request's Host and X-Forwarded-Proto never shape a link: without a
// public URL links are relative; with one they use it, whatever the
// client sends.
func TestHostHeaderDoesNotShapeLinks(t *testing.T) {
	for _, public := range []string{"", "https://kommunity.example"} {
		t.Run("PublicURL="+public, func(t *testing.T) {
			svc, m := MustOpenDemoService(t, func() time.Time { return catalogueNow })
			srv := web.NewServer(svc, web.Config{PublicURL: public, PledgeRateLimit: -1}, quietLog())
			addr := addressWith(t, svc, m, 1, 0)
			cl := newClient(t, srv, "198.51.100.30")
			cl.header.Set("X-Forwarded-Proto", "https")
			cl.header.Set("X-Forwarded-Host", "evil.example")
			page := cl.do(withHost(httptest.NewRequest("GET", "/address?id="+url.QueryEscape(addr.ID), nil), "evil.example"))
			form := hidden(page.Body.String())
			form.Set("address_id", addr.ID)
			form.Set("name", "Ada")
			form.Set("email", "ada@example.dk")
			form.Set("consent", "yes")
			req := httptest.NewRequest("POST", "/pledge", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := cl.do(withHost(req, "evil.example"))
			loc := w.Header().Get("Location")
			if w.Code != http.StatusSeeOther || strings.Contains(loc, "evil") || !strings.HasPrefix(loc, public+"/p/") {
				t.Fatalf("redirect %d %q, want %s/p/...", w.Code, loc, public)
			}
			r := cl.do(withHost(httptest.NewRequest("GET", strings.TrimPrefix(loc, public), nil), "evil.example"))
			if strings.Contains(r.Body.String(), "evil.example") {
				t.Errorf("the receipt links to the client's Host")
			}
			token := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(loc, public), "/p/"), "/receipt")
			if !strings.Contains(r.Body.String(), ">"+public+"/p/"+token+"<") {
				t.Errorf("the receipt does not show %s/p/%s", public, token)
			}
			api := cl.do(withHost(jsonRequest("POST", "/api/pledges", pledgeBody(addressWith(t, svc, m, 1, 0).ID, "")), "evil.example"))
			var got struct {
				Token     string `json:"token"`
				ManageURL string `json:"manage_url"`
			}
			_ = json.Unmarshal(api.Body.Bytes(), &got)
			if api.Code != 201 || got.ManageURL != public+"/p/"+got.Token {
				t.Errorf("API manage_url %q (%d), want %s/p/%s", got.ManageURL, api.Code, public, got.Token)
			}
			hsts := api.Header().Get("Strict-Transport-Security")
			if (public != "") != (hsts != "") {
				t.Errorf("HSTS %q with public URL %q", hsts, public)
			}
		})
	}
}

func withHost(r *http.Request, host string) *http.Request {
	r.Host = host
	return r
}

func jsonRequest(method, path, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// multipartBid is a multipart bid body of parts name=content (a part
// named "attachment" is a file called offer.pdf) and its Content-Type.
func multipartBid(parts ...string) (string, map[string]string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(parts); i += 2 {
		if parts[i] == "attachment" {
			fw, _ := w.CreateFormFile("attachment", "offer.pdf")
			fw.Write([]byte(parts[i+1]))
			continue
		}
		w.WriteField(parts[i], parts[i+1])
	}
	w.Close()
	return b.String(), map[string]string{"Content-Type": w.FormDataContentType()}
}

// tenderCases are hostile tender, bid and award requests: each must be
// refused with its field and change nothing (no bid, no status move).
func (f *catalogueFixture) tenderCases() []hostile {
	code := f.addr.AreaCode
	auth := func(tok string, kv ...string) map[string]string {
		h := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	valid := `{"price_per_connection":2500000,"household_contribution":500000,"timeline_months":12,"open_access":true,"notes":"x"}`
	notPDF, notPDFHeader := multipartBid("bid", valid, "attachment", "MZ\x90 an executable renamed offer.pdf %%EOF")
	noBid, noBidHeader := multipartBid("attachment", "%PDF-1.4 x %%EOF")
	badJSONPart, badJSONHeader := multipartBid("bid", `{"price_per_connection":"lots"}`)
	extra, extraHeader := multipartBid("bid", valid, "evil", "x")
	withTok := func(h map[string]string, tok string) map[string]string {
		h["Authorization"] = "Bearer " + tok
		return h
	}
	return []hostile{
		{name: "TenderDeadlineNotADate", method: "POST", path: "/api/areas/" + code + "/tender", header: auth(f.coordToken), status: 400, field: "deadline",
			body: `{"deadline":"next friday"}`},
		{name: "TenderDeadlineUnknownField", method: "POST", path: "/api/areas/" + code + "/tender", header: auth(f.coordToken), status: 400,
			body: `{"deadline":"2027-01-01","status":"awarded"}`},
		{name: "TenderContactInvisible", method: "POST", path: "/api/areas/" + code + "/tender", header: auth(f.coordToken), status: 400, field: "contact",
			body: `{"deadline":"2027-01-01","contact":"Bo\u202e"}`},
		{name: "TenderByProvider", method: "POST", path: "/api/areas/" + code + "/tender", header: auth(f.bidToken), status: 403,
			body: `{"deadline":"2027-01-01"}`},
		{name: "TenderReadToken", method: "POST", path: "/api/areas/" + code + "/tender", header: auth(f.adminToken), status: 403,
			body: `{"deadline":"2027-01-01"}`},
		{name: "BidNegativePrice", method: "POST", path: "/api/areas/" + code + "/bids", header: auth(f.bidToken), status: 400, field: "price_per_connection",
			body: `{"price_per_connection":-1,"household_contribution":0,"timeline_months":12}`},
		{name: "BidHugeTimeline", method: "POST", path: "/api/areas/" + code + "/bids", header: auth(f.bidToken), status: 400, field: "timeline_months",
			body: `{"price_per_connection":1,"household_contribution":0,"timeline_months":100000}`},
		{name: "BidNotesTooLong", method: "POST", path: "/api/areas/" + code + "/bids", header: auth(f.bidToken), status: 400, field: "notes",
			body: `{"price_per_connection":1,"household_contribution":0,"timeline_months":1,"notes":"` + strings.Repeat("n", 5001) + `"}`},
		{name: "BidDisguisedPDF", method: "POST", path: "/api/areas/" + code + "/bids", header: withTok(notPDFHeader, f.bidToken), status: 400, field: "attachment", body: notPDF},
		{name: "BidMultipartNoBidPart", method: "POST", path: "/api/areas/" + code + "/bids", header: withTok(noBidHeader, f.bidToken), status: 400, field: "bid", body: noBid},
		{name: "BidMultipartBadJSON", method: "POST", path: "/api/areas/" + code + "/bids", header: withTok(badJSONHeader, f.bidToken), status: 400, body: badJSONPart, check: noGoTypes},
		{name: "BidMultipartUnknownPart", method: "POST", path: "/api/areas/" + code + "/bids", header: withTok(extraHeader, f.bidToken), status: 400, field: "evil", body: extra},
		{name: "BidTextPlain", method: "POST", path: "/api/areas/" + code + "/bids", header: auth(f.bidToken, "Content-Type", "text/plain"), status: 415, body: valid},
		{name: "BidNotOpen", method: "POST", path: "/api/areas/" + code + "/bids", header: auth(f.bidToken), status: 409, body: valid},
		{name: "BidAnonymous", method: "POST", path: "/api/areas/" + code + "/bids", header: map[string]string{"Content-Type": "application/json"}, status: 401, body: valid},
		{name: "BidByCoordinator", method: "POST", path: "/api/areas/" + code + "/bids", header: auth(f.coordToken), status: 403, body: valid},
		{name: "AwardNoReason", method: "POST", path: "/api/areas/" + code + "/award", header: auth(f.coordToken), status: 400, field: "reason",
			body: `{"bid_id":1,"reason":""}`},
		{name: "AwardBidIDString", method: "POST", path: "/api/areas/" + code + "/award", header: auth(f.coordToken), status: 400,
			body: `{"bid_id":"1; DROP TABLE bids","reason":"x"}`, check: noGoTypes},
		{name: "BidIDNotANumber", method: "PUT", path: "/api/bids/1e3", header: auth(f.bidToken), status: 404, body: valid},
		{name: "SubsidyRulesAnonymous", method: "POST", path: "/api/subsidy-rules", header: map[string]string{"Content-Type": "application/json"}, status: 401,
			body: `{"name":"x","valid_from":"2027-01-01"}`},
		{name: "SubsidyRulesReadToken", method: "POST", path: "/api/subsidy-rules", header: auth(f.adminToken), status: 403,
			body: `{"name":"x","valid_from":"2027-01-01"}`},
		{name: "SubsidyAnnexUnknownRules", method: "GET", path: "/api/areas/" + code + "/export/subsidy.csv?rules=..%2F..%2Fetc%2Fpasswd", header: auth(f.adminToken), status: 400, field: "rules"},
		{name: "SubsidyAnnexBadLang", method: "GET", path: "/api/areas/" + code + "/export/subsidy.pdf?lang=xx", header: auth(f.adminToken), status: 400, field: "lang"},
		{name: "PledgesCSVAnonymous", method: "GET", path: "/api/areas/" + code + "/export/pledges.csv", status: 401, reject: []string{"Fixture Person", "fixture@example.dk"}},
		{name: "PledgesCSVProvider", method: "GET", path: "/api/areas/" + code + "/export/pledges.csv", header: auth(f.bidToken), status: 403, reject: []string{"Fixture Person", "fixture@example.dk"}},
		{name: "EntryNoContact", method: "POST", path: "/api/areas/" + code + "/pledges", header: auth(f.coordToken), status: 400,
			body: `{"address_id":"` + f.addr.ID + `","name":"Papir Person"}`},
		{name: "EntryBadWalkCode", method: "POST", path: "/api/areas/" + code + "/pledges", header: auth(f.coordToken), status: 400, field: "code",
			body: `{"code":"'; DROP TABLE pledges; --","name":"X","phone":"12345678"}`},
		{name: "EntryUnknownSource", method: "POST", path: "/api/areas/" + code + "/pledges", header: auth(f.coordToken), status: 400, field: "source",
			body: `{"address_id":"` + f.addr.ID + `","name":"X","phone":"12345678","source":"fax"}`},
		{name: "EntryUnknownField", method: "POST", path: "/api/areas/" + code + "/pledges", header: auth(f.coordToken), status: 400,
			body: `{"address_id":"` + f.addr.ID + `","name":"X","phone":"12345678","status":"active"}`},
		{name: "EntryReadToken", method: "POST", path: "/api/areas/" + code + "/pledges", header: auth(f.adminToken), status: 403,
			body: `{"address_id":"` + f.addr.ID + `","name":"X","phone":"12345678"}`},
		{name: "EntryByProvider", method: "POST", path: "/api/areas/" + code + "/pledges", header: auth(f.bidToken), status: 403,
			body: `{"address_id":"` + f.addr.ID + `","name":"X","phone":"12345678"}`},
		{name: "MoveBackByCoordinator", method: "POST", path: "/api/areas/" + code + "/move-back", header: auth(f.coordToken), status: 403,
			body: `{"to":"collecting","reason":"x"}`},
	}
}

// noGoTypes fails when an error body names Go internals.
func noGoTypes(t *testing.T, w *httptest.ResponseRecorder) {
	for _, leak := range []string{"web.", "pledge.", "int", "struct", "json:", "Go "} {
		if strings.Contains(w.Body.String(), leak) {
			t.Errorf("body names Go internals (%q): %s", leak, w.Body)
		}
	}
}
