package postgres

import (
	"context"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.ContactUpdater = (*Store)(nil)

// UpdatePledgeContact changes the contact details of an active pledge.
func (s *Store) UpdatePledgeContact(ctx context.Context, token, name, email, phone string, at time.Time) (pledge.Pledge, error) {
	p, err := scanPledge(s.pool.QueryRow(ctx, `WITH p AS (
			UPDATE pledges SET name = $2, email = $3, phone = $4, updated_at = $5
			WHERE token = $1 AND status = 'active' RETURNING *)
		SELECT `+pledgeColumns+`
		FROM p JOIN addresses ad ON ad.id = p.address_id LEFT JOIN areas ar ON ar.id = ad.area_id`,
		token, name, email, phone, at))
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return p, pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
	}
	return p, err
}
