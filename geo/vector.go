package geo

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// VectorLayer is one layer of a layered GIS file (a Shapefile, a GeoPackage
// table) as the area and address importers read it: named fields, and
// features with a geometry in the layer's CRS.
type VectorLayer struct {
	File   string   // the file's name in messages, e.g. "adr.shp"
	Fields []string // attribute names, in the file's order
	// CRS is the layer's own CRS; when it is nil, CRSErr says why (no .prj,
	// an unrecognised one) and only AreaReadOptions.CRS or
	// AddressReadOptions.CRS (the --crs flag) can give it.
	CRS    *CRS
	CRSErr error
	// Next returns the next feature, io.EOF at the end, an *InputError for
	// a bad feature (reading may go on), or another error when reading
	// cannot go on.
	Next func() (VectorFeature, error)
}

// VectorFeature is one feature of a VectorLayer.
type VectorFeature struct {
	Record int // 1-based record number (Shapefile) or feature id (GeoPackage)
	// Attrs follow VectorLayer.Fields: string, int, int64, float64, bool,
	// time.Time or nil (no value).
	Attrs []any
	Geom  geom.T // nil for a null shape
}

func (l *VectorLayer) crs(override *CRS) (*CRS, error) {
	if override != nil {
		return override, nil
	}
	if l.CRS != nil {
		return l.CRS, nil
	}
	err := l.CRSErr
	if err == nil {
		err = errors.New("no CRS")
	}
	return nil, InputErrors{{File: l.File, Field: "crs", Reason: err.Error()}}
}

// field finds a named field as findColumn does (exact, then any case) and
// says which fields there are when it is missing.
func (l *VectorLayer) field(flag, name string) (int, error) {
	if i := findColumn(l.Fields, name); i >= 0 {
		return i, nil
	}
	return -1, InputErrors{{File: l.File, Field: name, Reason: fmt.Sprintf("no such field (--%s); the layer has: %s", flag, strings.Join(l.Fields, ", "))}}
}

// ReadVectorAreas reads the Polygon and MultiPolygon features of a layer
// by the rules of ReadAreas: the code from opt.IDProp (default the field
// "code", then "id"), the name from opt.NameProp (default "name", else the
// code), parts that share a code merged into one area in order of first
// appearance, z and m ignored. It returns every problem as InputErrors.
func ReadVectorAreas(l *VectorLayer, opt AreaReadOptions) ([]AreaFeature, []Warning, error) {
	crs, err := l.crs(opt.CRS)
	if err != nil {
		return nil, nil, err
	}
	idx := -1
	if opt.IDProp != "" {
		if idx, err = l.field("id-prop", opt.IDProp); err != nil {
			return nil, nil, err
		}
	} else {
		for _, d := range []string{"code", "id"} {
			if idx = findColumn(l.Fields, d); idx >= 0 {
				break
			}
		}
		if idx < 0 {
			return nil, nil, InputErrors{{File: l.File, Field: "code", Reason: "no area code field (choose one with --id-prop); the layer has: " + strings.Join(l.Fields, ", ")}}
		}
	}
	nameIdx := findColumn(l.Fields, "name")
	if opt.NameProp != "" {
		if nameIdx, err = l.field("name-prop", opt.NameProp); err != nil {
			return nil, nil, err
		}
	}
	var (
		errs  InputErrors
		warns []Warning
		parts areaParts
	)
	for {
		f, err := l.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var ie *InputError
		if errors.As(err, &ie) {
			errs = append(errs, ie)
			continue
		}
		if err != nil {
			return nil, warns, err
		}
		bad := func(field, reason string) {
			errs = append(errs, &InputError{File: l.File, Record: f.Record, Field: field, Reason: reason})
		}
		code, reason := attrText(f.Attrs[idx])
		if reason == "" && code == "" {
			reason = "no area code"
		}
		if reason != "" {
			bad(l.Fields[idx], reason)
			continue
		}
		areaName := code
		if nameIdx >= 0 {
			s, reason := attrText(f.Attrs[nameIdx])
			if reason != "" {
				bad(l.Fields[nameIdx], reason)
				continue
			}
			if s != "" {
				areaName = s
			}
		}
		mp, err := toMultiPolygon(f.Geom, crs)
		if err != nil {
			bad("geometry", err.Error())
			continue
		}
		warns = append(warns, parts.add(l.File, f.Record, code, areaName, mp)...)
	}
	if len(errs) > 0 {
		return nil, warns, errs
	}
	areas := parts.areas
	if len(areas) == 0 {
		return nil, warns, InputErrors{{File: l.File, Reason: "no features"}}
	}
	return areas, warns, nil
}

// NewVectorAddressReader reads a layer's Point features as addresses by the
// rules of the CSV reader: the id from opt.IDCol (default the field "id",
// else derived from text and position), the text from opt.Text (fields
// joined by spaces or a template; default the field text, address, adresse
// or betegnelse), the units from opt.UnitsCol (default "units", else 1).
// XCol, YCol and Delimiter do not apply.
func NewVectorAddressReader(l *VectorLayer, opt AddressReadOptions) (*AddressReader, error) {
	crs, err := l.crs(opt.CRS)
	if err != nil {
		return nil, err
	}
	opt.Format = ""
	idIdx, unitsIdx := findColumn(l.Fields, "id"), findColumn(l.Fields, "units")
	if opt.IDCol != "" {
		if idIdx, err = l.field("id-col", opt.IDCol); err != nil {
			return nil, err
		}
	}
	if opt.UnitsCol != "" {
		if unitsIdx, err = l.field("units-col", opt.UnitsCol); err != nil {
			return nil, err
		}
	}
	text := opt.Text
	if text == "" {
		for _, d := range []string{"text", "address", "adresse", "betegnelse"} {
			if i := findColumn(l.Fields, d); i >= 0 {
				text = l.Fields[i]
				break
			}
		}
	}
	var tmpl textTemplate
	if text != "" {
		if tmpl, err = parseTextTemplate(text, l.Fields); err != nil {
			return nil, InputErrors{{File: l.File, Field: "text-col", Reason: err.Error()}}
		}
	}
	// Only the fields the import uses are checked: an odd character in a
	// column nobody asked for must not reject the file.
	used := make([]bool, len(l.Fields))
	for _, i := range []int{idIdx, unitsIdx} {
		if i >= 0 {
			used[i] = true
		}
	}
	for _, p := range tmpl.parts {
		if p.col >= 0 {
			used[p.col] = true
		}
	}
	row := make([]string, len(l.Fields))
	ar := &AddressReader{}
	ar.next = func() (AddressRecord, error) {
		f, err := l.Next()
		if err != nil {
			return AddressRecord{}, err
		}
		bad := func(field, reason string) (AddressRecord, error) {
			return AddressRecord{}, &InputError{File: l.File, Record: f.Record, Field: field, Reason: reason}
		}
		for i, v := range f.Attrs {
			if !used[i] {
				continue
			}
			s, reason := attrText(v)
			if reason != "" {
				return bad(l.Fields[i], reason)
			}
			row[i] = s
		}
		p, err := toAddressPoint(f.Geom, crs)
		if err != nil {
			return bad("geometry", err.Error())
		}
		rec := AddressRecord{Point: p, Units: 1, Line: f.Record, Text: tmpl.render(row)}
		if unitsIdx >= 0 {
			n, reason := attrUnits(f.Attrs[unitsIdx])
			if reason != "" {
				return bad(l.Fields[unitsIdx], reason)
			}
			rec.Units = n
		}
		if idIdx >= 0 {
			if rec.ID = row[idIdx]; rec.ID == "" {
				return bad(l.Fields[idIdx], "empty id")
			}
		} else {
			rec.ID = DeriveID(rec.Text, p[0], p[1])
			rec.Derived = true
		}
		if rec.Text == "" {
			rec.Text = rec.ID
		}
		return rec, nil
	}
	return ar, nil
}

// attrText renders an attribute value as text, or says why it cannot be
// imported (invisible characters, text that was not in the declared code
// page).
func attrText(v any) (s, reason string) {
	switch x := v.(type) {
	case nil:
		return "", ""
	case string:
		s = strings.TrimSpace(x)
	case []byte:
		s = strings.TrimSpace(string(x))
	case int:
		return strconv.Itoa(x), ""
	case int64:
		return strconv.FormatInt(x, 10), ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), ""
	case bool:
		return strconv.FormatBool(x), ""
	case time.Time:
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.Format("2006-01-02"), ""
		}
		return x.UTC().Format(time.RFC3339), ""
	default:
		s = strings.TrimSpace(fmt.Sprint(x))
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "", "not valid text in the file's code page (check the .cpg)"
	}
	if r, ok := InvisibleRune(s); ok {
		return "", InvisibleReason(r)
	}
	return s, ""
}

// attrUnits reads a unit count: a whole number from 1 to MaxUnits; no
// value means 1.
func attrUnits(v any) (int, string) {
	var n int64
	switch x := v.(type) {
	case nil:
		return 1, ""
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if x > MaxUnits {
			return 0, fmt.Sprintf("%s is more than %d units, the most one address may have", s, MaxUnits)
		}
		if x != math.Trunc(x) || x < 1 {
			return 0, fmt.Sprintf("%s is not a whole number of at least 1", s)
		}
		n = int64(x)
	default:
		s, reason := attrText(v)
		if reason != "" {
			return 0, reason
		}
		if s == "" {
			return 1, ""
		}
		return parseUnits(s)
	}
	if n < 1 {
		return 0, fmt.Sprintf("%d is not a whole number of at least 1", n)
	}
	if n > MaxUnits {
		return 0, fmt.Sprintf("%d is more than %d units, the most one address may have", n, MaxUnits)
	}
	return int(n), ""
}

// toAddressPoint converts a Point (or a MultiPoint of one point, as some
// Shapefiles store points) to longitude/latitude.
func toAddressPoint(g geom.T, crs *CRS) (orb.Point, error) {
	switch x := g.(type) {
	case nil:
		return orb.Point{}, errors.New("missing (null shape)")
	case *geom.Point:
		if x.Empty() {
			return orb.Point{}, errors.New("empty point")
		}
		c := x.Coords()
		return ToLonLat(c[0], c[1], crs)
	case *geom.MultiPoint:
		if x.NumPoints() != 1 {
			return orb.Point{}, fmt.Errorf("a multi-point of %d points, want one point", x.NumPoints())
		}
		return toAddressPoint(x.Point(0), crs)
	}
	return orb.Point{}, fmt.Errorf("is a %s, want a point", geomKind(g))
}

// toMultiPolygon converts a Polygon or MultiPolygon to longitude/latitude,
// checking that every ring is closed and has at least 4 positions.
func toMultiPolygon(g geom.T, crs *CRS) (orb.MultiPolygon, error) {
	var polys []*geom.Polygon
	switch x := g.(type) {
	case nil:
		return nil, errors.New("missing (null shape)")
	case *geom.Polygon:
		polys = []*geom.Polygon{x}
	case *geom.MultiPolygon:
		for i := range x.NumPolygons() {
			polys = append(polys, x.Polygon(i))
		}
	default:
		return nil, fmt.Errorf("is a %s, want a polygon or multi-polygon", geomKind(g))
	}
	mp := make(orb.MultiPolygon, 0, len(polys))
	for _, p := range polys {
		if p.NumLinearRings() == 0 {
			continue
		}
		poly := make(orb.Polygon, p.NumLinearRings())
		for k := range poly {
			what := "outer ring"
			if k > 0 {
				what = fmt.Sprintf("hole %d", k)
			}
			lr := p.LinearRing(k)
			n := lr.NumCoords()
			if n < 4 {
				return nil, fmt.Errorf("%s has %d positions, a ring needs at least 4", what, n)
			}
			rg := make(orb.Ring, n)
			for j := range n {
				c := lr.Coord(j)
				pt, err := ToLonLat(c[0], c[1], crs)
				if err != nil {
					return nil, fmt.Errorf("%s position %d: %w", what, j+1, err)
				}
				rg[j] = pt
			}
			if first, last := lr.Coord(0), lr.Coord(n-1); first[0] != last[0] || first[1] != last[1] {
				return nil, fmt.Errorf("%s is not closed", what)
			}
			poly[k] = rg
		}
		mp = append(mp, poly)
	}
	if len(mp) == 0 {
		return nil, errors.New("no polygon")
	}
	return mp, nil
}

func geomKind(g geom.T) string {
	switch g.(type) {
	case *geom.Point:
		return "point"
	case *geom.MultiPoint:
		return "multi-point"
	case *geom.LineString:
		return "line string"
	case *geom.MultiLineString:
		return "multi-line string"
	case *geom.Polygon:
		return "polygon"
	case *geom.MultiPolygon:
		return "multi-polygon"
	case *geom.GeometryCollection:
		return "geometry collection"
	}
	return fmt.Sprintf("%T", g)
}
