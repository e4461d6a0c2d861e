package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/kommunity/kommunity/web"
)

// demoDB imports a generated one-area municipality into a new database and
// returns the database and the folder with the files (roads.geojson).
func demoDB(t *testing.T) (db, dir string) {
	t.Helper()
	dir = t.TempDir()
	db = filepath.Join(dir, "k.db")
	mustRun(t, "demo", "--areas", "1", "--addresses", "400", "--out", dir)
	mustRun(t, "import", "areas", "--db", db, filepath.Join(dir, "areas.geojson"))
	mustRun(t, "import", "addresses", "--db", db, filepath.Join(dir, "addresses.csv"))
	return db, dir
}

func costJSON(t *testing.T, args ...string) web.CostJSON {
	t.Helper()
	var c web.CostJSON
	if err := json.Unmarshal([]byte(mustRun(t, append([]string{"cost", "--json"}, args...)...)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCostCommands(t *testing.T) {
	db, dir := demoDB(t)
	area := areasJSON(t, db).Areas[0]

	// Nobody has pledged: nothing is connected and nobody pays.
	c := costJSON(t, "--db", db, "--area", area.Code)
	if c.ConnectedUnits != 0 || c.HouseholdsPay != 0 || c.Shortfall != c.BuildCost || c.Method != "straight" {
		t.Errorf("cost without pledges: %+v", c)
	}
	c = costJSON(t, "--db", db, "--area", area.Code, "--takeup", "100")
	if c.ConnectedUnits != area.Units || c.Params.TrenchCostPerM != 300_00 || c.HouseholdShare < c.Params.MinOwnPayment {
		t.Errorf("cost at 100 %%: %+v", c)
	}
	out := mustRun(t, "cost", "--db", db, "--area", area.Code, "--takeup", "60")
	for _, want := range []string{"at 60 % take-up", "build cost", "state subsidy", "per household, equal split", "defaults: set them with kommunity cost set"} {
		if !strings.Contains(out, want) {
			t.Errorf("cost text lacks %q:\n%s", want, out)
		}
	}

	t.Run("Curve", func(t *testing.T) {
		var cv web.CurveJSON
		if err := json.Unmarshal([]byte(mustRun(t, "cost", "curve", "--db", db, "--area", area.Code, "--json")), &cv); err != nil {
			t.Fatal(err)
		}
		if len(cv.Points) < 10 || cv.Current.HouseholdShare != nil || len(cv.IfMoreJoin) != 4 {
			t.Errorf("curve %+v", cv)
		}
		out := mustRun(t, "cost", "curve", "--db", db, "--area", area.Code)
		if !strings.Contains(out, "threshold") || !strings.Contains(out, "If 5 more join") || !strings.Contains(out, "Assumption:") {
			t.Errorf("curve text:\n%s", out)
		}
	})

	t.Run("Route", func(t *testing.T) {
		var r struct {
			Method    string  `json:"method"`
			Addresses int     `json:"addresses"`
			Units     int     `json:"units"`
			TrenchM   float64 `json:"trench_m"`
			DropM     float64 `json:"drop_m"`
		}
		geo := filepath.Join(t.TempDir(), "route.geojson")
		if err := json.Unmarshal([]byte(mustRun(t, "route", "--db", db, "--area", area.Code, "--all-addresses", "--json", "--geojson", geo)), &r); err != nil {
			t.Fatal(err)
		}
		if r.Method != "straight" || r.Addresses != area.Addresses || r.Units != area.Units || r.TrenchM <= 0 || r.DropM <= 0 {
			t.Errorf("route %+v, area %+v", r, area)
		}
		if b, err := os.ReadFile(geo); err != nil || !strings.Contains(string(b), `"kind":"trench"`) {
			t.Errorf("route GeoJSON: %v", err)
		}
		// Straight lines with no detour are shorter.
		var plain struct {
			TrenchM float64 `json:"trench_m"`
		}
		json.Unmarshal([]byte(mustRun(t, "route", "--db", db, "--area", area.Code, "--all-addresses", "--json", "--detour", "1")), &plain)
		if plain.TrenchM >= r.TrenchM {
			t.Errorf("trench with detour 1: %.1f, with the default: %.1f", plain.TrenchM, r.TrenchM)
		}
		if code, _, errOut := run(t, "route", "--db", db, "--area", area.Code, "--pop", "12.57,55.68"); code != 1 || !strings.Contains(errOut, "within 50 km") {
			t.Errorf("far POP: exit %d, %s", code, errOut)
		}
	})

	t.Run("ImportRoads", func(t *testing.T) {
		roads := filepath.Join(dir, "roads.geojson")
		out := mustRun(t, "import", "roads", "--db", db, roads)
		if !strings.Contains(out, "already stored") || strings.Contains(out, "added 0,") {
			t.Errorf("first import: %s", out)
		}
		if out := mustRun(t, "import", "roads", roads, "--db", db); !strings.Contains(out, "added 0,") {
			t.Errorf("second import: %s", out)
		}
		if c := costJSON(t, "--db", db, "--area", area.Code, "--takeup", "100"); c.Method != "road" {
			t.Errorf("method %s after importing roads", c.Method)
		}
	})

	t.Run("Set", func(t *testing.T) {
		out := mustRun(t, "cost", "set", "--db", db, "--area", area.Code, "--trench-cost", "250", "--drop-cost", "80,50",
			"--split", "capped", "--household-cap", "15000", "--community-fund", "100000", "--pop", "10.2,55.3")
		if !strings.Contains(out, "cost parameters of area "+area.Code+" set") || !strings.Contains(out, "250.00 kr per metre") {
			t.Errorf("set: %s", out)
		}
		c := costJSON(t, "--db", db, "--area", area.Code, "--takeup", "100")
		p := c.Params
		if p.TrenchCostPerM != 250_00 || p.DropCostPerM != 80_50 || p.SplitRule != "capped" || p.HouseholdCap != 15_000_00 ||
			p.CommunityFund != 100_000_00 || p.POP == nil || *p.POP != [2]float64{10.2, 55.3} || p.ConnectionCost != 12_000_00 {
			t.Errorf("params after set: %+v", p)
		}
		if c.HouseholdShareMax > 15_000_00 {
			t.Errorf("share %d above the cap", c.HouseholdShareMax)
		}
		mustRun(t, "cost", "set", "--db", db, "--area", area.Code, "--pop", "default")
		if c := costJSON(t, "--db", db, "--area", area.Code); c.Params.POP != nil || c.Params.TrenchCostPerM != 250_00 {
			t.Errorf("after --pop default: %+v", c.Params)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		exit int
		want string
	}{
		{"ErrNegativeCost", []string{"cost", "set", "--trench-cost", "-300"}, 1, "the trench cost per metre must not be negative"},
		{"ErrPOPNotLonLat", []string{"cost", "set", "--pop", "575000,6040000"}, 1, "is not a longitude/latitude"},
		{"ErrPOPFar", []string{"cost", "set", "--pop", "12.57,55.68"}, 1, "within 50 km"},
		{"ErrPOPSyntax", []string{"cost", "set", "--pop", "north"}, 2, "want LON,LAT"},
		{"ErrAmountSyntax", []string{"cost", "set", "--fixed-cost", "1.234"}, 2, "not an amount in kroner"},
		{"ErrSplit", []string{"cost", "set", "--split", "random"}, 1, "split rule must be"},
		{"ErrNothingToSet", []string{"cost", "set"}, 2, "nothing to set"},
		{"ErrTakeUpAbove100", []string{"cost", "--takeup", "120"}, 1, "take-up must be a percent from 0 to 100"},
		{"ErrUnknownArea", []string{"cost", "--area", "NOPE"}, 1, "no area"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--db", db)
			if !strings.Contains(strings.Join(args, " "), "--area") {
				args = append(args, "--area", area.Code)
			}
			code, _, errOut := run(t, args...)
			if code != tc.exit || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.exit, tc.want)
			}
		})
	}
	// The rejected sets stored nothing.
	if c := costJSON(t, "--db", db, "--area", area.Code); c.Params.TrenchCostPerM != 250_00 || c.Params.POP != nil || c.Params.SplitRule != "capped" {
		t.Errorf("params after rejected sets: %+v", c.Params)
	}
}

func TestParseKroner(t *testing.T) {
	for in, want := range map[string]int64{"300": 300_00, "299.5": 299_50, "0,05": 5, "12000 kr": 12_000_00, "-1": -100, "007": 700} {
		if got, err := parseKroner(in); err != nil || got != want {
			t.Errorf("parseKroner(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.234", "1e3", "1,000.00", "kr", "12.", "--1", "9999999999999"} {
		if _, err := parseKroner(in); err == nil {
			t.Errorf("parseKroner(%q) accepted", in)
		}
	}
	if kr(-123456789) != "-1,234,567.89 kr" || kr(5) != "0.05 kr" || kr(100_000_00) != "100,000.00 kr" {
		t.Errorf("kr: %s %s %s", kr(-123456789), kr(5), kr(100_000_00))
	}
}

func TestCostCommandsSamsoe(t *testing.T) {
	parishes := shareddata.Path(t, "dk_dagi_polygons/derived/sogne_samsoe.geojson")
	addresses := shareddata.Path(t, "samsoe_osm/derived/addresses.csv")
	roads := shareddata.Path(t, "samsoe_osm/derived/roads.geojson")
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "import", "areas", "--db", db, "--id-prop", "SOGNEKODE", "--name-prop", "SOGNENAVN", parishes)
	mustRun(t, "import", "addresses", "--db", db, "--id-col", "osm_node_id", "--text-col", "{street} {housenumber}, {postcode} {city}", addresses)
	if out := mustRun(t, "import", "roads", "--db", db, roads); !strings.Contains(out, "read 1935 road lines, added 1935, 0 already stored") {
		t.Errorf("import roads: %s", out)
	}
	var r struct {
		Method    string  `json:"method"`
		Addresses int     `json:"addresses"`
		TrenchM   float64 `json:"trench_m"`
		DropM     float64 `json:"drop_m"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "route", "--db", db, "--area", "7243", "--all-addresses", "--json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Method != "road" || r.Addresses != 419 || r.TrenchM < 10_000 || r.DropM <= 0 {
		t.Errorf("Kolby route %+v", r)
	}
	c := costJSON(t, "--db", db, "--area", "7243", "--takeup", "50")
	t.Logf("Kolby at 50 %%: %d households, trench %.1f km, build %s, share %s", c.ConnectedUnits, c.TrenchM/1000, kr(c.BuildCost), kr(c.HouseholdShare))
	if c.ConnectedUnits != 210 || c.Method != "road" {
		t.Errorf("Kolby at 50 %%: %+v", c)
	}
}
