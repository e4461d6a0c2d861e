package geo_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
)

// readAll reads every record; it returns the records and the row errors, or
// a fatal error.
func readAll(t *testing.T, in string, opt geo.AddressReadOptions) ([]geo.AddressRecord, []*geo.InputError, error) {
	t.Helper()
	rd, err := geo.NewAddressReader(strings.NewReader(in), "a.csv", opt)
	if err != nil {
		return nil, nil, err
	}
	var recs []geo.AddressRecord
	var rowErrs []*geo.InputError
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return recs, rowErrs, nil
		}
		var ie *geo.InputError
		if errors.As(err, &ie) {
			rowErrs = append(rowErrs, ie)
			continue
		}
		if err != nil {
			return recs, rowErrs, err
		}
		recs = append(recs, rec)
	}
}

func TestCSVDefaultsAndTemplate(t *testing.T) {
	in := "\xEF\xBB\xBFid;street;no;lat;lon;units;\n" + // BOM, trailing delimiter
		"a1;Nørregade;12;55,8645540;10,6082950;2\n" + // decimal commas
		"\n" +
		"a2;Østergade;3;55.1;10.2;\n"
	recs, rowErrs, err := readAll(t, in, geo.AddressReadOptions{Text: "{street} {no}, 8305 Samsø"})
	if err != nil || len(rowErrs) > 0 {
		t.Fatal(err, rowErrs)
	}
	if len(recs) != 2 {
		t.Fatalf("records = %+v", recs)
	}
	r := recs[0]
	if r.ID != "a1" || r.Text != "Nørregade 12, 8305 Samsø" || r.Units != 2 || r.Point[0] != 10.608295 || r.Point[1] != 55.864554 || r.Line != 2 || r.Derived {
		t.Errorf("record = %+v", r)
	}
	if recs[1].Units != 1 || recs[1].Line != 4 {
		t.Errorf("second record = %+v", recs[1])
	}
}

func TestCSVDerivedIDs(t *testing.T) {
	in := "address,x,y\nVej 1,10.1,55.1\nVej 1,10.1,55.1\nVej 2,10.1,55.1\n"
	recs, _, err := readAll(t, in, geo.AddressReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !recs[0].Derived || recs[0].ID != recs[1].ID || recs[0].ID == recs[2].ID || recs[0].Text != "Vej 1" {
		t.Errorf("derived ids: %+v", recs)
	}
}

func TestCSVProjected(t *testing.T) {
	utm, _ := geo.ParseCRS("EPSG:25832")
	in := "id,easting,northing\nx,600651.48,6192174.37\n"
	recs, _, err := readAll(t, in, geo.AddressReadOptions{CRS: utm})
	if err != nil {
		t.Fatal(err)
	}
	// Samsø, Agerup 2: lat 55.8645540, lon 10.6082950 in the same file.
	if p := recs[0].Point; abs(p[0]-10.608295) > 1e-7 || abs(p[1]-55.864554) > 1e-7 {
		t.Errorf("converted to %v", p)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestCSVRowErrors(t *testing.T) {
	header := "id,text,lon,lat,units\n"
	for _, tc := range []struct {
		name, row, want string
	}{
		{"NotANumber", "a,Vej 1,abc,55,1", "a.csv:2: field lon: \"abc\" is not a number"},
		{"NaN", "a,Vej 1,NaN,55,1", "a.csv:2: field lon: \"NaN\" is not a finite number"},
		{"Inf", "a,Vej 1,10,+Inf,1", "a.csv:2: field lat: \"+Inf\" is not a finite number"},
		{"OutOfRange", "a,Vej 1,600000,6200000,1", "a.csv:2: field lon,lat: longitude/latitude 600000 6200000 out of range"},
		{"EmptyCoordinate", "a,Vej 1,,55,1", "a.csv:2: field lon: empty coordinate"},
		{"ShortRow", "a,Vej 1,10", "a.csv:2: field lat: missing: the row has 3 fields, the header 5"},
		{"BadUnits", "a,Vej 1,10,55,0", "a.csv:2: field units: \"0\" is not a whole number of at least 1"},
		{"EmptyID", ",Vej 1,10,55,1", "a.csv:2: field id: empty id"},
		{"InvalidUTF8", "a,Vej \xff,10,55,1", "a.csv:2: field text: invalid UTF-8"},
		{"BareQuote", "a,\"Vej 1,10,55,1\nb,x", "a.csv:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rowErrs, err := readAll(t, header+"ok,Vej 0,10,55,1\n"+strings.Replace(tc.row, "a,", "a,", 1)+"\n", geo.AddressReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rowErrs) == 0 {
				t.Fatalf("no error, want %q", tc.want)
			}
			got := strings.Replace(rowErrs[0].Error(), "a.csv:3:", "a.csv:2:", 1) // the ok row is line 2
			if !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want it to contain %q", rowErrs[0], tc.want)
			}
		})
	}
}

func TestCSVFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		opt            geo.AddressReadOptions
	}{
		{"Empty", "", "a.csv: empty file", geo.AddressReadOptions{}},
		{"OnlyBOM", "\xEF\xBB\xBF", "a.csv: empty file", geo.AddressReadOptions{}},
		{"NoCoordinates", "id,text\na,b\n", "a.csv:1: no coordinate columns found (give --x-col and --y-col); the header has: id, text", geo.AddressReadOptions{}},
		{"WrongColumnFlag", "id,lon,lat\n", "a.csv:1: field easting: no such column (--x-col); the header has: id, lon, lat", geo.AddressReadOptions{XCol: "easting"}},
		{"WrongTextColumn", "id,lon,lat\n", "a.csv:1: field text-col: no column \"street\"", geo.AddressReadOptions{Text: "street,number"}},
		{"UnknownFormat", "x", "unknown address format \"shp\"", geo.AddressReadOptions{Format: "shp"}},
		{"HeaderInvalidUTF8", "id,l\xffon,lat\n", "a.csv:1: header column 2: invalid UTF-8", geo.AddressReadOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.in, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A 10 MB line must not be buffered whole: it is refused with its line.
func TestCSVLongLine(t *testing.T) {
	in := "id,lon,lat\na,10,55\nb," + strings.Repeat("1", 10<<20) + ",55\nc,10,55\n"
	_, _, err := readAll(t, in, geo.AddressReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "a.csv:3: line longer than 1048576 bytes") {
		t.Fatalf("err = %v", err)
	}
}

func TestGeoJSONAddresses(t *testing.T) {
	in := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[
		{"type":"Feature","id":"p1","properties":{"text":"Agerup 2","units":3},"geometry":{"type":"Point","coordinates":[600651.48,6192174.37,12]}},
		{"type":"Feature","properties":{"text":"Agerup 3"},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
		{"type":"Feature","properties":{"text":"Agerup 4","units":"x"},"geometry":{"type":"Point","coordinates":[600651.48,6192174.37]}},
		{"type":"Feature","properties":{"text":"Agerup 5"},"geometry":{"type":"Point","coordinates":[600700,6192200]}}
	]}`
	recs, rowErrs, err := readAll(t, in, geo.AddressReadOptions{Format: geo.FormatGeoJSON})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != "p1" || recs[0].Units != 3 || abs(recs[0].Point[0]-10.608295) > 1e-7 || !recs[1].Derived {
		t.Errorf("records = %+v", recs)
	}
	if len(rowErrs) != 2 || !strings.Contains(rowErrs[0].Error(), `feature 2: field geometry.type: is "LineString", want Point`) ||
		!strings.Contains(rowErrs[1].Error(), `feature 3: field properties.units`) {
		t.Errorf("row errors = %v", rowErrs)
	}
	for _, bad := range []string{"", "[1,2]", `{"type":"FeatureCollection"}`, `{"type":"FeatureCollection","features":[{"type":`} {
		_, _, err := readAll(t, bad, geo.AddressReadOptions{Format: geo.FormatGeoJSON})
		if err == nil || !strings.HasPrefix(err.Error(), "a.csv") {
			t.Errorf("%q: err = %v, want a file error", bad, err)
		}
	}
}

func TestDAWAWithUnits(t *testing.T) {
	open := func(rel string) *os.File {
		f, err := os.Open(shareddata.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	rd, err := geo.NewAddressReader(open("dawa_testdata/Adgangsadresse.CSV"), "Adgangsadresse.CSV", geo.AddressReadOptions{
		Format: geo.FormatDAWA,
		Units:  open("dawa_testdata/Enhedsadresse.CSV"), UnitsName: "Enhedsadresse.CSV",
		Streets: open("dawa_testdata/Vejnavn.CSV"), StreetsName: "Vejnavn.CSV",
	})
	if err != nil {
		t.Fatal(err)
	}
	n, units, single, most := 0, 0, 0, 0
	var first geo.AddressRecord
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			first = rec
		}
		n++
		units += rec.Units
		if rec.Units == 1 {
			single++
		}
		most = max(most, rec.Units)
	}
	// SOURCE.txt: 1,320 access addresses, 2,802 units; exactly 1 unit at
	// 1,107 of them; at most 72.
	if n != 1320 || units != 2802 || single != 1107 || most != 72 {
		t.Errorf("addresses %d, units %d, single-unit %d, max %d; want 1320, 2802, 1107, 72", n, units, single, most)
	}
	if first.ID != "0a3f507b-c905-32b8-e044-0003ba298018" || first.Text != "Søndre Kinkelgade 60, 2791 Dragør" {
		t.Errorf("first record = %+v", first)
	}
	if abs(first.Point[0]-12.6321654583299) > 1e-8 || abs(first.Point[1]-55.5948574162612) > 1e-8 {
		t.Errorf("first point %v, want DAWA's own 12.6321654583299, 55.5948574162612", first.Point)
	}
}

func TestDAWAMissingColumn(t *testing.T) {
	_, _, err := readAll(t, "id;x;y\n", geo.AddressReadOptions{Format: geo.FormatDAWA})
	if err == nil || !strings.Contains(err.Error(), "a.csv:1: field adgangspunkt_etrs89koordinat_oest: missing column: is this a DAWA Adgangsadresse.CSV file?") {
		t.Fatalf("err = %v", err)
	}
}
