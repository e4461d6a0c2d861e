package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"

	"github.com/kommunity/kommunity/geo"
)

const (
	cellSize     = 6000.0 // m: cells of 36 km² on average, the size of a rural Danish parish
	cornerJitter = 0.15   // of cellSize; small enough that every cell stays a convex quad
	boundaryAmp  = 0.07   // boundaries stray at most 7 % of the edge length from the straight side
	boundaryStep = 120.0  // m between boundary vertices: about 200 per ring
	originLon    = 10.2   // Funen
	originLat    = 55.3
	// Addresses keep this far (m) from every boundary, so rounding to 1e-7°
	// (about 1 cm) cannot move one across.
	safeMargin = 5.0
)

// Independent random streams: a change in how addresses are placed must not
// move the areas, and pledges must not move addresses.
const (
	streamLayout = iota + 1
	streamNames
	streamPlan
	streamLake
	streamAddr
	streamPledge
)

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

func newRand(seed, stream, index uint64) *rand.Rand {
	s1 := splitmix(seed ^ splitmix(stream))
	s2 := splitmix(s1 ^ splitmix(index<<8|stream))
	return rand.New(rand.NewPCG(s1, s2))
}

// side is one straight side of a cell's quad.
type side struct {
	p, n orb.Point // start corner and inward unit normal
	dmax float64   // the real (wiggly) boundary stays within dmax of the side
}

// street is a named road as seen from one area, with the arc-length ranges
// where village houses, farms and hamlet houses go.
type street struct {
	name                   string
	line                   polyline
	own                    bool // drawn as this area's road (main roads are drawn once, globally)
	village, rural, hamlet [2]float64
}

type lake struct {
	c    orb.Point
	rmax float64
	ring []orb.Point // clockwise: a hole
}

// pick is one entry of a cumulative distribution over street ranges,
// weighted by length.
type pick struct {
	street int
	s0     float64
	cum    float64 // cumulative length up to and including this range
}

type areaPlan struct {
	idx, row, col int
	code, name    string
	quad          [4]orb.Point // corners c00, c01, c11, c10: counter-clockwise
	sides         [4]side      // bottom, right, top, left
	ring          []orb.Point  // metres, closed, counter-clockwise
	bound         orb.Bound
	village       orb.Point
	villageR      float64
	links         []int
	streets       []street
	hamlets       []string
	hamletStreet  []int
	hamletAt      []orb.Point
	lake          *lake

	postcode   int
	postTown   int // index of the area whose village names the postal district
	isPostTown bool

	addresses      int   // inside the area, stragglers excluded
	stragglerSides []int // one entry per straggler: the outer side it lies off
	pledgeShare    float64
	fVillage       float64
	fHamlet        float64
	villageCDF     []pick
	ruralCDF       []pick
}

// safe reports whether p is inside the quad by more than each side's dmax
// plus m: then p is inside the real boundary by more than m, whatever the
// boundary's wiggles, with no ring test.
func (a *areaPlan) safe(p orb.Point, m float64) bool {
	for _, s := range a.sides {
		if dot(sub(p, s.p), s.n) < s.dmax+m {
			return false
		}
	}
	return true
}

func (a *areaPlan) insideQuad(p orb.Point, m float64) bool {
	for _, s := range a.sides {
		if dot(sub(p, s.p), s.n) < m {
			return false
		}
	}
	return true
}

// holds reports whether an address at p lies in the area, out of its lake,
// and at least safeMargin from its boundary.
func (a *areaPlan) holds(p orb.Point) bool {
	if a.lake != nil && dist(p, a.lake.c) < a.lake.rmax+20 {
		return false
	}
	if a.safe(p, safeMargin) {
		return true
	}
	if !a.bound.Contains(p) || !ringContains(a.ring, p) {
		return false
	}
	return clearOf(a.ring, p, safeMargin)
}

// link is a main road between the villages of two neighbouring areas.
type link struct {
	a, b int
	line []orb.Point
}

// world is everything that is O(areas): cells, boundaries, villages, roads,
// lakes and each area's share of addresses and pledges. Addresses are made
// from it one area at a time.
type world struct {
	cfg        Config
	rows, cols int
	lastOff    int   // first column of the (possibly partial) last row
	cell       []int // rows*cols: area index or -1
	areas      []*areaPlan
	links      []link
	mLon, mLat float64 // metres per degree at originLat
}

func newWorld(cfg Config) *world {
	w := &world{cfg: cfg}
	n := cfg.Areas
	// about 4:3 landscape; the last row may be partial and is centred
	w.cols = max(1, int(math.Round(math.Sqrt(float64(n)*1.3))))
	w.rows = (n + w.cols - 1) / w.cols
	lastN := n - (w.rows-1)*w.cols
	w.lastOff = (w.cols - lastN) / 2
	w.cell = make([]int, w.rows*w.cols)
	k := 0
	for r := 0; r < w.rows; r++ {
		for c := 0; c < w.cols; c++ {
			w.cell[r*w.cols+c] = -1
			if r < w.rows-1 || (c >= w.lastOff && c < w.lastOff+lastN) {
				w.cell[r*w.cols+c] = k
				k++
			}
		}
	}
	phi := originLat * math.Pi / 180
	w.mLat = 111132.954 - 559.822*math.Cos(2*phi) + 1.175*math.Cos(4*phi)
	w.mLon = 111412.84*math.Cos(phi) - 93.5*math.Cos(3*phi) + 0.118*math.Cos(5*phi)

	lay := newRand(cfg.Seed, streamLayout, 0)
	w.layoutCells(lay)
	w.layoutVillages(lay)
	w.layoutLinks(lay)
	w.allocate(lay)
	w.layoutPost()
	names := newRand(cfg.Seed, streamNames, 0)
	taken := make(map[string]bool)
	for _, a := range w.areas {
		a.name = uniquePlaceName(names, taken)
	}
	for _, a := range w.areas {
		w.planArea(a, names, taken)
	}
	for _, a := range w.areas {
		w.placeLake(a)
	}
	return w
}

// at returns the area index of cell (r, c), or -1.
func (w *world) at(r, c int) int {
	if r < 0 || c < 0 || r >= w.rows || c >= w.cols {
		return -1
	}
	return w.cell[r*w.cols+c]
}

// layoutCells jitters the grid corners and draws every boundary line once,
// so the two areas that share it get exactly the same vertices.
func (w *world) layoutCells(r *rand.Rand) {
	rows, cols := w.rows, w.cols
	cw := cols + 1
	corners := make([]orb.Point, (rows+1)*cw)
	x0 := -float64(cols) * cellSize / 2
	y0 := -float64(rows) * cellSize / 2
	for i := 0; i <= rows; i++ {
		for j := 0; j <= cols; j++ {
			jx := (2*r.Float64() - 1) * cornerJitter * cellSize
			jy := (2*r.Float64() - 1) * cornerJitter * cellSize
			corners[i*cw+j] = orb.Point{x0 + float64(j)*cellSize + jx, y0 + float64(i)*cellSize + jy}
		}
	}
	corner := func(i, j int) orb.Point { return corners[i*cw+j] }
	type edge struct {
		pts  []orb.Point
		dmax float64
	}
	wig := func(a, b orb.Point) edge {
		pts, d := wiggle(r, a, b, boundaryAmp, boundaryStep, 0.08, 16)
		return edge{pts, d}
	}
	h := make([]edge, (rows+1)*cols) // h[i*cols+j]: corner(i,j) -> corner(i,j+1)
	for i := 0; i <= rows; i++ {
		for j := 0; j < cols; j++ {
			h[i*cols+j] = wig(corner(i, j), corner(i, j+1))
		}
	}
	v := make([]edge, rows*cw) // v[i*cw+j]: corner(i,j) -> corner(i+1,j)
	for i := 0; i < rows; i++ {
		for j := 0; j <= cols; j++ {
			v[i*cw+j] = wig(corner(i, j), corner(i+1, j))
		}
	}
	for row := 0; row < rows; row++ {
		for col := 0; col < cols; col++ {
			idx := w.at(row, col)
			if idx < 0 {
				continue
			}
			a := &areaPlan{idx: idx, row: row, col: col, code: fmt.Sprintf("D%03d", idx+1)}
			a.quad = [4]orb.Point{corner(row, col), corner(row, col+1), corner(row+1, col+1), corner(row+1, col)}
			bottom, right := h[row*cols+col], v[row*cw+col+1]
			top, left := h[(row+1)*cols+col], v[row*cw+col]
			edges := [4]edge{bottom, right, {reversed(top.pts), top.dmax}, {reversed(left.pts), left.dmax}}
			ring := make([]orb.Point, 0, len(bottom.pts)+len(right.pts)+len(top.pts)+len(left.pts))
			ring = append(ring, bottom.pts[0])
			for k, e := range edges {
				ring = append(ring, e.pts[1:]...)
				p, q := a.quad[k], a.quad[(k+1)%4]
				d := sub(q, p)
				a.sides[k] = side{p: p, n: scale(leftNormal(d), 1/norm(d)), dmax: e.dmax}
			}
			a.ring = ring
			a.bound = orb.LineString(ring).Bound()
			w.areas = append(w.areas, a)
		}
	}
}

func reversed(pts []orb.Point) []orb.Point {
	out := make([]orb.Point, len(pts))
	for i, p := range pts {
		out[len(pts)-1-i] = p
	}
	return out
}

// layoutVillages puts each area's village well inside it.
func (w *world) layoutVillages(r *rand.Rand) {
	for _, a := range w.areas {
		a.village = bilinear(a.quad, 0.5, 0.5)
		for try := 0; try < 10; try++ {
			p := bilinear(a.quad, 0.35+0.3*r.Float64(), 0.35+0.3*r.Float64())
			if a.safe(p, 600) {
				a.village = p
				break
			}
		}
	}
}

// layoutLinks joins neighbouring villages by main roads: always east-west,
// mostly north-south, and always in the first column of a row so the network
// is connected.
func (w *world) layoutLinks(r *rand.Rand) {
	add := func(a, b *areaPlan) {
		line, _ := wiggle(r, a.village, b.village, 0.03, 150, 0.05, 6)
		w.links = append(w.links, link{a: a.idx, b: b.idx, line: line})
		a.links = append(a.links, len(w.links)-1)
		b.links = append(b.links, len(w.links)-1)
	}
	for _, a := range w.areas {
		if b := w.at(a.row, a.col+1); b >= 0 {
			add(a, w.areas[b])
		}
		if b := w.at(a.row+1, a.col); b >= 0 {
			first := 0
			if a.row+1 == w.rows-1 {
				first = w.lastOff
			}
			if a.col == first || r.Float64() < 0.7 {
				add(a, w.areas[b])
			}
		}
	}
}

// allocate shares the addresses, stragglers and pledge shares among areas.
func (w *world) allocate(r *rand.Rand) {
	n := len(w.areas)
	total := w.cfg.Addresses
	strag := total / 1000 // see Stragglers
	inside := total - strag
	weights := make([]float64, n)
	sum := 0.0
	for i := range weights {
		weights[i] = 0.6 + 0.8*r.Float64()
		sum += weights[i]
	}
	// largest remainder, so the counts add up exactly
	rem := make([]float64, n)
	left := inside
	for i, a := range w.areas {
		exact := float64(inside) * weights[i] / sum
		a.addresses = int(exact)
		rem[i] = exact - float64(a.addresses)
		left -= a.addresses
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if c := cmp.Compare(rem[y], rem[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	for i := 0; i < left; i++ {
		w.areas[order[i%n]].addresses++
	}

	// stragglers lie off the outer sides of the municipality
	type outer struct{ area, side int }
	var outers []outer
	for _, a := range w.areas {
		nb := [4]int{w.at(a.row-1, a.col), w.at(a.row, a.col+1), w.at(a.row+1, a.col), w.at(a.row, a.col-1)}
		for k, b := range nb {
			if b < 0 {
				outers = append(outers, outer{a.idx, k})
			}
		}
	}
	for i := 0; i < strag; i++ {
		o := outers[r.IntN(len(outers))]
		w.areas[o.area].stragglerSides = append(w.areas[o.area].stragglerSides, o.side)
	}

	// Stratified quantiles: whatever the seed, the areas spread over the
	// whole range, so some are well above 50 % and some far below.
	// share·2.5·q^1.5 has mean share over q in [0, 1).
	perm := r.Perm(n)
	for i, a := range w.areas {
		q := (float64(perm[i]) + r.Float64()) / float64(n)
		a.pledgeShare = math.Min(0.95, w.cfg.PledgeShare*2.5*math.Pow(q, 1.5))
	}
}

// layoutPost groups areas 2x2 into postal districts named after the village
// of their first area, with 4-digit postcodes from 5200 up.
func (w *world) layoutPost() {
	bcols := (w.cols + 1) / 2
	district := make(map[int]*areaPlan)
	k := 0
	for _, a := range w.areas {
		b := (a.row/2)*bcols + a.col/2
		town, ok := district[b]
		if !ok {
			town = a
			district[b] = a
			a.isPostTown = true
			a.postcode = 1000 + (4200+10*k+k/900)%9000
			k++
		}
		a.postcode = town.postcode
		a.postTown = town.idx
	}
}

// planArea lays out an area's village streets, local roads and hamlets.
func (w *world) planArea(a *areaPlan, names *rand.Rand, taken map[string]bool) {
	r := newRand(w.cfg.Seed, streamPlan, uint64(a.idx))
	a.villageR = 350 + 450*r.Float64()
	a.fVillage = 0.5 + 0.2*r.Float64()
	R := a.villageR
	used := map[string]bool{coastStreet: true}
	inQuad := func(p orb.Point) bool { return a.insideQuad(p, 30) }

	// the main roads through the village, named after where they lead
	for _, li := range a.links {
		l := w.links[li]
		pts, other := l.line, l.b
		if l.b == a.idx {
			pts, other = reversed(l.line), l.a
		}
		full := newPolyline(pts)
		L := full.length()
		st := street{name: roadTo(w.areas[other].name), line: newPolyline(full.prefix(0.6 * L))}
		st.village = [2]float64{0, math.Min(R, 0.55*L)}
		st.rural = [2]float64{st.village[1], 0.55 * L}
		used[st.name] = true
		a.streets = append(a.streets, st)
	}
	nMain := len(a.streets)
	pool := r.Perm(len(streetPool))
	next := func() string {
		for len(pool) > 0 {
			s := streetPool[pool[0]]
			pool = pool[1:]
			if !used[s] {
				used[s] = true
				return s
			}
		}
		return "Vej " + fmt.Sprint(len(a.streets)+1) // unreachable: the pool is larger than any area's streets
	}
	across := func(dir orb.Point) float64 {
		turn := math.Pi/2 + 0.8*(r.Float64()-0.5)
		if r.IntN(2) == 0 {
			turn = -turn
		}
		return math.Atan2(dir[1], dir[0]) + turn
	}

	// village side streets
	for i, ns := 0, 1+r.IntN(3); i < ns; i++ {
		start, course := a.village, 2*math.Pi*r.Float64()
		if nMain > 0 && r.Float64() < 0.6 {
			m := a.streets[r.IntN(nMain)]
			p, dir := m.line.at(60 + (0.8*R-60)*r.Float64())
			if inQuad(p) {
				start, course = p, across(dir)
			}
		}
		pts := walk(r, start, course, 250+450*r.Float64(), 60, 0.15, inQuad)
		if len(pts) < 3 {
			continue
		}
		pl := newPolyline(pts)
		a.streets = append(a.streets, street{name: next(), line: pl, own: true, village: [2]float64{0, pl.length()}})
	}
	// a village needs at least one street; the village sits 600 m inside
	if len(a.streets) == 0 {
		pts := []orb.Point{a.village, add(a.village, orb.Point{300, 0})}
		pl := newPolyline(pts)
		a.streets = append(a.streets, street{name: next(), line: pl, own: true, village: [2]float64{0, pl.length()}})
	}

	// local roads out into the fields, from the village (spread around it)
	// or off a main road, some with a branch
	base := 2 * math.Pi * r.Float64()
	for i, nl := 0, 2+r.IntN(3); i < nl; i++ {
		start, fromVillage := a.village, true
		course := base + 2*math.Pi*float64(i)/float64(nl) + 0.6*(r.Float64()-0.5)
		if nMain > 0 && r.Float64() < 0.4 {
			m := a.streets[r.IntN(nMain)]
			lo, hi := R+200, math.Min(2500, m.rural[1])
			if hi > lo {
				p, dir := m.line.at(lo + (hi-lo)*r.Float64())
				if inQuad(p) {
					start, course, fromVillage = p, across(dir), false
				}
			}
		}
		pts := walk(r, start, course, 1500+2500*r.Float64(), 150, 0.12, inQuad)
		if len(pts) < 4 {
			continue
		}
		pl := newPolyline(pts)
		st := street{name: next(), line: pl, own: true, rural: [2]float64{0, pl.length()}}
		if fromVillage {
			v := math.Min(R, pl.length())
			st.village = [2]float64{0, v}
			st.rural = [2]float64{v, pl.length()}
		}
		a.streets = append(a.streets, st)
		if pl.length() < 1000 || r.Float64() < 0.5 {
			continue
		}
		p, dir := pl.at(pl.length() * (0.3 + 0.4*r.Float64()))
		pts = walk(r, p, across(dir), 800+1200*r.Float64(), 150, 0.12, inQuad)
		if len(pts) < 4 {
			continue
		}
		pl = newPolyline(pts)
		a.streets = append(a.streets, street{name: next(), line: pl, own: true, rural: [2]float64{0, pl.length()}})
	}

	// hamlets: a few houses at the end of their own road
	nh := 0
	switch u := r.Float64(); {
	case u > 0.75:
		nh = 2
	case u > 0.3:
		nh = 1
	}
	for h := 0; h < nh; h++ {
		for try := 0; try < 20; try++ {
			H := bilinear(a.quad, 0.15+0.7*r.Float64(), 0.15+0.7*r.Float64())
			if dist(H, a.village) < 1500 || !a.safe(H, 450) {
				continue
			}
			near := false
			for _, o := range a.hamletAt {
				near = near || dist(o, H) < 1200
			}
			if near {
				continue
			}
			start, best := a.village, dist(a.village, H)
			for _, st := range a.streets {
				for _, q := range st.line.pts {
					if d := dist(q, H); d < best && a.insideQuad(q, 100) {
						start, best = q, d
					}
				}
			}
			if best < 500 {
				continue
			}
			line, _ := wiggle(r, start, H, 0.05, 150, 0.05, 3)
			ext := walk(r, H, heading(start, H)+0.8*(r.Float64()-0.5), 300+300*r.Float64(), 100, 0.15, inQuad)
			pts := append(line, ext[1:]...)
			ok := true
			for _, p := range pts[1:] {
				ok = ok && inQuad(p)
			}
			if !ok {
				continue
			}
			name := a.name + " " + hamletSuffixes[names.IntN(len(hamletSuffixes))]
			if names.IntN(2) == 0 || taken[name] {
				name = uniquePlaceName(names, taken)
			}
			taken[name] = true
			pl := newPolyline(pts)
			sH := newPolyline(line).length()
			cut := math.Max(0, sH-350)
			st := street{name: roadTo(name), line: pl, own: true,
				rural: [2]float64{0, cut}, hamlet: [2]float64{cut, pl.length()}}
			used[st.name] = true
			a.hamlets = append(a.hamlets, name)
			a.hamletAt = append(a.hamletAt, H)
			a.hamletStreet = append(a.hamletStreet, len(a.streets))
			a.streets = append(a.streets, st)
			break
		}
	}
	a.fHamlet = float64(len(a.hamlets)) * (0.06 + 0.06*r.Float64())

	var vc, rc float64
	for i, st := range a.streets {
		if l := st.village[1] - st.village[0]; l > 0 {
			vc += l
			a.villageCDF = append(a.villageCDF, pick{street: i, s0: st.village[0], cum: vc})
		}
		if l := st.rural[1] - st.rural[0]; l > 0 {
			rc += l
			a.ruralCDF = append(a.ruralCDF, pick{street: i, s0: st.rural[0], cum: rc})
		}
	}
}

// placeLake gives about one area in five a lake, as a hole, away from every
// road and settlement.
func (w *world) placeLake(a *areaPlan) {
	r := newRand(w.cfg.Seed, streamLake, uint64(a.idx))
	if r.Float64() >= 0.2 {
		return
	}
	for try := 0; try < 20; try++ {
		c := bilinear(a.quad, 0.2+0.6*r.Float64(), 0.2+0.6*r.Float64())
		r0 := 150 + 300*r.Float64()
		rmax := 1.25 * r0
		if !a.safe(c, rmax+100) || dist(c, a.village) < rmax+a.villageR+100 {
			continue
		}
		clear := true
		for _, h := range a.hamletAt {
			clear = clear && dist(c, h) > rmax+400
		}
		// roads of the neighbours may stray into this cell
		for dr := -1; dr <= 1 && clear; dr++ {
			for dc := -1; dc <= 1 && clear; dc++ {
				b := w.at(a.row+dr, a.col+dc)
				if b < 0 {
					continue
				}
				for _, st := range w.areas[b].streets {
					clear = clear && lineDist(c, st.line.pts) > rmax+80
				}
				for _, li := range w.areas[b].links {
					clear = clear && lineDist(c, w.links[li].line) > rmax+80
				}
			}
		}
		if !clear {
			continue
		}
		n := 48 + r.IntN(24)
		var freq, phase [3]float64
		for m := range freq {
			freq[m] = float64(2 + m + r.IntN(2+m))
			phase[m] = 2 * math.Pi * r.Float64()
		}
		ring := make([]orb.Point, 0, n+1)
		for i := 0; i < n; i++ {
			th := -2 * math.Pi * float64(i) / float64(n) // clockwise, as holes are
			s := (math.Sin(freq[0]*th+phase[0]) + 0.5*math.Sin(freq[1]*th+phase[1]) + 0.25*math.Sin(freq[2]*th+phase[2])) / 1.75
			rad := r0 * (1 + 0.2*s)
			ring = append(ring, add(c, orb.Point{rad * math.Cos(th), rad * math.Sin(th)}))
		}
		a.lake = &lake{c: c, rmax: rmax, ring: append(ring, ring[0])}
		return
	}
}

// toLL maps local metres to lon/lat, rounded to 7 decimals (the CSV's
// precision) so that records and files agree exactly.
func (w *world) toLL(p orb.Point) orb.Point {
	return orb.Point{round7(originLon + p[0]/w.mLon), round7(originLat + p[1]/w.mLat)}
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

func (w *world) lineLL(pts []orb.Point) []orb.Point {
	out := make([]orb.Point, len(pts))
	for i, p := range pts {
		out[i] = w.toLL(p)
	}
	return out
}

func (w *world) areaFeatures() []geo.AreaFeature {
	out := make([]geo.AreaFeature, len(w.areas))
	for i, a := range w.areas {
		poly := orb.Polygon{orb.Ring(w.lineLL(a.ring))}
		if a.lake != nil {
			poly = append(poly, orb.Ring(w.lineLL(a.lake.ring)))
		}
		out[i] = geo.AreaFeature{Code: a.code, Name: a.name, Polygon: orb.MultiPolygon{poly}}
	}
	return out
}

// outsideAll reports whether p is clear of every area by safeMargin.
func (w *world) outsideAll(p orb.Point) bool {
	for _, a := range w.areas {
		if !a.bound.Pad(safeMargin).Contains(p) {
			continue
		}
		if ringContains(a.ring, p) || !clearOf(a.ring, p, safeMargin) {
			return false
		}
	}
	return true
}
