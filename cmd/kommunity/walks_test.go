package main

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWalksCommand(t *testing.T) {
	db, dir := demoDB(t)
	mustRun(t, "import", "roads", "--db", db, filepath.Join(dir, "roads.geojson"))
	csvPath, pdfPath := filepath.Join(dir, "walks.csv"), filepath.Join(dir, "walks.pdf")
	out := mustRun(t, "walks", "--db", db, "--area", "D001", "--size", "30", "--csv", csvPath, "--pdf", pdfPath, "--lang", "en")
	if !strings.Contains(out, "area D001: batch 1,") || !strings.Contains(out, "wrote "+csvPath) || !strings.Contains(out, "wrote "+pdfPath) {
		t.Errorf("stdout:\n%s", out)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// No pledges in an imported demo: every address of D001 is walked.
	areas := areasJSON(t, db)
	want := 0
	for _, a := range areas.Areas {
		if a.Code == "D001" {
			want = a.Addresses
		}
	}
	if len(rows)-1 != want || want == 0 {
		t.Fatalf("CSV has %d stops, want the area's %d addresses", len(rows)-1, want)
	}
	b, err := exec.Command(reportTool(t, "pdftotext"), "-layout", "-enc", "UTF-8", pdfPath, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, r := range rows[1:] {
		street, _, _ := strings.Cut(r[4], ",")
		if !strings.Contains(text, r[2]) || !strings.Contains(text, street) {
			t.Errorf("PDF lacks %s %s", r[2], street)
		}
	}
	// The same size again reuses the batch (the codes are on paper);
	// --new makes the next one.
	if again := mustRun(t, "walks", "--db", db, "--area", "D001", "--size", "30"); !strings.Contains(again, "batch 1,") {
		t.Errorf("second run:\n%s", again)
	}
	if next := mustRun(t, "walks", "--db", db, "--area", "D001", "--size", "30", "--new", "--csv", "-"); !strings.Contains(next, "2W1-01") {
		t.Errorf("--new --csv -:\n%.300s", next)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"NoArea", []string{"walks", "--db", db, "--size", "30"}, 2},
		{"SizeOne", []string{"walks", "--db", db, "--area", "D001", "--size", "1"}, 2},
		{"BadLang", []string{"walks", "--db", db, "--area", "D001", "--lang", "fr"}, 2},
		{"PDFToStdout", []string{"walks", "--db", db, "--area", "D001", "--pdf", "-"}, 2},
		{"Positional", []string{"walks", "--db", db, "--area", "D001", "extra"}, 2},
		{"UnknownArea", []string{"walks", "--db", db, "--area", "NOPE", "--csv", filepath.Join(dir, "x.csv")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || stderr == "" {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); !os.IsNotExist(err) {
		t.Error("a failed run left a file behind")
	}
}
