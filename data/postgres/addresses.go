package postgres

import (
	"context"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// addressSelect reads addresses with their area code and pledged units.
const addressSelect = `SELECT ad.id, ad.text, ST_X(ad.geom), ST_Y(ad.geom), ad.units, coalesce(ar.code, ''),
	(SELECT count(*) FROM pledges p WHERE p.address_id = ad.id AND p.status = 'active' AND p.confirmed)
	FROM addresses ad LEFT JOIN areas ar ON ar.id = ad.area_id `

func scanAddresses(rows pgx.Rows) ([]pledge.Address, error) {
	defer rows.Close()
	out := []pledge.Address{}
	for rows.Next() {
		var a pledge.Address
		if err := rows.Scan(&a.ID, &a.Text, &a.Point[0], &a.Point[1], &a.Units, &a.AreaCode, &a.PledgedUnits); err != nil {
			return nil, formatError(err)
		}
		out = append(out, a)
	}
	return out, formatError(rows.Err())
}

// Address returns one address by source id.
func (s *Store) Address(ctx context.Context, id string) (pledge.Address, error) {
	rows, err := s.pool.Query(ctx, addressSelect+`WHERE ad.id = $1`, id)
	if err != nil {
		return pledge.Address{}, formatError(err)
	}
	as, err := scanAddresses(rows)
	if err != nil {
		return pledge.Address{}, err
	}
	if len(as) == 0 {
		return pledge.Address{}, pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", id)
	}
	return as[0], nil
}

// AreaAddresses lists an area's addresses ordered by id. The bbox filter
// is the index-friendly && (float4 boxes, rounded outwards) narrowed to the
// exact inclusive comparison the SQLite store makes.
func (s *Store) AreaAddresses(ctx context.Context, code string, bbox *orb.Bound, limit int) ([]pledge.Address, error) {
	var areaID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, code).Scan(&areaID); err == pgx.ErrNoRows {
		return nil, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	} else if err != nil {
		return nil, formatError(err)
	}
	q := addressSelect + `WHERE ad.area_id = $1`
	args := []any{areaID, limit}
	if bbox != nil {
		q += ` AND ad.geom && ST_MakeEnvelope($3, $4, $5, $6, 4326)
			AND ST_X(ad.geom) BETWEEN $3 AND $5 AND ST_Y(ad.geom) BETWEEN $4 AND $6`
		args = append(args, bbox.Min[0], bbox.Min[1], bbox.Max[0], bbox.Max[1])
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY ad.id LIMIT $2`, args...)
	if err != nil {
		return nil, formatError(err)
	}
	return scanAddresses(rows)
}

// SearchAddresses is a prefix range scan on the search key index; the "C"
// collation makes the range the same code-point range as in SQLite.
func (s *Store) SearchAddresses(ctx context.Context, prefix string, limit int) ([]pledge.Address, error) {
	rows, err := s.pool.Query(ctx, addressSelect+`WHERE ad.search_key >= $1 AND ad.search_key < $2 ORDER BY ad.search_key, ad.id LIMIT $3`,
		prefix, pledge.PrefixEnd(prefix), limit)
	if err != nil {
		return nil, formatError(err)
	}
	return scanAddresses(rows)
}

// NearestAddress reads the addresses inside an area within the box of
// maxMetres around p from the GiST index in the order of their distance in
// degrees (<->, a k-nearest search), which is near but not the order in
// metres: a degree of longitude is shorter than one of latitude. A row
// dd degrees away is at least dd*cos(the box's poleward latitude) degrees
// of arc away in metres too, so once that bound passes the best distance
// so far, no later row can win and reading stops. The first few rows
// almost always settle it; more are asked for only when they do not.
func (s *Store) NearestAddress(ctx context.Context, p orb.Point, maxMetres float64) (pledge.Address, float64, error) {
	b := pledge.BoxAround(p, maxMetres)
	metresPerDegree := orb.EarthRadius * math.Pi / 180 * math.Cos(math.Min(89.9, math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1])))*math.Pi/180)
	var best pledge.Address
	bestD := maxMetres
	found := false
	for _, limit := range []int{16, 512, 0} {
		q := `SELECT ad.id, ad.text, ST_X(ad.geom), ST_Y(ad.geom), ad.units, ar.code,
				ad.geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)
			FROM addresses ad JOIN areas ar ON ar.id = ad.area_id
			WHERE ad.geom && ST_MakeEnvelope($3, $4, $5, $6, 4326)
			ORDER BY ad.geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)`
		args := []any{p[0], p[1], b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		if limit > 0 {
			q += ` LIMIT $7`
			args = append(args, limit)
		}
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return pledge.Address{}, 0, formatError(err)
		}
		n, settled := 0, false
		for rows.Next() {
			var a pledge.Address
			var deg float64
			if err := rows.Scan(&a.ID, &a.Text, &a.Point[0], &a.Point[1], &a.Units, &a.AreaCode, &deg); err != nil {
				rows.Close()
				return pledge.Address{}, 0, formatError(err)
			}
			n++
			if deg*metresPerDegree > bestD {
				settled = true
				break
			}
			if d := pledge.Distance(p, a.Point); d < bestD || (d == bestD && (!found || a.ID < best.ID)) {
				best, bestD, found = a, d, true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return pledge.Address{}, 0, formatError(err)
		}
		if settled || limit == 0 || n < limit {
			break
		}
	}
	if !found {
		return pledge.Address{}, 0, pledge.Errorf(pledge.ENOTFOUND, "no address within %g m", maxMetres)
	}
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pledges WHERE address_id = $1 AND status = 'active'`, best.ID).Scan(&best.PledgedUnits)
	return best, bestD, formatError(err)
}
