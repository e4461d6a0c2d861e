package geo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// CRSFromWKT recognises a coordinate reference system written as WKT (a
// Shapefile's .prj in ESRI or OGC WKT 1, or WKT 2 as GeoPackages may hold)
// and maps it onto a CRS ParseCRS supports. An EPSG authority code on the
// whole CRS decides; without one (ESRI .prj files have none) the datum, the
// projection method and its parameters do: geographic WGS84 is EPSG:4326,
// Web Mercator is EPSG:3857, and a UTM zone (transverse Mercator, scale
// 0.9996, false easting 500 km, metres) on WGS84, ETRS89, NAD83, GDA94 or
// GDA2020 is that family's EPSG code.
func CRSFromWKT(wkt string) (*CRS, error) {
	root, err := parseWKT(wkt)
	if err != nil {
		return nil, fmt.Errorf("not WKT: %w", err)
	}
	kw := strings.ToUpper(root.keyword)
	projected := false
	switch kw {
	case "PROJCS", "PROJCRS", "PROJECTEDCRS":
		projected = true
	case "GEOGCS", "GEOGCRS", "GEOGRAPHICCRS", "GEODCRS", "GEODETICCRS":
	default:
		return nil, fmt.Errorf("unsupported CRS kind %s %q", root.keyword, root.name())
	}
	for _, c := range root.children {
		switch strings.ToUpper(c.keyword) {
		case "AUTHORITY", "ID":
			if len(c.values) >= 2 && strings.EqualFold(c.values[0], "EPSG") {
				if code, err := strconv.Atoi(c.values[1]); err == nil {
					return CRSFromEPSG(code)
				}
			}
		}
	}
	datum := datumFamily(root)
	unsupported := fmt.Errorf("unsupported CRS %q", root.name())
	if !projected {
		if datum == "WGS84" {
			return WGS84, nil
		}
		return nil, unsupported
	}
	method := ""
	if m := root.find("PROJECTION", "METHOD"); m != nil {
		method = normName(m.name())
	}
	params := map[string]float64{}
	root.walk(func(n *wktNode) {
		if strings.EqualFold(n.keyword, "PARAMETER") && len(n.values) >= 2 {
			if v, err := strconv.ParseFloat(n.values[1], 64); err == nil {
				params[normName(n.values[0])] = v
			}
		}
	})
	param := func(def float64, names ...string) float64 {
		for _, n := range names {
			if v, ok := params[n]; ok {
				return v
			}
		}
		return def
	}
	name := normName(root.name())
	if strings.Contains(method, "MERCATORAUXILIARYSPHERE") || strings.Contains(method, "PSEUDOMERCATOR") ||
		strings.Contains(name, "WEBMERCATOR") || strings.Contains(name, "PSEUDOMERCATOR") {
		return CRSFromEPSG(3857)
	}
	if method != "TRANSVERSEMERCATOR" {
		return nil, unsupported
	}
	if !metres(root) {
		return nil, fmt.Errorf("%w: units are not metres", unsupported)
	}
	cm := param(math.NaN(), "CENTRALMERIDIAN", "LONGITUDEOFNATURALORIGIN", "LONGITUDEOFORIGIN")
	k := param(1, "SCALEFACTOR", "SCALEFACTORATNATURALORIGIN")
	fe := param(0, "FALSEEASTING")
	fn := param(0, "FALSENORTHING")
	lat0 := param(0, "LATITUDEOFORIGIN", "LATITUDEOFNATURALORIGIN")
	z := (cm + 183) / 6
	if math.Abs(k-0.9996) > 1e-9 || fe != 500000 || lat0 != 0 || z != math.Trunc(z) || z < 1 || z > 60 || (fn != 0 && fn != 10000000) {
		return nil, fmt.Errorf("%w: a transverse Mercator that is not a UTM zone", unsupported)
	}
	zone, south := int(z), fn == 10000000
	code := 0
	switch datum {
	case "WGS84":
		code = 32600 + zone
		if south {
			code = 32700 + zone
		}
	case "ETRS89":
		if !south {
			code = 25800 + zone
		}
	case "NAD83":
		if !south {
			code = 26900 + zone
		}
	case "GDA94":
		if south {
			code = 28300 + zone
		}
	case "GDA2020":
		if south {
			code = 7800 + zone
		}
	}
	if code == 0 {
		return nil, fmt.Errorf("%w: UTM zone %d on datum %q", unsupported, zone, datumName(root))
	}
	return CRSFromEPSG(code)
}

// datumFamily names the datum of a WKT CRS as one of WGS84, ETRS89, NAD83,
// GDA94, GDA2020, or "" for any other. Realisations that differ from the
// base datum by more than the ignored shift (NAD83(CSRS), HARN) are "".
func datumFamily(root *wktNode) string {
	n := normName(datumName(root))
	n = strings.TrimPrefix(n, "D")
	switch n {
	case "WGS1984", "WGS84", "WORLDGEODETICSYSTEM1984", "WORLDGEODETICSYSTEM1984ENSEMBLE":
		return "WGS84"
	case "ETRS1989", "ETRS89", "EUROPEANTERRESTRIALREFERENCESYSTEM1989", "EUROPEANTERRESTRIALREFERENCESYSTEM1989ENSEMBLE":
		return "ETRS89"
	case "NORTHAMERICAN1983", "NORTHAMERICANDATUM1983", "NAD83":
		return "NAD83"
	case "GDA1994", "GDA94", "GEOCENTRICDATUMOFAUSTRALIA1994":
		return "GDA94"
	case "GDA2020", "GEOCENTRICDATUMOFAUSTRALIA2020":
		return "GDA2020"
	}
	return ""
}

func datumName(root *wktNode) string {
	if d := root.find("DATUM", "GEODETICDATUM", "TRF", "ENSEMBLE"); d != nil {
		return d.name()
	}
	return ""
}

// metres reports whether a projected CRS's linear unit is the metre: the
// last UNIT or LENGTHUNIT directly in the projected CRS (WKT 1), or in its
// coordinate system (WKT 2).
func metres(root *wktNode) bool {
	factor := math.NaN()
	for _, c := range root.children {
		switch strings.ToUpper(c.keyword) {
		case "UNIT", "LENGTHUNIT":
			if len(c.values) >= 2 {
				factor, _ = strconv.ParseFloat(c.values[1], 64)
			}
		}
	}
	if math.IsNaN(factor) {
		// WKT 2 puts the unit on the axes.
		root.walk(func(n *wktNode) {
			if strings.EqualFold(n.keyword, "LENGTHUNIT") && len(n.values) >= 2 {
				factor, _ = strconv.ParseFloat(n.values[1], 64)
			}
		})
	}
	return factor == 1
}

// normName upper-cases a WKT name and drops everything but letters and
// digits, so "Transverse_Mercator", "Transverse Mercator" and
// "TRANSVERSE MERCATOR" compare equal.
func normName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// wktNode is KEYWORD[value, value, CHILD[...], ...]: quoted strings and
// numbers in values, nested nodes in children.
type wktNode struct {
	keyword  string
	values   []string
	children []*wktNode
}

func (n *wktNode) name() string {
	if len(n.values) > 0 {
		return n.values[0]
	}
	return ""
}

// find returns the first node, depth first, with one of the keywords.
func (n *wktNode) find(keywords ...string) *wktNode {
	var hit *wktNode
	n.walk(func(c *wktNode) {
		if hit != nil || c == n {
			return
		}
		for _, k := range keywords {
			if strings.EqualFold(c.keyword, k) {
				hit = c
				return
			}
		}
	})
	return hit
}

func (n *wktNode) walk(f func(*wktNode)) {
	f(n)
	for _, c := range n.children {
		c.walk(f)
	}
}

// maxWKTDepth bounds nesting, so a hostile .prj cannot exhaust the stack.
const maxWKTDepth = 32

func parseWKT(s string) (*wktNode, error) {
	p := &wktParser{s: strings.TrimSpace(strings.TrimPrefix(s, "\uFEFF"))}
	n, err := p.node(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected text at byte %d", p.i+1)
	}
	return n, nil
}

type wktParser struct {
	s string
	i int
}

func (p *wktParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *wktParser) node(depth int) (*wktNode, error) {
	if depth > maxWKTDepth {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == '_' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	if p.i == start {
		return nil, fmt.Errorf("want a keyword at byte %d", p.i+1)
	}
	n := &wktNode{keyword: p.s[start:p.i]}
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return n, nil // a bare keyword, as in AXIS["x",EAST]
	}
	closer := byte(']')
	if p.s[p.i] == '(' {
		closer = ')'
	}
	p.i++
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, errors.New("unclosed bracket")
		}
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			var b strings.Builder
			for {
				if p.i >= len(p.s) {
					return nil, errors.New("unclosed quote")
				}
				if p.s[p.i] == '"' {
					if p.i+1 < len(p.s) && p.s[p.i+1] == '"' { // "" is an escaped quote
						b.WriteByte('"')
						p.i += 2
						continue
					}
					p.i++
					break
				}
				b.WriteByte(p.s[p.i])
				p.i++
			}
			n.values = append(n.values, b.String())
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
			st := p.i
			for p.i < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.i]) >= 0 {
				p.i++
			}
			n.values = append(n.values, p.s[st:p.i])
		default:
			child, err := p.node(depth + 1)
			if err != nil {
				return nil, err
			}
			if len(child.children) == 0 && len(child.values) == 0 {
				n.values = append(n.values, child.keyword) // an enumeration such as EAST
			} else {
				n.children = append(n.children, child)
			}
		}
		p.space()
		if p.i >= len(p.s) {
			return nil, errors.New("unclosed bracket")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == closer {
			p.i++
			return n, nil
		}
		return nil, fmt.Errorf("want , or %c at byte %d", closer, p.i+1)
	}
}
