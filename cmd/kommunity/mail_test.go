package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/internal/smtptest"
	"github.com/kommunity/kommunity/mail"
	"github.com/kommunity/kommunity/pledge"
)

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveKillable runs `kommunity serve` as a process with env added and
// returns it once it listens; the test may kill it. Whatever is left
// running is interrupted when the test ends.
func serveKillable(t *testing.T, bin string, env []string, logs *syncBuffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--lapse-interval", "0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on ") {
				listening <- true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
	})
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	return cmd
}

// E-mails queued while the mail server refuses or stalls them, by a
// server process that is then killed with SIGKILL, all arrive, once each,
// after the process is started again with the mail server working.
func TestMailSurvivesKill(t *testing.T) {
	bin := buildKommunity(t)
	stores := []struct {
		name string
		open func(t *testing.T) (flags []string, st pledge.Store)
	}{
		{"SQLite", func(t *testing.T) ([]string, pledge.Store) {
			db := filepath.Join(t.TempDir(), "k.db")
			st, err := sqlite.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return []string{"--db", db}, st
		}},
		{"PostgreSQL", func(t *testing.T) ([]string, pledge.Store) {
			u := pgtest.URL(t)
			st, err := postgres.Open(context.Background(), u, postgres.Options{MaxConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return []string{"--database-url", u, "--db-max-conns", "3"}, st
		}},
	}
	modes := []struct {
		name string
		mode smtptest.Mode
	}{
		// Every first attempt is refused with 451: the events wait for
		// their retry, unleased, when the process dies.
		{"Refused", smtptest.Refuse4xx},
		// Deliveries hang at MAIL FROM: the process dies holding leases,
		// mid-conversation with the mail server.
		{"Stalled", smtptest.Stall},
	}
	for _, sk := range stores {
		for _, m := range modes {
			t.Run(sk.name+"/"+m.name, func(t *testing.T) {
				storeFlags, st := sk.open(t)
				testMailSurvivesKill(t, bin, storeFlags, st, m.mode)
			})
		}
	}
}

func testMailSurvivesKill(t *testing.T, bin string, storeFlags []string, st pledge.Store, mode smtptest.Mode) {
	const n = 10
	srv := smtptest.Start(t)
	srv.SetMode(mode)
	// The binary trusts the test's certificate through SSL_CERT_FILE.
	env := []string{"SSL_CERT_FILE=" + srv.WriteCA(t, t.TempDir())}
	args := append([]string{"--smtp-url", srv.URL(), "--mail-from", "kommunity <noreply@example.dk>", "--mail-timeout", "2s"}, storeFlags...)
	var logs syncBuffer
	proc := serveKillable(t, bin, env, &logs, args...)

	svc := pledge.NewService(st)
	svc.Mail, svc.PublicURL = true, "https://kommunity.example"
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	want := map[string]bool{}
	for i := range n {
		email := fmt.Sprintf("inviteret%02d@example.dk", i)
		if _, link, err := svc.Invite(ctx, pledge.InviteRequest{Email: email, Name: "Åse Ødegård", Role: pledge.RoleAdmin}); err != nil {
			t.Fatal(err)
		} else if link == "" {
			t.Fatal("no link")
		}
		want[email] = true
	}

	// The process has tried: all ten refused once, or the first few
	// hanging at the server.
	atLeast := 1
	if mode == smtptest.Refuse4xx {
		atLeast = n
	}
	for deadline := time.Now().Add(20 * time.Second); srv.Attempts() < atLeast; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts at the server, want %d:\n%s", srv.Attempts(), atLeast, logs.String())
		}
	}
	if err := proc.Process.Kill(); err != nil { // SIGKILL: no shutdown, no cleanup
		t.Fatal(err)
	}
	proc.Wait()
	if got := len(srv.Messages()); got != 0 {
		t.Fatalf("%d messages arrived before the kill", got)
	}

	srv.SetMode(smtptest.Accept)
	serveKillable(t, bin, env, &logs, args...)
	msgs := srv.WaitMessages(t, n, 45*time.Second)
	// Every event marked delivered, then a moment for a duplicate to show.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		es, err := st.OutboxEvents(context.Background(), pledge.EventMail)
		if err != nil {
			t.Fatal(err)
		}
		delivered := 0
		for _, e := range es {
			if e.DeliveredAt != nil {
				delivered++
			}
		}
		if len(es) == n && delivered == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered:\n%s", delivered, len(es), logs.String())
		}
	}
	time.Sleep(time.Second)
	msgs = srv.Messages()
	if len(msgs) != n {
		t.Errorf("%d messages at the server, want %d", len(msgs), n)
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		if len(m.To) != 1 || !want[m.To[0]] {
			t.Errorf("message to %q", m.To)
			continue
		}
		delete(want, m.To[0])
		id := m.Header("Message-ID")
		if ids[id] || m.Header(mail.HeaderIdempotencyKey) == "" {
			t.Errorf("Message-ID %q twice or no idempotency key", id)
		}
		ids[id] = true
		b, _ := io.ReadAll(quotedprintable.NewReader(m.Msg.Body))
		if !strings.Contains(string(b), "kun én gang") || !strings.Contains(string(b), "https://kommunity.example/invitations/") {
			t.Errorf("body lost its Danish or its link:\n%s", b)
		}
	}
	if len(want) > 0 {
		t.Errorf("no message to %d recipient(s)", len(want))
	}
	// Neither run logged an address or the SMTP password.
	for _, secret := range []string{"inviteret", "@example.dk>", smtptest.Password, url.QueryEscape(smtptest.Password), url.PathEscape(smtptest.Password)} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "outbox: delivered") {
		t.Errorf("no delivery logged:\n%s", logs.String())
	}
}

// Bad mail settings stop serve at start with a usage error that does not
// print the password; without --smtp-url serve sends no e-mail.
func TestMailConfig(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrNotURL", []string{"--smtp-url", "smtp://u:topsecret@mail.example.dk:port", "--mail-from", "a@example.dk"}, "--smtp-url: not a URL"},
		{"ErrScheme", []string{"--smtp-url", "http://u:topsecret@mail.example.dk", "--mail-from", "a@example.dk"}, `scheme "http"`},
		{"ErrNoFrom", []string{"--smtp-url", "smtp://u:topsecret@mail.example.dk"}, "--mail-from is needed"},
		{"ErrBadFrom", []string{"--smtp-url", "smtp://u:topsecret@mail.example.dk", "--mail-from", "nobody"}, "--mail-from:"},
		{"ErrTimeout", []string{"--smtp-url", "smtp://u:topsecret@mail.example.dk", "--mail-from", "a@example.dk", "--mail-timeout", "0"}, "--mail-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"serve", "--db", db}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 2 with %q: %s", code, tc.want, errOut)
			}
			if strings.Contains(errOut, "topsecret") {
				t.Errorf("the password is printed: %s", errOut)
			}
		})
	}
	t.Run("FromFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "smtp-url")
		os.WriteFile(path, []byte("smtp://u:topsecret@mail.example.dk:bad\n"), 0o600)
		t.Setenv("KOMMUNITY_SMTP_URL_FILE", path)
		t.Setenv("KOMMUNITY_MAIL_FROM", "kommunity <noreply@example.dk>")
		code, _, errOut := run(t, "dispatch", "--once", "--db", db)
		if code != 2 || !strings.Contains(errOut, "--smtp-url: not a URL") || strings.Contains(errOut, "topsecret") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	// Without a mail server, dispatch delivers webhooks only.
	t.Run("DispatchWithoutURLDeliversWebhooks", func(t *testing.T) {
		code, out, errOut := run(t, "dispatch", "--once", "--db", db)
		if code != 0 || !strings.Contains(out, "delivered 0 webhook(s)") || strings.Contains(out, "e-mail") {
			t.Errorf("exit %d: %s%s", code, out, errOut)
		}
	})
	t.Run("WithoutSMTPURLNoDispatcher", func(t *testing.T) {
		_, stop := startServe(t, "--db", db)
		logs := stop()
		if !strings.Contains(logs, "no --smtp-url") {
			t.Errorf("serve did not say it sends no mail:\n%s", logs)
		}
	})
}

// `kommunity dispatch --once` delivers what is due and exits.
func TestDispatchOnce(t *testing.T) {
	srv := smtptest.Start(t)
	db := filepath.Join(t.TempDir(), "k.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := pledge.NewService(st)
	svc.Mail = true
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	for _, email := range []string{"en@example.dk", "to@example.dk"} {
		if _, _, err := svc.Invite(ctx, pledge.InviteRequest{Email: email, Role: pledge.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildKommunity(t)
	cmd := exec.Command(bin, "dispatch", "--once", "--db", db, "--smtp-url", srv.URL(), "--mail-from", "kommunity <noreply@example.dk>")
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+srv.WriteCA(t, t.TempDir()))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "delivered 2 e-mail(s)") {
		t.Fatalf("dispatch --once: %v\n%s", err, out)
	}
	if len(srv.Messages()) != 2 {
		t.Errorf("%d messages at the server, want 2", len(srv.Messages()))
	}
	out, err = exec.Command(bin, "dispatch", "--once", "--db", db, "--smtp-url", srv.URL(), "--mail-from", "kommunity <noreply@example.dk>").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "delivered 0 e-mail(s)") {
		t.Errorf("second run: %v\n%s", err, out)
	}
}
