package geo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/go-spatial/proj/core"
	"github.com/go-spatial/proj/support"

	// registers the projection operations (utm, merc) with proj/core
	_ "github.com/go-spatial/proj/operations"
)

// CRS converts coordinates of one coordinate reference system to and from
// WGS84 longitude/latitude (EPSG:4326). Datum shifts between WGS84 and the
// ITRF-aligned datums (ETRS89, NAD83, GDA94, GDA2020) are ignored: they are
// below two metres, far less than the size of a house plot.
//
// A CRS is safe for concurrent use.
type CRS struct {
	code int
	name string
	op   core.IConvertLPToXY // nil for geographic EPSG:4326
}

// WGS84 is EPSG:4326, longitude/latitude in degrees.
var WGS84 = &CRS{code: 4326, name: "EPSG:4326"}

// Code is the EPSG code.
func (c *CRS) Code() int { return c.code }

// String gives the CRS as "EPSG:N".
func (c *CRS) String() string { return c.name }

// Geographic reports whether coordinates are longitude/latitude degrees.
func (c *CRS) Geographic() bool { return c.op == nil }

// ParseCRS accepts "EPSG:N", "N", the OGC URNs used in GeoJSON "crs" members
// ("urn:ogc:def:crs:EPSG::25832", "urn:ogc:def:crs:OGC:1.3:CRS84") and "CRS84".
// Supported: 4326, 3857, and UTM zones on WGS84 (326xx north, 327xx south),
// ETRS89 (25828-25838), NAD83 (26901-26923), GDA94 (28348-28358) and
// GDA2020 (7846-7859).
func ParseCRS(s string) (*CRS, error) {
	t := strings.TrimSpace(s)
	u := strings.ToUpper(t)
	switch {
	case u == "CRS84" || strings.HasSuffix(u, ":CRS84"):
		return WGS84, nil
	case strings.HasPrefix(u, "URN:OGC:DEF:CRS:EPSG:"):
		u = u[strings.LastIndexByte(u, ':')+1:]
	case strings.HasPrefix(u, "EPSG:"):
		u = u[len("EPSG:"):]
	}
	code, err := strconv.Atoi(u)
	if err != nil {
		return nil, fmt.Errorf("unknown CRS %q: want EPSG:N", s)
	}
	return CRSFromEPSG(code)
}

// CRSFromEPSG returns the CRS of a supported EPSG code.
func CRSFromEPSG(code int) (*CRS, error) {
	if code == 4326 {
		return WGS84, nil
	}
	if code == 3857 {
		return newCRS(code, "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1")
	}
	zone, south, ellps := 0, false, ""
	switch {
	case code >= 32601 && code <= 32660:
		zone, ellps = code-32600, "WGS84"
	case code >= 32701 && code <= 32760:
		zone, south, ellps = code-32700, true, "WGS84"
	case code >= 25828 && code <= 25838: // ETRS89 / UTM 28N-38N
		zone, ellps = code-25800, "GRS80"
	case code >= 26901 && code <= 26923: // NAD83 / UTM 1N-23N
		zone, ellps = code-26900, "GRS80"
	case code >= 28348 && code <= 28358: // GDA94 / MGA 48-58
		zone, south, ellps = code-28300, true, "GRS80"
	case code >= 7846 && code <= 7859: // GDA2020 / MGA 46-59
		zone, south, ellps = code-7800, true, "GRS80"
	default:
		return nil, fmt.Errorf("unsupported CRS EPSG:%d: supported are 4326, 3857 and UTM zones on WGS84, ETRS89, NAD83, GDA94 and GDA2020", code)
	}
	def := fmt.Sprintf("+proj=utm +zone=%d +ellps=%s", zone, ellps)
	if south {
		def += " +south"
	}
	return newCRS(code, def)
}

// UTMFor returns the WGS84 UTM zone CRS that holds p, used for metric work
// (lengths and areas) near p.
func UTMFor(p [2]float64) *CRS {
	zone := int(math.Floor((p[0]+180)/6)) + 1
	zone = max(1, min(60, zone))
	code := 32600 + zone
	if p[1] < 0 {
		code = 32700 + zone
	}
	c, err := CRSFromEPSG(code)
	if err != nil {
		panic(err) // unreachable: every zone 1-60 is supported
	}
	return c
}

func newCRS(code int, def string) (*CRS, error) {
	ps, err := support.NewProjString(def)
	if err != nil {
		return nil, fmt.Errorf("EPSG:%d: %w", code, err)
	}
	_, op, err := core.NewSystem(ps)
	if err != nil {
		return nil, fmt.Errorf("EPSG:%d: %w", code, err)
	}
	conv, ok := op.(core.IConvertLPToXY)
	if !ok {
		return nil, fmt.Errorf("EPSG:%d: not a projection", code)
	}
	// proj's global Convert/CustomProjection registry takes a lock per call
	// and is package state; keeping the operation here avoids both.
	return &CRS{code: code, name: fmt.Sprintf("EPSG:%d", code), op: conv}, nil
}

// ToWGS84 converts x/y of this CRS to longitude/latitude degrees.
func (c *CRS) ToWGS84(x, y float64) (lon, lat float64, err error) {
	if c.op == nil {
		return x, y, nil
	}
	lp, err := c.op.Inverse(&core.CoordXY{X: x, Y: y})
	if err != nil {
		return 0, 0, err
	}
	if lp.Lam == math.MaxFloat64 {
		return 0, 0, fmt.Errorf("%s: coordinate %g %g out of the projection's range", c.name, x, y)
	}
	return support.RToDD(lp.Lam), support.RToDD(lp.Phi), nil
}

// FromWGS84 converts longitude/latitude degrees to x/y of this CRS.
func (c *CRS) FromWGS84(lon, lat float64) (x, y float64, err error) {
	if c.op == nil {
		return lon, lat, nil
	}
	xy, err := c.op.Forward(&core.CoordLP{Lam: support.DDToR(lon), Phi: support.DDToR(lat)})
	if err != nil {
		return 0, 0, err
	}
	if xy.X == math.MaxFloat64 {
		return 0, 0, fmt.Errorf("%s: coordinate %g %g out of the projection's range", c.name, lon, lat)
	}
	return xy.X, xy.Y, nil
}
