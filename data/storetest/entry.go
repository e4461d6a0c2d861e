package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunEntry runs the conformance suite of pledges entered on a resident's
// behalf (by walk code or address) against stores made by open.
func RunEntry(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := newService(st, func() time.Time { return Now })
	mustImport(t, svc)
	ctx := context.Background()
	coord := coordinatorOf(t, svc, "A")
	walks, err := svc.GenerateWalks(coord, "A", 10)
	if err != nil || len(walks) == 0 {
		t.Fatalf("walks %v %v", walks, err)
	}
	var stop pledge.WalkStop
	for _, w := range walks {
		for _, s := range w.Stops {
			if s.Address.ID == "a2" {
				stop = s
			}
		}
	}
	if stop.Code == "" {
		t.Fatal("a2 is on no walk")
	}
	before := areaByCode(t, svc, "A").PledgedUnits
	req := pledge.EntryRequest{WalkCode: " " + stop.Code + " ", Name: "Jens Papir", Phone: "12345678", Source: pledge.SourcePaper,
		Batch: "Kirkevej 14. juni", PowerOfAttorney: true}
	p, err := svc.EnterPledge(coord, "A", req)
	if err != nil {
		t.Fatal(err)
	}
	if p.AddressID != "a2" || areaByCode(t, svc, "A").PledgedUnits != before+1 {
		t.Errorf("entered %+v; pledged %d -> %d", p, before, areaByCode(t, svc, "A").PledgedUnits)
	}
	// The same sheet's code again is the same pledge, not a second.
	again, err := svc.EnterPledge(coord, "A", req)
	if err != nil || again.ID != p.ID || areaByCode(t, svc, "A").PledgedUnits != before+1 {
		t.Errorf("entered twice: %+v %v", again, err)
	}
	es, err := svc.AreaPledgeEntries(coord, "A")
	if err != nil || es[p.ID].Source != pledge.SourcePaper || es[p.ID].Batch != "Kirkevej 14. juni" || es[p.ID].EnteredBy != "coord-a@example.org" {
		t.Errorf("entries %+v %v", es, err)
	}
	if ok, _ := svc.HasPowerOfAttorney(ctx, p.Token); !ok {
		t.Error("the paper power of attorney is not on file")
	}
	if oc, err := svc.AddressOutcomes(coord, "A"); err != nil || oc["a2"].Outcome != pledge.OutcomePledgedPaper {
		t.Errorf("walk outcome %+v %v", oc["a2"], err)
	}
	// By address id, by phone; errors change nothing.
	if _, err := svc.EnterPledge(coord, "A", pledge.EntryRequest{AddressID: "a1", Name: "Ruth Telefon", Phone: "87654321", Source: pledge.SourcePhone}); err != nil {
		t.Fatal(err)
	}
	n := areaByCode(t, svc, "A").PledgedUnits
	for name, bad := range map[string]pledge.EntryRequest{
		"another area's address": {AddressID: "b1", Name: "X", Phone: "12345678"},
		"no contact":             {AddressID: "a-edge", Name: "X"},
		"unknown source":         {AddressID: "a-edge", Name: "X", Phone: "12345678", Source: "fax"},
		"bad code":               {WalkCode: "not a code", Name: "X", Phone: "12345678"},
		"no address":             {Name: "X", Phone: "12345678"},
	} {
		if _, err := svc.EnterPledge(coord, "A", bad); pledge.ErrorCode(err) != pledge.EINVALID && pledge.ErrorCode(err) != pledge.ENOTFOUND {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := svc.EnterPledge(coordinatorOf(t, svc, "B"), "A", pledge.EntryRequest{AddressID: "a-edge", Name: "X", Phone: "12345678"}); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("another area's coordinator: %v", err)
	}
	if _, err := svc.EnterPledge(ctx, "A", pledge.EntryRequest{AddressID: "a-edge", Name: "X", Phone: "12345678"}); pledge.ErrorCode(err) != pledge.EUNAUTHORIZED {
		t.Errorf("anonymous: %v", err)
	}
	if got := areaByCode(t, svc, "A").PledgedUnits; got != n {
		t.Errorf("refused entries moved the count %d -> %d", n, got)
	}
}
