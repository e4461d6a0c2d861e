package storetest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/webhook"
)

// RunWebhooks runs the conformance suite of webhooks (pledge.WebhookStore
// through the service, fan-out and delivery through package webhook)
// against stores made by open. Receivers are real HTTP servers on
// loopback; the SSRF guard is tested with a resolver and dialer that make
// a loopback server look like a public host.
func RunWebhooks(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *hookEnv)
	}{
		{"RegisterListDelete", testWebhookRegister},
		{"OtherCompanyNotFound", testWebhookOtherCompany},
		{"BadInputChangesNothing", testWebhookBadInput},
		{"FanOutOncePerEndpoint", testWebhookFanOut},
		{"RetriesUntilOneSuccess", testWebhookRetries},
		{"RotationSignsTwice", testWebhookRotation},
		{"DisabledAfterFiveDays", testWebhookDisabled},
		{"LoopbackRefused", testWebhookLoopbackRefused},
		{"RedirectToLoopbackRefused", testWebhookRedirectRefused},
		{"ReplaySameWebhookID", testWebhookReplay},
		{"TwoDispatchersDeliverEachAttemptOnce", testWebhookTwoDispatchers},
		{"LifecycleEventsDelivered", testWebhookLifecycle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			clk := &clock{t: Now}
			e := &hookEnv{st: st, clock: clk, svc: newService(st, clk.Now)}
			e.acme = e.provider(t, "ops@acme.example", "Acme Fiber A/S")
			e.other = e.provider(t, "ops@other.example", "Other Net ApS")
			tc.fn(t, e)
		})
	}
}

type hookEnv struct {
	st          pledge.Store
	svc         *pledge.Service
	clock       *clock
	acme, other context.Context
}

func (e *hookEnv) provider(t *testing.T, email, company string) context.Context {
	t.Helper()
	_, link, err := e.svc.Invite(cliContext(), pledge.InviteRequest{Email: email, Name: "Ops", Role: pledge.RoleProvider, Provider: company})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := strings.Cut(link, "/invitations/")
	u, err := e.svc.AcceptInvitation(context.Background(), secret, goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	return pledge.WithUser(context.Background(), &u)
}

func (e *hookEnv) register(t *testing.T, ctx context.Context, url string, events ...string) (pledge.Webhook, string) {
	t.Helper()
	if len(events) == 0 {
		events = pledge.WebhookEvents
	}
	allow := e.svc.WebhookAllowPrivate
	e.svc.WebhookAllowPrivate = true // receivers listen on loopback
	defer func() { e.svc.WebhookAllowPrivate = allow }()
	w, secret, err := e.svc.RegisterWebhook(ctx, pledge.WebhookRequest{URL: url, Events: events})
	if err != nil {
		t.Fatalf("register %s: %v", url, err)
	}
	return w, secret
}

// thresholdEvent is a domain event as the service records it.
func thresholdEvent(code string, at time.Time) pledge.Event {
	return pledge.Event{Kind: pledge.EventThresholdReached, AreaCode: code, Key: pledge.EventThresholdReached + ":" + code, At: at,
		Payload: `{"area":"` + code + `","area_code":"` + code + `","area_name":"Åby","status":"threshold_reached","units":10,"pledged_units":5,"threshold_percent":50}`}
}

// dispatchers returns the fan-out and delivery dispatchers of the
// service on e's clock, with client.
func (e *hookEnv) dispatchers(svc *pledge.Service, client *webhook.Client) (*dispatch.Dispatcher, *dispatch.Dispatcher) {
	fan := map[string]dispatch.Handler{}
	for kind := range pledge.WebhookKinds {
		fan[kind] = svc.FanOutWebhooks
	}
	d := &webhook.Deliverer{Service: svc, Client: client, Now: e.clock.Now}
	return &dispatch.Dispatcher{Store: e.st, Handlers: fan, Now: e.clock.Now},
		&dispatch.Dispatcher{Store: e.st, Handlers: map[string]dispatch.Handler{pledge.EventWebhookDelivery: d.Deliver},
			Now: e.clock.Now, Retry: dispatch.WebhookSchedule(), Lease: 40 * time.Second, Timeout: 15 * time.Second}
}

// run fans out and delivers what is due now.
func run(t *testing.T, fan, deliver *dispatch.Dispatcher) {
	t.Helper()
	if _, err := fan.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := deliver.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// received is one request a receiver got.
type received struct {
	id, ts, sig string
	body        []byte
}

// receiver is an HTTP server answering status(n) to its n-th request
// (from 1), recording each.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	hits atomic.Int64
}

func newReceiver(t testing.TB, status func(n int, r *http.Request) int) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(rc.hits.Add(1))
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b})
		rc.mu.Unlock()
		code := status(n, r)
		if code >= 300 && code < 400 {
			http.Redirect(w, r, r.Header.Get("X-Test-Location"), code)
			return
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d\x00\n", n)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify is an independent Standard Webhooks verifier: the HMAC-SHA256,
// under the base64-decoded part of secret, of id.timestamp.body, base64,
// among the space-separated v1 signatures.
func verify(secret string, r received) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.id + "." + r.ts + "." + string(r.body)))
	want := m.Sum(nil)
	for _, s := range strings.Split(r.sig, " ") {
		v, sig, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func (e *hookEnv) attempts(t *testing.T, ctx context.Context, id int64) []pledge.WebhookAttempt {
	t.Helper()
	a, err := e.svc.WebhookDeliveries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testWebhookRegister(t *testing.T, e *hookEnv) {
	ctx := context.Background()
	w, secret := e.register(t, e.acme, "https://hooks.acme.example/kommunity", pledge.WebhookTenderOpened, pledge.WebhookAreaThresholdReached, pledge.WebhookTenderOpened)
	if !strings.HasPrefix(secret, "whsec_") || w.ID == 0 || w.Company != "Acme Fiber A/S" || !w.Active ||
		strings.Join(w.Events, ",") != "area.threshold_reached,tender.opened" {
		t.Fatalf("registered %+v with secret %q", w, secret)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) < 24 {
		t.Fatalf("secret %q does not decode to a key of 24 bytes or more: %v", secret, err)
	}
	stored, err := e.st.Webhook(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The store holds the secret sealed, never in clear.
	if stored.SealedSecret == "" || strings.Contains(stored.SealedSecret, strings.TrimPrefix(secret, "whsec_")) || strings.Contains(stored.SealedSecret, "whsec_") {
		t.Errorf("stored secret %q holds the secret in clear", stored.SealedSecret)
	}
	if stored.URL != w.URL || stored.CreatedBy == 0 || !stored.CreatedAt.Equal(Now) {
		t.Errorf("stored %+v", stored)
	}
	list, err := e.svc.Webhooks(e.acme)
	if err != nil || len(list) != 1 || list[0].ID != w.ID {
		t.Fatalf("acme's list = %+v, %v", list, err)
	}
	if list, _ := e.svc.Webhooks(e.other); len(list) != 0 {
		t.Errorf("another company sees %+v", list)
	}
	if list, _ := e.svc.Webhooks(cliContext()); len(list) != 1 {
		t.Errorf("the admin sees %d endpoints, want 1", len(list))
	}
	if _, err := e.svc.Webhooks(ctx); pledge.ErrorCode(err) != pledge.EUNAUTHORIZED {
		t.Errorf("anonymous list: %v", err)
	}
	coord := pledge.WithUser(ctx, &pledge.User{ID: 99, Role: pledge.RoleCoordinator, Active: true})
	if _, _, err := e.svc.RegisterWebhook(coord, pledge.WebhookRequest{URL: "https://x.example/", Events: pledge.WebhookEvents}); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("coordinator registers: %v", err)
	}
	// A read-only token may not manage webhooks.
	u := *pledge.UserFrom(e.acme)
	u.Scopes = []pledge.Scope{pledge.ScopeRead}
	if _, err := e.svc.Webhooks(pledge.WithUser(ctx, &u)); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("read-scoped token lists: %v", err)
	}
	if err := e.svc.DeleteWebhook(e.acme, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Webhook(ctx, w.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("after delete: %v", err)
	}
	var actions []string
	entries, _ := e.st.Audit(ctx, pledge.AuditFilter{})
	for _, a := range entries {
		if strings.HasPrefix(a.Action, "webhook.") {
			actions = append(actions, a.Action)
			if strings.Contains(a.New+a.Old, secret) || strings.Contains(a.New+a.Old, stored.SealedSecret) {
				t.Errorf("audit entry %s holds the secret", a.Action)
			}
		}
	}
	if strings.Join(actions, ",") != "webhook.delete,webhook.register" {
		t.Errorf("audit = %v", actions)
	}
}

func testWebhookOtherCompany(t *testing.T, e *hookEnv) {
	w, _ := e.register(t, e.acme, "https://hooks.acme.example/k")
	if _, err := e.svc.Webhook(e.other, w.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("other company reads: %v", err)
	}
	if _, err := e.svc.WebhookDeliveries(e.other, w.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("other company reads the log: %v", err)
	}
	if _, _, err := e.svc.RotateWebhookSecret(e.other, w.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("other company rotates: %v", err)
	}
	if err := e.svc.ReplayDelivery(e.other, w.ID, 1); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("other company replays: %v", err)
	}
	if err := e.svc.DeleteWebhook(e.other, w.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("other company deletes: %v", err)
	}
	got, err := e.st.Webhook(context.Background(), w.ID)
	if err != nil || got.SealedSecret != w.SealedSecret || !got.Active {
		t.Errorf("endpoint changed by another company: %+v, %v", got, err)
	}
	if _, err := e.svc.Webhook(cliContext(), w.ID); err != nil {
		t.Errorf("admin reads: %v", err)
	}
}

func testWebhookBadInput(t *testing.T, e *hookEnv) {
	cases := []struct {
		name, url string
		events    []string
		field     string
	}{
		{"NoURL", "", pledge.WebhookEvents, "url"},
		{"NotHTTP", "ftp://hooks.example/", pledge.WebhookEvents, "url"},
		{"NoHost", "https:///path", pledge.WebhookEvents, "url"},
		{"Credentials", "https://user:pw@hooks.example/", pledge.WebhookEvents, "url"},
		{"Loopback", "http://127.0.0.1:8080/", pledge.WebhookEvents, "url"},
		{"LoopbackV6", "http://[::1]/", pledge.WebhookEvents, "url"},
		{"MappedV4", "http://[::ffff:10.0.0.1]/", pledge.WebhookEvents, "url"},
		{"Private", "https://192.168.1.5/", pledge.WebhookEvents, "url"},
		{"LinkLocal", "http://169.254.169.254/latest/meta-data", pledge.WebhookEvents, "url"},
		{"Unspecified", "http://0.0.0.0/", pledge.WebhookEvents, "url"},
		{"Localhost", "http://localhost:9000/", pledge.WebhookEvents, "url"},
		{"BadPort", "https://hooks.example:99999/", pledge.WebhookEvents, "url"},
		{"Invisible", "https://hooks.example/\u200b", pledge.WebhookEvents, "url"},
		{"TooLong", "https://hooks.example/" + strings.Repeat("a", 2100), pledge.WebhookEvents, "url"},
		{"NoEvents", "https://hooks.example/", nil, "events"},
		{"UnknownEvent", "https://hooks.example/", []string{"pledge.created"}, "events"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, secret, err := e.svc.RegisterWebhook(e.acme, pledge.WebhookRequest{URL: tc.url, Events: tc.events})
			var pe *pledge.Error
			if pledge.ErrorCode(err) != pledge.EINVALID || !asError(err, &pe) || pe.Field != tc.field || secret != "" {
				t.Fatalf("register %q %v: %v, want EINVALID on %s", tc.url, tc.events, err, tc.field)
			}
		})
	}
	if list, _ := e.svc.Webhooks(cliContext()); len(list) != 0 {
		t.Errorf("bad input stored %+v", list)
	}
}

func asError(err error, pe **pledge.Error) bool {
	p, ok := err.(*pledge.Error)
	*pe = p
	return ok
}

func testWebhookFanOut(t *testing.T, e *hookEnv) {
	ctx := context.Background()
	a, _ := e.register(t, e.acme, "https://a.example/", pledge.WebhookAreaThresholdReached)
	b, _ := e.register(t, e.other, "https://b.example/", pledge.WebhookTenderOpened)
	c, _ := e.register(t, e.other, "https://c.example/", pledge.WebhookAreaThresholdReached, pledge.WebhookTenderAwarded)
	if err := e.svc.DeleteWebhook(e.other, c.ID); err != nil {
		t.Fatal(err)
	}
	d, _ := e.register(t, e.other, "https://d.example/", pledge.WebhookAreaThresholdReached)
	ev := thresholdEvent("A", Now)
	queue(t, e.st, ev)
	all, _ := e.st.OutboxEvents(ctx, pledge.EventThresholdReached)
	for range 2 { // a retried fan-out queues nothing twice
		if err := e.svc.FanOutWebhooks(ctx, all[0]); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.st.OutboxEvents(ctx, pledge.EventWebhookDelivery)
	if len(got) != 2 {
		t.Fatalf("deliveries = %+v, want one each for endpoints %d and %d", got, a.ID, d.ID)
	}
	for i, w := range []pledge.Webhook{a, d} {
		var p pledge.WebhookDelivery
		if err := json.Unmarshal([]byte(got[i].Payload), &p); err != nil {
			t.Fatal(err)
		}
		wantKey := fmt.Sprintf("webhook.delivery:%d:%s", w.ID, ev.Key)
		if got[i].Key != wantKey || p.Webhook != w.ID || p.MessageID != pledge.WebhookMessageID(ev.Key, w.ID) ||
			p.Type != "area.threshold_reached" || p.Timestamp != "2026-11-27T12:00:00Z" || string(p.Data) != ev.Payload {
			t.Errorf("delivery %d = key %q %+v", i, got[i].Key, p)
		}
	}
	if pledge.WebhookMessageID(ev.Key, a.ID) == pledge.WebhookMessageID(ev.Key, d.ID) || !strings.HasPrefix(pledge.WebhookMessageID(ev.Key, a.ID), "msg_") {
		t.Errorf("message ids do not differ per endpoint")
	}
	_ = b
}

func testWebhookRetries(t *testing.T, e *hookEnv) {
	ctx := context.Background()
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	w, secret := e.register(t, e.acme, rc.URL+"/hook", pledge.WebhookAreaThresholdReached)
	fan, deliver := e.dispatchers(e.svc, &webhook.Client{AllowPrivate: true})
	queue(t, e.st, thresholdEvent("A", Now))
	run(t, fan, deliver)
	for _, wait := range dispatch.WebhookSchedule()[:3] {
		e.clock.Add(wait)
		run(t, fan, deliver)
	}
	got := rc.requests()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests, want 3 (two failures, one success)", len(got))
	}
	for i, r := range got {
		if r.id != got[0].id || !verify(secret, r) {
			t.Errorf("request %d: id %q (first %q), signature %q does not verify", i, r.id, got[0].id, r.sig)
		}
		var body struct {
			Type, Timestamp string
			Data            map[string]any
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.Type != "area.threshold_reached" || body.Data["area_code"] != "A" || body.Data["pledged_units"] != 5.0 {
			t.Errorf("request %d body %s: %v", i, r.body, err)
		}
	}
	if string(got[0].body) != string(got[2].body) {
		t.Errorf("the body changed between attempts")
	}
	log := e.attempts(t, e.acme, w.ID)
	if len(log) != 3 {
		t.Fatalf("log = %+v", log)
	}
	for i, want := range []struct {
		attempt, status int
		class           string
	}{{3, 204, ""}, {2, 500, "status"}, {1, 500, "status"}} {
		a := log[i]
		if a.Attempt != want.attempt || a.StatusCode != want.status || a.ErrorClass != want.class || a.MessageID != got[0].id ||
			a.Type != "area.threshold_reached" || a.DurationMS < 0 {
			t.Errorf("log[%d] = %+v, want %+v", i, a, want)
		}
	}
	if log[1].Excerpt != "answer 2. " {
		t.Errorf("excerpt = %q, want the answer with the NUL as a dot", log[1].Excerpt)
	}
	ev, _ := e.st.OutboxEvents(ctx, pledge.EventWebhookDelivery)
	if len(ev) != 1 || ev[0].DeliveredAt == nil || ev[0].Attempts != 2 {
		t.Errorf("delivery event = %+v", ev)
	}
	// Nothing more goes out.
	e.clock.Add(48 * time.Hour)
	run(t, fan, deliver)
	if n := rc.hits.Load(); n != 3 {
		t.Errorf("receiver got %d requests after success", n)
	}
	if cur, _ := e.st.Webhook(ctx, w.ID); cur.FailingSince != nil {
		t.Errorf("FailingSince %v after a success", cur.FailingSince)
	}
}

func testWebhookRotation(t *testing.T, e *hookEnv) {
	rc := newReceiver(t, func(int, *http.Request) int { return 200 })
	w, old := e.register(t, e.acme, rc.URL, pledge.WebhookAreaThresholdReached)
	_, fresh, err := e.svc.RotateWebhookSecret(e.acme, w.ID)
	if err != nil || fresh == old || !strings.HasPrefix(fresh, "whsec_") {
		t.Fatalf("rotate: %q, %v", fresh, err)
	}
	fan, deliver := e.dispatchers(e.svc, &webhook.Client{AllowPrivate: true})
	queue(t, e.st, thresholdEvent("A", Now))
	run(t, fan, deliver)
	e.clock.Add(pledge.WebhookSecretOverlap + time.Second)
	queue(t, e.st, thresholdEvent("B", e.clock.Now()))
	run(t, fan, deliver)
	got := rc.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests", len(got))
	}
	if n := len(strings.Fields(got[0].sig)); n != 2 || !verify(old, got[0]) || !verify(fresh, got[0]) {
		t.Errorf("during the overlap: %d signatures %q; old verifies %v, new %v", n, got[0].sig, verify(old, got[0]), verify(fresh, got[0]))
	}
	if n := len(strings.Fields(got[1].sig)); n != 1 || verify(old, got[1]) || !verify(fresh, got[1]) {
		t.Errorf("after the overlap: %d signatures; old verifies %v, new %v", n, verify(old, got[1]), verify(fresh, got[1]))
	}
	if !webhook.Verify(fresh, got[1].id, atoi64(t, got[1].ts), got[1].body, got[1].sig) {
		t.Errorf("webhook.Verify disagrees with the independent verifier")
	}
}

func atoi64(t *testing.T, s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return n
}

func testWebhookDisabled(t *testing.T, e *hookEnv) {
	ctx := context.Background()
	e.svc.Mail = true
	rc := newReceiver(t, func(int, *http.Request) int { return 503 })
	w, _ := e.register(t, e.acme, rc.URL, pledge.WebhookAreaThresholdReached)
	fan, deliver := e.dispatchers(e.svc, &webhook.Client{AllowPrivate: true})
	// An event a day for six days, each retried through its schedule:
	// the endpoint never succeeds.
	for day := range 6 {
		queue(t, e.st, thresholdEvent(fmt.Sprintf("D%d", day), e.clock.Now()))
		for range 8 {
			run(t, fan, deliver)
			e.clock.Add(3 * time.Hour)
		}
		cur, err := e.st.Webhook(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		elapsed := e.clock.Now().Sub(Now)
		if cur.FailingSince == nil || !cur.FailingSince.Equal(Now) {
			t.Fatalf("day %d: FailingSince = %v, want %v", day, cur.FailingSince, Now)
		}
		if !cur.Active && elapsed < pledge.WebhookDisableAfter {
			t.Fatalf("day %d: disabled after failing for only %v", day, elapsed)
		}
	}
	cur, _ := e.st.Webhook(ctx, w.ID)
	if cur.Active || cur.DisabledAt == nil || cur.DisabledAt.Sub(Now) < pledge.WebhookDisableAfter {
		t.Fatalf("after six days of failures: %+v", cur)
	}
	hits := rc.hits.Load()
	var mails []pledge.OutboxEvent
	all, _ := e.st.OutboxEvents(ctx, pledge.EventMail)
	for _, m := range all {
		if strings.Contains(m.Key, "webhook-disabled") {
			mails = append(mails, m)
		}
	}
	if len(mails) != 1 || !strings.Contains(mails[0].Payload, `"to":"ops@acme.example"`) {
		t.Fatalf("mails = %+v, want one to the owner", mails)
	}
	// Disabled: nothing more goes out, no second e-mail.
	queue(t, e.st, thresholdEvent("LATE", e.clock.Now()))
	for range 3 {
		run(t, fan, deliver)
		e.clock.Add(time.Hour)
	}
	if rc.hits.Load() != hits {
		t.Errorf("a disabled endpoint got %d more requests", rc.hits.Load()-hits)
	}
	if err := e.svc.ReplayDelivery(e.acme, w.ID, e.attempts(t, e.acme, w.ID)[0].ID); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("replay to a disabled endpoint: %v", err)
	}
	all, _ = e.st.OutboxEvents(ctx, pledge.EventMail)
	n := 0
	for _, m := range all {
		if strings.Contains(m.Key, "webhook-disabled") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d disable e-mails, want 1", n)
	}
	// Rotating the secret enables it again.
	if _, _, err := e.svc.RotateWebhookSecret(e.acme, w.ID); err != nil {
		t.Fatal(err)
	}
	if cur, _ := e.st.Webhook(ctx, w.ID); !cur.Active || cur.DisabledAt != nil || cur.FailingSince != nil {
		t.Errorf("after rotation: %+v", cur)
	}
}

// publicNet makes hosts look public: the resolver answers names from
// names, and the dialer connects a "public" address to a real loopback
// listener. Everything else goes through the guard as usual.
type publicNet struct {
	names map[string]netip.Addr // host -> address the resolver answers
	route map[string]string     // "ip:port" dialled -> real "127.0.0.1:port"
	dials atomic.Int64
}

func (p *publicNet) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := p.names[host]; ok {
		return []netip.Addr{a}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (p *publicNet) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p.dials.Add(1)
	if real, ok := p.route[addr]; ok {
		addr = real
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func testWebhookLoopbackRefused(t *testing.T, e *hookEnv) {
	rc := newReceiver(t, func(int, *http.Request) int { return 200 })
	port := rc.Listener.Addr().(*net.TCPAddr).Port
	// One endpoint by address (registered while private addresses were
	// allowed), one by a name that resolves to loopback.
	byIP, _ := e.register(t, e.acme, rc.URL, pledge.WebhookAreaThresholdReached)
	byName, _ := e.register(t, e.acme, fmt.Sprintf("http://hooks.acme.example:%d/", port), pledge.WebhookAreaThresholdReached)
	pn := &publicNet{names: map[string]netip.Addr{"hooks.acme.example": netip.MustParseAddr("127.0.0.1")}}
	fan, deliver := e.dispatchers(e.svc, &webhook.Client{Resolver: pn, Dial: pn.Dial})
	queue(t, e.st, thresholdEvent("A", Now))
	run(t, fan, deliver)
	if rc.hits.Load() != 0 || pn.dials.Load() != 0 {
		t.Fatalf("the guard let %d requests (%d dials) through to 127.0.0.1", rc.hits.Load(), pn.dials.Load())
	}
	for _, w := range []pledge.Webhook{byIP, byName} {
		log := e.attempts(t, e.acme, w.ID)
		if len(log) != 1 || log[0].ErrorClass != "refused" || log[0].StatusCode != 0 {
			t.Errorf("endpoint %s: log %+v, want one refused attempt", w.URL, log)
		}
	}
	ev, _ := e.st.OutboxEvents(context.Background(), pledge.EventWebhookDelivery)
	for _, d := range ev {
		if !strings.Contains(d.LastError, "refused") || strings.Contains(d.LastError, "hooks.acme.example") {
			t.Errorf("last error %q: want refused, without the URL", d.LastError)
		}
	}
	// With the flag, the same delivery goes through on its retry.
	_, deliver = e.dispatchers(e.svc, &webhook.Client{AllowPrivate: true, Resolver: pn, Dial: pn.Dial})
	e.clock.Add(dispatch.WebhookSchedule()[0])
	run(t, fan, deliver)
	if rc.hits.Load() != 2 {
		t.Errorf("allowed: receiver got %d requests, want 2", rc.hits.Load())
	}
}

func testWebhookRedirectRefused(t *testing.T, e *hookEnv) {
	inner := newReceiver(t, func(int, *http.Request) int { return 200 })
	outer := newReceiver(t, func(int, *http.Request) int { return http.StatusTemporaryRedirect })
	outerAddr := outer.Listener.Addr().String()
	pn := &publicNet{
		names: map[string]netip.Addr{"hooks.acme.example": netip.MustParseAddr("203.0.113.10")},
		route: map[string]string{"203.0.113.10:80": outerAddr},
	}
	w, _ := e.register(t, e.acme, "http://hooks.acme.example/hook", pledge.WebhookAreaThresholdReached)
	// The outer server redirects to the inner one, on loopback.
	client := &webhook.Client{Resolver: pn, Dial: pn.Dial}
	header := http.Header{"X-Test-Location": {inner.URL + "/internal"}}
	r := client.Post(context.Background(), "http://hooks.acme.example/hook", header, []byte(`{}`))
	if r.Class != "refused" || outer.hits.Load() != 1 || inner.hits.Load() != 0 {
		t.Fatalf("redirect to loopback: class %q (%v); outer got %d, inner %d", r.Class, r.Err, outer.hits.Load(), inner.hits.Load())
	}
	// The same through the dispatcher: logged as refused.
	outer.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		outer.hits.Add(1)
		http.Redirect(rw, req, inner.URL+"/internal", http.StatusFound)
	})
	fan, deliver := e.dispatchers(e.svc, client)
	queue(t, e.st, thresholdEvent("A", Now))
	run(t, fan, deliver)
	if inner.hits.Load() != 0 || outer.hits.Load() != 2 {
		t.Errorf("outer got %d, inner %d", outer.hits.Load(), inner.hits.Load())
	}
	if log := e.attempts(t, e.acme, w.ID); len(log) != 1 || log[0].ErrorClass != "refused" {
		t.Errorf("log = %+v", log)
	}
	// A redirect to a public host is followed.
	pn.names["next.acme.example"] = netip.MustParseAddr("203.0.113.11")
	pn.route["203.0.113.11:80"] = inner.Listener.Addr().String()
	outer.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		http.Redirect(rw, req, "http://next.acme.example/final", http.StatusTemporaryRedirect)
	})
	if r := client.Post(context.Background(), "http://hooks.acme.example/hook", nil, []byte(`{}`)); r.Class != "" || inner.hits.Load() != 1 {
		t.Errorf("redirect to a public host: class %q (%v), inner got %d", r.Class, r.Err, inner.hits.Load())
	}
}

func testWebhookReplay(t *testing.T, e *hookEnv) {
	rc := newReceiver(t, func(int, *http.Request) int { return 200 })
	w, secret := e.register(t, e.acme, rc.URL, pledge.WebhookAreaThresholdReached)
	fan, deliver := e.dispatchers(e.svc, &webhook.Client{AllowPrivate: true})
	queue(t, e.st, thresholdEvent("A", Now))
	run(t, fan, deliver)
	log := e.attempts(t, e.acme, w.ID)
	if len(log) != 1 {
		t.Fatalf("log = %+v", log)
	}
	if err := e.svc.ReplayDelivery(e.acme, w.ID, log[0].ID+1000); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("replay of an unknown delivery: %v", err)
	}
	e.clock.Add(time.Minute)
	if err := e.svc.ReplayDelivery(e.acme, w.ID, log[0].ID); err != nil {
		t.Fatal(err)
	}
	run(t, fan, deliver)
	got := rc.requests()
	if len(got) != 2 || got[1].id != got[0].id || string(got[1].body) != string(got[0].body) || got[1].ts == got[0].ts || !verify(secret, got[1]) {
		t.Fatalf("replay: %d requests; ids %q; bodies equal %v", len(got), []string{got[0].id}, len(got) == 2 && string(got[1].body) == string(got[0].body))
	}
	if log := e.attempts(t, e.acme, w.ID); len(log) != 2 || log[0].Attempt != 1 || log[0].MessageID != got[0].id {
		t.Errorf("log after replay = %+v", log)
	}
}

func testWebhookTwoDispatchers(t *testing.T, e *hookEnv) {
	// Each message fails its first attempt and succeeds on its second.
	var mu sync.Mutex
	seen := map[string]int{}
	successes := map[string]int{}
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("webhook-id")
		seen[id]++
		if seen[id] == 1 {
			return 500
		}
		successes[id]++
		return 200
	})
	e.register(t, e.acme, rc.URL, pledge.WebhookAreaThresholdReached)
	const events = 12
	for i := range events {
		queue(t, e.st, thresholdEvent(fmt.Sprintf("A%02d", i), Now))
	}
	// Two services on one store, as two serve processes on one database,
	// on the real clock with short retries.
	e.clock.t = time.Now().UTC()
	var ds []*dispatch.Dispatcher
	for range 2 {
		svc := newService(e.st, nil)
		fan, deliver := e.dispatchers(svc, &webhook.Client{AllowPrivate: true})
		fan.Now, deliver.Now = nil, nil
		deliver.Handlers[pledge.EventWebhookDelivery] = (&webhook.Deliverer{Service: svc, Client: &webhook.Client{AllowPrivate: true}}).Deliver
		deliver.Retry = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}
		deliver.PollInterval, fan.PollInterval = 20*time.Millisecond, 20*time.Millisecond
		ds = append(ds, fan, deliver)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	for ctx.Err() == nil {
		mu.Lock()
		n := len(successes)
		mu.Unlock()
		if n == events {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let a duplicate, if any, arrive
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(successes) != events {
		t.Fatalf("%d of %d messages delivered", len(successes), events)
	}
	for id, n := range successes {
		if n != 1 || seen[id] != 2 {
			t.Errorf("message %s: %d successes in %d requests, want 1 in 2", id, n, seen[id])
		}
	}
}

// The real lifecycle, through the service: a pledge reaches the threshold,
// a coordinator opens the tender and extends its deadline, a provider
// bids and wins. Each event reaches the subscribed endpoints as its
// webhook, with the domain's public payload as data and nothing personal.
func testWebhookLifecycle(t *testing.T, e *hookEnv) {
	ctx := context.Background()
	var mu sync.Mutex
	bodies := map[string][]string{} // endpoint path -> bodies
	rc := newReceiver(t, func(int, *http.Request) int { return 200 })
	rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.URL.Path] = append(bodies[r.URL.Path], string(b))
		mu.Unlock()
	})
	e.register(t, e.acme, rc.URL+"/all")
	e.register(t, e.other, rc.URL+"/awards", pledge.WebhookTenderAwarded)
	fan, deliver := e.dispatchers(e.svc, &webhook.Client{AllowPrivate: true})

	mustImport(t, e.svc)
	if _, _, err := e.svc.CreatePledge(ctx, req("v1", 0), ""); err != nil {
		t.Fatal(err)
	}
	run(t, fan, deliver)
	_, secret, _ := strings.Cut(mustInviteLink(t, e.svc, "coord@example.org", pledge.RoleCoordinator, "V"), "/invitations/")
	u, err := e.svc.AcceptInvitation(ctx, secret, goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	coord := pledge.WithUser(ctx, &u)
	if _, _, err := e.svc.OpenTender(coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 21), Association: "Vesterby Borgerforening", Contact: "Bo Bøgh, 12 34 56 78"}); err != nil {
		t.Fatal(err)
	}
	run(t, fan, deliver)
	if _, _, err := e.svc.OpenTender(coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 28)}); err != nil {
		t.Fatal(err)
	}
	bid, err := e.svc.SubmitBid(e.acme, "V", pledge.BidRequest{PricePerConnection: 1200000, HouseholdContribution: 500000, TimelineMonths: 18, OpenAccess: true, Notes: "Plov"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(29 * 24 * time.Hour)
	if _, _, err := e.svc.AwardTender(coord, "V", bid.ID, "Lowest price"); err != nil {
		t.Fatal(err)
	}
	run(t, fan, deliver)

	mu.Lock()
	defer mu.Unlock()
	var types []string
	for _, b := range bodies["/all"] {
		var body struct {
			Type string
			Data map[string]any
		}
		if err := json.Unmarshal([]byte(b), &body); err != nil {
			t.Fatalf("body %s: %v", b, err)
		}
		types = append(types, body.Type)
		if body.Data["area_code"] != "V" || body.Data["area_name"] != "Vesterby" {
			t.Errorf("%s: data %v", body.Type, body.Data)
		}
		switch body.Type {
		case "area.threshold_reached":
			if body.Data["area"] != "V" || body.Data["status"] != "threshold_reached" || body.Data["units"] != 2.0 ||
				body.Data["pledged_units"] != 1.0 || body.Data["threshold_percent"] != 50.0 {
				t.Errorf("area.threshold_reached data %v", body.Data)
			}
		case "tender.opened":
			if body.Data["deadline"] != Now.AddDate(0, 0, 21).Format(time.DateOnly) || body.Data["status"] != "tender_open" {
				t.Errorf("tender.opened data %v", body.Data)
			}
		case "tender.deadline_changed":
			if body.Data["deadline"] != Now.AddDate(0, 0, 28).Format(time.DateOnly) || body.Data["old_deadline"] != Now.AddDate(0, 0, 21).Format(time.DateOnly) {
				t.Errorf("tender.deadline_changed data %v", body.Data)
			}
		case "tender.awarded":
			if body.Data["provider"] != "Acme Fiber A/S" || body.Data["status"] != "awarded" {
				t.Errorf("tender.awarded data %v", body.Data)
			}
		}
		for _, personal := range []string{"Søren", "soren@example.dk", "Bo Bøgh", "12 34 56 78", "ops@acme.example", "coord@example.org"} {
			if strings.Contains(b, personal) {
				t.Errorf("%s carries %q: %s", body.Type, personal, b)
			}
		}
	}
	// Deliveries run side by side, so they may arrive in any order.
	slices.Sort(types)
	if strings.Join(types, ",") != "area.threshold_reached,tender.awarded,tender.deadline_changed,tender.opened" {
		t.Errorf("the endpoint of every event got %v", types)
	}
	if len(bodies["/awards"]) != 1 || !strings.Contains(bodies["/awards"][0], `"type":"tender.awarded"`) {
		t.Errorf("the award-only endpoint got %v", bodies["/awards"])
	}
}

func mustInviteLink(t *testing.T, svc *pledge.Service, email string, role pledge.Role, areas ...string) string {
	t.Helper()
	_, link, err := svc.Invite(cliContext(), pledge.InviteRequest{Email: email, Name: "T", Role: role, Areas: areas})
	if err != nil {
		t.Fatal(err)
	}
	return link
}
