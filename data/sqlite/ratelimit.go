package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.RateCounter = (*Store)(nil)

// CountHit adds one hit to key's window and returns the window's hits and
// the previous window's. It also forgets windows older than a day, so the
// table stays small without a separate sweeper; the index on window_start
// keeps that cheap.
func (s *Store) CountHit(ctx context.Context, l pledge.RateLimit) (pledge.RateCount, error) {
	var n pledge.RateCount
	start := l.WindowStart()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < ?`,
			formatTime(start.Add(-24*time.Hour))); err != nil {
			return formatError(err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1)
			ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits`,
			l.Key, formatTime(start)).Scan(&n.Hits); err != nil {
			return formatError(err)
		}
		err := tx.QueryRowContext(ctx, `SELECT hits FROM rate_limits WHERE key = ? AND window_start = ?`,
			l.Key, formatTime(l.PreviousStart())).Scan(&n.Previous)
		if err == sql.ErrNoRows {
			err = nil
		}
		return formatError(err)
	})
	return n, err
}
