package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// signedInClient is a client with a session of u (password authzPassword).
func signedInClient(t *testing.T, srv *web.Server, u pledge.User, ip string) *client {
	t.Helper()
	cl := newClient(t, srv, ip)
	if w := cl.postJSON("/api/session", `{"email":"`+u.Email+`","password":"`+authzPassword+`"}`); w.Code != 200 {
		t.Fatalf("sign in %s: %d %s", u.Email, w.Code, w.Body)
	}
	return cl
}

type hookAnswer struct {
	ID      int64    `json:"id"`
	Secret  string   `json:"secret"`
	URL     string   `json:"url"`
	Events  []string `json:"events"`
	Active  bool     `json:"active"`
	Company string   `json:"company"`
}

// The API: register (secret once), list (no secrets, own company only),
// rotate, the log, delete; another company gets 404 everywhere.
func TestWebhookAPI(t *testing.T) {
	srv, svc, _ := newServer(t, web.Config{PledgeRateLimit: -1})
	acme := mustUser(t, svc, pledge.InviteRequest{Email: "ops@acme.example", Name: "Ops", Role: pledge.RoleProvider, Provider: "Acme A/S"})
	other := mustUser(t, svc, pledge.InviteRequest{Email: "ops@other.example", Name: "Ops", Role: pledge.RoleProvider, Provider: "Other ApS"})
	a := signedInClient(t, srv, acme, "198.51.100.31")
	o := signedInClient(t, srv, other, "198.51.100.32")

	w := a.postJSON("/api/webhooks", `{"url":"https://hooks.acme.example/k","events":["tender.opened","area.threshold_reached"]}`)
	var created hookAnswer
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &created) != nil {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	if !strings.HasPrefix(created.Secret, "whsec_") || created.ID == 0 || !created.Active || created.Company != "Acme A/S" ||
		strings.Join(created.Events, ",") != "area.threshold_reached,tender.opened" {
		t.Fatalf("register answered %+v", created)
	}
	list := a.get("/api/webhooks")
	if list.Code != 200 || !strings.Contains(list.Body.String(), "hooks.acme.example") || strings.Contains(list.Body.String(), "whsec_") ||
		strings.Contains(list.Body.String(), `"secret"`) {
		t.Errorf("list: %d %s", list.Code, list.Body)
	}
	if ol := o.get("/api/webhooks"); ol.Code != 200 || strings.Contains(ol.Body.String(), "acme") {
		t.Errorf("other company's list: %d %s", ol.Code, ol.Body)
	}
	id := fmt.Sprint(created.ID)
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/webhooks/" + id + "/deliveries"}, {"POST", "/api/webhooks/" + id + "/rotate"},
		{"POST", "/api/webhooks/" + id + "/deliveries/1/replay"}, {"DELETE", "/api/webhooks/" + id},
	} {
		req, _ := http.NewRequest(r.method, r.path, nil)
		if w := o.do(req); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "acme") {
			t.Errorf("other company %s %s: %d %s", r.method, r.path, w.Code, w.Body)
		}
	}
	rot := a.postJSON("/api/webhooks/"+id+"/rotate", "")
	var rotated struct {
		hookAnswer
		PreviousSecretUntil string `json:"previous_secret_until"`
	}
	if rot.Code != 200 || json.Unmarshal(rot.Body.Bytes(), &rotated) != nil || rotated.Secret == created.Secret ||
		!strings.HasPrefix(rotated.Secret, "whsec_") || rotated.PreviousSecretUntil != "2026-05-05T10:00:00Z" {
		t.Errorf("rotate: %d %s", rot.Code, rot.Body)
	}
	if d := a.get("/api/webhooks/" + id + "/deliveries"); d.Code != 200 || d.Body.String() != `{"deliveries":[]}` {
		t.Errorf("deliveries: %d %s", d.Code, d.Body)
	}
	req, _ := http.NewRequest("DELETE", "/api/webhooks/"+id, nil)
	if w := a.do(req); w.Code != http.StatusNoContent {
		t.Errorf("delete: %d %s", w.Code, w.Body)
	}
	if l, _ := svc.Webhooks(pledge.WithUser(context.Background(), pledge.SystemUser())); len(l) != 0 {
		t.Errorf("after delete: %+v", l)
	}
}

// The page: register through the form (the secret shown once), the list
// with its log and buttons, in Danish and English; another company sees
// nothing of it.
func TestWebhooksPage(t *testing.T) {
	srv, svc, _ := newServer(t, web.Config{PledgeRateLimit: -1})
	acme := mustUser(t, svc, pledge.InviteRequest{Email: "ops@acme.example", Name: "Ops", Role: pledge.RoleProvider, Provider: "Acme A/S"})
	other := mustUser(t, svc, pledge.InviteRequest{Email: "ops@other.example", Name: "Ops", Role: pledge.RoleProvider, Provider: "Other ApS"})
	a := signedInClient(t, srv, acme, "198.51.100.41")
	page := a.get("/provider/webhooks")
	if page.Code != 200 || !strings.Contains(page.Body.String(), `lang="da"`) || !strings.Contains(page.Body.String(), "Ingen endepunkter endnu.") {
		t.Fatalf("empty page: %d %.500s", page.Code, page.Body)
	}
	csrf := hidden(page.Body.String()).Get("csrf_token")
	bad := a.post("/provider/webhooks", url.Values{"csrf_token": {csrf}, "url": {"http://192.168.1.1/"}, "event": {"tender.opened"}})
	if bad.Code != 400 || !strings.Contains(bad.Body.String(), "privat") || !strings.Contains(bad.Body.String(), `value="http://192.168.1.1/"`) {
		t.Errorf("private URL: %d %.2000s", bad.Code, bad.Body)
	}
	w := a.post("/provider/webhooks", url.Values{"csrf_token": {csrf}, "url": {"https://hooks.acme.example/k"}, "event": {"tender.opened", "tender.awarded"}})
	body := w.Body.String()
	i := strings.Index(body, `<code id="new-secret">`)
	if w.Code != http.StatusCreated || i < 0 || !strings.Contains(body, "Udbud afgjort, Udbud åbnet") {
		t.Fatalf("register: %d %.3000s", w.Code, body)
	}
	secret := body[i+len(`<code id="new-secret">`):]
	secret = secret[:strings.Index(secret, "<")]
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	again := a.get("/provider/webhooks?lang=en")
	if again.Code != 200 || strings.Contains(again.Body.String(), secret) || !strings.Contains(again.Body.String(), "hooks.acme.example") ||
		!strings.Contains(again.Body.String(), `lang="en"`) || !strings.Contains(again.Body.String(), "Rotate secret") ||
		!strings.Contains(again.Body.String(), "Tender awarded, Tender opened") {
		t.Errorf("page after: %d %.3000s", again.Code, again.Body)
	}
	o := signedInClient(t, srv, other, "198.51.100.42")
	if op := o.get("/provider/webhooks"); op.Code != 200 || strings.Contains(op.Body.String(), "hooks.acme.example") {
		t.Errorf("other company's page: %d", op.Code)
	}
	hooks, _ := svc.Webhooks(pledge.WithUser(context.Background(), &acme))
	if len(hooks) != 1 {
		t.Fatalf("hooks = %+v", hooks)
	}
	csrf = hidden(o.get("/provider/webhooks").Body.String()).Get("csrf_token")
	if w := o.post(fmt.Sprintf("/provider/webhooks/%d/delete", hooks[0].ID), url.Values{"csrf_token": {csrf}}); w.Code != 404 {
		t.Errorf("other company deletes through the form: %d", w.Code)
	}
	coord := mustUser(t, svc, pledge.InviteRequest{Email: "c@forening.example", Name: "C", Role: pledge.RoleCoordinator})
	if w := signedInClient(t, srv, coord, "198.51.100.43").get("/provider/webhooks"); w.Code != 403 {
		t.Errorf("coordinator: %d", w.Code)
	}
}
