package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// RoadDistances answers distances along the roads between a fixed set of
// points (the stops of walk lists): each point is snapped to its nearest
// road once, and the road graph is split at the snap points once, so that
// many small matrices (one per walk) cost one bounded Dijkstra search per
// stop. It is not safe for concurrent use (it reuses search buffers).
type RoadDistances struct {
	rn    *RoadNetwork
	g     *routeGraph
	snaps []roadSnap
	xy    []orb.Point // projected points
	// search buffers, reset after each search
	dist    []float64
	touched []int32
}

// Distances prepares road distances between pts (EPSG:4326).
func (rn *RoadNetwork) Distances(pts []orb.Point) (*RoadDistances, error) {
	if len(rn.edges) == 0 {
		return nil, fmt.Errorf("road distances: the road network is empty")
	}
	for i, p := range pts {
		if err := checkLonLat(p); err != nil {
			return nil, fmt.Errorf("road distances: point %d (0-based): %w", i, err)
		}
	}
	xy, err := projectAll(rn.crs, pts)
	if err != nil {
		return nil, fmt.Errorf("road distances: %w", err)
	}
	rd := &RoadDistances{rn: rn, xy: xy, snaps: make([]roadSnap, len(xy))}
	for k, p := range xy {
		rd.snaps[k] = rn.snap(p)
	}
	rd.g = rn.splitAt(rd.snaps)
	rd.dist = make([]float64, rd.g.n)
	for v := range rd.dist {
		rd.dist[v] = math.Inf(1)
	}
	return rd, nil
}

// Matrix returns the symmetric matrix of distances in metres between the
// points idx (indexes into the points given to Distances): the straight
// walk from each point to its road, along the roads, and to the other.
// Where the road path is missing (roads not connected) or longer than
// three times the straight line plus a kilometre, the search stops and
// the straight distance is used: nobody walks a 10 km detour to a
// neighbour across a field, and it bounds each search to the walk's
// neighbourhood.
func (rd *RoadDistances) Matrix(idx []int) [][]float64 {
	n := len(idx)
	flat := make([]float64, n*n)
	m := make([][]float64, n)
	for i := range m {
		m[i] = flat[i*n : (i+1)*n]
	}
	straight := func(a, b int) float64 { return math.Sqrt(dist2(rd.xy[a], rd.xy[b])) }
	target := map[int32][]int{} // graph node -> positions in idx
	for j, k := range idx {
		v := rd.g.termNode[k]
		target[v] = append(target[v], j)
	}
	g := rd.g
	var h DistHeap
	for i, k := range idx {
		// Only pairs (i, j>i) are searched; the matrix is symmetric.
		limit := 0.0
		want := 0
		for j := i + 1; j < n; j++ {
			s := straight(k, idx[j])
			m[i][j] = s
			limit = max(limit, 3*s+1000)
			want++
		}
		if want == 0 {
			continue
		}
		src := g.termNode[k]
		found := 0
		h = h[:0]
		rd.dist[src] = 0
		rd.touched = append(rd.touched[:0], src)
		h.Push(0, src)
		for h.Len() > 0 && found < want {
			d, u := h.Pop()
			if d > rd.dist[u] {
				continue
			}
			if d > limit {
				break
			}
			for _, j := range target[u] {
				if j > i {
					s := m[i][j]
					if s < 1 {
						// one spot (a farm's several addresses): no road trip
					} else if r := rd.snaps[k].d + d + rd.snaps[idx[j]].d; r < 3*s+1000 {
						m[i][j] = max(r, s)
					}
					found++
				}
			}
			for _, ei := range g.adj[g.adjStart[u]:g.adjStart[u+1]] {
				e := &g.edges[ei]
				v := e.u
				if v == u {
					v = e.v
				}
				if nd := d + e.w; nd < rd.dist[v] {
					if math.IsInf(rd.dist[v], 1) {
						rd.touched = append(rd.touched, v)
					}
					rd.dist[v] = nd
					h.Push(nd, v)
				}
			}
		}
		for _, v := range rd.touched {
			rd.dist[v] = math.Inf(1)
		}
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			m[j][i] = m[i][j]
		}
	}
	return m
}
