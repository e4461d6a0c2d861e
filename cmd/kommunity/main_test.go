package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/kommunity/kommunity/web"
)

// run runs the CLI and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("kommunity %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func areasJSON(t *testing.T, db string) web.AreasJSON {
	t.Helper()
	var got web.AreasJSON
	if err := json.Unmarshal([]byte(mustRun(t, "areas", "--db", db, "--json")), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func countsByCode(a web.AreasJSON) map[string]int {
	m := map[string]int{}
	for _, x := range a.Areas {
		m[x.Code] = x.Addresses
	}
	return m
}

// The Samsø counts come from SOURCE.txt of the data set, established by an
// independent point-in-polygon run, not by this code.
func TestImportSamsoeIntoParishes(t *testing.T) {
	parishes := shareddata.Path(t, "dk_dagi_polygons/derived/sogne_samsoe.geojson")
	addresses := shareddata.Path(t, "samsoe_osm/derived/addresses.csv")
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "import", "areas", "--db", db, "--id-prop", "SOGNEKODE", "--name-prop", "SOGNENAVN", parishes)
	out := mustRun(t, "import", "addresses", "--db", db, "--id-col", "osm_node_id", "--text-col", "{street} {housenumber}, {postcode} {city}", addresses)
	if !strings.Contains(out, "addresses.csv: read 4596, imported 4596, updated 0, unchanged 0, unassigned 8, rejected 0") {
		t.Errorf("summary = %q", out)
	}
	got := areasJSON(t, db)
	want := map[string]int{"7240": 1816, "7244": 1056, "7242": 781, "7241": 516, "7243": 419}
	names := map[string]string{"7240": "Tranebjerg", "7244": "Nordby", "7242": "Onsbjerg", "7241": "Besser", "7243": "Kolby"}
	for _, a := range got.Areas {
		if a.Addresses != want[a.Code] || a.Name != names[a.Code] || a.Units != a.Addresses {
			t.Errorf("parish %s %s: %d addresses, %d units; want %d %s", a.Code, a.Name, a.Addresses, a.Units, want[a.Code], names[a.Code])
		}
	}
	if len(got.Areas) != 5 || got.Unassigned.Addresses != 8 {
		t.Errorf("%d areas, %d unassigned; want 5, 8", len(got.Areas), got.Unassigned.Addresses)
	}
	// Re-importing is idempotent.
	out = mustRun(t, "import", "addresses", "--db", db, "--id-col", "osm_node_id", "--text-col", "{street} {housenumber}, {postcode} {city}", addresses)
	if !strings.Contains(out, "read 4596, imported 0, updated 0, unchanged 4596") {
		t.Errorf("second import summary = %q", out)
	}
	// Search through the API finds Danish letters without them.
	var buf bytes.Buffer
	code := Run(context.Background(), []string{"areas", "--db", db}, &buf, io.Discard)
	if code != 0 || !strings.Contains(buf.String(), "Tranebjerg") {
		t.Errorf("areas table: %d %q", code, buf.String())
	}
}

func TestImportSamsoeIntoPostcodes(t *testing.T) {
	postcodes := shareddata.Path(t, "dk_dagi_polygons/postnumre.geojson")
	addresses := shareddata.Path(t, "samsoe_osm/derived/addresses.csv")
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "import", "areas", "--db", db, "--id-prop", "POSTNR_TXT", "--name-prop", "POSTBYNAVN", postcodes)
	mustRun(t, "import", "addresses", "--db", db, "--id-col", "osm_node_id", addresses)
	got := areasJSON(t, db)
	// SOURCE.txt: 4,593 of 4,596 inside postcode 8305's polygons.
	if n := countsByCode(got)["8305"]; n != 4593 || got.Unassigned.Addresses != 3 {
		t.Errorf("8305 has %d addresses, %d unassigned; want 4593, 3", n, got.Unassigned.Addresses)
	}
	if len(got.Areas) != 592 {
		t.Errorf("%d postcode areas, want 592 (805 parts merged on the code)", len(got.Areas))
	}
}

// DAWA's access addresses carry their own postcode: assignment into the
// (2014, generalised) postcode polygons must agree with it almost
// everywhere, and exactly for the two Assens postcodes SOURCE.txt names.
func TestImportDAWAWithUnitsIntoPostcodes(t *testing.T) {
	postcodes := shareddata.Path(t, "dk_dagi_polygons/postnumre.geojson")
	adgang := shareddata.Path(t, "dawa_testdata/Adgangsadresse.CSV")
	units := shareddata.Path(t, "dawa_testdata/Enhedsadresse.CSV")
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "import", "areas", "--db", db, "--id-prop", "POSTNR_TXT", "--name-prop", "POSTBYNAVN", postcodes)
	out := mustRun(t, "import", "addresses", "--db", db, "--format", "dawa", "--units", units, adgang)
	if !strings.Contains(out, "read 1320, imported 1320") {
		t.Errorf("summary = %q", out)
	}
	got := areasJSON(t, db)
	want := postcodeColumn(t, adgang)
	mismatched, totalUnits := 0, 0
	for _, a := range got.Areas {
		totalUnits += a.Units
		if d := a.Addresses - want[a.Code]; d != 0 {
			mismatched += max(d, -d)
		}
	}
	if totalUnits != 2802 || got.Unassigned.Addresses != 0 {
		t.Errorf("units %d, unassigned %d; want 2802, 0", totalUnits, got.Unassigned.Addresses)
	}
	c := countsByCode(got)
	if c["5492"] != 29 || c["5560"] != 22 {
		t.Errorf("Vissenbjerg %d, Aarup %d; want 29, 22", c["5492"], c["5560"])
	}
	if mismatched > 8 {
		t.Errorf("%d addresses land in another postcode than their own", mismatched/2)
	}
}

func postcodeColumn(t *testing.T, path string) map[string]int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "postnummer" {
			col = i
		}
	}
	m := map[string]int{}
	for _, row := range rows[1:] {
		m[row[col]]++
	}
	return m
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const testAreas = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"A","name":"Åby"},"geometry":{"type":"Polygon","coordinates":[[[10,55],[11,55],[11,56],[10,56],[10,55]]]}}]}`

const goodCSV = "id,text,lon,lat,units\na1,Nørregade 1,10.5,55.5,1\na2,Nørregade 2,10.6,55.5,2\n"

// Bad input is reported with file, line and field, and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	mustRun(t, "import", "addresses", "--db", db, writeFile(t, dir, "good.csv", goodCSV))
	before := mustRun(t, "areas", "--db", db, "--json")
	for _, tc := range []struct {
		name, file, body, want string
		args                   []string
	}{
		{"MalformedRow", "bad.csv", goodCSV + "a3,Vej 3,ten,55.5,1\n", "bad.csv:4: field lon: \"ten\" is not a number", nil},
		{"MissingColumn", "bad.csv", "id,text,lat\na1,x,55\n", "bad.csv:1: no coordinate columns found", nil},
		{"WrongColumnFlag", "bad.csv", goodCSV, "bad.csv:1: field east: no such column (--x-col)", []string{"--x-col", "east"}},
		{"NaN", "bad.csv", goodCSV + "a3,Vej 3,NaN,55.5,1\n", "bad.csv:4: field lon: \"NaN\" is not a finite number", nil},
		{"OutOfRange", "bad.csv", goodCSV + "a3,Vej 3,190,55.5,1\n", "bad.csv:4: field lon,lat: longitude/latitude 190 55.5 out of range", nil},
		{"UnknownCRS", "good2.csv", goodCSV, "unsupported CRS EPSG:2154", []string{"--crs", "EPSG:2154"}},
		{"Empty", "empty.csv", "", "empty.csv: empty file", nil},
		{"InvalidUTF8", "bad.csv", goodCSV + "a3,Vej \xff,10.5,55.5,1\n", "bad.csv:4: field text: invalid UTF-8", nil},
		{"DuplicateID", "bad.csv", goodCSV + "a1,Nørregade 1,10.5,55.5,1\n", "bad.csv:4: duplicate id \"a1\" (first on line 2)", nil},
		{"LongLine", "bad.csv", goodCSV + "a3," + strings.Repeat("x", 10<<20) + ",10,55,1\n", "bad.csv:4: line longer than", nil},
		{"UnclosedRing", "areas.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"B"},"geometry":{"type":"Polygon","coordinates":[[[10,55],[11,55],[11,56],[10,56]]]}}]}`,
			"areas.geojson: feature 1: field geometry.coordinates: outer ring is not closed", []string{"areas"}},
		{"ShortRing", "areas.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"B"},"geometry":{"type":"Polygon","coordinates":[[[10,55],[11,55],[10,55]]]}}]}`,
			"outer ring has 3 positions, a ring needs at least 4", []string{"areas"}},
		{"EmptyAreas", "areas.geojson", "", "areas.geojson: empty file", []string{"areas"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), tc.file, tc.body)
			args := []string{"import", "addresses", "--db", db}
			if len(tc.args) > 0 && tc.args[0] == "areas" {
				args = []string{"import", "areas", "--db", db}
			} else {
				args = append(args, tc.args...)
			}
			code, _, errOut := run(t, append(args, file)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errOut, tc.want)
			}
			if after := mustRun(t, "areas", "--db", db, "--json"); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestSkipInvalidReportsRejected(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	code, out, errOut := run(t, "import", "addresses", "--db", db, "--skip-invalid",
		writeFile(t, dir, "a.csv", goodCSV+"a3,Vej 3,x,55.5,1\na4,Vej 4,12,55.5,1\n"))
	if code != 0 || !strings.Contains(out, "a.csv: read 4, imported 3, updated 0, unchanged 0, unassigned 1, rejected 1") ||
		!strings.Contains(errOut, "a.csv:4: field lon") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

func TestSelfIntersectingAreaWarns(t *testing.T) {
	dir := t.TempDir()
	bowtie := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"X","name":"Sløjfe"},"geometry":{"type":"Polygon","coordinates":[[[10,55],[11,56],[11,55],[10,56],[10,55]]]}}]}`
	code, out, errOut := run(t, "import", "areas", "--db", filepath.Join(dir, "k.db"), writeFile(t, dir, "bow.geojson", bowtie))
	if code != 0 || !strings.Contains(errOut, "warning: bow.geojson: feature 1 (X): outer ring intersects itself") || !strings.Contains(out, "created 1") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"import"}, {"import", "things"}, {"import", "addresses"}, {"areas", "extra"}} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("kommunity %v: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := run(t, "areas", "-h"); code != 0 || !strings.Contains(errOut, "-json") {
		t.Errorf("areas -h: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, "import", "addresses", "--units", "x", "f.csv"); code != 2 || !strings.Contains(errOut, "--units and --streets go with --format dawa") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestEnvironmentConfig(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "env.db")
	t.Setenv("KOMMUNITY_DB", db)
	mustRun(t, "import", "areas", writeFile(t, dir, "areas.geojson", testAreas))
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("KOMMUNITY_DB was not used: %v", err)
	}
	t.Setenv("KOMMUNITY_ADMIN_TOKEN_FILE", filepath.Join(dir, "missing-token"))
	if code, _, errOut := run(t, "serve"); code != 2 || !strings.Contains(errOut, "KOMMUNITY_ADMIN_TOKEN_FILE") {
		t.Errorf("unreadable secret file: exit %d, %s", code, errOut)
	}
	os.Unsetenv("KOMMUNITY_ADMIN_TOKEN_FILE")
	t.Setenv("KOMMUNITY_DEMO", "maybe")
	if code, _, errOut := run(t, "serve"); code != 2 || !strings.Contains(errOut, `KOMMUNITY_DEMO="maybe"`) {
		t.Errorf("bad env value: exit %d, %s", code, errOut)
	}
}

// startServe runs `kommunity serve` in-process and returns its base URL
// and a function that stops it and returns its log.
func startServe(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), pw, &errOut)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	base := ""
	for lines.Scan() {
		if _, url, ok := strings.Cut(lines.Text(), "listening on "); ok {
			base = url
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		cancel()
		t.Fatalf("serve did not start: %s", errOut.String())
	}
	return base, func() string {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, errOut.String())
			}
			return errOut.String()
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
			return ""
		}
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

// The real server on a free port with the demo data: the API answers, a
// pledge moves the counters, and a restart reuses the data.
func TestServeDemoEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	base, stop := startServe(t, "--demo", "--db", db)
	var health map[string]string
	if code := getJSON(t, base+"/healthz", &health); code != 200 || health["store"] != "ok" {
		t.Fatalf("healthz %d %v", code, health)
	}
	var areas web.AreasJSON
	getJSON(t, base+"/api/areas", &areas)
	if len(areas.Areas) < 3 {
		t.Fatalf("demo has %d areas", len(areas.Areas))
	}
	first := areas.Areas[0]
	var list struct {
		Addresses []struct {
			AddressID    string `json:"address_id"`
			Units        int    `json:"units"`
			PledgedUnits int    `json:"pledged_units"`
		} `json:"addresses"`
	}
	getJSON(t, base+"/api/areas/"+first.Code+"/addresses", &list)
	target := ""
	for _, a := range list.Addresses {
		if a.PledgedUnits < a.Units {
			target = a.AddressID
			break
		}
	}
	body := fmt.Sprintf(`{"address_id":%q,"name":"Test Beboer","email":"test@example.dk","consent":true}`, target)
	resp, err := http.Post(base+"/api/pledges", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("pledge: %d", resp.StatusCode)
	}
	var after web.AreaJSON
	getJSON(t, base+"/api/areas/"+first.Code, &after)
	if after.PledgedUnits != first.PledgedUnits+1 {
		t.Errorf("pledged units %d -> %d, want +1", first.PledgedUnits, after.PledgedUnits)
	}
	// The demo's roads were imported: the route follows them.
	var cost struct {
		Method string `json:"method"`
	}
	if getJSON(t, base+"/api/areas/"+first.Code+"/cost", &cost); cost.Method != "road" {
		t.Errorf("demo cost method %q, want road", cost.Method)
	}
	// The log is buffered; stopping flushes it, every request's line
	// there and no resident's details.
	logs := stop()
	if !strings.Contains(logs, "route=/api/pledges status=201") || !strings.Contains(logs, "route=/api/areas/:code/cost") {
		t.Errorf("serve's log lacks the requests' lines:\n%s", logs)
	}
	if strings.Contains(logs, "test@example.dk") || strings.Contains(logs, "Test Beboer") {
		t.Errorf("serve's log holds a resident's details:\n%s", logs)
	}
	if !strings.Contains(logs, "prewarm: database file read into the page cache") {
		t.Errorf("serve did not read the database file ahead (--prewarm is on by default):\n%s", logs)
	}

	// Starting again with --demo keeps the data and adds nothing.
	base, stop = startServe(t, "--demo", "--db", db)
	defer stop()
	var again web.AreasJSON
	getJSON(t, base+"/api/areas", &again)
	if len(again.Areas) != len(areas.Areas) || again.Areas[0].Addresses != first.Addresses || again.Areas[0].PledgedUnits != after.PledgedUnits {
		t.Errorf("restart changed the data: %+v vs %+v", again.Areas[0], after)
	}
}

func TestServeRejectsBadTrustedProxies(t *testing.T) {
	code, _, errOut := run(t, "serve", "--db", filepath.Join(t.TempDir(), "k.db"), "--trusted-proxies", "10.0.0.0/8, proxy.example")
	if code != 2 || !strings.Contains(errOut, `"proxy.example" is not an IP address or CIDR`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
