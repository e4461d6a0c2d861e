package report

import (
	"context"
	"io"
	"math"
	"os"

	"github.com/kommunity/kommunity/geo/gpkg"
	"github.com/paulmach/orb"
)

// writeGeoPackage writes tender.gpkg: the layers area, addresses, route
// and pop with the attributes of the GeoJSON files, in EPSG:4326. SQLite
// needs a file, so it is built in a temporary one and copied to w.
func (r *renderer) writeGeoPackage(w io.Writer) error {
	f, err := os.CreateTemp("", "kommunity-tender-*.gpkg")
	if err != nil {
		return err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := gpkg.Write(context.Background(), path, r.t.Now, r.geoPackageLayers()); err != nil {
		return err
	}
	f, err = os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// nullable gives SQL NULL for a missing value.
func nullable[T any](v T, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func (r *renderer) geoPackageLayers() []gpkg.LayerSpec {
	t := r.t
	a := t.Area
	text := func(names ...string) []gpkg.Column {
		cs := make([]gpkg.Column, len(names))
		for i, n := range names {
			cs[i] = gpkg.Column{Name: n, Type: "TEXT"}
		}
		return cs
	}
	col := func(name, typ string) gpkg.Column { return gpkg.Column{Name: name, Type: typ} }
	e := t.Route.Estimate
	return []gpkg.LayerSpec{
		{
			Name: "area", Description: "the tender area", GeometryType: "MULTIPOLYGON",
			Columns: append(text("code", "name", "status", "municipality", "association"),
				col("threshold_percent", "REAL"), col("threshold_units", "INTEGER"),
				col("addresses", "INTEGER"), col("units", "INTEGER"), col("pledged_units", "INTEGER"),
				col("take_up", "REAL"), col("deadline", "TEXT"), col("tender_deadline", "TEXT"), col("area_m2", "REAL")),
			Rows: func(add func(orb.Geometry, ...any) error) error {
				var deadline, tenderDeadline any
				if a.Deadline != nil {
					deadline = a.Deadline.UTC().Format("2006-01-02T15:04:05Z07:00")
				}
				if d := t.TenderDeadline; d != nil {
					tenderDeadline = d.UTC().Format("2006-01-02T15:04:05Z07:00")
				}
				g := a.Geometry
				if g == nil {
					g = orb.MultiPolygon{}
				}
				return add(g, a.Code, a.Name, string(a.Status), t.Municipality, t.Association,
					a.ThresholdPercent, a.ThresholdUnits, a.Addresses, a.Units, a.PledgedUnits,
					math.Round(a.TakeUp()*1e4)/1e4, deadline, tenderDeadline, math.Round(a.AreaM2))
			},
		},
		{
			Name: "addresses", Description: "every address of the area, by address_id", GeometryType: "POINT",
			Columns: append(text("address_id", "text"), col("units", "INTEGER"), col("pledged_units", "INTEGER"), col("drop_m", "REAL")),
			Rows: func(add func(orb.Geometry, ...any) error) error {
				for i, ad := range t.Addresses {
					d := r.dropM[i]
					if err := add(ad.Point, ad.ID, ad.Text, ad.Units, ad.PledgedUnits, nullable(roundCM(d), d >= 0)); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			Name: "route", Description: "the estimated trench and drops", GeometryType: "MULTILINESTRING",
			Columns: append(text("kind", "area_code", "method"), col("trench_m", "REAL"), col("drop_m", "REAL"),
				col("addresses", "INTEGER"), col("units", "INTEGER"), col("unconnected", "INTEGER"), col("address_id", "TEXT")),
			Rows: func(add func(orb.Geometry, ...any) error) error {
				trench := e.Route
				if trench == nil {
					trench = orb.MultiLineString{}
				}
				if err := add(trench, "trench", t.Route.AreaCode, e.Method, roundCM(e.TrenchM), roundCM(e.DropTotalM),
					len(t.Route.Addresses), t.Route.Units, e.Unconnected, nil); err != nil {
					return err
				}
				for i, d := range e.Drops {
					if d == nil {
						continue
					}
					if err := add(orb.MultiLineString{d}, "drop", t.Route.AreaCode, nil, nil, roundCM(e.DropM[i]), nil, nil, nil, t.Route.Addresses[i].ID); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			Name: "pop", Description: "the point of presence the route starts from", GeometryType: "POINT",
			Columns: text("kind", "area_code"),
			Rows: func(add func(orb.Geometry, ...any) error) error {
				return add(t.Route.POP, "pop", t.Route.AreaCode)
			},
		},
	}
}
