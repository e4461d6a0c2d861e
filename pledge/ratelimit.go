package pledge

import (
	"context"
	"time"
)

// RateCounter is implemented by stores that count hits per key in fixed
// time windows. Rate limits kept in the store hold across every instance
// behind a load balancer, which a counter in process memory does not. It is
// separate from Store so that stores without it keep compiling; callers
// fall back to a per-process counter.
type RateCounter interface {
	// CountHit records one hit for key in the window that starts at
	// windowStart and returns the number of hits in that window, this one
	// included. Windows that started more than a day before windowStart
	// may be forgotten. Keys must not be personal data (hash them).
	CountHit(ctx context.Context, key string, windowStart time.Time) (int, error)
}

// RateLimit bounds one client's pledges: at most Max hits of Key in the
// window that starts at WindowStart, counted as RateCounter counts them.
type RateLimit struct {
	Key         string // not personal data: a hash of the client
	WindowStart time.Time
	Max         int
}

// LimitedPledger is implemented by stores that count a pledge's rate-limit
// hit together with the pledge, so that a limited pledge costs one trip to
// the store instead of two (one to count, then one to pledge). It is
// optional, like RateCounter, whose counts it shares.
type LimitedPledger interface {
	// CreateLimitedPledge counts one hit of limit.Key in its window and
	// then, if the window holds at most limit.Max hits, does what
	// CreatePledge does. Over the limit it stores nothing but the hit and
	// returns ETOOMANY. The hit counts whatever becomes of the pledge.
	CreateLimitedPledge(ctx context.Context, p *Pledge, limit RateLimit, decide Decider) error
}
