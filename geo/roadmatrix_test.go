package geo_test

import (
	"math"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
)

func TestRoadDistancesHandComputed(t *testing.T) {
	// A U of roads: 0,0 -> 1000,0 -> 1000,300 -> 0,300; and a separate
	// road far east. Points a (0,-20) and b (0,320) are 340 m apart in a
	// straight line but 20 + 1000 + 300 + 1000 + 20 = 2340 m by road,
	// which is more than 3x + 1 km: the straight line is used. c (500,
	// 10) and d (1000, 150) are on the U: 10 + 500 + 150 + 0.
	roads := []orb.LineString{
		roadFromMetres(t, [2]float64{0, 0}, [2]float64{1000, 0}, [2]float64{1000, 300}, [2]float64{0, 300}),
		roadFromMetres(t, [2]float64{5000, 0}, [2]float64{5000, 500}),
	}
	pts := fromMetres(t, [2]float64{0, -20}, [2]float64{0, 320}, [2]float64{500, 10}, [2]float64{1000, 150},
		[2]float64{5000, 100}, [2]float64{500, 10})
	rd, err := geo.NewRoadNetwork(roads).Distances(pts)
	if err != nil {
		t.Fatal(err)
	}
	m := rd.Matrix([]int{0, 1, 2, 3, 4, 5})
	near := func(got, want float64, what string) {
		t.Helper()
		if math.Abs(got-want) > 0.5 {
			t.Errorf("%s: %.1f m, want %.1f m", what, got, want)
		}
	}
	near(m[0][1], 340, "a-b: detour too long, straight line")
	near(m[2][3], 660, "c-d along the road")
	near(m[3][2], 660, "symmetric")
	near(m[0][2], 20+500+10, "a-c")
	near(m[3][4], math.Hypot(4000, 50), "d to the unconnected road: straight line")
	near(m[2][5], 0, "one spot")
	near(m[1][1], 0, "itself")
	// A matrix of a subset indexes into the same points.
	sub := rd.Matrix([]int{3, 2})
	near(sub[0][1], 660, "subset")
	if _, err := geo.NewRoadNetwork(roads).Distances([]orb.Point{{math.NaN(), 55}}); err == nil {
		t.Error("a NaN point accepted")
	}
	if _, err := geo.NewRoadNetwork(nil).Distances(pts); err == nil {
		t.Error("an empty network accepted")
	}
}
