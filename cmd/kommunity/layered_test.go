package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
)

// knownPoint is an address in EPSG:25832 on Samsø; lon/lat come from PROJ
// (gdaltransform), not from this code.
type knownPoint struct {
	id, text string
	units    int
	e, n     float64
	area     string // the area it lies in, "" for none
}

var knownPoints = []knownPoint{
	{"p1", "Nørregade 12, 8305 Samsø", 2, 587250.12, 6189250.34, "A"},
	{"p2", "Ærøvej 3, Åby", 1, 587750.5, 6189800.25, "A"},
	{"p3", "Søndergade 7", 5, 588700.75, 6189400.5, "A"},
	{"p4", "Østerå 1", 1, 590500.01, 6189500.99, "B"},
	{"p5", "Bygaden 2", 3, 591900.4, 6190900.6, "B"},
	{"p6", "Ude på marken", 1, 595000, 6195000, ""},
}

// Area A is two squares sharing the code (one feature each), B one square.
const knownAreasCSV = `code,name,WKT
A,Åby Nord,"POLYGON ((587000 6189000,588000 6189000,588000 6190000,587000 6190000,587000 6189000))"
B,Bøgely,"POLYGON ((590000 6189000,592000 6189000,592000 6191000,590000 6191000,590000 6189000))"
A,Åby Syd,"POLYGON ((588500 6189000,589000 6189000,589000 6189500,588500 6189500,588500 6189000))"
`

func pointsCSV(pts []knownPoint) string {
	var b strings.Builder
	b.WriteString("id,text,units,WKT\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "%s,\"%s\",%d,POINT (%s %s)\n", p.id, strings.ReplaceAll(p.text, `"`, `""`), p.units, strconv.FormatFloat(p.e, 'f', -1, 64), strconv.FormatFloat(p.n, 'f', -1, 64))
	}
	return b.String()
}

// ogr2ogr converts a CSV with a WKT column to format at dst, in EPSG:25832.
func ogr2ogr(t *testing.T, dst, src string, args ...string) {
	t.Helper()
	bin := testenv.Tool(t, "ogr2ogr", "gdal-bin")
	all := append([]string{dst, src, "-oo", "GEOM_POSSIBLE_NAMES=WKT", "-oo", "KEEP_GEOM_COLUMNS=NO", "-a_srs", "EPSG:25832"}, args...)
	if out, err := exec.Command(bin, all...).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(all, " "), err, out)
	}
}

// shapefiles writes adr.shp and areas.shp (with .dbf, .shx, .prj, .cpg)
// from the known points and areas into a new folder.
func shapefiles(t *testing.T, pts []knownPoint, lco ...string) string {
	t.Helper()
	dir := t.TempDir()
	ogr2ogr(t, filepath.Join(dir, "adr.shp"), writeFile(t, dir, "adr.csv", pointsCSV(pts)), lco...)
	ogr2ogr(t, filepath.Join(dir, "areas.shp"), writeFile(t, dir, "areas.csv", knownAreasCSV), lco...)
	return dir
}

// lonLat is where PROJ puts an EPSG:25832 point.
func lonLat(t *testing.T, e, n float64) (float64, float64) {
	t.Helper()
	bin := testenv.Tool(t, "gdaltransform", "gdal-bin")
	cmd := exec.Command(bin, "-s_srs", "EPSG:25832", "-t_srs", "OGC:CRS84", "-output_xy")
	cmd.Stdin = strings.NewReader(fmt.Sprintf("%f %f\n", e, n))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gdaltransform: %v", err)
	}
	f := strings.Fields(string(out))
	lon, err1 := strconv.ParseFloat(f[0], 64)
	lat, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("gdaltransform said %q", out)
	}
	return lon, lat
}

// storeAddresses lists every address of the areas, by id.
func storeAddresses(t *testing.T, db string, codes ...string) map[string]pledge.Address {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]pledge.Address{}
	for _, c := range codes {
		as, err := st.AreaAddresses(ctx, c, nil, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			out[a.ID] = a
		}
	}
	return out
}

// metresApart is the distance of two nearby lon/lat points in metres.
func metresApart(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371000.0
	dy := (lat2 - lat1) * math.Pi / 180 * r
	dx := (lon2 - lon1) * math.Pi / 180 * r * math.Cos(lat1*math.Pi/180)
	return math.Hypot(dx, dy)
}

// checkKnown asserts the store holds the known points inside areas, with
// their texts, units and positions within 3 cm of PROJ's.
func checkKnown(t *testing.T, db string) {
	t.Helper()
	got := storeAddresses(t, db, "A", "B")
	n := 0
	for _, p := range knownPoints {
		if p.area == "" {
			continue
		}
		n++
		a, ok := got[p.id]
		if !ok {
			t.Errorf("%s is not in area %s", p.id, p.area)
			continue
		}
		if a.Text != p.text || a.Units != p.units || a.AreaCode != p.area {
			t.Errorf("%s = %q, %d units, area %s; want %q, %d, %s", p.id, a.Text, a.Units, a.AreaCode, p.text, p.units, p.area)
		}
		lon, lat := lonLat(t, p.e, p.n)
		if d := metresApart(lon, lat, a.Point[0], a.Point[1]); d > 0.03 {
			t.Errorf("%s at %v, %.3f m from PROJ's %v %v", p.id, a.Point, d, lon, lat)
		}
	}
	if len(got) != n {
		t.Errorf("%d addresses in A and B, want %d", len(got), n)
	}
}

func TestImportShapefile(t *testing.T) {
	dir := shapefiles(t, knownPoints)
	db := filepath.Join(dir, "k.db")
	out := mustRun(t, "import", "areas", "--db", db, "--name-prop", "name", filepath.Join(dir, "areas.shp"))
	if !strings.Contains(out, "areas.shp: read 2 areas, created 2, updated 0") {
		t.Errorf("areas summary %q", out)
	}
	out = mustRun(t, "import", "addresses", "--db", db, filepath.Join(dir, "adr.shp"))
	if !strings.Contains(out, "adr.shp: read 6, imported 6, updated 0, unchanged 0, unassigned 1, rejected 0") {
		t.Errorf("addresses summary %q", out)
	}
	got := areasJSON(t, db)
	units := map[string]int{}
	for _, a := range got.Areas {
		units[a.Code] = a.Units
		if a.Code == "A" && a.Name != "Åby Nord" || a.Code == "B" && a.Name != "Bøgely" {
			t.Errorf("area %s named %q", a.Code, a.Name)
		}
	}
	if c := countsByCode(got); c["A"] != 3 || c["B"] != 2 || units["A"] != 8 || units["B"] != 4 || got.Unassigned.Addresses != 1 {
		t.Errorf("addresses %v, units %v, unassigned %d; want A 3 (8 units), B 2 (4), 1", c, units, got.Unassigned.Addresses)
	}
	checkKnown(t, db)
	// Again: nothing changes.
	if out := mustRun(t, "import", "addresses", "--db", db, filepath.Join(dir, "adr.shp")); !strings.Contains(out, "read 6, imported 0, updated 0, unchanged 6") {
		t.Errorf("re-import summary %q", out)
	}
}

// A .cpg saying ISO-8859-1 decodes the DBF's Latin-1 bytes.
func TestShapefileLatin1(t *testing.T) {
	dir := shapefiles(t, knownPoints, "-lco", "ENCODING=ISO-8859-1")
	cpg, err := os.ReadFile(filepath.Join(dir, "adr.cpg"))
	if err != nil || !strings.Contains(strings.ToUpper(string(cpg)), "8859") {
		t.Fatalf("ogr2ogr wrote no ISO-8859-1 .cpg: %q %v", cpg, err)
	}
	dbf, err := os.ReadFile(filepath.Join(dir, "adr.dbf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dbf, []byte("\xc6r\xf8vej")) { // "Ærøvej" in Latin-1
		t.Fatal("test data: the .dbf does not hold Latin-1 text")
	}
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, filepath.Join(dir, "areas.shp"))
	mustRun(t, "import", "addresses", "--db", db, filepath.Join(dir, "adr.shp"))
	checkKnown(t, db)
	// Without the .cpg the DBF's language driver byte or the dBase default
	// (ISO-8859-1) decides, and still gets it right.
	if err := os.Remove(filepath.Join(dir, "adr.cpg")); err != nil {
		t.Fatal(err)
	}
	db2 := filepath.Join(dir, "k2.db")
	mustRun(t, "import", "areas", "--db", db2, filepath.Join(dir, "areas.shp"))
	mustRun(t, "import", "addresses", "--db", db2, filepath.Join(dir, "adr.shp"))
	checkKnown(t, db2)
}

// copyShapefile copies the parts of dir/name.* to a new folder.
func copyShapefile(t *testing.T, dir, name string) string {
	t.Helper()
	dst := t.TempDir()
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
		b, err := os.ReadFile(filepath.Join(dir, name+ext))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name+ext), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// Broken Shapefiles are refused with the file, record and field, and the
// store does not change.
func TestBrokenShapefileChangesNothing(t *testing.T) {
	good := shapefiles(t, knownPoints)
	fewer := shapefiles(t, knownPoints[:4])
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "import", "areas", "--db", db, filepath.Join(good, "areas.shp"))
	mustRun(t, "import", "addresses", "--db", db, filepath.Join(good, "adr.shp"))
	before := mustRun(t, "areas", "--db", db, "--json")
	beforeAddrs := storeAddresses(t, db, "A", "B")

	changed := []knownPoint{{"p1", "Ændret tekst", 2, 587250.12, 6189250.34, "A"}}
	badUnits := append([]knownPoint{{"p9", "Ny vej 1", 1, 587300, 6189300, "A"}}, knownPoints...)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (file string, args []string)
		want  string
	}{
		{"TruncatedSHP", func(t *testing.T) (string, []string) {
			d := copyShapefile(t, good, "adr")
			p := filepath.Join(d, "adr.shp")
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()-12); err != nil {
				t.Fatal(err)
			}
			return p, nil
		}, "adr.shp: the header says"},
		{"DBFWithFewerRecords", func(t *testing.T) (string, []string) {
			d := copyShapefile(t, good, "adr")
			b, err := os.ReadFile(filepath.Join(fewer, "adr.dbf"))
			if err != nil {
				t.Fatal(err)
			}
			// The first records still import; the import must fail anyway.
			if err := os.WriteFile(filepath.Join(d, "adr.dbf"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(d, "adr.shp"), nil
		}, "adr.dbf: has 4 records, fewer than adr.shp"},
		{"MissingPRJ", func(t *testing.T) (string, []string) {
			d := copyShapefile(t, shapefiles(t, changed), "adr")
			if err := os.Remove(filepath.Join(d, "adr.prj")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(d, "adr.shp"), nil
		}, "adr.shp: field crs: no .prj beside it to give the CRS: give it with --crs"},
		{"MissingDBF", func(t *testing.T) (string, []string) {
			d := copyShapefile(t, good, "adr")
			if err := os.Remove(filepath.Join(d, "adr.dbf")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(d, "adr.shp"), nil
		}, "adr.shp: no adr.dbf beside it"},
		{"BadUnits", func(t *testing.T) (string, []string) {
			d := t.TempDir()
			csv := strings.Replace(pointsCSV(badUnits), "p5,\"Bygaden 2\",3,", "p5,\"Bygaden 2\",x,", 1)
			ogr2ogr(t, filepath.Join(d, "adr.shp"), writeFile(t, d, "adr.csv", csv), "-lco", "ENCODING=UTF-8")
			return filepath.Join(d, "adr.shp"), nil
		}, `adr.shp:6: field units: "x" is not a whole number of at least 1`},
		{"InvisibleText", func(t *testing.T) (string, []string) {
			pts := append([]knownPoint{}, knownPoints...)
			pts[2].text = "Søndergade\u202e 7"
			d := shapefiles(t, pts, "-lco", "ENCODING=UTF-8")
			return filepath.Join(d, "adr.shp"), nil
		}, "adr.shp:3: field text: contains the invisible or control character U+202E"},
		{"UnknownIDColumn", func(t *testing.T) (string, []string) {
			return filepath.Join(good, "adr.shp"), []string{"--id-col", "adresseid"}
		}, "adr.shp: field adresseid: no such field (--id-col); the layer has: id, text, units"},
		{"CSVFlag", func(t *testing.T) (string, []string) {
			return filepath.Join(good, "adr.shp"), []string{"--x-col", "lon"}
		}, "--x-col do(es) not apply to a Shapefile file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, args := tc.setup(t)
			code, _, errOut := run(t, append(append([]string{"import", "addresses", "--db", db}, args...), file)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errOut, tc.want)
			}
			if after := mustRun(t, "areas", "--db", db, "--json"); after != before {
				t.Errorf("the areas changed:\nbefore %s\nafter  %s", before, after)
			}
			if after := storeAddresses(t, db, "A", "B"); fmt.Sprint(after) != fmt.Sprint(beforeAddrs) {
				t.Errorf("the addresses changed:\nbefore %v\nafter  %v", beforeAddrs, after)
			}
		})
	}

	t.Run("CRSFlagWins", func(t *testing.T) {
		d := copyShapefile(t, shapefiles(t, changed), "adr")
		if err := os.Remove(filepath.Join(d, "adr.prj")); err != nil {
			t.Fatal(err)
		}
		out := mustRun(t, "import", "addresses", "--db", db, "--crs", "EPSG:25832", filepath.Join(d, "adr.shp"))
		if !strings.Contains(out, "read 1, imported 0, updated 1") {
			t.Errorf("summary %q", out)
		}
		if a := storeAddresses(t, db, "A")["p1"]; a.Text != "Ændret tekst" {
			t.Errorf("p1 = %q after the import with --crs", a.Text)
		}
	})
}

func TestImportGeoPackage(t *testing.T) {
	dir := t.TempDir()
	g := filepath.Join(dir, "kommune.gpkg")
	ogr2ogr(t, g, writeFile(t, dir, "adr.csv", pointsCSV(knownPoints)), "-nln", "adresser")
	ogr2ogr(t, g, writeFile(t, dir, "areas.csv", knownAreasCSV), "-update", "-nln", "omraader", "-nlt", "MULTIPOLYGON")
	db := filepath.Join(dir, "k.db")

	code, _, errOut := run(t, "import", "areas", "--db", db, g)
	if want := "kommune.gpkg: 2 features layers: choose one with --layer: adresser, omraader"; code == 0 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
	}
	code, _, errOut = run(t, "import", "areas", "--db", db, "--layer", "veje", g)
	if want := `no features layer "veje" (--layer); the file has: adresser, omraader`; code == 0 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
	}
	code, _, errOut = run(t, "import", "addresses", "--db", db, "--layer", "omraader", g)
	if want := "kommune.gpkg:1: field geometry: is a multi-polygon, want a point"; code == 0 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
	}
	if out := mustRun(t, "import", "areas", "--db", db, "--layer", "omraader", g); !strings.Contains(out, "read 2 areas, created 2") {
		t.Errorf("areas summary %q", out)
	}
	if out := mustRun(t, "import", "addresses", "--db", db, "--layer", "adresser", g); !strings.Contains(out, "read 6, imported 6, updated 0, unchanged 0, unassigned 1") {
		t.Errorf("addresses summary %q", out)
	}
	checkKnown(t, db)
}

// The tender package's GeoPackage is what ogrinfo expects, and importing
// its area and addresses into a fresh store gives the same data.
func TestTenderGeoPackageRoundTrip(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo", "gdal-bin")
	db, dir := demoDB(t)
	zipPath := filepath.Join(dir, "tender.zip")
	mustRun(t, "report", "--db", db, "--area", "D001", "-o", zipPath)
	files := readZip(t, mustReadFile(t, zipPath))
	g := filepath.Join(dir, "tender.gpkg")
	if err := os.WriteFile(g, files["tender.gpkg"], 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["manifest.txt"]), "  tender.gpkg\n") {
		t.Error("the manifest does not list tender.gpkg")
	}
	orig := storeAddresses(t, db, "D001")
	pledgedDrops := 0
	for _, a := range orig {
		if a.PledgedUnits > 0 {
			pledgedDrops++
		}
	}

	out, err := exec.Command(ogrinfo, "-ro", "-so", "-al", g).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	info := string(out)
	if strings.Contains(info, "ERROR") || strings.Contains(info, "Warning") {
		t.Errorf("ogrinfo complains:\n%s", info)
	}
	for _, want := range []struct{ layer, geom string }{{"area", "Multi Polygon"}, {"addresses", "Point"}, {"route", "Multi Line String"}, {"pop", "Point"}} {
		if !strings.Contains(info, "Layer name: "+want.layer+"\n") || !regexp.MustCompile(`Layer name: `+want.layer+`\n(.*\n)*?Geometry: `+want.geom+`\n`).MatchString(info) {
			t.Errorf("ogrinfo: no layer %s of %s", want.layer, want.geom)
		}
	}
	counts := regexp.MustCompile(`Layer name: (\w+)\n(?:.*\n)*?Feature Count: (\d+)`).FindAllStringSubmatch(info, -1)
	got := map[string]string{}
	for _, m := range counts {
		got[m[1]] = m[2]
	}
	if got["area"] != "1" || got["addresses"] != strconv.Itoa(len(orig)) || got["pop"] != "1" {
		t.Errorf("feature counts %v; want area 1, addresses %d, pop 1", got, len(orig))
	}
	if n, _ := strconv.Atoi(got["route"]); n < 1 || n > 1+pledgedDrops {
		t.Errorf("route has %s features; want the trench and at most one drop per pledged address (%d)", got["route"], pledgedDrops)
	}
	if c := strings.Count(info, `ID["EPSG",4326]`); c != 4 {
		t.Errorf("%d layers in EPSG:4326, want 4:\n%s", c, info)
	}

	fresh := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "import", "areas", "--db", fresh, "--layer", "area", g)
	mustRun(t, "import", "addresses", "--db", fresh, "--layer", "addresses", "--id-col", "address_id", g)
	back := storeAddresses(t, fresh, "D001")
	if len(back) != len(orig) {
		t.Fatalf("%d addresses back, want %d", len(back), len(orig))
	}
	for id, a := range orig {
		b := back[id]
		if b.Text != a.Text || b.Units != a.Units || b.Point != a.Point || b.AreaCode != a.AreaCode {
			t.Errorf("%s: back %q %d %v %s, want %q %d %v %s", id, b.Text, b.Units, b.Point, b.AreaCode, a.Text, a.Units, a.Point, a.AreaCode)
		}
	}
	before, after := areasJSON(t, db).Areas[0], areasJSON(t, fresh).Areas[0]
	if after.Code != before.Code || after.Name != before.Name || after.Addresses != before.Addresses || after.Units != before.Units {
		t.Errorf("area back %+v, want %+v", after, before)
	}
}
