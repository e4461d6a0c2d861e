package sqlite

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// Area tiles at low zooms cover most of the country: rendering one from
// the stored polygons decodes, projects and simplifies every vertex of
// thousands of areas (0.1 s and more a tile at 2,200 areas). Geometry
// changes only on import, so the store keeps each public area's polygon
// in Web Mercator, and simplified once per zoom it is drawn at; a tile
// then scales, clips and encodes a few vertices per area.

// maxShapeBand is the deepest zoom with a simplified copy; deeper tiles
// hold few areas and simplify the clipped full polygon as before.
const maxShapeBand = 12

// shapes is the store's copy of area polygons, keyed by area id.
type shapes struct {
	mu sync.RWMutex
	m  map[int64]*shape
}

// shape is one area's polygon as of a geometry revision: world is in
// Web Mercator fractions of the world (maptile.Fraction at zoom 0, y
// down); bands[z] is world simplified to one tile unit at zoom z.
type shape struct {
	code  string
	rev   int64
	world orb.MultiPolygon
	once  [maxShapeBand + 1]sync.Once
	bands [maxShapeBand + 1]orb.MultiPolygon
}

// get returns the copies current at rev of the given areas; missing are
// the ids to load.
func (c *shapes) get(ids []int64, codes []string, revs []int64) (got []*shape, missing []int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	got = make([]*shape, len(ids))
	for i, id := range ids {
		if s := c.m[id]; s != nil && s.rev == revs[i] && s.code == codes[i] {
			got[i] = s
		} else {
			missing = append(missing, i)
		}
	}
	return got, missing
}

func (c *shapes) put(id int64, s *shape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]*shape{}
	}
	c.m[id] = s
}

// newShape projects an area's polygon to world fractions.
func newShape(code string, rev int64, mp orb.MultiPolygon) *shape {
	world := make(orb.MultiPolygon, len(mp))
	for i, p := range mp {
		world[i] = make(orb.Polygon, len(p))
		for j, r := range p {
			w := make(orb.Ring, len(r))
			for k, pt := range r {
				w[k] = maptile.Fraction(pt, 0)
			}
			world[i][j] = w
		}
	}
	return &shape{code: code, rev: rev, world: world}
}

// at is the shape drawn at zoom z: simplified to one tile unit up to
// maxShapeBand, the full polygon beyond.
func (s *shape) at(z maptile.Zoom) orb.MultiPolygon {
	if z > maxShapeBand {
		return s.world
	}
	s.once[z].Do(func() {
		unit := 1 / (float64(pledge.TileExtent) * math.Exp2(float64(z)))
		s.bands[z] = simplify.DouglasPeucker(unit).MultiPolygon(orb.Clone(s.world).(orb.MultiPolygon))
	})
	return s.bands[z]
}

// toTileCoords scales a world-fraction shape to tile t's coordinates (floored,
// as orb's mvt projection does), into new rings, leaving out points that
// repeat the one before.
func toTileCoords(mp orb.MultiPolygon, t maptile.Tile) orb.MultiPolygon {
	scale := float64(pledge.TileExtent) * math.Exp2(float64(t.Z))
	minX, minY := float64(t.X)*pledge.TileExtent, float64(t.Y)*pledge.TileExtent
	out := make(orb.MultiPolygon, 0, len(mp))
	for _, p := range mp {
		np := make(orb.Polygon, 0, len(p))
		for _, r := range p {
			nr := make(orb.Ring, 0, len(r))
			for _, pt := range r {
				q := orb.Point{math.Floor(pt[0]*scale - minX), math.Floor(pt[1]*scale - minY)}
				if n := len(nr); n == 0 || nr[n-1] != q {
					nr = append(nr, q)
				}
			}
			if len(nr) >= 4 {
				np = append(np, nr)
			} else if len(np) == 0 {
				break // an outer ring that collapsed: no polygon
			}
		}
		if len(np) > 0 {
			out = append(out, np)
		}
	}
	return out
}

// loadShapes reads, decodes and keeps the polygons of the areas at
// indexes missing of ids, a few hundred per query (SQLite's bound on
// parameters).
func (s *Store) loadShapes(ctx context.Context, ids []int64, missing []int, into []*shape) error {
	at := make(map[int64]int, len(missing))
	for _, m := range missing {
		at[ids[m]] = m
	}
	for chunk := range slices.Chunk(missing, 500) {
		args := make([]any, len(chunk))
		for i, m := range chunk {
			args[i] = ids[m]
		}
		if err := s.loadShapeRows(ctx, args, at, into); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadShapeRows(ctx context.Context, ids []any, at map[int64]int, into []*shape) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, code, geometry_rev, geometry FROM areas WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, rev int64
		var code string
		var blob []byte
		if err := rows.Scan(&id, &code, &rev, &blob); err != nil {
			return formatError(err)
		}
		mp, err := decodeMultiPolygon(code, blob)
		if err != nil {
			return err
		}
		sh := newShape(code, rev, mp)
		s.shapes.put(id, sh)
		into[at[id]] = sh
	}
	return formatError(rows.Err())
}
