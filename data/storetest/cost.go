package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// RunCost runs the conformance suite of pledge.CostStore (cost parameters
// and roads) against stores made by open, which must implement it. The
// real-data cases skip without ../shared/data (and fail when CI=true).
func RunCost(t *testing.T, open Opener) {
	tests := []suiteCase{
		{"ParamsDefaultUntilSet", testCostDefaults},
		{"ParamsRoundTrip", testCostRoundTrip},
		{"ParamsUnknownArea", testCostUnknownArea},
		{"BadParamsStoreNothing", testCostBadParams},
		{"RoadsImportOnce", testRoadsImportOnce},
		{"RoadsInBound", testRoadsInBound},
		{"BadRoadsStoreNothing", testBadRoads},
		{"CostFollowsPledges", testCostFollowsPledges},
		{"RouteUsesRoads", testRouteUsesRoads},
		{"Samsoe", testCostSamsoe},
		{"DAWAOdense", testCostDAWA},
	}
	runSuite(t, open, tests)
}

// fullParams sets every field to a distinct value.
func fullParams() pledge.CostParams {
	return pledge.CostParams{
		POP: &orb.Point{9.5123456789, 54.4987654321}, Detour: 1.3,
		TrenchPerM: 31_050, DropPerM: 9_999, PerConnection: 1_150_001, Fixed: 12_345_678_901,
		StateSubsidyAvgCap: 2_100_000, MunicipalTopUp: 150_000, ProviderContribution: 480_000,
		MinOwnPayment: 250_001, CommunityFund: 9_876_543, Split: pledge.SplitCapped, HouseholdCap: 1_500_000,
	}
}

func testCostDefaults(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	if _, err := storeOf(svc).CostParams(ctx, "V"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("store CostParams before any set: %v, want not found", err)
	}
	p, stored, err := svc.CostParams(ctx, "V")
	if err != nil || stored || fmt.Sprint(p) != fmt.Sprint(pledge.DefaultCostParams()) {
		t.Errorf("CostParams = %+v, %v, %v; want the defaults, not stored", p, stored, err)
	}
}

func testCostRoundTrip(t *testing.T, svc *pledge.Service) {
	ctx := cliContext() // area.edit
	mustImport(t, svc)
	want := fullParams()
	if err := svc.SetCostParams(ctx, "V", want); err != nil {
		t.Fatal(err)
	}
	got, stored, err := svc.CostParams(ctx, "V")
	if err != nil || !stored {
		t.Fatalf("CostParams: %v, stored %v", err, stored)
	}
	if got.POP == nil || *got.POP != *want.POP {
		t.Errorf("POP = %v, want %v exactly", got.POP, *want.POP)
	}
	got.POP, want.POP = nil, nil
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Setting again replaces everything; a nil POP stays nil; other areas
	// keep their defaults.
	next := pledge.DefaultCostParams()
	next.TrenchPerM = 1
	if err := svc.SetCostParams(ctx, "V", next); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := svc.CostParams(ctx, "V"); got.POP != nil || got.TrenchPerM != 1 || got.Split != pledge.SplitEqual {
		t.Errorf("after replacing: %+v", got)
	}
	if _, stored, _ := svc.CostParams(ctx, "A"); stored {
		t.Error("area A has parameters it was never given")
	}
}

func testCostUnknownArea(t *testing.T, svc *pledge.Service) {
	ctx := cliContext() // area.edit
	mustImport(t, svc)
	if err := svc.SetCostParams(ctx, "NOPE", pledge.DefaultCostParams()); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("service: %v, want not found", err)
	}
	if err := storeOf(svc).SetCostParams(ctx, "NOPE", pledge.DefaultCostParams()); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("store: %v, want not found", err)
	}
	if _, _, err := svc.CostParams(ctx, "NOPE"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("read: %v, want not found", err)
	}
	if _, err := svc.CostCurve(ctx, "NOPE"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("curve: %v, want not found", err)
	}
}

func testCostBadParams(t *testing.T, svc *pledge.Service) {
	ctx := cliContext() // area.edit
	mustImport(t, svc)
	before := fullParams()
	if err := svc.SetCostParams(ctx, "V", before); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*pledge.CostParams)
	}{
		{"ErrNegativeTrenchCost", "trench_cost_per_m", func(p *pledge.CostParams) { p.TrenchPerM = -30_000 }},
		{"ErrNegativeOwnPayment", "min_own_payment", func(p *pledge.CostParams) { p.MinOwnPayment = -1 }},
		{"ErrPOPNotLonLat", "pop", func(p *pledge.CostParams) { p.POP = &orb.Point{575000, 6040000} }},
		{"ErrPOPFarAway", "pop", func(p *pledge.CostParams) { p.POP = &orb.Point{12.57, 55.68} }},
		{"ErrSplitRule", "split_rule", func(p *pledge.CostParams) { p.Split = "random" }},
		{"ErrDetour", "detour", func(p *pledge.CostParams) { p.Detour = 0.9 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fullParams()
			tc.edit(&p)
			err := svc.SetCostParams(ctx, "V", p)
			var pe *pledge.Error
			if !errors.As(err, &pe) || pe.Code != pledge.EINVALID || pe.Field != tc.field || pe.Message == "" {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
			if got, _, _ := svc.CostParams(ctx, "V"); fmt.Sprint(*got.POP, got.TrenchPerM, got.Split) != fmt.Sprint(*before.POP, before.TrenchPerM, before.Split) {
				t.Errorf("stored after a rejected set: %+v", got)
			}
		})
	}
	t.Run("ErrTakeUpAbove100", func(t *testing.T) {
		pct := 100.5
		var pe *pledge.Error
		if _, err := svc.Cost(ctx, "V", &pct); !errors.As(err, &pe) || pe.Code != pledge.EINVALID || pe.Field != "take_up_percent" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrThresholdAbove100", func(t *testing.T) {
		a := areaByCode(t, svc, "V")
		a.ThresholdPercent = 150
		if err := storeOf(svc).UpdateArea(ctx, a); err != nil {
			t.Fatal(err) // stores persist; the rule is the service's
		}
		var pe *pledge.Error
		if _, err := svc.CostCurve(ctx, "V"); !errors.As(err, &pe) || pe.Code != pledge.EINVALID || pe.Field != "threshold_percent" {
			t.Fatalf("got %v", err)
		}
	})
}

// grid is a road grid: n+1 east-west and n+1 north-south lines spaced
// step degrees from (x, y).
func grid(x, y, step float64, n int) []orb.LineString {
	var lines []orb.LineString
	for i := 0; i <= n; i++ {
		var ew, ns orb.LineString
		for j := 0; j <= n; j++ {
			ew = append(ew, orb.Point{x + float64(j)*step, y + float64(i)*step})
			ns = append(ns, orb.Point{x + float64(i)*step, y + float64(j)*step})
		}
		lines = append(lines, ew, ns)
	}
	return lines
}

func testRoadsImportOnce(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	lines := grid(9.3, 54.3, 0.05, 8)
	n, err := svc.ImportRoads(ctx, lines)
	if err != nil || n != len(lines) {
		t.Fatalf("first import: %d, %v; want %d", n, err, len(lines))
	}
	n, err = svc.ImportRoads(ctx, append(lines[:3:3], orb.LineString{{9.1, 54.1}, {9.2, 54.2}}))
	if err != nil || n != 1 {
		t.Fatalf("second import: %d, %v; want 1 new line", n, err)
	}
	got, err := storeOf(svc).Roads(ctx, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines)+1 {
		t.Fatalf("%d roads stored, want %d", len(got), len(lines)+1)
	}
	// Coordinates survive exactly, in the order added.
	for i, l := range lines {
		if !slices.Equal(got[i], l) {
			t.Fatalf("road %d = %v, want %v", i, got[i], l)
		}
	}
}

func testRoadsInBound(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	a := orb.LineString{{10, 55}, {10.1, 55}}        // inside
	b := orb.LineString{{9.9, 55.05}, {10.3, 55.05}} // crosses the box
	c := orb.LineString{{11, 56}, {11.1, 56.1}}      // outside
	d := orb.LineString{{9, 54}, {12, 57}}           // bounds cover the box; the line passes its corner
	if _, err := svc.ImportRoads(ctx, []orb.LineString{a, b, c, d}); err != nil {
		t.Fatal(err)
	}
	got, err := storeOf(svc).Roads(ctx, orb.Bound{Min: orb.Point{9.95, 54.95}, Max: orb.Point{10.2, 55.1}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint([]orb.LineString{a, b, d}) {
		t.Errorf("roads in bound = %v", got)
	}
}

func testBadRoads(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	for _, lines := range [][]orb.LineString{
		{{{10, 55}, {10.1, 55}}, {{10, 55}}},
		{{{10, 55}, {10.1, 55}}, {{600000, 6190000}, {600100, 6190000}}},
	} {
		if _, err := svc.ImportRoads(ctx, lines); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Errorf("ImportRoads(%v) = %v, want invalid", lines, err)
		}
	}
	got, err := storeOf(svc).Roads(ctx, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}})
	if err != nil || len(got) != 0 {
		t.Errorf("stored after rejected imports: %v, %v", got, err)
	}
}

// villageAddresses are six addresses in area V around (9.5, 54.5), about
// 100-600 m apart.
func villageAddresses() []geo.AddressRecord {
	return []geo.AddressRecord{
		addr("v-01", "Vestergade 1, 5001 Vesterby", 9.501, 54.501, 1),
		addr("v-02", "Vestergade 2, 5001 Vesterby", 9.503, 54.5015, 2),
		addr("v-03", "Vestergade 3, 5001 Vesterby", 9.506, 54.499, 1),
		addr("v-04", "Vestergade 4, 5001 Vesterby", 9.498, 54.497, 1),
		addr("v-05", "Møllevej 5, 5001 Vesterby", 9.510, 54.503, 3),
		addr("v-06", "Møllevej 6, 5001 Vesterby", 9.495, 54.505, 1),
	}
}

func testCostFollowsPledges(t *testing.T, svc *pledge.Service) {
	ctx := cliContext() // area.edit
	mustImport(t, svc)
	if _, err := svc.ImportAddresses(ctx, src(villageAddresses()...), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	pop := orb.Point{9.5, 54.5}
	p := pledge.DefaultCostParams()
	p.POP = &pop
	if err := svc.SetCostParams(ctx, "V", p); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"v-02", "v-05", "v-05"} {
		if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: id, Name: "Test Person", Email: "t@example.dk", Consent: true}, ""); err != nil {
			t.Fatal(err)
		}
	}
	a := areaByCode(t, svc, "V")
	c, err := svc.Cost(ctx, "V", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Units != 3 || c.Addresses != 2 || c.EligibleUnits != a.Units || c.Method != geo.MethodStraight || c.POP != pop {
		t.Errorf("current cost: %d units at %d addresses of %d, method %s, POP %v", c.Units, c.Addresses, c.EligibleUnits, c.Method, c.POP)
	}
	if sum := c.ProviderContribution + c.MunicipalTopUp + c.StateSubsidy + c.CommunityFund + c.HouseholdsPay + c.Shortfall; sum != c.BuildCost {
		t.Errorf("funding %d != build cost %d", sum, c.BuildCost)
	}
	// The store's figures match the pure model on the same addresses.
	addrs, err := svc.AreaAddresses(ctx, "V", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := pledge.NewCostModel(a, addrs, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := svc.CostCurve(ctx, "V")
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Curve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cv, want) {
		t.Errorf("service curve %+v\nmodel curve %+v", cv, want)
	}
	if cv.Current == nil || cv.Current.Units != 3 || cv.Current.HouseholdShare != c.HouseholdShare() {
		t.Errorf("current %+v, cost share %d", cv.Current, c.HouseholdShare())
	}
	if last := cv.Points[len(cv.Points)-1]; last.Units != a.Units || last.TakeUpPercent != 100 {
		t.Errorf("last point %+v, want all %d units", last, a.Units)
	}
	full := 100.0
	if c, err := svc.Cost(ctx, "V", &full); err != nil || c.Units != a.Units {
		t.Errorf("cost at 100 %%: %d units, %v", c.Units, err)
	}

	r, err := svc.Route(ctx, "V", pledge.RouteRequest{})
	if err != nil || len(r.Addresses) != 2 || r.Units != 3 {
		t.Fatalf("route of the pledged: %+v, %v", r, err)
	}
	r, err = svc.Route(ctx, "V", pledge.RouteRequest{AllAddresses: true, Detour: 1})
	if err != nil || len(r.Addresses) != a.Addresses || r.Estimate.Method != geo.MethodStraight {
		t.Fatalf("route of all: %d addresses, %v", len(r.Addresses), err)
	}
	if _, err := svc.Route(ctx, "V", pledge.RouteRequest{POP: &orb.Point{12.57, 55.68}}); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("route with a far POP: %v", err)
	}
}

func testRouteUsesRoads(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	if _, err := svc.ImportAddresses(ctx, src(villageAddresses()...), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	straight, err := svc.Route(ctx, "V", pledge.RouteRequest{AllAddresses: true, Detour: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Roads far from V do not change its method.
	if _, err := svc.ImportRoads(ctx, grid(14, 56, 0.01, 3)); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Route(ctx, "V", pledge.RouteRequest{AllAddresses: true}); err != nil || r.Estimate.Method != geo.MethodStraight {
		t.Fatalf("with far roads: %s, %v", r.Estimate.Method, err)
	}
	if _, err := svc.ImportRoads(ctx, grid(9.45, 54.45, 0.002, 50)); err != nil {
		t.Fatal(err)
	}
	road, err := svc.Route(ctx, "V", pledge.RouteRequest{AllAddresses: true})
	if err != nil {
		t.Fatal(err)
	}
	if road.Estimate.Method != geo.MethodRoad || road.Estimate.Unconnected != 0 {
		t.Fatalf("method %s, %d unconnected", road.Estimate.Method, road.Estimate.Unconnected)
	}
	s, r := straight.Estimate.TrenchM+straight.Estimate.DropTotalM, road.Estimate.TrenchM+road.Estimate.DropTotalM
	if r < s {
		t.Errorf("road route %.1f m shorter than the straight EMST %.1f m", r, s)
	}
	if c, err := svc.Cost(ctx, "V", nil); err != nil || c.Method != geo.MethodRoad {
		t.Errorf("cost method %s, %v", c.Method, err)
	}
}

func importFile(t *testing.T, rel string, fn func(*os.File, string)) {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fn(f, filepath.Base(rel))
}

// pledgeEvery pledges one unit at every nth address of the area.
func pledgeEvery(t *testing.T, svc *pledge.Service, code string, nth int) {
	t.Helper()
	ctx := context.Background()
	addrs, err := svc.AreaAddresses(ctx, code, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(addrs); i += nth {
		if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: addrs[i].ID, Name: "Test Person", Email: "t@example.dk", Consent: true}, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// checkCurve asserts what holds for every curve.
func checkCurve(t *testing.T, cv pledge.CostCurve, a pledge.Area) {
	t.Helper()
	if len(cv.Points) == 0 {
		t.Fatalf("area %s: no curve points", a.Code)
	}
	for i, p := range cv.Points {
		if i > 0 && p.Units <= cv.Points[i-1].Units {
			t.Errorf("area %s: points not ascending: %+v", a.Code, cv.Points)
		}
		if p.Units < cv.ThresholdUnits && p.Units != cv.PledgedUnits {
			t.Errorf("area %s: point below the threshold: %+v", a.Code, p)
		}
	}
	if last := cv.Points[len(cv.Points)-1]; last.Units != a.Units || last.Addresses != a.Addresses {
		t.Errorf("area %s: last point %d units at %d addresses, want %d at %d", a.Code, last.Units, last.Addresses, a.Units, a.Addresses)
	}
	if cv.PledgedUnits != a.PledgedUnits || (cv.Current == nil) != (a.PledgedUnits == 0) {
		t.Errorf("area %s: pledged %d, current %+v; area has %d pledged", a.Code, cv.PledgedUnits, cv.Current, a.PledgedUnits)
	}
	for _, m := range cv.IfMoreJoin {
		if m.Units != cv.PledgedUnits+m.More {
			t.Errorf("area %s: %d more join gives %d units", a.Code, m.More, m.Units)
		}
	}
}

func testCostSamsoe(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	importFile(t, "dk_dagi_polygons/derived/sogne_samsoe.geojson", func(f *os.File, name string) {
		areas, _, err := geo.ReadAreas(f, name, geo.AreaReadOptions{IDProp: "SOGNEKODE", NameProp: "SOGNENAVN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ImportAreas(ctx, areas, pledge.AreaImport{}); err != nil {
			t.Fatal(err)
		}
	})
	importFile(t, "samsoe_osm/derived/addresses.csv", func(f *os.File, name string) {
		rd, err := geo.NewAddressReader(f, name, geo.AddressReadOptions{Format: geo.FormatCSV, IDCol: "osm_node_id"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ImportAddresses(ctx, rd, pledge.AddressImportOptions{File: name}); err != nil {
			t.Fatal(err)
		}
	})
	areas, _, err := svc.Areas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(areas) != 5 {
		t.Fatalf("%d parishes, want 5", len(areas))
	}
	straight := map[string]pledge.CostCurve{}
	for _, a := range areas {
		pledgeEvery(t, svc, a.Code, 3)
		start := time.Now()
		cv, err := svc.CostCurve(ctx, a.Code)
		if err != nil {
			t.Fatal(err)
		}
		straight[a.Code] = cv
		if cv.Method != geo.MethodStraight {
			t.Errorf("method %s before roads", cv.Method)
		}
		t.Logf("%s %s: %d addresses, straight curve of %d levels in %v", a.Code, a.Name, a.Addresses, len(cv.Points)+len(cv.IfMoreJoin), time.Since(start).Round(time.Millisecond))
	}

	importFile(t, "samsoe_osm/derived/roads.geojson", func(f *os.File, name string) {
		lines, err := geo.ReadRoads(f, name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := svc.ImportRoads(ctx, lines)
		if err != nil || n != len(lines) {
			t.Fatalf("imported %d of %d roads: %v", n, len(lines), err)
		}
	})
	if areas, _, err = svc.Areas(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range areas {
		a := areaByCode(t, svc, a.Code)
		start := time.Now()
		cv, err := svc.CostCurve(ctx, a.Code)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if cv.Method != geo.MethodRoad {
			t.Errorf("%s: method %s with roads", a.Code, cv.Method)
		}
		checkCurve(t, cv, a)
		full, sfull := cv.Points[len(cv.Points)-1], straight[a.Code].Points[len(straight[a.Code].Points)-1]
		t.Logf("%s %s: %d units (%d pledged), road curve in %v: at 100 %% trench %.1f km (straight %.1f km), share %s (straight %s); current %s",
			a.Code, a.Name, a.Units, a.PledgedUnits, took.Round(time.Millisecond), full.TrenchM/1000, sfull.TrenchM/1000,
			pledge.FormatKroner(full.HouseholdShare), pledge.FormatKroner(sfull.HouseholdShare), pledge.FormatKroner(cv.Current.HouseholdShare))
		// Samsø is rural: with the default figures, pledging neighbours
		// lowers the share from the current take-up to everyone.
		if full.HouseholdShare >= cv.Current.HouseholdShare {
			t.Errorf("%s: share at 100 %% %d not below the current %d", a.Code, full.HouseholdShare, cv.Current.HouseholdShare)
		}
		// The route along roads (trench plus drops) is never shorter
		// than the straight tree without detour.
		r, err := svc.Route(ctx, a.Code, pledge.RouteRequest{AllAddresses: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := svc.Route(ctx, a.Code, pledge.RouteRequest{AllAddresses: true, Detour: 1, POP: &r.POP})
		if err != nil {
			t.Fatal(err)
		}
		if r.Estimate.TrenchM+r.Estimate.DropTotalM < s.Estimate.TrenchM+s.Estimate.DropTotalM {
			t.Errorf("%s: road route shorter than the straight tree", a.Code)
		}
		if !planar.MultiPolygonContains(a.Geometry, r.POP) {
			t.Errorf("%s: default POP %v outside the parish", a.Code, r.POP)
		}
	}
}

func testCostDAWA(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	importFile(t, "dk_dagi_polygons/kommuner.geojson", func(f *os.File, name string) {
		areas, _, err := geo.ReadAreas(f, name, geo.AreaReadOptions{IDProp: "KOMKODE", NameProp: "KOMNAVN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ImportAreas(ctx, areas, pledge.AreaImport{}); err != nil {
			t.Fatal(err)
		}
	})
	importFile(t, "dawa_testdata/derived/access_addresses_with_units.csv", func(f *os.File, name string) {
		rd, err := geo.NewAddressReader(f, name, geo.AddressReadOptions{Format: geo.FormatCSV, IDCol: "id", UnitsCol: "units",
			Text: "{vejnavn} {husnr}, {postnr} {postnrnavn}"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ImportAddresses(ctx, rd, pledge.AddressImportOptions{File: name}); err != nil {
			t.Fatal(err)
		}
	})
	importFile(t, "dawa_testdata/VejmidtTest.json", func(f *os.File, name string) {
		lines, err := geo.ReadRoads(f, name)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := svc.ImportRoads(ctx, lines); err != nil || n == 0 {
			t.Fatalf("imported %d roads: %v", n, err)
		}
	})
	const odense = "0461"
	a := areaByCode(t, svc, odense)
	if a.Addresses != 460 {
		t.Errorf("Odense has %d addresses, SOURCE.txt says 460", a.Addresses)
	}
	pledgeEvery(t, svc, odense, 4)
	a = areaByCode(t, svc, odense)
	start := time.Now()
	cv, err := svc.CostCurve(ctx, odense)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	checkCurve(t, cv, a)
	if cv.Method != geo.MethodRoad {
		t.Errorf("method %s", cv.Method)
	}
	r, err := svc.Route(ctx, odense, pledge.RouteRequest{AllAddresses: true})
	if err != nil {
		t.Fatal(err)
	}
	full := cv.Points[len(cv.Points)-1]
	t.Logf("Odense: %d addresses, %d units; curve of %d levels in %v; at 100 %%: trench %.1f km, drops %.1f km, %d unconnected, share %s; current (%d units) %s",
		a.Addresses, a.Units, len(cv.Points)+len(cv.IfMoreJoin), took.Round(time.Millisecond), full.TrenchM/1000, full.DropM/1000,
		r.Estimate.Unconnected, pledge.FormatKroner(full.HouseholdShare), cv.PledgedUnits, pledge.FormatKroner(cv.Current.HouseholdShare))
	if r.Estimate.Unconnected > a.Addresses/2 {
		t.Errorf("%d of %d Odense addresses have no road connection to the POP", r.Estimate.Unconnected, a.Addresses)
	}
}
