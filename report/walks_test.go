package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
	"github.com/paulmach/orb"
)

func demoWalks(t *testing.T, size int) (pledge.Area, []pledge.Walk) {
	t.Helper()
	svc, _ := MustOpenDemoService(t, demo.Config{Seed: 3, Areas: 1, Addresses: 260}, map[string]string{"D001": "Ærø Sønderby"})
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	ws, err := svc.GenerateWalks(ctx, "D001", size)
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.Area(ctx, "D001")
	if err != nil {
		t.Fatal(err)
	}
	return a, ws
}

func TestWalkPDF(t *testing.T) {
	a, ws := demoWalks(t, 30)
	if len(ws) < 3 {
		t.Fatalf("%d walks, want several", len(ws))
	}
	for _, lang := range []string{"da", "en"} {
		t.Run(lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WalkPDF(&buf, a, ws, report.WalkOptions{Lang: lang, Now: clock}); err != nil {
				t.Fatal(err)
			}
			keep(t, "walks.pdf", buf.Bytes())
			if n := pageCount(t, buf.Bytes()); n != len(ws) {
				t.Errorf("%d pages for %d walks, want one page per walk", n, len(ws))
			}
			pages := strings.Split(pdfText(t, buf.Bytes()), "\f")
			heading := map[string]string{"da": "Rute %dW%d", "en": "Walk %dW%d"}[lang]
			for i, w := range ws {
				page := pages[i]
				if want := strings.Replace(strings.Replace(heading, "%d", strconv.Itoa(w.Batch), 1), "%d", strconv.Itoa(w.Number), 1); !strings.Contains(page, want) {
					t.Errorf("page %d lacks %q", i+1, want)
				}
				for _, s := range w.Stops {
					if !strings.Contains(page, s.Code) {
						t.Errorf("page %d lacks code %s", i+1, s.Code)
					}
					// The street and number start every demo address and
					// fit in the column.
					street, _, _ := strings.Cut(s.Address.Text, ",")
					if !strings.Contains(page, street) {
						t.Errorf("page %d lacks address %q", i+1, street)
					}
				}
			}
			words := map[string][]string{"da": {"Besøgt", "Ikke hj.", "Nej tak", "Papir", "Aldrig", "Ærø Sønderby", "bank ikke på igen"},
				"en": {"Visited", "Not home", "Declined", "Paper", "Never", "do not knock again"}}[lang]
			for _, w := range words {
				if !strings.Contains(pages[0], w) {
					t.Errorf("first page lacks %q", w)
				}
			}
		})
	}
	if err := report.WalkPDF(&bytes.Buffer{}, a, ws, report.WalkOptions{Lang: "fr"}); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("lang fr: %v", err)
	}
}

func TestWalkPDFDriveLegs(t *testing.T) {
	// Two hamlets 2 km apart: the leg between is marked to drive.
	w := pledge.Walk{Batch: 4, Number: 2, Stops: []pledge.WalkStop{
		{Seq: 1, Code: "4W2-01", Address: pledge.Address{ID: "x1", Text: "Bygaden 1, Østerby", Point: orb.Point{10.60, 55.86}, Units: 1}},
		{Seq: 2, Code: "4W2-02", LegM: 2012, Drive: true, Address: pledge.Address{ID: "x2", Text: "Åvej 9, Nørreby", Point: orb.Point{10.632, 55.86}, Units: 2}},
	}, LengthM: 2012}
	var buf bytes.Buffer
	if err := report.WalkPDF(&buf, pledge.Area{Code: "X", Name: "Xby"}, []pledge.Walk{w}, report.WalkOptions{Lang: "en", Now: clock}); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"drive 2,012 m", "1 legs to drive", "Åvej 9, Nørreby", "4W2-02", "3 households"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF lacks %q:\n%s", want, text)
		}
	}
}

func TestWalkCSVFormulaGuard(t *testing.T) {
	w := pledge.Walk{Batch: 1, Number: 1, Stops: []pledge.WalkStop{
		{Seq: 1, Code: "1W1-01", Address: pledge.Address{ID: "=1+1", Text: `=HYPERLINK("http://evil.example","x")`, Point: orb.Point{-3.5, 55.1}, Units: 1}},
		{Seq: 2, Code: "1W1-02", LegM: 12.345, Address: pledge.Address{ID: "a2", Text: "@SUM(A1:A9)", Point: orb.Point{10.1, 55.2}, Units: 2}},
	}}
	var buf bytes.Buffer
	if err := report.WalkCSV(&buf, []pledge.Walk{w}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != "walk,seq,code,address_id,address,units,lon,lat,leg_m,drive,outcome" {
		t.Fatalf("rows = %v", rows)
	}
	if rows[1][3] != "'=1+1" || rows[1][4] != `'=HYPERLINK("http://evil.example","x")` || rows[2][4] != "'@SUM(A1:A9)" {
		t.Errorf("formulas not neutralised: %v", rows[1:])
	}
	// Numbers stay numbers: a negative longitude is data.
	if rows[1][6] != "-3.5" || rows[2][8] != "12.35" || rows[1][0] != "1W1" || rows[2][2] != "1W1-02" {
		t.Errorf("data cells changed: %v", rows[1:])
	}
}
