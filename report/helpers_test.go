package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
)

// clock is the fixed time every test package is made at.
var clock = time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)

// MustOpenDemoService opens a SQLite store in a temporary directory and
// fills it with a generated municipality through the service's rules, as
// `serve --demo` does; rename changes area names before the import.
func MustOpenDemoService(tb testing.TB, cfg demo.Config, rename map[string]string) (*pledge.Service, demo.Municipality) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "kommunity.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	svc := pledge.NewService(st)
	svc.Now = func() time.Time { return clock }
	m := demo.Generate(cfg)
	for i, a := range m.Areas {
		if n, ok := rename[a.Code]; ok {
			m.Areas[i].Name = n
		}
	}
	deadline := func(i int) time.Time { return time.Date(2027, time.Month(1+i%12), 27, 23, 59, 0, 0, time.UTC) }
	noRoads := m
	noRoads.Roads = nil // straight-line routes: what these tests assert on
	if err := demo.Seed(ctx, svc, noRoads, deadline); err != nil {
		tb.Fatal(err)
	}
	return svc, m
}

// mustTender gathers area code's tender with the association's details.
func mustTender(tb testing.TB, svc *pledge.Service, code, lang string) report.Tender {
	tb.Helper()
	data, err := svc.TenderData(pledge.WithUser(context.Background(), pledge.SystemUser()), code)
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	return report.Tender{
		TenderData: data, Municipality: "Demo Kommune", Association: "Bårsted Borgerforening",
		Contact: "Søren Ærbø, 12 34 56 78", TenderDeadline: &deadline, Now: clock, Lang: lang,
	}
}

func mustWrite(tb testing.TB, t report.Tender) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, t); err != nil {
		tb.Fatal(err)
	}
	keep(tb, "tender-"+t.Area.Code+"-"+t.Lang+".zip", buf.Bytes())
	return buf.Bytes()
}

// keep writes b to $REPORT_KEEP_DIR, for looking at what a test made.
func keep(tb testing.TB, name string, b []byte) {
	if dir := os.Getenv("REPORT_KEEP_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(tb.Name(), "/", "_")+"-"+name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

type zipFile struct {
	name string
	body []byte
	mod  time.Time
}

func mustUnzip(tb testing.TB, b []byte) []zipFile {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	var out []zipFile
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f.Name, err)
		}
		out = append(out, zipFile{f.Name, body, f.Modified})
	}
	return out
}

func fileOf(tb testing.TB, files []zipFile, name string) []byte {
	tb.Helper()
	for _, f := range files {
		if f.name == name {
			return f.body
		}
	}
	tb.Fatalf("no %s in the package", name)
	return nil
}

// needTool returns the path of a poppler tool. Without it the test skips,
// unless CI=true, where the tools are part of the setup and must be there.
func needTool(tb testing.TB, name string) string {
	tb.Helper()
	return testenv.Tool(tb, name, "poppler-utils")
}

func writeTemp(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// pdfText is the PDF's text by pdftotext -layout, pages split by form feeds.
func pdfText(tb testing.TB, pdf []byte) string {
	tb.Helper()
	out, err := exec.Command(needTool(tb, "pdftotext"), "-layout", "-enc", "UTF-8", writeTemp(tb, "t.pdf", pdf), "-").Output()
	if err != nil {
		tb.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// pdfInfo is pdfinfo's fields.
func pdfInfo(tb testing.TB, pdf []byte) map[string]string {
	tb.Helper()
	out, err := exec.Command(needTool(tb, "pdfinfo"), "-enc", "UTF-8", writeTemp(tb, "i.pdf", pdf)).Output()
	if err != nil {
		tb.Fatalf("pdfinfo: %v", err)
	}
	info := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}

func pageCount(tb testing.TB, pdf []byte) int {
	tb.Helper()
	n, err := strconv.Atoi(pdfInfo(tb, pdf)["Pages"])
	if err != nil {
		tb.Fatalf("pdfinfo pages: %v", err)
	}
	return n
}

// renderPage rasterises one page at dpi with pdftoppm.
func renderPage(tb testing.TB, pdf []byte, page, dpi int) image.Image {
	tb.Helper()
	n := strconv.Itoa(page)
	in := writeTemp(tb, "r.pdf", pdf)
	root := strings.TrimSuffix(in, ".pdf")
	if msg, err := exec.Command(needTool(tb, "pdftoppm"), "-f", n, "-l", n, "-r", strconv.Itoa(dpi), "-png", "-singlefile",
		in, root).CombinedOutput(); err != nil {
		tb.Fatalf("pdftoppm page %d: %v\n%s", page, err, msg)
	}
	out, err := os.ReadFile(root + ".png")
	if err != nil {
		tb.Fatal(err)
	}
	keep(tb, "page"+n+".png", out)
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		tb.Fatalf("page %d is not a PNG: %v", page, err)
	}
	return img
}
