package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/web"
)

// TestReportMatchesAPI serves the demo, then writes the tender package
// of the same store with the CLI and downloads it over HTTP: the PDF's
// figures are the API's, and both ways give the same data files.
func TestReportMatchesAPI(t *testing.T) {
	pdftotext := reportTool(t, "pdftotext")
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	base, stop := startServe(t, "--demo", "--db", db,
		"--association", "Bårsted Borgerforening", "--contact", "Zyta Ŝ. Łukasiewicz", "--municipality", "Demo Kommune")
	defer stop()
	token := adminAPIToken(t, base, db)

	var area web.AreaJSON
	var cost web.CostJSON
	if getJSON(t, base+"/api/areas/D001", &area) != 200 || getJSON(t, base+"/api/areas/D001/cost", &cost) != 200 {
		t.Fatal("the API does not answer for D001")
	}
	if area.PledgedUnits == 0 {
		t.Fatal("test data: D001 has no pledges")
	}

	out := filepath.Join(dir, "tender-D001.zip")
	stdout := mustRun(t, "report", "--db", db, "--area", "D001", "-o", out,
		"--association", "Bårsted Borgerforening", "--contact", "Zyta Ŝ. Łukasiewicz", "--municipality", "Demo Kommune")
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("stdout %q", stdout)
	}
	cli := readZip(t, mustReadFile(t, out))
	pdfPath := filepath.Join(dir, "tender.pdf")
	if err := os.WriteFile(pdfPath, cli["tender.pdf"], 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(pdftotext, "-layout", "-enc", "UTF-8", pdfPath, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(b)

	for _, fig := range []struct{ label, value string }{
		{"Adresser", groupDK(int64(area.Addresses))},
		{"Enheder (husstande)", groupDK(int64(area.Units))},
		{"Enheder med tilsagn", groupDK(int64(area.PledgedUnits))},
		{"Tilslutning", percentDK(100 * float64(area.PledgedUnits) / float64(area.Units))},
		{"Anlægssum", moneyDK(cost.BuildCost)},
		{"Typisk betaling pr. husstand", moneyDK(cost.HouseholdShare)},
		{"5. Husstandene", moneyDK(cost.HouseholdsPay)},
		{"3. Statsligt tilskud (bredbåndspuljen)", moneyDK(cost.Funding.StateSubsidy)},
		{"Gravetracé", groupDK(int64(cost.TrenchM+0.5)) + " m"},
	} {
		if !regexp.MustCompile(regexp.QuoteMeta(fig.label) + `\s+` + regexp.QuoteMeta(fig.value)).MatchString(text) {
			t.Errorf("the PDF does not show the API's %q next to %q", fig.value, fig.label)
		}
	}
	for _, want := range []string{area.Name, "Zyta Ŝ. Łukasiewicz", "Bårsted Borgerforening", "Side 1 af"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}

	t.Run("Download", func(t *testing.T) {
		get := func(auth string) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, base+"/api/areas/D001/tender.zip", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		resp := get("Bearer wrong-token-wrong-token")
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong token: %d, want 401", resp.StatusCode)
		}
		resp = get("Bearer " + token)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="tender-D001.zip"` {
			t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
		}
		// Made at another moment, so the PDF differs; the data files do not.
		dl := readZip(t, body)
		for _, name := range []string{"area.geojson", "addresses.geojson", "addresses.csv", "route.geojson"} {
			if !bytes.Equal(dl[name], cli[name]) {
				t.Errorf("%s differs between the CLI and the download", name)
			}
		}
	})
}

func TestReportCommand(t *testing.T) {
	db, dir := demoDB(t)
	a := filepath.Join(dir, "a.zip")
	b := filepath.Join(dir, "b.zip")
	mustRun(t, "report", "--db", db, "--area", "D001", "-o", a, "--date", "2027-01-15", "--lang", "en", "--tender-deadline", "2027-03-01")
	mustRun(t, "report", "--db", db, "--area", "D001", "-o", b, "--date", "2027-01-15", "--lang", "en", "--tender-deadline", "2027-03-01")
	if !bytes.Equal(mustReadFile(t, a), mustReadFile(t, b)) {
		t.Error("two runs with the same --date give different bytes")
	}
	files := readZip(t, mustReadFile(t, a))
	if len(files) != 7 || files["tender.gpkg"] == nil || files["manifest.txt"] == nil || !bytes.HasPrefix(files["tender.pdf"], []byte("%PDF-")) {
		t.Errorf("package files %d", len(files))
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"NoArea", []string{"report", "--db", db, "-o", a}, 2},
		{"NoOutput", []string{"report", "--db", db, "--area", "D001"}, 2},
		{"BadLang", []string{"report", "--db", db, "--area", "D001", "-o", a, "--lang", "fr"}, 2},
		{"BadDate", []string{"report", "--db", db, "--area", "D001", "-o", a, "--date", "tomorrow"}, 2},
		{"BadDeadline", []string{"report", "--db", db, "--area", "D001", "-o", a, "--tender-deadline", "soon"}, 2},
		{"UnknownArea", []string{"report", "--db", db, "--area", "NOPE", "-o", filepath.Join(dir, "c.zip")}, 1},
		{"RetiredAdminToken", []string{"serve", "--db", db, "--admin-token", "a-long-enough-old-admin-token"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "c.zip")); !os.IsNotExist(err) {
		t.Error("a failed report left a file behind")
	}

	// A secret may come from a file: KOMMUNITY_ADMIN_TOKEN_FILE is read
	// (and refused, as the retired token is, with what replaces it).
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("an-old-admin-token-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KOMMUNITY_ADMIN_TOKEN_FILE", tokenFile)
	if code, _, stderr := run(t, "serve", "--db", db); code != 2 || !strings.Contains(stderr, "kommunity token add") {
		t.Errorf("retired token from KOMMUNITY_ADMIN_TOKEN_FILE: exit %d: %s", code, stderr)
	}
}

func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reportTool finds a poppler tool; without it the test skips, except
// under CI=true, where it must be installed.
func reportTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.Tool(t, name, "poppler-utils")
}

// Danish number formats, written out independently of the report package.
func groupDK(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func moneyDK(ore int64) string {
	s := groupDK(ore / 100)
	if ore%100 != 0 {
		s += fmt.Sprintf(",%02d", ore%100)
	}
	return s + " kr."
}

func percentDK(p float64) string {
	s := strconv.FormatFloat(float64(int64(p*10+0.5))/10, 'f', -1, 64)
	return strings.Replace(s, ".", ",", 1) + " %"
}

// adminAPIToken makes an admin the way an operator does: kommunity user
// add prints an invitation link, the admin accepts it over the API, and
// kommunity token add prints an API token for their scripts.
func adminAPIToken(t *testing.T, base, db string) string {
	t.Helper()
	link := strings.TrimSpace(mustRun(t, "user", "add", "--db", db, "--role", "admin", "--email", "Ops@Kommune.example", "--name", "Ops"))
	secret := link[strings.LastIndex(link, "/")+1:]
	if !strings.HasPrefix(link, "/invitations/") || secret == "" {
		t.Fatalf("user add printed %q, want an invitation link", link)
	}
	resp, err := http.Post(base+"/api/invitations/"+secret, "application/json",
		strings.NewReader(`{"password":"correct horse battery staple 2026","name":"Ops"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("accept invitation: %d", resp.StatusCode)
	}
	tok := strings.TrimSpace(mustRun(t, "token", "add", "--db", db, "--email", "ops@kommune.example", "--name", "tender downloads"))
	if !strings.HasPrefix(tok, "kmt_") {
		t.Fatalf("token add printed %q", tok)
	}
	return tok
}
