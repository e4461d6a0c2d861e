package dispatch_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/internal/smtptest"
	"github.com/kommunity/kommunity/mail"
	"github.com/kommunity/kommunity/pledge"
)

// stores opens a fresh database of each kind; open returns another store
// on the same database (another process's view). PostgreSQL runs when
// TEST_DATABASE_URL is set.
type storeKind struct {
	name string
	open func(t *testing.T) (first pledge.Store, open func(t *testing.T) pledge.Store)
}

var storeKinds = []storeKind{
	{"SQLite", func(t *testing.T) (pledge.Store, func(t *testing.T) pledge.Store) {
		path := filepath.Join(t.TempDir(), "k.db")
		open := func(t *testing.T) pledge.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		return open(t), open
	}},
	{"PostgreSQL", func(t *testing.T) (pledge.Store, func(t *testing.T) pledge.Store) {
		url := pgtest.URL(t)
		open := func(t *testing.T) pledge.Store {
			st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		return open(t), open
	}},
}

func eachStore(t *testing.T, f func(t *testing.T, st pledge.Store, open func(t *testing.T) pledge.Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			st, open := k.open(t)
			f(t, st, open)
		})
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)} }

func queueMail(t *testing.T, st pledge.OutboxStore, key, to string, at time.Time) {
	t.Helper()
	b, _ := json.Marshal(pledge.MailMessage{To: to, Subject: "Invitation til kommunity", Text: "Hej Åse, klik på linket.\n"})
	if err := st.QueueEvent(context.Background(), pledge.Event{Kind: pledge.EventMail, Key: key, Payload: string(b), At: at}); err != nil {
		t.Fatal(err)
	}
}

func sender(t *testing.T, srv *smtptest.Server) *mail.Sender {
	t.Helper()
	s, err := mail.New(mail.Config{URL: srv.URL(), From: "kommunity <noreply@example.dk>",
		ExtraRootCAs: []*x509.Certificate{srv.CA}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func onlyEvent(t *testing.T, st pledge.OutboxStore) pledge.OutboxEvent {
	t.Helper()
	es, err := st.OutboxEvents(context.Background(), pledge.EventMail)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d mail events, want 1", len(es))
	}
	return es[0]
}

// A first attempt refused with 451 is retried after the schedule's first
// wait, not before, and then delivered once.
func TestRetryAfterFailedAttempt(t *testing.T) {
	eachStore(t, func(t *testing.T, st pledge.Store, _ func(*testing.T) pledge.Store) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		clk := newClock()
		d := &dispatch.Dispatcher{Store: st, Now: clk.Now, Log: testLog(t),
			Handlers: map[string]dispatch.Handler{pledge.EventMail: sender(t, srv).Deliver}}
		queueMail(t, st, "mail:test:1", "aase@example.dk", clk.Now())
		queueMail(t, st, "mail:test:1", "aase@example.dk", clk.Now()) // the same key is recorded once

		srv.SetMode(smtptest.Refuse4xx)
		if n, err := d.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("first run: %d delivered, %v", n, err)
		}
		e := onlyEvent(t, st)
		if e.Attempts != 1 || e.Dead || e.DeliveredAt != nil || !e.NextAttemptAt.Equal(clk.Now().Add(5*time.Second)) {
			t.Fatalf("after a 451: %+v, want attempt 1, next in 5s", e)
		}
		if !strings.Contains(e.LastError, "451") || strings.Contains(e.LastError, "aase") {
			t.Errorf("last error %q: want the code, not the address", e.LastError)
		}

		srv.SetMode(smtptest.Accept)
		clk.Add(4 * time.Second)
		if n, _ := d.RunOnce(ctx); n != 0 || srv.Attempts() != 1 {
			t.Fatalf("retried before its time: %d delivered, %d attempts", n, srv.Attempts())
		}
		clk.Add(time.Second)
		if n, err := d.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("second run: %d delivered, %v", n, err)
		}
		e = onlyEvent(t, st)
		if e.DeliveredAt == nil || !e.DeliveredAt.Equal(clk.Now()) || e.Dead {
			t.Errorf("after delivery: %+v", e)
		}
		if strings.Contains(e.Payload, "aase@example.dk") {
			t.Errorf("a delivered e-mail's address is kept: %q", e.Payload)
		}
		clk.Add(time.Hour)
		if n, _ := d.RunOnce(ctx); n != 0 {
			t.Errorf("delivered again: %d", n)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 || msgs[0].Header(mail.HeaderIdempotencyKey) != "mail:test:1" {
			t.Errorf("%d messages at the server, want 1 with its key", len(msgs))
		}
	})
}

// An e-mail refused with 4xx every time is tried once plus once per wait
// of the schedule, then given up; a 5xx gives up at once.
func TestGiveUp(t *testing.T) {
	eachStore(t, func(t *testing.T, st pledge.Store, _ func(*testing.T) pledge.Store) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		clk := newClock()
		d := &dispatch.Dispatcher{Store: st, Now: clk.Now, Log: testLog(t),
			Handlers: map[string]dispatch.Handler{pledge.EventMail: sender(t, srv).Deliver}}

		t.Run("AfterTheSchedule", func(t *testing.T) {
			srv.SetMode(smtptest.Refuse4xx)
			queueMail(t, st, "mail:test:4xx", "bo@example.dk", clk.Now())
			schedule := dispatch.MailSchedule()
			for i, wait := range append(schedule, 0) {
				if _, err := d.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
				e := onlyEvent(t, st)
				if e.Attempts != i+1 {
					t.Fatalf("attempt %d: store counts %d", i+1, e.Attempts)
				}
				if last := i == len(schedule); e.Dead != last {
					t.Fatalf("attempt %d: dead=%v", i+1, e.Dead)
				}
				clk.Add(wait)
			}
			clk.Add(48 * time.Hour)
			d.RunOnce(ctx)
			if a := srv.Attempts(); a != len(schedule)+1 {
				t.Errorf("%d attempts at the server, want %d", a, len(schedule)+1)
			}
		})

		t.Run("AtOnceOn5xx", func(t *testing.T) {
			srv.SetMode(smtptest.Refuse5xx)
			before := srv.Attempts()
			queueMail(t, st, "mail:test:5xx", "nobody@example.dk", clk.Now())
			d.RunOnce(ctx)
			clk.Add(48 * time.Hour)
			d.RunOnce(ctx)
			es, _ := st.OutboxEvents(ctx, pledge.EventMail)
			e := es[len(es)-1]
			if e.Key != "mail:test:5xx" || !e.Dead || e.Attempts != 1 || !strings.Contains(e.LastError, "550") {
				t.Errorf("after a 550: %+v", e)
			}
			if a := srv.Attempts() - before; a != 1 {
				t.Errorf("%d attempts at the server, want 1", a)
			}
		})
	})
}

// An event claimed by a dispatcher that then died is not delivered by
// another before the lease ends, and is after.
func TestLeaseOfADeadDispatcher(t *testing.T) {
	eachStore(t, func(t *testing.T, st pledge.Store, open func(*testing.T) pledge.Store) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		clk := newClock()
		queueMail(t, st, "mail:test:lease", "cy@example.dk", clk.Now())
		if es, err := open(t).ClaimEvents(ctx, []string{pledge.EventMail}, clk.Now(), time.Minute, 10); err != nil || len(es) != 1 {
			t.Fatalf("claim: %d events, %v", len(es), err)
		}
		d := &dispatch.Dispatcher{Store: st, Now: clk.Now, Lease: time.Minute, Log: testLog(t),
			Handlers: map[string]dispatch.Handler{pledge.EventMail: sender(t, srv).Deliver}}
		clk.Add(59 * time.Second)
		if n, _ := d.RunOnce(ctx); n != 0 || srv.Attempts() != 0 {
			t.Fatalf("delivered under another's lease")
		}
		clk.Add(time.Second)
		if n, err := d.RunOnce(ctx); n != 1 || err != nil {
			t.Fatalf("after the lease: %d delivered, %v", n, err)
		}
	})
}

// Only the handlers' kinds are claimed; a panicking handler is an error,
// not a crash.
func TestKindsAndPanics(t *testing.T) {
	eachStore(t, func(t *testing.T, st pledge.Store, _ func(*testing.T) pledge.Store) {
		ctx := context.Background()
		clk := newClock()
		if err := st.QueueEvent(ctx, pledge.Event{Kind: "other", Key: "other:1", Payload: "{}", At: clk.Now()}); err != nil {
			t.Fatal(err)
		}
		queueMail(t, st, "mail:test:panic", "dy@example.dk", clk.Now())
		d := &dispatch.Dispatcher{Store: st, Now: clk.Now, Handlers: map[string]dispatch.Handler{
			pledge.EventMail: func(context.Context, pledge.OutboxEvent) error { panic("boom") }}}
		if n, err := d.RunOnce(ctx); n != 0 || err != nil {
			t.Fatalf("%d delivered, %v", n, err)
		}
		es, _ := st.OutboxEvents(ctx, "")
		for _, e := range es {
			switch e.Kind {
			case "other":
				if e.Attempts != 0 {
					t.Errorf("an event of another kind was attempted: %+v", e)
				}
			case pledge.EventMail:
				if e.Attempts != 1 || e.Dead {
					t.Errorf("the panicking attempt: %+v", e)
				}
			}
		}
	})
}

// Two dispatchers, each on its own connection pool to one database, as two
// processes would be, deliver 50 queued e-mails: each exactly once.
func TestTwoDispatchersDeliverOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st pledge.Store, open func(*testing.T) pledge.Store) {
		const n = 50
		srv := smtptest.Start(t)
		for i := range n {
			queueMail(t, st, fmt.Sprintf("mail:test:%02d", i), fmt.Sprintf("beboer%02d@example.dk", i), time.Now())
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var byDispatcher [2]atomic.Int64
		for i := range 2 {
			s := sender(t, srv)
			d := &dispatch.Dispatcher{Store: open(t), PollInterval: 20 * time.Millisecond, Concurrency: 4,
				Handlers: map[string]dispatch.Handler{pledge.EventMail: func(ctx context.Context, e pledge.OutboxEvent) error {
					byDispatcher[i].Add(1)
					return s.Deliver(ctx, e)
				}}}
			wg.Add(1)
			go func() { defer wg.Done(); d.Run(ctx) }()
		}
		srv.WaitMessages(t, n, 60*time.Second)
		time.Sleep(300 * time.Millisecond) // time for a duplicate to show
		cancel()
		wg.Wait()
		seen := map[string]int{}
		for _, m := range srv.Messages() {
			seen[m.Header(mail.HeaderIdempotencyKey)]++
		}
		if len(srv.Messages()) != n || len(seen) != n {
			t.Errorf("%d messages with %d keys at the server, want %d once each", len(srv.Messages()), len(seen), n)
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%s arrived %d times", k, c)
			}
		}
		es, err := st.OutboxEvents(context.Background(), pledge.EventMail)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.DeliveredAt == nil || e.Attempts != 0 && e.Attempts != 1 {
				// Attempts counts failed attempts (RetryEvent); a first
				// delivery leaves it at 0 or 1 depending on the store.
				t.Errorf("%s: %+v", e.Key, e)
			}
		}
		t.Logf("attempts per dispatcher: %d and %d", byDispatcher[0].Load(), byDispatcher[1].Load())
	})
}

// testLog sends the dispatcher's log to the test's, so a failure shows it.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestChainStopsAtFirstError(t *testing.T) {
	var ran []int
	boom := errors.New("boom")
	h := dispatch.Chain(
		func(context.Context, pledge.OutboxEvent) error { ran = append(ran, 1); return nil },
		func(context.Context, pledge.OutboxEvent) error { ran = append(ran, 2); return boom },
		func(context.Context, pledge.OutboxEvent) error { ran = append(ran, 3); return nil },
	)
	if err := h(context.Background(), pledge.OutboxEvent{}); !errors.Is(err, boom) {
		t.Fatalf("Chain error %v, want boom", err)
	}
	if fmt.Sprint(ran) != "[1 2]" {
		t.Fatalf("ran %v, want [1 2]", ran)
	}
}
