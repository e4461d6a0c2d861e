// Package storetest is the conformance suite every pledge.Store must pass.
// It drives the store through pledge.Service, so the rules and the store are
// tested together against a real database.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// Opener returns a new, empty store; the suite closes it.
type Opener func(tb testing.TB) pledge.Store

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []suiteCase{
		{"ImportAssignsAddresses", testImportAssigns},
		{"ReimportIsIdempotent", testReimport},
		{"DerivedIDsAddUnits", testDerivedUnits},
		{"DerivedIDsAddUnitsOnAFirstLoad", testDerivedUnitsFirstLoad},
		{"BadRowRejectsWholeImport", testBadRowRejects},
		{"SkipInvalidImportsRest", testSkipInvalid},
		{"RollbackLeavesNothing", testRollback},
		{"AreasAfterAddresses", testAreasAfterAddresses},
		{"MassReassign", testMassReassign},
		{"NearestAddress", testNearest},
		{"Search", testSearch},
		{"AreaAddressesBBox", testAreaAddresses},
		{"PledgeLifecycle", testPledgeLifecycle},
		{"PledgeUnits", testPledgeUnits},
		{"PledgeIdempotency", testIdempotency},
		{"ErasureLeavesNoFingerprint", testErasure},
		{"ThresholdEventOnce", testThresholdOnce},
		{"PledgeRejectedStoresNothing", testPledgeRejected},
		{"ConcurrentPledgesOneWins", testConcurrentPledges},
		{"UpdateArea", testUpdateArea},
		{"LapseOverdue", testLapse},
		{"TileAreas", testTileAreas},
		{"TileClipping", testTileClipping},
		{"TileAddresses", testTileAddresses},
		{"TileBands", testTileBands},
		{"TileFollowsPledges", testTileFollowsPledges},
		{"TileFollowsGeometry", testTileFollowsGeometry},
	}
	runSuite(t, open, tests)
}

// cliContext is the context of the CLI on the server, which may do
// everything (area settings and cost parameters need area.edit).
func cliContext() context.Context {
	return pledge.WithUser(context.Background(), pledge.SystemUser())
}

// Now is the suite's fixed clock.
var Now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// square is a closed ring around (x, y) with half-width h.
func square(x, y, h float64) orb.Ring {
	return orb.Ring{{x - h, y - h}, {x + h, y - h}, {x + h, y + h}, {x - h, y + h}, {x - h, y - h}}
}

// Fixture areas: A is a 2x2 square with a hole; B is beside it; V is a
// small village inside A, which wins where they overlap because it is smaller.
func fixtureAreas() []geo.AreaFeature {
	return []geo.AreaFeature{
		{Code: "A", Name: "Åby Sogn", Polygon: orb.MultiPolygon{{square(10, 55, 1), square(10.5, 55.5, 0.2)}}},
		{Code: "B", Name: "Bøgelund", Polygon: orb.MultiPolygon{{square(12, 55, 1)}, {square(15, 55, 0.5)}}},
		{Code: "V", Name: "Vesterby", Polygon: orb.MultiPolygon{{square(9.5, 54.5, 0.25)}}},
	}
}

func src(recs ...geo.AddressRecord) *pledge.Records {
	r := pledge.Records(append([]geo.AddressRecord(nil), recs...))
	return &r
}

func addr(id, text string, lon, lat float64, units int) geo.AddressRecord {
	return geo.AddressRecord{ID: id, Text: text, Point: orb.Point{lon, lat}, Units: units}
}

// fixtureAddresses: where each lies is in the id.
func fixtureAddresses() []geo.AddressRecord {
	return []geo.AddressRecord{
		addr("a1", "Nørregade 1, 5000 Åby", 9.9, 55.1, 1),
		addr("a2", "Nørregade 2, 5000 Åby", 10.1, 54.9, 3),
		addr("a-edge", "Kantvej 1, 5000 Åby", 11, 55.2, 1),      // on A's east edge (shared with nothing)
		addr("hole", "Søvej 1, 5000 Åby", 10.5, 55.5, 1),        // in A's hole: unassigned
		addr("v1", "Vestergade 1, 5001 Vesterby", 9.5, 54.5, 2), // in V and A: V wins
		addr("b1", "Bakken 1, 6000 Bøgelund", 12, 55, 1),
		addr("b2", "Øen 1, 6000 Bøgelund", 15, 55, 4), // B's second part
		addr("sea", "Havet 1", 20, 50, 1),             // outside all
	}
}

func mustImport(t *testing.T, svc *pledge.Service) {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportAddresses(ctx, src(fixtureAddresses()...), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

func areaByCode(t *testing.T, svc *pledge.Service, code string) pledge.Area {
	t.Helper()
	a, err := svc.Area(context.Background(), code)
	if err != nil {
		t.Fatalf("area %s: %v", code, err)
	}
	return a
}

func wantCounts(t *testing.T, svc *pledge.Service, code string, addresses, units, pledged int) {
	t.Helper()
	a := areaByCode(t, svc, code)
	if a.Addresses != addresses || a.Units != units || a.PledgedUnits != pledged {
		t.Errorf("area %s: addresses/units/pledged = %d/%d/%d, want %d/%d/%d", code, a.Addresses, a.Units, a.PledgedUnits, addresses, units, pledged)
	}
}

func testImportAssigns(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.ImportAddresses(ctx, src(fixtureAddresses()...), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 8 || res.Imported != 8 || res.Updated != 0 || res.Unassigned != 2 {
		t.Errorf("result = %+v, want read 8, imported 8, unassigned 2", res)
	}
	wantCounts(t, svc, "A", 3, 5, 0) // a1, a2 (3 units), a-edge
	wantCounts(t, svc, "B", 2, 5, 0)
	wantCounts(t, svc, "V", 1, 2, 0)
	_, u, err := svc.Areas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Addresses != 2 || u.Units != 2 {
		t.Errorf("unassigned = %+v, want 2 addresses, 2 units", u)
	}
	for id, want := range map[string]string{"a1": "A", "a-edge": "A", "hole": "", "v1": "V", "b2": "B", "sea": ""} {
		a, err := storeOf(svc).Address(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.AreaCode != want {
			t.Errorf("address %s in area %q, want %q", id, a.AreaCode, want)
		}
	}
	a := areaByCode(t, svc, "A")
	if p, err := svc.AreaProgress(ctx, "A"); err != nil || p.Units != a.Units || p.Addresses != a.Addresses || p.Name != a.Name || p.Status != a.Status {
		t.Errorf("progress %+v, %v; want the counters of %+v", p, err, a)
	}
	if _, err := svc.AreaProgress(ctx, "nope"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("progress of an unknown area: %v", err)
	}
	if a.Name != "Åby Sogn" || a.Status != pledge.StatusCollecting || a.ThresholdPercent != pledge.DefaultThresholdPercent {
		t.Errorf("area A = %q %s %g", a.Name, a.Status, a.ThresholdPercent)
	}
	if len(a.Geometry) != 1 || len(a.Geometry[0]) != 2 {
		t.Errorf("area A geometry lost its hole: %v", a.Geometry)
	}
}

func testReimport(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	res, err := svc.ImportAddresses(ctx, src(fixtureAddresses()...), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 0 || res.Updated != 0 || res.Unchanged != 8 {
		t.Errorf("second import = %+v, want 0 imported, 0 updated, 8 unchanged", res)
	}
	changed := fixtureAddresses()
	changed[0].Units = 2                     // a1 grows
	changed[5].Point = orb.Point{15.1, 55.1} // b1 moves to B's other part
	changed = append(changed, addr("b3", "Bakken 3, 6000 Bøgelund", 12.1, 55.1, 1))
	res, err = svc.ImportAddresses(ctx, src(changed...), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 || res.Updated != 2 || res.Unchanged != 6 {
		t.Errorf("changed import = %+v, want 1 imported, 2 updated, 6 unchanged", res)
	}
	wantCounts(t, svc, "A", 3, 6, 0)
	wantCounts(t, svc, "B", 3, 6, 0)
}

func testDerivedUnits(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	r := geo.AddressRecord{Text: "Blokken 7, 6000 Bøgelund", Point: orb.Point{12.2, 55.2}, Units: 1, Derived: true}
	r.ID = geo.DeriveID(r.Text, r.Point[0], r.Point[1])
	res, err := svc.ImportAddresses(ctx, src(r, r, r), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 {
		t.Errorf("imported %d, want 1 address", res.Imported)
	}
	a, err := storeOf(svc).Address(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Units != 3 {
		t.Errorf("units = %d, want 3 (three rows, same text and place)", a.Units)
	}
	// The same file again changes nothing: units are set, not added.
	res, err = svc.ImportAddresses(ctx, src(r, r, r), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ = storeOf(svc).Address(ctx, r.ID); a.Units != 3 || res.Unchanged != 1 {
		t.Errorf("after re-import units = %d, unchanged = %d; want 3, 1", a.Units, res.Unchanged)
	}
}

// Repeated derived ids in the first load of an empty store: the stores
// find them only when they build the unique index (not row by row), and
// must still keep one address with the units of all, its area's counters,
// and the map's index of points without the rows merged away.
func testDerivedUnitsFirstLoad(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	r := geo.AddressRecord{Text: "Blokken 7, 6000 Bøgelund", Point: orb.Point{12.2, 55.2}, Units: 1, Derived: true}
	r.ID = geo.DeriveID(r.Text, r.Point[0], r.Point[1])
	fixture := fixtureAddresses()
	recs := append([]geo.AddressRecord{r}, fixture[:3]...)
	recs = append(append(recs, r), fixture[3:]...)
	recs = append(recs, r)
	res, err := svc.ImportAddresses(ctx, src(recs...), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != len(fixture)+1 {
		t.Errorf("imported %d, want %d addresses", res.Imported, len(fixture)+1)
	}
	a, err := storeOf(svc).Address(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Units != 3 || a.AreaCode != "B" {
		t.Errorf("merged address: %d units in %q, want 3 in B", a.Units, a.AreaCode)
	}
	wantCounts(t, svc, "A", 3, 5, 0)
	wantCounts(t, svc, "B", 3, 8, 0)
	got, _, err := svc.NearestAddress(ctx, orb.Point{12.2001, 55.2001})
	if err != nil || got.ID != r.ID || got.Units != 3 {
		t.Errorf("nearest to the merged address: %+v, %v", got, err)
	}
	// The other rows are where they were: every fixture address is found
	// at its own point.
	for _, f := range fixture {
		if got, _, err := svc.NearestAddress(ctx, f.Point); err == nil && got.ID != f.ID {
			t.Errorf("nearest to %s's point: %s", f.ID, got.ID)
		}
	}
}

func testBadRowRejects(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	recs := fixtureAddresses()
	dup := recs[1]
	dup.Line = 99
	s := src(append(recs, dup)...)
	_, err := svc.ImportAddresses(ctx, s, pledge.AddressImportOptions{File: "x.csv"})
	var ies geo.InputErrors
	if !errors.As(err, &ies) || len(ies) != 1 || ies[0].Line != 99 {
		t.Fatalf("err = %v, want one input error on line 99", err)
	}
	wantCounts(t, svc, "A", 0, 0, 0)
	if _, err := storeOf(svc).Address(ctx, "a1"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("a1 stored after a rejected import: %v", err)
	}
}

type failing struct {
	pledge.Records
	at int
}

func (f *failing) Next() (geo.AddressRecord, error) {
	if f.at--; f.at == 0 {
		return geo.AddressRecord{}, &geo.InputError{File: "f.csv", Line: 3, Field: "lon", Reason: "not a number"}
	}
	return f.Records.Next()
}

func testSkipInvalid(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	f := &failing{Records: pledge.Records(fixtureAddresses()), at: 3}
	res, err := svc.ImportAddresses(ctx, f, pledge.AddressImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 9 || res.Imported != 8 || len(res.Rejected) != 1 {
		t.Errorf("result = %+v, want 9 read, 8 imported, 1 rejected", res)
	}
	f = &failing{Records: pledge.Records(fixtureAddresses()), at: 3}
	if _, err := svc.ImportAddresses(ctx, f, pledge.AddressImportOptions{}); !geo.IsInputError(err) {
		t.Errorf("without skip-invalid: err = %v, want input errors", err)
	}
}

func testRollback(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	imp, err := storeOf(svc).BeginAddressImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(ctx, []pledge.Address{{ID: "x", Text: "X", Point: orb.Point{1, 1}, Units: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := imp.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := storeOf(svc).Address(ctx, "x"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("address after rollback: %v", err)
	}
	// The store is usable afterwards.
	mustImport(t, svc)
}

func testAreasAfterAddresses(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	res, err := svc.ImportAddresses(ctx, src(fixtureAddresses()...), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unassigned != 8 {
		t.Errorf("unassigned before areas = %d, want 8", res.Unassigned)
	}
	ares, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{})
	if err != nil {
		t.Fatal(err)
	}
	if ares.Created != 3 || ares.Reassigned != 6 || ares.Unassigned.Addresses != 2 {
		t.Errorf("area import = %+v, want 3 created, 6 reassigned, 2 unassigned", ares)
	}
	wantCounts(t, svc, "A", 3, 5, 0)
	wantCounts(t, svc, "V", 1, 2, 0)
	// Growing V over A's east edge moves a-edge; the rest stays.
	bigger := fixtureAreas()[2]
	bigger.Polygon = orb.MultiPolygon{{orb.Ring{{9.25, 54.25}, {11.5, 54.25}, {11.5, 55.25}, {9.25, 55.25}, {9.25, 54.25}}}}
	pct := 30.0
	ares, err = svc.ImportAreas(ctx, []geo.AreaFeature{bigger}, pledge.AreaImport{ThresholdPercent: &pct})
	if err != nil {
		t.Fatal(err)
	}
	if ares.Updated != 1 || ares.Created != 0 {
		t.Errorf("re-import = %+v, want 1 updated", ares)
	}
	if v := areaByCode(t, svc, "V"); v.ThresholdPercent != 30 {
		t.Errorf("threshold = %g, want 30", v.ThresholdPercent)
	}
}

func testSearch(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	for q, want := range map[string]int{
		"Norregade":    2,
		"nørregade 2":  1,
		"NØRREGADE 1,": 1,
		"oen":          1,
		"Øen 1":        1,
		"Søvej":        1,
		"x":            0, // too short
		"Nørregade 9":  0,
	} {
		got, err := svc.SearchAddresses(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("search %q: %d results, want %d", q, len(got), want)
		}
	}
	got, _ := svc.SearchAddresses(ctx, "norregade", 10)
	if len(got) == 2 && (got[0].ID != "a1" || got[1].Units != 3 || got[1].AreaCode != "A") {
		t.Errorf("search results = %+v", got)
	}
}

func testAreaAddresses(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	all, err := svc.AreaAddresses(ctx, "A", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != "a-edge" {
		t.Errorf("area A addresses = %+v", all)
	}
	box := orb.Bound{Min: orb.Point{9.8, 55}, Max: orb.Point{10, 55.2}}
	in, err := svc.AreaAddresses(ctx, "A", &box, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 1 || in[0].ID != "a1" {
		t.Errorf("bbox addresses = %+v", in)
	}
	if _, err := svc.AreaAddresses(ctx, "nope", nil, 0); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown area: %v", err)
	}
}

func req(addressID string, unit int) pledge.PledgeRequest {
	return pledge.PledgeRequest{AddressID: addressID, Unit: unit, Name: "Søren Ødegård", Email: "soren@example.dk", Consent: true}
}

func testPledgeLifecycle(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	p, replayed, err := svc.CreatePledge(ctx, req("a2", 0), "")
	if err != nil || replayed {
		t.Fatal(err, replayed)
	}
	if p.Unit != 1 || p.Token == "" || p.AreaCode != "A" || p.Status != pledge.PledgeActive {
		t.Errorf("pledge = %+v", p)
	}
	wantCounts(t, svc, "A", 3, 5, 1)
	got, err := svc.Pledge(ctx, p.Token)
	if err != nil || got.Name != "Søren Ødegård" || got.Email != "soren@example.dk" || !got.CreatedAt.Equal(Now) {
		t.Errorf("by token = %+v, %v", got, err)
	}
	if a, _ := storeOf(svc).Address(ctx, "a2"); a.PledgedUnits != 1 {
		t.Errorf("address pledged units = %d, want 1", a.PledgedUnits)
	}
	w, err := svc.WithdrawPledge(ctx, p.Token)
	if err != nil {
		t.Fatal(err)
	}
	if w.Status != pledge.PledgeWithdrawn || w.Name != "" || w.Email != "" {
		t.Errorf("withdrawn = %+v", w)
	}
	wantCounts(t, svc, "A", 3, 5, 0)
	if got, _ := svc.Pledge(ctx, p.Token); got.Name != "" || got.Status != pledge.PledgeWithdrawn {
		t.Errorf("contact details kept after withdrawal: %+v", got)
	}
	if _, err := svc.WithdrawPledge(ctx, p.Token); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("second withdrawal: %v, want ENOTFOUND", err)
	}
	if _, err := svc.Pledge(ctx, "no-such-token"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown token: %v", err)
	}
}

func testPledgeUnits(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	if _, _, err := svc.CreatePledge(ctx, req("a2", 2), ""); err != nil {
		t.Fatal(err)
	}
	p, _, err := svc.CreatePledge(ctx, req("a2", 0), "")
	if err != nil || p.Unit != 1 {
		t.Fatalf("first free unit = %d, %v; want 1", p.Unit, err)
	}
	if _, _, err := svc.CreatePledge(ctx, req("a2", 2), ""); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("unit 2 twice: %v, want ECONFLICT", err)
	}
	if p, _, err = svc.CreatePledge(ctx, req("a2", 0), ""); err != nil || p.Unit != 3 {
		t.Fatalf("third unit = %d, %v", p.Unit, err)
	}
	if _, _, err := svc.CreatePledge(ctx, req("a2", 0), ""); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("one more than the units: %v, want ECONFLICT", err)
	}
	if _, _, err := svc.CreatePledge(ctx, req("a2", 4), ""); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("unit 4 of 3: %v, want EINVALID", err)
	}
	wantCounts(t, svc, "A", 3, 5, 3)
}

func testIdempotency(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	p1, replayed, err := svc.CreatePledge(ctx, req("b2", 0), "key-1")
	if err != nil || replayed {
		t.Fatal(err)
	}
	p2, replayed, err := svc.CreatePledge(ctx, req("b2", 0), "key-1")
	if err != nil || !replayed || p2.Token != p1.Token || p2.Unit != p1.Unit {
		t.Errorf("retry = %+v replayed=%v err=%v; want the first pledge", p2, replayed, err)
	}
	wantCounts(t, svc, "B", 2, 5, 1)
	other := req("b2", 0)
	other.Name = "Anden Person"
	if _, _, err := svc.CreatePledge(ctx, other, "key-1"); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("key reused for another request: %v, want ECONFLICT", err)
	}
	// A client retrying at once, several times over: one pledge, and every
	// retry answers with it.
	var wg sync.WaitGroup
	got := make([]pledge.Pledge, 6)
	replays := make([]bool, len(got))
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], replays[i], errs[i] = svc.CreatePledge(ctx, req("b1", 0), "key-2")
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range got {
		if errs[i] != nil || got[i].Token != got[0].Token {
			t.Errorf("concurrent retry %d: %+v, %v; want the one pledge", i, got[i], errs[i])
		}
		if !replays[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of the concurrent retries say they created the pledge, want 1", fresh)
	}
	wantCounts(t, svc, "B", 2, 5, 2)
}

// testErasure: withdrawing and lapsing keep nothing derived from contact
// details, nothing stored is a plain hash of them, and replaying the
// idempotency key of a withdrawn pledge neither creates it again nor
// answers as if it had.
func testErasure(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	r := req("b2", 1)
	p, _, err := svc.CreatePledge(ctx, r, "erase-key")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := svc.Pledge(ctx, p.Token)
	if err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte(strings.Join([]string{r.AddressID, "1", r.Name, r.Email, r.Phone, "true"}, "\x00")))
	keyHash := sha256.Sum256([]byte("erase-key"))
	if stored.RequestHash == hex.EncodeToString(plain[:]) || stored.IdempotencyKey == "erase-key" ||
		stored.IdempotencyKey == hex.EncodeToString(keyHash[:]) {
		t.Errorf("stored fingerprint or key is guessable: %q, %q", stored.RequestHash, stored.IdempotencyKey)
	}
	if _, err := svc.WithdrawPledge(ctx, p.Token); err != nil {
		t.Fatal(err)
	}
	gone, err := svc.Pledge(ctx, p.Token)
	if err != nil {
		t.Fatal(err)
	}
	if gone.Name != "" || gone.Email != "" || gone.Phone != "" || gone.RequestHash != "" {
		t.Errorf("withdrawn pledge keeps %+v", gone)
	}
	_, replayed, err := svc.CreatePledge(ctx, r, "erase-key")
	if pledge.ErrorCode(err) != pledge.ECONFLICT || replayed {
		t.Errorf("replaying a withdrawn pledge's key: replayed=%v, %v; want ECONFLICT", replayed, err)
	}
	wantCounts(t, svc, "B", 2, 5, 0)
	// Lapsing erases the same way.
	q, _, err := svc.CreatePledge(ctx, req("b1", 0), "lapse-key")
	if err != nil {
		t.Fatal(err)
	}
	b := areaByCode(t, svc, "B")
	past := Now.Add(-time.Hour)
	b.Deadline = &past
	if err := storeOf(svc).UpdateArea(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LapseOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	lapsed, err := svc.Pledge(ctx, q.Token)
	if err != nil {
		t.Fatal(err)
	}
	if lapsed.Status != pledge.PledgeLapsed || lapsed.Name != "" || lapsed.Email != "" || lapsed.RequestHash != "" {
		t.Errorf("lapsed pledge keeps %+v", lapsed)
	}
}

func testThresholdOnce(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	// V: one address with 2 units, threshold 50 %: one pledge crosses it.
	p, _, err := svc.CreatePledge(ctx, req("v1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	if v := areaByCode(t, svc, "V"); v.Status != pledge.StatusThresholdReached {
		t.Errorf("status = %s, want threshold_reached", v.Status)
	}
	if _, err := svc.WithdrawPledge(ctx, p.Token); err != nil {
		t.Fatal(err)
	}
	if v := areaByCode(t, svc, "V"); v.Status != pledge.StatusCollecting {
		t.Errorf("status after falling below = %s, want collecting", v.Status)
	}
	if _, _, err := svc.CreatePledge(ctx, req("v1", 0), ""); err != nil {
		t.Fatal(err)
	}
	events, err := storeOf(svc).Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Kind != pledge.EventThresholdReached || events[0].AreaCode != "V" {
		t.Errorf("events = %+v, want one threshold_reached for V", events)
	}
}

func testPledgeRejected(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	bad := []struct {
		field string
		r     pledge.PledgeRequest
	}{
		{"address_id", pledge.PledgeRequest{Name: "A", Email: "a@example.dk", Consent: true}},
		{"name", pledge.PledgeRequest{AddressID: "a1", Email: "a@example.dk", Consent: true}},
		{"email", pledge.PledgeRequest{AddressID: "a1", Name: "A", Consent: true}},
		{"email", pledge.PledgeRequest{AddressID: "a1", Name: "A", Email: "not-an-email", Consent: true}},
		{"phone", pledge.PledgeRequest{AddressID: "a1", Name: "A", Phone: "12", Consent: true}},
		{"consent", pledge.PledgeRequest{AddressID: "a1", Name: "A", Email: "a@example.dk"}},
		{"address_id", pledge.PledgeRequest{AddressID: "nope", Name: "A", Email: "a@example.dk", Consent: true}},
		{"address_id", pledge.PledgeRequest{AddressID: "sea", Name: "A", Email: "a@example.dk", Consent: true}},
	}
	for _, b := range bad {
		_, _, err := svc.CreatePledge(ctx, b.r, "")
		var pe *pledge.Error
		if !errors.As(err, &pe) || pe.Code != pledge.EINVALID || pe.Field != b.field {
			t.Errorf("%+v: err = %v, want EINVALID on %s", b.r, err, b.field)
		}
	}
	// A draft area takes no pledges.
	a := areaByCode(t, svc, "B")
	a.Status = pledge.StatusDraft
	if err := storeOf(svc).UpdateArea(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreatePledge(ctx, req("b1", 0), ""); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("pledge in a draft area: %v, want ECONFLICT", err)
	}
	for _, code := range []string{"A", "B", "V"} {
		if a := areaByCode(t, svc, code); a.PledgedUnits != 0 {
			t.Errorf("area %s has %d pledged units after rejected pledges", code, a.PledgedUnits)
		}
	}
}

func testConcurrentPledges(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := req("b2", 1)
			r.Name = fmt.Sprintf("Person %d", i)
			_, _, errs[i] = svc.CreatePledge(ctx, r, "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch pledge.ErrorCode(err) {
		case "":
			ok++
		case pledge.ECONFLICT:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d pledges for one unit succeeded, want exactly 1", ok)
	}
	wantCounts(t, svc, "B", 2, 5, 1)
	// Free-unit picking under concurrency fills each unit once.
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := req("b2", 0)
			r.Name = fmt.Sprintf("Free %d", i)
			_, _, errs[i] = svc.CreatePledge(ctx, r, "")
		}()
	}
	wg.Wait()
	// Three units were free: three pledges get one (a pledge that loses
	// its pick to a concurrent one tries again, up to three times), and
	// the other three are refused.
	ok = 0
	for i, err := range errs[:6] {
		var e *pledge.Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &e) && e.Code == pledge.ECONFLICT:
		default:
			t.Errorf("free-unit pledge %d: %v", i, err)
		}
	}
	if ok != 3 {
		t.Errorf("%d free-unit pledges succeeded; want the 3 free units", ok)
	}
	wantCounts(t, svc, "B", 2, 5, 4)
}

func testUpdateArea(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	a := areaByCode(t, svc, "A")
	d := time.Date(2027, 3, 31, 23, 59, 0, 0, time.UTC)
	a.Deadline, a.ThresholdPercent, a.ThresholdUnits = &d, 60, 2
	if err := storeOf(svc).UpdateArea(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := areaByCode(t, svc, "A")
	if got.Deadline == nil || !got.Deadline.Equal(d) || got.ThresholdPercent != 60 || got.ThresholdUnits != 2 {
		t.Errorf("updated area = %+v", got)
	}
	if err := storeOf(svc).UpdateArea(ctx, pledge.Area{Code: "nope", Status: pledge.StatusDraft}); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown area: %v", err)
	}
}

func testLapse(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	p, _, err := svc.CreatePledge(ctx, req("a1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	setDeadline := func(code string, d time.Time) {
		t.Helper()
		a := areaByCode(t, svc, code)
		a.Deadline = &d
		if err := storeOf(svc).UpdateArea(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	past, future := Now.AddDate(0, 0, -1), Now.AddDate(0, 1, 0)
	setDeadline("A", past)   // 1 of 5 units pledged: below 50 %
	setDeadline("B", future) // still collecting
	// V reached its threshold before its deadline: it qualified.
	if _, _, err := svc.CreatePledge(ctx, req("v1", 0), ""); err != nil {
		t.Fatal(err)
	}
	setDeadline("V", past)

	lapsed, err := svc.LapseOverdue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lapsed) != 1 || lapsed[0].Code != "A" || lapsed[0].Pledges != 1 {
		t.Fatalf("lapsed %+v, want area A with 1 pledge", lapsed)
	}
	a := areaByCode(t, svc, "A")
	if a.Status != pledge.StatusLapsed || a.PledgedUnits != 0 {
		t.Errorf("area A: %s with %d pledged units", a.Status, a.PledgedUnits)
	}
	got, err := svc.Pledge(ctx, p.Token)
	if err != nil || got.Status != pledge.PledgeLapsed || got.Name != "" || got.Email != "" {
		t.Errorf("lapsed pledge: %+v, %v", got, err)
	}
	for code, want := range map[string]pledge.AreaStatus{"B": pledge.StatusCollecting, "V": pledge.StatusThresholdReached} {
		if s := areaByCode(t, svc, code).Status; s != want {
			t.Errorf("area %s: %s, want %s", code, s, want)
		}
	}
	if _, _, err := svc.CreatePledge(ctx, req("a2", 0), ""); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("pledge in a lapsed area: %v, want ECONFLICT", err)
	}
	// Running again changes nothing and records no second event.
	if again, err := svc.LapseOverdue(ctx); err != nil || len(again) != 0 {
		t.Errorf("second run: %+v, %v", again, err)
	}
	events, _ := storeOf(svc).Events(ctx)
	n := 0
	for _, e := range events {
		if e.Kind == pledge.EventAreaLapsed {
			n++
			if e.AreaCode != "A" {
				t.Errorf("lapse event for %s", e.AreaCode)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d lapse events, want 1", n)
	}
	if _, _, err := storeOf(svc).LapseArea(ctx, "NOPE", Now, nil); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown area: %v", err)
	}
}

// MustImportFixture imports the suite's fixture (areas A, B and V and their
// addresses) through svc, for store-specific tests beside the suite.
func MustImportFixture(t *testing.T, svc *pledge.Service) { mustImport(t, svc) }
