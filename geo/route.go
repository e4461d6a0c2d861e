package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// DefaultDetour is the factor by which a straight-line route estimate is
// lengthened to allow for following roads and property lines.
const DefaultDetour = 1.25

// Route estimate methods, the values of RouteEstimate.Method.
const (
	MethodStraight = "straight"
	MethodRoad     = "road"
)

// RouteOptions tune a route estimate.
type RouteOptions struct {
	// Detour multiplies straight-line lengths; 0 means DefaultDetour, other
	// values must be at least 1. The road method ignores it.
	Detour float64
}

// RouteEstimate is the trench and drop lengths joining a POP and a set of
// addresses. Lengths are metres in the UTM zone of the input; geometry is
// EPSG:4326 (lon, lat).
type RouteEstimate struct {
	Method     string              // MethodStraight or MethodRoad
	TrenchM    float64             // shared trench, metres
	DropM      []float64           // private drop per address, same order as the input
	DropTotalM float64             // sum of DropM
	Route      orb.MultiLineString // trench geometry
	// Drops holds each address's drop line (address first), nil where
	// DropM is 0. Same order as the input.
	Drops []orb.LineString
	// Unconnected counts addresses (road method) whose nearest road is not
	// connected by road to the POP's; their road components are joined to
	// the rest by straight trenches.
	Unconnected int
}

// StraightRoute estimates the route as the Euclidean minimum spanning tree
// (EMST) of the POP and the addresses, measured in the UTM zone of their
// bounding box centre and multiplied by the detour factor.
//
// Drops: an address that is a leaf of the tree gets its tree edge as its
// private drop (DropM[i] = detour × edge length); an address the tree
// passes through has drop 0. The trench is detour × the sum of the other
// edges. The POP is never a drop, so a tree of the POP and one address is
// all drop. Addresses at one coordinate share one terminal: its drop is
// charged to the first of them in input order, the others get 0.
//
// No addresses give a zero estimate. Coordinates that are not finite
// longitude/latitude degrees and detour factors below 1 are errors. It runs
// in O(n log n) and is safe for concurrent use.
func StraightRoute(pop orb.Point, addrs []orb.Point, opt RouteOptions) (RouteEstimate, error) {
	detour, err := opt.detour()
	if err != nil {
		return RouteEstimate{}, fmt.Errorf("straight route: %w", err)
	}
	ts, err := newTerminals(pop, addrs)
	if err != nil {
		return RouteEstimate{}, fmt.Errorf("straight route: %w", err)
	}
	est := newEstimate(MethodStraight, len(addrs))
	if len(ts.pts) < 2 {
		return est, nil
	}
	crs := UTMFor(ts.bound.Center())
	xy, err := projectAll(crs, ts.pts)
	if err != nil {
		return RouteEstimate{}, fmt.Errorf("straight route: %w", err)
	}
	edges, _ := EMST(xy)
	deg := make([]int32, len(xy))
	for _, e := range edges {
		deg[e[0]]++
		deg[e[1]]++
	}
	var trench float64
	lines := make([]orb.Point, 0, 2*len(edges)) // one backing array for all edge lines
	seg := func(a, b orb.Point) orb.LineString {
		lines = append(lines, a, b)
		return orb.LineString(lines[len(lines)-2 : len(lines) : len(lines)])
	}
	for _, e := range edges {
		u, v := e[0], e[1]
		d := math.Sqrt(dist2(xy[u], xy[v]))
		leaf, other := -1, -1
		switch {
		case u != 0 && deg[u] == 1:
			leaf, other = u, v
		case v != 0 && deg[v] == 1:
			leaf, other = v, u
		}
		if leaf < 0 {
			trench += d
			est.Route = append(est.Route, seg(ts.pts[u], ts.pts[v]))
			continue
		}
		i := ts.owner[leaf]
		est.DropM[i] = detour * d
		est.Drops[i] = seg(ts.pts[leaf], ts.pts[other])
	}
	est.TrenchM = detour * trench
	est.sumDrops()
	return est, nil
}

func newEstimate(method string, n int) RouteEstimate {
	return RouteEstimate{
		Method: method,
		DropM:  make([]float64, n),
		Drops:  make([]orb.LineString, n),
		Route:  orb.MultiLineString{},
	}
}

func (e *RouteEstimate) sumDrops() {
	e.DropTotalM = 0
	for _, d := range e.DropM {
		e.DropTotalM += d
	}
}

func (o RouteOptions) detour() (float64, error) {
	d := o.Detour
	if d == 0 {
		return DefaultDetour, nil
	}
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 1 {
		return 0, fmt.Errorf("detour factor %g: want a number of at least 1 (0 means the default %g)", d, DefaultDetour)
	}
	return d, nil
}

// terminals are the distinct points of a route: pts[0] is the POP, then
// each distinct address coordinate once.
type terminals struct {
	pts      []orb.Point // lon/lat
	addrTerm []int32     // terminal of each address
	owner    []int32     // first address at each terminal; -1 for the POP's
	bound    orb.Bound
}

func newTerminals(pop orb.Point, addrs []orb.Point) (terminals, error) {
	if err := checkLonLat(pop); err != nil {
		return terminals{}, fmt.Errorf("POP: %w", err)
	}
	ts := terminals{
		pts:      append(make([]orb.Point, 0, len(addrs)+1), pop),
		addrTerm: make([]int32, len(addrs)),
		owner:    append(make([]int32, 0, len(addrs)+1), -1),
		bound:    pop.Bound(),
	}
	seen := make(map[orb.Point]int32, len(addrs)+1)
	seen[pop] = 0
	for i, a := range addrs {
		if err := checkLonLat(a); err != nil {
			return terminals{}, fmt.Errorf("address %d (0-based): %w", i, err)
		}
		k, ok := seen[a]
		if !ok {
			k = int32(len(ts.pts))
			seen[a] = k
			ts.pts = append(ts.pts, a)
			ts.owner = append(ts.owner, int32(i))
			ts.bound = ts.bound.Extend(a)
		}
		ts.addrTerm[i] = k
	}
	return ts, nil
}

func checkLonLat(p orb.Point) error {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
		return fmt.Errorf("coordinate (%g, %g) is not a finite number", p[0], p[1])
	}
	if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return fmt.Errorf("(%g, %g) is not a longitude/latitude in degrees", p[0], p[1])
	}
	return nil
}

func projectAll(crs *CRS, pts []orb.Point) ([]orb.Point, error) {
	xy := make([]orb.Point, len(pts))
	for i, p := range pts {
		x, y, err := crs.FromWGS84(p[0], p[1])
		if err != nil {
			return nil, err
		}
		xy[i] = orb.Point{x, y}
	}
	return xy, nil
}

// GeoJSON renders the estimate as a FeatureCollection for maps and tender
// packages: one "trench" MultiLineString feature carrying the totals, then
// one "drop" LineString feature per address with a drop, whose "address"
// property is its 0-based index in the input.
func (e RouteEstimate) GeoJSON() ([]byte, error) {
	fc := geojson.NewFeatureCollection()
	route := e.Route
	if route == nil {
		route = orb.MultiLineString{}
	}
	tf := geojson.NewFeature(route)
	tf.Properties = geojson.Properties{
		"kind":         "trench",
		"method":       e.Method,
		"trench_m":     roundCM(e.TrenchM),
		"drop_total_m": roundCM(e.DropTotalM),
		"addresses":    len(e.DropM),
		"unconnected":  e.Unconnected,
	}
	fc.Append(tf)
	for i, d := range e.Drops {
		if d == nil {
			continue
		}
		f := geojson.NewFeature(d)
		f.Properties = geojson.Properties{"kind": "drop", "address": i, "drop_m": roundCM(e.DropM[i])}
		fc.Append(f)
	}
	return fc.MarshalJSON()
}

func roundCM(m float64) float64 { return math.Round(m*100) / 100 }
