package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// RunFeatures runs the conformance suite of pledge.FeatureStore (the keyset
// pages of the OGC API – Features layer) against stores made by open.
func RunFeatures(t *testing.T, open Opener) {
	tests := []suiteCase{
		{"EmptyStore", testFeaturesEmpty},
		{"PagingCoversEveryFeatureOnce", testFeaturePaging},
		{"KeysInByteOrder", testFeatureKeyOrder},
		{"BBoxFilter", testFeatureBBox},
		{"BBoxEdgesIncluded", testFeatureBBoxEdges},
		{"ErrBadBBox", testFeatureBadBBox},
		{"Extents", testFeatureExtents},
		{"DemoPagesMatchGenerator", testFeatureDemo},
	}
	runSuite(t, open, tests)
}

// pageAreas follows pages of limit until the last, checking on every page
// that Matched stays the same and no page is longer than limit; it returns
// the codes in the order served and the number matched.
func pageAreas(t *testing.T, svc *pledge.Service, bbox *orb.Bound, limit int) ([]string, int) {
	t.Helper()
	var codes []string
	matched := -1
	q := pledge.FeatureQuery{BBox: bbox, Limit: limit}
	for pages := 0; ; pages++ {
		p, err := svc.AreaFeatures(context.Background(), q)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if matched >= 0 && p.Matched != matched {
			t.Errorf("page %d: matched %d, first page said %d", pages, p.Matched, matched)
		}
		matched = p.Matched
		if len(p.Areas) > limit || (p.More && len(p.Areas) != limit) {
			t.Fatalf("page %d: %d areas (more %v) for limit %d", pages, len(p.Areas), p.More, limit)
		}
		for _, a := range p.Areas {
			if len(a.Geometry) == 0 {
				t.Errorf("area %s has no geometry", a.Code)
			}
			codes = append(codes, a.Code)
		}
		if !p.More {
			return codes, matched
		}
		q.After = p.Areas[len(p.Areas)-1].Code
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
	}
}

// pageAddresses is pageAreas for addresses; it returns them all.
func pageAddresses(t *testing.T, svc *pledge.Service, bbox *orb.Bound, limit int) ([]pledge.Address, int) {
	t.Helper()
	var all []pledge.Address
	matched := -1
	q := pledge.FeatureQuery{BBox: bbox, Limit: limit}
	for pages := 0; ; pages++ {
		p, err := svc.AddressFeatures(context.Background(), q)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if matched >= 0 && p.Matched != matched {
			t.Errorf("page %d: matched %d, first page said %d", pages, p.Matched, matched)
		}
		matched = p.Matched
		if len(p.Addresses) > limit || (p.More && len(p.Addresses) != limit) {
			t.Fatalf("page %d: %d addresses (more %v) for limit %d", pages, len(p.Addresses), p.More, limit)
		}
		all = append(all, p.Addresses...)
		if !p.More {
			return all, matched
		}
		q.After = p.Addresses[len(p.Addresses)-1].ID
		if pages > 100000 {
			t.Fatal("paging does not end")
		}
	}
}

func addressIDs(as []pledge.Address) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// sortedIDs are the ids of recs in byte order, the order of the pages.
func sortedIDs(recs []geo.AddressRecord) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	return ids
}

func testFeaturesEmpty(t *testing.T, svc *pledge.Service) {
	codes, n := pageAreas(t, svc, nil, 10)
	as, m := pageAddresses(t, svc, nil, 10)
	if len(codes) != 0 || n != 0 || len(as) != 0 || m != 0 {
		t.Errorf("empty store: %d areas (matched %d), %d addresses (matched %d)", len(codes), n, len(as), m)
	}
	e, err := storeOf(svc).FeatureExtents(context.Background())
	if err != nil || e.Areas != nil || e.Addresses != nil {
		t.Errorf("extents of an empty store = %+v, %v; want nil bounds", e, err)
	}
}

func testFeaturePaging(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	ctx := context.Background()
	if _, _, err := svc.CreatePledge(ctx, req("a2", 2), ""); err != nil {
		t.Fatal(err)
	}
	want := sortedIDs(fixtureAddresses())
	for _, limit := range []int{1, 2, 3, 7, 8, 9, 100} {
		as, matched := pageAddresses(t, svc, nil, limit)
		if got := addressIDs(as); !slices.Equal(got, want) || matched != len(want) {
			t.Errorf("limit %d: ids %v (matched %d), want %v (%d)", limit, got, matched, want, len(want))
		}
		codes, n := pageAreas(t, svc, nil, limit)
		if !slices.Equal(codes, []string{"A", "B", "V"}) || n != 3 {
			t.Errorf("limit %d: areas %v (matched %d), want [A B V] (3)", limit, codes, n)
		}
	}
	// The page carries each address's public fields and pledge counts.
	as, _ := pageAddresses(t, svc, nil, 100)
	for _, a := range as {
		want, err := storeOf(svc).Address(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a != want {
			t.Errorf("paged %+v, Address says %+v", a, want)
		}
	}
	if a := as[slices.Index(addressIDs(as), "a2")]; a.PledgedUnits != 1 || a.Units != 3 || a.AreaCode != "A" {
		t.Errorf("a2 = %+v, want 3 units, 1 pledged, area A", a)
	}
	p, err := svc.AreaFeatures(ctx, pledge.FeatureQuery{Limit: 1})
	if err != nil || len(p.Areas) != 1 || p.Areas[0].Code != "A" || p.Areas[0].PledgedUnits != 1 || p.Areas[0].Units != 5 || p.Areas[0].Addresses != 3 {
		t.Errorf("first area page = %+v, %v", p, err)
	}
	// A page starting after the last key is empty and says so.
	p2, err := svc.AddressFeatures(ctx, pledge.FeatureQuery{After: "v1"})
	if err != nil || len(p2.Addresses) != 0 || p2.More || p2.Matched != 8 {
		t.Errorf("page after the last = %+v, %v", p2, err)
	}
}

// Keys page in byte order in every store: upper case before lower case,
// digits before letters, UTF-8 letters after ASCII.
func testFeatureKeyOrder(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	recs := []geo.AddressRecord{
		addr("ø-1", "Øvej 1", 10.1, 55.1, 1), addr("Z9", "Zvej 9", 10.2, 55.1, 1), addr("z9", "zvej 9", 10.3, 55.1, 1),
		addr("10", "Tivej 10", 10.4, 55.1, 1), addr("9", "Nivej 9", 10.5, 55.1, 1), addr("å2", "Åvej 2", 10.6, 55.1, 1),
		addr("a", "Avej", 10.7, 55.1, 1), addr("a ", "Avej 0", 10.8, 55.1, 1),
	}
	if _, err := svc.ImportAddresses(ctx, src(recs...), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"10", "9", "Z9", "a", "a ", "z9", "å2", "ø-1"}
	for _, limit := range []int{1, 3, 100} {
		as, n := pageAddresses(t, svc, nil, limit)
		if got := addressIDs(as); !slices.Equal(got, want) || n != len(want) {
			t.Errorf("limit %d: %q (matched %d), want %q", limit, got, n, want)
		}
	}
}

func testFeatureBBox(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	cases := []struct {
		name      string
		bbox      orb.Bound
		addresses []string
		areas     []string
	}{
		// B's west edge is at lon 11, on the box's edge: it intersects.
		{"AroundA", orb.Bound{Min: orb.Point{9, 54}, Max: orb.Point{11, 56}}, []string{"a-edge", "a1", "a2", "hole", "v1"}, []string{"A", "B", "V"}},
		{"BSecondPart", orb.Bound{Min: orb.Point{14.4, 54.4}, Max: orb.Point{15.6, 55.6}}, []string{"b2"}, []string{"B"}},
		{"Sea", orb.Bound{Min: orb.Point{19, 49}, Max: orb.Point{21, 51}}, []string{"sea"}, nil},
		{"Nothing", orb.Bound{Min: orb.Point{-10, -10}, Max: orb.Point{-9, -9}}, nil, nil},
		{"World", orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, sortedIDs(fixtureAddresses()), []string{"A", "B", "V"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 100} {
				as, n := pageAddresses(t, svc, &tc.bbox, limit)
				if got := addressIDs(as); !slices.Equal(got, tc.addresses) || n != len(tc.addresses) {
					t.Errorf("limit %d: addresses %v (matched %d), want %v", limit, got, n, tc.addresses)
				}
				codes, m := pageAreas(t, svc, &tc.bbox, limit)
				if !slices.Equal(codes, tc.areas) || m != len(tc.areas) {
					t.Errorf("limit %d: areas %v (matched %d), want %v", limit, codes, m, tc.areas)
				}
			}
		})
	}
}

// Edges count as inside, with the same float64 values in every store
// (PostGIS indexes float4 boxes, rounded outwards).
func testFeatureBBoxEdges(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	areas := []geo.AreaFeature{{Code: "E", Name: "Kant", Polygon: orb.MultiPolygon{{square(10.123456789, 55.987654321, 0.1)}}}}
	if _, err := svc.ImportAreas(ctx, areas, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	p := orb.Point{10.1234567891, 55.9876543211}
	if _, err := svc.ImportAddresses(ctx, src(addr("e1", "Kantvej 1", p[0], p[1], 1)), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	east := 10.123456789 + 0.1
	cases := []struct {
		name             string
		bbox             orb.Bound
		addresses, areas int
	}{
		{"PointBox", orb.Bound{Min: p, Max: p}, 1, 1},
		{"JustEastOfPoint", orb.Bound{Min: orb.Point{p[0] + 1e-9, p[1]}, Max: orb.Point{p[0] + 1, p[1]}}, 0, 1},
		{"OnAreaEastEdge", orb.Bound{Min: orb.Point{east, 55}, Max: orb.Point{east + 1, 57}}, 0, 1},
		{"JustEastOfArea", orb.Bound{Min: orb.Point{east + 1e-9, 55}, Max: orb.Point{east + 1, 57}}, 0, 0},
	}
	for _, tc := range cases {
		as, n := pageAddresses(t, svc, &tc.bbox, 10)
		codes, m := pageAreas(t, svc, &tc.bbox, 10)
		if len(as) != tc.addresses || n != tc.addresses || len(codes) != tc.areas || m != tc.areas {
			t.Errorf("%s: %d addresses (matched %d), %d areas (matched %d); want %d, %d", tc.name, len(as), n, len(codes), m, tc.addresses, tc.areas)
		}
	}
}

func testFeatureBadBBox(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	ctx := context.Background()
	for name, b := range map[string]orb.Bound{
		"MinAboveMax":  {Min: orb.Point{11, 55}, Max: orb.Point{10, 56}},
		"LatAbove90":   {Min: orb.Point{10, 55}, Max: orb.Point{11, 91}},
		"LonBelow-180": {Min: orb.Point{-181, 55}, Max: orb.Point{11, 56}},
	} {
		if _, err := svc.AddressFeatures(ctx, pledge.FeatureQuery{BBox: &b}); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Errorf("%s: addresses error %v, want invalid", name, err)
		}
		if _, err := svc.AreaFeatures(ctx, pledge.FeatureQuery{BBox: &b}); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Errorf("%s: areas error %v, want invalid", name, err)
		}
	}
}

func testFeatureExtents(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	e, err := storeOf(svc).FeatureExtents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The union of the fixture's polygons and of its points.
	wantAreas := orb.Bound{Min: orb.Point{9, 54}, Max: orb.Point{15.5, 56}}
	wantAddresses := orb.Bound{Min: orb.Point{9.5, 50}, Max: orb.Point{20, 55.5}}
	if e.Areas == nil || *e.Areas != wantAreas || e.Addresses == nil || *e.Addresses != wantAddresses {
		t.Errorf("extents = %v, %v; want %v, %v", e.Areas, e.Addresses, wantAreas, wantAddresses)
	}
}

// A generated municipality paged in odd-sized pages: every address once,
// with the generator's units and a pledge count equal to the generator's
// pledges at it; every area once, with counters that add up.
func testFeatureDemo(t *testing.T, svc *pledge.Service) {
	m := demo.Generate(demo.Config{Seed: 11, Areas: 3, Addresses: 400})
	if err := demo.Seed(context.Background(), svc, m, nil); err != nil {
		t.Fatal(err)
	}
	units := map[string]int{}
	for _, r := range m.Addresses {
		units[r.ID] += r.Units
	}
	pledged := map[string]int{}
	for _, p := range m.Pledges {
		pledged[p.AddressID]++
	}
	as, matched := pageAddresses(t, svc, nil, 37)
	ids := addressIDs(as)
	if len(as) != len(units) || matched != len(units) || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatalf("%d addresses paged (matched %d, sorted %v), generator has %d distinct", len(as), matched, slices.IsSorted(ids), len(units))
	}
	for _, a := range as {
		if a.Units != units[a.ID] || a.PledgedUnits != pledged[a.ID] {
			t.Errorf("address %s: units %d, pledged %d; generator %d, %d", a.ID, a.Units, a.PledgedUnits, units[a.ID], pledged[a.ID])
		}
	}
	codes, n := pageAreas(t, svc, nil, 2)
	want := make([]string, len(m.Areas))
	for i, a := range m.Areas {
		want[i] = a.Code
	}
	slices.Sort(want)
	if !slices.Equal(codes, want) || n != len(want) {
		t.Errorf("areas %v (matched %d), want %v", codes, n, want)
	}
	// A box over the first area's bounds: exactly the addresses whose
	// point lies in it, counted here from the generator's points.
	b := m.Areas[0].Polygon.Bound()
	inBox := 0
	for _, r := range m.Addresses {
		if b.Contains(r.Point) {
			inBox++
		}
	}
	if as, n := pageAddresses(t, svc, &b, 37); len(as) != inBox || n != inBox || inBox == 0 {
		t.Errorf("box %v: %d addresses (matched %d), generator has %d in it", b, len(as), n, inBox)
	}
}
