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
func (s *Store) CreatePledge(ctx context.Context, p *pledge.Pledge, decide pledge.Decider) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// One round trip: the shared write lock (imports wait for us, we
		// wait for an import), then the address as it is after any import.
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, int64(writeLock))
		b.Queue(`SELECT units, area_id FROM addresses WHERE id = $1`, p.AddressID)
		br := tx.SendBatch(ctx, b)
		_, err := br.Exec()
		var units int
		var areaID *int64
		if err == nil {
			err = br.QueryRow().Scan(&units, &areaID)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == pgx.ErrNoRows {
			return pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", p.AddressID)
		} else if err != nil {
			return formatError(err)
		}
		if areaID == nil {
			return pledge.Errorf(pledge.EINVALID, "address %q is outside every area", p.AddressID)
		}
		if p.Unit == 0 {
			// The lowest unit without an active pledge. A concurrent pledge
			// may take it first: the insert then conflicts, and the service
			// tries again.
			err := tx.QueryRow(ctx, `SELECT n FROM generate_series(1, $1::integer) n
				WHERE n NOT IN (SELECT unit FROM pledges WHERE address_id = $2 AND status = 'active') ORDER BY n LIMIT 1`,
				units, p.AddressID).Scan(&p.Unit)
			if err == pgx.ErrNoRows {
				return pledge.Errorf(pledge.ECONFLICT, "all %d unit(s) at this address are already pledged", units)
			} else if err != nil {
				return formatError(err)
			}
		}
		var key *string
		if p.IdempotencyKey != "" {
			key = &p.IdempotencyKey
		}
		err = tx.QueryRow(ctx, `INSERT INTO pledges (token, address_id, unit, name, email, phone, consent, status, idempotency_key, request_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			p.Token, p.AddressID, p.Unit, p.Name, p.Email, p.Phone, p.Consent, string(p.Status), key, p.RequestHash,
			p.CreatedAt, p.UpdatedAt).Scan(&p.ID)
		if err != nil {
			if pledge.ErrorCode(formatError(err)) == pledge.ECONFLICT {
				return pledge.Errorf(pledge.ECONFLICT, "unit %d at this address is already pledged", p.Unit)
			}
			return formatError(err)
		}
		a, err := moveCounter(ctx, tx, *areaID, +1)
		if err != nil {
			return err
		}
		p.AreaCode = a.Code
		return apply(ctx, tx, a, decide)
	})
}

// WithdrawPledge marks the pledge withdrawn, erases its contact details and
// moves the counter, in one transaction with decide. Of two concurrent
// withdrawals the second finds no active pledge.
func (s *Store) WithdrawPledge(ctx context.Context, token string, at time.Time, decide pledge.Decider) (pledge.Pledge, error) {
	var out pledge.Pledge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockShared(ctx, tx); err != nil {
			return err
		}
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
	if t.Status != "" && t.Status != a.Status {
		if _, err := tx.Exec(ctx, `UPDATE areas SET status = $1 WHERE id = $2`, string(t.Status), a.ID); err != nil {
			return formatError(err)
		}
	}
	if e := t.Event; e != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (key, kind, area_code, payload, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key) DO NOTHING`, e.Key, e.Kind, e.AreaCode, e.Payload, e.At); err != nil {
			return formatError(err)
		}
	}
	return nil
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
