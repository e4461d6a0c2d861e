package geo_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/paulmach/orb"
)

// The fuzz targets below check what the readers promise in their doc
// comments, for any input: they return, without panicking; every refusal
// is a geo input error naming the file (and the line, feature or record
// where one applies); every record they accept is importable as it is.
// Their seeds run in the normal test suite.

// sharedSeed returns the first n bytes of a real data file, cut after the
// last whole line, or nil when ../shared/data is absent: the seeds are a
// head start, not a test of the data, so they never skip or fail.
func sharedSeed(rel string, n int) []byte {
	d := shareddata.Dir()
	if d == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(d, rel))
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, int64(n)))
	if i := bytes.LastIndexByte(b, '\n'); i > 0 && len(b) == n {
		b = b[:i+1]
	}
	return b
}

// hostile are byte strings every text reader must survive.
var hostile = []string{
	"", "\x00", "\xef\xbb\xbf", "\xef\xbb\xbf\xef\xbb\xbf", "\xff\xfe", "\u202e", "\u200b", "\u2060", "\ufeff",
	"\x1b[31m", "NaN", "Inf", "-Inf", "1e400", "-1e400", "99999999999999999999", "1,5", "\r\n", "\"", "\xc3",
}

// checkInputError fails unless err is an input error that starts with the
// name of one of the files read.
func checkInputError(t *testing.T, err error, names ...string) {
	t.Helper()
	if !geo.IsInputError(err) {
		t.Fatalf("error is not an input error: %T %v", err, err)
	}
	var ie *geo.InputError
	var ies geo.InputErrors
	switch {
	case errors.As(err, &ies):
		if len(ies) == 0 {
			t.Fatalf("empty InputErrors")
		}
		for _, e := range ies {
			if e.File == "" || e.Reason == "" {
				t.Fatalf("error %q names no file or reason", e)
			}
		}
	case errors.As(err, &ie):
		if ie.File == "" || ie.Reason == "" {
			t.Fatalf("error %q names no file or reason", ie)
		}
	}
	named := false
	for _, name := range names {
		named = named || strings.HasPrefix(err.Error(), name)
	}
	if !named {
		t.Fatalf("error %q does not start with one of the files %q", err, names)
	}
	// Messages are for the person who made the file: never Go's own words.
	for _, leak := range []string{"Go value", "Go struct", "struct {", "geo.", "json.", "[]float64", "map[", "interface {"} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error %q names Go internals (%s)", err, leak)
		}
	}
}

// checkText fails for text a store must not hold.
func checkText(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not valid UTF-8", what, s)
	}
	if r, ok := geo.InvisibleRune(s); ok {
		t.Fatalf("%s %q holds the invisible character U+%04X", what, s, r)
	}
}

func checkPoint(t *testing.T, what string, p orb.Point) {
	t.Helper()
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		t.Fatalf("%s: point %v is not a longitude/latitude", what, p)
	}
}

func checkRecord(t *testing.T, rec geo.AddressRecord) {
	t.Helper()
	checkPoint(t, "record "+rec.ID, rec.Point)
	if rec.ID == "" || strings.TrimSpace(rec.ID) != rec.ID {
		t.Fatalf("record with id %q", rec.ID)
	}
	if rec.Units < 1 || rec.Units > geo.MaxUnits {
		t.Fatalf("record %q has %d units", rec.ID, rec.Units)
	}
	if rec.Line < 1 {
		t.Fatalf("record %q has line %d", rec.ID, rec.Line)
	}
	checkText(t, "id", rec.ID)
	checkText(t, "text", rec.Text)
	if rec.Text == "" {
		t.Fatalf("record %q has no text", rec.ID)
	}
}

// drain reads every record of an address file and checks each result. A
// reader that keeps returning records or errors past one per input byte
// is stuck.
func drain(t *testing.T, size int, rd *geo.AddressReader, err error, names ...string) int {
	t.Helper()
	if err != nil {
		checkInputError(t, err, names...)
		return 0
	}
	n := 0
	for calls := 0; ; calls++ {
		if calls > size+2 {
			t.Fatalf("%d results from %d bytes: the reader does not stop", calls, size)
		}
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		var ie *geo.InputError
		if errors.As(err, &ie) {
			checkInputError(t, err, names...)
			if ie.Line < 1 && ie.Feature < 1 && ie.Record < 1 {
				t.Fatalf("row error %q does not say where", ie)
			}
			continue
		}
		if err != nil {
			checkInputError(t, err, names...)
			return n
		}
		checkRecord(t, rec)
		n++
	}
}

// csvModes are the option sets FuzzCSVAddresses picks from.
func csvModes() []geo.AddressReadOptions {
	utm, _ := geo.CRSFromEPSG(25832)
	return []geo.AddressReadOptions{
		{},
		{IDCol: "osm_node_id", Text: "{street} {housenumber}, {postcode} {city}"},
		{CRS: utm, XCol: "etrs89_utm32_e", YCol: "etrs89_utm32_n", Text: "street,housenumber"},
		{Delimiter: ';', UnitsCol: "units", Text: "text"},
	}
}

func FuzzCSVAddresses(f *testing.F) {
	f.Add([]byte("id,text,lon,lat,units\na1,Nørregade 1,10.5,55.5,2\n"), uint8(0))
	f.Add([]byte("\xef\xbb\xbfid;street;no;lat;lon;units;\na1;Nørregade;12;55,86;10,60;2\n\na2;Øster;3;55.1;10.2;\n"), uint8(3))
	f.Add([]byte("osm_node_id,street,housenumber,postcode,city,lat,lon\n1,A\u202eB,2,8305,Samsø,55.8,10.6\n"), uint8(1))
	f.Add([]byte("id,lon,lat\na\x00,10,55\nb,NaN,55\nc,Inf,1e400\nd,10,55,extra\ne\n\"f,10,55\n"), uint8(0))
	f.Add([]byte("id,id,lon,lat\nx,y,10,55\n"), uint8(0))
	f.Add([]byte("id,x,y,units\na,600651.48,6192174.37,99999999999999999999\nb,1e300,-1e300,1e9\n"), uint8(2))
	for _, h := range hostile {
		f.Add([]byte("id,text,lon,lat,units\n"+h+","+h+",10,55,1\n"), uint8(0))
	}
	if b := sharedSeed("samsoe_osm/derived/addresses.csv", 4096); b != nil {
		for m := range csvModes() {
			f.Add(b, uint8(m))
		}
	}
	modes := csvModes()
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opt := modes[int(mode)%len(modes)]
		rd, err := geo.NewAddressReader(bytes.NewReader(data), "a.csv", opt)
		drain(t, len(data), rd, err, "a.csv")
	})
}

func FuzzDAWAAddresses(f *testing.F) {
	row := "a1;1234;12;0741;8305;Samsø;;600651.48;6192174.37\n"
	f.Add([]byte(dawaHeader+row), []byte("id;adgangsadresseid\nu1;a1\nu2;a1\n"), []byte("kommunekode;kode;navn\n741;1234;Nørregade\n"))
	f.Add([]byte("\ufeff"+dawaHeader+row+"a2;1;1\x00;;;;;1e400;NaN\n"), []byte("id;adgangsadresseid\nu1;\n"), []byte("kommunekode;kode;navn\n741;1234;N\u202e\n"))
	f.Add([]byte(dawaHeader+"a1;1;1;1;1;1;1;-1;-1\n\"\n"), []byte{}, []byte("kommunekode;kode\n"))
	f.Add([]byte("id;vejkode\n"), []byte("\xff"), []byte("\xef\xbb\xbf"))
	for _, h := range hostile {
		f.Add([]byte(dawaHeader+h+";1;"+h+";0741;8305;"+h+";;600651;6192174\n"), []byte{}, []byte{})
	}
	if adr := sharedSeed("dawa_testdata/Adgangsadresse.CSV", 4096); adr != nil {
		f.Add(adr, sharedSeed("dawa_testdata/Enhedsadresse.CSV", 2048), sharedSeed("dawa_testdata/Vejnavn.CSV", 2048))
	}
	f.Fuzz(func(t *testing.T, adr, units, streets []byte) {
		opt := geo.AddressReadOptions{Format: geo.FormatDAWA}
		// An empty side file stands for none, so both paths are fuzzed.
		if len(units) > 0 {
			opt.Units, opt.UnitsName = bytes.NewReader(units), "Enhedsadresse.CSV"
		}
		if len(streets) > 0 {
			opt.Streets, opt.StreetsName = bytes.NewReader(streets), "Vejnavn.CSV"
		}
		rd, err := geo.NewAddressReader(bytes.NewReader(adr), "Adgangsadresse.CSV", opt)
		drain(t, len(adr)+len(units)+len(streets), rd, err, "Adgangsadresse.CSV", "Enhedsadresse.CSV", "Vejnavn.CSV")
	})
}

// deep is a JSON value nested n arrays deep.
func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func FuzzGeoJSONAddresses(f *testing.F) {
	fc := func(features string) []byte {
		return []byte(`{"type":"FeatureCollection","features":[` + features + `]}`)
	}
	pt := `{"type":"Feature","id":"a1","properties":{"text":"Nørregade 1","units":2},"geometry":{"type":"Point","coordinates":[10.5,55.5]}}`
	f.Add(fc(pt), uint8(0))
	f.Add([]byte(`{"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25832"}},"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":7,"text":"x"},"geometry":{"type":"Point","coordinates":[600651.48,6192174.37,0]}}]}`), uint8(0))
	f.Add(fc(`{"type":"Feature","properties":{"text":"A\u0000\u202e","units":1e9},"geometry":{"type":"Point","coordinates":[1e400,-1e400]}}`), uint8(1))
	f.Add(fc(`{"properties":{"units":"99999999999999999999"},"geometry":{"type":"Point","coordinates":[10]}},{"geometry":null},{}`), uint8(0))
	f.Add(fc(`{"properties":{"nr":`+deep(200)+`},"geometry":{"type":"Point","coordinates":[10,55]}}`), uint8(1))
	f.Add([]byte(`{"features":`+deep(10000)+`}`), uint8(0))
	f.Add([]byte("\ufeff"+string(fc(pt))), uint8(0))
	f.Add([]byte(`{"type":"FeatureCollection","features":[`+pt), uint8(0))
	for _, h := range hostile {
		f.Add(fc(`{"id":"`+h+`","properties":{"text":"`+h+`"},"geometry":{"type":"Point","coordinates":[10,55]}}`), uint8(0))
	}
	modes := []geo.AddressReadOptions{{}, {IDCol: "nr", Text: "adresse", UnitsCol: "enheder"}}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opt := modes[int(mode)%len(modes)]
		opt.Format = geo.FormatGeoJSON
		rd, err := geo.NewAddressReader(bytes.NewReader(data), "a.geojson", opt)
		drain(t, len(data), rd, err, "a.geojson")
	})
}

func checkAreas(t *testing.T, areas []geo.AreaFeature) {
	t.Helper()
	if len(areas) == 0 {
		t.Fatalf("no areas and no error")
	}
	seen := map[string]bool{}
	for _, a := range areas {
		if a.Code == "" || seen[a.Code] {
			t.Fatalf("area code %q empty or repeated", a.Code)
		}
		seen[a.Code] = true
		checkText(t, "code", a.Code)
		checkText(t, "name", a.Name)
		if len(a.Polygon) == 0 {
			t.Fatalf("area %q has no polygon", a.Code)
		}
		for _, poly := range a.Polygon {
			if len(poly) == 0 {
				t.Fatalf("area %q has a polygon without rings", a.Code)
			}
			for _, rg := range poly {
				if len(rg) < 4 || rg[0] != rg[len(rg)-1] {
					t.Fatalf("area %q has a ring of %d positions, closed %v", a.Code, len(rg), len(rg) > 0 && rg[0] == rg[len(rg)-1])
				}
				for _, p := range rg {
					checkPoint(t, "area "+a.Code, p)
				}
			}
		}
	}
}

func FuzzReadAreas(f *testing.F) {
	sq := `[[[10,55],[11,55],[11,56],[10,56],[10,55]]]`
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A","name":"Åby"},"geometry":{"type":"Polygon","coordinates":`+sq+`}}]}`), uint8(0))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":7,"properties":{"SOGNEKODE":"7240","SOGNENAVN":"Tranebjerg"},"geometry":{"type":"MultiPolygon","coordinates":[`+sq+`,`+sq+`]}},{"type":"Feature","properties":{"SOGNEKODE":"7240"},"geometry":{"type":"Polygon","coordinates":[[[10,55,-999],[11,55,-999],[11,56,-999],[10,55,-999]]]}}]}`), uint8(1))
	f.Add([]byte(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[{"properties":{"code":"B"},"geometry":{"type":"Polygon","coordinates":[[[600000,6200000],[600100,6200000],[600100,6200100],[600000,6200000]]]}}]}`), uint8(0))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"properties":{"code":"A\u202e","name":"\u0000"},"geometry":{"type":"Polygon","coordinates":[[[NaN,1]]]}}]}`), uint8(0))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"properties":{"code":"P"},"geometry":{"type":"Polygon","coordinates":[[[10,55]]]}},{"properties":{"code":"Q"},"geometry":{"type":"Polygon","coordinates":[[[1e400,0],[0,0],[0,1],[1e400,0]]]}}]}`), uint8(0))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"properties":{"code":"D"},"geometry":{"type":"Polygon","coordinates":`+deep(10000)+`}}]}`), uint8(0))
	f.Add([]byte("\xef\xbb\xbf{\"type\":\"FeatureCollection\",\"features\":[]}"), uint8(0))
	for _, h := range hostile {
		f.Add([]byte(`{"type":"FeatureCollection","features":[{"properties":{"code":"`+h+`","name":"`+h+`"},"geometry":{"type":"Polygon","coordinates":`+sq+`}}]}`), uint8(0))
	}
	if b, err := os.ReadFile(filepath.Join(shareddata.Dir(), "dk_dagi_polygons/derived/sogne_samsoe.geojson")); shareddata.Dir() != "" && err == nil && len(b) < 1<<20 {
		f.Add(b, uint8(1)) // whole: a GeoJSON object cut short is just a syntax error
	}
	modes := []geo.AreaReadOptions{{}, {IDProp: "SOGNEKODE", NameProp: "SOGNENAVN"}}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		areas, _, err := geo.ReadAreas(bytes.NewReader(data), "areas.geojson", modes[int(mode)%len(modes)])
		if err != nil {
			checkInputError(t, err, "areas.geojson")
			return
		}
		checkAreas(t, areas)
	})
}

func FuzzReadRoads(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10,55],[10.1,55.1,3]]}}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","crs":{"type":"EPSG","properties":{"code":25832}},"features":[{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[600000,6200000],[600100,6200000]]]}},{"type":"Feature","geometry":null}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1e400,55],[NaN,1]]}}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":` + deep(10000) + `}}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10,55]]}}]`))
	f.Add([]byte(`{"features":[],"crs":{"type":"name","properties":{"name":"EPSG:2154"}},"type":"FeatureCollection"}`))
	f.Add([]byte("\ufeff{}"))
	if b := sharedSeed("samsoe_osm/derived/roads.geojson", 4096); b != nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := geo.ReadRoads(bytes.NewReader(data), "roads.geojson")
		if err != nil {
			checkInputError(t, err, "roads.geojson")
			return
		}
		for _, ls := range lines {
			if len(ls) < 2 {
				t.Fatalf("a road line of %d positions", len(ls))
			}
			for _, p := range ls {
				checkPoint(t, "road", p)
			}
		}
	})
}

func FuzzParseCRS(f *testing.F) {
	for _, s := range []string{"EPSG:4326", "4326", "epsg:25832", "urn:ogc:def:crs:EPSG::25832", "urn:ogc:def:crs:OGC:1.3:CRS84", "CRS84",
		"EPSG:3857", "EPSG:32760", "EPSG:7846", "EPSG:2154", "EPSG:-1", "EPSG:99999999999999999999", " EPSG:4326 ", "EPSG:+4326", "EPSG:\u200b4326", "x:crs84", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := geo.ParseCRS(s)
		if err != nil {
			if c != nil || err.Error() == "" {
				t.Fatalf("ParseCRS(%q) = %v, %v", s, c, err)
			}
			return
		}
		// A parsed CRS is one of the supported list, and its own name
		// parses back to it.
		again, err := geo.ParseCRS(c.String())
		if err != nil || again.Code() != c.Code() || again.String() != c.String() {
			t.Fatalf("ParseCRS(%q) = %s, whose name parses to %v, %v", s, c, again, err)
		}
		if byCode, err := geo.CRSFromEPSG(c.Code()); err != nil || byCode.String() != c.String() {
			t.Fatalf("%s: CRSFromEPSG(%d) = %v, %v", c, c.Code(), byCode, err)
		}
		if c.String() != "EPSG:"+strconv.Itoa(c.Code()) {
			t.Fatalf("CRS %s has code %d", c, c.Code())
		}
	})
}
