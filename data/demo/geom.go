package demo

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/paulmach/orb"
)

// Small plane geometry in metres. orb.Point is used for both metres and
// lon/lat; the world type converts between them.

func sub(a, b orb.Point) orb.Point             { return orb.Point{a[0] - b[0], a[1] - b[1]} }
func add(a, b orb.Point) orb.Point             { return orb.Point{a[0] + b[0], a[1] + b[1]} }
func scale(a orb.Point, k float64) orb.Point   { return orb.Point{a[0] * k, a[1] * k} }
func dot(a, b orb.Point) float64               { return a[0]*b[0] + a[1]*b[1] }
func norm(a orb.Point) float64                 { return math.Hypot(a[0], a[1]) }
func dist(a, b orb.Point) float64              { return norm(sub(a, b)) }
func leftNormal(d orb.Point) orb.Point         { return orb.Point{-d[1], d[0]} }
func lerp(a, b orb.Point, t float64) orb.Point { return add(a, scale(sub(b, a), t)) }
func heading(a, b orb.Point) float64           { return math.Atan2(b[1]-a[1], b[0]-a[0]) }

// bilinear maps (u, v) in the unit square into the quad c00, c01, c11, c10;
// for a convex quad the result lies inside it.
func bilinear(q [4]orb.Point, u, v float64) orb.Point {
	bottom := lerp(q[0], q[1], u)
	top := lerp(q[3], q[2], u)
	return lerp(bottom, top, v)
}

// segDist is the distance from p to the segment ab.
func segDist(p, a, b orb.Point) float64 {
	ab := sub(b, a)
	l2 := dot(ab, ab)
	if l2 == 0 {
		return dist(p, a)
	}
	t := math.Max(0, math.Min(1, dot(sub(p, a), ab)/l2))
	return dist(p, add(a, scale(ab, t)))
}

// lineDist is the distance from p to a polyline.
func lineDist(p orb.Point, line []orb.Point) float64 {
	d := math.Inf(1)
	for i := 1; i < len(line); i++ {
		d = math.Min(d, segDist(p, line[i-1], line[i]))
	}
	return d
}

// clearOf reports whether p is at least m from every segment of line. A
// box test skips almost all segments: this runs for every address near a
// boundary.
func clearOf(line []orb.Point, p orb.Point, m float64) bool {
	for i := 1; i < len(line); i++ {
		a, b := line[i-1], line[i]
		if (a[0] < p[0]-m && b[0] < p[0]-m) || (a[0] > p[0]+m && b[0] > p[0]+m) ||
			(a[1] < p[1]-m && b[1] < p[1]-m) || (a[1] > p[1]+m && b[1] > p[1]+m) {
			continue
		}
		if segDist(p, a, b) < m {
			return false
		}
	}
	return true
}

// ringContains is the crossing-number test on a closed ring.
func ringContains(ring []orb.Point, p orb.Point) bool {
	in := false
	for i := 1; i < len(ring); i++ {
		a, b := ring[i-1], ring[i]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])/(b[1]-a[1])*(b[0]-a[0])
			if p[0] < x {
				in = !in
			}
		}
	}
	return in
}

// polyline is a line with cumulative lengths, for picking points by arc
// length.
type polyline struct {
	pts []orb.Point
	cum []float64 // cum[i] is the length from pts[0] to pts[i]
}

func newPolyline(pts []orb.Point) polyline {
	cum := make([]float64, len(pts))
	for i := 1; i < len(pts); i++ {
		cum[i] = cum[i-1] + dist(pts[i-1], pts[i])
	}
	return polyline{pts: pts, cum: cum}
}

func (l polyline) length() float64 { return l.cum[len(l.cum)-1] }

// at returns the point at arc length s and the unit direction there.
func (l polyline) at(s float64) (p, dir orb.Point) {
	i := sort.SearchFloat64s(l.cum, s) // first cum >= s
	i = max(1, min(i, len(l.pts)-1))
	a, b := l.pts[i-1], l.pts[i]
	seg := l.cum[i] - l.cum[i-1]
	if seg == 0 {
		return a, orb.Point{1, 0}
	}
	t := (s - l.cum[i-1]) / seg
	return lerp(a, b, t), scale(sub(b, a), 1/seg)
}

// prefix returns the part of the line up to arc length s.
func (l polyline) prefix(s float64) []orb.Point {
	if s >= l.length() {
		return append([]orb.Point(nil), l.pts...)
	}
	i := sort.SearchFloat64s(l.cum, s)
	out := append([]orb.Point(nil), l.pts[:i]...)
	p, _ := l.at(s)
	return append(out, p)
}

// wiggle returns a line from a to b with inner vertices about spacing apart,
// offset sideways by at most amp·|ab|·sin(πt). The sine pins the ends and
// keeps the line inside a thin rhombus around ab (half-angle atan(amp·π)),
// which is why two boundary lines meeting at a cell corner cannot cross. The
// vertices advance monotonically along ab, so the line cannot cross itself.
// rough adds per-vertex jitter, as field boundaries and streams have.
func wiggle(r *rand.Rand, a, b orb.Point, amp, spacing, rough float64, minInner int) (line []orb.Point, dmax float64) {
	d := sub(b, a)
	l := norm(d)
	k := max(minInner, int(l/spacing))
	n := scale(leftNormal(d), 1/l)
	dmax = amp * l
	// meanders from a field wide down to a stream's bends
	var freq, phase [4]float64
	weight := [4]float64{1, 0.5, 0.25, 0.12}
	for m := range freq {
		freq[m] = float64(1 + 3*m*m + r.IntN(2+3*m))
		phase[m] = r.Float64() * 2 * math.Pi
	}
	line = make([]orb.Point, 0, k+2)
	line = append(line, a)
	for i := 1; i <= k; i++ {
		t := (float64(i) + 0.6*(r.Float64()-0.5)) / float64(k+1)
		w := 0.0
		for m := range freq {
			w += weight[m] * math.Sin(math.Pi*freq[m]*t+phase[m])
		}
		w = w/1.87 + rough*(2*r.Float64()-1)
		w = math.Max(-1, math.Min(1, w))
		o := w * dmax * math.Sin(math.Pi*t)
		line = append(line, add(add(a, scale(d, t)), scale(n, o)))
	}
	return append(line, b), dmax
}

// walk lays a gently winding road from start, about length long, in steps,
// stopping before the first vertex for which inside is false. It wanders by
// up to curl radians a step but is pulled back to its course, so it does
// not spiral.
func walk(r *rand.Rand, start orb.Point, course, length, step, curl float64, inside func(orb.Point) bool) []orb.Point {
	pts := []orb.Point{start}
	h, p := course, start
	for d := 0.0; d < length; d += step {
		h += curl*(2*r.Float64()-1) + 0.3*(course-h)
		q := orb.Point{p[0] + step*math.Cos(h), p[1] + step*math.Sin(h)}
		if !inside(q) {
			break
		}
		pts = append(pts, q)
		p = q
	}
	return pts
}
