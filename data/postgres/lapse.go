package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

// LapseArea lapses an area and its active pledges when decide says so, in
// one transaction. The area row is locked first, as every pledge locks it
// when it moves the counter, so a pledge in flight either commits before
// (and lapses here) or sees the lapsed status and is refused.
func (s *Store) LapseArea(ctx context.Context, code string, at time.Time, decide pledge.Decider) (pledge.Area, int, error) {
	var out pledge.Area
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := scanArea(tx.QueryRow(ctx, `SELECT `+areaColumns+` FROM areas WHERE code = $1 FOR UPDATE`, code), false)
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
			if err := recordPledgeEvents(ctx, tx, pledgeSelect+`WHERE p.status = 'active' AND ad.area_id = $1`, t.PledgeEvent, a.ID); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE pledges p SET status = 'lapsed', name = '', email = '', phone = '', request_hash = '', updated_at = $2
			FROM addresses ad WHERE ad.id = p.address_id AND ad.area_id = $1 AND p.status = 'active'`, a.ID, at)
		if err != nil {
			return formatError(err)
		}
		n = int(tag.RowsAffected())
		b := &pgx.Batch{}
		b.Queue(`UPDATE areas SET pledged_units = 0, unconfirmed_units = 0 WHERE id = $1`, a.ID)
		queueTransition(b, a, t)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return formatError(err)
		}
		out.Status, out.PledgedUnits, out.UnconfirmedUnits = pledge.StatusLapsed, 0, 0
		return nil
	})
	return out, n, err
}
