package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/web"
)

func TestAreaSet(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	mustRun(t, "import", "addresses", "--db", db, writeFile(t, dir, "a.csv", goodCSV))

	var a web.AreaJSON
	out := mustRun(t, "area", "set", "--db", db, "--area", "A", "--threshold", "60", "--threshold-units", "2", "--deadline", "2027-03-31", "--json")
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	if a.ThresholdPercent != 60 || a.ThresholdUnits != 2 || a.Deadline == nil || a.Deadline.Format("2006-01-02 15:04") != "2027-03-31 23:59" {
		t.Errorf("area after set: %+v", a)
	}
	// What was set is what the API and the list show.
	got := areasJSON(t, db).Areas[0]
	if got.ThresholdPercent != 60 || got.Deadline == nil || got.Status != "collecting" {
		t.Errorf("areas --json: %+v", got)
	}
	out = mustRun(t, "area", "set", "--db", db, "--area", "A", "--confirm-days", "5")
	if !strings.Contains(out, "unconfirmed pledges lapse after 5 days") || areasJSON(t, db).Areas[0].ConfirmDays != 5 {
		t.Errorf("--confirm-days 5: %q", out)
	}
	out = mustRun(t, "area", "set", "--db", db, "--area", "A", "--deadline", "none", "--status", "draft")
	if !strings.Contains(out, "deadline none, status draft") {
		t.Errorf("output %q", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--threshold", "101"}, "threshold must be a percent from 0 to 100"},
		{[]string{"--threshold-units", "-5"}, "cannot be negative"},
		{[]string{"--status", "sold"}, `unknown status "sold"`},
		{[]string{"--confirm-days", "0"}, "days to confirm a pledge must be from 1 to 365"},
		{[]string{"--confirm-days", "366"}, "days to confirm a pledge must be from 1 to 365"},
		{[]string{"--status", "threshold_reached"}, "set by the pledge that reaches the threshold"},
	} {
		before := mustRun(t, "areas", "--db", db, "--json")
		code, _, errOut := run(t, append([]string{"area", "set", "--db", db, "--area", "A"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
		if after := mustRun(t, "areas", "--db", db, "--json"); after != before {
			t.Errorf("%v changed the store", tc.args)
		}
	}
	if code, _, errOut := run(t, "area", "set", "--db", db, "--area", "NOPE", "--threshold", "10"); code != 1 || !strings.Contains(errOut, `no area with code "NOPE"`) {
		t.Errorf("unknown area: %d %q", code, errOut)
	}
	if code, _, _ := run(t, "area", "set", "--db", db, "--area", "A", "--deadline", "31/3/2027"); code != 2 {
		t.Errorf("bad date: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "area"); code != 2 {
		t.Errorf("area without set: exit %d, want 2", code)
	}
}

func TestLapseOverdueAreas(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	mustRun(t, "import", "addresses", "--db", db, writeFile(t, dir, "a.csv", goodCSV))
	if out := mustRun(t, "lapse", "--db", db); !strings.Contains(out, "no area is overdue") {
		t.Errorf("lapse without deadlines: %q", out)
	}
	mustRun(t, "area", "set", "--db", db, "--area", "A", "--deadline", "2020-01-31")
	if out := mustRun(t, "lapse", "--db", db); !strings.Contains(out, "A: lapsed, 0 pledge(s) lapsed") {
		t.Errorf("lapse: %q", out)
	}
	if a := areasJSON(t, db).Areas[0]; a.Status != "lapsed" {
		t.Errorf("status %s, want lapsed", a.Status)
	}
}

// serve lapses overdue areas by itself.
func TestServeLapsesOverdueAreas(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "import", "areas", "--db", db, writeFile(t, dir, "areas.geojson", testAreas))
	mustRun(t, "import", "addresses", "--db", db, writeFile(t, dir, "a.csv", goodCSV))
	mustRun(t, "area", "set", "--db", db, "--area", "A", "--deadline", "2020-01-31")
	base, stop := startServe(t, "--db", db, "--lapse-interval", "50ms", "--progress-ttl", "0")
	defer stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var a web.AreaJSON
		getJSON(t, base+"/api/areas/A", &a)
		if a.Status == "lapsed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("area still %s", a.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
