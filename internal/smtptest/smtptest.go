// Package smtptest runs a real SMTP server (emersion/go-smtp) inside a test
// process: STARTTLS with a self-signed certificate made for the test,
// AUTH PLAIN, and a record of every message it accepted. A test can make
// it refuse (4xx or 5xx) or stall deliveries, to see what a sender does.
//
// Only tests import it.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// User and Password are the only credentials the server accepts.
const (
	User     = "kommunity"
	Password = "hemmelig-æøå"
)

// Mode is how the server answers a delivery.
type Mode int

// Modes.
const (
	Accept    Mode = iota // record the message, 250
	Refuse4xx             // 451 at RCPT TO: try again later
	Refuse5xx             // 550 at RCPT TO: no such mailbox
	Stall                 // block at MAIL FROM until the mode changes or the server closes
)

// Message is an accepted message.
type Message struct {
	From string
	To   []string
	Data []byte        // as received, headers and body
	Msg  *mail.Message // Data parsed
}

// Header returns the header of the message.
func (m Message) Header(name string) string { return m.Msg.Header.Get(name) }

// Server is a running SMTP server.
type Server struct {
	Addr string            // host:port on loopback
	CA   *x509.Certificate // the self-signed certificate it presents
	Pool *x509.CertPool    // holding CA

	srv *smtp.Server

	mu       sync.Mutex
	mode     Mode
	changed  chan struct{} // closed and replaced when the mode changes
	messages []Message
	attempts int // MAIL FROM commands seen
	authOK   int // successful AUTHs
}

// Start starts a server on 127.0.0.1:0 in mode Accept; it stops when the
// test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	cert, leaf := selfSigned(tb)
	s := &Server{CA: leaf, Pool: x509.NewCertPool(), changed: make(chan struct{})}
	s.Pool.AddCert(leaf)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = discard{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.srv = srv
	go srv.Serve(ln)
	tb.Cleanup(func() {
		s.SetMode(Accept) // releases stalled sessions
		srv.Close()
	})
	return s
}

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// URL is the smtp:// URL of the server with the right credentials.
func (s *Server) URL() string {
	return (&url.URL{Scheme: "smtp", User: url.UserPassword(User, Password), Host: s.Addr}).String()
}

// WriteCA writes the certificate as PEM into dir and returns the file's
// path, for a process to trust through SSL_CERT_FILE.
func (s *Server) WriteCA(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "smtp-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.CA.Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// SetMode changes how the server answers from now on; stalled sessions
// go on under the new mode.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
	close(s.changed)
	s.changed = make(chan struct{})
}

// Messages returns the accepted messages in the order received.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts is the number of MAIL FROM commands the server has seen.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Auths is the number of successful AUTH PLAIN exchanges.
func (s *Server) Auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authOK
}

// WaitMessages waits until the server has accepted at least n messages
// and returns them; it fails the test after timeout.
func (s *Server) WaitMessages(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			tb.Fatalf("smtptest: %d message(s) after %v, want %d", len(s.Messages()), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var (
	errTemp = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	errPerm = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
	errTLS  = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
)

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != User || password != Password {
			return smtp.ErrAuthFailed
		}
		se.s.mu.Lock()
		se.s.authOK++
		se.s.mu.Unlock()
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if _, ok := se.conn.TLSConnectionState(); !ok {
		return errTLS
	}
	if !se.authed {
		return smtp.ErrAuthRequired
	}
	se.s.mu.Lock()
	se.s.attempts++
	se.s.mu.Unlock()
	for {
		se.s.mu.Lock()
		mode, changed := se.s.mode, se.s.changed
		se.s.mu.Unlock()
		if mode != Stall {
			break
		}
		<-changed
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.s.mu.Lock()
	mode := se.s.mode
	se.s.mu.Unlock()
	switch mode {
	case Refuse4xx:
		return errTemp
	case Refuse5xx:
		return errPerm
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Unparsable message"}
	}
	se.s.mu.Lock()
	se.s.messages = append(se.s.messages, Message{From: se.from, To: se.to, Data: b, Msg: m})
	se.s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.from, se.to = "", nil }
func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day, signed by itself.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}
