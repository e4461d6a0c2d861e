package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// costServer is a server over the demo store (pledges included).
func costServer(t *testing.T) (http.Handler, *pledge.Service, demo.Municipality) {
	t.Helper()
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc, m := MustOpenDemoService(t, func() time.Time { return now })
	return web.NewServer(svc, web.Config{}, quietLog()), svc, m
}

func getJSON(t *testing.T, h http.Handler, path string, wantStatus int, v any) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if w.Code != wantStatus {
		t.Fatalf("GET %s: %d %s, want %d", path, w.Code, w.Body, wantStatus)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, w.Body)
		}
	}
	return w
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keys(m); !slices.Equal(got, want) {
		t.Errorf("%s keys %v, want %v", what, got, want)
	}
}

func TestAreaCostAPI(t *testing.T) {
	h, svc, m := costServer(t)
	code := m.Areas[0].Code
	area, err := svc.Area(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		var raw map[string]any
		w := getJSON(t, h, "/api/areas/"+code+"/cost", http.StatusOK, &raw)
		wantKeys(t, "cost", raw, "area_code", "currency", "take_up_percent", "eligible_units", "connected_units", "connected_addresses",
			"trench_m", "drop_m", "build_cost", "costs", "funding", "households_pay", "household_share", "household_share_min",
			"household_share_max", "shortfall", "split_rule", "method", "unconnected", "pop", "params")
		wantKeys(t, "funding", raw["funding"].(map[string]any), "state_subsidy", "municipal_topup", "provider_contribution", "community_fund")
		var c web.CostJSON
		if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		f := c.Funding
		if c.AreaCode != code || c.Currency != "DKK" || c.Method != geo.MethodStraight || c.SplitRule != "equal" ||
			c.ConnectedUnits != area.PledgedUnits || c.EligibleUnits != area.Units || c.BuildCost <= 0 ||
			f.StateSubsidy+f.MunicipalTopUp+f.ProviderContribution+f.CommunityFund+c.HouseholdsPay+c.Shortfall != c.BuildCost ||
			c.Costs.Trench+c.Costs.Drops+c.Costs.Connections+c.Costs.Fixed != c.BuildCost {
			t.Errorf("cost %+v for area %+v", c, area)
		}
		// Counts and amounts only: no pledger's name or e-mail.
		for _, p := range m.Pledges[:20] {
			if strings.Contains(w.Body.String(), p.Email) || strings.Contains(w.Body.String(), p.Name) {
				t.Fatalf("cost JSON carries personal data: %s", w.Body)
			}
		}
	})
	t.Run("TakeUp100", func(t *testing.T) {
		var c web.CostJSON
		getJSON(t, h, "/api/areas/"+code+"/cost?take_up=100", http.StatusOK, &c)
		if c.ConnectedUnits != area.Units || c.ConnectedAddresses != area.Addresses || c.TakeUpPercent != 100 {
			t.Errorf("at 100 %%: %d units at %d addresses, take-up %g", c.ConnectedUnits, c.ConnectedAddresses, c.TakeUpPercent)
		}
	})
	for _, tc := range []struct{ name, query string }{
		{"ErrTakeUpAbove100", "take_up=100.5"},
		{"ErrTakeUpNegative", "take_up=-1"},
		{"ErrTakeUpNotNumber", "take_up=lots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			getJSON(t, h, "/api/areas/"+code+"/cost?"+tc.query, http.StatusBadRequest, &e)
			if e.Error.Code != pledge.EINVALID || e.Error.Field != "take_up_percent" || e.Error.Message == "" {
				t.Errorf("error %+v", e.Error)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		getJSON(t, h, "/api/areas/NOPE/cost", http.StatusNotFound, nil)
		getJSON(t, h, "/api/areas/NOPE/cost/curve", http.StatusNotFound, nil)
		getJSON(t, h, "/api/areas/NOPE/route.geojson", http.StatusNotFound, nil)
	})
}

func TestAreaCostCurveAPI(t *testing.T) {
	h, svc, m := costServer(t)
	code := m.Areas[0].Code
	var raw map[string]any
	w := getJSON(t, h, "/api/areas/"+code+"/cost/curve", http.StatusOK, &raw)
	// The web UI codes against exactly these names.
	wantKeys(t, "curve", raw, "area_code", "currency", "method", "assumption", "eligible_units", "threshold_percent",
		"threshold_units", "points", "current", "if_more_join")
	wantKeys(t, "point", raw["points"].([]any)[0].(map[string]any), "take_up_percent", "units", "addresses", "trench_m", "drop_m",
		"build_cost", "households_pay", "household_share", "shortfall", "threshold", "current")
	wantKeys(t, "current", raw["current"].(map[string]any), "pledged_units", "take_up_percent", "household_share")
	wantKeys(t, "if_more_join", raw["if_more_join"].([]any)[0].(map[string]any), "more_households", "units", "take_up_percent",
		"household_share", "reaches_threshold")

	var cv web.CurveJSON
	if err := json.Unmarshal(w.Body.Bytes(), &cv); err != nil {
		t.Fatal(err)
	}
	want, err := svc.CostCurve(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Points) != len(want.Points) || cv.Current.HouseholdShare == nil || *cv.Current.HouseholdShare != want.Current.HouseholdShare ||
		cv.Assumption != pledge.JoinAssumption || cv.Points[len(cv.Points)-1].TakeUpPercent != 100 {
		t.Fatalf("curve %+v, service %+v", cv, want)
	}
	var thresholds, currents int
	for i, p := range cv.Points {
		if i > 0 && p.Units <= cv.Points[i-1].Units {
			t.Errorf("points not ascending at %d", i)
		}
		if p.Threshold {
			thresholds++
		}
		if p.Current {
			currents++
		}
	}
	if thresholds != 1 || currents != 1 {
		t.Errorf("%d threshold and %d current points, want 1 each", thresholds, currents)
	}
	for _, mj := range cv.IfMoreJoin {
		if mj.Units != cv.Current.PledgedUnits+mj.MoreHouseholds || mj.ReachesThreshold != (mj.Units >= cv.ThresholdUnits) {
			t.Errorf("if more join %+v", mj)
		}
	}

	t.Run("RoadsImported", func(t *testing.T) {
		if _, err := svc.ImportRoads(context.Background(), m.Roads); err != nil {
			t.Fatal(err)
		}
		var cv web.CurveJSON
		getJSON(t, h, "/api/areas/"+code+"/cost/curve", http.StatusOK, &cv)
		if cv.Method != geo.MethodRoad {
			t.Errorf("method %s after importing roads", cv.Method)
		}
	})
}

func TestAreaCostCurveWithoutPledges(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kommunity.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := pledge.NewService(st)
	m := demo.Generate(demo.Config{Seed: 2, Areas: 1, Addresses: 200, PledgeShare: -1})
	if _, err := svc.ImportAreas(ctx, m.Areas, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	recs := pledge.Records(append([]geo.AddressRecord(nil), m.Addresses...))
	if _, err := svc.ImportAddresses(ctx, &recs, pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	h := web.NewServer(svc, web.Config{}, quietLog())
	var raw map[string]any
	getJSON(t, h, "/api/areas/"+m.Areas[0].Code+"/cost/curve", http.StatusOK, &raw)
	cur := raw["current"].(map[string]any)
	if cur["pledged_units"] != 0.0 || cur["household_share"] != nil {
		t.Errorf("current without pledges: %v", cur)
	}
	// If 5, 10, 20 and the threshold's number join.
	if n := len(raw["if_more_join"].([]any)); n != 4 {
		t.Errorf("%d if-more-join figures, want 4", n)
	}
}

func TestAreaRouteGeoJSON(t *testing.T) {
	h, svc, m := costServer(t)
	code := m.Areas[0].Code
	area, err := svc.Area(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query     string
		addresses int
	}{{"", -1}, {"?all_addresses=true", area.Addresses}} {
		w := getJSON(t, h, "/api/areas/"+code+"/route.geojson"+tc.query, http.StatusOK, nil)
		if ct := w.Header().Get("Content-Type"); ct != "application/geo+json" {
			t.Errorf("content type %q", ct)
		}
		var fc struct {
			Type     string
			Features []struct {
				Geometry   struct{ Type string }
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &fc); err != nil {
			t.Fatal(err)
		}
		if fc.Type != "FeatureCollection" || len(fc.Features) < 2 || fc.Features[0].Properties["kind"] != "pop" || fc.Features[1].Properties["kind"] != "trench" {
			t.Fatalf("route %s: %s", tc.query, w.Body.String()[:200])
		}
		n := int(fc.Features[1].Properties["addresses"].(float64))
		if tc.addresses >= 0 && n != tc.addresses {
			t.Errorf("route %s covers %d addresses, want %d", tc.query, n, tc.addresses)
		}
	}
	getJSON(t, h, "/api/areas/"+code+"/route.geojson?all_addresses=maybe", http.StatusBadRequest, nil)
}
