package sqlite

import (
	"context"
	"database/sql"
	"math"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

var _ pledge.TileStore = (*Store)(nil)

// tileBufferFraction is pledge.TileBuffer as a fraction of a tile's side.
const tileBufferFraction = float64(pledge.TileBuffer) / pledge.TileExtent

// clipBox is the tile plus its buffer, in tile coordinates.
var clipBox = orb.Bound{
	Min: orb.Point{-pledge.TileBuffer, -pledge.TileBuffer},
	Max: orb.Point{pledge.TileExtent + pledge.TileBuffer, pledge.TileExtent + pledge.TileBuffer},
}

// areaTileSQL reads the public areas whose R-tree box meets a box
// (min lon, max lon, min lat, max lat), with their bounds and geometry
// revision, not their polygons.
const areaTileSQL = `SELECT ` + areaColumns + `, r.min_lon, r.min_lat, r.max_lon, r.max_lat, geometry_rev
	FROM areas_rtree r JOIN areas USING (id)
	WHERE r.max_lon >= ? AND r.min_lon <= ? AND r.max_lat >= ? AND r.min_lat <= ? AND status <> 'draft'
	ORDER BY code`

// addressTileSQL reads the addresses of public areas in a box, with their
// confirmed active pledges counted. The R-tree's boxes are float32,
// rounded outwards, so the exact comparison follows. CROSS JOIN keeps the
// R-tree the outer loop: left to itself, the planner walked the (lon,
// lat) index's whole longitude slab (p50 252 ms at 4M addresses).
const addressTileSQL = `SELECT ad.id, ad.lon, ad.lat, ad.units,
		(SELECT count(*) FROM pledges p WHERE p.address_seq = ad.seq AND p.status = 'active' AND p.confirmed)
	FROM addresses_rtree r CROSS JOIN addresses ad ON ad.seq = r.seq JOIN areas ar ON ar.id = ad.area_id
	WHERE r.max_lon >= ?1 AND r.min_lon <= ?2 AND r.max_lat >= ?3 AND r.min_lat <= ?4
		AND ad.lon BETWEEN ?1 AND ?2 AND ad.lat BETWEEN ?3 AND ?4 AND ar.status <> 'draft'
	ORDER BY ad.id`

// AreaTile encodes the public areas whose bounds meet tile t. SQLite has
// no spatial functions: the areas come through their R-tree (whose
// float32 boxes are rounded outwards, so a few near misses may come too
// and clip to nothing), and their polygons from the store's copy
// simplified for t's zoom (see shapes), scaled, clipped and encoded here
// with orb.
func (s *Store) AreaTile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	b := t.Bound(tileBufferFraction)
	rows, err := s.areaTile.QueryContext(ctx, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	toTile := func(p orb.Point) orb.Point {
		f := maptile.Fraction(p, t.Z)
		return orb.Point{f[0] * pledge.TileExtent, f[1] * pledge.TileExtent}
	}
	var areas []pledge.Area
	var ids, revs []int64
	var codes []string
	for rows.Next() {
		var bound orb.Bound
		var rev int64
		a, err := scanArea(extraScanner{rows, []any{&bound.Min[0], &bound.Min[1], &bound.Max[0], &bound.Max[1], &rev}}, false)
		if err != nil {
			return nil, err
		}
		// An area whose bounds cover less than one square tile unit is
		// left out (RemoveEmpty would drop it): at low zooms that is most
		// of them.
		lo, hi := toTile(bound.Min), toTile(bound.Max)
		if math.Abs((hi[0]-lo[0])*(hi[1]-lo[1])) < 1 {
			continue
		}
		areas, ids, codes, revs = append(areas, a), append(ids, a.ID), append(codes, a.Code), append(revs, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	rows.Close()
	got, missing := s.shapes.get(ids, codes, revs)
	if len(missing) > 0 {
		if err := s.loadShapes(ctx, ids, missing, got); err != nil {
			return nil, err
		}
	}
	layer := &mvt.Layer{Name: pledge.TileLayerAreas, Version: 2, Extent: pledge.TileExtent}
	for i, a := range areas {
		if got[i] == nil {
			continue // gone since the first query
		}
		f := geojson.NewFeature(toTileCoords(got[i].at(t.Z), t))
		f.ID = a.ID
		f.Properties = geojson.Properties{
			"code": a.Code, "name": a.Name, "status": string(a.Status), "take_up_band": pledge.TakeUpBand(a),
			"units": a.Units, "pledged_units": a.PledgedUnits, "threshold_percent": a.ThresholdPercent,
		}
		layer.Features = append(layer.Features, f)
	}
	layer.Clip(clipBox)
	if t.Z > maxShapeBand {
		// One tile unit is 1/16 px at 256 px: what Douglas-Peucker drops
		// at that tolerance no screen shows, at any zoom.
		layer.Simplify(simplify.DouglasPeucker(1))
	}
	layer.RemoveEmpty(0, 1)
	for _, f := range layer.Features {
		orient(f.Geometry)
	}
	return encodeTile(layer)
}

// AddressTile encodes the addresses of public areas in tile t (with its
// buffer), found through the addresses' R-tree (see addressTileSQL).
func (s *Store) AddressTile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	b := t.Bound(tileBufferFraction)
	rows, err := s.addressTile.QueryContext(ctx, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	layer := &mvt.Layer{Name: pledge.TileLayerAddresses, Version: 2, Extent: pledge.TileExtent}
	for rows.Next() {
		var id string
		var p orb.Point
		var units, pledged int
		if err := rows.Scan(&id, &p[0], &p[1], &units, &pledged); err != nil {
			return nil, formatError(err)
		}
		f := geojson.NewFeature(p)
		f.Properties = geojson.Properties{
			"address_id": id, "units": units, "pledged_units": pledged, "unpledged_units": max(units-pledged, 0),
		}
		layer.Features = append(layer.Features, f)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	layer.ProjectToTile(t)
	return encodeTile(layer)
}

// orient winds rings as the MVT specification wants them in tile
// coordinates (y down): exterior rings with a positive signed area (orb's
// CCW), holes negative. The stored rings follow GeoJSON's convention in
// lon/lat, which the projection's flip of the y axis turns around, and
// clipping may not keep either; clients tell a new polygon from a hole by
// its winding alone.
func orient(g orb.Geometry) {
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	}
	for _, p := range polys {
		for i, r := range p {
			if want := map[bool]orb.Orientation{true: orb.CCW, false: orb.CW}[i == 0]; r.Orientation() != want {
				r.Reverse()
			}
		}
	}
}

// extraScanner scans the columns after scanArea's into more.
type extraScanner struct {
	rows *sql.Rows
	more []any
}

func (e extraScanner) Scan(dest ...any) error { return e.rows.Scan(append(dest, e.more...)...) }

// encodeTile marshals one layer; a layer without features is the empty
// tile (no bytes), which the web layer answers without a body.
func encodeTile(l *mvt.Layer) ([]byte, error) {
	if len(l.Features) == 0 {
		return []byte{}, nil
	}
	return mvt.Marshal(mvt.Layers{l})
}

// PublicAreasBound is the union of the stored bounds of public areas.
func (s *Store) PublicAreasBound(ctx context.Context) (orb.Bound, bool, error) {
	var b orb.Bound
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(min(min_lon), 0), coalesce(min(min_lat), 0),
		coalesce(max(max_lon), 0), coalesce(max(max_lat), 0) FROM areas WHERE status <> 'draft'`).
		Scan(&n, &b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if err != nil {
		return orb.Bound{}, false, formatError(err)
	}
	return b, n > 0, nil
}
