package pledge

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// JoinAssumption says which households the cost model assumes are
// connected at a take-up level; the curve shows it to users.
const JoinAssumption = "Households that have pledged are connected first. " +
	"Then the other households at their addresses, then the remaining addresses one at a time, " +
	"always the address nearest (in a straight line) to the POP or to an address already connected, " +
	"ties broken by address id; all households at an address join together. " +
	"Below the current take-up, the pledged addresses nearest the POP are kept. " +
	"At each level the route is estimated again for the connected addresses."

// CostModel prices one area at any take-up level: NewCostModel orders the
// area's households by when they are assumed to join (JoinAssumption), and
// At prices the first k of them with the route re-estimated for their
// addresses. A CostModel is immutable and safe for concurrent use.
type CostModel struct {
	area    Area
	params  CostParams
	pop     orb.Point
	method  string
	route   func(orb.Point, []orb.Point, geo.RouteOptions) (geo.RouteEstimate, error)
	addrs   []Address // by id
	units   int       // eligible units
	pledged int
	steps   []joinStep
	cum     []int // units joined after each step
}

// joinStep is units households at address addrs[addr] joining together.
type joinStep struct{ addr, units int }

// NewCostModel prepares area a, its addresses (with their pledged units)
// and parameters p for pricing. With roads it estimates routes along them
// (geo.RoadNetwork.Route), else in straight lines (geo.StraightRoute). The
// join order comes from Euclidean minimum spanning trees, so preparing is
// O(n log n) in the addresses. Returns EINVALID (naming the field) for bad
// parameters or an area without geometry and POP.
func NewCostModel(a Area, addrs []Address, p CostParams, roads *geo.RoadNetwork) (*CostModel, error) {
	if err := p.Validate(a); err != nil {
		return nil, err
	}
	m := &CostModel{area: a, params: p, method: geo.MethodStraight, route: geo.StraightRoute}
	if roads != nil {
		m.method, m.route = geo.MethodRoad, roads.Route
	}
	if p.POP != nil {
		m.pop = *p.POP
	} else if pt, ok := pointOnSurface(a.Geometry); ok {
		m.pop = pt
	} else {
		return nil, FieldError("pop", "area %s has no geometry: set its POP", a.Code)
	}
	m.addrs = slices.Clone(addrs)
	slices.SortFunc(m.addrs, func(x, y Address) int { return cmpString(x.ID, y.ID) })
	for i, ad := range m.addrs {
		if ad.Units < 1 {
			return nil, FieldError("units", "address %q has %d units", ad.ID, ad.Units)
		}
		m.addrs[i].PledgedUnits = min(max(ad.PledgedUnits, 0), ad.Units)
		m.units += ad.Units
		m.pledged += m.addrs[i].PledgedUnits
	}
	var err error
	if m.steps, err = joinOrder(m.pop, m.addrs); err != nil {
		return nil, fmt.Errorf("cost model for area %s: %w", a.Code, err)
	}
	m.cum = make([]int, len(m.steps))
	sum := 0
	for i, s := range m.steps {
		sum += s.units
		m.cum[i] = sum
	}
	return m, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// EligibleUnits is the number of households in the area.
func (m *CostModel) EligibleUnits() int { return m.units }

// PledgedUnits is the number of households with a pledge.
func (m *CostModel) PledgedUnits() int { return m.pledged }

// Method is geo.MethodRoad or geo.MethodStraight.
func (m *CostModel) Method() string { return m.method }

// POP is the point the routes start from.
func (m *CostModel) POP() orb.Point { return m.pop }

// UnitsAt is the number of households connected at take-up percent pct:
// the percent of the eligible households, rounded up. Returns EINVALID
// (field take_up_percent) outside 0-100.
func (m *CostModel) UnitsAt(pct float64) (int, error) {
	if !(pct >= 0 && pct <= 100) {
		return 0, FieldError("take_up_percent", "take-up must be a percent from 0 to 100, not %g", pct)
	}
	return unitsAt(pct, m.units), nil
}

func unitsAt(pct float64, units int) int {
	k := int(math.Ceil(pct*float64(units)/100 - 1e-9))
	return min(max(k, 0), units)
}

// ThresholdUnits is the number of households the area must reach: its
// threshold percent (rounded up) and at least its minimum pledged units,
// at most all households. Returns EINVALID (field threshold_percent) for a
// threshold outside 0-100.
func (m *CostModel) ThresholdUnits() (int, error) {
	pct := m.area.ThresholdPercent
	if !(pct >= 0 && pct <= 100) {
		return 0, FieldError("threshold_percent", "area %s: threshold must be a percent from 0 to 100, not %g", m.area.Code, pct)
	}
	return min(max(unitsAt(pct, m.units), m.area.ThresholdUnits), m.units), nil
}

// AreaCost is an area priced at one take-up level.
type AreaCost struct {
	AreaCode      string
	Method        string // geo.MethodStraight or geo.MethodRoad
	POP           orb.Point
	EligibleUnits int
	TakeUpPercent float64 // connected households per eligible household, percent
	Params        CostParams
	CostSplit
	// Connected are the connected addresses by id, with their connected
	// households and drops; Route.DropM follows the same order.
	Connected []Connection
	Route     geo.RouteEstimate
}

// At prices the area with the first k households of the join order
// connected. Returns EINVALID for k outside 0 to EligibleUnits.
func (m *CostModel) At(k int) (AreaCost, error) {
	c, _, err := m.at(k)
	return c, err
}

// at is At that also returns the indices into m.addrs of the connected
// addresses.
func (m *CostModel) at(k int) (AreaCost, []int, error) {
	if k < 0 || k > m.units {
		return AreaCost{}, nil, FieldError("units", "%d households: want 0 to %d", k, m.units)
	}
	conn := make([]int, len(m.addrs))
	left := k
	for _, s := range m.steps {
		if left == 0 {
			break
		}
		n := min(s.units, left)
		conn[s.addr] += n
		left -= n
	}
	var idx []int
	for i, n := range conn {
		if n > 0 {
			idx = append(idx, i)
		}
	}
	pts := make([]orb.Point, len(idx))
	conns := make([]Connection, len(idx))
	for j, i := range idx {
		pts[j] = m.addrs[i].Point
		conns[j] = Connection{AddressID: m.addrs[i].ID, Units: conn[i]}
	}
	est, err := m.route(m.pop, pts, geo.RouteOptions{Detour: m.params.Detour})
	if err != nil {
		return AreaCost{}, nil, fmt.Errorf("area %s: %w", m.area.Code, err)
	}
	for j := range conns {
		conns[j].DropM = est.DropM[j]
	}
	split, err := SplitCost(m.params, est.TrenchM, conns)
	if err != nil {
		return AreaCost{}, nil, err
	}
	c := AreaCost{
		AreaCode: m.area.Code, Method: m.method, POP: m.pop, EligibleUnits: m.units, Params: m.params,
		CostSplit: split, Connected: conns, Route: est,
	}
	if m.units > 0 {
		c.TakeUpPercent = 100 * float64(k) / float64(m.units)
	}
	return c, idx, nil
}

// Route is the route estimate for all addresses, or for those with a
// pledge (their pledged households connected).
func (m *CostModel) Route(all bool) (AreaRoute, error) {
	k := m.pledged
	if all {
		k = m.units
	}
	c, idx, err := m.at(k)
	if err != nil {
		return AreaRoute{}, err
	}
	r := AreaRoute{AreaCode: m.area.Code, POP: m.pop, Units: k, Estimate: c.Route, Addresses: make([]Address, len(idx))}
	for j, i := range idx {
		r.Addresses[j] = m.addrs[i]
	}
	return r, nil
}

// CurvePoint is the cost at one take-up level.
type CurvePoint struct {
	Units         int // connected households
	Addresses     int // connected addresses
	TakeUpPercent float64
	TrenchM       float64
	DropM         float64
	BuildCost     int64
	HouseholdsPay int64
	Shortfall     int64
	// HouseholdShare is CostSplit.HouseholdShare: what a typical
	// household pays at this level.
	HouseholdShare int64
}

// MoreJoin is the cost if More households beyond the pledged ones join.
type MoreJoin struct {
	More int
	CurvePoint
}

// CostCurve is how the household share changes with take-up.
type CostCurve struct {
	AreaCode         string
	Method           string
	Assumption       string // JoinAssumption
	EligibleUnits    int
	PledgedUnits     int
	ThresholdPercent float64
	ThresholdUnits   int
	// Points, by households ascending: the threshold, every 5 % of take-up
	// above it, 100 % and the current take-up.
	Points []CurvePoint
	// Current is the cost with the pledged households only; nil without
	// pledges.
	Current *CurvePoint
	// IfMoreJoin: 5, 10 and 20 more households and the number still needed
	// for the threshold, each while there are that many households left.
	IfMoreJoin []MoreJoin
}

// moreSteps are the "if N more join" figures besides the threshold's.
var moreSteps = []int{5, 10, 20}

// Curve prices the area at every level of the curve, the route estimated
// again for each (levels run in parallel, up to GOMAXPROCS). ctx cancels
// it between levels. Returns EINVALID for an area threshold outside 0-100.
func (m *CostModel) Curve(ctx context.Context) (CostCurve, error) {
	thr, err := m.ThresholdUnits()
	if err != nil {
		return CostCurve{}, err
	}
	cv := CostCurve{
		AreaCode: m.area.Code, Method: m.method, Assumption: JoinAssumption,
		EligibleUnits: m.units, PledgedUnits: m.pledged,
		ThresholdPercent: m.area.ThresholdPercent, ThresholdUnits: thr,
		Points: []CurvePoint{}, IfMoreJoin: []MoreJoin{},
	}
	shown := []int{thr, m.units, m.pledged}
	for pct := 5; pct <= 100; pct += 5 {
		if k := unitsAt(float64(pct), m.units); k > thr {
			shown = append(shown, k)
		}
	}
	shown = positiveSorted(shown)
	more := []int{}
	for _, n := range append(slices.Clone(moreSteps), thr-m.pledged) {
		if n > 0 && m.pledged+n <= m.units && !slices.Contains(more, n) {
			more = append(more, n)
		}
	}
	slices.Sort(more)
	levels := slices.Clone(shown)
	for _, n := range more {
		levels = append(levels, m.pledged+n)
	}
	levels = positiveSorted(levels)
	points, err := m.evaluate(ctx, levels)
	if err != nil {
		return CostCurve{}, err
	}
	at := func(k int) CurvePoint { return points[sort.SearchInts(levels, k)] }
	for _, k := range shown {
		cv.Points = append(cv.Points, at(k))
	}
	if m.pledged > 0 {
		p := at(m.pledged)
		cv.Current = &p
	}
	for _, n := range more {
		cv.IfMoreJoin = append(cv.IfMoreJoin, MoreJoin{More: n, CurvePoint: at(m.pledged + n)})
	}
	return cv, nil
}

// positiveSorted sorts ks and drops duplicates and zeros.
func positiveSorted(ks []int) []int {
	slices.Sort(ks)
	ks = slices.Compact(ks)
	for len(ks) > 0 && ks[0] <= 0 {
		ks = ks[1:]
	}
	return ks
}

// evaluate prices the levels ks in parallel, largest first so the slowest
// estimates start early.
func (m *CostModel) evaluate(ctx context.Context, ks []int) ([]CurvePoint, error) {
	out := make([]CurvePoint, len(ks))
	errs := make([]error, len(ks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := len(ks) - 1 - int(next.Add(1)-1)
				if j < 0 {
					return
				}
				if errs[j] = ctx.Err(); errs[j] != nil {
					continue
				}
				c, err := m.At(ks[j])
				if err != nil {
					errs[j] = err
					continue
				}
				out[j] = CurvePoint{
					Units: c.Units, Addresses: c.Addresses, TakeUpPercent: c.TakeUpPercent,
					TrenchM: c.TrenchM, DropM: c.DropM, BuildCost: c.BuildCost,
					HouseholdsPay: c.HouseholdsPay, Shortfall: c.Shortfall, HouseholdShare: c.HouseholdShare(),
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// joinOrder orders the households of addrs (sorted by id) by when they are
// assumed to join: the pledged households first, address by address in
// the order Prim's algorithm reaches the pledged addresses from the POP;
// then the unpledged households at those addresses; then every other
// address with all its households, in the order Prim's algorithm reaches
// them from the POP and the pledged addresses together.
//
// Prim's "nearest to the connected set" order is read off the Euclidean
// minimum spanning tree instead of all pairs: the shortest link across any
// cut is always matched by a tree edge of the same length, so walking the
// tree gives the same sequence of join distances in O(n log n).
func joinOrder(pop orb.Point, addrs []Address) ([]joinStep, error) {
	steps := make([]joinStep, 0, len(addrs)+8)
	if len(addrs) == 0 {
		return steps, nil
	}
	b := pop.Bound()
	for _, a := range addrs {
		b = b.Extend(a.Point)
	}
	crs := geo.UTMFor(b.Center())
	xy := make([]orb.Point, len(addrs)+1) // POP first
	for i, p := range append([]orb.Point{pop}, pointsOf(addrs)...) {
		x, y, err := crs.FromWGS84(p[0], p[1])
		if err != nil {
			return nil, fmt.Errorf("join order: %w", err)
		}
		xy[i] = orb.Point{x, y}
	}

	var pledged []int // indices into addrs
	for i, a := range addrs {
		if a.PledgedUnits > 0 {
			pledged = append(pledged, i)
		}
	}
	starts := []int{0}
	if len(pledged) > 0 {
		sub := make([]orb.Point, len(pledged)+1)
		sub[0] = xy[0]
		for j, i := range pledged {
			sub[j+1] = xy[i+1]
			starts = append(starts, i+1)
		}
		for _, v := range primOrder(sub, []int{0}) {
			i := pledged[v-1]
			steps = append(steps, joinStep{i, addrs[i].PledgedUnits})
		}
		for _, s := range steps[:len(pledged)] {
			if free := addrs[s.addr].Units - addrs[s.addr].PledgedUnits; free > 0 {
				steps = append(steps, joinStep{s.addr, free})
			}
		}
	}
	for _, v := range primOrder(xy, starts) {
		steps = append(steps, joinStep{v - 1, addrs[v-1].Units})
	}
	return steps, nil
}

func pointsOf(addrs []Address) []orb.Point {
	pts := make([]orb.Point, len(addrs))
	for i, a := range addrs {
		pts[i] = a.Point
	}
	return pts
}

// primOrder returns the points not in starts in the order Prim's algorithm
// adds them to the growing set that begins as starts: always the point
// nearest the set, ties to the lower index. It walks the EMST of pts.
func primOrder(pts []orb.Point, starts []int) []int {
	n := len(pts)
	edges, _ := geo.EMST(pts)
	off := make([]int32, n+1)
	for _, e := range edges {
		off[e[0]+1]++
		off[e[1]+1]++
	}
	for i := range n {
		off[i+1] += off[i]
	}
	adj := make([]int32, 2*len(edges))
	fill := slices.Clone(off[:n])
	for _, e := range edges {
		adj[fill[e[0]]], fill[e[0]] = int32(e[1]), fill[e[0]]+1
		adj[fill[e[1]]], fill[e[1]] = int32(e[0]), fill[e[1]]+1
	}
	in := make([]bool, n)
	for _, s := range starts {
		in[s] = true
	}
	var h geo.DistHeap
	reach := func(u int) {
		for _, v := range adj[off[u]:off[u+1]] {
			if !in[v] {
				h.Push(math.Hypot(pts[u][0]-pts[v][0], pts[u][1]-pts[v][1]), v)
			}
		}
	}
	for _, s := range starts {
		reach(s)
	}
	order := make([]int, 0, n-len(starts))
	for h.Len() > 0 {
		_, p := h.Pop()
		v := int(p)
		if in[v] {
			continue
		}
		in[v] = true
		order = append(order, v)
		reach(v)
	}
	return order
}

// pointOnSurface returns a point inside mp: the centroid of its largest
// polygon when that lies inside, else the middle of the widest inside
// stretch of the horizontal line through the centroid (as PostGIS's
// ST_PointOnSurface does). ok is false for an empty geometry.
func pointOnSurface(mp orb.MultiPolygon) (orb.Point, bool) {
	best, bestArea := -1, -1.0
	for i, poly := range mp {
		if len(poly) == 0 || len(poly[0]) == 0 {
			continue
		}
		if _, a := planar.CentroidArea(poly); math.Abs(a) > bestArea {
			best, bestArea = i, math.Abs(a)
		}
	}
	if best < 0 {
		return orb.Point{}, false
	}
	poly := mp[best]
	c, _ := planar.CentroidArea(poly)
	if bestArea > 0 && planar.PolygonContains(poly, c) {
		return c, true
	}
	y := c[1]
	var xs []float64
	for _, ring := range poly {
		for j := range ring {
			a, b := ring[j], ring[(j+1)%len(ring)]
			if (a[1] > y) != (b[1] > y) {
				xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
	}
	slices.Sort(xs)
	wide, at := -1.0, poly[0][0]
	for j := 0; j+1 < len(xs); j += 2 {
		if w := xs[j+1] - xs[j]; w > wide {
			wide, at = w, orb.Point{(xs[j] + xs[j+1]) / 2, y}
		}
	}
	return at, true
}
