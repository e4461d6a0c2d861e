package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
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
	n, err := l.counter.CountHit(ctx, key, now.UTC().Truncate(l.window))
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

// limitPledgesAPI is the JSON API's side of the same limit. Like the form,
// it counts only requests that pass validation: mistakes cost a resident
// nothing, and malformed requests create nothing worth limiting. It reads
// the (size-limited) body and hands the same bytes on to the handler.
func (s *Server) limitPledgesAPI(c *gin.Context) {
	if s.cfg.PledgeRateLimit < 0 {
		c.Next()
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		rest = io.MultiReader(rest, errReader{err}) // the handler reports it
	}
	c.Request.Body = io.NopCloser(rest)
	var in pledgeInput
	if err == nil && json.Unmarshal(body, &in) == nil && pledge.PledgeRequest(in).Validate() == nil && !s.allowPledge(c) {
		c.Header("Retry-After", strconv.Itoa(int(s.cfg.PledgeRateWindow.Seconds())))
		s.writeError(c, pledge.Errorf(pledge.ETOOMANY, "too many pledges from this client; try again later"))
		return
	}
	c.Next()
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
