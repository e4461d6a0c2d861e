package geo_test

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
)

// The DAWA file carries each access point in ETRS89/UTM32 and in WGS84, as
// published by the Danish address register: an independent reference.
func TestCRSAgainstDAWAPairs(t *testing.T) {
	f, err := os.Open(shareddata.Path(t, "dawa_testdata/Adgangsadresse.CSV"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	utm, err := geo.ParseCRS("EPSG:25832")
	if err != nil {
		t.Fatal(err)
	}
	var worstInv, worstFwd float64
	for _, r := range rows[1:] {
		num := func(c string) float64 {
			v, err := strconv.ParseFloat(r[col[c]], 64)
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			return v
		}
		e, n := num("adgangspunkt_etrs89koordinat_oest"), num("adgangspunkt_etrs89koordinat_nord")
		lat, lon := num("adgangspunkt_wgs84koordinat_bredde"), num("adgangspunkt_wgs84koordinat_laengde")
		glon, glat, err := utm.ToWGS84(e, n)
		if err != nil {
			t.Fatal(err)
		}
		// degrees to metres, roughly, at 55 N
		d := math.Hypot((glon-lon)*111320*math.Cos(lat*math.Pi/180), (glat-lat)*110574)
		worstInv = math.Max(worstInv, d)
		x, y, err := utm.FromWGS84(lon, lat)
		if err != nil {
			t.Fatal(err)
		}
		worstFwd = math.Max(worstFwd, math.Hypot(x-e, y-n))
	}
	t.Logf("%d pairs: worst inverse %.4f m, worst forward %.4f m", len(rows)-1, worstInv, worstFwd)
	// The published pairs carry 2 decimals in metres: 1 cm is their precision.
	if worstInv > 0.01 || worstFwd > 0.01 {
		t.Errorf("conversion differs from DAWA's own pairs by up to %.4f m / %.4f m, want < 1 cm", worstInv, worstFwd)
	}
}

func TestParseCRS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
	}{
		{"EPSG:4326", 4326}, {"4326", 4326}, {"urn:ogc:def:crs:OGC:1.3:CRS84", 4326}, {"CRS84", 4326},
		{"urn:ogc:def:crs:EPSG::25832", 25832}, {"epsg:3857", 3857}, {"EPSG:32633", 32633}, {"EPSG:32755", 32755},
		{"EPSG:26918", 26918}, {"EPSG:28355", 28355}, {"EPSG:7855", 7855},
	} {
		c, err := geo.ParseCRS(tc.in)
		if err != nil || c.Code() != tc.code {
			t.Errorf("ParseCRS(%q) = %v, %v; want EPSG:%d", tc.in, c, err, tc.code)
		}
	}
	for _, bad := range []string{"EPSG:2154", "EPSG:99999", "WGS 84", "", "EPSG:"} {
		if _, err := geo.ParseCRS(bad); err == nil {
			t.Errorf("ParseCRS(%q) accepted an unsupported CRS", bad)
		}
	}
}

// Known points: each projected family round-trips, and lands where the
// zone's central meridian says.
func TestCRSRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		code     int
		lon, lat float64
	}{
		{25832, 9, 56}, {32632, 10.5, 55.8}, {32755, 147, -33}, {26918, -75, 40}, {28355, 144.96, -37.81},
		{7856, 151.2, -33.86}, {3857, 10, 55},
	} {
		c, err := geo.CRSFromEPSG(tc.code)
		if err != nil {
			t.Fatal(err)
		}
		x, y, err := c.FromWGS84(tc.lon, tc.lat)
		if err != nil {
			t.Fatal(err)
		}
		lon, lat, err := c.ToWGS84(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(lon-tc.lon) > 1e-9 || math.Abs(lat-tc.lat) > 1e-9 {
			t.Errorf("EPSG:%d round trip %v,%v -> %v,%v", tc.code, tc.lon, tc.lat, lon, lat)
		}
		if tc.code == 25832 && (math.Abs(x-500000) > 1e-6) {
			t.Errorf("9 E is zone 32's central meridian: x = %.3f, want 500000", x)
		}
		if tc.code == 3857 && math.Abs(x-1113194.908) > 1e-3 {
			t.Errorf("web mercator x of 10 E = %.3f, want 1113194.908", x)
		}
	}
}
