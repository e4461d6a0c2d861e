package storetest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/webhook"
)

// BenchWebhookDelivery measures fan-out and signed delivery of b.N events
// to one endpoint on loopback through the store made by open, against a
// baseline of the same signed posts made with the same client and no
// store. It reports events/s and the ratio to the baseline.
func BenchWebhookDelivery(b *testing.B, open func(testing.TB) pledge.Store) {
	st := open(b)
	b.Cleanup(func() { st.Close() })
	clk := &clock{t: Now}
	svc := newService(st, clk.Now)
	svc.WebhookAllowPrivate = true
	rc := newReceiver(b, func(int, *http.Request) int { return 200 })
	_, link, err := svc.Invite(cliContext(), pledge.InviteRequest{Email: "ops@acme.example", Name: "Ops", Role: pledge.RoleProvider, Provider: "Acme"})
	if err != nil {
		b.Fatal(err)
	}
	u, err := svc.AcceptInvitation(context.Background(), link[len(link)-43:], goodPassword, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := svc.RegisterWebhook(pledge.WithUser(context.Background(), &u), pledge.WebhookRequest{URL: rc.URL, Events: pledge.WebhookEvents}); err != nil {
		b.Fatal(err)
	}
	client := &webhook.Client{AllowPrivate: true}
	e := &hookEnv{st: st, svc: svc, clock: clk}
	fan, deliver := e.dispatchers(svc, client)

	// Baseline: the posts alone.
	body := []byte(`{"type":"area.threshold_reached","timestamp":"2026-11-27T12:00:00Z","data":{"area_code":"A"}}`)
	h := http.Header{}
	h.Set(webhook.HeaderSignature, webhook.Signature([][]byte{[]byte("0123456789abcdef01234567")}, "msg_x", 1, body))
	start := time.Now()
	for range b.N {
		if r := client.Post(context.Background(), rc.URL, h, body); r.Class != "" {
			b.Fatal(r.Err)
		}
	}
	baseline := time.Since(start)

	b.ResetTimer()
	start = time.Now()
	for i := range b.N {
		queue(b, st, thresholdEvent(fmt.Sprintf("B%06d", i), Now))
	}
	for _, d := range []*dispatch.Dispatcher{fan, deliver} {
		if _, err := d.RunOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	b.StopTimer()
	if n := rc.hits.Load(); n < int64(b.N) {
		b.Fatalf("%d of %d delivered", n, b.N)
	}
	b.ReportMetric(float64(b.N)/took.Seconds(), "events/s")
	b.ReportMetric(took.Seconds()/baseline.Seconds(), "x_raw_posts")
}
