package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// demoConfig is a small municipality: quick to import, big enough to have
// multi-unit addresses, areas above and below threshold.
var demoConfig = demo.Config{Seed: 1, Areas: 3, Addresses: 900}

// MustOpenDemoService opens a SQLite store in a temporary directory and
// fills it with the demo municipality through the service's own rules,
// the way `serve --demo` does, with deadlines 30-90 days after now.
func MustOpenDemoService(tb testing.TB, now func() time.Time) (*pledge.Service, demo.Municipality) {
	tb.Helper()
	_, svc, m := MustOpenDemoStore(tb, now)
	return svc, m
}

// MustOpenDemoStore is MustOpenDemoService with the store behind the
// service, for tests that run a dispatcher on it.
func MustOpenDemoStore(tb testing.TB, now func() time.Time) (pledge.Store, *pledge.Service, demo.Municipality) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "kommunity.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	svc := pledge.NewService(st)
	svc.Now = now
	m := demo.Generate(demoConfig)
	deadline := func(i int) time.Time {
		return now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 30*(i+1)).Add(23*time.Hour + 59*time.Minute)
	}
	noRoads := m
	noRoads.Roads = nil // straight-line routes: what these tests assert on
	if err := demo.Seed(ctx, svc, noRoads, deadline); err != nil {
		tb.Fatal(err)
	}
	return st, svc, m
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// client drives a handler in process with a cookie jar and a fixed
// client address, like one browser.
type client struct {
	tb      testing.TB
	h       http.Handler
	ip      string
	cookies map[string]*http.Cookie
	header  http.Header
}

func newClient(tb testing.TB, h http.Handler, ip string) *client {
	return &client{tb: tb, h: h, ip: ip, cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	c.tb.Helper()
	req.RemoteAddr = c.ip + ":40000"
	for k, v := range c.header {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		c.cookies[ck.Name] = ck
	}
	return w
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	c.tb.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (c *client) post(path string, form url.Values) *httptest.ResponseRecorder {
	c.tb.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) postJSON(path, body string) *httptest.ResponseRecorder {
	c.tb.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hidden returns the hidden fields of a page's forms.
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], m[2])
	}
	return v
}

// newServer is a web.Server over a demo store with a fixed clock.
func newServer(tb testing.TB, cfg web.Config) (*web.Server, *pledge.Service, demo.Municipality) {
	tb.Helper()
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc, m := MustOpenDemoService(tb, func() time.Time { return now })
	return web.NewServer(svc, cfg, quietLog()), svc, m
}

// addressWith returns a demo address inside an area with at least units
// units and no more than maxPledged of them pledged.
func addressWith(tb testing.TB, svc *pledge.Service, m demo.Municipality, units, maxPledged int) pledge.Address {
	tb.Helper()
	for _, a := range m.Areas {
		as, err := svc.AreaAddresses(context.Background(), a.Code, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, ad := range as {
			if ad.Units >= units && ad.PledgedUnits <= maxPledged {
				return ad
			}
		}
	}
	tb.Fatalf("no address with %d units and at most %d pledged", units, maxPledged)
	return pledge.Address{}
}
