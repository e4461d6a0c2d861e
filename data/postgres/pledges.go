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

// CreatePledge inserts the pledge, moves the area's counter and applies
// decide, in one transaction. Of concurrent pledges for one unit the
// partial unique index lets exactly one commit; the area row, locked by the
// counter update until commit, keeps the counter exact.
//
// A pledge is the hot write path, so its statements travel in pipelined
// batches: with a unit given, BEGIN through the counter update is one
// round trip and COMMIT the second (a third picks the first free unit).
// The pledge is inserted before the area row is locked, so a pledge that
// waits for a concurrent one on the same unit never holds the area.
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

	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	if p.Unit == 0 {
		// The lowest unit without an active pledge. A concurrent pledge may
		// take it first: the insert then conflicts, and the service tries
		// again.
		b.Queue(`SELECT ad.units, ad.area_id IS NOT NULL, (SELECT n FROM generate_series(1, ad.units) n
			WHERE n NOT IN (SELECT unit FROM pledges WHERE address_id = ad.id AND status = 'active') ORDER BY n LIMIT 1)
			FROM addresses ad WHERE ad.id = $1`, p.AddressID)
		var units int
		var inArea bool
		var free *int
		err := sendBatch(ctx, conn.Conn(), b, 1, func(br pgx.BatchResults) error {
			return br.QueryRow().Scan(&units, &inArea, &free)
		})
		switch {
		case err == pgx.ErrNoRows:
			return pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", p.AddressID)
		case err != nil:
			return formatError(err)
		case !inArea:
			return pledge.Errorf(pledge.EINVALID, "address %q is outside every area", p.AddressID)
		case free == nil:
			return pledge.Errorf(pledge.ECONFLICT, "all %d unit(s) at this address are already pledged", units)
		}
		p.Unit = *free
		b = &pgx.Batch{}
	}
	var key *string
	if p.IdempotencyKey != "" {
		key = &p.IdempotencyKey
	}
	// Writing the pledge row first waits for an import in progress (see
	// lockPledges), so the area is looked up after it.
	b.Queue(`INSERT INTO pledges (token, address_id, unit, name, email, phone, consent, status, idempotency_key, request_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		p.Token, p.AddressID, p.Unit, p.Name, p.Email, p.Phone, p.Consent, string(p.Status), key, p.RequestHash,
		p.CreatedAt, p.UpdatedAt)
	b.Queue(`UPDATE areas SET pledged_units = pledged_units + 1
		WHERE id = (SELECT area_id FROM addresses WHERE id = $1) RETURNING `+areaColumns, p.AddressID)
	var a pledge.Area
	inserted := false
	err = sendBatch(ctx, conn.Conn(), b, b.Len()-2, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&p.ID); err != nil {
			return err
		}
		inserted = true
		a, err = scanArea(br.QueryRow(), false)
		return err
	})
	switch {
	case inserted && pledge.ErrorCode(err) == pledge.ENOTFOUND:
		// No area row was counted: the address is outside every area, or
		// there is no such address (pledges has no foreign key).
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM addresses WHERE id = $1)`, p.AddressID).Scan(&exists); err != nil {
			return formatError(err)
		}
		if !exists {
			return pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", p.AddressID)
		}
		return pledge.Errorf(pledge.EINVALID, "address %q is outside every area", p.AddressID)
	case pledge.ErrorCode(formatError(err)) == pledge.ECONFLICT:
		return pledge.Errorf(pledge.ECONFLICT, "unit %d at this address is already pledged", p.Unit)
	case err != nil:
		return formatError(err)
	}
	p.AreaCode = a.Code

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
