package pledge

import (
	"context"
	"math"
	"time"
)

// RateCounter counts hits per key in fixed time windows, kept in the
// store, so rate limits hold across every instance behind a load balancer.
// Both stores implement it. RateLimit turns two neighbouring windows into
// a sliding one.
type RateCounter interface {
	// CountHit records one hit of l.Key in the window that holds l.Now and
	// returns that window's hits, this one included, and the hits of the
	// window before it. Windows that started more than a day before may be
	// forgotten. Keys must not be personal data (hash them).
	CountHit(ctx context.Context, l RateLimit) (RateCount, error)
}

// RateCount is what a RateCounter counted for a key: the hits of the
// current fixed window and of the one before.
type RateCount struct {
	Hits, Previous int
}

// RateLimit bounds one client's attempts: at most Max hits of Key in any
// sliding Window, estimated from two fixed windows as the current window's
// hits plus the previous window's weighted by how much of it the sliding
// window still covers. Unlike fixed windows alone, this does not let a
// client send Max just before a window boundary and Max again just after.
type RateLimit struct {
	Key    string // not personal data: a hash of the client (see ClientKey)
	Window time.Duration
	Max    int
	Now    time.Time
}

// WindowStart is the start of the fixed window that holds Now.
func (l RateLimit) WindowStart() time.Time { return l.Now.UTC().Truncate(l.Window) }

// PreviousStart is the start of the fixed window before WindowStart.
func (l RateLimit) PreviousStart() time.Time { return l.WindowStart().Add(-l.Window) }

// PreviousWeight is the share of the previous fixed window that the
// sliding window ending at Now still covers, 0 to 1.
func (l RateLimit) PreviousWeight() float64 {
	if l.Window <= 0 {
		return 0
	}
	return 1 - float64(l.Now.UTC().Sub(l.WindowStart()))/float64(l.Window)
}

// Allows reports whether a hit whose count is n keeps within the limit.
func (l RateLimit) Allows(n RateCount) bool {
	return n.Hits+int(math.Ceil(float64(n.Previous)*l.PreviousWeight())) <= l.Max
}

// RetryAfter is how long a client refused at Now should wait: until the
// current fixed window ends, after which the previous one weighs less.
func (l RateLimit) RetryAfter() time.Duration {
	d := l.WindowStart().Add(l.Window).Sub(l.Now.UTC())
	if d < time.Second {
		d = time.Second
	}
	return d.Round(time.Second)
}

// LimitedPledger is implemented by stores that count a pledge's rate-limit
// hit together with the pledge, so that a limited pledge costs one trip to
// the store instead of two (one to count, then one to pledge). It is
// optional; its counts are the RateCounter's.
type LimitedPledger interface {
	// CreateLimitedPledge counts one hit of limit.Key and then, if
	// limit.Allows the count, does what CreatePledge does. Over the limit
	// it stores nothing but the hit and returns ETOOMANY. The hit counts
	// whatever becomes of the pledge.
	CreateLimitedPledge(ctx context.Context, p *Pledge, limit RateLimit, decide Decider) error
}

// Throttle counts one attempt against l and returns ETOOMANY when it is
// over the limit. Every attempt counts, also those that fail later for bad
// input, so a client cannot slip past the limit with requests that fail
// validation. A negative l.Max means no limit. When counting fails the
// attempt is allowed (the limit guards against floods, and refusing
// residents because a counter is down would be worse) and countErr says
// why, for the caller to log.
func (s *Service) Throttle(ctx context.Context, l RateLimit) (refused, countErr error) {
	if l.Max < 0 {
		return nil, nil
	}
	n, err := s.store.CountHit(ctx, l)
	if err != nil {
		return nil, err
	}
	if !l.Allows(n) {
		return ErrTooMany(), nil
	}
	return nil, nil
}

// ErrTooMany is the error of an attempt over its rate limit.
func ErrTooMany() *Error {
	return &Error{Code: ETOOMANY, Reason: ReasonRateLimited, Message: "too many requests from this client; try again later"}
}

// ClientKey is the rate-limit key of a client (an IP address or network)
// in scope: a keyed hash, so neither the store nor a log ever holds the
// address, and a leaked table cannot be checked against a list of them.
func (s *Service) ClientKey(ctx context.Context, scope, client string) (string, error) {
	h, err := s.keyedHash(ctx, "rate", scope, client)
	if err != nil {
		return "", err
	}
	return scope + ":" + h[:32], nil
}
