package sqlite

import (
	"context"
	"database/sql"
	"strconv"
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
// a box is a query on the addresses' R-tree.
func (s *Store) AddressFeatures(ctx context.Context, q pledge.FeatureQuery) (pledge.AddressPage, error) {
	var p pledge.AddressPage
	total, err := s.addressCount(ctx)
	if err != nil {
		return p, err
	}
	p.Matched = total
	from, filter := "FROM addresses ad INDEXED BY addresses_id", ""
	var box []any
	b := q.BBox
	if b != nil {
		// A box around every address (QGIS zoomed out) is no filter.
		ext, err := s.addressExtent(ctx)
		if err != nil {
			return p, err
		}
		if ext == nil || (b.Min[0] <= ext.Min[0] && b.Min[1] <= ext.Min[1] && b.Max[0] >= ext.Max[0] && b.Max[1] >= ext.Max[1]) {
			b = nil
		}
	}
	if b != nil {
		box = []any{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}
		// The R-tree's boxes are float32, rounded outwards: a point whose
		// box lies inside the query box is inside it; one whose box
		// straddles an edge is compared exactly.
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM addresses_rtree r
			WHERE r.max_lon >= ?1 AND r.min_lon <= ?2 AND r.max_lat >= ?3 AND r.min_lat <= ?4
			AND ((r.min_lon >= ?1 AND r.max_lon <= ?2 AND r.min_lat >= ?3 AND r.max_lat <= ?4)
				OR EXISTS (SELECT 1 FROM addresses ad WHERE ad.seq = r.seq AND ad.lon BETWEEN ?1 AND ?2 AND ad.lat BETWEEN ?3 AND ?4))`,
			box...).Scan(&p.Matched); err != nil {
			return p, formatError(err)
		}
		filter = ` AND ad.lon BETWEEN ?2 AND ?3 AND ad.lat BETWEEN ?4 AND ?5`
		// SQLite has no statistics on the box, so choose here, knowing
		// how many match: walking the id index reads about
		// limit*total/matched rows to fill a page, the R-tree reads and
		// sorts every match. A box over most of the data (QGIS zoomed
		// out) walks the ids; a small one takes the R-tree.
		if float64(p.Matched)*float64(p.Matched) <= float64(q.Limit)*float64(total) {
			from = "FROM addresses_rtree r CROSS JOIN addresses ad ON ad.seq = r.seq"
			filter += ` AND r.max_lon >= ?2 AND r.min_lon <= ?3 AND r.max_lat >= ?4 AND r.min_lat <= ?5`
		}
	}
	args := append(append([]any{q.After}, box...), q.Limit)
	rows, err := s.db.QueryContext(ctx, strings.Replace(addressSelect, "FROM addresses ad", from, 1)+
		`WHERE ad.id > ?1`+filter+` ORDER BY ad.id LIMIT ?`+strconv.Itoa(len(args)), args...)
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
	e.Addresses, err = s.addressExtent(ctx)
	return e, err
}

// addressExtent is the exact bound of the addresses' points. The R-tree's
// root bounds every point's float32 box, which is rounded outwards, so
// only the few points whose boxes touch that bound are read to make it
// exact, instead of every row. Should the root's bound be loose (the
// module need not shrink it as points move), every row is read.
func (s *Store) addressExtent(ctx context.Context) (*orb.Bound, error) {
	var root []byte
	if err := s.db.QueryRowContext(ctx, `SELECT data FROM addresses_rtree_node WHERE nodeno = 1`).Scan(&root); err != nil {
		return nil, formatError(err)
	}
	cells, err := decodeRtreeNode(root)
	if err != nil {
		return nil, err
	}
	if len(cells) == 0 {
		return nil, nil
	}
	box := rtreeNode{cells: cells}.box()
	const strip = ` FROM addresses_rtree r CROSS JOIN addresses ad ON ad.seq = r.seq WHERE r.`
	b, err := s.bound(ctx, `SELECT (SELECT min(ad.lon)`+strip+`min_lon <= ?1), (SELECT min(ad.lat)`+strip+`min_lat <= ?2),
		(SELECT max(ad.lon)`+strip+`max_lon >= ?3), (SELECT max(ad.lat)`+strip+`max_lat >= ?4)`,
		float64(box.minLon), float64(box.minLat), float64(box.maxLon), float64(box.maxLat))
	if err != nil || b != nil {
		return b, err
	}
	return s.bound(ctx, `SELECT min(lon), min(lat), max(lon), max(lat) FROM addresses`)
}

// bound reads one row of min_lon, min_lat, max_lon, max_lat; all NULL (an
// empty table) is a nil bound.
func (s *Store) bound(ctx context.Context, query string, args ...any) (*orb.Bound, error) {
	var v [4]sql.NullFloat64
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&v[0], &v[1], &v[2], &v[3]); err != nil {
		return nil, formatError(err)
	}
	if !v[0].Valid || !v[1].Valid || !v[2].Valid || !v[3].Valid {
		return nil, nil
	}
	return &orb.Bound{Min: orb.Point{v[0].Float64, v[1].Float64}, Max: orb.Point{v[2].Float64, v[3].Float64}}, nil
}
