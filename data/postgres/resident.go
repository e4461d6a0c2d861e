package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.ResidentStore = (*Store)(nil)

// ConfirmPledge confirms the active pledge with the confirmation hash and
// moves its unit from the area's unconfirmed to its pledged units, with
// decide, in one transaction. The pledge's row lock orders two
// confirmations of one pledge: the second finds it confirmed.
func (s *Store) ConfirmPledge(ctx context.Context, hash string, at time.Time, decide pledge.Decider) (pledge.Pledge, bool, error) {
	var out pledge.Pledge
	var changed bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var areaID *int64
		p, err := scanPledge(tx.QueryRow(ctx, `SELECT `+pledgeColumns+`, ad.area_id
			FROM pledges p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id
			WHERE p.confirm_hash = $1 AND p.status = 'active' FOR UPDATE OF p`, hash), &areaID)
		if err != nil {
			return err
		}
		out = p
		if !p.Unconfirmed {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE pledges SET confirmed = true, confirmed_at = $2, updated_at = $2 WHERE id = $1`, p.ID, at); err != nil {
			return formatError(err)
		}
		if areaID != nil {
			a, err := scanArea(tx.QueryRow(ctx, `UPDATE areas SET pledged_units = pledged_units + 1, unconfirmed_units = unconfirmed_units - 1
				WHERE id = $1 RETURNING `+areaColumns, *areaID), false)
			if err != nil {
				return err
			}
			if err := apply(ctx, tx, a, decide); err != nil {
				return err
			}
		}
		t := at.UTC()
		out.Unconfirmed, out.ConfirmedAt, out.UpdatedAt, changed = false, &t, t, true
		return nil
	})
	return out, changed, err
}

// overdueUnconfirmed selects the pledges LapseUnconfirmed lapses; $1 is now.
const overdueUnconfirmed = `p.status = 'active' AND NOT p.confirmed AND p.created_at + make_interval(days => ar.confirm_days) < $1`

// LapseUnconfirmed lapses the overdue unconfirmed pledges of every area in
// one transaction.
func (s *Store) LapseUnconfirmed(ctx context.Context, at time.Time, notice func(pledge.Pledge) *pledge.Event) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if notice != nil {
			if err := recordPledgeEvents(ctx, tx, pledgeSelect+`WHERE `+overdueUnconfirmed, notice, at); err != nil {
				return err
			}
		}
		// Areas are locked in id order, as the pledge batch does.
		err := tx.QueryRow(ctx, `WITH l AS (
				UPDATE pledges p SET status = 'lapsed', name = '', email = '', phone = '', request_hash = '', updated_at = $1
				FROM addresses ad JOIN areas ar ON ar.id = ad.area_id
				WHERE ad.id = p.address_id AND `+overdueUnconfirmed+`
				RETURNING ad.area_id),
			c AS (SELECT area_id, count(*)::integer AS n FROM l GROUP BY area_id),
			k AS (SELECT id FROM areas WHERE id IN (SELECT area_id FROM c) ORDER BY id FOR NO KEY UPDATE),
			u AS (UPDATE areas SET unconfirmed_units = greatest(unconfirmed_units - c.n, 0)
				FROM c WHERE areas.id = c.area_id AND areas.id IN (SELECT id FROM k))
			SELECT count(*) FROM l`, at).Scan(&n)
		return formatError(err)
	})
	return n, formatError(err)
}

// recordPledgeEvents records event(p) for each pledge query finds.
func recordPledgeEvents(ctx context.Context, tx pgx.Tx, query string, event func(pledge.Pledge) *pledge.Event, args ...any) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return formatError(err)
	}
	var events []pledge.Event
	for rows.Next() {
		p, err := scanPledge(rows)
		if err != nil {
			rows.Close()
			return err
		}
		if e := event(p); e != nil {
			events = append(events, *e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return formatError(err)
	}
	b := &pgx.Batch{}
	for i := range events {
		queueEvent(b, &events[i])
	}
	if b.Len() == 0 {
		return nil
	}
	return formatError(tx.SendBatch(ctx, b).Close())
}

// NoticePledges lists the pledgers of area code who receive notices.
func (s *Store) NoticePledges(ctx context.Context, code string) ([]pledge.Pledge, error) {
	rows, err := s.pool.Query(ctx, pledgeSelect+`WHERE ar.code = $1 AND p.status = 'active' AND p.confirmed AND p.consent AND p.notices
		AND p.email <> '' ORDER BY p.id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Pledge{}
	for rows.Next() {
		p, err := scanPledge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, formatError(rows.Err())
}

// SetPledgeNotices turns an active pledge's notices on or off.
func (s *Store) SetPledgeNotices(ctx context.Context, token string, on bool, at time.Time) (pledge.Pledge, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE pledges SET notices = $2, updated_at = $3 WHERE token = $1 AND status = 'active'`, token, on, at)
	if err != nil {
		return pledge.Pledge{}, formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return pledge.Pledge{}, pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
	}
	return s.PledgeByToken(ctx, token)
}

// eraseContact is the update that erases a pledge's contact details; $1
// is the time.
const eraseContact = `UPDATE pledges p SET name = '', email = '', phone = '', request_hash = '', notices = false, updated_at = $1 `

// ErasePledgeContact erases the contact details of the pledge with token.
func (s *Store) ErasePledgeContact(ctx context.Context, token string, at time.Time) (pledge.Pledge, error) {
	tag, err := s.pool.Exec(ctx, eraseContact+`WHERE token = $2`, at, token)
	if err != nil {
		return pledge.Pledge{}, formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return pledge.Pledge{}, pledge.Errorf(pledge.ENOTFOUND, "no pledge with this link")
	}
	return s.PledgeByToken(ctx, token)
}

// EraseAreaPledgeContact erases the contact details of pledge id in area
// code, with audit, in one transaction.
func (s *Store) EraseAreaPledgeContact(ctx context.Context, code string, id int64, at time.Time, audit pledge.AuditEntry) (pledge.Pledge, error) {
	var out pledge.Pledge
	err := s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, eraseContact+`FROM addresses ad JOIN areas ar ON ar.id = ad.area_id
			WHERE p.id = $2 AND ad.id = p.address_id AND ar.code = $3`, at, id, code)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return pledge.Errorf(pledge.ENOTFOUND, "area %s has no pledge %d", code, id)
		}
		out, err = scanPledge(tx.QueryRow(ctx, pledgeSelect+`WHERE p.id = $1`, id))
		return err
	})
	return out, err
}

// EraseClosedContacts notes closed areas and erases the contact details
// of pledges in those closed for longer than retention, in one
// transaction.
func (s *Store) EraseClosedContacts(ctx context.Context, at time.Time, retention time.Duration) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`UPDATE areas SET closed_at = $1 WHERE status IN ('built', 'lapsed') AND closed_at IS NULL`, at)
		b.Queue(`UPDATE areas SET closed_at = NULL WHERE status NOT IN ('built', 'lapsed') AND closed_at IS NOT NULL`)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return formatError(err)
		}
		tag, err := tx.Exec(ctx, eraseContact+`FROM addresses ad JOIN areas ar ON ar.id = ad.area_id
			WHERE ad.id = p.address_id AND ar.closed_at <= $2 AND (p.name <> '' OR p.email <> '' OR p.phone <> '')`, at, at.Add(-retention))
		if err != nil {
			return formatError(err)
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}
