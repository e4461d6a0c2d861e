package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

const pledgeColumns = `p.id, p.token, p.address_id, coalesce(ar.code, ''), p.unit, p.name, p.email, p.phone, p.consent, p.status,
	coalesce(p.idempotency_key, ''), p.request_hash, p.created_at, p.updated_at`

const pledgeSelect = `SELECT ` + pledgeColumns + `
	FROM pledges p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id `

func scanPledge(row pgx.Row, extra ...any) (pledge.Pledge, error) {
	var p pledge.Pledge
	dest := append([]any{&p.ID, &p.Token, &p.AddressID, &p.AreaCode, &p.Unit, &p.Name, &p.Email, &p.Phone, &p.Consent, &p.Status,
		&p.IdempotencyKey, &p.RequestHash, &p.CreatedAt, &p.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return p, formatError(err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// PledgeByToken returns a pledge by its manage token.
func (s *Store) PledgeByToken(ctx context.Context, token string) (pledge.Pledge, error) {
	p, err := scanPledge(s.pool.QueryRow(ctx, pledgeSelect+`WHERE p.token = $1`, token))
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return p, pledge.Errorf(pledge.ENOTFOUND, "no pledge with this link")
	}
	return p, err
}

// PledgeByIdempotencyKey returns the pledge made with key.
func (s *Store) PledgeByIdempotencyKey(ctx context.Context, key string) (pledge.Pledge, error) {
	return scanPledge(s.pool.QueryRow(ctx, pledgeSelect+`WHERE p.idempotency_key = $1`, key))
}

// createPledgeSQL is a pledge in one statement: it reads the address,
// picks the unit ($3, or with $3 = 0 the lowest one without an active
// pledge), inserts the pledge and moves its area's counter, and returns
// what the caller needs to tell the cases apart. The pledge row is written
// before the area row is locked (the UPDATE's EXISTS runs the insert
// first), so a pledge that waits for a concurrent one on the same unit never
// holds the area. Its locks, taken when the statement is bound, come before
// its snapshot: a pledge that waits for an import (see lockPledges) sees
// the import's addresses and areas.
const createPledgeSQL = `WITH ad AS (
		SELECT id, units, area_id FROM addresses WHERE id = $2),
	u AS (
		SELECT CASE WHEN $3::integer > 0 THEN $3::integer ELSE (SELECT n FROM generate_series(1, ad.units) n
			WHERE n NOT IN (SELECT unit FROM pledges WHERE address_id = ad.id AND status = 'active') ORDER BY n LIMIT 1) END AS unit
		FROM ad WHERE ad.area_id IS NOT NULL),
	ins AS (
		INSERT INTO pledges (token, address_id, unit, name, email, phone, consent, status, idempotency_key, request_hash, created_at, updated_at)
		SELECT $1, $2, u.unit, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM u, ad WHERE u.unit <= ad.units
		RETURNING id, unit),
	up AS (
		UPDATE areas SET pledged_units = pledged_units + 1
		WHERE id = (SELECT area_id FROM ad) AND EXISTS (SELECT 1 FROM ins) RETURNING ` + areaColumns + `)
	SELECT ad.units, ad.area_id IS NOT NULL, ins.id, ins.unit,
		up.id, up.code, up.name, up.area_m2, up.threshold_percent, up.threshold_units, up.deadline, up.status, up.addresses, up.units, up.pledged_units
	FROM ad LEFT JOIN ins ON true LEFT JOIN up ON true`

// CreatePledge inserts the pledge, moves the area's counter and applies
// decide, in one transaction. Of concurrent pledges for one unit the
// partial unique index lets exactly one commit; the area row, locked by the
// counter update until commit, keeps the counter exact.
//
// A pledge is the hot write path: BEGIN and createPledgeSQL travel in one
// round trip, decide runs in Go on the area as the statement left it, and
// what it decided travels with COMMIT in the second.
func (s *Store) CreatePledge(ctx context.Context, p *pledge.Pledge, decide pledge.Decider) error {
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

	var key *string
	if p.IdempotencyKey != "" {
		key = &p.IdempotencyKey
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(createPledgeSQL, p.Token, p.AddressID, p.Unit, p.Name, p.Email, p.Phone, p.Consent, string(p.Status), key,
		p.RequestHash, p.CreatedAt, p.UpdatedAt)
	var (
		units, unit                             *int32
		inArea                                  bool
		id, areaID                              *int64
		code, name, status                      *string
		areaM2, thresholdPercent                *float64
		thresholdUnits, addresses, areaUnits, n *int32
		deadline                                *time.Time
	)
	err = sendBatch(ctx, conn.Conn(), b, 1, func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(&units, &inArea, &id, &unit, &areaID, &code, &name, &areaM2, &thresholdPercent,
			&thresholdUnits, &deadline, &status, &addresses, &areaUnits, &n)
	})
	switch {
	case err == pgx.ErrNoRows:
		return pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", p.AddressID)
	case pledge.ErrorCode(formatError(err)) == pledge.ECONFLICT:
		if p.Unit == 0 {
			return pledge.Errorf(pledge.ECONFLICT, "the first free unit at this address is already pledged")
		}
		return pledge.Errorf(pledge.ECONFLICT, "unit %d at this address is already pledged", p.Unit)
	case err != nil:
		return formatError(err)
	case !inArea:
		return pledge.Errorf(pledge.EINVALID, "address %q is outside every area", p.AddressID)
	case id == nil && p.Unit == 0:
		return pledge.Errorf(pledge.ECONFLICT, "all %d unit(s) at this address are already pledged", *units)
	case id == nil:
		return pledge.UnitRangeError(int(*units))
	case areaID == nil:
		// The address's area vanished between reading and counting: only
		// an area import can do that, and lockPledges orders it first.
		return pledge.Errorf(pledge.EUNAVAILABLE, "the address's area changed; try again")
	}
	p.ID, p.Unit, p.AreaCode = *id, int(*unit), *code
	a := pledge.Area{ID: *areaID, Code: *code, Name: *name, AreaM2: *areaM2, ThresholdPercent: *thresholdPercent,
		ThresholdUnits: int(*thresholdUnits), Status: pledge.AreaStatus(*status), Addresses: int(*addresses),
		Units: int(*areaUnits), PledgedUnits: int(*n)}
	if deadline != nil {
		t := deadline.UTC()
		a.Deadline = &t
	}

	t, err := decide(a)
	if err != nil {
		return err
	}
	b = &pgx.Batch{}
	queueTransition(b, a, t)
	b.Queue(`COMMIT`)
	if err := sendBatch(ctx, conn.Conn(), b, 0, nil); err != nil {
		return formatError(err)
	}
	done = true
	return nil
}

// sendBatch sends b and reads its results: the first skip statements'
// results are checked for errors, read reads the next ones, and Close
// checks the rest.
func sendBatch(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, skip int, read func(pgx.BatchResults) error) error {
	br := conn.SendBatch(ctx, b)
	var err error
	for ; skip > 0 && err == nil; skip-- {
		_, err = br.Exec()
	}
	if read != nil && err == nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// WithdrawPledge marks the pledge withdrawn, erases its contact details and
// moves the counter, in one transaction with decide. Of two concurrent
// withdrawals the second finds no active pledge.
func (s *Store) WithdrawPledge(ctx context.Context, token string, at time.Time, decide pledge.Decider) (pledge.Pledge, error) {
	var out pledge.Pledge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var areaID *int64
		p, err := scanPledge(tx.QueryRow(ctx, `WITH p AS (
				UPDATE pledges SET status = 'withdrawn', name = '', email = '', phone = '', updated_at = $2
				WHERE token = $1 AND status = 'active' RETURNING *)
			SELECT `+pledgeColumns+`, ad.area_id
			FROM p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id`, token, at), &areaID)
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
		} else if err != nil {
			return err
		}
		if areaID != nil {
			a, err := moveCounter(ctx, tx, *areaID, -1)
			if err != nil {
				return err
			}
			if err := apply(ctx, tx, a, decide); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	return out, err
}

// moveCounter moves an area's pledged units and returns the area as it is
// now. The UPDATE locks the area's row until commit, so concurrent pledges
// in one area count one after another.
func moveCounter(ctx context.Context, tx pgx.Tx, areaID int64, delta int) (pledge.Area, error) {
	return scanArea(tx.QueryRow(ctx, `UPDATE areas SET pledged_units = pledged_units + $1 WHERE id = $2 RETURNING `+areaColumns, delta, areaID), false)
}

// apply runs the service's rule and stores what it decided.
func apply(ctx context.Context, tx pgx.Tx, a pledge.Area, decide pledge.Decider) error {
	t, err := decide(a)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	queueTransition(b, a, t)
	if b.Len() == 0 {
		return nil
	}
	return formatError(tx.SendBatch(ctx, b).Close())
}

// queueTransition queues what a Decider decided: the area's new status and
// its event, recorded once per key.
func queueTransition(b *pgx.Batch, a pledge.Area, t pledge.Transition) {
	if t.Status != "" && t.Status != a.Status {
		b.Queue(`UPDATE areas SET status = $1 WHERE id = $2`, string(t.Status), a.ID)
	}
	if e := t.Event; e != nil {
		b.Queue(`INSERT INTO outbox (key, kind, area_code, payload, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key) DO NOTHING`, e.Key, e.Kind, e.AreaCode, e.Payload, e.At)
	}
}

// Events lists outbox events in the order recorded.
func (s *Store) Events(ctx context.Context) ([]pledge.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, kind, area_code, payload, created_at FROM outbox ORDER BY id`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Event{}
	for rows.Next() {
		var e pledge.Event
		if err := rows.Scan(&e.Key, &e.Kind, &e.AreaCode, &e.Payload, &e.At); err != nil {
			return nil, formatError(err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}
