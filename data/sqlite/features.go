package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

var _ pledge.FeatureStore = (*Store)(nil)

// areaBoxFilter keeps areas whose bounds intersect the box (edges
// included), from the covering index areas_bounds.
const areaBoxFilter = ` AND max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?`

// AreaFeatures pages areas by code (keyset on the unique code).
func (s *Store) AreaFeatures(ctx context.Context, q pledge.FeatureQuery) (pledge.AreaPage, error) {
	var box []any
	filter := ""
	if b := q.BBox; b != nil {
		filter = areaBoxFilter
		box = []any{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}
	}
	p := pledge.AreaPage{Areas: []pledge.Area{}}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM areas WHERE true`+filter, box...).Scan(&p.Matched); err != nil {
		return p, formatError(err)
	}
	args := append(append([]any{q.After}, box...), q.Limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+areaColumns+`, geometry FROM areas WHERE code > ?`+filter+` ORDER BY code LIMIT ?`, args...)
	if err != nil {
		return p, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanArea(rows, true)
		if err != nil {
			return p, err
		}
		p.Areas = append(p.Areas, a)
	}
	return p, formatError(rows.Err())
}

// AddressFeatures pages addresses by id (keyset on the unique id index);
// a box is a range on the lon, lat index.
func (s *Store) AddressFeatures(ctx context.Context, q pledge.FeatureQuery) (pledge.AddressPage, error) {
	var p pledge.AddressPage
	total, err := s.addressCount(ctx)
	if err != nil {
		return p, err
	}
	p.Matched = total
	var box []any
	filter, index := "", "addresses_id"
	if b := q.BBox; b != nil {
		filter = ` AND ad.lon BETWEEN ? AND ? AND ad.lat BETWEEN ? AND ?`
		box = []any{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM addresses ad WHERE true`+filter, box...).Scan(&p.Matched); err != nil {
			return p, formatError(err)
		}
		// SQLite has no statistics on the box, so choose here, knowing
		// how many match: walking the id index reads about
		// limit*total/matched rows to fill a page, the lon, lat index
		// reads and sorts every match. A box over most of the data
		// (QGIS zoomed out) walks the ids; a small one takes the range.
		if float64(p.Matched)*float64(p.Matched) <= float64(q.Limit)*float64(total) {
			index = "addresses_lon_lat"
		}
	}
	args := append(append([]any{q.After}, box...), q.Limit)
	rows, err := s.db.QueryContext(ctx, strings.Replace(addressSelect, "FROM addresses ad", "FROM addresses ad INDEXED BY "+index, 1)+
		`WHERE ad.id > ?`+filter+` ORDER BY ad.id LIMIT ?`, args...)
	if err != nil {
		return p, formatError(err)
	}
	p.Addresses, err = scanAddresses(rows)
	return p, err
}

// addressCount counts every address from the areas' counters and the
// unassigned ones: two small reads instead of counting every row on every
// page.
func (s *Store) addressCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT coalesce(sum(addresses), 0) FROM areas)
		+ (SELECT count(*) FROM addresses WHERE area_id IS NULL)`).Scan(&n)
	return n, formatError(err)
}

// FeatureExtents aggregates the stored bounds of the areas and the points
// of the addresses.
func (s *Store) FeatureExtents(ctx context.Context) (pledge.FeatureExtents, error) {
	var e pledge.FeatureExtents
	var err error
	if e.Areas, err = s.bound(ctx, `SELECT min(min_lon), min(min_lat), max(max_lon), max(max_lat) FROM areas`); err != nil {
		return e, err
	}
	e.Addresses, err = s.bound(ctx, `SELECT min(lon), min(lat), max(lon), max(lat) FROM addresses`)
	return e, err
}

// bound reads one row of min_lon, min_lat, max_lon, max_lat; all NULL (an
// empty table) is a nil bound.
func (s *Store) bound(ctx context.Context, query string) (*orb.Bound, error) {
	var v [4]sql.NullFloat64
	if err := s.db.QueryRowContext(ctx, query).Scan(&v[0], &v[1], &v[2], &v[3]); err != nil {
		return nil, formatError(err)
	}
	if !v[0].Valid {
		return nil, nil
	}
	return &orb.Bound{Min: orb.Point{v[0].Float64, v[1].Float64}, Max: orb.Point{v[2].Float64, v[3].Float64}}, nil
}
