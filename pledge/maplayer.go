package pledge

import "context"

// AreasWithGeometry lists every area with its polygon and counters, for the
// public map layer. Areas carry counts only, never who pledged.
func (s *Service) AreasWithGeometry(ctx context.Context) ([]Area, error) {
	return s.store.Areas(ctx, true)
}
