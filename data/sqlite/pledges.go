package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

const pledgeSelect = `SELECT p.id, p.token, ad.id, coalesce(ar.code, ''), p.unit, p.name, p.email, p.phone, p.consent, p.status,
	coalesce(p.idempotency_key, ''), p.request_hash, p.created_at, p.updated_at,
	p.language, NOT p.confirmed, p.confirmed_at, coalesce(p.confirm_hash, ''), NOT p.notices
	FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq LEFT JOIN areas ar ON ar.id = ad.area_id `

func scanPledge(row interface{ Scan(...any) error }) (pledge.Pledge, error) {
	var p pledge.Pledge
	var created, updated string
	var confirmed sql.NullString
	err := row.Scan(&p.ID, &p.Token, &p.AddressID, &p.AreaCode, &p.Unit, &p.Name, &p.Email, &p.Phone, &p.Consent, &p.Status,
		&p.IdempotencyKey, &p.RequestHash, &created, &updated, &p.Language, &p.Unconfirmed, &confirmed, &p.ConfirmHash, &p.NoticesOff)
	if err != nil {
		return p, formatError(err)
	}
	p.CreatedAt, p.UpdatedAt = parseTime(created), parseTime(updated)
	if confirmed.Valid {
		t := parseTime(confirmed.String)
		p.ConfirmedAt = &t
	}
	return p, nil
}

// PledgeByToken returns a pledge by its manage token.
func (s *Store) PledgeByToken(ctx context.Context, token string) (pledge.Pledge, error) {
	p, err := scanPledge(s.db.QueryRowContext(ctx, pledgeSelect+`WHERE p.token = ?`, token))
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return p, pledge.Errorf(pledge.ENOTFOUND, "no pledge with this link")
	}
	return p, err
}

// PledgeByIdempotencyKey returns the pledge made with key.
func (s *Store) PledgeByIdempotencyKey(ctx context.Context, key string) (pledge.Pledge, error) {
	return scanPledge(s.db.QueryRowContext(ctx, pledgeSelect+`WHERE p.idempotency_key = ?`, key))
}

// CreatePledge inserts the pledge, moves the area's counter and applies
// decide, in one immediate transaction.
func (s *Store) CreatePledge(ctx context.Context, p *pledge.Pledge, decide pledge.Decider) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		var units int
		var areaID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT seq, units, area_id FROM addresses WHERE id = ?`, p.AddressID).Scan(&seq, &units, &areaID)
		if err == sql.ErrNoRows {
			return pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", p.AddressID)
		} else if err != nil {
			return formatError(err)
		}
		if !areaID.Valid {
			return pledge.Errorf(pledge.EINVALID, "address %q is outside every area", p.AddressID)
		}
		if p.Unit > units {
			return pledge.UnitRangeError(units)
		}
		if p.Unit == 0 {
			// The lowest unit number without an active pledge.
			err := tx.QueryRowContext(ctx, `WITH RECURSIVE u(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM u WHERE n < ?)
				SELECT n FROM u WHERE n NOT IN (SELECT unit FROM pledges WHERE address_seq = ? AND status = 'active') ORDER BY n LIMIT 1`,
				units, seq).Scan(&p.Unit)
			if err == sql.ErrNoRows {
				return pledge.UnitTakenError("all %d unit(s) at this address are already pledged", units)
			} else if err != nil {
				return formatError(err)
			}
		}
		var key any
		if p.IdempotencyKey != "" {
			key = p.IdempotencyKey
		}
		var confirmHash any
		if p.ConfirmHash != "" {
			confirmHash = p.ConfirmHash
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO pledges (token, address_seq, unit, name, email, phone, consent, status, idempotency_key, request_hash, created_at, updated_at,
				language, confirmed, confirmed_at, confirm_hash, notices)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Token, seq, p.Unit, p.Name, p.Email, p.Phone, p.Consent, string(p.Status), key, p.RequestHash,
			formatTime(p.CreatedAt), formatTime(p.UpdatedAt), p.Language, !p.Unconfirmed, nullTime(p.ConfirmedAt), confirmHash, !p.NoticesOff)
		if err != nil {
			if pledge.ErrorCode(formatError(err)) == pledge.ECONFLICT {
				return pledge.UnitTakenError("unit %d at this address is already pledged", p.Unit)
			}
			return formatError(err)
		}
		p.ID, _ = res.LastInsertId()
		a, err := moveCounter(ctx, tx, areaID.Int64, +1, !p.Unconfirmed)
		if err != nil {
			return err
		}
		p.AreaCode = a.Code
		return apply(ctx, tx, a, decide)
	})
}

// WithdrawPledge marks the pledge withdrawn, erases its contact details and
// moves the counter, in one transaction with decide.
func (s *Store) WithdrawPledge(ctx context.Context, token string, at time.Time, decide pledge.Decider) (pledge.Pledge, error) {
	var out pledge.Pledge
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		p, err := scanPledge(tx.QueryRowContext(ctx, pledgeSelect+`WHERE p.token = ? AND p.status = 'active'`, token))
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pledges SET status = 'withdrawn', name = '', email = '', phone = '', request_hash = '', updated_at = ? WHERE id = ?`,
			formatTime(at), p.ID); err != nil {
			return formatError(err)
		}
		var areaID sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT area_id FROM addresses WHERE id = ?`, p.AddressID).Scan(&areaID); err != nil {
			return formatError(err)
		}
		if areaID.Valid {
			a, err := moveCounter(ctx, tx, areaID.Int64, -1, !p.Unconfirmed)
			if err != nil {
				return err
			}
			if err := apply(ctx, tx, a, decide); err != nil {
				return err
			}
		}
		p.Status, p.Name, p.Email, p.Phone, p.UpdatedAt = pledge.PledgeWithdrawn, "", "", "", at.UTC()
		out = p
		return nil
	})
	return out, err
}

// moveCounter moves an area's pledged units (confirmed) or unconfirmed
// units by delta and returns the area as it is now.
func moveCounter(ctx context.Context, tx *sql.Tx, areaID int64, delta int, confirmed bool) (pledge.Area, error) {
	q := `UPDATE areas SET pledged_units = pledged_units + ? WHERE id = ?`
	if !confirmed {
		q = `UPDATE areas SET unconfirmed_units = unconfirmed_units + ? WHERE id = ?`
	}
	if _, err := tx.ExecContext(ctx, q, delta, areaID); err != nil {
		return pledge.Area{}, formatError(err)
	}
	return scanArea(tx.QueryRowContext(ctx, `SELECT `+areaColumns+` FROM areas WHERE id = ?`, areaID), false)
}

// apply runs the service's rule and stores what it decided.
func apply(ctx context.Context, tx *sql.Tx, a pledge.Area, decide pledge.Decider) error {
	t, err := decide(a)
	if err != nil {
		return err
	}
	if t.Status != "" && t.Status != a.Status {
		if _, err := tx.ExecContext(ctx, `UPDATE areas SET status = ? WHERE id = ?`, string(t.Status), a.ID); err != nil {
			return formatError(err)
		}
	}
	for _, e := range t.AllEvents() {
		if err := insertEvent(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// insertEvent records e in the outbox, due at once, once per key.
func insertEvent(ctx context.Context, db execer, e pledge.Event) error {
	_, err := db.ExecContext(ctx, `INSERT INTO outbox (key, kind, area_code, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, e.Key, e.Kind, e.AreaCode, e.Payload, formatTime(e.At), formatTime(e.At))
	return formatError(err)
}

// Events lists outbox events in the order recorded.
func (s *Store) Events(ctx context.Context) ([]pledge.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, kind, area_code, payload, created_at FROM outbox ORDER BY id`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Event{}
	for rows.Next() {
		var e pledge.Event
		var at string
		if err := rows.Scan(&e.Key, &e.Kind, &e.AreaCode, &e.Payload, &at); err != nil {
			return nil, formatError(err)
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}
