package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// accountsServer is a demo server with a movable clock and an admin.
func accountsServer(t *testing.T, cfg web.Config) (*web.Server, *pledge.Service, *time.Time) {
	t.Helper()
	now := catalogueNow
	svc, _ := MustOpenDemoService(t, func() time.Time { return now })
	cfg.PledgeRateLimit = -1
	return web.NewServer(svc, cfg, quietLog()), svc, &now
}

func sysCtx() context.Context { return pledge.WithUser(context.Background(), pledge.SystemUser()) }

func signInJSON(cl *client, email, password string) *httptest.ResponseRecorder {
	return cl.postJSON("/api/session", `{"email":"`+email+`","password":"`+password+`"}`)
}

// Signing in never keeps a session the browser brought: a session id an
// attacker planted (or an old one) is ended, and the new one is another.
func TestSessionFixation(t *testing.T) {
	srv, svc, _ := accountsServer(t, web.Config{})
	u := mustUser(t, svc, pledge.InviteRequest{Email: "ada@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	attacker := newClient(t, srv, "203.0.113.1")
	if w := signInJSON(attacker, u.Email, authzPassword); w.Code != 200 {
		t.Fatalf("sign in: %d", w.Code)
	}
	planted := attacker.cookies["kommunity_session"].Value
	// The victim's browser carries the planted cookie and signs in.
	victim := newClient(t, srv, "198.51.100.1")
	victim.cookies["kommunity_session"] = &http.Cookie{Name: "kommunity_session", Value: planted}
	if w := signInJSON(victim, u.Email, authzPassword); w.Code != 200 {
		t.Fatalf("victim sign in: %d", w.Code)
	}
	fresh := victim.cookies["kommunity_session"]
	if fresh == nil || fresh.Value == planted {
		t.Fatal("sign-in kept the session the browser came with")
	}
	if !fresh.HttpOnly || fresh.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax", fresh)
	}
	if w := attacker.get("/api/session"); w.Code != http.StatusUnauthorized {
		t.Errorf("the planted session still works: %d", w.Code)
	}
	if w := victim.get("/api/session"); w.Code != 200 {
		t.Errorf("the new session does not work: %d", w.Code)
	}
}

// The sign-in form and the session API refuse cross-site requests and a
// missing CSRF token; the JSON sign-in refuses form bodies.
func TestSignInCSRF(t *testing.T) {
	srv, svc, _ := accountsServer(t, web.Config{})
	u := mustUser(t, svc, pledge.InviteRequest{Email: "ada@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	cl := newClient(t, srv, "198.51.100.2")
	form := url.Values{"email": {u.Email}, "password": {authzPassword}}
	if w := cl.post("/login", form); w.Code != http.StatusForbidden || cl.cookies["kommunity_session"] != nil {
		t.Errorf("login form without CSRF token: %d", w.Code)
	}
	req := httptest.NewRequest("POST", "/api/session", strings.NewReader(`{"email":"`+u.Email+`","password":"`+authzPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := cl.do(req); w.Code != http.StatusForbidden || cl.cookies["kommunity_session"] != nil {
		t.Errorf("cross-site JSON sign-in: %d", w.Code)
	}
	req = httptest.NewRequest("POST", "/api/session", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if w := cl.do(req); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded sign-in on the API: %d", w.Code)
	}
	// With the token from the page, the form signs in and redirects.
	page := cl.get("/login")
	form.Set("csrf_token", hidden(page.Body.String()).Get("csrf_token"))
	form.Set("next", "//evil.example/")
	w := cl.post("/login", form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/account" || cl.cookies["kommunity_session"] == nil {
		t.Errorf("login form: %d to %q (an off-site next must become /account)", w.Code, w.Header().Get("Location"))
	}
}

// Every account form refuses a post without the CSRF token.
func TestAccountFormsNeedCSRF(t *testing.T) {
	srv, svc, _ := accountsServer(t, web.Config{})
	u := mustUser(t, svc, pledge.InviteRequest{Email: "ada@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	cl := newClient(t, srv, "198.51.100.3")
	signInJSON(cl, u.Email, authzPassword)
	for _, path := range []string{"/logout", "/account/password", "/account/tokens", "/account/tokens/1/revoke",
		"/account/sessions/1/revoke", "/admin/users/invite", "/admin/users/1", "/reset", "/reset/x", "/invitations/x"} {
		if w := cl.post(path, url.Values{"name": {"x"}, "email": {"x@example.dk"}}); w.Code != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d, want 403", path, w.Code)
		}
	}
	if w := cl.get("/api/session"); w.Code != 200 {
		t.Errorf("a refused logout signed out anyway: %d", w.Code)
	}
}

// Guessing a password slows down and then locks, the same for an account
// that exists and one that does not.
func TestSignInBruteForce(t *testing.T) {
	srv, svc, _ := accountsServer(t, web.Config{})
	svc.SignInDelay = 20 * time.Millisecond // 20, 40, ... 640 ms: the 4th to 10th attempts wait 2.5 s in all
	u := mustUser(t, svc, pledge.InviteRequest{Email: "ada@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	for j, email := range []string{u.Email, "nobody@kommune.example"} {
		var codes []int
		var last *httptest.ResponseRecorder
		start := time.Now()
		for i := range 11 {
			// A new client each time: the account's count locks it.
			cl := newClient(t, srv, "203.0.113."+strconv.Itoa(1+j*20+i))
			last = signInJSON(cl, email, "wrong password guess")
			codes = append(codes, last.Code)
		}
		for i, c := range codes[:10] {
			if c != http.StatusUnauthorized {
				t.Errorf("%s: attempt %d: %d, want 401", email, i+1, c)
			}
		}
		if codes[10] != http.StatusTooManyRequests {
			t.Errorf("%s: 11th attempt: %d, want 429 (locked)", email, codes[10])
		}
		if time.Since(start) < 2*time.Second {
			t.Errorf("%s: 11 attempts took %v: no slow-down", email, time.Since(start))
		}
		var body struct{ Error struct{ Message string } }
		_ = json.Unmarshal(last.Body.Bytes(), &body)
		if strings.Contains(strings.ToLower(body.Error.Message), "exist") {
			t.Errorf("the lock says whether the account exists: %q", body.Error.Message)
		}
	}
	// Locked means locked: even the right password waits for the window.
	if w := signInJSON(newClient(t, srv, "192.0.2.50"), u.Email, authzPassword); w.Code != http.StatusTooManyRequests {
		t.Errorf("right password while locked: %d", w.Code)
	}
}

// A reset link works once and for an hour; using it ends every session.
func TestPasswordResetSingleUse(t *testing.T) {
	srv, svc, now := accountsServer(t, web.Config{})
	u := mustUser(t, svc, pledge.InviteRequest{Email: "ada@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	old := newClient(t, srv, "198.51.100.4")
	signInJSON(old, u.Email, authzPassword)
	link, err := svc.RequestPasswordReset(sysCtx(), u.Email, "")
	if err != nil || !strings.HasPrefix(link, "/reset/") {
		t.Fatalf("reset link %q, %v", link, err)
	}
	secret := strings.TrimPrefix(link, "/reset/")
	cl := newClient(t, srv, "198.51.100.5")
	const pw = "a brand new long password"
	if w := cl.postJSON("/api/password-resets/"+secret, `{"password":"`+pw+`"}`); w.Code != http.StatusNoContent {
		t.Fatalf("reset: %d %s", w.Code, w.Body)
	}
	if w := old.get("/api/session"); w.Code != http.StatusUnauthorized {
		t.Errorf("a session from before the reset still works: %d", w.Code)
	}
	if w := cl.postJSON("/api/password-resets/"+secret, `{"password":"yet another long password"}`); w.Code != http.StatusConflict {
		t.Errorf("reusing the reset link: %d, want 409", w.Code)
	}
	if w := signInJSON(cl, u.Email, pw); w.Code != 200 {
		t.Errorf("sign in with the new password: %d", w.Code)
	}
	// A link older than an hour is refused.
	link, _ = svc.RequestPasswordReset(sysCtx(), u.Email, "")
	*now = now.Add(61 * time.Minute)
	if w := cl.postJSON("/api/password-resets/"+strings.TrimPrefix(link, "/reset/"), `{"password":"an expired link password"}`); w.Code != http.StatusNotFound {
		t.Errorf("an hour-old reset link: %d, want 404", w.Code)
	}
	// The request answers the same whether or not the address has an account.
	a := cl.postJSON("/api/password-resets", `{"email":"`+u.Email+`"}`)
	b := cl.postJSON("/api/password-resets", `{"email":"nobody@kommune.example"}`)
	if a.Code != http.StatusAccepted || a.Body.String() != b.Body.String() || b.Code != a.Code {
		t.Errorf("reset requests differ: %d %s / %d %s", a.Code, a.Body, b.Code, b.Body)
	}
}

// An invitation works once, and not after 7 days.
func TestInvitationExpiresAndIsSingleUse(t *testing.T) {
	srv, svc, now := accountsServer(t, web.Config{})
	_, link, err := svc.Invite(sysCtx(), pledge.InviteRequest{Email: "bo@forening.example", Role: pledge.RoleCoordinator, Areas: []string{"D001"}})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, srv, "198.51.100.6")
	body := `{"password":"a long enough password","name":"Bo"}`
	if w := cl.postJSON("/api"+link, `{"password":"short","name":"Bo"}`); w.Code != http.StatusBadRequest {
		t.Errorf("a short password: %d", w.Code)
	}
	if w := cl.postJSON("/api"+link, body); w.Code != http.StatusCreated {
		t.Fatalf("accept: %d %s", w.Code, w.Body)
	}
	if w := cl.postJSON("/api"+link, body); w.Code != http.StatusConflict {
		t.Errorf("accepting twice: %d, want 409", w.Code)
	}
	_, link, _ = svc.Invite(sysCtx(), pledge.InviteRequest{Email: "cy@forening.example", Role: pledge.RoleProvider, Provider: "Fiber A/S"})
	*now = now.Add(7*24*time.Hour + time.Minute)
	if w := cl.postJSON("/api"+link, body); w.Code != http.StatusNotFound {
		t.Errorf("an 8-day-old invitation: %d, want 404", w.Code)
	}
	if w := cl.get(link); w.Code != http.StatusNotFound {
		t.Errorf("the expired invitation's page: %d, want 404", w.Code)
	}
}

// Deactivating a user stops their session cookie and API token at once.
func TestDeactivatedUserLocksOut(t *testing.T) {
	srv, svc, _ := accountsServer(t, web.Config{})
	admin := mustUser(t, svc, pledge.InviteRequest{Email: "ada@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	bo := mustUser(t, svc, pledge.InviteRequest{Email: "bo@forening.example", Name: "Bo", Role: pledge.RoleCoordinator, Areas: []string{"D001"}})
	cl := newClient(t, srv, "198.51.100.7")
	signInJSON(cl, bo.Email, authzPassword)
	tok, _, err := svc.CreateAPIToken(sysCtx(), bo.Email, "script", nil)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func() int {
		req := httptest.NewRequest("GET", "/api/areas/D001/pledges", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return newClient(t, srv, "198.51.100.8").do(req).Code
	}
	if c := cl.get("/api/areas/D001/pledges").Code; c != 200 {
		t.Fatalf("before: cookie %d", c)
	}
	if c := bearer(); c != 200 {
		t.Fatalf("before: token %d", c)
	}
	ad := newClient(t, srv, "198.51.100.9")
	signInJSON(ad, admin.Email, authzPassword)
	req := httptest.NewRequest("PATCH", "/api/users/"+itoa(bo.ID), strings.NewReader(`{"active":false}`))
	req.Header.Set("Content-Type", "application/json")
	if w := ad.do(req); w.Code != 200 {
		t.Fatalf("deactivate: %d %s", w.Code, w.Body)
	}
	if c := cl.get("/api/areas/D001/pledges").Code; c != http.StatusUnauthorized {
		t.Errorf("the deactivated user's old cookie: %d, want 401", c)
	}
	if c := bearer(); c != http.StatusUnauthorized {
		t.Errorf("the deactivated user's token: %d, want 401", c)
	}
	if w := signInJSON(newClient(t, srv, "198.51.100.10"), bo.Email, authzPassword); w.Code != http.StatusUnauthorized {
		t.Errorf("a deactivated user signs in: %d", w.Code)
	}
	// The change is in the audit log with the old and new values.
	es, _ := svc.Audit(sysCtx(), "", 10)
	found := false
	for _, e := range es {
		found = found || e.Action == "user.update" && strings.Contains(e.Old, `"active":true`) && strings.Contains(e.New, `"active":false`)
	}
	if !found {
		t.Errorf("no audit entry of the deactivation: %+v", es)
	}
}

// A token's scopes bound what it may do, below its user's role.
func TestTokenScopes(t *testing.T) {
	srv, svc, _ := accountsServer(t, web.Config{})
	bo := mustUser(t, svc, pledge.InviteRequest{Email: "bo@forening.example", Name: "Bo", Role: pledge.RoleCoordinator, Areas: []string{"D001"}})
	read, _, _ := svc.CreateAPIToken(sysCtx(), bo.Email, "read only", []pledge.Scope{pledge.ScopeRead})
	admin, _, _ := svc.CreateAPIToken(sysCtx(), bo.Email, "changes", []pledge.Scope{pledge.ScopeAdmin})
	patch := func(tok string) int {
		req := httptest.NewRequest("PATCH", "/api/areas/D001", strings.NewReader(`{"threshold_percent":55}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		return newClient(t, srv, "198.51.100.11").do(req).Code
	}
	if c := patch(read); c != http.StatusForbidden {
		t.Errorf("a read token changes settings: %d", c)
	}
	if c := patch(admin); c != 200 {
		t.Errorf("an admin-scoped token of the area's coordinator: %d", c)
	}
	a, _ := svc.Area(context.Background(), "D001")
	if a.ThresholdPercent != 55 {
		t.Errorf("threshold %v after the change", a.ThresholdPercent)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
