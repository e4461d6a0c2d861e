package sqlite

import (
	"context"

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

// AreaTile encodes the public areas whose bounds meet tile t. SQLite has
// no spatial functions, so the areas come by their stored bounds (a scan
// of the areas table, a few thousand narrow rows at national scale) and
// are projected, clipped and simplified here with orb.
func (s *Store) AreaTile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	b := t.Bound(tileBufferFraction)
	rows, err := s.db.QueryContext(ctx, `SELECT `+areaColumns+`, geometry FROM areas
		WHERE status <> 'draft' AND max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?
		ORDER BY code`, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	layer := &mvt.Layer{Name: pledge.TileLayerAreas, Version: 2, Extent: pledge.TileExtent}
	for rows.Next() {
		a, err := scanArea(rows, true)
		if err != nil {
			return nil, err
		}
		f := geojson.NewFeature(a.Geometry)
		f.ID = a.ID
		f.Properties = geojson.Properties{
			"code": a.Code, "name": a.Name, "status": string(a.Status), "take_up_band": pledge.TakeUpBand(a),
			"units": a.Units, "pledged_units": a.PledgedUnits, "threshold_percent": a.ThresholdPercent,
		}
		layer.Features = append(layer.Features, f)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	layer.ProjectToTile(t)
	layer.Clip(clipBox)
	// One tile unit is 1/16 px at 256 px: what Douglas-Peucker drops at
	// that tolerance no screen shows, at any zoom.
	layer.Simplify(simplify.DouglasPeucker(1))
	layer.RemoveEmpty(0, 1)
	for _, f := range layer.Features {
		orient(f.Geometry)
	}
	return encodeTile(layer)
}

// AddressTile encodes the addresses of public areas in tile t (with its
// buffer), found through the addresses' R-tree. The R-tree's boxes are
// float32, rounded outwards, so the exact comparison follows.
func (s *Store) AddressTile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	b := t.Bound(tileBufferFraction)
	rows, err := s.db.QueryContext(ctx, `SELECT ad.id, ad.lon, ad.lat, ad.units,
			(SELECT count(*) FROM pledges p WHERE p.address_seq = ad.seq AND p.status = 'active')
		FROM addresses_rtree r JOIN addresses ad ON ad.seq = r.seq JOIN areas ar ON ar.id = ad.area_id
		WHERE r.max_lon >= ?1 AND r.min_lon <= ?2 AND r.max_lat >= ?3 AND r.min_lat <= ?4
			AND ad.lon BETWEEN ?1 AND ?2 AND ad.lat BETWEEN ?3 AND ?4 AND ar.status <> 'draft'
		ORDER BY ad.id`, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
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
