package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kommunity/kommunity/pledge"
)

var (
	_ pledge.ContactUpdater = (*Store)(nil)
	_ pledge.RateCounter    = (*Store)(nil)
)

// UpdatePledgeContact changes the contact details of an active pledge.
func (s *Store) UpdatePledgeContact(ctx context.Context, token, name, email, phone string, at time.Time) (pledge.Pledge, error) {
	p, err := scanPledge(s.pool.QueryRow(ctx, `WITH p AS (
			UPDATE pledges SET name = $2, email = $3, phone = $4, updated_at = $5
			WHERE token = $1 AND status = 'active' RETURNING *)
		SELECT `+pledgeColumns+`
		FROM p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id`,
		token, name, email, phone, at))
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return p, pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
	}
	return p, err
}

// CountHit adds one hit to key's window and returns the window's hits,
// with one upsert, so concurrent instances count exactly. It also forgets
// windows older than a day, so the table stays small without a sweeper.
// Every API pledge passes here first, so it costs one round trip: the
// transaction, its setting and the statement travel as one batch.
func (s *Store) CountHit(ctx context.Context, key string, windowStart time.Time) (int, error) {
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	// A hit lost in a crash costs nothing; waiting for the WAL flush
	// would cost every pledge a second commit's latency.
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(`WITH old AS (DELETE FROM rate_limits WHERE window_start < $3)
		INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits`,
		key, windowStart, windowStart.Add(-24*time.Hour))
	b.Queue(`COMMIT`)
	var hits int
	err := s.pool.AcquireFunc(ctx, func(conn *pgxpool.Conn) error {
		err := sendBatch(ctx, conn.Conn(), b, 2, func(br pgx.BatchResults) error {
			return br.QueryRow().Scan(&hits)
		})
		if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Exec(rctx, `ROLLBACK`)
			cancel()
		}
		return err
	})
	return hits, formatError(err)
}
