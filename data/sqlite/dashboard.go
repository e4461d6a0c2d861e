package sqlite

import (
	"context"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// PledgeHistory sums an area's pledges by the day they were made (+1) and
// the day they were withdrawn or lapsed (-1). Times are UTC text, so the
// day is their first ten characters.
func (s *Store) PledgeHistory(ctx context.Context, code string) ([]pledge.PledgeDay, error) {
	var areaID int64
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM areas WHERE code = ?`, code).Scan(&areaID); err != nil {
		return nil, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, sum(delta) FROM (
			SELECT substr(p.created_at, 1, 10) AS day, 1 AS delta FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq WHERE ad.area_id = ?1
			UNION ALL
			SELECT substr(p.updated_at, 1, 10), -1 FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq WHERE ad.area_id = ?1 AND p.status <> 'active'
		) GROUP BY day ORDER BY day`, areaID)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.PledgeDay{}
	for rows.Next() {
		var day string
		var d pledge.PledgeDay
		if err := rows.Scan(&day, &d.Delta); err != nil {
			return nil, formatError(err)
		}
		if d.Day, err = time.Parse(time.DateOnly, day); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, formatError(rows.Err())
}
