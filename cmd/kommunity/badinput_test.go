package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// storeSnapshot is everything an import could change, as text: the areas
// with their counters (what `areas --json` prints), every area's geometry,
// every stored address (assigned or not) and every road line.
func storeSnapshot(t *testing.T, db string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(mustRun(t, "areas", "--db", db, "--json"))
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	enc := json.NewEncoder(&b)
	for after := ""; ; {
		page, err := st.AreaFeatures(ctx, pledge.FeatureQuery{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Areas {
			enc.Encode(a)
			after = a.Code
		}
		if len(page.Areas) < 1000 {
			break
		}
	}
	for after := ""; ; {
		page, err := st.AddressFeatures(ctx, pledge.FeatureQuery{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Addresses {
			enc.Encode(a)
			after = a.ID
		}
		if len(page.Addresses) < 1000 {
			break
		}
	}
	roads, err := st.Roads(ctx, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}})
	if err != nil {
		t.Fatal(err)
	}
	enc.Encode(roads)
	return b.String()
}

// errorLine is how the importer reports a bad file: FILE:LINE: field NAME:
// reason, with "feature N:" for GeoJSON features, or FILE: reason where no
// line or field applies.
var errorLine = regexp.MustCompile(`(?m)^[^\s:]+\.[A-Za-z]+(:\d+)?: (feature \d+: )?(field [^:]+: )?\S.*$`)

const roadsOK = `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10.5,55.5],[10.6,55.5]]}}]}`

// The importer's bad-input catalogue: each hostile file is refused with a
// message naming file, line or feature, and field, and the store is left
// exactly as it was.
func TestImportBadInputCatalogue(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	mustRun(t, "import", "addresses", "--db", db, writeFile(t, dir, "good.csv", goodCSV+"a9,Udenfor 9,12,55.5,1\n"))
	mustRun(t, "import", "roads", "--db", db, writeFile(t, dir, "roads.geojson", roadsOK))
	before := storeSnapshot(t, db)
	if !strings.Contains(before, `"ID":"a9"`) || !strings.Contains(before, "10.6,55.5") {
		t.Fatalf("the snapshot misses the unassigned address or the road:\n%s", before)
	}

	area := func(props, coords string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{` + props + `},"geometry":{"type":"Polygon","coordinates":` + coords + `}}]}`
	}
	square := `[[[10,55],[11,55],[11,56],[10,56],[10,55]]]`
	point := func(props, coords string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{` + props + `},"geometry":{"type":"Point","coordinates":` + coords + `}}]}`
	}
	const dawaRow = "d1;1234;12;0741;8305;Samsø;;600651.48;6192174.37\n"
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	binary := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe\x00"
	for _, tc := range []struct {
		name, cmd, file, body, want string
		args                        []string
	}{
		// import areas
		{"AreaCodeNUL", "areas", "a.geojson", area(`"code":"B\u0000","name":"B"`, square), "a.geojson: feature 1: field code: contains the invisible or control character U+0000", nil},
		{"AreaNameRLO", "areas", "a.geojson", area(`"code":"B","name":"Nord\u202eby"`, square), "a.geojson: feature 1: field name: contains the invisible or control character U+202E", nil},
		{"AreaCodeZWSP", "areas", "a.geojson", area(`"SOGNEKODE":"72\u200b40","SOGNENAVN":"Tranebjerg"`, square), "a.geojson: feature 1: field SOGNEKODE: contains the invisible or control character U+200B", []string{"--id-prop", "SOGNEKODE", "--name-prop", "SOGNENAVN"}},
		{"AreaInvalidUTF8", "areas", "a.geojson", area("\"code\":\"B\",\"name\":\"\xe5by\"", square), "a.geojson:1: invalid UTF-8", nil},
		{"AreaOnePoint", "areas", "a.geojson", area(`"code":"B"`, `[[[10,55]]]`), "a.geojson: feature 1: field geometry.coordinates: outer ring has 1 positions, a ring needs at least 4", nil},
		{"AreaHugeCoordinate", "areas", "a.geojson", area(`"code":"B"`, `[[[1e300,55],[11,55],[11,56],[1e300,55]]]`), "a.geojson: feature 1: field geometry.coordinates: outer ring position 1: longitude/latitude 1e+300 55 out of range", nil},
		{"AreaNested10000", "areas", "a.geojson", area(`"code":"B"`, deep), "a.geojson:1: not valid GeoJSON: invalid character '[' exceeded max depth", nil},
		{"AreaNotAnObject", "areas", "a.geojson", "[" + area(`"code":"B"`, square) + "]", "a.geojson:1: not valid GeoJSON: found an array, want an object", nil},
		{"AreaEmpty", "areas", "a.geojson", "", "a.geojson: empty file", nil},
		{"AreaBinary", "areas", "a.geojson", binary, "a.geojson:1: invalid UTF-8", nil},
		// import addresses, CSV
		{"CSVIDZWSP", "addresses", "a.csv", goodCSV + "a\u200b3,Vej 3,10.5,55.5,1\n", "a.csv:4: field id: contains the invisible or control character U+200B", nil},
		{"CSVTextNUL", "addresses", "a.csv", goodCSV + "a3,Vej\x003,10.5,55.5,1\n", "a.csv:4: field text: contains the invisible or control character U+0000", nil},
		{"CSVTextRLO", "addresses", "a.csv", "id,street,no,lon,lat\na3,Vej,\u202e3,10.5,55.5\n", "a.csv:2: field no: contains the invisible or control character U+202E", []string{"--text-col", "{street} {no}"}},
		{"CSVTemplateZWSP", "addresses", "a.csv", goodCSV, "a.csv:1: field text-col:", []string{"--text-col", "{text}\u200b, Samsø"}},
		{"CSVInvalidUTF8", "addresses", "a.csv", goodCSV + "a3,Vej \xe53,10.5,55.5,1\n", "a.csv:4: field text: invalid UTF-8", nil},
		{"CSVUnitsOverflow", "addresses", "a.csv", goodCSV + "a3,Vej 3,10.5,55.5,99999999999999999999\n", "a.csv:4: field units: \"99999999999999999999\" is more than 100000 units, the most one address may have", nil},
		{"CSVUnitsExponent", "addresses", "a.csv", goodCSV + "a3,Vej 3,10.5,55.5,1e9\n", "a.csv:4: field units: \"1e9\" is more than 100000 units", nil},
		{"CSVUnitsAboveMax", "addresses", "a.csv", goodCSV + "a3,Vej 3,10.5,55.5,100001\n", "a.csv:4: field units: 100001 is more than 100000 units", nil},
		{"CSVUnitsNegative", "addresses", "a.csv", goodCSV + "a3,Vej 3,10.5,55.5,-1\n", "a.csv:4: field units: \"-1\" is not a whole number of at least 1", nil},
		{"CSVNaN", "addresses", "a.csv", goodCSV + "a3,Vej 3,NaN,55.5,1\n", "a.csv:4: field lon: \"NaN\" is not a finite number", nil},
		{"CSVInf", "addresses", "a.csv", goodCSV + "a3,Vej 3,10.5,-Inf,1\n", "a.csv:4: field lat: \"-Inf\" is not a finite number", nil},
		{"CSVHuge", "addresses", "a.csv", goodCSV + "a3,Vej 3,1e308,55.5,1\n", "a.csv:4: field lon: \"1e308\" is not a finite number", nil},
		{"CSVOutsideCRS", "addresses", "a.csv", "id,x,y\na3,600651,9e9\n", "a.csv:2: field x,y: 600651 9000000000 is outside EPSG:25832", []string{"--crs", "EPSG:25832"}},
		{"CSVRagged", "addresses", "a.csv", goodCSV + "a3,Vej 3,10.5\n", "a.csv:4: field lat: missing: the row has 3 fields, the header 5", nil},
		{"CSVDuplicateColumn", "addresses", "a.csv", "id,text,lon,lat,ID\na3,Vej 3,10.5,55.5,x\n", "a.csv:1: field id: the header names columns 1 and 5 alike", nil},
		{"CSVDuplicateID", "addresses", "a.csv", goodCSV + "a2,Vej 3,10.5,55.5,1\n", "a.csv:4: duplicate id \"a2\" (first on line 3)", nil},
		{"CSVEmpty", "addresses", "a.csv", "", "a.csv: empty file", nil},
		{"CSVBinary", "addresses", "a.csv", binary, "a.csv:1: header column 1: invalid UTF-8", nil},
		// import addresses, DAWA
		{"DAWAHouseNumberNUL", "addresses", "adr.csv", dawaHeader + strings.Replace(dawaRow, ";12;", ";1\x002;", 1), "adr.csv:2: field husnummer: contains the invisible or control character U+0000", []string{"--format", "dawa"}},
		{"DAWAIDBOM", "addresses", "adr.csv", dawaHeader + "\ufeff" + dawaRow, "adr.csv:2: field id: contains the invisible or control character U+FEFF", []string{"--format", "dawa"}},
		{"DAWAOutsideUTM", "addresses", "adr.csv", dawaHeader + strings.Replace(dawaRow, "6192174.37", "-9e12", 1), "adr.csv:2: field adgangspunkt_etrs89koordinat_oest,adgangspunkt_etrs89koordinat_nord: ", []string{"--format", "dawa"}},
		// import addresses, GeoJSON
		{"GeoJSONTextRLO", "addresses", "a.geojson", point(`"id":"g1","text":"Vej\u202e1"`, `[10.5,55.5]`), "a.geojson: feature 1: field properties.text: contains the invisible or control character U+202E", []string{"--format", "geojson"}},
		{"GeoJSONUnits", "addresses", "a.geojson", point(`"id":"g1","units":1e9`, `[10.5,55.5]`), "a.geojson: feature 1: field properties.units: 1000000000 is more than 100000 units", []string{"--format", "geojson"}},
		{"GeoJSONOutOfRange", "addresses", "a.geojson", point(`"id":"g1"`, `[10.5,95]`), "a.geojson: feature 1: field geometry.coordinates: longitude/latitude 10.5 95 out of range", []string{"--format", "geojson"}},
		{"GeoJSONNested10000", "addresses", "a.geojson", point(`"id":`+deep, `[10.5,55.5]`), "a.geojson: not valid GeoJSON near byte", []string{"--format", "geojson"}},
		// import roads
		{"RoadsHuge", "roads", "r.geojson", strings.Replace(roadsOK, "10.6,55.5", "1e300,55.5", 1), "r.geojson: feature 1: position 2: longitude/latitude 1e+300 55.5 out of range", nil},
		{"RoadsOnePoint", "roads", "r.geojson", strings.Replace(roadsOK, ",[10.6,55.5]", "", 1), "r.geojson: feature 1: line has 1 positions, want at least 2", nil},
		{"RoadsNested10000", "roads", "r.geojson", strings.Replace(roadsOK, "[[10.5,55.5],[10.6,55.5]]", deep, 1), "r.geojson: feature 1: not valid JSON at byte", nil},
		{"RoadsEmpty", "roads", "r.geojson", "", "r.geojson: file ends too early", nil},
		{"RoadsBinary", "roads", "r.geojson", binary, "r.geojson: not valid JSON at byte 1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), tc.file, tc.body)
			args := append([]string{"import", tc.cmd, "--db", db}, tc.args...)
			code, out, errOut := run(t, append(args, file)...)
			if code == 0 {
				t.Fatalf("exit 0, want a failure\nstdout %s\nstderr %s", out, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tc.want)
			}
			if !errorLine.MatchString(errOut) {
				t.Errorf("no line of stderr reads FILE:LINE: field NAME: reason:\n%s", errOut)
			}
			if after := storeSnapshot(t, db); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

const dawaHeader = "id;vejkode;husnummer;kommunekode;postnummer;postdistrikt;supplerendebynavn;adgangspunkt_etrs89koordinat_oest;adgangspunkt_etrs89koordinat_nord\n"

// An invisible character in one row rejects the whole import, so the store
// is unchanged; with --skip-invalid that row alone is left out and listed.
func TestImportInvisibleCharacters(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	mustRun(t, "import", "addresses", "--db", db, writeFile(t, dir, "good.csv", goodCSV))
	before := storeSnapshot(t, db)
	bad := writeFile(t, dir, "bad.csv", "id,text,lon,lat,units\na1,Nørregade 1 (ny),10.5,55.5,1\na3,Nørregade\u202e 3,10.5,55.5,1\na4,Nørregade 4,10.5,55.5,1\n")
	code, _, errOut := run(t, "import", "addresses", "--db", db, bad)
	if code == 0 || !strings.Contains(errOut, "bad.csv:3: field text: contains the invisible or control character U+202E") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if after := storeSnapshot(t, db); after != before {
		t.Fatalf("the store changed:\nbefore %s\nafter  %s", before, after)
	}
	code, out, errOut := run(t, "import", "addresses", "--db", db, "--skip-invalid", bad)
	if code != 0 || !strings.Contains(out, "read 3, imported 1, updated 1, unchanged 0, unassigned 0, rejected 1") || !strings.Contains(errOut, "bad.csv:3: field text") {
		t.Fatalf("--skip-invalid: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	after := storeSnapshot(t, db)
	if strings.Contains(after, `"ID":"a3"`) || !strings.Contains(after, "Nørregade 1 (ny)") || !strings.Contains(after, `"ID":"a4"`) {
		t.Errorf("after --skip-invalid the store holds:\n%s", after)
	}
}
