package postgres

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// srid of every stored geometry: lon/lat on WGS 84.
const srid = 4326

// multiPolygon carries an orb.MultiPolygon through pgx-geom, which encodes
// and decodes go-geom values (a raw EWKB []byte parameter is rejected on a
// connection where pgx-geom's types are registered).
type multiPolygon struct{ mp *orb.MultiPolygon }

// GeomValue implements pgxgeom.GeomValuer.
func (m multiPolygon) GeomValue() (geom.T, error) {
	var flat []float64
	endss := make([][]int, 0, len(*m.mp))
	for _, poly := range *m.mp {
		ends := make([]int, 0, len(poly))
		for _, ring := range poly {
			for _, p := range ring {
				flat = append(flat, p[0], p[1])
			}
			ends = append(ends, len(flat))
		}
		endss = append(endss, ends)
	}
	return geom.NewMultiPolygonFlat(geom.XY, flat, endss).SetSRID(srid), nil
}

// ScanGeom implements pgxgeom.GeomScanner.
func (m multiPolygon) ScanGeom(g geom.T) error {
	gm, ok := g.(*geom.MultiPolygon)
	if !ok {
		return fmt.Errorf("geometry is %T, want a multipolygon", g)
	}
	stride := gm.Stride()
	flat := gm.FlatCoords()
	out := make(orb.MultiPolygon, 0, gm.NumPolygons())
	start := 0
	for _, ends := range gm.Endss() {
		poly := make(orb.Polygon, 0, len(ends))
		for _, end := range ends {
			ring := make(orb.Ring, 0, (end-start)/stride)
			for i := start; i < end; i += stride {
				ring = append(ring, orb.Point{flat[i], flat[i+1]})
			}
			poly = append(poly, ring)
			start = end
		}
		out = append(out, poly)
	}
	*m.mp = out
	return nil
}

// lineString carries an orb.LineString through pgx-geom.
type lineString struct{ ls *orb.LineString }

// GeomValue implements pgxgeom.GeomValuer.
func (l lineString) GeomValue() (geom.T, error) {
	flat := make([]float64, 0, 2*len(*l.ls))
	for _, p := range *l.ls {
		flat = append(flat, p[0], p[1])
	}
	return geom.NewLineStringFlat(geom.XY, flat).SetSRID(srid), nil
}

// ScanGeom implements pgxgeom.GeomScanner.
func (l lineString) ScanGeom(g geom.T) error {
	gl, ok := g.(*geom.LineString)
	if !ok {
		return fmt.Errorf("geometry is %T, want a linestring", g)
	}
	flat, stride := gl.FlatCoords(), gl.Stride()
	out := make(orb.LineString, 0, len(flat)/stride)
	for i := 0; i+1 < len(flat); i += stride {
		out = append(out, orb.Point{flat[i], flat[i+1]})
	}
	*l.ls = out
	return nil
}
