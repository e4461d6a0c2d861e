package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo/gpkg"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
)

// smallConfig is a municipality of three areas, some above threshold.
var smallConfig = demo.Config{Seed: 1, Areas: 3, Addresses: 900}

var wantFiles = []string{report.FilePDF, report.FileArea, report.FileAddresses, report.FileAddressesCSV, report.FileRoute, report.FileGeoPackage, report.FileManifest}

func TestPackageFiles(t *testing.T) {
	svc, m := MustOpenDemoService(t, smallConfig, nil)
	tender := mustTender(t, svc, "D001", "da")
	if tender.Area.PledgedUnits == 0 {
		t.Fatal("test data: D001 has no pledges")
	}
	files := mustUnzip(t, mustWrite(t, tender))

	t.Run("OrderAndDates", func(t *testing.T) {
		if len(files) != len(wantFiles) {
			t.Fatalf("%d files, want %v", len(files), wantFiles)
		}
		for i, f := range files {
			if f.name != wantFiles[i] {
				t.Errorf("file %d is %s, want %s", i, f.name, wantFiles[i])
			}
			if !f.mod.Equal(clock) {
				t.Errorf("%s modified %v, want the clock %v", f.name, f.mod, clock)
			}
		}
	})

	t.Run("Manifest", func(t *testing.T) {
		lines := strings.Split(strings.TrimSuffix(string(fileOf(t, files, report.FileManifest)), "\n"), "\n")
		if len(lines) != len(wantFiles)-1 {
			t.Fatalf("manifest has %d lines, want %d", len(lines), len(wantFiles)-1)
		}
		for i, line := range lines {
			sum := sha256.Sum256(fileOf(t, files, wantFiles[i]))
			if want := hex.EncodeToString(sum[:]) + "  " + wantFiles[i]; line != want {
				t.Errorf("manifest line %d = %q, want %q", i+1, line, want)
			}
		}
		// The same check a provider runs, where the tool exists.
		if path, err := exec.LookPath("sha256sum"); err == nil {
			dir := t.TempDir()
			for _, f := range files {
				writeTempIn(t, dir, f.name, f.body)
			}
			cmd := exec.Command(path, "-c", report.FileManifest)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c: %v\n%s", err, out)
			}
		}
	})

	t.Run("AreaGeoJSON", func(t *testing.T) {
		var fc struct {
			Type     string
			Features []struct {
				ID       string
				Geometry struct {
					Type        string
					Coordinates [][][][2]float64
				}
				Properties map[string]any
			}
		}
		mustJSON(t, fileOf(t, files, report.FileArea), &fc)
		if fc.Type != "FeatureCollection" || len(fc.Features) != 1 {
			t.Fatalf("area.geojson: %s with %d features", fc.Type, len(fc.Features))
		}
		f := fc.Features[0]
		if f.ID != "D001" || f.Geometry.Type != "MultiPolygon" || len(f.Geometry.Coordinates) == 0 {
			t.Errorf("area feature %q %s with %d polygons", f.ID, f.Geometry.Type, len(f.Geometry.Coordinates))
		}
		if f.Properties["name"] != tender.Area.Name || f.Properties["units"] != float64(tender.Area.Units) ||
			f.Properties["pledged_units"] != float64(tender.Area.PledgedUnits) {
			t.Errorf("area properties %v", f.Properties)
		}
	})

	var geoIDs []string
	t.Run("AddressesGeoJSON", func(t *testing.T) {
		var fc struct {
			Type     string
			Features []struct {
				Type     string
				ID       string
				Geometry struct {
					Type        string
					Coordinates [2]float64
				}
				Properties struct {
					AddressID    string   `json:"address_id"`
					Text         string   `json:"text"`
					Units        int      `json:"units"`
					PledgedUnits int      `json:"pledged_units"`
					DropM        *float64 `json:"drop_m"`
				}
			}
		}
		mustJSON(t, fileOf(t, files, report.FileAddresses), &fc)
		if len(fc.Features) != tender.Area.Addresses {
			t.Fatalf("%d address features, want %d", len(fc.Features), tender.Area.Addresses)
		}
		units, pledged := 0, 0
		for i, f := range fc.Features {
			a := tender.Addresses[i]
			p := f.Properties
			if f.Type != "Feature" || f.Geometry.Type != "Point" || f.ID != a.ID || p.AddressID != a.ID || p.Text != a.Text ||
				f.Geometry.Coordinates != [2]float64(a.Point) || p.Units != a.Units || p.PledgedUnits != a.PledgedUnits {
				t.Fatalf("feature %d = %+v, want %+v", i, f, a)
			}
			if (p.DropM != nil) != (a.PledgedUnits > 0) {
				t.Errorf("address %s: drop_m %v with %d pledged units", a.ID, p.DropM, a.PledgedUnits)
			}
			units += p.Units
			pledged += p.PledgedUnits
			geoIDs = append(geoIDs, f.ID)
		}
		if units != tender.Area.Units || pledged != tender.Area.PledgedUnits {
			t.Errorf("addresses sum to %d units, %d pledged; area has %d, %d", units, pledged, tender.Area.Units, tender.Area.PledgedUnits)
		}
	})

	t.Run("AddressesCSV", func(t *testing.T) {
		rows, err := csv.NewReader(bytes.NewReader(fileOf(t, files, report.FileAddressesCSV))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows[0], ","); got != "address_id,text,lon,lat,units,pledged_units,drop_m" {
			t.Errorf("header %q", got)
		}
		rows = rows[1:]
		if len(rows) != tender.Area.Addresses {
			t.Fatalf("%d CSV rows, want one per address: %d", len(rows), tender.Area.Addresses)
		}
		for i, r := range rows {
			a := tender.Addresses[i]
			lon, _ := strconv.ParseFloat(r[2], 64)
			lat, _ := strconv.ParseFloat(r[3], 64)
			if r[0] != a.ID || r[1] != a.Text || lon != a.Point[0] || lat != a.Point[1] ||
				r[4] != strconv.Itoa(a.Units) || r[5] != strconv.Itoa(a.PledgedUnits) {
				t.Fatalf("row %d = %q, want %+v", i+1, r, a)
			}
			if _, err := strconv.ParseFloat(r[6], 64); (err == nil) != (a.PledgedUnits > 0) {
				t.Errorf("row %d: drop_m %q with %d pledged units", i+1, r[6], a.PledgedUnits)
			}
			if len(geoIDs) > i && geoIDs[i] != r[0] {
				t.Errorf("row %d is %s, GeoJSON feature %d is %s", i+1, r[0], i+1, geoIDs[i])
			}
		}
	})

	t.Run("RouteGeoJSON", func(t *testing.T) {
		var fc struct {
			Features []struct {
				Geometry   struct{ Type string }
				Properties map[string]any
			}
		}
		mustJSON(t, fileOf(t, files, report.FileRoute), &fc)
		if len(fc.Features) < 2 || fc.Features[0].Properties["kind"] != "pop" || fc.Features[1].Properties["kind"] != "trench" {
			t.Fatalf("route.geojson does not start with the POP and the trench: %d features", len(fc.Features))
		}
		if got, want := fc.Features[1].Properties["trench_m"], roundCM(tender.Cost.TrenchM); got != want {
			t.Errorf("trench_m %v, want the cost's %v", got, want)
		}
		for _, f := range fc.Features[2:] {
			if f.Properties["kind"] != "drop" || f.Geometry.Type != "LineString" {
				t.Errorf("feature %v %s after the trench, want drops", f.Properties["kind"], f.Geometry.Type)
			}
		}
	})

	t.Run("GeoPackage", func(t *testing.T) {
		b := fileOf(t, files, report.FileGeoPackage)
		// GeoPackage 1.3 in the SQLite header: application_id "GPKG" at
		// offset 68, user_version 10300 at offset 60.
		if len(b) < 100 || string(b[68:72]) != "GPKG" || binary.BigEndian.Uint32(b[60:64]) != 10300 {
			t.Fatal("tender.gpkg lacks the GeoPackage 1.3 application_id and user_version")
		}
		path := writeTemp(t, "tender.gpkg", b)
		l, err := gpkg.OpenLayer(context.Background(), path, "tender.gpkg", "addresses")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		rows, err := csv.NewReader(bytes.NewReader(fileOf(t, files, report.FileAddressesCSV))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if l.CRS == nil || l.CRS.Code() != 4326 || strings.Join(l.Fields, ",") != "address_id,text,units,pledged_units,drop_m" {
			t.Fatalf("addresses layer: CRS %v (%v), fields %v", l.CRS, l.CRSErr, l.Fields)
		}
		for i := 1; ; i++ {
			f, err := l.Next()
			if errors.Is(err, io.EOF) {
				if i != len(rows) {
					t.Errorf("%d features, the CSV has %d rows", i-1, len(rows)-1)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			row := rows[i]
			drop := ""
			if d, ok := f.Attrs[4].(float64); ok {
				drop = strconv.FormatFloat(d, 'f', 2, 64)
			}
			p := f.Geom.FlatCoords()
			got := []string{f.Attrs[0].(string), f.Attrs[1].(string), strconv.FormatFloat(p[0], 'f', -1, 64), strconv.FormatFloat(p[1], 'f', -1, 64),
				strconv.FormatInt(f.Attrs[2].(int64), 10), strconv.FormatInt(f.Attrs[3].(int64), 10), drop}
			if strings.Join(got, "|") != strings.Join(row, "|") || f.Record != i {
				t.Fatalf("feature %d = %v, the CSV row is %v", f.Record, got, row)
			}
		}
	})

	t.Run("NoPersonalData", func(t *testing.T) {
		text := pdfText(t, fileOf(t, files, report.FilePDF))
		for _, p := range m.Pledges {
			for _, f := range files {
				if bytes.Contains(f.body, []byte(p.Email)) || bytes.Contains(f.body, []byte(p.Name)) {
					t.Fatalf("%s holds a pledger's name or e-mail (%s)", f.name, p.Email)
				}
			}
			if strings.Contains(text, p.Email) || strings.Contains(text, p.Name) {
				t.Fatalf("the PDF's text holds a pledger's name or e-mail (%s)", p.Email)
			}
		}
	})
}

func TestSameBytes(t *testing.T) {
	svc, _ := MustOpenDemoService(t, smallConfig, nil)
	for _, lang := range report.Languages() {
		t.Run(lang, func(t *testing.T) {
			a := mustWrite(t, mustTender(t, svc, "D002", lang))
			b := mustWrite(t, mustTender(t, svc, "D002", lang))
			if !bytes.Equal(a, b) {
				t.Fatal("two packages of the same data and clock differ")
			}
			later := mustTender(t, svc, "D002", lang)
			later.Now = clock.Add(24 * time.Hour)
			if bytes.Equal(a, mustWrite(t, later)) {
				t.Error("a package made a day later has the same bytes: the clock is not used")
			}
		})
	}
}

func TestPDFTextDanish(t *testing.T) {
	svc, _ := MustOpenDemoService(t, smallConfig, nil)
	tender := mustTender(t, svc, "D001", "da")
	pdf := fileOf(t, mustUnzip(t, mustWrite(t, tender)), report.FilePDF)
	text := pdfText(t, pdf)
	a, c := tender.Area, tender.Cost

	for _, want := range []string{
		"UDBUDSMATERIALE", "Bårsted", "Bårsted Borgerforening", "Søren Ærbø", "Demo Kommune",
		"26. november 2026", "27. januar 2027", "1. marts 2027", "Tærskel nået",
		"Resumé", "Kort", "Omkostningsoverslag", "Pris pr. husstand efter tilslutning", "Vilkår", "Tidsplan", "Bilag: adresser",
		"danske offentlige geodata",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if strings.Contains(text, "OpenStreetMap") {
		t.Error("the map credits OpenStreetMap roads for a straight-line route")
	}
	for _, fig := range []struct {
		label, value string
	}{
		{"Adresser", dkInt(a.Addresses)},
		{"Enheder (husstande)", dkInt(a.Units)},
		{"Enheder med tilsagn", dkInt(a.PledgedUnits)},
		{"Tilslutning", dkPercent(100 * float64(a.PledgedUnits) / float64(a.Units))},
		{"Anlægssum", dkMoney(c.BuildCost)},
		{"Typisk betaling pr. husstand", dkMoney(c.HouseholdShare())},
		{"5. Husstandene", dkMoney(c.HouseholdsPay)},
		{"3. Statsligt tilskud (bredbåndspuljen)", dkMoney(c.StateSubsidy)},
	} {
		if !regexp.MustCompile(regexp.QuoteMeta(fig.label) + `\s+` + regexp.QuoteMeta(fig.value)).MatchString(text) {
			t.Errorf("the PDF does not show %q next to %q", fig.value, fig.label)
		}
	}

	pages := pageCount(t, pdf)
	for _, n := range []int{1, 3, pages} {
		if want := fmt.Sprintf("Side %d af %d", n, pages); !strings.Contains(text, want) {
			t.Errorf("no %q", want)
		}
	}
	if strings.Contains(text, "{nb}") || strings.Contains(text, "\u27e6") {
		t.Error("an unreplaced alias or a missing message in the text")
	}
	info := pdfInfo(t, pdf)
	if info["Title"] != "Udbudsmateriale: fibernet i Bårsted" || info["Author"] != "Bårsted Borgerforening" || info["Subject"] == "" {
		t.Errorf("document info %v", info)
	}
	if !bytes.Contains(pdf, []byte("/Lang (da)")) {
		t.Error("the catalog has no /Lang (da)")
	}
	checkAnnex(t, text, tender.Addresses)
}

func TestPDFTextEnglish(t *testing.T) {
	svc, _ := MustOpenDemoService(t, smallConfig, nil)
	tender := mustTender(t, svc, "D001", "en")
	pdf := fileOf(t, mustUnzip(t, mustWrite(t, tender)), report.FilePDF)
	text := pdfText(t, pdf)
	pages := pageCount(t, pdf)
	for _, want := range []string{
		"TENDER PACKAGE", "Summary", "Cost estimate", "Annex: addresses", "26 November 2026",
		fmt.Sprintf("Page 2 of %d", pages), "DKK " + enInt(tender.Cost.BuildCost/100),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the English PDF lacks %q", want)
		}
	}
	if !bytes.Contains(pdf, []byte("/Lang (en)")) {
		t.Error("the catalog has no /Lang (en)")
	}
	checkAnnex(t, text, tender.Addresses)
}

func TestAreaWithoutPledges(t *testing.T) {
	svc, _ := MustOpenDemoService(t, demo.Config{Seed: 1, Areas: 1, Addresses: 300, PledgeShare: -1}, nil)
	tender := mustTender(t, svc, "D001", "da")
	if tender.Area.PledgedUnits != 0 {
		t.Fatal("test data: the area has pledges")
	}
	files := mustUnzip(t, mustWrite(t, tender))
	text := pdfText(t, fileOf(t, files, report.FilePDF))
	for _, want := range []string{"Ingen husstande har givet tilsagn endnu", "Ingen tilsagn endnu", "Indsamler tilsagn", "Bilag: adresser"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	checkAnnex(t, text, tender.Addresses)
	rows, err := csv.NewReader(bytes.NewReader(fileOf(t, files, report.FileAddressesCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != tender.Area.Addresses {
		t.Errorf("%d CSV rows, want %d", len(rows)-1, tender.Area.Addresses)
	}
	for _, r := range rows[1:] {
		if r[5] != "0" || r[6] != "" {
			t.Fatalf("row %q: want no pledge and no drop", r)
		}
	}
	var fc struct{ Features []json.RawMessage }
	mustJSON(t, fileOf(t, files, report.FileRoute), &fc)
	if len(fc.Features) != 2 {
		t.Errorf("route.geojson has %d features, want the POP and an empty trench", len(fc.Features))
	}
}

func TestThousandsOfAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this imports 5,000 addresses")
	}
	svc, _ := MustOpenDemoService(t, demo.Config{Seed: 1, Areas: 1, Addresses: 5000}, nil)
	tender := mustTender(t, svc, "D001", "da")
	if len(tender.Addresses) < 4900 {
		t.Fatalf("test data: %d addresses", len(tender.Addresses))
	}
	files := mustUnzip(t, mustWrite(t, tender))
	pdf := fileOf(t, files, report.FilePDF)
	text := pdfText(t, pdf)
	checkAnnex(t, text, tender.Addresses)
	pages := pageCount(t, pdf)
	if pages < 80 {
		t.Errorf("%d pages for %d addresses", pages, len(tender.Addresses))
	}
	// The header repeats on every annex page.
	if n := strings.Count(text, "Adresse-id"); n < pages-6 {
		t.Errorf("the annex header appears %d times in %d pages", n, pages)
	}
	rows, err := csv.NewReader(bytes.NewReader(fileOf(t, files, report.FileAddressesCSV))).ReadAll()
	if err != nil || len(rows)-1 != len(tender.Addresses) {
		t.Errorf("CSV: %d rows, %v; want %d", len(rows)-1, err, len(tender.Addresses))
	}
}

func TestNamesOutsideLatin1(t *testing.T) {
	const name, contact = "Ærø–Øst ŝ ł", "Zyta Ŝ. Łukasiewicz"
	svc, _ := MustOpenDemoService(t, smallConfig, map[string]string{"D002": name})
	tender := mustTender(t, svc, "D002", "da")
	tender.Contact = contact
	tender.Association = "Foreningen Ŝ Ł Ő"
	files := mustUnzip(t, mustWrite(t, tender))
	pdf := fileOf(t, files, report.FilePDF)
	text := pdfText(t, pdf)
	for _, want := range []string{name, contact, "Foreningen Ŝ Ł Ő", "Udbudsmateriale · " + name + " (D002)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if got := pdfInfo(t, pdf)["Title"]; got != "Udbudsmateriale: fibernet i "+name {
		t.Errorf("title %q", got)
	}
	if !bytes.Contains(fileOf(t, files, report.FileArea), []byte(`"name":"`+name+`"`)) {
		t.Error("area.geojson lacks the name")
	}
}

// TestPagesRender rasterises the cover and the map page: they must be
// real drawings, not blank pages.
func TestPagesRender(t *testing.T) {
	svc, _ := MustOpenDemoService(t, smallConfig, nil)
	pdf := fileOf(t, mustUnzip(t, mustWrite(t, mustTender(t, svc, "D001", "da"))), report.FilePDF)
	for _, tc := range []struct {
		name            string
		page, minColors int
		minInk          float64 // share of pixels that are not white
		must            [][3]uint8
	}{
		{"Cover", 1, 200, 0.25, [][3]uint8{{29, 53, 87}}},
		// The map: area fill, pledged dots, the route and the POP.
		{"Map", 3, 300, 0.40, [][3]uint8{{234, 244, 236}, {42, 157, 143}, {231, 111, 81}, {200, 30, 45}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := renderPage(t, pdf, tc.page, 60)
			colors, ink, seen := countColors(img, tc.must)
			t.Logf("page %d: %d colours, %.1f %% ink", tc.page, colors, 100*ink)
			if colors < tc.minColors || ink < tc.minInk {
				t.Errorf("page %d: %d colours, %.0f %% ink; want at least %d and %.0f %%", tc.page, colors, 100*ink, tc.minColors, 100*tc.minInk)
			}
			for i, c := range tc.must {
				if !seen[i] {
					t.Errorf("page %d has no pixel of colour %v", tc.page, c)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	svc, _ := MustOpenDemoService(t, demo.Config{Seed: 1, Areas: 1, Addresses: 50}, nil)
	tender := mustTender(t, svc, "D001", "fr")
	if err := report.Write(&bytes.Buffer{}, tender); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("language fr: %v, want EINVALID", err)
	}
	tender.Lang, tender.Now = "da", time.Time{}
	if err := report.Write(&bytes.Buffer{}, tender); err == nil {
		t.Error("no clock: no error")
	}
}

// checkAnnex finds every address in the annex rows of the text: number,
// id and text, in order.
func checkAnnex(t *testing.T, text string, addrs []pledge.Address) {
	t.Helper()
	_, annex, ok := strings.Cut(text, annexTitle(text))
	if !ok {
		t.Fatal("no annex in the text")
	}
	row := regexp.MustCompile(`^\s*(\d+)\s+(\S+)\s+(.*?)(?:\s+\d+){1,3}\s*$`)
	found := 0
	for _, line := range strings.Split(annex, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n != found+1 || n > len(addrs) {
			continue
		}
		if a := addrs[n-1]; m[2] != a.ID || strings.TrimSpace(m[3]) != a.Text {
			t.Fatalf("annex row %d = %q %q, want %q %q", n, m[2], m[3], a.ID, a.Text)
		}
		found++
	}
	if found != len(addrs) {
		t.Errorf("the annex lists %d of %d addresses", found, len(addrs))
	}
}

func annexTitle(text string) string {
	if strings.Contains(text, "Annex: addresses") {
		return "Annex: addresses"
	}
	return "Bilag: adresser"
}

// countColors counts distinct colours and the share of non-white pixels,
// and whether a pixel near each colour in must occurs.
func countColors(img image.Image, must [][3]uint8) (int, float64, []bool) {
	b := img.Bounds()
	colors := map[[3]uint8]bool{}
	seen := make([]bool, len(must))
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			colors[c] = true
			if c != [3]uint8{255, 255, 255} {
				ink++
			}
			for i, m := range must {
				if near(c, m) {
					seen[i] = true
				}
			}
		}
	}
	return len(colors), float64(ink) / float64(b.Dx()*b.Dy()), seen
}

func near(a, b [3]uint8) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d < -4 || d > 4 {
			return false
		}
	}
	return true
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
}

func writeTempIn(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func roundCM(m float64) float64 { return float64(int64(m*100+0.5)) / 100 }

// Danish and English number formats, written out independently of the
// package's own.
func dkInt(n int) string { return groupDigits(strconv.Itoa(n), ".") }

func enInt(n int64) string { return groupDigits(strconv.FormatInt(n, 10), ",") }

func groupDigits(s, sep string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func dkMoney(ore int64) string {
	s := dkInt(int(ore / 100))
	if ore%100 != 0 {
		s += fmt.Sprintf(",%02d", ore%100)
	}
	return s + " kr."
}

func dkPercent(p float64) string {
	s := strconv.FormatFloat(float64(int64(p*10+0.5))/10, 'f', -1, 64)
	return strings.Replace(s, ".", ",", 1) + " %"
}
