package geo_test

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"
)

func TestLocateHolesBoundariesAndOrder(t *testing.T) {
	outer := orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	hole := orb.Ring{{4, 4}, {4, 6}, {6, 6}, {6, 4}, {4, 4}}
	small := orb.MultiPolygon{{orb.Ring{{8, 8}, {12, 8}, {12, 12}, {8, 12}, {8, 8}}}}
	ix := geo.NewAreaIndex([]orb.MultiPolygon{small, {{outer, hole}}})
	for _, tc := range []struct {
		p    orb.Point
		want int
	}{
		{pt(1, 1), 1}, {pt(5, 5), -1}, // inside; in the hole
		{pt(0, 5), 1}, {pt(10, 3), 1}, {pt(3, 0), 1}, {pt(0, 0), 1}, // edges and a vertex
		{pt(4, 5), 1}, {pt(5, 6), 1}, // the hole's boundary belongs to the area
		{pt(9, 9), 0}, {pt(11, 11), 0}, // overlap: the first in order wins
		{pt(-1, 5), -1}, {pt(20, 20), -1},
	} {
		if got := ix.Locate(tc.p); got != tc.want {
			t.Errorf("Locate(%v) = %d, want %d", tc.p, got, tc.want)
		}
	}
}

// Many-vertex rings are banded; check them against orb's own test on random
// points.
func TestLocateMatchesOrbOnGeneratedAreas(t *testing.T) {
	areas := demo.GenerateAreas(demo.Config{Seed: 7, Areas: 40})
	polys := make([]orb.MultiPolygon, len(areas))
	for i, a := range areas {
		polys[i] = a.Polygon
	}
	checkAgainstOrb(t, polys, 20000)
}

// Every boundary vertex belongs to some area: boundaries are inside.
func TestLocateBoundaryVertices(t *testing.T) {
	areas := demo.GenerateAreas(demo.Config{Seed: 3, Areas: 12})
	polys := make([]orb.MultiPolygon, len(areas))
	for i, a := range areas {
		polys[i] = a.Polygon
	}
	ix := geo.NewAreaIndex(polys)
	for i, mp := range polys {
		for _, v := range mp[0][0] {
			got := ix.Locate(v)
			if got < 0 || got > i {
				t.Fatalf("vertex %v of area %d located in %d", v, i, got)
			}
		}
	}
}

func TestLocateMatchesOrbOnParishes(t *testing.T) {
	polys := readParishes(t)
	checkAgainstOrb(t, polys, 2500) // orb's loop over 2,468 polygons is slow
}

func readParishes(tb testing.TB) []orb.MultiPolygon {
	f, err := os.Open(shareddata.Path(tb, "dk_dagi_polygons/derived/sogne.geojson"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	areas, _, err := geo.ReadAreas(f, "sogne.geojson", geo.AreaReadOptions{IDProp: "SOGNEKODE", NameProp: "SOGNENAVN"})
	if err != nil {
		tb.Fatal(err)
	}
	polys := make([]orb.MultiPolygon, len(areas))
	for i, a := range areas {
		polys[i] = a.Polygon
	}
	return polys
}

func checkAgainstOrb(t *testing.T, polys []orb.MultiPolygon, n int) {
	t.Helper()
	ix := geo.NewAreaIndex(polys)
	b := polys[0].Bound()
	for _, p := range polys {
		b = b.Union(p.Bound())
	}
	r := rand.New(rand.NewPCG(1, 2))
	inside := 0
	for range n {
		p := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
		want := -1
		for i, mp := range polys {
			if planar.MultiPolygonContains(mp, p) {
				want = i
				break
			}
		}
		if got := ix.Locate(p); got != want {
			t.Fatalf("Locate(%v) = %d, orb says %d", p, got, want)
		}
		if want >= 0 {
			inside++
		}
	}
	if inside < n/10 {
		t.Fatalf("only %d of %d points inside any area: the test proves little", inside, n)
	}
}

func randomPoints(polys []orb.MultiPolygon, n int) []orb.Point {
	b := polys[0].Bound()
	for _, p := range polys {
		b = b.Union(p.Bound())
	}
	r := rand.New(rand.NewPCG(3, 4))
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
	}
	return pts
}

// BenchmarkAssign compares the area index with the naive loop over all areas
// (orb's planar.MultiPolygonContains, in order) on 2,000 parish-sized areas.
// Both report points/s; the ratio is the speed-up.
func BenchmarkAssign(b *testing.B) {
	areas := demo.GenerateAreas(demo.Config{Seed: 1, Areas: 2000})
	polys := make([]orb.MultiPolygon, len(areas))
	for i, a := range areas {
		polys[i] = a.Polygon
	}
	benchAssign(b, polys)
}

// BenchmarkAssignParishes is the same on the 2,148 real Danish parishes.
func BenchmarkAssignParishes(b *testing.B) {
	benchAssign(b, readParishes(b))
}

func benchAssign(b *testing.B, polys []orb.MultiPolygon) {
	const n = 1_000_000
	pts := randomPoints(polys, n)
	out := make([]int, n)
	b.Run("index-parallel", func(b *testing.B) {
		ix := geo.NewAreaIndex(polys)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ix.LocateAll(pts, out)
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("index-1cpu", func(b *testing.B) {
		ix := geo.NewAreaIndex(polys)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			for i, p := range pts {
				out[i] = ix.Locate(p)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("rtree+orb-1cpu", func(b *testing.B) {
		// The R-tree alone, with orb's unprepared polygon test.
		var tr rtree.RTreeG[int]
		for i, mp := range polys {
			bd := mp.Bound()
			tr.Insert(bd.Min, bd.Max, i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			for _, p := range pts[(i%100)*10000 : (i%100)*10000+10000] {
				best := -1
				tr.Search(p, p, func(_, _ [2]float64, j int) bool {
					if (best < 0 || j < best) && planar.MultiPolygonContains(polys[j], p) {
						best = j
					}
					return true
				})
			}
		}
		b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("naive-1cpu", func(b *testing.B) {
		// Far slower: one op is 1,000 points, not 1M.
		b.ReportAllocs()
		for i := range b.N {
			for _, p := range pts[(i%1000)*1000 : (i%1000)*1000+1000] {
				geo.NaiveLocate(polys, p)
			}
		}
		b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "points/s")
	})
}
