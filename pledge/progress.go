package pledge

import "context"

// ProgressStore is an optional Store capability: an area's settings and
// counters without its geometry, in one indexed lookup. Area progress is
// the most requested thing there is (every resident's page polls it), so
// stores that can skip decoding the polygon should.
type ProgressStore interface {
	AreaProgress(ctx context.Context, code string) (Area, error)
}

// AreaProgress returns an area's counters, threshold, deadline and status,
// with or without its geometry. Returns ENOTFOUND if there is none.
func (s *Service) AreaProgress(ctx context.Context, code string) (Area, error) {
	if ps, ok := s.Store.(ProgressStore); ok {
		return ps.AreaProgress(ctx, code)
	}
	return s.Store.Area(ctx, code)
}
