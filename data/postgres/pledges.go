package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

const pledgeColumns = `p.id, p.token, p.address_id, coalesce(ar.code, ''), p.unit, p.name, p.email, p.phone, p.consent, p.status,
	coalesce(p.idempotency_key, ''), p.request_hash, p.created_at, p.updated_at,
	p.language, NOT p.confirmed, p.confirmed_at, coalesce(p.confirm_hash, ''), NOT p.notices`

const pledgeSelect = `SELECT ` + pledgeColumns + `
	FROM pledges p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id `

func scanPledge(row pgx.Row, extra ...any) (pledge.Pledge, error) {
	var p pledge.Pledge
	dest := append([]any{&p.ID, &p.Token, &p.AddressID, &p.AreaCode, &p.Unit, &p.Name, &p.Email, &p.Phone, &p.Consent, &p.Status,
		&p.IdempotencyKey, &p.RequestHash, &p.CreatedAt, &p.UpdatedAt,
		&p.Language, &p.Unconfirmed, &p.ConfirmedAt, &p.ConfirmHash, &p.NoticesOff}, extra...)
	if err := row.Scan(dest...); err != nil {
		return p, formatError(err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if p.ConfirmedAt != nil {
		t := p.ConfirmedAt.UTC()
		p.ConfirmedAt = &t
	}
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
				UPDATE pledges SET status = 'withdrawn', name = '', email = '', phone = '', request_hash = '', updated_at = $2
				WHERE token = $1 AND status = 'active' RETURNING *)
			SELECT `+pledgeColumns+`, ad.area_id
			FROM p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id`, token, at), &areaID)
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
		} else if err != nil {
			return err
		}
		if areaID != nil {
			a, err := moveCounter(ctx, tx, *areaID, -1, !p.Unconfirmed)
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
func moveCounter(ctx context.Context, tx pgx.Tx, areaID int64, delta int, confirmed bool) (pledge.Area, error) {
	col := "pledged_units"
	if !confirmed {
		col = "unconfirmed_units"
	}
	return scanArea(tx.QueryRow(ctx, `UPDATE areas SET `+col+` = `+col+` + $1 WHERE id = $2 RETURNING `+areaColumns, delta, areaID), false)
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
	for _, e := range t.AllEvents() {
		queueEvent(b, &e)
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
