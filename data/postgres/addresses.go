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
	(SELECT count(*) FROM pledges p WHERE p.address_id = ad.id AND p.status = 'active')
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

// NearestAddress asks the GiST index for the address nearest p in degrees
// (a k-nearest search with <->), which is near but not always the nearest
// in metres (a degree of longitude is shorter than one of latitude). Its
// distance d bounds the answer, so a second indexed query reads every
// address within min(d, maxMetres) and the nearest of those by Distance
// wins.
func (s *Store) NearestAddress(ctx context.Context, p orb.Point, maxMetres float64) (pledge.Address, float64, error) {
	var near orb.Point
	err := s.pool.QueryRow(ctx, `SELECT ST_X(geom), ST_Y(geom) FROM addresses WHERE area_id IS NOT NULL
		ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326) LIMIT 1`, p[0], p[1]).Scan(&near[0], &near[1])
	if err == pgx.ErrNoRows {
		return pledge.Address{}, 0, pledge.Errorf(pledge.ENOTFOUND, "no address within %g m", maxMetres)
	} else if err != nil {
		return pledge.Address{}, 0, formatError(err)
	}
	// A micrometre more, so the box surely holds the address found.
	r := min(pledge.Distance(p, near)*(1+1e-9)+1e-6, maxMetres)
	b := pledge.BoxAround(p, r)
	// && on float4 boxes rounded outwards finds every point in the box.
	rows, err := s.pool.Query(ctx, `SELECT ad.id, ad.text, ST_X(ad.geom), ST_Y(ad.geom), ad.units, ar.code, 0
		FROM addresses ad JOIN areas ar ON ar.id = ad.area_id
		WHERE ad.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`, b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	if err != nil {
		return pledge.Address{}, 0, formatError(err)
	}
	as, err := scanAddresses(rows)
	if err != nil {
		return pledge.Address{}, 0, err
	}
	var best pledge.Address
	bestD := math.Inf(1)
	for _, a := range as {
		if d := pledge.Distance(p, a.Point); d < bestD || (d == bestD && a.ID < best.ID) {
			best, bestD = a, d
		}
	}
	if bestD > r {
		return pledge.Address{}, 0, pledge.Errorf(pledge.ENOTFOUND, "no address within %g m", maxMetres)
	}
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM pledges WHERE address_id = $1 AND status = 'active'`, best.ID).Scan(&best.PledgedUnits)
	return best, bestD, formatError(err)
}
