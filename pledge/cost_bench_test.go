package pledge_test

import (
	"context"
	"testing"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// demoArea is the one area of a generated municipality with n addresses
// (stragglers outside it left out), its pledges counted, and its roads.
func demoArea(tb testing.TB, n int) (pledge.Area, []pledge.Address, []orb.LineString) {
	tb.Helper()
	m := demo.Generate(demo.Config{Seed: 1, Areas: 1, Addresses: n})
	ix := geo.NewAreaIndex([]orb.MultiPolygon{m.Areas[0].Polygon})
	pledged := map[string]int{}
	for _, p := range m.Pledges {
		pledged[p.AddressID]++
	}
	area := pledge.Area{Code: m.Areas[0].Code, Name: m.Areas[0].Name, Geometry: m.Areas[0].Polygon, ThresholdPercent: 50,
		Status: pledge.StatusCollecting}
	var addrs []pledge.Address
	for _, r := range m.Addresses {
		if ix.Locate(r.Point) < 0 {
			continue
		}
		a := pledge.Address{ID: r.ID, Text: r.Text, Point: r.Point, Units: r.Units, AreaCode: area.Code, PledgedUnits: pledged[r.ID]}
		addrs = append(addrs, a)
		area.Addresses++
		area.Units += a.Units
		area.PledgedUnits += a.PledgedUnits
	}
	return area, addrs, m.Roads
}

// BenchmarkCostCurve10k: the whole curve of a 10,000-address area with
// straight-line routes: preparing the join order and about 15 route
// estimates. Compare with BenchmarkStraightRoute10k, one estimate of all
// addresses, in the same run.
func BenchmarkCostCurve10k(b *testing.B) {
	area, addrs, _ := demoArea(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	var points int
	for b.Loop() {
		m, err := pledge.NewCostModel(area, addrs, pledge.DefaultCostParams(), nil)
		if err != nil {
			b.Fatal(err)
		}
		cv, err := m.Curve(ctx)
		if err != nil {
			b.Fatal(err)
		}
		points = len(cv.Points) + len(cv.IfMoreJoin)
	}
	b.ReportMetric(float64(points), "levels")
}

// BenchmarkCostCurve10kRoads: the same curve along the area's roads (the
// road network built once, outside the loop, as a server would cache it).
func BenchmarkCostCurve10kRoads(b *testing.B) {
	area, addrs, roads := demoArea(b, 10_000)
	rn := geo.NewRoadNetwork(roads)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := pledge.NewCostModel(area, addrs, pledge.DefaultCostParams(), rn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Curve(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewCostModel10k: the join order alone (two EMSTs and Prim's
// walk over the tree).
func BenchmarkNewCostModel10k(b *testing.B) {
	area, addrs, _ := demoArea(b, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pledge.NewCostModel(area, addrs, pledge.DefaultCostParams(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStraightRoute10k is the baseline: one straight-line estimate of
// all the area's addresses.
func BenchmarkStraightRoute10k(b *testing.B) {
	area, addrs, _ := demoArea(b, 10_000)
	m, err := pledge.NewCostModel(area, addrs, pledge.DefaultCostParams(), nil)
	if err != nil {
		b.Fatal(err)
	}
	pts := make([]orb.Point, len(addrs))
	for i, a := range addrs {
		pts[i] = a.Point
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := geo.StraightRoute(m.POP(), pts, geo.RouteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
