package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
	"github.com/paulmach/orb"
)

var apiNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type apiFixture struct {
	srv  *httptest.Server
	svc  *pledge.Service
	logs *bytes.Buffer
}

// newAPIFixture serves the API over a real SQLite store with two areas.
func newAPIFixture(t *testing.T, wrap func(pledge.Store) pledge.Store) *apiFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := pledge.NewService(st)
	svc.Now = func() time.Time { return apiNow }
	sq := func(x float64) orb.MultiPolygon {
		return orb.MultiPolygon{{orb.Ring{{x, 55}, {x + 1, 55}, {x + 1, 56}, {x, 56}, {x, 55}}}}
	}
	if _, err := svc.ImportAreas(ctx, []geo.AreaFeature{{Code: "A", Name: "Åby", Polygon: sq(10)}, {Code: "B", Name: "Bøl", Polygon: sq(12)}}, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	r := pledge.Records{
		{ID: "a1", Text: "Nørregade 1, 5000 Åby", Point: orb.Point{10.5, 55.5}, Units: 1},
		{ID: "a2", Text: "Nørregade 2, 5000 Åby", Point: orb.Point{10.6, 55.5}, Units: 2},
		{ID: "b1", Text: "Bakken 1, 6000 Bøl", Point: orb.Point{12.5, 55.5}, Units: 1},
		{ID: "x1", Text: "Havet 1", Point: orb.Point{20, 50}, Units: 1},
	}
	if _, err := svc.ImportAddresses(ctx, &r, pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		// The same database behind a wrapper that breaks it on purpose.
		svc = pledge.NewService(wrap(st))
		svc.Now = func() time.Time { return apiNow }
	}
	logs := &bytes.Buffer{}
	// The rate limit has its own tests; here it would cut the tables short.
	h := web.NewServer(svc, web.Config{MaxBodyBytes: 1024, PledgeRateLimit: 1000}, slog.New(slog.NewTextHandler(logs, nil)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &apiFixture{srv: srv, svc: svc, logs: logs}
}

func (f *apiFixture) do(t *testing.T, method, path, body string, header ...string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

func errField(m map[string]any) (code, field string) {
	e, _ := m["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return
}

func TestPledgeValidationErrors(t *testing.T) {
	f := newAPIFixture(t, nil)
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"NoAddress", `{"name":"A","email":"a@example.dk","consent":true}`, 400, "address_id"},
		{"UnknownAddress", `{"address_id":"zz","name":"A","email":"a@example.dk","consent":true}`, 400, "address_id"},
		{"OutsideAreas", `{"address_id":"x1","name":"A","email":"a@example.dk","consent":true}`, 400, "address_id"},
		{"NoName", `{"address_id":"a1","email":"a@example.dk","consent":true}`, 400, "name"},
		{"NoContact", `{"address_id":"a1","name":"A","consent":true}`, 400, "email"},
		{"BadEmail", `{"address_id":"a1","name":"A","email":"a@b","consent":true}`, 400, "email"},
		{"BadPhone", `{"address_id":"a1","name":"A","phone":"12ab","consent":true}`, 400, "phone"},
		{"NoConsent", `{"address_id":"a1","name":"A","email":"a@example.dk"}`, 400, "consent"},
		{"UnitTooHigh", `{"address_id":"a2","unit":3,"name":"A","email":"a@example.dk","consent":true}`, 400, "unit"},
		{"NegativeUnit", `{"address_id":"a2","unit":-1,"name":"A","email":"a@example.dk","consent":true}`, 400, "unit"},
		{"WrongType", `{"address_id":"a1","unit":"one","name":"A","email":"a@example.dk","consent":true}`, 400, "unit"},
		{"NotJSON", `{"address_id":`, 400, ""},
		{"Empty", ``, 400, ""},
		{"TooLarge", `{"name":"` + strings.Repeat("x", 2000) + `"}`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m, raw := f.do(t, "POST", "/api/pledges", tc.body)
			code, field := errField(m)
			if status != tc.status || code != pledge.EINVALID || field != tc.field {
				t.Errorf("got %d %s", status, raw)
			}
		})
	}
	// None of those stored anything.
	a, _ := f.svc.Area(context.Background(), "A")
	if a.PledgedUnits != 0 {
		t.Errorf("rejected pledges left %d pledged units", a.PledgedUnits)
	}
}

func TestPledgeAPI(t *testing.T) {
	f := newAPIFixture(t, nil)
	body := `{"address_id":"a2","name":"Åse Ørsted","email":"aase@example.dk","phone":"+45 12 34 56 78","consent":true}`
	status, m, raw := f.do(t, "POST", "/api/pledges", body, "Idempotency-Key", "k-1")
	if status != 201 || m["unit"] != 1.0 || m["token"] == "" || m["manage_url"] != "/p/"+m["token"].(string) {
		t.Fatalf("create: %d %s", status, raw)
	}
	token := m["token"].(string)
	// A retry with the same key returns the same pledge, not a second one.
	status, m2, _ := f.do(t, "POST", "/api/pledges", body, "Idempotency-Key", "k-1")
	if status != 201 || m2["token"] != token {
		t.Errorf("retry: %d %v", status, m2)
	}
	status, _, _ = f.do(t, "POST", "/api/pledges", strings.Replace(body, "Åse", "Anden", 1), "Idempotency-Key", "k-1")
	if status != 409 {
		t.Errorf("same key, other request: %d, want 409", status)
	}
	status, _, _ = f.do(t, "POST", "/api/pledges", strings.Replace(body, "aase", "b", 1))
	if status != 201 {
		t.Errorf("second unit: %d", status)
	}
	status, m, _ = f.do(t, "POST", "/api/pledges", strings.Replace(body, "aase", "c", 1))
	if code, _ := errField(m); status != 409 || code != pledge.ECONFLICT {
		t.Errorf("one more than the units: %d %v, want 409", status, m)
	}
	var area map[string]any
	_, area, _ = f.do(t, "GET", "/api/areas/A", "")
	if area["pledged_units"] != 2.0 || area["units"] != 3.0 || area["take_up"] != 0.6667 || area["status"] != "threshold_reached" {
		t.Errorf("area after pledges: %v", area)
	}
	status, m, _ = f.do(t, "GET", "/api/pledges/"+token, "")
	if status != 200 || m["name"] != "Åse Ørsted" || m["status"] != "active" {
		t.Errorf("get own pledge: %d %v", status, m)
	}
	status, m, _ = f.do(t, "DELETE", "/api/pledges/"+token, "")
	if status != 200 || m["status"] != "withdrawn" || m["name"] != "" {
		t.Errorf("withdraw: %d %v", status, m)
	}
	status, _, _ = f.do(t, "DELETE", "/api/pledges/"+token, "")
	if status != 404 {
		t.Errorf("withdraw twice: %d, want 404", status)
	}
	if status, _, _ = f.do(t, "GET", "/api/pledges/unknown-token", ""); status != 404 {
		t.Errorf("unknown token: %d", status)
	}
	// Tokens are secrets: they never reach the log.
	if strings.Contains(f.logs.String(), token) {
		t.Errorf("a manage token was logged")
	}
}

// Public responses carry counts, never who pledged.
func TestPublicResponsesHaveNoPersonalData(t *testing.T) {
	f := newAPIFixture(t, nil)
	body := `{"address_id":"a1","name":"Zacharias Quist","email":"zq-secret@example.dk","phone":"+45 99 88 77 66","consent":true}`
	if status, _, raw := f.do(t, "POST", "/api/pledges", body); status != 201 {
		t.Fatal(raw)
	}
	for _, path := range []string{"/api/areas", "/api/areas/A", "/api/areas/A/addresses", "/api/areas/A/addresses?bbox=10,55,11,56",
		"/api/addresses?q=norregade", "/api/addresses?q=Nørregade%201", "/healthz"} {
		status, _, raw := f.do(t, "GET", path, "")
		if status != 200 {
			t.Errorf("%s: %d %s", path, status, raw)
		}
		for _, secret := range []string{"Zacharias", "Quist", "zq-secret", "99 88 77 66", "token"} {
			if strings.Contains(raw, secret) {
				t.Errorf("%s leaks %q: %s", path, secret, raw)
			}
		}
	}
	_, m, _ := f.do(t, "GET", "/api/addresses?q=norregade%201", "")
	list, _ := m["addresses"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["pledged_units"] != 1.0 {
		t.Errorf("search result: %v", m)
	}
	for _, secret := range []string{"Zacharias", "zq-secret"} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the log holds personal data %q", secret)
		}
	}
}

func TestAPIReadErrors(t *testing.T) {
	f := newAPIFixture(t, nil)
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/api/areas/NOPE", 404, pledge.ENOTFOUND},
		{"/api/areas/NOPE/addresses", 404, pledge.ENOTFOUND},
		{"/api/areas/A/addresses?bbox=1,2,3", 400, pledge.EINVALID},
		{"/api/areas/A/addresses?bbox=a,b,c,d", 400, pledge.EINVALID},
		{"/api/areas/A/addresses?bbox=11,55,10,56", 400, pledge.EINVALID},
		{"/api/nothing", 404, pledge.ENOTFOUND},
	} {
		status, m, raw := f.do(t, "GET", tc.path, "")
		if code, _ := errField(m); status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.path, status, raw, tc.status, tc.code)
		}
	}
	if status, _, _ := f.do(t, "PUT", "/api/areas", ""); status != 405 {
		t.Errorf("PUT /api/areas: %d, want 405", status)
	}
}

// brokenStore fails or panics where told, to see what reaches the client.
type brokenStore struct {
	pledge.Store
	panics bool
}

func (b brokenStore) Areas(ctx context.Context, geom bool) ([]pledge.Area, error) {
	if b.panics {
		panic("boom: secret internal detail")
	}
	return nil, errors.New("disk I/O error at /var/secret/path")
}

func (b brokenStore) Ping(ctx context.Context) error { return errors.New("connection refused") }

func TestInternalErrorsDoNotLeak(t *testing.T) {
	for _, panics := range []bool{false, true} {
		f := newAPIFixture(t, func(s pledge.Store) pledge.Store { return brokenStore{Store: s, panics: panics} })
		status, m, raw := f.do(t, "GET", "/api/areas", "")
		if code, _ := errField(m); status != 500 || code != pledge.EINTERNAL || strings.Contains(raw, "secret") || strings.Contains(raw, "goroutine") {
			t.Errorf("panics=%v: %d %s", panics, status, raw)
		}
		if !strings.Contains(f.logs.String(), "secret") {
			t.Errorf("panics=%v: the cause was not logged", panics)
		}
		if status, _, raw := f.do(t, "GET", "/healthz", ""); status != 503 || strings.Contains(raw, "refused") {
			t.Errorf("healthz with a dead store: %d %s", status, raw)
		}
	}
}
