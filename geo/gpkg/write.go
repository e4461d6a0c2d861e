package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// GeoPackage 1.3 identifies itself in the SQLite header (spec 1.1.1.1.1).
const (
	applicationID = 0x47504B47 // "GPKG"
	userVersion   = 10300
)

// WGS84 is the srs_id (and EPSG code) the writer's layers use.
const WGS84 = 4326

const wgs84WKT = `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]`

// Column is an attribute column of a layer: Type is TEXT, INTEGER or REAL.
type Column struct {
	Name, Type string
}

// LayerSpec describes a features table in EPSG:4326.
type LayerSpec struct {
	Name        string
	Description string
	// GeometryType is the spec's name: POINT, LINESTRING, MULTIPOLYGON,
	// MULTILINESTRING, GEOMETRY, ...
	GeometryType string
	Columns      []Column
	// Rows calls add once per feature, in the order fids are given:
	// the geometry (orb, longitude/latitude) and one value per column
	// (string, int, float64 or nil).
	Rows func(add func(g orb.Geometry, values ...any) error) error
}

// Write creates the GeoPackage at path (an empty or absent file) with the
// given layers, every gpkg_contents.last_change set to date. The same
// layers and date give the same bytes: the tables, rows and their fids are
// written in one fixed order, in one transaction, with nothing taken from
// the clock. No spatial index is written; GIS tools open the file without.
func Write(ctx context.Context, path string, date time.Time, layers []LayerSpec) (err error) {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?_pragma=journal_mode(memory)&_pragma=synchronous(off)")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		fmt.Sprintf("PRAGMA application_id = %d", applicationID),
		fmt.Sprintf("PRAGMA user_version = %d", userVersion),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
		`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`,
		`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`,
		`INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined Cartesian coordinate reference system')`,
		`INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system')`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', ?, 'EPSG', ?, ?, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')`, WGS84, WGS84, wgs84WKT); err != nil {
		return err
	}
	lastChange := date.UTC().Format("2006-01-02T15:04:05.000Z")
	for _, l := range layers {
		if err := writeLayer(ctx, tx, l, lastChange); err != nil {
			return fmt.Errorf("gpkg layer %s: %w", l.Name, err)
		}
	}
	return tx.Commit()
}

func writeLayer(ctx context.Context, tx *sql.Tx, l LayerSpec, lastChange string) error {
	defs := []string{"fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL", "geom " + l.GeometryType}
	names := []string{"geom"}
	for _, c := range l.Columns {
		switch c.Type {
		case "TEXT", "INTEGER", "REAL":
		default:
			return fmt.Errorf("column %s: type %q, want TEXT, INTEGER or REAL", c.Name, c.Type)
		}
		defs = append(defs, quote(c.Name)+" "+c.Type)
		names = append(names, quote(c.Name))
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+quote(l.Name)+` (`+strings.Join(defs, ", ")+`)`); err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO `+quote(l.Name)+` (`+strings.Join(names, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(l.Columns))+`)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	bound := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	args := make([]any, 1+len(l.Columns))
	err = l.Rows(func(g orb.Geometry, values ...any) error {
		if len(values) != len(l.Columns) {
			return fmt.Errorf("%d values for %d columns", len(values), len(l.Columns))
		}
		gg, err := FromOrb(g)
		if err != nil {
			return err
		}
		blob, err := EncodeGeometry(gg, WGS84)
		if err != nil {
			return err
		}
		if !gg.Empty() {
			bound = bound.Union(g.Bound())
		}
		args[0] = blob
		copy(args[1:], values)
		_, err = ins.ExecContext(ctx, args...)
		return err
	})
	if err != nil {
		return err
	}
	var minX, minY, maxX, maxY any
	if !math.IsInf(bound.Min[0], 1) {
		minX, minY, maxX, maxY = bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.Name, l.Name, l.Description, lastChange, minX, minY, maxX, maxY, WGS84); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)`, l.Name, l.GeometryType, WGS84)
	return err
}

// FromOrb converts an orb geometry (2-D) to go-geom.
func FromOrb(g orb.Geometry) (geom.T, error) {
	flat := func(ps []orb.Point) []float64 {
		out := make([]float64, 0, 2*len(ps))
		for _, p := range ps {
			out = append(out, p[0], p[1])
		}
		return out
	}
	switch x := g.(type) {
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{x[0], x[1]}), nil
	case orb.LineString:
		return geom.NewLineStringFlat(geom.XY, flat(x)), nil
	case orb.MultiLineString:
		m := geom.NewMultiLineString(geom.XY)
		for _, ls := range x {
			if err := m.Push(geom.NewLineStringFlat(geom.XY, flat(ls))); err != nil {
				return nil, err
			}
		}
		return m, nil
	case orb.Polygon:
		p := geom.NewPolygon(geom.XY)
		for _, r := range x {
			if err := p.Push(geom.NewLinearRingFlat(geom.XY, flat(r))); err != nil {
				return nil, err
			}
		}
		return p, nil
	case orb.MultiPolygon:
		m := geom.NewMultiPolygon(geom.XY)
		for _, poly := range x {
			p, err := FromOrb(poly)
			if err != nil {
				return nil, err
			}
			if err := m.Push(p.(*geom.Polygon)); err != nil {
				return nil, err
			}
		}
		return m, nil
	case nil:
		return nil, errors.New("no geometry")
	}
	return nil, fmt.Errorf("unsupported geometry %T", g)
}
