package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.ContactUpdater = (*Store)(nil)

// UpdatePledgeContact changes the contact details of an active pledge.
func (s *Store) UpdatePledgeContact(ctx context.Context, token, name, email, phone string, at time.Time) (pledge.Pledge, error) {
	var out pledge.Pledge
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE pledges SET name = ?, email = ?, phone = ?, updated_at = ? WHERE token = ? AND status = 'active'`,
			name, email, phone, formatTime(at), token)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
		}
		out, err = scanPledge(tx.QueryRowContext(ctx, pledgeSelect+`WHERE p.token = ?`, token))
		return err
	})
	return out, err
}
