package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// testNearest compares the store's nearest-address search with a scan of
// every address inside an area, for random points: inside the fixture's
// areas A and V (V wins where they overlap), near addresses outside every
// area (which must never be found) and far from all (nothing within the
// limit).
func testNearest(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	if _, err := svc.ImportAreas(ctx, fixtureAreas(), pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var recs []geo.AddressRecord
	for i := 0; i < 2000; i++ {
		recs = append(recs, addr(fmt.Sprintf("n%04d", i), fmt.Sprintf("Nærvej %d", i),
			9.6+0.3*rng.Float64(), 54.6+0.2*rng.Float64(), 1+i%2))
	}
	for i := 0; i < 20; i++ { // west of A: outside every area
		recs = append(recs, addr(fmt.Sprintf("out%02d", i), fmt.Sprintf("Havvej %d", i), 8.93+0.06*rng.Float64(), 54.6+0.2*rng.Float64(), 1))
	}
	// Two addresses at one point: the lower id wins.
	recs = append(recs, addr("tie-b", "Tvillingvej 2", 9.7, 54.7, 1), addr("tie-a", "Tvillingvej 1", 9.7, 54.7, 1))
	if _, err := svc.ImportAddresses(ctx, src(recs...), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var inside []pledge.Address
	for _, code := range []string{"A", "B", "V"} {
		as, err := svc.AreaAddresses(ctx, code, nil, pledge.MaxAddressesPerPage)
		if err != nil {
			t.Fatal(err)
		}
		inside = append(inside, as...)
	}
	if len(inside) != 2002 {
		t.Fatalf("%d addresses inside areas, want 2002", len(inside))
	}
	// One pledged unit at tie-a, which the answer must count.
	if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: "tie-a", Name: "Nær Nabo", Email: "naer@example.dk", Consent: true}, ""); err != nil {
		t.Fatal(err)
	}
	scan := func(p orb.Point) (pledge.Address, float64) {
		best, bestD := pledge.Address{}, math.Inf(1)
		for _, a := range inside {
			if d := pledge.Distance(p, a.Point); d < bestD || (d == bestD && a.ID < best.ID) {
				best, bestD = a, d
			}
		}
		return best, bestD
	}
	queries := []orb.Point{{9.7, 54.7}}
	for i := 0; i < 300; i++ {
		if i%2 == 0 { // in and around the addresses
			queries = append(queries, orb.Point{9.55 + 0.4*rng.Float64(), 54.57 + 0.26*rng.Float64()})
		} else { // mostly far from them, some by those outside every area
			queries = append(queries, orb.Point{8.85 + 1.2*rng.Float64(), 54.55 + 0.3*rng.Float64()})
		}
	}
	found, notFound := 0, 0
	for _, p := range queries {
		want, wantD := scan(p)
		got, d, err := svc.NearestAddress(ctx, p)
		if wantD > pledge.NearestMetres {
			if pledge.ErrorCode(err) != pledge.ENOTFOUND {
				t.Errorf("%v: nearest %s at %.1f m, %v; want ENOTFOUND (nearest is %.1f m away)", p, got.ID, d, err, wantD)
			}
			notFound++
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v; want %s at %.1f m", p, err, want.ID, wantD)
		}
		if got.ID != want.ID || math.Abs(d-wantD) > 1e-6 || got.AreaCode != want.AreaCode || got.Point != want.Point || got.Units != want.Units {
			t.Errorf("%v: nearest %+v at %.3f m, want %+v at %.3f m", p, got, d, want, wantD)
		}
		found++
	}
	if found < 100 || notFound < 20 {
		t.Errorf("%d found, %d not found: the queries do not test both", found, notFound)
	}
	got, _, err := svc.NearestAddress(ctx, orb.Point{9.7, 54.7})
	if err != nil || got.ID != "tie-a" || got.PledgedUnits != 1 || got.AreaCode != "V" {
		t.Errorf("at the tie: %+v, %v; want tie-a in V with 1 pledged unit", got, err)
	}
}
