package geo

import (
	"math"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// BoxAround is the smallest lon/lat box that holds every point within r
// metres of p by orb's geo.Distance (the equirectangular distance at the
// points' mean latitude, the distance the nearest-address lookup reports).
// Near a pole, or when r reaches round the earth, it spans every longitude.
func BoxAround(p orb.Point, r float64) orb.Bound {
	dLat := r / orb.EarthRadius * 180 / math.Pi
	// A point within r differs by at most dLat in latitude, so the mean
	// latitude lies within dLat/2 of p's, poleward at worst, where a degree
	// of longitude is shortest.
	worst := math.Abs(p[1]) + dLat/2
	dLon := 180.0
	if worst < 89.9 {
		dLon = math.Min(180, dLat/math.Cos(worst*math.Pi/180))
	}
	return orb.Bound{
		Min: orb.Point{math.Max(-180, p[0]-dLon), math.Max(-90, p[1]-dLat)},
		Max: orb.Point{math.Min(180, p[0]+dLon), math.Min(90, p[1]+dLat)},
	}
}

// Distance is orb's geo.Distance in metres, the one BoxAround bounds.
func Distance(a, b orb.Point) float64 { return orbgeo.Distance(a, b) }
