package web

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// Rate limits are counted in the store (pledge.RateCounter), so every
// instance behind a load balancer counts together, over a sliding window
// (pledge.RateLimit). Keys are keyed hashes of the client, never its
// address.

// adminAttempts bounds the tender download's token checks per client: a
// script that downloads every area's package needs far fewer, and a
// guesser far more.
const (
	adminAttempts      = 30
	adminAttemptWindow = 10 * time.Minute
)

// clientID is what rate limits count per: the client's IPv4 address, or
// the /64 network of an IPv6 address, which one household or server
// usually holds whole (so changing the last 64 bits buys nothing).
func clientID(c *gin.Context) string {
	ip, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return c.ClientIP()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// limit is the rate limit of the request's client in scope, or nil with
// the limit off.
func (s *Server) limit(c *gin.Context, scope string, max int, window time.Duration) *pledge.RateLimit {
	if max < 0 {
		return nil
	}
	key, err := s.svc.ClientKey(c.Request.Context(), scope, clientID(c))
	if err != nil {
		s.log.Warn("rate limit: no key; not counted", "err", err)
		return nil
	}
	return &pledge.RateLimit{Key: key, Window: window, Max: max, Now: s.now()}
}

// pledgeLimit is the client's pledge limit, shared by the form and the API.
func (s *Server) pledgeLimit(c *gin.Context) *pledge.RateLimit {
	return s.limit(c, "pledge", s.cfg.PledgeRateLimit, s.cfg.PledgeRateWindow)
}

// throttle counts one attempt against l and reports whether it may go on;
// when it may not, it has answered 429 with Retry-After.
func (s *Server) throttle(c *gin.Context, l *pledge.RateLimit) bool {
	if l == nil {
		return true
	}
	refused, err := s.svc.Throttle(c.Request.Context(), *l)
	if err != nil {
		s.log.Warn("rate limit: counting failed; allowed", "err", err)
	}
	if refused != nil {
		s.tooMany(c, l)
		return false
	}
	return true
}

// tooMany answers an attempt over its limit.
func (s *Server) tooMany(c *gin.Context, l *pledge.RateLimit) {
	setRetryAfter(c, l)
	s.writeError(c, pledge.ErrTooMany())
}

func setRetryAfter(c *gin.Context, l *pledge.RateLimit) {
	if l != nil {
		c.Header("Retry-After", strconv.Itoa(int(l.RetryAfter().Seconds())))
	}
}
