package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kommunity/kommunity/geo"

	// registers the "sqlite" database/sql driver
	_ "modernc.org/sqlite"
)

// Layer is one features table of a GeoPackage, open for reading.
type Layer struct {
	*geo.VectorLayer
	Name  string // the table
	Count int    // features in it
	db    *sql.DB
	rows  *sql.Rows
}

// Close closes the file.
func (l *Layer) Close() error {
	if l.rows != nil {
		l.rows.Close()
	}
	return l.db.Close()
}

// quote quotes an SQL identifier; table and column names come from the
// file, so they are never pasted in bare.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// OpenLayer opens the features table layer of the GeoPackage at path, read
// only; file names it in messages. With layer "" the file must have
// exactly one features table. The CRS comes from gpkg_geometry_columns'
// srs_id in gpkg_spatial_ref_sys: the EPSG code when the organisation is
// EPSG, else its WKT definition (see geo.CRSFromWKT). Features are read in
// the order of their feature id, which is their record number in messages.
func OpenLayer(ctx context.Context, path, file, layer string) (*Layer, error) {
	fail := func(reason string) error { return geo.InputErrors{{File: file, Reason: reason}} }
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name IN ('gpkg_contents','gpkg_geometry_columns','gpkg_spatial_ref_sys')`).Scan(&n); err != nil {
		return nil, fail("not a GeoPackage: " + sqliteReason(err))
	}
	if n != 3 {
		return nil, fail("not a GeoPackage: it lacks gpkg_contents, gpkg_geometry_columns or gpkg_spatial_ref_sys")
	}
	names, err := featureTables(ctx, db)
	if err != nil {
		return nil, fail("not a GeoPackage: " + sqliteReason(err))
	}
	switch {
	case layer != "":
		found := false
		for _, t := range names {
			found = found || t == layer
		}
		if !found {
			return nil, fail(fmt.Sprintf("no features layer %q (--layer); the file has: %s", layer, strings.Join(names, ", ")))
		}
	case len(names) == 1:
		layer = names[0]
	case len(names) == 0:
		return nil, fail("no features layer")
	default:
		return nil, fail(fmt.Sprintf("%d features layers: choose one with --layer: %s", len(names), strings.Join(names, ", ")))
	}
	l := &Layer{Name: layer, db: db, VectorLayer: &geo.VectorLayer{File: file}}
	var geomCol string
	var srsID int64
	err = db.QueryRowContext(ctx, `SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?`, layer).Scan(&geomCol, &srsID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fail(fmt.Sprintf("layer %s has no row in gpkg_geometry_columns", layer))
	}
	if err != nil {
		return nil, fail(sqliteReason(err))
	}
	l.CRS, l.CRSErr = layerCRS(ctx, db, srsID)

	pk, cols, err := tableColumns(ctx, db, layer, geomCol)
	if err != nil {
		return nil, fail(fmt.Sprintf("layer %s: %s", layer, sqliteReason(err)))
	}
	l.Fields = cols
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(layer)).Scan(&l.Count); err != nil {
		return nil, fail(fmt.Sprintf("layer %s: %s", layer, sqliteReason(err)))
	}
	sel := []string{quote(pk), quote(geomCol)}
	for _, c := range cols {
		sel = append(sel, quote(c))
	}
	rows, err := db.QueryContext(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+quote(layer)+` ORDER BY `+quote(pk))
	if err != nil {
		return nil, fail(fmt.Sprintf("layer %s: %s", layer, sqliteReason(err)))
	}
	l.rows = rows
	vals := make([]any, 2+len(cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	l.Next = func() (geo.VectorFeature, error) {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return geo.VectorFeature{}, fail(fmt.Sprintf("layer %s: %s", layer, sqliteReason(err)))
			}
			return geo.VectorFeature{}, io.EOF
		}
		if err := rows.Scan(ptrs...); err != nil {
			return geo.VectorFeature{}, fail(fmt.Sprintf("layer %s: %s", layer, sqliteReason(err)))
		}
		f := geo.VectorFeature{Attrs: make([]any, len(cols))}
		if id, ok := vals[0].(int64); ok {
			f.Record = int(id)
		}
		copy(f.Attrs, vals[2:])
		switch b := vals[1].(type) {
		case nil:
		case []byte:
			g, _, err := DecodeGeometry(b)
			if err != nil {
				return geo.VectorFeature{}, &geo.InputError{File: file, Record: f.Record, Field: geomCol, Reason: err.Error()}
			}
			f.Geom = g
		default:
			return geo.VectorFeature{}, &geo.InputError{File: file, Record: f.Record, Field: geomCol, Reason: fmt.Sprintf("a %T, want a GeoPackage geometry BLOB", b)}
		}
		return f, nil
	}
	ok = true
	return l, nil
}

func featureTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		names = append(names, s)
	}
	return names, rows.Err()
}

// layerCRS resolves an srs_id; -1 and 0 are the spec's undefined
// Cartesian and geographic systems, which only --crs can name.
func layerCRS(ctx context.Context, db *sql.DB, srsID int64) (*geo.CRS, error) {
	var org, def sql.NullString
	var orgID sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?`, srsID).Scan(&org, &orgID, &def)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("srs_id %d is not in gpkg_spatial_ref_sys; give the CRS with --crs", srsID)
	}
	if err != nil {
		return nil, err
	}
	if srsID == -1 || srsID == 0 {
		return nil, fmt.Errorf("the layer's CRS is undefined (srs_id %d); give it with --crs", srsID)
	}
	if strings.EqualFold(org.String, "EPSG") && orgID.Valid {
		c, err := geo.CRSFromEPSG(int(orgID.Int64))
		if err != nil {
			return nil, fmt.Errorf("%v; give the CRS with --crs", err)
		}
		return c, nil
	}
	c, err := geo.CRSFromWKT(def.String)
	if err != nil {
		return nil, fmt.Errorf("srs_id %d (%s %d): %v; give the CRS with --crs", srsID, org.String, orgID.Int64, err)
	}
	return c, nil
}

// tableColumns returns the primary key and the attribute columns (all but
// the key and the geometry) in table order.
func tableColumns(ctx context.Context, db *sql.DB, table, geomCol string) (pk string, cols []string, err error) {
	rows, err := db.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var isPK int
		if err := rows.Scan(&name, &isPK); err != nil {
			return "", nil, err
		}
		switch {
		case isPK == 1 && pk == "":
			pk = name
		case strings.EqualFold(name, geomCol):
		default:
			cols = append(cols, name)
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	if pk == "" {
		pk = "rowid"
	}
	return pk, cols, nil
}

// sqliteReason shortens driver errors ("file is not a database (26)") for
// a message about the user's file.
func sqliteReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s[:i], "SQL logic error") {
		s = s[i+2:]
	}
	return s
}
