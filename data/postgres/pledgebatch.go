package postgres

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

// Pledges are the hot write path. Concurrent CreatePledge,
// CreateLimitedPledge and CountHit calls share one queue (see batcher): a
// batch of pledges is one transaction with one statement, which also
// counts the API pledges' rate-limit hits, and other hits waiting
// meanwhile travel in the same round trip. So the statements, round trips
// and the commit's WAL flush are paid once per batch instead of once per
// call. Each pledge still gets its own outcome, and the result is what
// running the batch's pledges one after another would give, but for one
// case: a pledge for the first free unit chooses it as the batch starts,
// so it may find that an earlier pledge of the batch took it; like a
// pledge that races a concurrent one, it gets ECONFLICT, and the Service
// tries again. One worker
// per process gives the largest batches: two, either freely or the second
// starting while the first commits, were slower in bench/pg_bench.sh, as
// batches shrank and waited for each other's areas.
const (
	writeWorkers   = 1
	maxWriteBatch  = 256
	writeBatchWait = 30 * time.Second
)

// write is one queued call: a pledge or a hit.
type write struct {
	pledge *pledgeCall
	hit    *hitCall
}

type pledgeCall struct {
	p      *pledge.Pledge
	limit  *pledge.RateLimit
	decide pledge.Decider
}

// CreatePledge inserts the pledge, moves the area's counter and applies
// decide, in one transaction, batched with concurrent pledges. Of
// concurrent pledges for one unit the partial unique index lets exactly one
// in; the area row, locked by the counter update until commit, keeps the
// counter exact.
func (s *Store) CreatePledge(ctx context.Context, p *pledge.Pledge, decide pledge.Decider) error {
	return s.writes.do(ctx, write{pledge: &pledgeCall{p: p, decide: decide}})
}

var _ pledge.LimitedPledger = (*Store)(nil)

// CreateLimitedPledge counts the client's hit in the pledge's own statement
// (see CountHit for the counts) and is CreatePledge within the limit.
func (s *Store) CreateLimitedPledge(ctx context.Context, p *pledge.Pledge, limit pledge.RateLimit, decide pledge.Decider) error {
	return s.writes.do(ctx, write{pledge: &pledgeCall{p: p, limit: &limit, decide: decide}})
}

// pledgeBatchSQL stores a batch of pledges in one statement. hit counts the
// rate-limit hits of the pledges that carry a limit (as countHitsSQL does);
// ok are the pledges within their limit, where a pledge's place in its
// window is the window's new count less the batch's pledges in it
// (rate_count) plus its rank among them (rate_rank). ad reads each address
// and picks the unit: the one asked for, or with 0 a free one (no active
// pledge, none asked for by number in the batch), the k-th lowest for the
// batch's k-th such pledge at the address, so that pledges of one batch
// for the first free units of a block of flats each get their own; ins inserts the pledges of addresses inside an area,
// skipping any that a unique index refuses (a unit already pledged, an
// idempotency key already used); up moves each area's counter by the pledges
// inserted in it. It returns one row per input, in input order, with the
// area as up left it when the pledge went in.
//
// Locks, in this order, as in every transaction that writes pledges:
// rate-limit rows in key order; pledges (a pledge that waits in ins for a
// concurrent one on the same unit holds no area); then areas, which l locks
// only after every insert is done (its input is grouped from all of ins) and
// in id order (its sort comes before its lock, and up changes only rows l
// has locked, read whole before up starts), so two batches never wait for
// each other in a cycle. The lock on pledges, taken when the statement is
// bound, comes before its snapshot: a batch that waits for an import (see
// lockPledges) sees the import's addresses and areas.
const pledgeBatchSQL = `WITH inp AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::boolean[],
			$8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[], $14::timestamptz[], $15::integer[],
			$16::integer[], $17::integer[], $19::timestamptz[], $20::float8[],
			$21::text[], $22::boolean[], $23::timestamptz[], $24::text[], $25::boolean[])
		WITH ORDINALITY AS i(token, address_id, unit, name, email, phone, consent, status, idempotency_key, request_hash,
			created_at, updated_at, rate_key, rate_window, rate_max, rate_count, rate_rank, rate_prev, rate_weight,
			language, confirmed, confirmed_at, confirm_hash, notices, ord)),
	old AS (
		DELETE FROM rate_limits WHERE window_start < $18),
	hit AS (
		INSERT INTO rate_limits (key, window_start, hits)
		SELECT rate_key, rate_window, count(*) FROM inp WHERE rate_key IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
		` + addHits + `
		RETURNING key, window_start, hits),
	ok AS (
		SELECT i.* FROM inp i LEFT JOIN hit ON hit.key = i.rate_key AND hit.window_start = i.rate_window
		WHERE hit.key IS NULL OR hit.hits - i.rate_count + i.rate_rank + ceil(i.rate_weight *
			COALESCE((SELECT p.hits FROM rate_limits p WHERE p.key = i.rate_key AND p.window_start = i.rate_prev), 0)) <= i.rate_max),
	ad AS (
		SELECT i.ord, a.units, a.area_id, CASE WHEN i.unit > 0 THEN i.unit ELSE (SELECT n FROM generate_series(1, a.units) n
			WHERE n NOT IN (SELECT unit FROM pledges WHERE address_id = a.id AND status = 'active')
				AND n NOT IN (SELECT o.unit FROM ok o WHERE o.address_id = i.address_id AND o.unit > 0)
			ORDER BY n OFFSET i.free_rank - 1 LIMIT 1) END AS unit
		FROM (SELECT ok.*, row_number() OVER (PARTITION BY ok.address_id, ok.unit > 0 ORDER BY ok.ord) AS free_rank FROM ok) i
		JOIN addresses a ON a.id = i.address_id),
	ins AS (
		INSERT INTO pledges (token, address_id, unit, name, email, phone, consent, status, idempotency_key, request_hash, created_at, updated_at,
			language, confirmed, confirmed_at, confirm_hash, notices)
		SELECT i.token, i.address_id, ad.unit, i.name, i.email, i.phone, i.consent, i.status, i.idempotency_key, i.request_hash,
			i.created_at, i.updated_at, i.language, i.confirmed, i.confirmed_at, i.confirm_hash, i.notices
		FROM ok i JOIN ad ON ad.ord = i.ord
		WHERE ad.area_id IS NOT NULL AND ad.unit <= ad.units
		ORDER BY i.ord
		ON CONFLICT DO NOTHING
		RETURNING id, token),
	res AS (
		SELECT i.ord, i.rate_key IS NOT NULL AND ad.ord IS NULL AND NOT EXISTS (SELECT FROM ok WHERE ok.ord = i.ord) AS limited,
			ad.units, ad.area_id, ad.unit, ins.id, i.confirmed
		FROM inp i LEFT JOIN ad ON ad.ord = i.ord LEFT JOIN ins ON ins.token = i.token),
	cnt AS (
		SELECT area_id, count(*) FILTER (WHERE confirmed)::integer AS n, count(*) FILTER (WHERE NOT confirmed)::integer AS u
		FROM res WHERE id IS NOT NULL GROUP BY area_id),
	l AS (
		SELECT id AS locked FROM areas WHERE id = ANY (ARRAY(SELECT area_id FROM cnt)) ORDER BY id FOR NO KEY UPDATE),
	up AS (
		UPDATE areas SET pledged_units = pledged_units + cnt.n, unconfirmed_units = unconfirmed_units + cnt.u
		FROM cnt WHERE areas.id = cnt.area_id AND areas.id = ANY (ARRAY(SELECT locked FROM l))
		RETURNING ` + areaColumns + `)
	SELECT res.limited, res.units, res.area_id, res.unit, res.id,
		up.id, up.code, up.name, up.area_m2, up.threshold_percent, up.threshold_units, up.deadline, up.status, up.addresses, up.units, up.pledged_units,
		up.unconfirmed_units, up.confirm_days
	FROM res LEFT JOIN up ON up.id = res.area_id AND res.id IS NOT NULL
	ORDER BY res.ord`

// runWrites runs one batch of writes. Its hits are counted in the first
// round trip of its pledges' transaction, and their callers hear of it
// right away (a hit lost to a rollback costs nothing); without pledges,
// or when that round trip fails, the hits are counted on their own. A
// batch of pledges that fails as a whole for a reason other than an
// unreachable database (a deadlock with another writer, or one pledge's
// value the database refuses) is run again one pledge per transaction, so
// one pledge's trouble is only its own.
func (s *Store) runWrites(calls []*call[write]) {
	ctx, cancel := context.WithTimeout(context.Background(), writeBatchWait)
	defer cancel()
	var pledges, hits []*call[write]
	for _, c := range calls {
		if c.in.pledge != nil {
			pledges = append(pledges, c)
		} else {
			hits = append(hits, c)
		}
	}
	h := newHitBatch(hits)
	var err error
	if len(pledges) > 0 {
		err = s.pledgeTx(ctx, pledges, h)
	}
	if h != nil && !h.calls[0].finished {
		s.countHits(ctx, h)
	}
	if err == nil {
		return
	}
	if len(pledges) > 1 && err != errUnavailable {
		for _, c := range pledges {
			c.err = nil
			if err := s.pledgeTx(ctx, []*call[write]{c}, nil); err != nil {
				c.err = err
			}
		}
		return
	}
	for _, c := range pledges {
		c.err = err
	}
}

// pledgeTx stores pledges in one transaction, and counts hits (if any) in
// its first round trip. A pledge the store or its Decider refuses gets its
// error in its call and is left out; the returned error means no pledge
// was stored.
func (s *Store) pledgeTx(ctx context.Context, calls []*call[write], hits *hitBatch) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return formatError(err)
	}
	// A connection still in a transaction is closed on release, never
	// reused; rolling back first keeps it.
	defer conn.Release()
	done := false
	defer func() {
		if !done && conn.Conn().PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Exec(rctx, `ROLLBACK`)
			cancel()
		}
	}()

	n := len(calls)
	tokens, addressIDs, names, emails, phones, statuses, hashes :=
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units := make([]int32, n)
	consents := make([]bool, n)
	keys, rateKeys := make([]*string, n), make([]*string, n)
	created, updated, rateWindows, ratePrevs := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	rateWeights := make([]float64, n)
	languages, confirmHashes := make([]string, n), make([]*string, n)
	confirmed, notices := make([]bool, n), make([]bool, n)
	confirmedAt := make([]*time.Time, n)
	// A window's pledges in this batch take the last places of its count,
	// in batch order: rank of count.
	rateMax, rateCount, rateRank := make([]int32, n), make([]int32, n), make([]int32, n)
	perWindow := map[rateWindow]int32{}
	var forget *time.Time // see rateRetention; nil: no limit, nothing counted
	for i, c := range calls {
		p := c.in.pledge.p
		c.err = nil
		tokens[i], addressIDs[i], units[i], names[i], emails[i], phones[i] = p.Token, p.AddressID, int32(p.Unit), p.Name, p.Email, p.Phone
		consents[i], statuses[i], hashes[i], created[i], updated[i] = p.Consent, string(p.Status), p.RequestHash, p.CreatedAt, p.UpdatedAt
		if p.IdempotencyKey != "" {
			keys[i] = &p.IdempotencyKey
		}
		languages[i], confirmed[i], confirmedAt[i], notices[i] = p.Language, !p.Unconfirmed, p.ConfirmedAt, !p.NoticesOff
		if p.ConfirmHash != "" {
			confirmHashes[i] = &p.ConfirmHash
		}
		if l := c.in.pledge.limit; l != nil {
			start := pgTime(l.WindowStart())
			rateKeys[i], rateWindows[i], rateMax[i] = &l.Key, start, int32(min(l.Max, math.MaxInt32))
			ratePrevs[i], rateWeights[i] = pgTime(l.PreviousStart()), l.PreviousWeight()
			w := rateWindow{l.Key, start}
			perWindow[w]++
			if f := start.Add(-rateRetention); forget == nil || f.Before(*forget) {
				forget = &f
			}
			rateRank[i] = perWindow[w]
		}
	}
	for i, c := range calls {
		if l := c.in.pledge.limit; l != nil {
			rateCount[i] = perWindow[rateWindow{l.Key, pgTime(l.WindowStart())}]
		}
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	if hits != nil {
		hits.queue(b)
	}
	b.Queue(pledgeBatchSQL, tokens, addressIDs, units, names, emails, phones, consents, statuses, keys, hashes, created, updated,
		rateKeys, rateWindows, rateMax, rateCount, rateRank, forget, ratePrevs, rateWeights,
		languages, confirmed, confirmedAt, confirmHashes, notices)
	areaOf := make([]int64, n) // 0: not inserted
	perArea := map[int64]int{} // confirmed pledges inserted per area
	perAreaUnconfirmed := map[int64]int{}
	areas := map[int64]pledge.Area{}
	err = sendBatch(ctx, conn.Conn(), b, 1, func(br pgx.BatchResults) error {
		if hits != nil {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			if err := hits.read(rows); err != nil {
				return err
			}
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		i := 0
		for ; rows.Next(); i++ {
			var limited bool
			var addrUnits, unit *int32
			var areaID, id *int64
			var a areaRow
			if err := rows.Scan(append([]any{&limited, &addrUnits, &areaID, &unit, &id}, a.dest()...)...); err != nil {
				return err
			}
			if i >= n {
				continue
			}
			c := calls[i]
			if limited {
				c.err = pledge.ErrTooMany()
				continue
			}
			if c.err = insertOutcome(c.in.pledge.p, addrUnits, areaID, unit, id); c.err != nil {
				continue
			}
			if a.ID == nil {
				// Only an area import removes areas, and lockPledges
				// orders it before or after this transaction.
				return pledge.Errorf(pledge.EUNAVAILABLE, "an address's area changed; try again")
			}
			areaOf[i] = *areaID
			if !c.in.pledge.p.Unconfirmed {
				perArea[*areaID]++
			} else {
				perAreaUnconfirmed[*areaID]++
			}
			areas[*areaID] = a.area()
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if i != n {
			return errors.New("postgres: pledge batch returned a row count unlike its input")
		}
		return nil
	})
	if err != nil {
		return formatError(err)
	}
	if hits != nil {
		hits.finish(nil)
	}
	areaIDs := make([]int64, 0, len(areas))
	for id := range areas {
		areaIDs = append(areaIDs, id)
	}
	slices.Sort(areaIDs)

	// In Go: each area's Decider calls in batch order, each on the area as
	// the pledges before it left it.
	b = &pgx.Batch{}
	var rejected []int64
	for _, id := range areaIDs {
		a := areas[id]
		final := a
		a.PledgedUnits -= perArea[id]
		a.UnconfirmedUnits -= perAreaUnconfirmed[id]
		for i, c := range calls {
			if areaOf[i] != id {
				continue
			}
			p := c.in.pledge.p
			count := &a.UnconfirmedUnits
			if !p.Unconfirmed {
				count = &a.PledgedUnits
			}
			*count++
			t, err := c.in.pledge.decide(a)
			if err != nil {
				c.err = err
				*count--
				rejected = append(rejected, p.ID)
				continue
			}
			p.AreaCode = a.Code
			for _, e := range t.AllEvents() {
				queueEvent(b, &e)
			}
			if t.Status != "" {
				a.Status = t.Status
			}
		}
		if a.Status != final.Status || a.PledgedUnits != final.PledgedUnits || a.UnconfirmedUnits != final.UnconfirmedUnits {
			b.Queue(`UPDATE areas SET status = $1, pledged_units = $2, unconfirmed_units = $3 WHERE id = $4`,
				string(a.Status), a.PledgedUnits, a.UnconfirmedUnits, a.ID)
		}
	}
	if len(rejected) > 0 {
		b.Queue(`DELETE FROM pledges WHERE id = ANY($1)`, rejected)
	}
	// Round trip 2: what the Deciders decided, and COMMIT.
	b.Queue(`COMMIT`)
	if err := sendBatch(ctx, conn.Conn(), b, 0, nil); err != nil {
		return formatError(err)
	}
	done = true
	return nil
}

// insertOutcome reads one row of pledgeBatchSQL: on success it sets p.ID
// and p.Unit and returns nil.
func insertOutcome(p *pledge.Pledge, addrUnits *int32, areaID *int64, unit *int32, id *int64) error {
	switch {
	case addrUnits == nil:
		return pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", p.AddressID)
	case areaID == nil:
		return pledge.Errorf(pledge.EINVALID, "address %q is outside every area", p.AddressID)
	case p.Unit > int(*addrUnits):
		return pledge.UnitRangeError(int(*addrUnits))
	case unit == nil:
		return pledge.UnitTakenError("all %d unit(s) at this address are already pledged", *addrUnits)
	case id == nil && p.Unit == 0:
		return pledge.UnitTakenError("the first free unit at this address is already pledged")
	case id == nil:
		// A taken unit, or an idempotency key already used: the Service
		// tells these apart.
		return pledge.UnitTakenError("unit %d at this address is already pledged", p.Unit)
	}
	p.ID, p.Unit = *id, int(*unit)
	return nil
}

// insertOutbox records an event in the outbox, due at once, once per key.
const insertOutbox = `INSERT INTO outbox (key, kind, area_code, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)
	ON CONFLICT (key) DO NOTHING`

// queueEvent queues an outbox row, recorded once per key.
func queueEvent(b *pgx.Batch, e *pledge.Event) {
	if e != nil {
		b.Queue(insertOutbox, e.Key, e.Kind, e.AreaCode, e.Payload, e.At)
	}
}

// insertEvent records e on db, which may be a transaction.
func insertEvent(ctx context.Context, db execer, e pledge.Event) error {
	_, err := db.Exec(ctx, insertOutbox, e.Key, e.Kind, e.AreaCode, e.Payload, e.At)
	return formatError(err)
}

// areaRow is an areas row (areaColumns) that an outer join may leave NULL.
type areaRow struct {
	ID                                        *int64
	Code, Name, Status                        *string
	AreaM2, ThresholdPercent                  *float64
	ThresholdUnits, Addresses, Units, Pledged *int32
	Unconfirmed, ConfirmDays                  *int32
	Deadline                                  *time.Time
}

func (r *areaRow) dest() []any {
	return []any{&r.ID, &r.Code, &r.Name, &r.AreaM2, &r.ThresholdPercent, &r.ThresholdUnits, &r.Deadline, &r.Status,
		&r.Addresses, &r.Units, &r.Pledged, &r.Unconfirmed, &r.ConfirmDays}
}

// area returns the row as an Area; r.ID must not be nil.
func (r *areaRow) area() pledge.Area {
	a := pledge.Area{ID: *r.ID, Code: *r.Code, Name: *r.Name, AreaM2: *r.AreaM2, ThresholdPercent: *r.ThresholdPercent,
		ThresholdUnits: int(*r.ThresholdUnits), Status: pledge.AreaStatus(*r.Status), Addresses: int(*r.Addresses),
		Units: int(*r.Units), PledgedUnits: int(*r.Pledged), UnconfirmedUnits: int(*r.Unconfirmed), ConfirmDays: int(*r.ConfirmDays)}
	if r.Deadline != nil {
		t := r.Deadline.UTC()
		a.Deadline = &t
	}
	return a
}
