package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.RateCounter = (*Store)(nil)

// CountHit adds one hit to key's window and returns the window's hits. It
// also forgets windows older than a day, so the table stays small without
// a separate sweeper; the index on window_start keeps that cheap.
func (s *Store) CountHit(ctx context.Context, key string, windowStart time.Time) (int, error) {
	var hits int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < ?`,
			formatTime(windowStart.Add(-24*time.Hour))); err != nil {
			return formatError(err)
		}
		return formatError(tx.QueryRowContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1)
			ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits`,
			key, formatTime(windowStart)).Scan(&hits))
	})
	return hits, err
}
