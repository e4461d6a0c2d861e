package pledge_test

import (
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

func distance(a, b orb.Point) float64 { return orbgeo.Distance(a, b) }
