package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/internal/testenv"
)

// On a terminal an import shows its reading as a progress bar and the
// storing that follows (index builds, re-assignment: seconds at national
// scale) as a spinner with the time elapsed; on a pipe it shows neither.
func TestImportShowsProgressOnATerminal(t *testing.T) {
	script := testenv.Tool(t, "script", "bsdutils")
	bin := buildKommunity(t)
	dir := t.TempDir()
	mustRun(t, "demo", "--addresses", "20000", "--areas", "20", "--out", dir)
	db := filepath.Join(dir, "k.db")
	// onTerminal runs the command on a pseudo-terminal (script) and
	// returns what the terminal showed.
	onTerminal := func(args ...string) string {
		t.Helper()
		line := "'" + bin + "' '" + strings.Join(args, "' '") + "'"
		out, err := exec.Command(script, "-qec", line, "/dev/null").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return string(out)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"import", "addresses", "--db", db, filepath.Join(dir, "addresses.csv")},
			[]string{"reading addresses.csv", "addresses.csv: storing the addresses (indexes and counters)", "imported 20000"}},
		{[]string{"import", "areas", "--db", db, filepath.Join(dir, "areas.geojson")},
			[]string{"reading areas.geojson", "areas.geojson: storing 20 areas and re-assigning the addresses", "addresses re-assigned"}},
	} {
		out := onTerminal(c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("kommunity %s on a terminal: no %q in\n%q", strings.Join(c.args[:2], " "), w, out)
			}
		}
	}
	// The same import on a pipe: the summary only.
	out, err := exec.Command(bin, "import", "areas", "--db", db, filepath.Join(dir, "areas.geojson")).CombinedOutput()
	if err != nil {
		t.Fatalf("import areas: %v\n%s", err, out)
	}
	if s := string(out); strings.Contains(s, "storing") || strings.Contains(s, "reading") || strings.Count(s, "\n") != 1 {
		t.Errorf("import areas on a pipe printed more than its summary:\n%q", s)
	}
}
