package geo

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// ReadRoads reads road centrelines from a GeoJSON FeatureCollection of
// LineString and MultiLineString features (each part becomes one
// LineString) in EPSG:4326. Positions may be 3-D; z is ignored. A top-level
// "crs" member naming another CRS ({"type":"name","properties":{"name":
// "EPSG:25832"}} or "urn:ogc:def:crs:EPSG::25832") converts coordinates to
// EPSG:4326. Features with a null geometry are skipped.
//
// Problems with the file are *InputError values naming the file and the
// 1-based feature number.
func ReadRoads(r io.Reader, name string) ([]orb.LineString, error) {
	fail := func(feature int, format string, args ...any) error {
		return &InputError{File: name, Feature: feature, Reason: fmt.Sprintf(format, args...)}
	}
	jsonFail := func(feature int, err error) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(feature, "not valid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return fail(feature, "%s", jsonErrorText(te))
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fail(feature, "file ends too early (truncated JSON)")
		}
		return fmt.Errorf("%s: read: %w", name, err)
	}

	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonFail(0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail(0, "not a GeoJSON FeatureCollection: the file is not a JSON object")
	}
	var (
		typ     string
		member  *roadCRS
		lines   []orb.LineString // in the file's CRS until the end
		feature []int            // feature number of each line
		n       int
	)
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, jsonFail(0, err)
		}
		switch kt {
		case "type":
			if err := dec.Decode(&typ); err != nil {
				return nil, jsonFail(0, err)
			}
			if typ != "FeatureCollection" {
				return nil, fail(0, "GeoJSON type %q, want FeatureCollection", typ)
			}
		case "crs":
			if err := dec.Decode(&member); err != nil {
				return nil, fail(0, "crs member: %s", jsonErrorText(err))
			}
		case "features":
			if tok, err := dec.Token(); err != nil {
				return nil, jsonFail(0, err)
			} else if d, ok := tok.(json.Delim); !ok || d != '[' {
				return nil, fail(0, `"features" is not an array`)
			}
			for dec.More() {
				n++
				var f roadFeature
				if err := dec.Decode(&f); err != nil {
					return nil, jsonFail(n, err)
				}
				ls, err := f.lines()
				if err != nil {
					return nil, fail(n, "%v", err)
				}
				for range ls {
					feature = append(feature, n)
				}
				lines = append(lines, ls...)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonFail(n, err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, jsonFail(0, err)
			}
		}
	}
	if typ == "" {
		return nil, fail(0, `not a GeoJSON FeatureCollection: no "type" member`)
	}
	crs, err := member.resolve()
	if err != nil {
		return nil, fail(0, "crs member: %v", err)
	}
	for k, ls := range lines {
		for j, p := range ls {
			q, err := ToLonLat(p[0], p[1], crs)
			if err != nil {
				return nil, fail(feature[k], "position %d: %v", j+1, err)
			}
			ls[j] = q
		}
	}
	return lines, nil
}

type roadCRS struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
		Code int    `json:"code"` // the 2008 GeoJSON draft's {"type":"EPSG"} form
	} `json:"properties"`
}

func (c *roadCRS) resolve() (*CRS, error) {
	switch {
	case c == nil:
		return WGS84, nil
	case c.Properties.Name != "":
		return ParseCRS(c.Properties.Name)
	case c.Properties.Code != 0:
		return CRSFromEPSG(c.Properties.Code)
	}
	return nil, fmt.Errorf(`want {"type":"name","properties":{"name":"EPSG:N"}}`)
}

type roadFeature struct {
	Type     string `json:"type"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

func (f *roadFeature) lines() ([]orb.LineString, error) {
	if f.Type != "Feature" {
		return nil, fmt.Errorf("type %q, want Feature", f.Type)
	}
	g := f.Geometry
	if g == nil {
		return nil, nil
	}
	switch g.Type {
	case "LineString":
		var c [][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, fmt.Errorf("LineString coordinates are not an array of positions")
		}
		ls, err := roadLine(c)
		if err != nil {
			return nil, err
		}
		return []orb.LineString{ls}, nil
	case "MultiLineString":
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, fmt.Errorf("MultiLineString coordinates are not an array of position arrays")
		}
		out := make([]orb.LineString, 0, len(c))
		for k, part := range c {
			ls, err := roadLine(part)
			if err != nil {
				return nil, fmt.Errorf("part %d: %w", k+1, err)
			}
			out = append(out, ls)
		}
		return out, nil
	case "":
		return nil, fmt.Errorf("geometry has no type")
	}
	return nil, fmt.Errorf("geometry type %s, want LineString or MultiLineString", g.Type)
}

func roadLine(c [][]float64) (orb.LineString, error) {
	if len(c) < 2 {
		return nil, fmt.Errorf("line has %d positions, want at least 2", len(c))
	}
	ls := make(orb.LineString, len(c))
	for j, pos := range c {
		if len(pos) < 2 {
			return nil, fmt.Errorf("position %d has %d numbers, want at least 2", j+1, len(pos))
		}
		ls[j] = orb.Point{pos[0], pos[1]}
	}
	return ls, nil
}

// RoadNetwork is a road graph for road-following route estimates, in the
// UTM zone of the roads' bounding box centre. It is immutable and safe for
// concurrent use.
type RoadNetwork struct {
	crs    *CRS
	xy     []orb.Point // vertices of every edge; edge e is xy[e.first : e.last+1]
	cum    []float64   // distance along its edge at each vertex
	edges  []roadEdge
	nodeXY []orb.Point
	comp   []int32 // connected component of each node
	segs   rtree.RTreeG[int32]
	length float64
}

type roadEdge struct {
	from, to    int32
	first, last int32 // vertex range in xy, inclusive
}

// NewRoadNetwork builds the graph of lines (EPSG:4326). Nodes are the
// line ends and every vertex that several lines (or one line twice) share
// exactly; lines are split into edges there, so roads that only cross
// without a shared vertex (bridges, tunnels) stay unconnected. Vertices that
// are not finite longitude/latitude degrees are dropped. Only nodes carry
// graph structure; intermediate vertices stay in flat arrays with a segment
// R-tree for snapping.
func NewRoadNetwork(lines []orb.LineString) *RoadNetwork {
	var bound orb.Bound
	first := true
	for _, ls := range lines {
		for _, p := range ls {
			if checkLonLat(p) != nil {
				continue
			}
			if first {
				bound, first = p.Bound(), false
			} else {
				bound = bound.Extend(p)
			}
		}
	}
	rn := &RoadNetwork{crs: UTMFor(bound.Center())}

	// Project, dropping repeated vertices; pxy holds the lines back to back.
	var pxy []orb.Point
	var ranges [][2]int32
	count := make(map[orb.Point]int32)
	for _, ls := range lines {
		start := len(pxy)
		for _, p := range ls {
			if checkLonLat(p) != nil {
				continue
			}
			x, y, err := rn.crs.FromWGS84(p[0], p[1])
			if err != nil {
				continue
			}
			q := orb.Point{x, y}
			if len(pxy) > start && pxy[len(pxy)-1] == q {
				continue
			}
			pxy = append(pxy, q)
		}
		if len(pxy)-start < 2 {
			pxy = pxy[:start]
			continue
		}
		ranges = append(ranges, [2]int32{int32(start), int32(len(pxy))})
		for _, q := range pxy[start:] {
			count[q]++
		}
		// Ends are always nodes.
		count[pxy[start]] += 2
		count[pxy[len(pxy)-1]] += 2
	}

	nodeID := make(map[orb.Point]int32)
	node := func(q orb.Point) int32 {
		id, ok := nodeID[q]
		if !ok {
			id = int32(len(rn.nodeXY))
			nodeID[q] = id
			rn.nodeXY = append(rn.nodeXY, q)
		}
		return id
	}
	rn.xy = make([]orb.Point, 0, len(pxy)+len(pxy)/4)
	rn.cum = make([]float64, 0, cap(rn.xy))
	for _, r := range ranges {
		line := pxy[r[0]:r[1]]
		s := 0
		for j := 1; j < len(line); j++ {
			if j < len(line)-1 && count[line[j]] < 2 {
				continue
			}
			e := roadEdge{from: node(line[s]), to: node(line[j]), first: int32(len(rn.xy))}
			d := 0.0
			for k := s; k <= j; k++ {
				if k > s {
					d += math.Sqrt(dist2(line[k-1], line[k]))
				}
				rn.xy = append(rn.xy, line[k])
				rn.cum = append(rn.cum, d)
			}
			e.last = int32(len(rn.xy) - 1)
			rn.edges = append(rn.edges, e)
			rn.length += d
			s = j
		}
	}

	uf := newUnionFind(len(rn.nodeXY))
	for _, e := range rn.edges {
		uf.union(e.from, e.to)
		for i := e.first; i < e.last; i++ {
			a, b := rn.xy[i], rn.xy[i+1]
			rn.segs.Insert([2]float64{min(a[0], b[0]), min(a[1], b[1])}, [2]float64{max(a[0], b[0]), max(a[1], b[1])}, i)
		}
	}
	rn.comp = make([]int32, len(rn.nodeXY))
	for v := range rn.comp {
		rn.comp[v] = uf.find(int32(v))
	}
	return rn
}

// LengthM is the total length of the roads in metres.
func (rn *RoadNetwork) LengthM() float64 { return rn.length }

// NodeCount is the number of graph nodes (junctions and line ends).
func (rn *RoadNetwork) NodeCount() int { return len(rn.nodeXY) }

// EdgeCount is the number of graph edges (roads between nodes).
func (rn *RoadNetwork) EdgeCount() int { return len(rn.edges) }

func (rn *RoadNetwork) edgeLen(e int32) float64 { return rn.cum[rn.edges[e].last] }

// edgeOf returns the edge holding segment (vertex index) i.
func (rn *RoadNetwork) edgeOf(i int32) int32 {
	k, _ := slices.BinarySearchFunc(rn.edges, i, func(e roadEdge, i int32) int { return cmp.Compare(e.first, i) })
	if k == len(rn.edges) || rn.edges[k].first > i {
		k--
	}
	return int32(k)
}

// roadSnap is where a terminal meets the road network.
type roadSnap struct {
	edge int32
	off  float64   // distance along the edge from its from-node
	q    orb.Point // the point on the road
	d    float64   // straight distance from the terminal to q
}

// snap finds the nearest point on the nearest road segment.
func (rn *RoadNetwork) snap(p orb.Point) roadSnap {
	seg := int32(-1)
	rn.segs.Nearby(
		func(lo, hi [2]float64, i int32, item bool) float64 {
			if item {
				q, _ := nearestOnSegment(p, rn.xy[i], rn.xy[i+1])
				return dist2(p, q)
			}
			dx := max(lo[0]-p[0], 0, p[0]-hi[0])
			dy := max(lo[1]-p[1], 0, p[1]-hi[1])
			return dx*dx + dy*dy
		},
		func(_, _ [2]float64, i int32, _ float64) bool {
			seg = i
			return false
		},
	)
	q, t := nearestOnSegment(p, rn.xy[seg], rn.xy[seg+1])
	off := rn.cum[seg] + t*(rn.cum[seg+1]-rn.cum[seg])
	switch t {
	case 0:
		off = rn.cum[seg]
	case 1:
		off = rn.cum[seg+1] // exactly the next vertex, so terminals there share a node
	}
	return roadSnap{edge: rn.edgeOf(seg), off: off, q: q, d: math.Sqrt(dist2(p, q))}
}

// nearestOnSegment returns the point of segment ab nearest p and its
// parameter t in [0, 1]; the ends are returned exactly.
func nearestOnSegment(p, a, b orb.Point) (orb.Point, float64) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / (dx*dx + dy*dy)
	switch {
	case !(t > 0):
		return a, 0
	case t >= 1:
		return b, 1
	}
	return orb.Point{a[0] + t*dx, a[1] + t*dy}, t
}

// Route estimates the trench along the roads joining the POP and the
// addresses. Each of them is snapped to the nearest point of the nearest
// road segment; an address's drop is its straight distance to that point
// (addresses at one coordinate share one drop, charged to the first in
// input order). The snapped terminals are joined by an approximate Steiner
// tree over the roads (Mehlhorn's algorithm, at most twice the optimum):
// one multi-source Dijkstra from all terminals gives each road node its
// nearest terminal, Kruskal's algorithm over the edges between those
// regions picks the connections, and each is expanded to its road path.
// The trench is the total length of the distinct road pieces used, plus the
// POP's straight link to its road, with no detour factor (opt is ignored).
//
// Terminals on roads that are not connected to each other are joined by the
// shortest straight links between their snapped points, which count as
// trench; Unconnected reports how many addresses lie on roads without a
// road connection to the POP's.
//
// The whole road component is searched, so clip a large network to the
// area first. Route is safe for concurrent use.
func (rn *RoadNetwork) Route(pop orb.Point, addrs []orb.Point, opt RouteOptions) (RouteEstimate, error) {
	ts, err := newTerminals(pop, addrs)
	if err != nil {
		return RouteEstimate{}, fmt.Errorf("road route: %w", err)
	}
	if len(rn.edges) == 0 {
		return RouteEstimate{}, fmt.Errorf("road route: the road network is empty")
	}
	est := newEstimate(MethodRoad, len(addrs))
	if len(ts.pts) < 2 {
		return est, nil
	}
	xy, err := projectAll(rn.crs, ts.pts)
	if err != nil {
		return RouteEstimate{}, fmt.Errorf("road route: %w", err)
	}
	nt := len(xy)
	snaps := make([]roadSnap, nt)
	for k, p := range xy {
		snaps[k] = rn.snap(p)
	}
	g := rn.splitAt(snaps)

	// Multi-source Dijkstra: each node learns its nearest terminal (src).
	uf := newUnionFind(nt)
	dist := make([]float64, g.n)
	src := make([]int32, g.n)
	pred := make([]int32, g.n)
	for v := range dist {
		dist[v], src[v], pred[v] = math.Inf(1), -1, -1
	}
	var h DistHeap
	for k, v := range g.termNode {
		if src[v] >= 0 {
			uf.union(int32(k), src[v]) // same road point: joined for free
			continue
		}
		src[v], dist[v] = int32(k), 0
		h.Push(0, v)
	}
	for h.Len() > 0 {
		d, u := h.Pop()
		if d > dist[u] {
			continue
		}
		for _, ei := range g.adj[g.adjStart[u]:g.adjStart[u+1]] {
			e := &g.edges[ei]
			v := e.u
			if v == u {
				v = e.v
			}
			if nd := d + e.w; nd < dist[v] {
				dist[v], src[v], pred[v] = nd, src[u], ei
				h.Push(nd, v)
			}
		}
	}

	// Kruskal over the edges that cross between two terminals' regions.
	type bridge struct {
		w float64
		e int32
	}
	var bridges []bridge
	for ei, e := range g.edges {
		if su, sv := src[e.u], src[e.v]; su >= 0 && sv >= 0 && su != sv {
			bridges = append(bridges, bridge{dist[e.u] + e.w + dist[e.v], int32(ei)})
		}
	}
	slices.SortFunc(bridges, func(a, b bridge) int { return cmp.Compare(a.w, b.w) })
	used := make([]bool, len(g.edges))
	markPath := func(v int32) {
		for pred[v] >= 0 && !used[pred[v]] {
			e := &g.edges[pred[v]]
			used[pred[v]] = true
			if e.u == v {
				v = e.v
			} else {
				v = e.u
			}
		}
	}
	for _, b := range bridges {
		e := &g.edges[b.e]
		if uf.union(src[e.u], src[e.v]) {
			used[b.e] = true
			markPath(e.u)
			markPath(e.v)
		}
	}

	lonlat := func(q orb.Point) orb.Point {
		lon, lat, err := rn.crs.ToWGS84(q[0], q[1])
		if err != nil {
			return orb.Point{math.NaN(), math.NaN()}
		}
		return orb.Point{lon, lat}
	}
	var trench float64
	for ei, u := range used {
		if u {
			e := &g.edges[ei]
			trench += e.w
			piece := g.piece(rn, e)
			for j, q := range piece {
				piece[j] = lonlat(q)
			}
			est.Route = append(est.Route, piece)
		}
	}
	snapLL := make([]orb.Point, nt)
	for k := range snaps {
		snapLL[k] = lonlat(snaps[k].q)
	}
	if d := snaps[0].d; d > 0 {
		trench += d
		est.Route = append(est.Route, orb.LineString{ts.pts[0], snapLL[0]})
	}

	// Straight links between road components, shortest first; EMST edges
	// suffice because the MST of the contracted graph uses only them.
	if uf.size[uf.find(0)] < int32(nt) {
		sxy := make([]orb.Point, nt)
		for k := range snaps {
			sxy[k] = snaps[k].q
		}
		links, _ := EMST(sxy)
		slices.SortFunc(links, func(a, b [2]int) int {
			return cmp.Compare(dist2(sxy[a[0]], sxy[a[1]]), dist2(sxy[b[0]], sxy[b[1]]))
		})
		for _, l := range links {
			if uf.union(int32(l[0]), int32(l[1])) {
				trench += math.Sqrt(dist2(sxy[l[0]], sxy[l[1]]))
				est.Route = append(est.Route, orb.LineString{snapLL[l[0]], snapLL[l[1]]})
			}
		}
	}
	est.TrenchM = trench

	popComp := rn.comp[rn.edges[snaps[0].edge].from]
	for i, k := range ts.addrTerm {
		if rn.comp[rn.edges[snaps[k].edge].from] != popComp {
			est.Unconnected++
		}
		if k == 0 || ts.owner[k] != int32(i) {
			continue // at the POP, or sharing an earlier address's drop
		}
		if d := snaps[k].d; d > 0 {
			est.DropM[i] = d
			est.Drops[i] = orb.LineString{ts.pts[k], snapLL[k]}
		}
	}
	est.sumDrops()
	return est, nil
}

// routeGraph is the road graph with the edges that hold snapped terminals
// split at them, built per route.
type routeGraph struct {
	n        int // nodes: the network's, then one per interior snap point
	virtXY   []orb.Point
	edges    []routeEdge
	adjStart []int32
	adj      []int32
	termNode []int32
}

type routeEdge struct {
	u, v   int32
	w      float64
	base   int32
	s0, s1 float64 // offsets along the base edge: u is at s0, v at s1
}

func (rn *RoadNetwork) splitAt(snaps []roadSnap) *routeGraph {
	nReal := int32(len(rn.nodeXY))
	g := &routeGraph{termNode: make([]int32, len(snaps))}
	order := make([]int32, len(snaps))
	for k := range order {
		order[k] = int32(k)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(snaps[a].edge, snaps[b].edge); c != 0 {
			return c
		}
		return cmp.Compare(snaps[a].off, snaps[b].off)
	})
	split := make([]bool, len(rn.edges))
	g.edges = make([]routeEdge, 0, len(rn.edges)+len(snaps))
	for i := 0; i < len(order); {
		ei := snaps[order[i]].edge
		e := rn.edges[ei]
		length := rn.edgeLen(ei)
		split[ei] = true
		prev, prevOff := e.from, 0.0
		for ; i < len(order) && snaps[order[i]].edge == ei; i++ {
			k := order[i]
			s := snaps[k]
			var v int32
			switch {
			case s.off == prevOff:
				v = prev
			case s.off == length:
				v = e.to
			default:
				v = nReal + int32(len(g.virtXY))
				g.virtXY = append(g.virtXY, s.q)
			}
			if s.off != prevOff {
				g.edges = append(g.edges, routeEdge{u: prev, v: v, w: s.off - prevOff, base: ei, s0: prevOff, s1: s.off})
				prev, prevOff = v, s.off
			}
			g.termNode[k] = v
		}
		if prevOff != length {
			g.edges = append(g.edges, routeEdge{u: prev, v: e.to, w: length - prevOff, base: ei, s0: prevOff, s1: length})
		}
	}
	for ei, e := range rn.edges {
		if !split[ei] {
			g.edges = append(g.edges, routeEdge{u: e.from, v: e.to, w: rn.edgeLen(int32(ei)), base: int32(ei), s1: rn.edgeLen(int32(ei))})
		}
	}
	g.n = int(nReal) + len(g.virtXY)
	g.adjStart = make([]int32, g.n+1)
	for _, e := range g.edges {
		g.adjStart[e.u+1]++
		g.adjStart[e.v+1]++
	}
	for v := range g.n {
		g.adjStart[v+1] += g.adjStart[v]
	}
	g.adj = make([]int32, g.adjStart[g.n])
	fill := slices.Clone(g.adjStart[:g.n])
	for ei, e := range g.edges {
		g.adj[fill[e.u]] = int32(ei)
		fill[e.u]++
		g.adj[fill[e.v]] = int32(ei)
		fill[e.v]++
	}
	return g
}

// piece returns the road geometry of e in projected metres, from u to v.
func (g *routeGraph) piece(rn *RoadNetwork, e *routeEdge) orb.LineString {
	b := rn.edges[e.base]
	ls := orb.LineString{g.nodeXY(rn, e.u)}
	for i := b.first + 1; i < b.last; i++ {
		if c := rn.cum[i]; c > e.s0 && c < e.s1 {
			ls = append(ls, rn.xy[i])
		}
	}
	return append(ls, g.nodeXY(rn, e.v))
}

func (g *routeGraph) nodeXY(rn *RoadNetwork, v int32) orb.Point {
	if int(v) < len(rn.nodeXY) {
		return rn.nodeXY[v]
	}
	return g.virtXY[int(v)-len(rn.nodeXY)]
}
