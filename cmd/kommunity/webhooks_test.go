package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/pledge"
)

// A domain event recorded while the endpoint hangs (the process dies
// holding the delivery's lease) or fails (the process dies waiting for
// the retry) is delivered, once successfully, with the same webhook-id
// and a valid signature, by the server started again after a SIGKILL.
func TestWebhookSurvivesKill(t *testing.T) {
	bin := buildKommunity(t)
	stores := []struct {
		name, mode string
		open       func(t *testing.T) ([]string, pledge.Store)
	}{
		{"SQLite", "stall", func(t *testing.T) ([]string, pledge.Store) {
			db := filepath.Join(t.TempDir(), "k.db")
			st, err := sqlite.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return []string{"--db", db}, st
		}},
		{"PostgreSQL", "fail", func(t *testing.T) ([]string, pledge.Store) {
			u := pgtest.URL(t)
			st, err := postgres.Open(context.Background(), u, postgres.Options{MaxConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return []string{"--database-url", u, "--db-max-conns", "3"}, st
		}},
	}
	for _, sk := range stores {
		t.Run(sk.name+"/"+sk.mode, func(t *testing.T) {
			flags, st := sk.open(t)
			testWebhookSurvivesKill(t, bin, flags, st, sk.mode)
		})
	}
}

func testWebhookSurvivesKill(t *testing.T, bin string, storeFlags []string, st pledge.Store, mode string) {
	var working atomic.Bool
	release := make(chan struct{})
	var mu sync.Mutex
	var ids, sigs, bodies, stamps []string
	var successes atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		ids, sigs, bodies, stamps = append(ids, r.Header.Get("webhook-id")), append(sigs, r.Header.Get("webhook-signature")), append(bodies, string(b)), append(stamps, r.Header.Get("webhook-timestamp"))
		mu.Unlock()
		switch {
		case working.Load():
			successes.Add(1)
			w.WriteHeader(http.StatusOK)
		case mode == "stall":
			select { // hang until the test ends
			case <-release:
			case <-r.Context().Done():
			}
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer rc.Close()
	defer close(release)

	svc := pledge.NewService(st)
	svc.WebhookAllowPrivate = true
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	w, secret, err := svc.RegisterWebhook(ctx, pledge.WebhookRequest{URL: rc.URL + "/hook", Events: []string{pledge.WebhookAreaThresholdReached}})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--webhook-allow-private", "--webhook-timeout", "1s"}, storeFlags...)
	var logs syncBuffer
	proc := serveKillable(t, bin, nil, &logs, args...)
	ev := pledge.Event{Kind: pledge.EventThresholdReached, AreaCode: "A", Key: "threshold_reached:A", At: time.Now().UTC(),
		Payload: `{"area":"A","area_code":"A","area_name":"Åby","status":"threshold_reached","units":10,"pledged_units":5,"threshold_percent":50}`}
	if err := st.QueueEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	// The process has made its first attempt.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(ids)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt reached the receiver:\n%s", logs.String())
		}
	}
	if err := proc.Process.Kill(); err != nil { // SIGKILL: no shutdown, no cleanup
		t.Fatal(err)
	}
	proc.Wait()
	working.Store(true)
	serveKillable(t, bin, nil, &logs, args...)
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		es, err := st.OutboxEvents(context.Background(), pledge.EventWebhookDelivery)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 1 && es[0].DeliveredAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered after the restart: %+v\n%s", es, logs.String())
		}
	}
	time.Sleep(time.Second) // a moment for a duplicate to show
	mu.Lock()
	defer mu.Unlock()
	if successes.Load() != 1 {
		t.Errorf("%d successful deliveries, want 1", successes.Load())
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	for i := range ids {
		if ids[i] != ids[0] || ids[0] != pledge.WebhookMessageID(ev.Key, w.ID) || bodies[i] != bodies[0] {
			t.Errorf("request %d: id %q, body %s; first %q %s", i, ids[i], bodies[i], ids[0], bodies[0])
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(ids[i] + "." + stamps[i] + "." + bodies[i]))
		if sigs[i] != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
			t.Errorf("request %d: signature %q does not verify", i, sigs[i])
		}
	}
	log, err := svc.WebhookDeliveries(ctx, w.ID)
	if err != nil || len(log) == 0 || !log[0].OK() {
		t.Errorf("log = %+v, %v", log, err)
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), rc.URL) {
		t.Errorf("the log holds the secret or the URL:\n%s", logs.String())
	}
}

// Two serve processes on one PostgreSQL deliver every attempt once: each
// message fails its first attempt and succeeds on its retry, so each
// webhook-id must arrive exactly twice, once successfully.
func TestWebhookTwoServersOnePostgres(t *testing.T) {
	u := pgtest.URL(t)
	bin := buildKommunity(t)
	st, err := postgres.Open(context.Background(), u, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	seen, ok := map[string]int{}, map[string]int{}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("webhook-id")
		seen[id]++
		if seen[id] == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		ok[id]++
	}))
	defer rc.Close()
	svc := pledge.NewService(st)
	svc.WebhookAllowPrivate = true
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	if _, _, err := svc.RegisterWebhook(ctx, pledge.WebhookRequest{URL: rc.URL, Events: pledge.WebhookEvents}); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--database-url", u, "--db-max-conns", "3", "--webhook-allow-private"}
	var logs syncBuffer
	serveKillable(t, bin, nil, &logs, flags...)
	serveKillable(t, bin, nil, &logs, flags...)
	const n = 30
	for i := range n {
		code := fmt.Sprintf("T%02d", i)
		e := pledge.Event{Kind: pledge.EventTenderOpened, AreaCode: code, Key: "tender.opened:" + code, At: time.Now().UTC(),
			Payload: `{"area_code":"` + code + `","area_name":"Åby","status":"tender_open","deadline":"2027-01-31","opened_at":"2026-12-03T10:00:00Z","units":10,"pledged_units":6}`}
		if err := st.QueueEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		done := len(ok)
		mu.Unlock()
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered:\n%s", done, n, logs.String())
		}
	}
	time.Sleep(2 * time.Second) // a moment for a duplicate to show
	mu.Lock()
	defer mu.Unlock()
	for id, k := range ok {
		if k != 1 || seen[id] != 2 {
			t.Errorf("%s: %d successes in %d requests, want 1 in 2", id, k, seen[id])
		}
	}
}

// A webhook timeout that is not positive stops serve and dispatch with a
// usage error.
func TestWebhookConfig(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, args := range [][]string{
		{"serve", "--db", db, "--webhook-timeout", "0"},
		{"dispatch", "--once", "--db", db, "--webhook-timeout", "-1s"},
	} {
		if code, _, errOut := run(t, args...); code != 2 || !strings.Contains(errOut, "--webhook-timeout must be positive") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if code, out, errOut := run(t, "dispatch", "--once", "--db", db, "--webhook-allow-private"); code != 0 || !strings.Contains(out, "delivered 0 webhook(s)") {
		t.Errorf("dispatch --webhook-allow-private: exit %d: %s%s", code, out, errOut)
	}
}
