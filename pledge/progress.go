package pledge

import (
	"context"
	"sync"
	"time"
)

// ProgressStore is an optional Store capability: an area's settings and
// counters without its geometry, in one indexed lookup. Area progress is
// the most requested thing there is (every resident's page polls it), so
// stores that can skip decoding the polygon should.
type ProgressStore interface {
	AreaProgress(ctx context.Context, code string) (Area, error)
}

// DefaultProgressTTL is how long AreaProgress may serve an area's counters
// from memory. Writes through this Service drop the entry at once; other
// instances' pledges show up within the TTL.
const DefaultProgressTTL = time.Second

// AreaProgress returns an area's counters, threshold, deadline and status,
// possibly without its geometry, from the store or from a short-lived copy
// (see Service.ProgressTTL). Returns ENOTFOUND if there is none.
func (s *Service) AreaProgress(ctx context.Context, code string) (Area, error) {
	ttl := s.ProgressTTL
	if ttl == 0 {
		ttl = DefaultProgressTTL
	}
	if ttl > 0 {
		if a, ok := s.progress.get(code, ttl); ok {
			return a, nil
		}
	}
	a, err := s.readProgress(ctx, code)
	if err == nil && ttl > 0 {
		s.progress.put(code, a)
	}
	return a, err
}

// readProgress always asks the store.
func (s *Service) readProgress(ctx context.Context, code string) (Area, error) {
	if ps, ok := s.store.(ProgressStore); ok {
		return ps.AreaProgress(ctx, code)
	}
	return s.store.Area(ctx, code)
}

// progressCache holds recently read area progress. The zero value is ready.
type progressCache struct {
	mu sync.Mutex
	m  map[string]progressEntry
}

type progressEntry struct {
	area Area
	at   time.Time // wall clock of the read; the TTL is not a business rule
}

func (c *progressCache) get(code string, ttl time.Duration) (Area, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[code]
	if !ok || time.Since(e.at) > ttl {
		return Area{}, false
	}
	return e.area, true
}

func (c *progressCache) put(code string, a Area) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]progressEntry{} // bounded: start over rather than grow
	}
	c.m[code] = progressEntry{area: a, at: time.Now()}
}

// drop forgets one area, or every area when code is "".
func (c *progressCache) drop(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if code == "" {
		c.m = nil
		return
	}
	delete(c.m, code)
}
