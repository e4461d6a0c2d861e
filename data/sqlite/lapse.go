package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// LapseArea lapses an area and its active pledges when decide says so, in
// one immediate transaction.
func (s *Store) LapseArea(ctx context.Context, code string, at time.Time, decide pledge.Decider) (pledge.Area, int, error) {
	var out pledge.Area
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := scanArea(tx.QueryRowContext(ctx, `SELECT `+areaColumns+` FROM areas WHERE code = ?`, code), false)
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
		} else if err != nil {
			return err
		}
		out = a
		t, err := decide(a)
		if err != nil || t.Status != pledge.StatusLapsed {
			return err
		}
		if t.PledgeEvent != nil {
			if err := recordPledgeEvents(ctx, tx, pledgeSelect+`WHERE p.status = 'active' AND ad.area_id = ?`, t.PledgeEvent, a.ID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE pledges SET status = 'lapsed', name = '', email = '', phone = '', request_hash = '', updated_at = ?
			WHERE status = 'active' AND address_seq IN (SELECT seq FROM addresses WHERE area_id = ?)`, formatTime(at), a.ID)
		if err != nil {
			return formatError(err)
		}
		lapsed, _ := res.RowsAffected()
		n = int(lapsed)
		if _, err := tx.ExecContext(ctx, `UPDATE areas SET pledged_units = 0, unconfirmed_units = 0 WHERE id = ?`, a.ID); err != nil {
			return formatError(err)
		}
		if err := apply(ctx, tx, a, func(pledge.Area) (pledge.Transition, error) { return t, nil }); err != nil {
			return err
		}
		out.Status, out.PledgedUnits, out.UnconfirmedUnits = pledge.StatusLapsed, 0, 0
		return nil
	})
	return out, n, err
}
