package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/storetest"
	"github.com/kommunity/kommunity/pledge"
)

// One batch gives what its pledges one after another would: each Decider
// sees its area as the pledges before it left it, a threshold crossing is
// recorded once, a pledge refused by its Decider or by the store is left
// out, and the counters count exactly the stored pledges.
func TestPledgeBatchIsSequential(t *testing.T) {
	st := MustOpenStore(t)
	svc := pledge.NewService(st)
	svc.Now = func() time.Time { return storetest.Now }
	storetest.MustImportFixture(t, svc)
	ctx := context.Background()

	var seenA []string
	decideA := func(a pledge.Area) (pledge.Transition, error) {
		seenA = append(seenA, fmt.Sprintf("%d/%s", a.PledgedUnits, a.Status))
		if a.Status == pledge.StatusCollecting && a.PledgedUnits == 2 {
			return pledge.Transition{Status: pledge.StatusThresholdReached, Event: &pledge.Event{
				Kind: pledge.EventThresholdReached, AreaCode: a.Code, At: storetest.Now, Key: "test:" + a.Code, Payload: "{}"}}, nil
		}
		return pledge.Transition{}, nil
	}
	refuse := func(a pledge.Area) (pledge.Transition, error) {
		return pledge.Transition{}, pledge.Errorf(pledge.ECONFLICT, "area %s is closed", a.Code)
	}
	pass := func(pledge.Area) (pledge.Transition, error) { return pledge.Transition{}, nil }
	cases := []struct {
		address string
		unit    int
		decide  pledge.Decider
		want    string // error code, "" for stored
	}{
		{"a1", 1, decideA, ""},
		{"b1", 0, pass, ""},
		{"a2", 1, decideA, ""},
		{"v1", 1, refuse, pledge.ECONFLICT},  // refused by its Decider
		{"a2", 1, decideA, pledge.ECONFLICT}, // the unit the third took
		// The first free unit but for those the batch asks for by number
		// (1 and 3): unit 2.
		{"a2", 0, decideA, ""},
		{"a2", 3, decideA, ""},
		{"nope", 0, pass, pledge.ENOTFOUND},
		{"a2", 9, decideA, pledge.EINVALID}, // a2 has 3 units
		{"sea", 0, pass, pledge.EINVALID},   // outside every area
		// Two first-free pledges at one block of flats in one batch: the
		// first free and the second (b2 has 4 units), not one pick twice.
		{"b2", 0, pass, ""},
		{"b2", 0, pass, ""},
	}
	ps := make([]*pledge.Pledge, len(cases))
	deciders := make([]pledge.Decider, len(cases))
	for i, c := range cases {
		ps[i] = &pledge.Pledge{Token: fmt.Sprintf("token-%d", i), AddressID: c.address, Unit: c.unit, Name: "Ane",
			Email: "ane@example.dk", Consent: true, Status: pledge.PledgeActive, CreatedAt: storetest.Now,
			UpdatedAt: storetest.Now, RequestHash: "h"}
		deciders[i] = c.decide
	}
	for i, err := range postgres.CreatePledges(st, ps, deciders) {
		if got := pledge.ErrorCode(err); err != nil && got != cases[i].want || err == nil && cases[i].want != "" {
			t.Errorf("pledge %d (%s/%d): %v, want %q", i, cases[i].address, cases[i].unit, err, cases[i].want)
		}
	}
	if want := []string{"1/collecting", "2/collecting", "3/threshold_reached", "4/threshold_reached"}; !slices.Equal(seenA, want) {
		t.Errorf("A's Decider saw %v, want %v", seenA, want)
	}
	for i, unit := range map[int]int{5: 2, 6: 3, 10: 1, 11: 2} {
		if p := ps[i]; p.Unit != unit || p.ID == 0 {
			t.Errorf("stored pledge %d (%s): %+v; want unit %d", i, cases[i].address, p, unit)
		}
	}
	if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: "a2", Name: "Bo", Email: "bo@example.dk", Consent: true}, ""); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("a first-free pledge at a2, whose 3 units the batch took: %v; want a conflict", err)
	}
	for _, c := range []struct {
		code    string
		pledged int
		status  pledge.AreaStatus
	}{{"A", 4, pledge.StatusThresholdReached}, {"B", 3, pledge.StatusCollecting}, {"V", 0, pledge.StatusCollecting}} {
		if a, err := svc.Area(ctx, c.code); err != nil || a.PledgedUnits != c.pledged || a.Status != c.status {
			t.Errorf("area %s: %d pledged, %s (%v); want %d, %s", c.code, a.PledgedUnits, a.Status, err, c.pledged, c.status)
		}
	}
	if _, err := svc.Pledge(ctx, "token-3"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("the refused pledge was stored: %v", err)
	}
	events, err := st.Events(ctx)
	if err != nil || len(events) != 1 || events[0].Key != "test:A" {
		t.Errorf("events %+v, %v; want the one crossing", events, err)
	}
}
