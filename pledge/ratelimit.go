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
