package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
	"github.com/kommunity/kommunity/webhook"
)

// TestBrowserProviderWebhooks: a provider, on a phone, opens Webhooks from
// the account page, registers an endpoint and sees its secret once; an
// event is delivered, signed with that secret; the log shows it, and the
// replay button sends it again with the same webhook-id.
func TestBrowserProviderWebhooks(t *testing.T) {
	st, svc, _ := MustOpenDemoStore(t, time.Now)
	svc.WebhookAllowPrivate = true // the receiver listens on loopback
	srv := httptest.NewServer(web.NewServer(svc, web.Config{PledgeRateLimit: -1, TileURL: ""}, quietLog()))
	t.Cleanup(srv.Close)
	provider := mustUser(t, svc, pledge.InviteRequest{Email: "ops@acme.example", Name: "Ole Ops", Role: pledge.RoleProvider, Provider: "Acme Fiber A/S"})

	type got struct{ id, ts, sig, body string }
	var mu sync.Mutex
	var reqs []got
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, got{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), string(b)})
		mu.Unlock()
		w.Write([]byte("takk"))
	}))
	defer rc.Close()

	b := newBrowser(t, srv.URL, 390, 844)
	b.open("/login")
	b.waitPage("login page", "#login-form")
	b.do("sign in", chromedp.SendKeys("#email", provider.Email), chromedp.SendKeys("#password", authzPassword), chromedp.Click("#login-submit"))
	b.waitPage("account", "#me-email")
	b.do("open webhooks", chromedp.Click(`nav.account-nav a[href="/provider/webhooks"]`))
	b.waitPage("webhooks", "#webhook-form")
	b.do("register an endpoint for tender events only",
		chromedp.SendKeys("#webhook-url", rc.URL+"/kommunity"),
		chromedp.Click("#event-area\\.threshold_reached"), chromedp.Click("#webhook-submit"))
	b.waitPage("registered", "#new-secret")
	secret := b.text("#new-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	if b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`) != "true" {
		t.Errorf("the page is wider than the phone: %s > %s", b.eval(`String(document.documentElement.scrollWidth)`), b.eval(`String(window.innerWidth)`))
	}
	b.screenshot("provider-webhook-registered")

	// A tender opens; the dispatchers fan out and deliver.
	client := &webhook.Client{AllowPrivate: true, Timeout: 5 * time.Second}
	fan := &dispatch.Dispatcher{Store: st, Handlers: map[string]dispatch.Handler{pledge.EventTenderOpened: svc.FanOutWebhooks, pledge.EventThresholdReached: svc.FanOutWebhooks}}
	deliver := &dispatch.Dispatcher{Store: st, Retry: dispatch.WebhookSchedule(),
		Handlers: map[string]dispatch.Handler{pledge.EventWebhookDelivery: (&webhook.Deliverer{Service: svc, Client: client}).Deliver}}
	runBoth := func() {
		for _, d := range []*dispatch.Dispatcher{fan, deliver} {
			if _, err := d.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.QueueEvent(context.Background(), pledge.Event{Kind: pledge.EventTenderOpened, AreaCode: "D001", Key: "tender.opened:D001", At: time.Now().UTC(),
		Payload: `{"area_code":"D001","area_name":"Åby","status":"tender_open","deadline":"2027-01-31","opened_at":"2026-12-03T10:00:00Z","units":10,"pledged_units":6}`}); err != nil {
		t.Fatal(err)
	}
	runBoth()
	mu.Lock()
	if len(reqs) != 1 || !strings.Contains(reqs[0].body, `"type":"tender.opened"`) {
		t.Fatalf("receiver got %+v, want the tender event only (threshold events are not subscribed)", reqs)
	}
	first := reqs[0]
	mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(first.id + "." + first.ts + "." + first.body))
	if first.sig != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
		t.Errorf("the signature %q does not verify with the secret the page showed", first.sig)
	}

	b.open("/provider/webhooks?lang=en")
	b.waitPage("the log", "table.deliveries")
	if row := b.text("table.deliveries tbody tr"); !strings.Contains(row, "tender.opened") || !strings.Contains(row, "200") ||
		!strings.Contains(row, "takk") || !strings.Contains(row, "Delivered") {
		t.Errorf("log row %q", row)
	}
	if body := b.eval(`document.body.innerText`); strings.Contains(body, secret) || strings.Contains(body, "\u27e6") {
		t.Errorf("the page shows the secret again, or a text missing from the catalogue")
	}
	b.do("replay", chromedp.Click("button.replay"))
	b.waitPage("replayed", "#notice")
	b.screenshot("provider-webhook-replayed")
	runBoth()
	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 2 || reqs[1].id != first.id || reqs[1].body != first.body {
		t.Errorf("after replay the receiver got %d requests; ids %q, %q", len(reqs), first.id, reqs[len(reqs)-1].id)
	}
}
