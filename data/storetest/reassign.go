package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// massGrid is n x n addresses on a regular grid over lon 9-13, lat 54-56,
// with units 1-3, and the ids of those in each of the strips of
// massStrips (codes S0..S3, each 1 degree of longitude wide; lon 13 is
// outside all but its last column, on S3's edge, counts as inside).
func massGrid(n int) []geo.AddressRecord {
	recs := make([]geo.AddressRecord, 0, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			lon := 9.05 + 4.3*float64(i)/float64(n)
			lat := 54.05 + 1.9*float64(j)/float64(n)
			id := fmt.Sprintf("m%05d", i*n+j)
			recs = append(recs, addr(id, "Gittervej "+id, lon, lat, 1+(i+j)%3))
		}
	}
	return recs
}

// massStrips are four strips from lon 9 to 13; shift moves every code one
// strip east (S3's polygon goes to S0).
func massStrips(shift int) []geo.AreaFeature {
	var fs []geo.AreaFeature
	for k := 0; k < 4; k++ {
		x := 9 + float64((k+shift)%4)
		fs = append(fs, geo.AreaFeature{Code: fmt.Sprintf("S%d", k), Name: fmt.Sprintf("Strimmel %d", k),
			Polygon: orb.MultiPolygon{{orb.Ring{{x, 54}, {x + 1, 54}, {x + 1, 56}, {x, 56}, {x, 54}}}}})
	}
	return fs
}

// massWant counts the addresses and units of recs in each strip of areas,
// the smaller area then the lower code winning (all strips are equal, so
// the lower code), as the service's rule says.
func massWant(recs []geo.AddressRecord, areas []geo.AreaFeature) (addresses, units map[string]int, assigned int) {
	addresses, units = map[string]int{}, map[string]int{}
	for _, r := range recs {
		code := ""
		for _, a := range areas {
			b := a.Polygon.Bound()
			if r.Point[0] >= b.Min[0] && r.Point[0] <= b.Max[0] && r.Point[1] >= b.Min[1] && r.Point[1] <= b.Max[1] && (code == "" || a.Code < code) {
				code = a.Code
			}
		}
		if code != "" {
			addresses[code]++
			units[code] += r.Units
			assigned++
		}
	}
	return addresses, units, assigned
}

// testMassReassign imports 14,400 addresses before their areas, so the
// area import moves all of them (the stores' bulk path for many moves),
// then moves every area's polygon to another code, so every address moves
// again; counts, area queries and search must follow, and nothing else
// changes.
func testMassReassign(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	recs := massGrid(120)
	if _, err := svc.ImportAddresses(ctx, src(recs...), pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	check := func(shift int, wantMoved int) {
		t.Helper()
		areas := massStrips(shift)
		res, err := svc.ImportAreas(ctx, areas, pledge.AreaImport{})
		if err != nil {
			t.Fatal(err)
		}
		addresses, units, assigned := massWant(recs, areas)
		if res.Reassigned != wantMoved {
			t.Errorf("shift %d: reassigned %d, want %d", shift, res.Reassigned, wantMoved)
		}
		if u := len(recs) - assigned; res.Unassigned.Addresses != u {
			t.Errorf("shift %d: unassigned %d, want %d", shift, res.Unassigned.Addresses, u)
		}
		for _, a := range areas {
			wantCounts(t, svc, a.Code, addresses[a.Code], units[a.Code], 0)
			// The area's addresses through its index, in a box.
			b := a.Polygon.Bound()
			got, err := svc.AreaAddresses(ctx, a.Code, &b, 100000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != addresses[a.Code] {
				t.Errorf("shift %d: area %s lists %d addresses, want %d", shift, a.Code, len(got), addresses[a.Code])
			}
			for _, ad := range got {
				if ad.AreaCode != a.Code || !b.Contains(ad.Point) {
					t.Errorf("shift %d: area %s lists %+v", shift, a.Code, ad)
					break
				}
			}
		}
	}
	// Before: all unassigned; after, all but the column east of lon 13.
	_, _, assigned := massWant(recs, massStrips(0))
	check(0, assigned)
	// Every strip's polygon goes to the next code: every assigned address
	// moves.
	check(1, assigned)
	// Search and lookup still find an address with its data.
	got, err := svc.SearchAddresses(ctx, "gittervej m00007", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "m00007" || got[0].Units != recs[7].Units || got[0].Point != recs[7].Point {
		t.Errorf("search = %+v, want m00007 as imported", got)
	}
	// Importing the addresses again changes nothing.
	again, err := svc.ImportAddresses(ctx, src(recs...), pledge.AddressImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Unchanged != len(recs) {
		t.Errorf("re-import = %+v, want all %d unchanged", again, len(recs))
	}
}
