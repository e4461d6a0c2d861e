package geo_test

import "github.com/paulmach/orb"

type orbMP = orb.MultiPolygon

func pt(x, y float64) orb.Point { return orb.Point{x, y} }
