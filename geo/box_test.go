package geo_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
)

// Every point within r of the centre lies in BoxAround, and the box is
// tight: points just beyond its edges along the axes are farther than r.
func TestBoxAround(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		p := orb.Point{rng.Float64()*340 - 170, rng.Float64()*160 - 80}
		r := []float64{10, 150, 2400, 50000}[i%4]
		b := geo.BoxAround(p, r)
		for k := 0; k < 50; k++ {
			ang := rng.Float64() * 2 * math.Pi
			// Walk out from p along ang until just within r.
			lo, hi := 0.0, 10*r/111000
			for n := 0; n < 60; n++ {
				mid := (lo + hi) / 2
				q := orb.Point{p[0] + mid*math.Cos(ang), p[1] + mid*math.Sin(ang)}
				if geo.Distance(p, q) <= r {
					lo = mid
				} else {
					hi = mid
				}
			}
			q := orb.Point{p[0] + lo*math.Cos(ang), p[1] + lo*math.Sin(ang)}
			if !b.Contains(q) {
				t.Fatalf("p %v r %g: %v at %.3f m is outside %v", p, r, q, geo.Distance(p, q), b)
			}
		}
		for _, q := range []orb.Point{{b.Max[0] + 1e-6, p[1]}, {b.Min[0] - 1e-6, p[1]}, {p[0], b.Max[1] + 1e-6}, {p[0], b.Min[1] - 1e-6}} {
			if d := geo.Distance(p, q); d <= r {
				t.Fatalf("p %v r %g: %v just outside %v is only %.3f m away", p, r, q, b, d)
			}
		}
	}
}
