package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// AreaReadOptions says where an area file keeps its codes and names.
type AreaReadOptions struct {
	IDProp   string // property holding the area code; "" means the feature id, then "code", then "id"
	NameProp string // property holding the name; "" means "name", falling back to the code
	CRS      *CRS   // overrides the file's "crs" member; nil means the member or EPSG:4326
}

// MaxAreaFileSize bounds what ReadAreas reads into memory.
const MaxAreaFileSize = 1 << 30

// ReadAreas reads a GeoJSON FeatureCollection of Polygon and MultiPolygon
// features (2-D or 3-D; z is ignored). Features that share a code become one
// multi-part area, in file order of first appearance; the name comes from the
// first part. It returns every problem as InputErrors, or the areas plus
// warnings (e.g. self-intersecting rings, which the even-odd rule still
// assigns sensibly).
func ReadAreas(r io.Reader, name string, opt AreaReadOptions) ([]AreaFeature, []Warning, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxAreaFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	fail := func(line int, reason string) error {
		return InputErrors{{File: name, Line: line, Reason: reason}}
	}
	if len(data) > MaxAreaFileSize {
		return nil, nil, fail(0, "file larger than 1 GiB")
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, fail(0, "empty file")
	}
	if !utf8.Valid(data) {
		return nil, nil, fail(lineOfInvalidUTF8(data), "invalid UTF-8")
	}
	var doc struct {
		Type     string            `json:"type"`
		CRS      *geojsonCRS       `json:"crs"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fail(jsonErrorLine(data, err), "not valid GeoJSON: "+jsonErrorText(err))
	}
	if doc.Type != "FeatureCollection" {
		return nil, nil, fail(0, fmt.Sprintf("type is %q, want FeatureCollection", doc.Type))
	}
	crs, err := fileCRS(opt.CRS, doc.CRS)
	if err != nil {
		return nil, nil, fail(0, "crs: "+err.Error())
	}
	var (
		errs  InputErrors
		warns []Warning
		parts areaParts
	)
	for i, raw := range doc.Features {
		n := i + 1
		ferr := func(field, reason string) {
			errs = append(errs, &InputError{File: name, Feature: n, Field: field, Reason: reason})
		}
		var f struct {
			Type       string          `json:"type"`
			ID         json.RawMessage `json:"id"`
			Properties map[string]any  `json:"properties"`
			Geometry   *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			ferr("", "not a GeoJSON feature: "+jsonErrorText(err))
			continue
		}
		code, field, ok := featureCode(f.ID, f.Properties, opt.IDProp)
		if !ok {
			ferr(field, "no area code (choose the property with --id-prop)")
			continue
		}
		if reason := invisibleIn(code); reason != "" {
			ferr(field, reason)
			continue
		}
		areaName := code
		nameProp := opt.NameProp
		if nameProp == "" {
			nameProp = "name"
		}
		if v, ok := f.Properties[nameProp]; ok && v != nil {
			areaName = strings.TrimSpace(propString(v))
			if reason := invisibleIn(areaName); reason != "" {
				ferr(nameProp, reason)
				continue
			}
		} else if opt.NameProp != "" {
			ferr(opt.NameProp, "missing")
			continue
		}
		if f.Geometry == nil {
			ferr("geometry", "missing")
			continue
		}
		var mp orb.MultiPolygon
		switch f.Geometry.Type {
		case "Polygon":
			var c [][][]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil {
				ferr("geometry.coordinates", "not a Polygon's coordinates: "+jsonErrorText(err))
				continue
			}
			mp = make(orb.MultiPolygon, 1)
			mp[0], err = toPolygon(c, crs)
		case "MultiPolygon":
			var c [][][][]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil {
				ferr("geometry.coordinates", "not a MultiPolygon's coordinates: "+jsonErrorText(err))
				continue
			}
			mp = make(orb.MultiPolygon, len(c))
			for j := range c {
				if mp[j], err = toPolygon(c[j], crs); err != nil {
					break
				}
			}
		default:
			ferr("geometry.type", fmt.Sprintf("is %q, want Polygon or MultiPolygon", f.Geometry.Type))
			continue
		}
		if err != nil {
			ferr("geometry.coordinates", err.Error())
			continue
		}
		if len(mp) == 0 {
			ferr("geometry.coordinates", "no polygon")
			continue
		}
		warns = append(warns, parts.add(name, n, code, areaName, mp)...)
	}
	if len(errs) > 0 {
		return nil, warns, errs
	}
	areas := parts.areas
	if len(areas) == 0 {
		return nil, warns, fail(0, "no features")
	}
	return areas, warns, nil
}

type geojsonCRS struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

func fileCRS(override *CRS, member *geojsonCRS) (*CRS, error) {
	if override != nil {
		return override, nil
	}
	if member == nil || member.Properties.Name == "" {
		return WGS84, nil
	}
	return ParseCRS(member.Properties.Name)
}

func featureCode(id json.RawMessage, props map[string]any, prop string) (code, field string, ok bool) {
	if prop != "" {
		v, ok := props[prop]
		s := strings.TrimSpace(propString(v))
		return s, prop, ok && v != nil && s != ""
	}
	if len(id) > 0 && string(id) != "null" {
		var v any
		if json.Unmarshal(id, &v) == nil {
			if s := strings.TrimSpace(propString(v)); s != "" {
				return s, "id", true
			}
		}
	}
	for _, k := range []string{"code", "id"} {
		if v, ok := props[k]; ok && v != nil {
			if s := strings.TrimSpace(propString(v)); s != "" {
				return s, k, true
			}
		}
	}
	return "", "id", false
}

// propString renders a JSON property value as text; numbers keep their
// integer form ("7244", not "7244.000000").
func propString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func toPolygon(c [][][]float64, crs *CRS) (orb.Polygon, error) {
	if len(c) == 0 {
		return nil, fmt.Errorf("polygon has no rings")
	}
	poly := make(orb.Polygon, len(c))
	for k, rc := range c {
		what := "outer ring"
		if k > 0 {
			what = fmt.Sprintf("hole %d", k)
		}
		if len(rc) < 4 {
			return nil, fmt.Errorf("%s has %d positions, a ring needs at least 4", what, len(rc))
		}
		rg := make(orb.Ring, len(rc))
		for j, pos := range rc {
			p, err := toPoint(pos, crs)
			if err != nil {
				return nil, fmt.Errorf("%s position %d: %w", what, j+1, err)
			}
			rg[j] = p
		}
		if rg[0] != rg[len(rg)-1] {
			return nil, fmt.Errorf("%s is not closed (first position %v, last %v)", what, rc[0], rc[len(rc)-1])
		}
		poly[k] = rg
	}
	return poly, nil
}

func toPoint(pos []float64, crs *CRS) (orb.Point, error) {
	if len(pos) < 2 {
		return orb.Point{}, fmt.Errorf("has %d numbers, want at least 2", len(pos))
	}
	return ToLonLat(pos[0], pos[1], crs)
}

// ToLonLat converts x/y of crs to a checked longitude/latitude point.
func ToLonLat(x, y float64, crs *CRS) (orb.Point, error) {
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return orb.Point{}, fmt.Errorf("coordinate is not a finite number")
	}
	lon, lat, err := crs.ToWGS84(x, y)
	if err != nil {
		return orb.Point{}, err
	}
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 || math.IsNaN(lon) || math.IsNaN(lat) {
		if crs.Geographic() {
			return orb.Point{}, fmt.Errorf("longitude/latitude %s %s out of range (projected coordinates? give the CRS)", num(x), num(y))
		}
		return orb.Point{}, fmt.Errorf("%s %s is outside %s", num(x), num(y), crs)
	}
	if !crs.Geographic() {
		// Far outside a projection's domain (a northing of 9e9 metres) the
		// inverse returns a plausible but wrong point rather than an error;
		// projecting it back shows that it is not the point the file gave.
		bx, by, err := crs.FromWGS84(lon, lat)
		if err != nil || math.Abs(bx-x) > maxRoundTripM || math.Abs(by-y) > maxRoundTripM {
			return orb.Point{}, fmt.Errorf("%s %s is outside %s", num(x), num(y), crs)
		}
	}
	return orb.Point{lon, lat}, nil
}

// maxRoundTripM is how far, in metres, a projected coordinate may move
// through ToWGS84 and back before ToLonLat calls it outside the CRS. Valid
// ones move by well under a millimetre.
const maxRoundTripM = 0.01

// num writes a coordinate as the file would: plainly, or with an exponent
// when it is so large that plain digits would fill the message.
func num(v float64) string {
	if math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// selfIntersects reports whether two non-adjacent edges of the ring touch or
// cross. Edges are swept in order of their minimum x, so typical boundary
// rings cost O(n log n).
func selfIntersects(r orb.Ring) bool {
	n := len(r) - 1
	if n < 3 {
		return false
	}
	type seg struct {
		i          int
		minX, maxX float64
	}
	segs := make([]seg, n)
	for i := 0; i < n; i++ {
		a, b := r[i], r[i+1]
		segs[i] = seg{i, math.Min(a[0], b[0]), math.Max(a[0], b[0])}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].minX < segs[j].minX })
	for x := 0; x < n; x++ {
		s := segs[x]
		for y := x + 1; y < n && segs[y].minX <= s.maxX; y++ {
			i, j := s.i, segs[y].i
			if d := i - j; d == 1 || d == -1 || d == n-1 || d == 1-n {
				continue // neighbours share a vertex
			}
			if segmentsIntersect(r[i], r[i+1], r[j], r[j+1]) {
				return true
			}
		}
	}
	return false
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

func segmentsIntersect(p1, p2, q1, q2 orb.Point) bool {
	d1, d2 := orient(q1, q2, p1), orient(q1, q2, p2)
	d3, d4 := orient(p1, p2, q1), orient(p1, p2, q2)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(q1, q2, p1)) || (d2 == 0 && onSegment(q1, q2, p2)) ||
		(d3 == 0 && onSegment(p1, p2, q1)) || (d4 == 0 && onSegment(p1, p2, q2))
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func lineOfInvalidUTF8(b []byte) int {
	line := 1
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		b = b[size:]
	}
	return line
}

func jsonErrorLine(data []byte, err error) int {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func jsonErrorText(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("%s is %s, want %s", e.Field, jsonArticle(e.Value), jsonKind(e.Type))
		}
		return fmt.Sprintf("found %s, want %s", jsonArticle(e.Value), jsonKind(e.Type))
	}
	return err.Error()
}

// jsonKind names what JSON a Go type decodes from, so a message says "an
// object", never the Go struct behind it.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return "any JSON value" // json.RawMessage
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a number"
	}
	return "another value"
}

// jsonArticle puts "a" or "an" before what encoding/json calls a value
// ("array", "object", "number 1e400", "string").
func jsonArticle(v string) string {
	if v != "" && strings.ContainsRune("aeiou", rune(v[0])) {
		return "an " + v
	}
	return "a " + v
}

// areaParts gathers area features by code: parts that share a code are
// one multi-part area, as DAGI files deliver them. Both the GeoJSON and
// the Shapefile/GeoPackage area readers use it.
type areaParts struct {
	areas []AreaFeature
	byID  map[string]int
}

// add merges mp into the area with code and returns the warnings about
// self-intersecting rings of feature n in file.
func (p *areaParts) add(file string, n int, code, name string, mp orb.MultiPolygon) []Warning {
	var warns []Warning
	for _, poly := range mp {
		for k, rg := range poly {
			if selfIntersects(rg) {
				kind := "outer ring"
				if k > 0 {
					kind = fmt.Sprintf("hole %d", k)
				}
				warns = append(warns, Warning{File: file, Feature: n, Code: code,
					Message: kind + " intersects itself; points are assigned by the even-odd rule"})
			}
		}
	}
	if p.byID == nil {
		p.byID = map[string]int{}
	}
	if j, ok := p.byID[code]; ok {
		p.areas[j].Polygon = append(p.areas[j].Polygon, mp...)
		return warns
	}
	p.byID[code] = len(p.areas)
	p.areas = append(p.areas, AreaFeature{Code: code, Name: name, Polygon: mp})
	return warns
}
