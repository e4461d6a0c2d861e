package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// ring is a polygon ring prepared for repeated point-in-polygon tests: its
// bounds are computed once (orb's planar.PolygonContains recomputes them per
// call) and its edges are bucketed into horizontal bands, so a test only
// looks at the edges that can cross the point's latitude.
type ring struct {
	pts    []orb.Point
	bound  orb.Bound
	minY   float64
	bandH  float64
	bands  [][]int32 // edge start indexes per band
	single []int32   // all edges, when the ring is too small to band
}

const edgesPerBand = 8

func newRing(r orb.Ring) ring {
	pts := []orb.Point(r)
	b := r.Bound()
	pr := ring{pts: pts, bound: b, minY: b.Min[1]}
	n := len(pts) - 1 // closed ring: last == first
	if n < 1 {
		return pr
	}
	nb := n / edgesPerBand
	h := b.Max[1] - b.Min[1]
	if nb < 2 || h <= 0 {
		pr.single = make([]int32, n)
		for i := range pr.single {
			pr.single[i] = int32(i)
		}
		return pr
	}
	pr.bandH = h / float64(nb)
	pr.bands = make([][]int32, nb)
	for i := 0; i < n; i++ {
		y0, y1 := pts[i][1], pts[i+1][1]
		if y0 > y1 {
			y0, y1 = y1, y0
		}
		lo, hi := pr.band(y0), pr.band(y1)
		for k := lo; k <= hi; k++ {
			pr.bands[k] = append(pr.bands[k], int32(i))
		}
	}
	return pr
}

func (r *ring) band(y float64) int {
	k := int((y - r.minY) / r.bandH)
	return max(0, min(len(r.bands)-1, k))
}

// crossings reports how the point relates to the ring: onEdge when it lies on
// the boundary, otherwise whether a ray to +x crosses the ring an odd number
// of times.
func (r *ring) crossings(p orb.Point) (odd, onEdge bool) {
	if !r.bound.Contains(p) {
		return false, false
	}
	edges := r.single
	if r.bands != nil {
		edges = r.bands[r.band(p[1])]
	}
	px, py := p[0], p[1]
	pts := r.pts
	for _, i := range edges {
		a, b := pts[i], pts[i+1]
		if (a[1] > py) != (b[1] > py) {
			// The edge straddles the ray's line. The sign of the orientation
			// is exact enough for "which side" and exactly 0 on the edge.
			o := (b[0]-a[0])*(py-a[1]) - (b[1]-a[1])*(px-a[0])
			if o == 0 {
				return false, true
			}
			if (o > 0) == (b[1] > a[1]) {
				odd = !odd
			}
			continue
		}
		// Horizontal edges and vertices at the point's latitude are missed by
		// the half-open straddle rule: check them for boundary contact.
		if a[1] == py && b[1] == py {
			if px >= math.Min(a[0], b[0]) && px <= math.Max(a[0], b[0]) {
				return false, true
			}
		} else if a == p || b == p {
			return false, true
		}
	}
	return odd, false
}

// preparedPolygon is a multi-polygon ready for repeated containment tests.
// A coarse grid over its bounds records, per cell, whether the cell is
// wholly inside, wholly outside, or touched by an edge; only points in
// touched cells need the ring test.
type preparedPolygon struct {
	bound orb.Bound
	parts [][]ring // rings per part: outer ring then holes
	gw    int      // grid cells per side
	cellW float64
	cellH float64
	cells []cellState
}

type cellState uint8

const (
	cellEdge cellState = iota // an edge's bounds touch the cell: test the rings
	cellIn
	cellOut
)

func preparePolygon(mp orb.MultiPolygon) preparedPolygon {
	pp := preparedPolygon{bound: mp.Bound()}
	for _, poly := range mp {
		var rs []ring
		for _, r := range poly {
			if len(r) >= 4 {
				rs = append(rs, newRing(r))
			}
		}
		if len(rs) > 0 {
			pp.parts = append(pp.parts, rs)
		}
	}
	pp.buildGrid()
	return pp
}

func (pp *preparedPolygon) buildGrid() {
	edges := 0
	for _, rs := range pp.parts {
		for _, r := range rs {
			edges += len(r.pts) - 1
		}
	}
	w, h := pp.bound.Max[0]-pp.bound.Min[0], pp.bound.Max[1]-pp.bound.Min[1]
	if edges < 32 || w <= 0 || h <= 0 {
		return // small polygons test fast enough without a grid
	}
	g := max(8, min(128, int(2*math.Sqrt(float64(edges)))))
	pp.gw, pp.cellW, pp.cellH = g, w/float64(g), h/float64(g)
	touched := make([]bool, g*g)
	for _, rs := range pp.parts {
		for _, r := range rs {
			for i := 0; i+1 < len(r.pts); i++ {
				a, b := r.pts[i], r.pts[i+1]
				x0, y0 := pp.cell(math.Min(a[0], b[0]), math.Min(a[1], b[1]))
				x1, y1 := pp.cell(math.Max(a[0], b[0]), math.Max(a[1], b[1]))
				for y := y0; y <= y1; y++ {
					for x := x0; x <= x1; x++ {
						touched[y*g+x] = true
					}
				}
			}
		}
	}
	// A cell no edge touches is wholly inside or wholly outside, and its
	// centre says which. cell() is monotonic, so every point of an edge maps
	// into the cells of the edge's bounds: no edge can pass unmarked.
	pp.cells = make([]cellState, g*g)
	for y := 0; y < g; y++ {
		for x := 0; x < g; x++ {
			i := y*g + x
			if touched[i] {
				continue // cellEdge
			}
			c := orb.Point{pp.bound.Min[0] + (float64(x)+0.5)*pp.cellW, pp.bound.Min[1] + (float64(y)+0.5)*pp.cellH}
			if pp.ringsContain(c) {
				pp.cells[i] = cellIn
			} else {
				pp.cells[i] = cellOut
			}
		}
	}
}

func (pp *preparedPolygon) cell(x, y float64) (int, int) {
	cx := int((x - pp.bound.Min[0]) / pp.cellW)
	cy := int((y - pp.bound.Min[1]) / pp.cellH)
	return max(0, min(pp.gw-1, cx)), max(0, min(pp.gw-1, cy))
}

// contains reports whether p is inside the multi-polygon (boundary included).
func (pp *preparedPolygon) contains(p orb.Point) bool {
	if !pp.bound.Contains(p) {
		return false
	}
	if pp.cells != nil {
		x, y := pp.cell(p[0], p[1])
		switch pp.cells[y*pp.gw+x] {
		case cellIn:
			return true
		case cellOut:
			return false
		}
	}
	return pp.ringsContain(p)
}

// ringsContain applies the even-odd rule over the rings of each part, so holes
// and self-intersecting rings need no special case; a point is inside when it
// is inside any part, and boundary points are inside.
func (pp *preparedPolygon) ringsContain(p orb.Point) bool {
	for _, rs := range pp.parts {
		odd := false
		for i := range rs {
			o, on := rs[i].crossings(p)
			if on {
				return true
			}
			if o {
				odd = !odd
			}
		}
		if odd {
			return true
		}
	}
	return false
}
