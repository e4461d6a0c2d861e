package geo

import (
	"runtime"
	"sync"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// AreaIndex answers "which area contains this point" for many points. Areas
// are found through an R-tree of their bounds and tested with prepared
// polygons (cached ring bounds, banded edges, even-odd rule).
//
// When areas overlap, the point goes to the area that comes first in the
// order given to NewAreaIndex, so the caller decides the tie-break once.
// An AreaIndex is immutable and safe for concurrent use.
type AreaIndex struct {
	tree  rtree.RTreeG[int32]
	polys []preparedPolygon
}

// NewAreaIndex prepares the polygons, in priority order.
func NewAreaIndex(polys []orb.MultiPolygon) *AreaIndex {
	ix := &AreaIndex{polys: make([]preparedPolygon, len(polys))}
	for i, mp := range polys {
		ix.polys[i] = preparePolygon(mp)
		b := ix.polys[i].bound
		if len(mp) > 0 {
			ix.tree.Insert(b.Min, b.Max, int32(i))
		}
	}
	return ix
}

// Len is the number of areas in the index.
func (ix *AreaIndex) Len() int { return len(ix.polys) }

// Locate returns the position (in NewAreaIndex order) of the first area that
// contains p, boundary included, or -1 when no area does.
func (ix *AreaIndex) Locate(p orb.Point) int {
	best := int32(-1)
	ix.tree.Search(p, p, func(_, _ [2]float64, i int32) bool {
		if (best < 0 || i < best) && ix.polys[i].contains(p) {
			best = i
		}
		return true
	})
	return int(best)
}

// NaiveLocate is Locate without the index and preparation: orb's
// planar.MultiPolygonContains over every area in order. It is the baseline
// for benchmarks and tests.
func NaiveLocate(polys []orb.MultiPolygon, p orb.Point) int {
	for i, mp := range polys {
		if multiPolygonContains(mp, p) {
			return i
		}
	}
	return -1
}

// LocateAll locates every point into out (len(out) >= len(points)), using
// all CPUs: the index is read-only, so workers share it freely.
func (ix *AreaIndex) LocateAll(points []orb.Point, out []int) {
	workers := runtime.GOMAXPROCS(0)
	if len(points) < 4096 || workers == 1 {
		for i, p := range points {
			out[i] = ix.Locate(p)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (len(points) + workers - 1) / workers
	for lo := 0; lo < len(points); lo += chunk {
		hi := min(lo+chunk, len(points))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = ix.Locate(points[i])
			}
		}()
	}
	wg.Wait()
}
