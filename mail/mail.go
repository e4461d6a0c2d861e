// Package mail sends the e-mails of the outbox (pledge.EventMail events:
// invitations, password resets) over SMTP with TLS, as a dispatch.Handler.
//
// A message's Message-ID is derived from its event's Key, and the key also
// travels in the X-Kommunity-Idempotency-Key header: the dispatcher
// delivers at least once, so the same e-mail may reach the server twice
// and a receiver can drop the second copy. Nothing here logs, and no error
// it returns holds an address or a body: errors are stored with the event
// and their class is logged.
//
// It imports pledge and dispatch, never a store or web.
package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/pledge"
)

// HeaderIdempotencyKey carries the outbox event's Key.
const HeaderIdempotencyKey = "X-Kommunity-Idempotency-Key"

// DefaultTimeout bounds each SMTP exchange (connect, every command).
const DefaultTimeout = 30 * time.Second

// Config says how to reach the mail server.
type Config struct {
	// URL is smtp://user:password@host:port (port 587 when left out;
	// STARTTLS is required) or smtps://user:password@host:port (TLS from
	// the first byte; port 465). Without a user no AUTH is tried.
	URL string
	// From is the sender, e.g. "kommunity <noreply@example.dk>".
	From string
	// ExtraRootCAs are trusted besides the system's roots (for a test's
	// self-signed server). A process can also name a PEM file in
	// SSL_CERT_FILE.
	ExtraRootCAs []*x509.Certificate
	// Timeout bounds each SMTP exchange; 0 is DefaultTimeout.
	Timeout time.Duration
	// Now is the clock of the Date header; nil is time.Now.
	Now func() time.Time
}

// Server is a parsed --smtp-url.
type Server struct {
	Host        string
	Port        int
	ImplicitTLS bool // smtps://
	User        string
	Password    string
}

// Redacted is the URL with the password replaced, for logs.
func (s Server) Redacted() string {
	scheme := "smtp"
	if s.ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.User != "" {
		u.User = url.UserPassword(s.User, "xxxxx")
	}
	return u.String()
}

// ParseURL checks an SMTP URL. Its errors never repeat the URL, which holds
// a password.
func ParseURL(raw string) (Server, error) {
	const form = "want smtp://user:password@host:port (STARTTLS) or smtps://user:password@host:port (TLS)"
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL, password and all.
		return Server{}, fmt.Errorf("not a URL; %s", form)
	}
	s := Server{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.ImplicitTLS = 465, true
	default:
		return Server{}, fmt.Errorf("scheme %q: %s", u.Scheme, form)
	}
	if s.Host == "" {
		return Server{}, fmt.Errorf("no host; %s", form)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Server{}, fmt.Errorf("port %q is not a port number", p)
		}
		s.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Server{}, fmt.Errorf("a path, query or fragment is not allowed; %s", form)
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// ParseFrom checks a sender such as "kommunity <noreply@example.dk>".
func ParseFrom(from string) (*netmail.Address, error) {
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("%q is not an address such as \"kommunity <noreply@example.dk>\"", from)
	}
	return a, nil
}

// Sender sends outbox e-mails. It is safe for concurrent use: every
// delivery has its own connection.
type Sender struct {
	server  Server
	from    *netmail.Address
	domain  string // of From, for Message-IDs
	tls     *tls.Config
	timeout time.Duration
	now     func() time.Time
	helo    string
}

// New checks cfg and returns a Sender; it does not connect.
func New(cfg Config) (*Sender, error) {
	server, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	if cfg.From == "" {
		return nil, errors.New("--mail-from is needed with --smtp-url")
	}
	from, err := ParseFrom(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("--mail-from: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, c := range cfg.ExtraRootCAs {
		roots.AddCert(c)
	}
	s := &Sender{
		server:  server,
		from:    from,
		domain:  from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		tls:     &tls.Config{ServerName: server.Host, RootCAs: roots, MinVersion: tls.VersionTLS12},
		timeout: cfg.Timeout,
		now:     cfg.Now,
		helo:    "localhost",
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		s.helo = h
	}
	return s, nil
}

// Server is where s sends, for a log line (Redacted).
func (s *Sender) Server() Server { return s.server }

// MessageID is the Message-ID (without angle brackets) of the e-mail of
// the event with key: the same key gives the same id, so a receiver can
// recognise a second delivery.
func (s *Sender) MessageID(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16]) + "@" + s.domain
}

// Deliver sends the e-mail of event e (kind pledge.EventMail); it is a
// dispatch.Handler. A 5xx answer to the message, or a payload that is not
// an e-mail, is dispatch.Permanent; a 4xx answer, a network, TLS or AUTH
// failure, or a timeout is worth retrying.
func (s *Sender) Deliver(ctx context.Context, e pledge.OutboxEvent) error {
	msg, err := s.message(e)
	if err != nil {
		return dispatch.Permanent(&Error{class: "payload", text: err.Error()})
	}
	c, stop, err := s.client(ctx)
	if err != nil {
		return &Error{class: "config", text: err.Error()}
	}
	defer stop()
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return connectError(ctx, err)
	}
	err = c.SendWithSMTPClient(conn, msg)
	_ = c.CloseWithSMTPClient(conn) // the message is accepted or not already
	if err == nil || msg.IsDelivered() {
		// IsDelivered: the server took the message (250 after DATA); an
		// error after that (RSET) does not make it undelivered.
		return nil
	}
	return sendError(ctx, err)
}

// message builds the e-mail of e.
func (s *Sender) message(e pledge.OutboxEvent) (*gomail.Msg, error) {
	if e.Kind != pledge.EventMail {
		return nil, fmt.Errorf("event kind %q is not %q", e.Kind, pledge.EventMail)
	}
	var mm pledge.MailMessage
	if err := json.Unmarshal([]byte(e.Payload), &mm); err != nil {
		return nil, errors.New("payload is not a mail message")
	}
	to, err := netmail.ParseAddress(mm.To)
	if err != nil {
		return nil, errors.New("the recipient is not an e-mail address") // which one stays out of the error
	}
	if e.Key == "" {
		return nil, errors.New("event has no key")
	}
	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	m.FromMailAddress(s.from)
	m.ToMailAddress(to)
	m.Subject(mm.Subject)
	m.SetMessageIDWithValue(s.MessageID(e.Key))
	m.SetGenHeader(gomail.Header(HeaderIdempotencyKey), e.Key)
	m.SetDateWithValue(s.now())
	m.SetUserAgent("kommunity")
	m.SetBodyString(gomail.TypeTextPlain, mm.Text)
	return m, nil
}

// client is a go-mail client for one delivery. Its connection is closed
// when ctx ends, since go-mail bounds each command by its timeout but does
// not watch a context once connected, and the dispatcher's per-attempt
// timeout must hold. stop closes it in any case: go-mail leaves it open
// when STARTTLS or AUTH fails.
func (s *Sender) client(ctx context.Context) (*gomail.Client, func(), error) {
	var stops []func()
	stop := func() {
		for _, f := range stops {
			f()
		}
	}
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		nd := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.server.ImplicitTLS {
			conn, err = (&tls.Dialer{NetDialer: nd, Config: s.tls}).DialContext(dctx, network, addr)
		} else {
			conn, err = nd.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		unwatch := context.AfterFunc(ctx, func() { conn.Close() })
		stops = append(stops, func() { unwatch(); conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.server.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(dial),
		gomail.WithHELO(s.helo),
	}
	if s.server.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		// Mandatory: a server that does not offer STARTTLS (or a
		// man in the middle that strips it) gets no password and no mail.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.server.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.server.User), gomail.WithPassword(s.server.Password))
	}
	c, err := gomail.NewClient(s.server.Host, opts...)
	return c, stop, err
}

// Error is a failed delivery: a class for the log and a text for the
// outbox, neither naming the recipient.
type Error struct {
	class string
	code  int // SMTP reply code; 0 when the server did not answer
	text  string
}

func (e *Error) Error() string { return "mail: " + e.text }

// Class is a short name of what failed: "network", "tls", "auth",
// "timeout", "smtp-rcpt-550", "payload", ...
func (e *Error) Class() string { return e.class }

// Code is the SMTP reply code, or 0.
func (e *Error) Code() int { return e.code }

// connectError classifies a failure before the message was sent (connect,
// greeting, EHLO, STARTTLS, AUTH). None is permanent: they are about the
// server or our configuration, not this message, and giving up would lose
// every e-mail queued while an operator fixes a password or a certificate.
func connectError(ctx context.Context, err error) error {
	text := err.Error()
	if len(text) > 300 {
		text = text[:300]
	}
	var tp *textproto.Error
	var cert *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var netErr net.Error
	switch {
	case ctx.Err() != nil:
		return &Error{class: "timeout", text: "connect: " + ctx.Err().Error()}
	case errors.As(err, &cert), errors.As(err, &unknown), errors.As(err, &host), strings.Contains(text, "STARTTLS"), strings.Contains(text, "tls:"):
		return &Error{class: "tls", text: text}
	case strings.Contains(text, "AUTH"):
		e := &Error{class: "auth", text: text}
		if errors.As(err, &tp) {
			e.code = tp.Code
		}
		return e
	case errors.As(err, &tp):
		return &Error{class: "smtp-connect-" + strconv.Itoa(tp.Code), code: tp.Code, text: text}
	case errors.As(err, &netErr):
		return &Error{class: "network", text: text}
	}
	return &Error{class: "connect", text: text}
}

// sendError classifies a failure of the message itself. The text of
// go-mail's SendError lists the recipients and the server's reply often
// repeats the address, so only the step and the codes are kept.
func sendError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &Error{class: "timeout", text: "send: " + ctx.Err().Error()}
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return &Error{class: "send", text: "send failed"}
	}
	step := map[gomail.SendErrReason]string{
		gomail.ErrSMTPMailFrom: "mail", gomail.ErrSMTPRcptTo: "rcpt", gomail.ErrSMTPData: "data",
		gomail.ErrSMTPDataClose: "data", gomail.ErrWriteContent: "data", gomail.ErrConnCheck: "conn",
	}[se.Reason]
	if step == "" {
		step = "send"
	}
	code := se.ErrorCode()
	e := &Error{class: "smtp-" + step, code: code, text: "SMTP " + strings.ToUpper(step) + " refused"}
	if code != 0 {
		e.class += "-" + strconv.Itoa(code)
		e.text += " with " + strconv.Itoa(code)
		if esc := se.EnhancedStatusCode(); esc != "" {
			e.text += " " + esc
		}
	} else {
		e.text = "SMTP " + strings.ToUpper(step) + " failed without a reply"
	}
	if code >= 500 && code < 600 {
		return dispatch.Permanent(e)
	}
	return e
}
