package geo_test

import (
	"math"
	"testing"

	"github.com/kommunity/kommunity/geo"
)

// Projected coordinates far outside the CRS's domain are refused, not
// turned into a wrong point; every point of the zone and well beyond it
// (as Danish data in zone 32 reaches Bornholm, 6 degrees east of the
// central meridian) still converts.
func TestToLonLatRefusesOutsideProjection(t *testing.T) {
	utm32, _ := geo.CRSFromEPSG(25832)
	for _, tc := range []struct{ x, y float64 }{{600651, 9e9}, {600651.48, -9e12}, {1e12, 6e6}, {-5e8, 6e6}} {
		if p, err := geo.ToLonLat(tc.x, tc.y, utm32); err == nil {
			t.Errorf("ToLonLat(%g, %g) = %v, want an error", tc.x, tc.y, p)
		}
	}
	worst := 0.0
	for lon := 0.0; lon <= 18; lon += 0.5 {
		for lat := -80.0; lat <= 84; lat += 2 {
			x, y, err := utm32.FromWGS84(lon, lat)
			if err != nil {
				t.Fatal(err)
			}
			p, err := geo.ToLonLat(x, y, utm32)
			if err != nil {
				t.Fatalf("%g %g (from %g %g): %v", x, y, lon, lat, err)
			}
			worst = max(worst, math.Abs(p[0]-lon), math.Abs(p[1]-lat))
		}
	}
	if worst > 1e-7 {
		t.Errorf("round trip off by %g degrees", worst)
	}
}
