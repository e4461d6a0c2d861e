package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kommunity/kommunity/pledge"
)

// Defaults of the Client's fields; a zero field means its default.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 3
	MaxExcerptBytes     = 200
)

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Client posts deliveries. Every connection, of the first request and of
// each redirect hop, goes to an address checked at connect time with
// pledge.PublicAddr, so neither a redirect nor a DNS answer that changes
// between check and use (rebinding) reaches a private address. Its fields
// are set before the first Post and not changed after; it is safe for
// concurrent use.
type Client struct {
	// AllowPrivate turns the guard off: for tests and closed networks.
	AllowPrivate bool
	// Timeout bounds a whole attempt, redirects included.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed.
	MaxRedirects int
	// Resolver and Dial are what the guard resolves and connects with;
	// nil is the system's. Tests set them to simulate public hosts.
	Resolver Resolver
	Dial     func(ctx context.Context, network, addr string) (net.Conn, error)

	once sync.Once
	http *http.Client
}

// RefusedError is a connection the guard refused.
type RefusedError struct{ Addr netip.Addr }

func (e *RefusedError) Error() string {
	return e.Addr.String() + " is not a public address (see --webhook-allow-private)"
}

// Result is the outcome of one attempt.
type Result struct {
	StatusCode int // 0 when no response came
	Duration   time.Duration
	Excerpt    string // the response's first bytes, printable, at most MaxExcerptBytes
	// Class is "" for a 2xx, else "status", "timeout", "refused", "dns",
	// "redirect" or "network".
	Class string
	// Err says what went wrong, without the URL.
	Err error
}

func (c *Client) client() *http.Client {
	c.once.Do(func() {
		t := &http.Transport{
			Proxy:               nil, // a proxy would connect on our behalf, past the guard
			DialContext:         c.dialContext,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        16,
			IdleConnTimeout:     30 * time.Second,
		}
		max := c.MaxRedirects
		if max <= 0 {
			max = DefaultMaxRedirects
		}
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		c.http = &http.Client{Transport: t, Timeout: timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > max {
					return &redirectError{fmt.Sprintf("more than %d redirects", max)}
				}
				if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
					return &redirectError{"redirect to a scheme other than http(s)"}
				}
				return nil
			}}
	})
	return c.http
}

type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

func (c *Client) allowed(a netip.Addr) bool { return c.AllowPrivate || pledge.PublicAddr(a) }

// dialContext resolves addr's host, drops the addresses the guard refuses
// and connects to a checked address itself, so nothing resolves it again.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a.WithZone("")}
	} else {
		r := c.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if ips, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, &dnsError{}
		}
	}
	var refused *RefusedError
	var lastErr error
	for _, ip := range ips {
		ip = ip.Unmap()
		if !c.allowed(ip) {
			refused = &RefusedError{ip}
			continue
		}
		conn, err := c.dial(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if refused != nil {
		return nil, refused
	}
	return nil, &dnsError{}
}

func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.Dial != nil {
		return c.Dial(ctx, network, addr)
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	if !c.AllowPrivate {
		// The address dialled is checked once more at the socket, so the
		// guard holds whatever reaches this dialer.
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if !c.allowed(ap.Addr()) {
				return &RefusedError{ap.Addr().Unmap()}
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}

type dnsError struct{}

func (*dnsError) Error() string { return "the host name does not resolve" }

// Post posts body to target with header and reports the outcome; a 2xx
// is a success.
func (c *Client) Post(ctx context.Context, target string, header http.Header, body []byte) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Result{Class: "network", Err: errors.New("the endpoint's URL does not make a request")}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kommunity-webhooks/1")
	resp, err := c.client().Do(req)
	if err != nil {
		class, msg := classify(err)
		return Result{Duration: time.Since(start), Class: class, Err: errors.New(msg)}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, MaxExcerptBytes))
	r := Result{StatusCode: resp.StatusCode, Duration: time.Since(start), Excerpt: Excerpt(head)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Class, r.Err = "status", fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	}
	return r
}

// classify names an error of http.Client.Do and says what went wrong
// without the URL (url.Error would print it).
func classify(err error) (string, string) {
	var refused *RefusedError
	var redirect *redirectError
	var dns *dnsError
	var ue *url.Error
	switch {
	case errors.As(err, &refused):
		return "refused", refused.Error()
	case errors.As(err, &redirect):
		return "redirect", redirect.Error()
	case errors.As(err, &dns):
		return "dns", dns.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ue) && ue.Timeout():
		return "timeout", "no answer within the timeout"
	case errors.Is(err, context.Canceled):
		return "network", "the attempt was stopped"
	}
	if ue != nil {
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return "network", "connection failed: " + strings.ToValidUTF8(msg, "?")
}

// Excerpt is b as printable text: valid UTF-8, control and other
// unprintable characters as '.', at most MaxExcerptBytes bytes.
func Excerpt(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == utf8.RuneError && n <= 1:
			r = '.'
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case !unicode.IsPrint(r):
			r = '.'
		}
		if sb.Len()+utf8.RuneLen(r) > MaxExcerptBytes {
			break
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
