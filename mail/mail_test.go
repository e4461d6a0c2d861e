package mail_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/internal/smtptest"
	"github.com/kommunity/kommunity/mail"
	"github.com/kommunity/kommunity/pledge"
)

const (
	danishSubject = "Invitation til kommunity: Ærø og Møn"
	danishText    = "Hej Søren Ødegård,\n\nDu er inviteret til Åbenrå Kommunity. Blåbærgrød er æøå ÆØÅ.\nLinket virker kun én gang.\n"
	recipient     = "søren@example.dk"
)

func event(key, to, subject, text string) pledge.OutboxEvent {
	b, _ := json.Marshal(pledge.MailMessage{To: to, Subject: subject, Text: text})
	return pledge.OutboxEvent{ID: 1, Event: pledge.Event{Kind: pledge.EventMail, Key: key, Payload: string(b), At: time.Now()}}
}

func newSender(t *testing.T, srv *smtptest.Server, rawURL string) *mail.Sender {
	t.Helper()
	s, err := mail.New(mail.Config{URL: rawURL, From: "kommunity <noreply@example.dk>",
		ExtraRootCAs: []*x509.Certificate{srv.CA}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func body(t *testing.T, m smtptest.Message) string {
	t.Helper()
	if cte := m.Header("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding %q, want quoted-printable", cte)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestDeliver(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, srv.URL())
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		if err := s.Deliver(ctx, event("mail:invite:abc", recipient, danishSubject, danishText)); err != nil {
			t.Fatal(err)
		}
		msgs := srv.WaitMessages(t, 1, 5*time.Second)
		m := msgs[len(msgs)-1]
		if len(m.To) != 1 || m.To[0] != recipient {
			t.Errorf("RCPT TO %q, want %q", m.To, recipient)
		}
		if m.From != "noreply@example.dk" {
			t.Errorf("MAIL FROM %q", m.From)
		}
		dec := new(mime.WordDecoder)
		subj, err := dec.DecodeHeader(m.Header("Subject"))
		if err != nil || subj != danishSubject {
			t.Errorf("Subject %q (%v), want %q", subj, err, danishSubject)
		}
		if ct := m.Header("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
			t.Errorf("Content-Type %q, want text/plain; charset=UTF-8", ct)
		}
		if got := body(t, m); strings.TrimRight(got, "\n") != strings.TrimRight(danishText, "\n") {
			t.Errorf("body:\n%q\nwant\n%q", got, danishText)
		}
		if k := m.Header(mail.HeaderIdempotencyKey); k != "mail:invite:abc" {
			t.Errorf("%s %q", mail.HeaderIdempotencyKey, k)
		}
		if id := m.Header("Message-ID"); id != "<"+s.MessageID("mail:invite:abc")+">" || !strings.HasSuffix(id, "@example.dk>") {
			t.Errorf("Message-ID %q, want <%s>", id, s.MessageID("mail:invite:abc"))
		}
		from, err := netmail.ParseAddress(m.Header("From"))
		if err != nil || from.Address != "noreply@example.dk" || from.Name != "kommunity" {
			t.Errorf("From %q: %v", m.Header("From"), err)
		}
		if m.Header("Date") == "" {
			t.Errorf("no Date header")
		}
		if srv.Auths() == 0 {
			t.Errorf("no AUTH PLAIN")
		}
	})

	t.Run("MessageIDStablePerKey", func(t *testing.T) {
		n := len(srv.Messages())
		for _, key := range []string{"mail:reset:1", "mail:reset:1", "mail:reset:2"} {
			if err := s.Deliver(ctx, event(key, recipient, "x", "y")); err != nil {
				t.Fatal(err)
			}
		}
		msgs := srv.WaitMessages(t, n+3, 5*time.Second)[n:]
		a, b, c := msgs[0].Header("Message-ID"), msgs[1].Header("Message-ID"), msgs[2].Header("Message-ID")
		if a != b {
			t.Errorf("same key, different Message-IDs %q and %q", a, b)
		}
		if a == c {
			t.Errorf("different keys, same Message-ID %q", a)
		}
		// Another sender (another process) derives the same id.
		if other := newSender(t, srv, srv.URL()); other.MessageID("mail:reset:1") != s.MessageID("mail:reset:1") {
			t.Errorf("Message-ID depends on the sender")
		}
	})

	t.Run("Refused5xxIsPermanent", func(t *testing.T) {
		srv.SetMode(smtptest.Refuse5xx)
		defer srv.SetMode(smtptest.Accept)
		err := s.Deliver(ctx, event("mail:x:5", recipient, danishSubject, danishText))
		if err == nil || !dispatch.IsPermanent(err) {
			t.Fatalf("err %v, want permanent", err)
		}
		if c := dispatch.Class(err); c != "smtp-rcpt-550" {
			t.Errorf("class %q, want smtp-rcpt-550", c)
		}
		noPersonalData(t, err)
	})

	t.Run("Refused4xxIsRetried", func(t *testing.T) {
		srv.SetMode(smtptest.Refuse4xx)
		defer srv.SetMode(smtptest.Accept)
		err := s.Deliver(ctx, event("mail:x:4", recipient, danishSubject, danishText))
		if err == nil || dispatch.IsPermanent(err) {
			t.Fatalf("err %v, want a temporary error", err)
		}
		if c := dispatch.Class(err); c != "smtp-rcpt-451" {
			t.Errorf("class %q, want smtp-rcpt-451", c)
		}
		noPersonalData(t, err)
	})

	t.Run("WrongPasswordIsRetried", func(t *testing.T) {
		u, _ := url.Parse(srv.URL())
		u.User = url.UserPassword(smtptest.User, "forkert")
		n := len(srv.Messages())
		err := newSender(t, srv, u.String()).Deliver(ctx, event("mail:x:auth", recipient, "s", "t"))
		if err == nil || dispatch.IsPermanent(err) || dispatch.Class(err) != "auth" {
			t.Fatalf("err %v (class %q), want a temporary auth error", err, dispatch.Class(err))
		}
		if strings.Contains(err.Error(), "forkert") {
			t.Errorf("error holds the password: %v", err)
		}
		if len(srv.Messages()) != n {
			t.Errorf("a message was accepted without AUTH")
		}
	})

	t.Run("UntrustedCertificateIsRefused", func(t *testing.T) {
		s, err := mail.New(mail.Config{URL: srv.URL(), From: "noreply@example.dk", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Deliver(ctx, event("mail:x:tls", recipient, "s", "t"))
		if err == nil || dispatch.Class(err) != "tls" || dispatch.IsPermanent(err) {
			t.Fatalf("err %v (class %q), want a temporary tls error", err, dispatch.Class(err))
		}
	})

	t.Run("StalledServerTimesOutWithTheContext", func(t *testing.T) {
		srv.SetMode(smtptest.Stall)
		defer srv.SetMode(smtptest.Accept)
		actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Deliver(actx, event("mail:x:stall", recipient, "s", "t"))
		if err == nil || dispatch.IsPermanent(err) || dispatch.Class(err) != "timeout" {
			t.Fatalf("err %v (class %q), want a temporary timeout", err, dispatch.Class(err))
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Deliver took %v after its context ended", d)
		}
	})

	t.Run("BadPayloadIsPermanent", func(t *testing.T) {
		for name, e := range map[string]pledge.OutboxEvent{
			"NotJSON":    {ID: 2, Event: pledge.Event{Kind: pledge.EventMail, Key: "k", Payload: "{"}},
			"BadAddress": event("k", "not an address", "s", "t"),
			"WrongKind":  {ID: 3, Event: pledge.Event{Kind: pledge.EventThresholdReached, Key: "k", Payload: "{}"}},
			"NoKey":      event("", recipient, "s", "t"),
		} {
			err := s.Deliver(ctx, e)
			if !dispatch.IsPermanent(err) || dispatch.Class(err) != "payload" {
				t.Errorf("%s: err %v (class %q), want permanent payload", name, err, dispatch.Class(err))
			}
		}
	})
}

// A server that does not offer STARTTLS gets neither the password nor the
// mail: TLS is mandatory.
func TestNoSTARTTLSRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "220 plain ESMTP\r\n")
		buf := make([]byte, 4096)
		var seen strings.Builder
		for {
			n, err := c.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				break
			}
			if strings.HasPrefix(strings.ToUpper(string(buf[:n])), "EHLO") {
				io.WriteString(c, "250-plain\r\n250 AUTH PLAIN\r\n")
			} else {
				io.WriteString(c, "250 ok\r\n")
			}
		}
		got <- seen.String()
	}()
	s, err := mail.New(mail.Config{URL: "smtp://" + smtptest.User + ":" + url.QueryEscape(smtptest.Password) + "@" + ln.Addr().String(),
		From: "noreply@example.dk", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Deliver(context.Background(), event("k", recipient, "s", "t"))
	if err == nil || dispatch.Class(err) != "tls" {
		t.Fatalf("err %v (class %q), want tls", err, dispatch.Class(err))
	}
	ln.Close()
	select {
	case seen := <-got:
		if strings.Contains(strings.ToUpper(seen), "AUTH") || strings.Contains(strings.ToUpper(seen), "MAIL FROM") {
			t.Errorf("client went on without TLS:\n%s", seen)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server saw nothing")
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		host      string
		port      int
		tls       bool
		ok        bool
	}{
		{"Submission", "smtp://u:p@mail.example.dk", "mail.example.dk", 587, false, true},
		{"Port", "smtp://u:p@mail.example.dk:2525", "mail.example.dk", 2525, false, true},
		{"Implicit", "smtps://u:p@mail.example.dk", "mail.example.dk", 465, true, true},
		{"NoUser", "smtp://127.0.0.1:25", "127.0.0.1", 25, false, true},
		{"ErrScheme", "http://u:p@mail.example.dk", "", 0, false, false},
		{"ErrNoHost", "smtp://u:p@:25", "", 0, false, false},
		{"ErrPort", "smtp://u:p@mail.example.dk:99999", "", 0, false, false},
		{"ErrPath", "smtp://u:p@mail.example.dk/x", "", 0, false, false},
		{"ErrNotURL", "smtp://u:s3cret@mail.example.dk:port", "", 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := mail.ParseURL(tc.url)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), ":p@") {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if s.Host != tc.host || s.Port != tc.port || s.ImplicitTLS != tc.tls {
				t.Errorf("got %+v", s)
			}
			if strings.Contains(s.Redacted(), ":p@") {
				t.Errorf("Redacted %q holds the password", s.Redacted())
			}
		})
	}
}

// noPersonalData fails if err names the recipient or quotes the message.
func noPersonalData(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{recipient, "søren", "Søren", "Ødegård", "inviteret", "Ærø"} {
		if strings.Contains(err.Error(), s) || strings.Contains(dispatch.Class(err), s) {
			t.Errorf("error %q holds personal data %q", err, s)
		}
	}
}
