package postgres

import (
	"context"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// PledgeHistory sums an area's pledges by the UTC day they were made (+1)
// and the day they were withdrawn or lapsed (-1).
func (s *Store) PledgeHistory(ctx context.Context, code string) ([]pledge.PledgeDay, error) {
	var areaID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, code).Scan(&areaID); err != nil {
		return nil, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
	}
	rows, err := s.pool.Query(ctx, `SELECT day, sum(delta)::int FROM (
			SELECT (p.created_at AT TIME ZONE 'UTC')::date AS day, 1 AS delta FROM pledges p JOIN addresses ad ON ad.id = p.address_id WHERE ad.area_id = $1
			UNION ALL
			SELECT (p.updated_at AT TIME ZONE 'UTC')::date, -1 FROM pledges p JOIN addresses ad ON ad.id = p.address_id WHERE ad.area_id = $1 AND p.status <> 'active'
		) x GROUP BY day ORDER BY day`, areaID)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.PledgeDay{}
	for rows.Next() {
		var d pledge.PledgeDay
		if err := rows.Scan(&d.Day, &d.Delta); err != nil {
			return nil, formatError(err)
		}
		d.Day = time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day(), 0, 0, 0, 0, time.UTC)
		out = append(out, d)
	}
	return out, formatError(rows.Err())
}
