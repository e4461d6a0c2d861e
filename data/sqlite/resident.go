package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.ResidentStore = (*Store)(nil)

// ConfirmPledge confirms the active pledge with the confirmation hash and
// moves its unit from the area's unconfirmed to its pledged units, with
// decide, in one immediate transaction.
func (s *Store) ConfirmPledge(ctx context.Context, hash string, at time.Time, decide pledge.Decider) (pledge.Pledge, bool, error) {
	var out pledge.Pledge
	var changed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var areaID sql.NullInt64
		p, err := scanPledge(tx.QueryRowContext(ctx, pledgeSelect+`WHERE p.confirm_hash = ? AND p.status = 'active'`, hash))
		if err != nil {
			return err
		}
		out = p
		if !p.Unconfirmed {
			return nil
		}
		if err := tx.QueryRowContext(ctx, `SELECT area_id FROM addresses WHERE id = ?`, p.AddressID).Scan(&areaID); err != nil {
			return formatError(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pledges SET confirmed = 1, confirmed_at = ?, updated_at = ? WHERE id = ?`,
			formatTime(at), formatTime(at), p.ID); err != nil {
			return formatError(err)
		}
		if areaID.Valid {
			if _, err := tx.ExecContext(ctx, `UPDATE areas SET unconfirmed_units = unconfirmed_units - 1 WHERE id = ?`, areaID.Int64); err != nil {
				return formatError(err)
			}
			a, err := moveCounter(ctx, tx, areaID.Int64, +1, true)
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

// LapseUnconfirmed lapses the overdue unconfirmed pledges of every area in
// one immediate transaction.
func (s *Store) LapseUnconfirmed(ctx context.Context, at time.Time, notice func(pledge.Pledge) *pledge.Event) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Timestamps are stored as fixed-width UTC text, so julianday of
		// either side compares them as times.
		// confirmed = 0, as the partial index says, so the index is used.
		const overdue = `p.status = 'active' AND p.confirmed = 0 AND julianday(p.created_at) + ar.confirm_days < julianday(?)`
		if notice != nil {
			if err := recordPledgeEvents(ctx, tx, pledgeSelect+`WHERE `+overdue, notice, formatTime(at)); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT p.id, ar.id FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq
			JOIN areas ar ON ar.id = ad.area_id WHERE `+overdue, formatTime(at))
		if err != nil {
			return formatError(err)
		}
		perArea := map[int64]int{}
		var ids []int64
		for rows.Next() {
			var id, area int64
			if err := rows.Scan(&id, &area); err != nil {
				rows.Close()
				return formatError(err)
			}
			ids, perArea[area] = append(ids, id), perArea[area]+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return formatError(err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE pledges SET status = 'lapsed', name = '', email = '', phone = '', request_hash = '', updated_at = ?
				WHERE id = ?`, formatTime(at), id); err != nil {
				return formatError(err)
			}
		}
		for area, k := range perArea {
			if _, err := tx.ExecContext(ctx, `UPDATE areas SET unconfirmed_units = max(unconfirmed_units - ?, 0) WHERE id = ?`, k, area); err != nil {
				return formatError(err)
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// recordPledgeEvents records event(p) for each pledge query finds.
func recordPledgeEvents(ctx context.Context, tx *sql.Tx, query string, event func(pledge.Pledge) *pledge.Event, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
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
	for _, e := range events {
		if err := insertEvent(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// NoticePledges lists the pledgers of area code who receive notices.
func (s *Store) NoticePledges(ctx context.Context, code string) ([]pledge.Pledge, error) {
	rows, err := s.db.QueryContext(ctx, pledgeSelect+`WHERE ar.code = ? AND p.status = 'active' AND p.confirmed AND p.consent AND p.notices
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
	res, err := s.db.ExecContext(ctx, `UPDATE pledges SET notices = ?, updated_at = ? WHERE token = ? AND status = 'active'`, on, formatTime(at), token)
	if err != nil {
		return pledge.Pledge{}, formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pledge.Pledge{}, pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
	}
	return s.PledgeByToken(ctx, token)
}

// eraseContact is the update that erases a pledge's contact details.
const eraseContact = `UPDATE pledges SET name = '', email = '', phone = '', request_hash = '', notices = 0, updated_at = ? `

// ErasePledgeContact erases the contact details of the pledge with token.
func (s *Store) ErasePledgeContact(ctx context.Context, token string, at time.Time) (pledge.Pledge, error) {
	res, err := s.db.ExecContext(ctx, eraseContact+`WHERE token = ?`, formatTime(at), token)
	if err != nil {
		return pledge.Pledge{}, formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pledge.Pledge{}, pledge.Errorf(pledge.ENOTFOUND, "no pledge with this link")
	}
	return s.PledgeByToken(ctx, token)
}

// EraseAreaPledgeContact erases the contact details of pledge id in area
// code, with audit, in one transaction.
func (s *Store) EraseAreaPledgeContact(ctx context.Context, code string, id int64, at time.Time, audit pledge.AuditEntry) (pledge.Pledge, error) {
	var out pledge.Pledge
	err := s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, eraseContact+`WHERE id = ? AND address_seq IN
			(SELECT seq FROM addresses WHERE area_id = (SELECT id FROM areas WHERE code = ?))`, formatTime(at), id, code)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pledge.Errorf(pledge.ENOTFOUND, "area %s has no pledge %d", code, id)
		}
		out, err = scanPledge(tx.QueryRowContext(ctx, pledgeSelect+`WHERE p.id = ?`, id))
		return err
	})
	return out, err
}

// EraseClosedContacts notes closed areas and erases the contact details
// of pledges in those closed for longer than retention, in one immediate
// transaction.
func (s *Store) EraseClosedContacts(ctx context.Context, at time.Time, retention time.Duration) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE areas SET closed_at = ? WHERE status IN ('built', 'lapsed') AND closed_at IS NULL`, formatTime(at)); err != nil {
			return formatError(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE areas SET closed_at = NULL WHERE status NOT IN ('built', 'lapsed') AND closed_at IS NOT NULL`); err != nil {
			return formatError(err)
		}
		res, err := tx.ExecContext(ctx, eraseContact+`WHERE (name <> '' OR email <> '' OR phone <> '') AND address_seq IN
			(SELECT ad.seq FROM addresses ad JOIN areas ar ON ar.id = ad.area_id WHERE ar.closed_at <= ?)`,
			formatTime(at), formatTime(at.Add(-retention)))
		if err != nil {
			return formatError(err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return nil
	})
	return n, err
}
