package geo

// Internal test: it also checks the triangulation behind EMST, which is not
// exported.

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestEMSTHandComputed(t *testing.T) {
	for _, tc := range []struct {
		name string
		pts  []orb.Point
		want float64
	}{
		{"Empty", nil, 0},
		{"One", []orb.Point{{3, 4}}, 0},
		{"Two", []orb.Point{{0, 0}, {3, 4}}, 5},
		{"RightTriangle", []orb.Point{{0, 0}, {3, 0}, {0, 4}}, 7},
		// Four spokes of sqrt(0.5) beat any side of length 1.
		{"UnitSquareAndCentre", []orb.Point{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0.5, 0.5}}, 4 * math.Sqrt(0.5)},
		{"CollinearUnsorted", []orb.Point{{0, 0}, {3, 0}, {1, 0}, {7, 0}}, 7},
		{"CollinearVertical", []orb.Point{{5, 9}, {5, 0}, {5, 2}}, 9},
		{"CollinearDiagonal", []orb.Point{{0, 0}, {3, 4}, {-3, -4}, {6, 8}}, 15},
		{"Duplicates", []orb.Point{{0, 0}, {0, 0}, {2, 0}, {2, 0}, {2, 3}}, 5},
		{"AllIdentical", []orb.Point{{1, 1}, {1, 1}, {1, 1}}, 0},
		{"DuplicateCollinear", []orb.Point{{0, 0}, {1, 0}, {1, 0}, {2, 0}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edges, length, complete := emst(tc.pts)
			if !complete {
				t.Error("triangulation incomplete: Prim fallback ran")
			}
			if math.Abs(length-tc.want) > 1e-12 {
				t.Errorf("length = %.15g, want %.15g", length, tc.want)
			}
			checkSpanningTree(t, tc.pts, edges, length)
		})
	}
}

// checkSpanningTree asserts n-1 edges that connect all points and sum to length.
func checkSpanningTree(t *testing.T, pts []orb.Point, edges [][2]int, length float64) {
	t.Helper()
	n := len(pts)
	if want := max(n-1, 0); len(edges) != want {
		t.Fatalf("%d edges for %d points, want %d", len(edges), n, want)
	}
	if n == 0 {
		return
	}
	uf := newUnionFind(n)
	var sum float64
	for _, e := range edges {
		if e[0] < 0 || e[0] >= n || e[1] < 0 || e[1] >= n {
			t.Fatalf("edge %v out of range", e)
		}
		if !uf.union(int32(e[0]), int32(e[1])) {
			t.Fatalf("edge %v closes a cycle", e)
		}
		sum += math.Sqrt(dist2(pts[e[0]], pts[e[1]]))
	}
	if math.Abs(sum-length) > 1e-9*max(1, length) {
		t.Fatalf("edges sum to %g, reported length %g", sum, length)
	}
}

// testPointSets are inputs that are hard for a Delaunay triangulation:
// co-circular grids, duplicates, near-collinear points and large offsets.
func testPointSets() map[string][]orb.Point {
	sets := map[string][]orb.Point{}
	r := rand.New(rand.NewPCG(1, 2))
	uniform := func(n int, w float64) []orb.Point {
		p := make([]orb.Point, n)
		for i := range p {
			p[i] = orb.Point{r.Float64() * w, r.Float64() * w}
		}
		return p
	}
	sets["Uniform2000"] = uniform(2000, 1000)
	var grid []orb.Point
	for x := range 40 {
		for y := range 30 {
			grid = append(grid, orb.Point{float64(x), float64(y)})
		}
	}
	sets["Grid40x30"] = grid
	sets["GridWithDuplicates"] = append(append([]orb.Point{}, grid...), grid[:300]...)
	var utm []orb.Point // metres in UTM 32N, rounded to cm as in address files
	for range 1500 {
		utm = append(utm, orb.Point{
			math.Round((595000+r.Float64()*10000)*100) / 100,
			math.Round((6181000+r.Float64()*25000)*100) / 100,
		})
	}
	sets["UTMCentimetres"] = utm
	var clusters []orb.Point // villages: dense clusters far apart
	for c := range 12 {
		cx, cy := r.Float64()*20000, r.Float64()*20000
		for range 100 + 20*c {
			clusters = append(clusters, orb.Point{cx + r.NormFloat64()*80, cy + r.NormFloat64()*80})
		}
	}
	sets["Clusters"] = clusters
	var circle []orb.Point
	for i := range 64 {
		a := 2 * math.Pi * float64(i) / 64
		circle = append(circle, orb.Point{100 * math.Cos(a), 100 * math.Sin(a)})
	}
	sets["Circle"] = append(circle, orb.Point{0, 0})
	var line []orb.Point // collinear in exact arithmetic up to rounding of 1e-3*x
	for range 500 {
		x := r.Float64() * 1e4
		line = append(line, orb.Point{x, 1e-3 * x})
	}
	sets["NearlyCollinear"] = line
	var street []orb.Point // one straight street plus houses on both sides
	for i := range 300 {
		x := float64(i) * 7
		street = append(street, orb.Point{x, 0}, orb.Point{x + 3, 12}, orb.Point{x + 3, -12})
	}
	sets["Street"] = street
	return sets
}

func TestEMSTMatchesPrim(t *testing.T) {
	for name, pts := range testPointSets() {
		t.Run(name, func(t *testing.T) {
			edges, length, complete := emst(pts)
			if !complete {
				t.Error("triangulation incomplete: Prim fallback ran")
			}
			checkSpanningTree(t, pts, edges, length)
			_, want := PrimMST(pts)
			if rel := math.Abs(length-want) / want; rel > 1e-9 {
				t.Errorf("EMST length %.9f, Prim %.9f (relative difference %.2g)", length, want, rel)
			}
		})
	}
}

func TestEMSTRandomSeeds(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("Seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			n := 2 + r.IntN(400)
			pts := make([]orb.Point, n)
			for i := range pts {
				// Integer coordinates in a small box: many ties and duplicates.
				pts[i] = orb.Point{float64(r.IntN(30)), float64(r.IntN(30))}
			}
			edges, length, complete := emst(pts)
			if !complete {
				t.Error("triangulation incomplete: Prim fallback ran")
			}
			checkSpanningTree(t, pts, edges, length)
			if _, want := PrimMST(pts); math.Abs(length-want) > 1e-9*want {
				t.Errorf("EMST length %.12g, Prim %.12g", length, want)
			}
		})
	}
}

// TestTriangulate checks the triangulation of hard inputs.
func TestTriangulate(t *testing.T) {
	for name, pts := range testPointSets() {
		if name == "GridWithDuplicates" {
			continue // duplicates are removed before triangulating
		}
		t.Run(name, func(t *testing.T) {
			tri, half, ok := triangulate(pts)
			if !ok {
				t.Fatal("no triangulation")
			}
			checkTriangulation(t, pts, tri, half)
		})
	}
}

// TestInsertInside covers the three ways a point that is not outside the
// hull is added: inside a triangle, on an interior edge, on a hull edge.
func TestInsertInside(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []orb.Point
	}{
		{"InsideTriangle", []orb.Point{{1, 1.5}}},
		{"OnInteriorEdge", []orb.Point{{2, 2}}}, // on both diagonals, so on the one present
		{"OnHullEdge", []orb.Point{{2, 0}}},
		{"Sequence", []orb.Point{{2, 0}, {2, 2}, {0, 1}, {1, 1}, {3, 1}, {4, 2}, {2, 4}, {1, 0}, {3, 3}, {0, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pts := []orb.Point{{0, 0}, {4, 0}, {4, 4}, {0, 4}}
			st := sweepHull(pts)
			for _, x := range tc.extra {
				pts = append(pts, x)
				st.p = pts
				if !st.insertInside(int32(len(pts) - 1)) {
					t.Fatalf("could not insert %v", x)
				}
				checkTriangulation(t, pts, st.tri, st.half)
			}
		})
	}
}

// checkTriangulation asserts counter-clockwise triangles, symmetric
// half-edges, every point used (Euler's formula) and every interior edge
// locally Delaunay.
func checkTriangulation(t *testing.T, pts []orb.Point, tri, half []int32) {
	t.Helper()
	hull := 0
	for e := range tri {
		h := half[e]
		if h == -1 {
			hull++
			continue
		}
		if half[h] != int32(e) {
			t.Fatalf("half-edge %d -> %d -> %d", e, h, half[h])
		}
		if tri[e] != tri[nextHalfedge(h)] || tri[h] != tri[nextHalfedge(int32(e))] {
			t.Fatalf("half-edges %d and %d do not join the same points", e, h)
		}
		// The far point of the neighbour must not be inside this triangle's circle.
		t0 := int32(e) - int32(e)%3
		far := tri[nextHalfedge(nextHalfedge(h))]
		if dtInCircle(pts[tri[t0]], pts[tri[t0+1]], pts[tri[t0+2]], pts[far]) > 0 {
			t.Fatalf("edge %d is not Delaunay", e)
		}
	}
	for k := 0; k < len(tri); k += 3 {
		if dtOrient(pts[tri[k]], pts[tri[k+1]], pts[tri[k+2]]) <= 0 {
			t.Fatalf("triangle %d is not counter-clockwise", k/3)
		}
	}
	if got, want := len(tri)/3, 2*len(pts)-hull-2; got != want {
		t.Errorf("%d triangles, Euler wants %d for %d points and %d hull edges", got, want, len(pts), hull)
	}
}

func TestPredicatesExact(t *testing.T) {
	// Points so close to a line that the naive determinant is pure rounding
	// noise; the exact sign comes from the big.Int path.
	a := orb.Point{0.5, 0.5}
	b := orb.Point{12, 12}
	c := orb.Point{24, 24}
	if got := dtOrient(a, b, c); got != 0 {
		t.Errorf("orient of collinear points = %g, want 0", got)
	}
	d := orb.Point{24, math.Nextafter(24, 25)}
	if got := dtOrient(a, b, d); got <= 0 {
		t.Errorf("orient with d just above the line = %g, want > 0", got)
	}
	// Four co-circular points of a unit square, and one just inside.
	sq := []orb.Point{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	if got := dtInCircle(sq[0], sq[1], sq[2], sq[3]); got != 0 {
		t.Errorf("incircle of co-circular points = %g, want 0", got)
	}
	in := orb.Point{math.Nextafter(0, 1), 1}
	if got := dtInCircle(sq[0], sq[1], sq[2], in); got <= 0 {
		t.Errorf("incircle of a point just inside = %g, want > 0", got)
	}
	if got := dtInCircleExact(sq[0], sq[1], sq[2], orb.Point{0.5, 0.5}); got <= 0 {
		t.Errorf("exact incircle of the centre = %g, want > 0", got)
	}
	if got := dtOrientExact(orb.Point{0, 0}, orb.Point{1, 0}, orb.Point{0, -1e-300}); got >= 0 {
		t.Errorf("exact orient of a point 1e-300 below = %g, want < 0", got)
	}
	// The allocation-free expansion path agrees with big.Int on triples
	// that are collinear up to rounding, in UTM-like magnitudes.
	r := rand.New(rand.NewPCG(5, 6))
	signs := map[float64]int{}
	for range 20000 {
		pt := func() orb.Point {
			x := 595000 + r.Float64()*10000
			return orb.Point{x, 6181000 + 0.731*x}
		}
		a, b, c := pt(), pt(), pt()
		if r.IntN(2) == 0 { // exactly collinear on a lattice line, or one unit off
			dx, dy := float64(r.IntN(1000)), float64(r.IntN(1000))
			k, m := float64(r.IntN(100)+1), float64(r.IntN(100)+1)
			b = orb.Point{a[0] + k*dx, a[1] + k*dy}
			c = orb.Point{a[0] + m*dx, a[1] + m*dy + float64(r.IntN(3)-1)*0x1p-20}
		}
		got, want := dtOrientExact(a, b, c), dtOrientBig(a, b, c)
		if got > 0 {
			got = 1
		} else if got < 0 {
			got = -1
		}
		if got != want {
			t.Fatalf("orient %v %v %v: expansion %g, big.Int %g", a, b, c, got, want)
		}
		signs[want]++
	}
	if len(signs) != 3 {
		t.Errorf("signs seen %v, want -1, 0 and 1", signs)
	}
}

func TestEMSTNearlyCollinearLarge(t *testing.T) {
	// Many points on a line up to rounding: the seed circle is huge, so
	// nearly every point is deferred and inserted by walking.
	r := rand.New(rand.NewPCG(11, 12))
	pts := make([]orb.Point, 20_000)
	for i := range pts {
		x := r.Float64() * 1e4
		pts[i] = orb.Point{x, 0.37*x + 5}
	}
	start := time.Now()
	edges, length, complete := emst(pts)
	t.Logf("%d nearly collinear points in %v", len(pts), time.Since(start))
	if !complete {
		t.Fatal("triangulation incomplete: Prim fallback ran")
	}
	checkSpanningTree(t, pts, edges, length)
	// The tree is the chain along the line.
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b orb.Point) int { return cmp.Compare(a[0], b[0]) })
	var chain float64
	for i := 1; i < len(s); i++ {
		chain += math.Sqrt(dist2(s[i-1], s[i]))
	}
	if math.Abs(length-chain) > 1e-9*chain {
		t.Errorf("EMST %.9f, chain %.9f", length, chain)
	}
}
