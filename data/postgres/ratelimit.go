package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.RateCounter = (*Store)(nil)

// CountHit adds one hit to key's window and returns the window's hits, so
// concurrent instances count exactly. It also forgets windows older than a
// day, so the table stays small without a sweeper. Every API pledge counts
// a hit first, so hits share the pledges' queue (see runWrites): a batch of
// hits is one statement, in the same round trip as a batch of pledges.
func (s *Store) CountHit(ctx context.Context, key string, windowStart time.Time) (int, error) {
	var hits int
	err := s.writes.do(ctx, write{hit: &hitCall{key, windowStart.UTC().Truncate(time.Microsecond), &hits}})
	return hits, err
}

type hitCall struct {
	key         string
	windowStart time.Time
	hits        *int
}

// What every statement that counts hits shares: hits add up per (key,
// window), and a statement that counts also forgets the windows that
// started more than rateRetention before the oldest one it counts in, so
// the table stays small without a sweeper.
const (
	rateRetention = 24 * time.Hour
	addHits       = `ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + excluded.hits`
)

// countHitsSQL adds n hits to each (key, window) in key order, so two
// batches never wait for each other's rows in a cycle. rate_limits is
// unlogged: on its own the statement commits without waiting for a WAL
// flush.
const countHitsSQL = `WITH old AS (DELETE FROM rate_limits WHERE window_start < $4)
	INSERT INTO rate_limits (key, window_start, hits)
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::integer[]) ORDER BY 1, 2
	` + addHits + `
	RETURNING key, window_start, hits`

type rateWindow struct {
	key   string
	start time.Time
}

// hitBatch is a batch of CountHit calls, added up per window.
type hitBatch struct {
	calls  []*call[write]
	added  map[rateWindow]int
	total  map[rateWindow]int
	keys   []string
	starts []time.Time
	ns     []int32
	oldest time.Time
}

func newHitBatch(calls []*call[write]) *hitBatch {
	if len(calls) == 0 {
		return nil
	}
	h := &hitBatch{calls: calls, added: map[rateWindow]int{}, total: map[rateWindow]int{}, oldest: calls[0].in.hit.windowStart}
	for _, c := range calls {
		w := rateWindow{c.in.hit.key, c.in.hit.windowStart}
		if h.added[w] == 0 {
			h.keys, h.starts = append(h.keys, w.key), append(h.starts, w.start)
		}
		h.added[w]++
		if w.start.Before(h.oldest) {
			h.oldest = w.start
		}
	}
	h.ns = make([]int32, len(h.keys))
	for i := range h.keys {
		h.ns[i] = int32(h.added[rateWindow{h.keys[i], h.starts[i]}])
	}
	return h
}

// queue queues the batch's statement.
func (h *hitBatch) queue(b *pgx.Batch) {
	b.Queue(countHitsSQL, h.keys, h.starts, h.ns, h.oldest.Add(-rateRetention))
}

// read reads the statement's rows.
func (h *hitBatch) read(rows pgx.Rows) error {
	defer rows.Close()
	for rows.Next() {
		var w rateWindow
		var hits int
		if err := rows.Scan(&w.key, &w.start, &hits); err != nil {
			return err
		}
		h.total[rateWindow{w.key, w.start.UTC()}] = hits
	}
	return rows.Err()
}

// finish tells every caller its hit's place in its window: the calls of
// one window take the places the batch added, in order.
func (h *hitBatch) finish(err error) {
	for _, c := range h.calls {
		if err == nil {
			w := rateWindow{c.in.hit.key, c.in.hit.windowStart}
			*c.in.hit.hits = h.total[w] - h.added[w] + 1
			h.added[w]--
		}
		c.finish(err)
	}
}

// countHits counts a batch of hits on its own.
func (s *Store) countHits(ctx context.Context, h *hitBatch) {
	b := &pgx.Batch{}
	h.queue(b)
	br := s.pool.SendBatch(ctx, b)
	rows, err := br.Query()
	if err == nil {
		err = h.read(rows)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	h.finish(formatError(err))
}
