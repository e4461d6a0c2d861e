package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/web"
)

// One IPv6 client holds a whole /64: the limit counts the network, so
// rotating the interface bits buys nothing, while another /64 is another
// client.
func TestRateLimitIPv6Per64(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{PledgeRateLimit: 2, PledgeRateWindow: time.Hour})
	post := func(ip string) int {
		addr := addressWith(t, svc, m, 1, 0)
		return newClient(t, srv, ip).postJSON("/api/pledges", pledgeBody(addr.ID, "")).Code
	}
	for i, ip := range []string{"[2001:db8:1:2::1]", "[2001:db8:1:2:ffff::9]"} {
		if got := post(ip); got != http.StatusCreated {
			t.Fatalf("pledge %d from %s: %d", i+1, ip, got)
		}
	}
	if got := post("[2001:db8:1:2:dead:beef:0:1]"); got != http.StatusTooManyRequests {
		t.Errorf("third pledge from the same /64: %d, want 429", got)
	}
	if got := post("[2001:db8:1:3::1]"); got != http.StatusCreated {
		t.Errorf("a pledge from another /64: %d, want 201", got)
	}
}

// Guessing API tokens is throttled per client: after the limit of
// failures each further guess is a 429 without being checked, while a
// script with its real token keeps working.
func TestBadTokensThrottled(t *testing.T) {
	srv, adminToken := tenderServer(t)
	get := func(tok string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/areas/D001/tender.zip", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.RemoteAddr = "203.0.113.5:4000"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w.Code
	}
	for i := range 30 {
		if got := get(fmt.Sprintf("kmt_guess%02d", i)); got != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, got)
		}
	}
	if got := get("kmt_guess31"); got != http.StatusTooManyRequests {
		t.Errorf("31st guess: %d, want 429", got)
	}
	if got := get(adminToken); got != http.StatusOK {
		t.Errorf("the real token after the flood: %d, want 200", got)
	}
}

// Every response says nosniff and a Permissions-Policy; API responses are
// not cached; an https public URL adds HSTS and makes the CSRF cookie
// Secure with the __Host- prefix.
func TestSecurityHeadersAndCookies(t *testing.T) {
	for _, public := range []string{"", "https://kommunity.example"} {
		t.Run("PublicURL="+public, func(t *testing.T) {
			srv, svc, m := newServer(t, web.Config{PublicURL: public})
			cl := newClient(t, srv, "198.51.100.40")
			for _, path := range []string{"/api/areas", "/healthz", "/static/app.js", "/", "/api/areas/nope"} {
				w := cl.get(path)
				h := w.Header()
				if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Permissions-Policy"), "camera=()") {
					t.Errorf("%s: nosniff %q, Permissions-Policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Permissions-Policy"))
				}
				if strings.HasPrefix(path, "/api/") && h.Get("Cache-Control") == "" {
					t.Errorf("%s: no Cache-Control", path)
				}
				if hsts := h.Get("Strict-Transport-Security"); (public != "") != strings.Contains(hsts, "max-age=") {
					t.Errorf("%s: HSTS %q with public URL %q", path, hsts, public)
				}
			}
			w := cl.get("/address?id=" + addressWith(t, svc, m, 1, 0).ID)
			var found bool
			for _, ck := range w.Result().Cookies() {
				if !strings.HasSuffix(ck.Name, "kommunity_csrf") {
					continue
				}
				found = true
				https := public != ""
				if ck.Secure != https || strings.HasPrefix(ck.Name, "__Host-") != https || !ck.HttpOnly || ck.Path != "/" {
					t.Errorf("CSRF cookie %+v with public URL %q", ck, public)
				}
			}
			if !found {
				t.Error("no CSRF cookie issued")
			}
		})
	}
}

// Malformed requests count against the limit too: a client cannot probe
// or flood with requests that fail before the service sees them.
func TestRateLimitCountsMalformedRequests(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{PledgeRateLimit: 2, PledgeRateWindow: time.Hour})
	cl := newClient(t, srv, "198.51.100.41")
	if w := cl.postJSON("/api/pledges", `{"address_id":`); w.Code != http.StatusBadRequest {
		t.Fatalf("malformed: %d", w.Code)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/pledges", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	if w := cl.do(req); w.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d", w.Code)
	}
	w := cl.postJSON("/api/pledges", pledgeBody(addressWith(t, svc, m, 1, 0).ID, `email:" ada@example.dk"`))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("third attempt: %d (Retry-After %q), want 429", w.Code, w.Header().Get("Retry-After"))
	}
}
