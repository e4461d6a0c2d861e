package geo

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// multiPolygonContains is the unprepared test used as a baseline: orb's own
// point-in-polygon, which recomputes ring bounds on every call.
func multiPolygonContains(mp orb.MultiPolygon, p orb.Point) bool {
	return planar.MultiPolygonContains(mp, p)
}
