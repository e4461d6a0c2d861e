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
type preparedPolygon struct {
	bound orb.Bound
	parts [][]ring // rings per part: outer ring then holes
}

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
	return pp
}

// contains applies the even-odd rule over the rings of each part, so holes
// and self-intersecting rings need no special case; a point is inside when it
// is inside any part, and boundary points are inside.
func (pp *preparedPolygon) contains(p orb.Point) bool {
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
