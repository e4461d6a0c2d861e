package main

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/data/storetest"
	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/internal/smtptest"
	"github.com/kommunity/kommunity/mail"
	"github.com/kommunity/kommunity/pledge"
)

// noticeServices opens the store file db and the service and dispatchers
// serve would run on it, with a short retry for the test.
func noticeServices(t *testing.T, open func() (pledge.Store, error), srv *smtptest.Server, wrap func(dispatch.Handler) dispatch.Handler) (*pledge.Service, pledge.Store, []*dispatch.Dispatcher) {
	t.Helper()
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	svc := pledge.NewService(st)
	svc.Mail, svc.PublicURL = true, "https://k.example"
	sender, err := mail.New(mail.Config{URL: srv.URL(), From: "kommunity <noreply@example.dk>", ExtraRootCAs: []*x509.Certificate{srv.CA}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{MailTimeout: 5 * time.Second, WebhookTimeout: 5 * time.Second}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mailer := mailDispatcher(cfg, sender, st, log)
	mailer.PollInterval = 20 * time.Millisecond
	domain, delivery, err := webhookDispatchers(cfg, svc, st, log)
	if err != nil {
		t.Fatal(err)
	}
	// A short lease: a process stopped mid-attempt leaves the event
	// leased, and the next process takes it up when the lease ends.
	domain.Retry, domain.PollInterval, domain.Lease = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond,
		50 * time.Millisecond}, 20*time.Millisecond, 2*time.Second
	for kind, h := range domain.Handlers {
		domain.Handlers[kind] = wrap(h)
	}
	return svc, st, []*dispatch.Dispatcher{domain, delivery, mailer}
}

// The notices of a threshold crossing reach each pledger once, in their
// language, also when the process died after queueing them and before it
// recorded the crossing as handled: the next process fans the event out
// again and queues nothing twice. A resident who stopped the notices, and
// one with no e-mail address, get none.
func TestPledgerNoticesOnceAcrossRestart(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "k.db")
		testNoticesOnce(t, func() (pledge.Store, error) { return sqlite.Open(context.Background(), db) })
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		u := pgtest.URL(t)
		testNoticesOnce(t, func() (pledge.Store, error) {
			return postgres.Open(context.Background(), u, postgres.Options{MaxConns: 4})
		})
	})
}

func testNoticesOnce(t *testing.T, open func() (pledge.Store, error)) {
	srv := smtptest.Start(t)
	crashed := errors.New("process died after the fan-out")
	// After its first "crash" the process does nothing more, as a dead
	// one would: a busy machine must not let it use up the retries
	// before the test stops it.
	var dead atomic.Bool
	crashAfter := func(h dispatch.Handler) dispatch.Handler {
		return func(ctx context.Context, e pledge.OutboxEvent) error {
			if dead.Load() {
				<-ctx.Done()
				return ctx.Err()
			}
			if err := h(ctx, e); err != nil {
				return err
			}
			dead.Store(true)
			return crashed
		}
	}
	svc, st, ds := noticeServices(t, open, srv, crashAfter)
	storetest.MustImportFixture(t, svc)
	ctx := context.Background()
	pledgeAs := func(address, email, lang string, entered bool) pledge.Pledge {
		t.Helper()
		p, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: address, Name: "Åse Ødegård", Email: email,
			Phone: "+45 12 34 56 78", Consent: true, Language: lang, Confirmed: entered}, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Area A has 5 units at 50 %: the third counted unit reaches it.
	online := pledgeAs("a1", "online@example.dk", "en", false)
	pledgeAs("a2", "paper@example.dk", "da", true)
	quiet := pledgeAs("a2", "quiet@example.dk", "da", true)
	if _, err := svc.SetPledgeNotices(ctx, quiet.Token, false); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	wait := runDispatchers(runCtx, ds...)
	confirm := srv.WaitMessages(t, 1, 20*time.Second)
	link := regexp.MustCompile(`https://k\.example/confirm/[A-Za-z0-9_-]+`).FindString(body(t, confirm[0]))
	if link == "" || confirm[0].To[0] != "online@example.dk" || subject(t, confirm[0]) != "Confirm your fibre pledge" {
		t.Fatalf("confirmation e-mail to %v, %q:\n%s", confirm[0].To, subject(t, confirm[0]), body(t, confirm[0]))
	}
	if a, _ := svc.Area(ctx, "A"); a.Status != pledge.StatusCollecting || a.PledgedUnits != 2 || a.UnconfirmedUnits != 1 {
		t.Fatalf("A before the confirmation: %s, %d pledged, %d unconfirmed", a.Status, a.PledgedUnits, a.UnconfirmedUnits)
	}
	if _, err := svc.ConfirmPledge(ctx, strings.TrimPrefix(link, "https://k.example/confirm/")); err != nil {
		t.Fatal(err)
	}
	if a, _ := svc.Area(ctx, "A"); a.Status != pledge.StatusThresholdReached {
		t.Fatalf("A after the confirmation is %s", a.Status)
	}
	// The crossing fans out (two notices), then the process "dies".
	srv.WaitMessages(t, 3, 20*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		evs, err := st.OutboxEvents(ctx, pledge.EventThresholdReached)
		if err == nil && len(evs) == 1 && evs[0].Attempts >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the crossing was not attempted: %+v %v", evs, err)
		}
	}
	stop()
	wait()
	st.Close()

	// Started again, over the same file, with handlers that finish.
	svc, st, ds = noticeServices(t, open, srv, func(h dispatch.Handler) dispatch.Handler { return h })
	defer st.Close()
	runCtx, stop = context.WithCancel(ctx)
	wait = runDispatchers(runCtx, ds...)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		evs, err := st.OutboxEvents(ctx, pledge.EventThresholdReached)
		if err == nil && len(evs) == 1 && evs[0].DeliveredAt != nil {
			if evs[0].Attempts < 1 { // the failed attempt before the restart
				t.Fatalf("the crossing was handled in %d attempt(s); the test needs the restart to retry it", evs[0].Attempts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the crossing was not handled after the restart: %+v %v", evs, err)
		}
	}
	time.Sleep(500 * time.Millisecond) // time for a duplicate to show
	stop()
	wait()

	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages; want the confirmation and two notices, once each", len(msgs))
	}
	want := map[string]string{
		"online@example.dk": "Åby Sogn has reached its target: nothing to do now",
		"paper@example.dk":  "Åby Sogn har nået målet: du skal ikke gøre noget nu",
	}
	ids := map[string]bool{}
	for _, m := range msgs[1:] {
		to := m.To[0]
		if got := subject(t, m); got != want[to] {
			t.Errorf("notice to %s: subject %q; want %q", to, got, want[to])
		}
		delete(want, to)
		if b := body(t, m); !strings.Contains(b, "https://k.example/p/") {
			t.Errorf("notice to %s has no manage link:\n%s", to, b)
		}
		if id := m.Header("Message-ID"); ids[id] {
			t.Errorf("Message-ID %s twice", id)
		} else {
			ids[id] = true
		}
	}
	if len(want) > 0 {
		t.Errorf("no notice to %v", want)
	}
	_ = online
}

func subject(t *testing.T, m smtptest.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func body(t *testing.T, m smtptest.Message) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(m.Msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --retention takes whole days, at least one.
func TestRetentionFlag(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, v := range []string{"0", "-3"} {
		if code, _, errOut := run(t, "serve", "--db", db, "--retention", v); code != 2 || !strings.Contains(errOut, "--retention must be at least 1 day") {
			t.Errorf("--retention %s: exit %d, %q", v, code, errOut)
		}
	}
	if code, _, errOut := run(t, "serve", "--db", db, "--retention", "1y"); code != 2 || !strings.Contains(errOut, "retention") {
		t.Errorf("--retention 1y: exit %d, %q", code, errOut)
	}
}
