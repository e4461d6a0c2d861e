// Package walk splits a set of stops into walks for door-to-door
// campaigning and orders each along a short route. It is pure: no store,
// no I/O; distances come from a function so that roads can be used. It
// imports only the standard library and orb.
package walk

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Stop is one address to knock on.
type Stop struct {
	ID    string
	Point orb.Point // lon, lat
	Units int
}

// MatrixFunc returns the symmetric matrix of distances in metres between
// the stops idx (indexes into the stops given to Plan) of one walk.
type MatrixFunc func(idx []int) [][]float64

// Options controls Plan.
type Options struct {
	Size   int        // at most this many stops per walk (>= 1)
	Matrix MatrixFunc // nil: straight lines (Haversine)
	// DriveM is the leg length from which a volunteer would drive rather
	// than walk; 0 means DefaultDriveM.
	DriveM float64
}

// DefaultDriveM is the leg length (metres) from which a leg counts as a
// drive between hamlets.
const DefaultDriveM = 400

// MaxSize bounds the stops of one walk: a volunteer's round is an
// afternoon, and the ordering is quadratic per walk.
const MaxSize = 200

// Walk is one ordered round.
type Walk struct {
	Stops   []Stop    // in walking order
	Legs    []float64 // Legs[i] is the distance from Stops[i] to Stops[i+1]
	Drive   []bool    // Drive[i]: the leg after Stops[i] is driven
	LengthM float64   // the sum of Legs
}

// Plan splits stops into compact walks of at most opt.Size stops and
// orders each along a short route. The walks come in the order of the
// bisection (neighbouring walks are neighbouring turf).
func Plan(stops []Stop, opt Options) ([]Walk, error) {
	if opt.Size < 1 || opt.Size > MaxSize {
		return nil, fmt.Errorf("walk size %d: want 1 to %d", opt.Size, MaxSize)
	}
	for _, s := range stops {
		if !finite(s.Point) {
			return nil, fmt.Errorf("stop %s: position is not a finite longitude/latitude", s.ID)
		}
	}
	if opt.Matrix == nil {
		opt.Matrix = func(idx []int) [][]float64 {
			pts := make([]orb.Point, len(idx))
			for i, k := range idx {
				pts[i] = stops[k].Point
			}
			return HaversineMatrix(pts)
		}
	}
	if opt.DriveM == 0 {
		opt.DriveM = DefaultDriveM
	}
	groups := Split(stops, opt.Size)
	walks := make([]Walk, len(groups))
	for g, grp := range groups {
		m := opt.Matrix(grp)
		order := Order(m)
		w := Walk{Stops: make([]Stop, len(order))}
		for i, k := range order {
			w.Stops[i] = stops[grp[k]]
			if i > 0 {
				d := m[order[i-1]][k]
				w.Legs = append(w.Legs, d)
				w.Drive = append(w.Drive, d >= opt.DriveM)
				w.LengthM += d
			}
		}
		walks[g] = w
	}
	return walks, nil
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && !math.IsInf(p[0], 0) && !math.IsInf(p[1], 0) &&
		p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

// Split divides stops into ceil(n/size) groups (of indexes into stops) of at most size stops by
// recursive bisection along the longer side of the bounding box (in a
// local equirectangular projection, so degrees of longitude are not
// mistaken for metres). Each cut gives the halves stop counts in
// proportion to the walks they will hold, so every walk ends up with
// size or nearly size stops. The input is not modified.
func Split(stops []Stop, size int) [][]int {
	if len(stops) == 0 || size < 1 {
		return nil
	}
	lat0 := 0.0
	for _, s := range stops {
		lat0 += s.Point[1]
	}
	kx := math.Cos(lat0 / float64(len(stops)) * math.Pi / 180)
	type item struct {
		k    int
		x, y float64
	}
	items := make([]item, len(stops))
	for i, s := range stops {
		items[i] = item{i, s.Point[0] * kx, s.Point[1]}
	}
	// Sort by id first so the result does not depend on input order.
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(stops[a.k].ID, stops[b.k].ID) })
	var out [][]int
	var rec func(part []item, k int)
	rec = func(part []item, k int) {
		if k <= 1 {
			g := make([]int, len(part))
			for i, it := range part {
				g[i] = it.k
			}
			out = append(out, g)
			return
		}
		minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, it := range part {
			minX, maxX = min(minX, it.x), max(maxX, it.x)
			minY, maxY = min(minY, it.y), max(maxY, it.y)
		}
		byX := maxX-minX >= maxY-minY
		slices.SortStableFunc(part, func(a, b item) int {
			if byX {
				return cmp.Or(cmp.Compare(a.x, b.x), cmp.Compare(a.y, b.y))
			}
			return cmp.Or(cmp.Compare(a.y, b.y), cmp.Compare(a.x, b.x))
		})
		k1 := k / 2
		n1 := int(math.Round(float64(len(part)) * float64(k1) / float64(k)))
		n1 = max(n1, len(part)-(k-k1)*size) // the right half must fit its walks
		n1 = min(n1, k1*size)
		rec(part[:n1], k1)
		rec(part[n1:], k-k1)
	}
	rec(items, (len(items)+size-1)/size)
	return out
}

// HaversineMatrix is the matrix of great-circle distances in metres.
func HaversineMatrix(pts []orb.Point) [][]float64 {
	m := newMatrix(len(pts))
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			d := Haversine(pts[i], pts[j])
			m[i][j], m[j][i] = d, d
		}
	}
	return m
}

// Haversine is the great-circle distance in metres on a sphere of the
// mean earth radius.
func Haversine(a, b orb.Point) float64 {
	const r = 6371008.8
	la1, la2 := a[1]*math.Pi/180, b[1]*math.Pi/180
	dla, dlo := la2-la1, (b[0]-a[0])*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

func newMatrix(n int) [][]float64 {
	flat := make([]float64, n*n)
	m := make([][]float64, n)
	for i := range m {
		m[i] = flat[i*n : (i+1)*n]
	}
	return m
}

// PathLength is the length of the open path visiting order under m.
func PathLength(m [][]float64, order []int) float64 {
	var d float64
	for i := 1; i < len(order); i++ {
		d += m[order[i-1]][order[i]]
	}
	return d
}
