package geo

import (
	"cmp"
	"math"
	"math/big"
	"slices"

	"github.com/paulmach/orb"
)

// EMST returns a Euclidean minimum spanning tree of planar points (already
// in a metric CRS) as len(pts)-1 edges of indices into pts, and its total
// length in the points' units. Coincident points are joined by zero-length
// edges; collinear inputs give the chain along the line.
//
// It runs in O(n log n): the EMST is a subgraph of the Delaunay
// triangulation, so Kruskal's algorithm runs over the triangulation's ~3n
// edges instead of all n² pairs. The triangulation uses exact orientation
// and in-circle tests (a floating-point filter with exact fallbacks), so
// grids, co-circular and nearly collinear inputs are handled correctly.
// Coordinates must be finite. EMST is safe for concurrent use.
func EMST(pts []orb.Point) (edges [][2]int, length float64) {
	edges, length, _ = emst(pts)
	return edges, length
}

// emst is EMST that also reports whether the triangulation was complete;
// false means the O(n²) fallback ran, which tests assert never happens.
func emst(pts []orb.Point) ([][2]int, float64, bool) {
	n := len(pts)
	if n < 2 {
		return nil, 0, true
	}
	// Coincident points are joined by zero-length edges up front: the
	// triangulation needs distinct points.
	edges := make([][2]int, 0, n-1)
	uniq := make([]int32, 0, n)
	first := make(map[orb.Point]int32, n)
	for i, p := range pts {
		if j, ok := first[p]; ok {
			edges = append(edges, [2]int{int(j), i})
			continue
		}
		first[p] = int32(i)
		uniq = append(uniq, int32(i))
	}
	m := len(uniq)
	if m == 1 {
		return edges, 0, true
	}
	up := make([]orb.Point, m)
	for k, i := range uniq {
		up[k] = pts[i]
	}

	tri, half, ok := triangulate(up)
	var cand []mstEdge
	complete := true
	if !ok {
		// Collinear: the lexicographic order is the order along the line.
		order := make([]int32, m)
		for k := range order {
			order[k] = int32(k)
		}
		slices.SortFunc(order, func(a, b int32) int {
			if c := cmp.Compare(up[a][0], up[b][0]); c != 0 {
				return c
			}
			return cmp.Compare(up[a][1], up[b][1])
		})
		cand = make([]mstEdge, m-1)
		for k := 1; k < m; k++ {
			cand[k-1] = mstEdge{a: order[k-1], b: order[k]}
		}
	} else {
		all := make([]mstEdge, 0, len(tri)/2+m)
		keys := make([]radixItem, 0, cap(all))
		for e, a := range tri {
			if h := half[e]; h < int32(e) { // each undirected edge once; hull edges have h == -1
				b := tri[nextHalfedge(int32(e))]
				w := dist2(up[a], up[b])
				keys = append(keys, radixItem{key: math.Float64bits(w), v: int32(len(all))})
				all = append(all, mstEdge{w: w, a: a, b: b})
			}
		}
		radixSort(keys)
		cand = make([]mstEdge, len(all))
		for k, it := range keys {
			cand[k] = all[it.v]
		}
	}
	uf := newUnionFind(m)
	var local [][2]int32
	for _, c := range cand {
		if uf.union(c.a, c.b) {
			local = append(local, [2]int32{c.a, c.b})
			if len(local) == m-1 {
				break
			}
		}
	}
	if len(local) != m-1 {
		// A point the triangulation skipped: never observed, but a wrong
		// answer would be worse than a slow one.
		complete = false
		pe, _ := PrimMST(up)
		local = local[:0]
		for _, e := range pe {
			local = append(local, [2]int32{int32(e[0]), int32(e[1])})
		}
	}
	var length float64
	for _, e := range local {
		a, b := uniq[e[0]], uniq[e[1]]
		edges = append(edges, [2]int{int(a), int(b)})
		length += math.Sqrt(dist2(pts[a], pts[b]))
	}
	return edges, length, complete
}

// PrimMST is the naive O(n²) Prim's algorithm over all pairs: the baseline
// that tests and benchmarks compare EMST with. Same result contract as EMST.
func PrimMST(pts []orb.Point) (edges [][2]int, length float64) {
	n := len(pts)
	if n < 2 {
		return nil, 0
	}
	best := make([]float64, n)
	from := make([]int, n)
	done := make([]bool, n)
	for i := range best {
		best[i] = math.Inf(1)
	}
	edges = make([][2]int, 0, n-1)
	cur := 0
	done[0] = true
	for range n - 1 {
		next, nd := -1, math.Inf(1)
		for j := range n {
			if done[j] {
				continue
			}
			if d := dist2(pts[cur], pts[j]); d < best[j] {
				best[j], from[j] = d, cur
			}
			if best[j] < nd || next < 0 {
				next, nd = j, best[j]
			}
		}
		done[next] = true
		edges = append(edges, [2]int{from[next], next})
		length += math.Sqrt(nd)
		cur = next
	}
	return edges, length
}

type mstEdge struct {
	w    float64 // squared length
	a, b int32
}

func dist2(a, b orb.Point) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

// unionFind is a disjoint-set forest with union by size and path halving.
type unionFind struct {
	parent []int32
	size   []int32
}

func newUnionFind(n int) *unionFind {
	uf := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range uf.parent {
		uf.parent[i] = int32(i)
		uf.size[i] = 1
	}
	return uf
}

func (uf *unionFind) find(x int32) int32 {
	for uf.parent[x] != x {
		uf.parent[x] = uf.parent[uf.parent[x]]
		x = uf.parent[x]
	}
	return x
}

// union joins the sets of a and b and reports whether they were apart.
func (uf *unionFind) union(a, b int32) bool {
	a, b = uf.find(a), uf.find(b)
	if a == b {
		return false
	}
	if uf.size[a] < uf.size[b] {
		a, b = b, a
	}
	uf.parent[b] = a
	uf.size[a] += uf.size[b]
	return true
}

// triangulate computes the Delaunay triangulation of distinct points with
// the sweep-hull algorithm popularised by Delaunator
// (github.com/mapbox/delaunator): points are added in order of distance
// from a seed triangle, each outside the current convex hull, and edges are
// flipped until locally Delaunay. Points the sweep finds inside the hull
// (the float distance order is inexact for nearly collinear inputs) are
// inserted afterwards by Lawson's method. Triangles are counter-clockwise;
// half[e] is the opposite half-edge of e or -1 on the hull. ok is false
// when all points are collinear (there are no triangles).
func triangulate(p []orb.Point) (tri, half []int32, ok bool) {
	t := sweepHull(p)
	if t == nil {
		return nil, nil, false
	}
	return t.tri, t.half, true
}

// sweepHull builds the triangulation, or returns nil for collinear points.
func sweepHull(p []orb.Point) *dtState {
	n := len(p)
	if n < 3 {
		return nil
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, q := range p {
		minX, maxX = min(minX, q[0]), max(maxX, q[0])
		minY, maxY = min(minY, q[1]), max(maxY, q[1])
	}
	c := orb.Point{(minX + maxX) / 2, (minY + maxY) / 2}

	// Seed: the point nearest the centre, its nearest neighbour, and the
	// point making the smallest circumcircle with them.
	i0, i1, i2 := 0, -1, -1
	for i, d := 1, dist2(c, p[0]); i < n; i++ {
		if di := dist2(c, p[i]); di < d {
			i0, d = i, di
		}
	}
	for i, d := 0, math.Inf(1); i < n; i++ {
		if di := dist2(p[i0], p[i]); i != i0 && di < d {
			i1, d = i, di
		}
	}
	for i, r := 0, math.Inf(1); i < n; i++ {
		if i == i0 || i == i1 {
			continue
		}
		if ri := circumradius2(p[i0], p[i1], p[i]); ri < r && dtOrient(p[i0], p[i1], p[i]) != 0 {
			i2, r = i, ri
		}
	}
	if i2 < 0 {
		return nil
	}
	if dtOrient(p[i0], p[i1], p[i2]) < 0 {
		i1, i2 = i2, i1
	}
	cc := circumcenter(p[i0], p[i1], p[i2])

	byDist := make([]radixItem, n)
	for i := range byDist {
		byDist[i] = radixItem{key: math.Float64bits(dist2(cc, p[i])), v: int32(i)}
	}
	radixSort(byDist)

	maxTri := max(2*n-5, 1)
	t := &dtState{
		p:         p,
		tri:       make([]int32, 0, maxTri*3),
		half:      make([]int32, 0, maxTri*3),
		hullPrev:  make([]int32, n),
		hullNext:  make([]int32, n),
		hullTri:   make([]int32, n),
		hashSize:  max(int(math.Ceil(math.Sqrt(float64(n)))), 1),
		c:         cc,
		edgeStack: make([]int32, 0, 512),
	}
	t.hullHash = make([]int32, t.hashSize)
	for i := range t.hullHash {
		t.hullHash[i] = -1
	}
	a0, a1, a2 := int32(i0), int32(i1), int32(i2)
	t.hullStart = a0
	t.hullNext[a0], t.hullPrev[a2] = a1, a1
	t.hullNext[a1], t.hullPrev[a0] = a2, a2
	t.hullNext[a2], t.hullPrev[a1] = a0, a0
	t.hullTri[a0], t.hullTri[a1], t.hullTri[a2] = 0, 1, 2
	t.hullHash[t.hashKey(p[a0])] = a0
	t.hullHash[t.hashKey(p[a1])] = a1
	t.hullHash[t.hashKey(p[a2])] = a2
	t.addTriangle(a0, a1, a2, -1, -1, -1)

	var deferred []int32
	for _, it := range byDist {
		i := it.v
		if i == a0 || i == a1 || i == a2 {
			continue
		}
		x := p[i]
		// Find a hull edge visible from x, starting near x's angle.
		start := int32(-1)
		key := t.hashKey(x)
		for j := 0; j < t.hashSize; j++ {
			s := t.hullHash[(key+j)%t.hashSize]
			if s != -1 && s != t.hullNext[s] {
				start = s
				break
			}
		}
		if start < 0 {
			start = t.hullStart
		}
		start = t.hullPrev[start]
		e := start
		for {
			q := t.hullNext[e]
			if dtOrient(x, p[e], p[q]) < 0 {
				break
			}
			e = q
			if e == start {
				e = -1
				break
			}
		}
		if e < 0 {
			// Inside or on the hull: the distance order was inexact, as it is
			// for nearly collinear inputs whose seed circle is huge.
			deferred = append(deferred, i)
			continue
		}

		tt := t.addTriangle(e, i, t.hullNext[e], -1, -1, t.hullTri[e])
		t.hullTri[i] = t.legalize(tt + 2)
		t.hullTri[e] = tt

		// Walk forward and backward along the hull adding triangles.
		nx := t.hullNext[e]
		for {
			q := t.hullNext[nx]
			if dtOrient(x, p[nx], p[q]) >= 0 {
				break
			}
			tt = t.addTriangle(nx, i, q, t.hullTri[i], -1, t.hullTri[nx])
			t.hullTri[i] = t.legalize(tt + 2)
			t.hullNext[nx] = nx // removed from the hull
			nx = q
		}
		if e == start {
			for {
				q := t.hullPrev[e]
				if dtOrient(x, p[q], p[e]) >= 0 {
					break
				}
				tt = t.addTriangle(q, i, e, -1, t.hullTri[e], t.hullTri[q])
				t.legalize(tt + 2)
				t.hullTri[q] = tt
				t.hullNext[e] = e
				e = q
			}
		}
		t.hullStart = e
		t.hullPrev[i] = e
		t.hullNext[e] = i
		t.hullPrev[nx] = i
		t.hullNext[i] = nx
		t.hullHash[t.hashKey(x)] = i
		t.hullHash[t.hashKey(p[e])] = e
	}
	// In x order each walk starts next to the previous point, which keeps
	// walks short when many points were deferred.
	slices.SortFunc(deferred, func(a, b int32) int {
		if c := cmp.Compare(p[a][0], p[b][0]); c != 0 {
			return c
		}
		return cmp.Compare(p[a][1], p[b][1])
	})
	for _, i := range deferred {
		t.insertInside(i) // a point it cannot place makes emst fall back to Prim's
	}
	return t
}

// insertInside adds point i, which lies inside or on the boundary of the
// triangulation, by Lawson's method: find its triangle by walking towards
// it, split that triangle (or the two sharing the edge it lies on) and flip
// until Delaunay. It reports false if no triangle holds the point.
func (t *dtState) insertInside(i int32) bool {
	p := t.p
	x := p[i]
	tb := t.walkStart - t.walkStart%3
	var o [3]float64
	found := false
	for steps := 0; steps <= len(t.tri) && !found; steps++ {
		found = true
		for k := range int32(3) {
			e := tb + k
			o[k] = dtOrient(p[t.tri[e]], p[t.tri[nextHalfedge(e)]], x)
			if o[k] < 0 {
				found = false
				if h := t.half[e]; h >= 0 {
					tb = h - h%3
					break
				}
				return false // outside the hull
			}
		}
	}
	if !found { // walk did not converge: scan every triangle
		for tb = 0; tb < int32(len(t.tri)); tb += 3 {
			found = true
			for k := range int32(3) {
				if o[k] = dtOrient(p[t.tri[tb+k]], p[t.tri[nextHalfedge(tb+k)]], x); o[k] < 0 {
					found = false
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return false
		}
	}
	onEdge := int32(-1)
	for k := range int32(3) {
		if o[k] == 0 {
			if onEdge >= 0 {
				return false // on a vertex: duplicates were removed before
			}
			onEdge = tb + k
		}
	}
	if onEdge < 0 {
		// Split (v0, v1, v2) into (v0, v1, x), (v1, v2, x), (v2, v0, x).
		v0, v1, v2 := t.tri[tb], t.tri[tb+1], t.tri[tb+2]
		h1, h2 := t.half[tb+1], t.half[tb+2]
		t.tri[tb+2] = i
		n1 := t.addTriangle(v1, v2, i, h1, -1, tb+1)
		n2 := t.addTriangle(v2, v0, i, h2, tb+2, n1+1)
		t.walkStart = tb
		t.legalize(tb)
		t.legalize(n1)
		t.legalize(n2)
		return true
	}
	// x lies on edge a->b of (a, b, c); its twin b->a belongs to (b, a, d).
	e := onEdge
	en, ep := nextHalfedge(e), nextHalfedge(nextHalfedge(e))
	a, b, c := t.tri[e], t.tri[en], t.tri[ep]
	hBC, hCA := t.half[en], t.half[ep]
	u := t.half[e]
	// (a, x, c) replaces (a, b, c); (x, b, c) is new.
	t.tri[tb], t.tri[tb+1], t.tri[tb+2] = a, i, c
	t.link(tb+2, hCA)
	t2 := t.addTriangle(i, b, c, -1, hBC, tb+1)
	t.walkStart = tb
	if u < 0 {
		t.half[tb] = -1
		t.legalize(tb + 2)
		t.legalize(t2 + 1)
		return true
	}
	ub := u - u%3
	un, up := nextHalfedge(u), nextHalfedge(nextHalfedge(u))
	d := t.tri[up]
	hAD, hDB := t.half[un], t.half[up]
	// (b, x, d) replaces (b, a, d); (x, a, d) is new.
	t.tri[ub], t.tri[ub+1], t.tri[ub+2] = b, i, d
	t.link(ub, t2)
	t.link(ub+2, hDB)
	u2 := t.addTriangle(i, a, d, tb, hAD, ub+1)
	t.legalize(tb + 2)
	t.legalize(t2 + 1)
	t.legalize(ub + 2)
	t.legalize(u2 + 1)
	return true
}

type dtState struct {
	p                           []orb.Point
	tri, half                   []int32
	hullPrev, hullNext, hullTri []int32
	hullHash                    []int32
	hashSize                    int
	hullStart                   int32
	c                           orb.Point
	edgeStack                   []int32
	walkStart                   int32 // a triangle near the last inserted point
}

// hashKey buckets a point by its pseudo-angle around the centre.
func (t *dtState) hashKey(q orb.Point) int {
	dx, dy := q[0]-t.c[0], q[1]-t.c[1]
	a := dx / (math.Abs(dx) + math.Abs(dy))
	if dy > 0 {
		a = 3 - a
	} else {
		a = 1 + a
	}
	k := math.Floor(a / 4 * float64(t.hashSize))
	if !(k >= 0) { // NaN at the centre itself
		return 0
	}
	return int(k) % t.hashSize
}

func (t *dtState) link(a, b int32) {
	t.half[a] = b
	if b != -1 {
		t.half[b] = a
	}
}

func (t *dtState) addTriangle(i0, i1, i2, a, b, c int32) int32 {
	e := int32(len(t.tri))
	t.tri = append(t.tri, i0, i1, i2)
	t.half = append(t.half, -1, -1, -1)
	t.link(e, a)
	t.link(e+1, b)
	t.link(e+2, c)
	return e
}

func nextHalfedge(e int32) int32 {
	if e%3 == 2 {
		return e - 2
	}
	return e + 1
}

// legalize flips edges from half-edge a until every touched pair of
// triangles is Delaunay, and returns the half-edge that replaced a's
// predecessor (as Delaunator does).
func (t *dtState) legalize(a int32) int32 {
	stack := t.edgeStack[:0]
	var ar int32
	for {
		b := t.half[a]
		// a runs pr->pl in triangle (p0, pr, pl); its twin b runs pl->pr in
		// (pl, pr, p1). If p1 lies inside the circle of (p0, pr, pl), the
		// diagonal pr-pl is replaced by p0-p1 and both new outer edges are
		// checked in turn.
		a0 := a - a%3
		ar = a0 + (a+2)%3
		if b == -1 {
			if len(stack) == 0 {
				break
			}
			a = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			continue
		}
		b0 := b - b%3
		al := a0 + (a+1)%3
		bl := b0 + (b+2)%3
		p0, pr, pl, p1 := t.tri[ar], t.tri[a], t.tri[al], t.tri[bl]
		if dtInCircle(t.p[p0], t.p[pr], t.p[pl], t.p[p1]) > 0 {
			t.tri[a] = p1
			t.tri[b] = p0
			hbl := t.half[bl]
			if hbl == -1 { // the flipped edge was on the hull; fix the hull's triangle reference
				e := t.hullStart
				for {
					if t.hullTri[e] == bl {
						t.hullTri[e] = a
						break
					}
					e = t.hullPrev[e]
					if e == t.hullStart {
						break
					}
				}
			}
			t.link(a, hbl)
			t.link(b, t.half[ar])
			t.link(ar, bl)
			stack = append(stack, b0+(b+1)%3)
		} else {
			if len(stack) == 0 {
				break
			}
			a = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
	}
	t.edgeStack = stack
	return ar
}

func circumradius2(a, b, c orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	ex, ey := c[0]-a[0], c[1]-a[1]
	bl, cl := dx*dx+dy*dy, ex*ex+ey*ey
	d := 0.5 / (dx*ey - dy*ex)
	x := (ey*bl - dy*cl) * d
	y := (dx*cl - ex*bl) * d
	r := x*x + y*y
	if math.IsNaN(r) {
		return math.Inf(1)
	}
	return r
}

func circumcenter(a, b, c orb.Point) orb.Point {
	dx, dy := b[0]-a[0], b[1]-a[1]
	ex, ey := c[0]-a[0], c[1]-a[1]
	bl, cl := dx*dx+dy*dy, ex*ex+ey*ey
	d := 0.5 / (dx*ey - dy*ex)
	return orb.Point{a[0] + (ey*bl-dy*cl)*d, a[1] + (dx*cl-ex*bl)*d}
}

// Error bounds of Shewchuk's filters ("Adaptive Precision Floating-Point
// Arithmetic and Fast Robust Geometric Predicates", 1997); eps = 2^-53.
const (
	dtEps           = 1.0 / (1 << 53)
	dtCCWErrBound   = (3 + 16*dtEps) * dtEps
	dtInCCErrBound  = (10 + 96*dtEps) * dtEps
	dtMantissaShift = 53
)

// dtOrient is positive when a, b, c turn counter-clockwise, negative when
// clockwise and zero when collinear; the sign is exact.
func dtOrient(a, b, c orb.Point) float64 {
	l := (b[0] - a[0]) * (c[1] - a[1])
	r := (b[1] - a[1]) * (c[0] - a[0])
	det := l - r
	if bound := dtCCWErrBound * (math.Abs(l) + math.Abs(r)); det > bound || -det > bound {
		return det
	}
	return dtOrientExact(a, b, c)
}

// dtInCircle is positive when d lies inside the circle through the
// counter-clockwise a, b, c, negative outside and zero on it; the sign is
// exact.
func dtInCircle(a, b, c, d orb.Point) float64 {
	adx, ady := a[0]-d[0], a[1]-d[1]
	bdx, bdy := b[0]-d[0], b[1]-d[1]
	cdx, cdy := c[0]-d[0], c[1]-d[1]
	bdxcdy, cdxbdy := bdx*cdy, cdx*bdy
	cdxady, adxcdy := cdx*ady, adx*cdy
	adxbdy, bdxady := adx*bdy, bdx*ady
	alift := adx*adx + ady*ady
	blift := bdx*bdx + bdy*bdy
	clift := cdx*cdx + cdy*cdy
	det := alift*(bdxcdy-cdxbdy) + blift*(cdxady-adxcdy) + clift*(adxbdy-bdxady)
	perm := (math.Abs(bdxcdy)+math.Abs(cdxbdy))*alift +
		(math.Abs(cdxady)+math.Abs(adxcdy))*blift +
		(math.Abs(adxbdy)+math.Abs(bdxady))*clift
	if bound := dtInCCErrBound * perm; det > bound || -det > bound {
		return det
	}
	return dtInCircleExact(a, b, c, d)
}

// exactInts scales float64 values by one power of two so that all become
// integers; sums and products of them are then exact in big.Int, which is
// much faster than big.Rat.
func exactInts(v ...float64) []*big.Int {
	minExp := math.MaxInt
	for _, x := range v {
		if x != 0 {
			_, e := math.Frexp(x)
			minExp = min(minExp, e-dtMantissaShift)
		}
	}
	out := make([]*big.Int, len(v))
	for i, x := range v {
		out[i] = new(big.Int)
		if x == 0 {
			continue
		}
		f, e := math.Frexp(x)
		m := int64(math.Ldexp(f, dtMantissaShift)) // exact: 53 bits
		out[i].SetInt64(m).Lsh(out[i], uint(e-dtMantissaShift-minExp))
	}
	return out
}

// dtOrientExact is the exact sign of the orientation determinant. Within
// ordinary magnitudes it sums the determinant's 16 exact float64 parts
// (differences split by two-sum, products by fused multiply-add) as a
// Shewchuk expansion, without allocating; elsewhere it uses big.Int.
func dtOrientExact(a, b, c orb.Point) float64 {
	ok := true
	for _, x := range [6]float64{a[0], a[1], b[0], b[1], c[0], c[1]} {
		if ax := math.Abs(x); x != 0 && (ax < 1e-100 || ax > 1e100) {
			ok = false
		}
	}
	if ok {
		bx1, bx0 := twoSum(b[0], -a[0])
		by1, by0 := twoSum(b[1], -a[1])
		cx1, cx0 := twoSum(c[0], -a[0])
		cy1, cy0 := twoSum(c[1], -a[1])
		var terms [16]float64
		k := 0
		for _, pq := range [8][2]float64{
			{bx1, cy1}, {bx1, cy0}, {bx0, cy1}, {bx0, cy0},
			{-by1, cx1}, {-by1, cx0}, {-by0, cx1}, {-by0, cx0},
		} {
			hi := pq[0] * pq[1]
			terms[k], terms[k+1] = hi, math.FMA(pq[0], pq[1], -hi)
			k += 2
		}
		return expansionSign(terms[:])
	}
	return dtOrientBig(a, b, c)
}

// twoSum returns a+b rounded and its exact rounding error (Knuth).
func twoSum(a, b float64) (float64, float64) {
	x := a + b
	bv := x - a
	av := x - bv
	return x, (a - av) + (b - bv)
}

// expansionSign returns the sign of the exact sum of terms by growing a
// non-overlapping expansion (Shewchuk's Grow-Expansion with zero
// elimination); its largest component carries the sign.
func expansionSign(terms []float64) float64 {
	var e [32]float64
	n := 0
	for _, q := range terms {
		m := 0
		for i := range n {
			var h float64
			q, h = twoSum(q, e[i])
			if h != 0 {
				e[m] = h
				m++
			}
		}
		if q != 0 {
			e[m] = q
			m++
		}
		n = m
	}
	if n == 0 {
		return 0
	}
	if e[n-1] > 0 {
		return 1
	}
	return -1
}

func dtOrientBig(a, b, c orb.Point) float64 {
	v := exactInts(a[0], a[1], b[0], b[1], c[0], c[1])
	bx := new(big.Int).Sub(v[2], v[0])
	by := new(big.Int).Sub(v[3], v[1])
	cx := new(big.Int).Sub(v[4], v[0])
	cy := new(big.Int).Sub(v[5], v[1])
	l := new(big.Int).Mul(bx, cy)
	r := new(big.Int).Mul(by, cx)
	return float64(l.Cmp(r))
}

func dtInCircleExact(a, b, c, d orb.Point) float64 {
	v := exactInts(a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1])
	sub := func(x, y *big.Int) *big.Int { return new(big.Int).Sub(x, y) }
	mul := func(x, y *big.Int) *big.Int { return new(big.Int).Mul(x, y) }
	add := func(x, y *big.Int) *big.Int { return new(big.Int).Add(x, y) }
	adx, ady := sub(v[0], v[6]), sub(v[1], v[7])
	bdx, bdy := sub(v[2], v[6]), sub(v[3], v[7])
	cdx, cdy := sub(v[4], v[6]), sub(v[5], v[7])
	alift := add(mul(adx, adx), mul(ady, ady))
	blift := add(mul(bdx, bdx), mul(bdy, bdy))
	clift := add(mul(cdx, cdx), mul(cdy, cdy))
	det := mul(alift, sub(mul(bdx, cdy), mul(cdx, bdy)))
	det.Add(det, mul(blift, sub(mul(cdx, ady), mul(adx, cdy))))
	det.Add(det, mul(clift, sub(mul(adx, bdy), mul(bdx, ady))))
	return float64(det.Sign())
}

// radixItem is a sort key with its payload. Keys of non-negative float64s
// are their bit patterns, which sort in the same order.
type radixItem struct {
	key uint64
	v   int32
}

// radixSort sorts by key, ascending and stable: an LSD radix sort with
// 11-bit digits that skips digits all keys share (typically the sign and
// exponent). It is several times faster than a comparison sort here.
func radixSort(a []radixItem) {
	const bits, buckets = 11, 1 << 11
	const passes = (64 + bits - 1) / bits
	if len(a) < 2 {
		return
	}
	var count [passes][buckets]int
	for _, it := range a {
		for p := range passes {
			count[p][(it.key>>(p*bits))&(buckets-1)]++
		}
	}
	buf := make([]radixItem, len(a))
	src, dst := a, buf
	for p := range passes {
		c := &count[p]
		if c[(a[0].key>>(p*bits))&(buckets-1)] == len(a) {
			continue // every key has this digit
		}
		sum := 0
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		for _, it := range src {
			d := (it.key >> (p * bits)) & (buckets - 1)
			dst[c[d]] = it
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}
