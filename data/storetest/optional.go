package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunRateCounter tests a store's pledge.RateCounter: counts per key and
// window, old windows forgotten, concurrent hits each counted once.
func RunRateCounter(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	rc, ok := st.(pledge.RateCounter)
	if !ok {
		t.Fatalf("%T does not implement pledge.RateCounter", st)
	}
	ctx := context.Background()
	w1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w2 := w1.Add(10 * time.Minute)
	for i, c := range []struct {
		key    string
		window time.Time
		want   int
	}{
		{"a", w1, 1}, {"a", w1, 2}, {"b", w1, 1}, {"a", w1, 3}, {"a", w2, 1}, {"a", w2.Add(48 * time.Hour), 1},
	} {
		got, err := rc.CountHit(ctx, c.key, c.window)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("hit %d (%s): got %d, want %d", i, c.key, got, c.want)
		}
	}
	// Two days on, the old windows are forgotten: w1 starts afresh.
	if got, err := rc.CountHit(ctx, "a", w1); err != nil || got != 1 {
		t.Errorf("old window after cleanup: got %d, %v", got, err)
	}
	// Concurrent hits (as from several instances) are each counted once.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rc.CountHit(ctx, "c", w2); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := rc.CountHit(ctx, "c", w2); got != 21 {
		t.Errorf("after 20 concurrent hits: %d, want 21", got)
	}
}

// RunContactUpdater tests a store's pledge.ContactUpdater through the
// service: a pledge's contact details change; a withdrawn one's do not.
func RunContactUpdater(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := &pledge.Service{Store: st, Now: func() time.Time { return Now }}
	mustImport(t, svc)
	ctx := context.Background()
	p, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: "a1", Name: "Ane", Email: "ane@example.dk", Consent: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.UpdatePledgeContact(ctx, p.Token, "Ane Ø", "", "+45 12 34 56 78")
	if err != nil || got.Name != "Ane Ø" || got.Email != "" || got.Phone != "+45 12 34 56 78" || got.AreaCode != "A" {
		t.Errorf("updated = %+v, %v", got, err)
	}
	if stored, _ := svc.Pledge(ctx, p.Token); stored.Name != "Ane Ø" || stored.Phone != "+45 12 34 56 78" {
		t.Errorf("stored = %+v", stored)
	}
	if _, err := svc.WithdrawPledge(ctx, p.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdatePledgeContact(ctx, p.Token, "X", "x@example.dk", ""); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("withdrawn pledge: %v, want ENOTFOUND", err)
	}
}

// RunLimitedPledger tests a store's pledge.LimitedPledger through the
// service: every attempt within the window counts, whatever becomes of the
// pledge; an attempt over the limit stores nothing; the counts are the
// RateCounter's; concurrent attempts never let more than the limit in.
func RunLimitedPledger(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := &pledge.Service{Store: st, Now: func() time.Time { return Now }}
	if !svc.LimitsPledges() {
		t.Fatalf("%T does not implement pledge.LimitedPledger", st)
	}
	mustImport(t, svc)
	ctx := context.Background()
	w := Now.Truncate(10 * time.Minute)
	limited := func(addr string, unit int, key string, max int) error {
		_, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: addr, Unit: unit, Name: "Ane", Email: "ane@example.dk",
			Consent: true, Limit: &pledge.RateLimit{Key: key, WindowStart: w, Max: max}}, "")
		return err
	}
	for i, c := range []struct {
		addr string
		unit int
		want string
	}{
		{"a2", 1, ""},
		{"a2", 2, ""},
		{"a2", 2, pledge.ECONFLICT},  // counts all the same
		{"b1", 0, pledge.ETOOMANY},   // the 4th attempt
		{"nope", 0, pledge.ETOOMANY}, // over the limit before anything else
	} {
		err := limited(c.addr, c.unit, "k", 3)
		if c.want == "" && err != nil || c.want != "" && pledge.ErrorCode(err) != c.want {
			t.Errorf("attempt %d (%s/%d): %v, want %q", i+1, c.addr, c.unit, err, c.want)
		}
	}
	wantCounts(t, svc, "A", 3, 5, 2)
	wantCounts(t, svc, "B", 2, 5, 0) // the limited pledge stored nothing
	if rc, ok := st.(pledge.RateCounter); ok {
		if got, err := rc.CountHit(ctx, "k", w); err != nil || got != 6 {
			t.Errorf("CountHit after 5 limited attempts: %d, %v; want 6", got, err)
		}
	}
	// Another client is not limited by k's count.
	if err := limited("b1", 0, "k2", 3); err != nil {
		t.Errorf("another client: %v", err)
	}
	// Concurrent attempts of one client: exactly the limit gets in.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = limited("b2", 0, "c", 4)
		}()
	}
	wg.Wait()
	var ok, over int
	for _, err := range errs {
		switch code := pledge.ErrorCode(err); {
		case err == nil:
			ok++
		case code == pledge.ETOOMANY:
			over++
		default:
			t.Errorf("concurrent attempt: %v", err)
		}
	}
	if ok != 4 || over != 2 {
		t.Errorf("concurrent attempts with limit 4: %d in, %d over; want 4 and 2", ok, over)
	}
	wantCounts(t, svc, "B", 2, 5, 5)
}
