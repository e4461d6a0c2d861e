package geo_test

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
)

// randomPlanar returns n points uniform in a square of side metres.
func randomPlanar(n int, side float64, seed uint64) []orb.Point {
	r := rand.New(rand.NewPCG(seed, 42))
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{600000 + r.Float64()*side, 6190000 + r.Float64()*side}
	}
	return pts
}

// BenchmarkStraightRoute100k: a POP and 100,000 addresses in a 20 km box,
// including projection and building the result.
func BenchmarkStraightRoute100k(b *testing.B) {
	c, err := geo.CRSFromEPSG(32632)
	if err != nil {
		b.Fatal(err)
	}
	xy := randomPlanar(100_001, 20000, 1)
	pts := make([]orb.Point, len(xy))
	for i, p := range xy {
		lon, lat, err := c.ToWGS84(p[0], p[1])
		if err != nil {
			b.Fatal(err)
		}
		pts[i] = orb.Point{lon, lat}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := geo.StraightRoute(pts[0], pts[1:], geo.RouteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEMST20k and BenchmarkPrim20k compare the O(n log n) EMST with
// the naive O(n²) baseline on the same points; both report the tree length.
func BenchmarkEMST20k(b *testing.B) { benchMST(b, geo.EMST) }

func BenchmarkPrim20k(b *testing.B) { benchMST(b, geo.PrimMST) }

func benchMST(b *testing.B, mst func([]orb.Point) ([][2]int, float64)) {
	pts := randomPlanar(20_000, 20000, 2)
	var length float64
	b.ReportAllocs()
	for b.Loop() {
		_, length = mst(pts)
	}
	b.ReportMetric(length, "m")
}

// BenchmarkRoadRouteSamsoe: all 4,596 Samsø addresses over the island's
// roads (the network is built once, outside the loop).
func BenchmarkRoadRouteSamsoe(b *testing.B) {
	rn := geo.NewRoadNetwork(readRoadsFile(b, "samsoe_osm/derived/roads.geojson"))
	addrs := readLonLatCSV(b, shareddata.Path(b, "samsoe_osm/derived/addresses.csv"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rn.Route(samsoePOP, addrs, geo.RouteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRoadNetworkSamsoe: building the graph and segment index of
// the 1,935 Samsø roads.
func BenchmarkNewRoadNetworkSamsoe(b *testing.B) {
	lines := readRoadsFile(b, "samsoe_osm/derived/roads.geojson")
	b.ReportAllocs()
	for b.Loop() {
		geo.NewRoadNetwork(lines)
	}
}
