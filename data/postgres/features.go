package postgres

import (
	"context"
	"fmt"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

var _ pledge.FeatureStore = (*Store)(nil)

// The box filters use the GiST indexes through && against the query box
// made with ST_MakeEnvelope, and never a function of the column, so the
// index is used. The columns are SRID 4326 (lon, lat), the same axes as
// the CRS84 box, so the box needs no ST_Transform. && compares float4
// boxes rounded outwards; the exact comparisons after it give the same
// inclusive edges as the SQLite store.
//
// Each returns the filter with the box as parameters $n to $n+3.
func areaBoxFilter(n int) string {
	return fmt.Sprintf(` AND s.geom && ST_MakeEnvelope($%[1]d, $%[2]d, $%[3]d, $%[4]d, 4326)
		AND ST_XMax(s.geom) >= $%[1]d AND ST_XMin(s.geom) <= $%[3]d AND ST_YMax(s.geom) >= $%[2]d AND ST_YMin(s.geom) <= $%[4]d`,
		n, n+1, n+2, n+3)
}

func addressBoxFilter(n int) string {
	return fmt.Sprintf(` AND ad.geom && ST_MakeEnvelope($%[1]d, $%[2]d, $%[3]d, $%[4]d, 4326)
		AND ST_X(ad.geom) BETWEEN $%[1]d AND $%[3]d AND ST_Y(ad.geom) BETWEEN $%[2]d AND $%[4]d`,
		n, n+1, n+2, n+3)
}

// boxArgs returns the box as min_lon, min_lat, max_lon, max_lat.
func boxArgs(b *orb.Bound) []any {
	return []any{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
}

// AreaFeatures pages areas by code (keyset on the unique code index).
func (s *Store) AreaFeatures(ctx context.Context, q pledge.FeatureQuery) (pledge.AreaPage, error) {
	p := pledge.AreaPage{Areas: []pledge.Area{}}
	count, page := `SELECT count(*) FROM area_shapes s WHERE true`, `SELECT `+areaColumns+`, s.geom
		FROM areas JOIN area_shapes s ON s.area_id = areas.id WHERE areas.code > $1`
	var box []any
	if q.BBox != nil {
		count += areaBoxFilter(1)
		page += areaBoxFilter(3)
		box = boxArgs(q.BBox)
	}
	if err := s.pool.QueryRow(ctx, count, box...).Scan(&p.Matched); err != nil {
		return p, formatError(err)
	}
	rows, err := s.pool.Query(ctx, page+` ORDER BY areas.code LIMIT $2`, append([]any{q.After, q.Limit}, box...)...)
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

// AddressFeatures pages addresses by id (keyset on the primary key).
func (s *Store) AddressFeatures(ctx context.Context, q pledge.FeatureQuery) (pledge.AddressPage, error) {
	var p pledge.AddressPage
	var err error
	page := addressSelect + `WHERE ad.id > $1`
	var box []any
	if q.BBox != nil {
		page += addressBoxFilter(3)
		box = boxArgs(q.BBox)
	}
	if q.BBox == nil {
		// Every address is in one area's counter or unassigned: two
		// small reads instead of counting millions of rows on every page.
		err = s.pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(addresses), 0) FROM areas)
			+ (SELECT count(*) FROM addresses WHERE area_id IS NULL)`).Scan(&p.Matched)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT count(*) FROM addresses ad WHERE true`+addressBoxFilter(1), box...).Scan(&p.Matched)
	}
	if err != nil {
		return p, formatError(err)
	}
	rows, err := s.pool.Query(ctx, page+` ORDER BY ad.id LIMIT $2`, append([]any{q.After, q.Limit}, box...)...)
	if err != nil {
		return p, formatError(err)
	}
	p.Addresses, err = scanAddresses(rows)
	return p, err
}

// FeatureExtents aggregates exact bounds (ST_XMin of each polygon, not
// ST_Extent, whose float4 boxes would differ from SQLite's).
func (s *Store) FeatureExtents(ctx context.Context) (pledge.FeatureExtents, error) {
	var e pledge.FeatureExtents
	var err error
	if e.Areas, err = s.bound(ctx, `SELECT min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom)) FROM area_shapes`); err != nil {
		return e, err
	}
	e.Addresses, err = s.bound(ctx, `SELECT min(ST_X(geom)), min(ST_Y(geom)), max(ST_X(geom)), max(ST_Y(geom)) FROM addresses`)
	return e, err
}

// bound reads one row of min_lon, min_lat, max_lon, max_lat; all NULL (an
// empty table) is a nil bound.
func (s *Store) bound(ctx context.Context, query string) (*orb.Bound, error) {
	var v [4]*float64
	if err := s.pool.QueryRow(ctx, query).Scan(&v[0], &v[1], &v[2], &v[3]); err != nil {
		return nil, formatError(err)
	}
	if v[0] == nil {
		return nil, nil
	}
	return &orb.Bound{Min: orb.Point{*v[0], *v[1]}, Max: orb.Point{*v[2], *v[3]}}, nil
}
