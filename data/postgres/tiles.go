package postgres

import (
	"context"
	"math"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

var _ pledge.TileStore = (*Store)(nil)

// tileEnvelope binds $1-$3 to z, x, y and $4 to the buffer as a fraction
// of the tile: the tile in web mercator (EPSG:3857) for ST_AsMVTGeom, and
// the buffered tile transformed to the columns' EPSG:4326 for the GiST
// filter. Transforming the box, not the column, is what lets the index
// answer; mercator keeps a box a box, so the transformed box is exact.
const tileEnvelope = `WITH env AS (
	SELECT ST_TileEnvelope($1, $2, $3) AS tile,
		ST_Transform(ST_TileEnvelope($1, $2, $3, margin => $4), 4326) AS box)`

// takeUpBand is pledge.TakeUpBand in SQL over the areas row ar; the
// conformance suite checks that the two agree. Float8 throughout, as in
// Go, so the edges fall the same way.
const takeUpBand = `CASE
	WHEN ar.units > 0 AND ar.pledged_units > 0
		AND ar.pledged_units::float8 * 100 >= ar.threshold_percent * ar.units::float8 - 1e-9
		AND ar.pledged_units >= ar.threshold_units THEN 3
	WHEN ar.threshold_percent <= 0 OR ar.units = 0 THEN 0
	WHEN ar.pledged_units::float8 * 300 >= 2 * (ar.threshold_percent * ar.units::float8) THEN 2
	WHEN ar.pledged_units::float8 * 300 >= ar.threshold_percent * ar.units::float8 THEN 1
	ELSE 0 END`

// areaTile: ST_AsMVTGeom clips to the tile plus the buffer ($5, in tile
// units) and snaps to the 4096 grid; ST_Simplify first drops what one
// tile unit ($6, in metres at this zoom) cannot show, as the SQLite store
// does with Douglas-Peucker.
const areaTile = tileEnvelope + `
SELECT coalesce(ST_AsMVT(t.*, 'areas', 4096, 'geom', 'id'), ''::bytea) FROM (
	SELECT ar.id, ar.code, ar.name, ar.status, ` + takeUpBand + ` AS take_up_band,
		ar.units, ar.pledged_units, ar.threshold_percent,
		ST_AsMVTGeom(ST_Simplify(ST_Transform(s.geom, 3857), $6), env.tile, 4096, $5, true) AS geom
	FROM env, area_shapes s JOIN areas ar ON ar.id = s.area_id
	WHERE s.geom && env.box AND ar.status <> 'draft'
	ORDER BY ar.code
) t WHERE t.geom IS NOT NULL`

const addressTile = tileEnvelope + `
SELECT coalesce(ST_AsMVT(t.*, 'addresses', 4096, 'geom'), ''::bytea) FROM (
	SELECT ad.id AS address_id, ad.units, pc.n AS pledged_units, greatest(ad.units - pc.n, 0) AS unpledged_units,
		ST_AsMVTGeom(ST_Transform(ad.geom, 3857), env.tile, 4096, $5, true) AS geom
	FROM env, addresses ad JOIN areas ar ON ar.id = ad.area_id,
		LATERAL (SELECT count(*)::int AS n FROM pledges p WHERE p.address_id = ad.id AND p.status = 'active' AND p.confirmed) pc
	WHERE ad.geom && env.box AND ar.status <> 'draft'
	ORDER BY ad.id
) t WHERE t.geom IS NOT NULL`

// mercatorWorld is the side of the web mercator square in metres.
const mercatorWorld = 2 * math.Pi * 6378137

func tileArgs(t maptile.Tile) []any {
	unit := mercatorWorld / float64(uint64(1)<<t.Z) / pledge.TileExtent
	return []any{int(t.Z), int(t.X), int(t.Y), float64(pledge.TileBuffer) / pledge.TileExtent, pledge.TileBuffer, unit}
}

// AreaTile encodes the public areas meeting tile t with ST_AsMVT.
func (s *Store) AreaTile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	var b []byte
	if err := s.pool.QueryRow(ctx, areaTile, tileArgs(t)...).Scan(&b); err != nil {
		return nil, formatError(err)
	}
	return b, nil
}

// AddressTile encodes the addresses of public areas in tile t.
func (s *Store) AddressTile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	var b []byte
	if err := s.pool.QueryRow(ctx, addressTile, tileArgs(t)[:5]...).Scan(&b); err != nil {
		return nil, formatError(err)
	}
	return b, nil
}

// PublicAreasBound is the extent of the public areas' shapes.
func (s *Store) PublicAreasBound(ctx context.Context) (orb.Bound, bool, error) {
	var b orb.Bound
	var n int
	err := s.pool.QueryRow(ctx, `SELECT n, coalesce(ST_XMin(e), 0), coalesce(ST_YMin(e), 0), coalesce(ST_XMax(e), 0), coalesce(ST_YMax(e), 0)
		FROM (SELECT count(*) AS n, ST_Extent(s.geom) AS e FROM area_shapes s JOIN areas ar ON ar.id = s.area_id
			WHERE ar.status <> 'draft') x`).Scan(&n, &b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if err != nil {
		return orb.Bound{}, false, formatError(err)
	}
	return b, n > 0, nil
}
