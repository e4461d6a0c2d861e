package safecsv_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/kommunity/kommunity/internal/safecsv"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"},
		{"+45 12 34 56 78", "'+45 12 34 56 78"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(1+1)", "'@SUM(1+1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"Nørregade 1, 8305 Samsø", "Nørregade 1, 8305 Samsø"},
		{"-12.5", "-12.5"},
		{"+7", "+7"},
		{"10.123456", "10.123456"},
		{"-", "'-"},
		{"-1.", "'-1."},
		{"-.5", "'-.5"},
		{"", ""},
	} {
		if got := safecsv.Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := safecsv.NewWriter(&buf)
	if err := w.Write([]string{"id", "text"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"a1", "=1+1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1][1] != "'=1+1" {
		t.Fatalf("read back %q", recs)
	}
}
