package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.RateCounter = (*Store)(nil)

// CountHit adds one hit to key's window and returns the window's hits (so
// concurrent instances count exactly) and the previous window's. It also forgets windows older than a
// day, so the table stays small without a sweeper. Every API pledge counts
// a hit first, so hits share the pledges' queue (see runWrites): a batch of
// hits is one statement, in the same round trip as a batch of pledges.
func (s *Store) CountHit(ctx context.Context, l pledge.RateLimit) (pledge.RateCount, error) {
	var n pledge.RateCount
	err := s.writes.do(ctx, write{hit: &hitCall{l.Key, pgTime(l.WindowStart()), pgTime(l.PreviousStart()), &n}})
	return n, err
}

// pgTime is t as PostgreSQL keeps a timestamptz, to the microsecond.
func pgTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

type hitCall struct {
	key         string
	windowStart time.Time
	prevStart   time.Time
	count       *pledge.RateCount
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
// batches never wait for each other's rows in a cycle, and reads each
// key's previous window ($5). rate_limits is unlogged: on its own the
// statement commits without waiting for a WAL flush.
const countHitsSQL = `WITH old AS (DELETE FROM rate_limits WHERE window_start < $4),
	ins AS (
		INSERT INTO rate_limits (key, window_start, hits)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::integer[]) ORDER BY 1, 2
		` + addHits + `
		RETURNING key, window_start, hits)
	SELECT ins.key, ins.window_start, ins.hits, COALESCE(p.hits, 0)
	FROM ins JOIN unnest($1::text[], $2::timestamptz[], $5::timestamptz[]) AS u(key, start, prev)
		ON u.key = ins.key AND u.start = ins.window_start
	LEFT JOIN rate_limits p ON p.key = ins.key AND p.window_start = u.prev`

type rateWindow struct {
	key   string
	start time.Time
}

// hitBatch is a batch of CountHit calls, added up per window.
type hitBatch struct {
	calls  []*call[write]
	added  map[rateWindow]int
	total  map[rateWindow]int
	prev   map[rateWindow]int
	keys   []string
	starts []time.Time
	prevs  []time.Time
	ns     []int32
	oldest time.Time
}

func newHitBatch(calls []*call[write]) *hitBatch {
	if len(calls) == 0 {
		return nil
	}
	h := &hitBatch{calls: calls, added: map[rateWindow]int{}, total: map[rateWindow]int{}, prev: map[rateWindow]int{}, oldest: calls[0].in.hit.windowStart}
	for _, c := range calls {
		w := rateWindow{c.in.hit.key, c.in.hit.windowStart}
		if h.added[w] == 0 {
			h.keys, h.starts, h.prevs = append(h.keys, w.key), append(h.starts, w.start), append(h.prevs, c.in.hit.prevStart)
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
	b.Queue(countHitsSQL, h.keys, h.starts, h.ns, h.oldest.Add(-rateRetention), h.prevs)
}

// read reads the statement's rows.
func (h *hitBatch) read(rows pgx.Rows) error {
	defer rows.Close()
	for rows.Next() {
		var w rateWindow
		var hits, prev int
		if err := rows.Scan(&w.key, &w.start, &hits, &prev); err != nil {
			return err
		}
		h.total[rateWindow{w.key, w.start.UTC()}] = hits
		h.prev[rateWindow{w.key, w.start.UTC()}] = prev
	}
	return rows.Err()
}

// finish tells every caller its hit's place in its window: the calls of
// one window take the places the batch added, in order.
func (h *hitBatch) finish(err error) {
	for _, c := range h.calls {
		if err == nil {
			w := rateWindow{c.in.hit.key, c.in.hit.windowStart}
			*c.in.hit.count = pledge.RateCount{Hits: h.total[w] - h.added[w] + 1, Previous: h.prev[w]}
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
