package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// RateLimiter decides whether one more request for key is allowed at now.
type RateLimiter interface {
	Allow(ctx context.Context, key string, now time.Time) (bool, error)
}

// windowLimiter allows limit hits per key in fixed windows, counted by a
// pledge.RateCounter: the store's when it has one, so every instance
// behind a load balancer counts together.
type windowLimiter struct {
	counter pledge.RateCounter
	limit   int
	window  time.Duration
}

func (l *windowLimiter) Allow(ctx context.Context, key string, now time.Time) (bool, error) {
	n, err := l.counter.CountHit(ctx, key, windowStart(now, l.window))
	if err != nil {
		return true, err
	}
	return n <= l.limit, nil
}

// memoryCounter is the per-process fallback for stores without a
// RateCounter. With several instances each counts alone.
type memoryCounter struct {
	mu   sync.Mutex
	hits map[memoryKey]int
}

type memoryKey struct {
	key    string
	window time.Time
}

func (m *memoryCounter) CountHit(_ context.Context, key string, windowStart time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hits == nil {
		m.hits = map[memoryKey]int{}
	}
	for k := range m.hits {
		if k.window.Before(windowStart.Add(-24 * time.Hour)) {
			delete(m.hits, k)
		}
	}
	k := memoryKey{key, windowStart}
	m.hits[k]++
	return m.hits[k], nil
}

// windowStart is the start of the rate-limit window holding now.
func windowStart(now time.Time, window time.Duration) time.Time {
	return now.UTC().Truncate(window)
}

// rateWindow is the start of the current pledge rate-limit window.
func (s *Server) rateWindow() time.Time {
	return windowStart(s.now(), s.cfg.PledgeRateWindow)
}

// newRateLimiter builds the pledge limiter from the configuration.
func (s *Server) newRateLimiter() RateLimiter {
	if s.cfg.RateLimiter != nil {
		return s.cfg.RateLimiter
	}
	counter, ok := s.svc.Store.(pledge.RateCounter)
	if !ok {
		s.log.Warn("the store cannot count rate limits; counting in this process only, so each instance limits alone")
		counter = &memoryCounter{}
	}
	return &windowLimiter{counter: counter, limit: s.cfg.PledgeRateLimit, window: s.cfg.PledgeRateWindow}
}

// clientKey is the rate-limit key of a request's client: a hash of its IP
// address, so neither the store nor the log ever holds the address.
func clientKey(c *gin.Context, scope string) string {
	h := sha256.Sum256([]byte("kommunity-rate\x00" + scope + "\x00" + c.ClientIP()))
	return scope + ":" + hex.EncodeToString(h[:16])
}

// allowPledge counts a pledge attempt of the client and reports whether it
// is within the limit. When counting fails the attempt is allowed: the
// limit guards against floods, and refusing residents because a counter
// is down would be worse.
func (s *Server) allowPledge(c *gin.Context) bool {
	if s.cfg.PledgeRateLimit < 0 {
		return true
	}
	ok, err := s.limiter.Allow(c.Request.Context(), clientKey(c, "pledge"), s.now())
	if err != nil {
		s.log.Warn("rate limit: counting failed; allowed", "err", err)
		return true
	}
	return ok
}

// tooManyPledges answers a pledge over the client's limit.
func (s *Server) tooManyPledges(c *gin.Context) {
	c.Header("Retry-After", strconv.Itoa(int(s.cfg.PledgeRateWindow.Seconds())))
	s.writeError(c, pledge.Errorf(pledge.ETOOMANY, "too many pledges from this client; try again later"))
}
