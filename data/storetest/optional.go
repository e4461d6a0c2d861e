package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunRateCounter tests a store's pledge.RateCounter: counts per key and
// window with the previous window's, old windows forgotten, concurrent
// hits each counted once.
func RunRateCounter(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	w1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w2 := w1.Add(10 * time.Minute)
	at := func(key string, now time.Time) pledge.RateLimit {
		return pledge.RateLimit{Key: key, Window: 10 * time.Minute, Max: 100, Now: now}
	}
	for i, c := range []struct {
		key  string
		now  time.Time
		want pledge.RateCount
	}{
		{"a", w1, pledge.RateCount{Hits: 1}},
		{"a", w1.Add(time.Minute), pledge.RateCount{Hits: 2}},
		{"b", w1, pledge.RateCount{Hits: 1}},
		{"a", w1.Add(9 * time.Minute), pledge.RateCount{Hits: 3}},
		{"a", w2.Add(time.Second), pledge.RateCount{Hits: 1, Previous: 3}},
		{"b", w2.Add(10 * time.Minute), pledge.RateCount{Hits: 1}}, // two windows on: w1 is not the previous
		{"a", w2.Add(48 * time.Hour), pledge.RateCount{Hits: 1}},
	} {
		got, err := st.CountHit(ctx, at(c.key, c.now))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("hit %d (%s at %s): got %+v, want %+v", i, c.key, c.now.Format("15:04:05"), got, c.want)
		}
	}
	// Two days on, the old windows are forgotten: w1 starts afresh.
	if got, err := st.CountHit(ctx, at("a", w1)); err != nil || got != (pledge.RateCount{Hits: 1}) {
		t.Errorf("old window after cleanup: got %+v, %v", got, err)
	}
	// Concurrent hits (as from several instances) are each counted once.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.CountHit(ctx, at("c", w2)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := st.CountHit(ctx, at("c", w2)); got.Hits != 21 {
		t.Errorf("after 20 concurrent hits: %d, want 21", got.Hits)
	}
}

// RunContactUpdater tests a store's pledge.ContactUpdater through the
// service: a pledge's contact details change; a withdrawn one's do not.
func RunContactUpdater(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := newService(st, func() time.Time { return Now })
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

// RunLimitedPledger tests rate-limited pledges through the service, on
// every store (a LimitedPledger counts in the pledge's own trip, others
// through RateCounter first): every attempt counts, whatever becomes of it,
// invalid ones included; an attempt over the limit stores nothing; the
// window slides, so a burst just before a window boundary still counts
// just after it; concurrent attempts never let more than the limit in.
func RunLimitedPledger(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := newService(st, func() time.Time { return Now })
	mustImport(t, svc)
	ctx := context.Background()
	window := 10 * time.Minute
	limited := func(addr string, unit int, name, key string, max int, now time.Time) error {
		_, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: addr, Unit: unit, Name: name, Email: " ane@example.dk",
			Consent: true, Limit: &pledge.RateLimit{Key: key, Window: window, Max: max, Now: now}}, "")
		return err
	}
	for i, c := range []struct {
		addr, name string
		unit       int
		want       string
	}{
		{"a2", "Ane", 1, ""},
		{"a2", "", 2, pledge.EINVALID}, // counts all the same
		{"a2", "Ane", 2, ""},
		{"b1", "Ane", 0, pledge.ETOOMANY}, // the 4th attempt
		{"nope", "", 0, pledge.ETOOMANY},  // over the limit before anything else
		{"b1", "A‮", 0, pledge.ETOOMANY},  // and before validation
	} {
		err := limited(c.addr, c.unit, c.name, "k", 3, Now)
		if c.want == "" && err != nil || c.want != "" && pledge.ErrorCode(err) != c.want {
			t.Errorf("attempt %d (%s/%d): %v, want %q", i+1, c.addr, c.unit, err, c.want)
		}
	}
	wantCounts(t, svc, "A", 3, 5, 2)
	wantCounts(t, svc, "B", 2, 5, 0) // the limited pledges stored nothing
	got, err := st.CountHit(ctx, pledge.RateLimit{Key: "k", Window: window, Max: 3, Now: Now})
	if err != nil || got.Hits != 7 {
		t.Errorf("CountHit after 6 limited attempts: %+v, %v; want 7 hits", got, err)
	}
	// Another client is not limited by k's count.
	if err := limited("b1", 0, "Ane", "k2", 3, Now); err != nil {
		t.Errorf("another client: %v", err)
	}
	// A burst at the end of one fixed window still counts at the start of
	// the next: fixed windows alone would let twice the limit through.
	end := Now.Truncate(window).Add(window - time.Second)
	for i := range 2 {
		if err := limited("nope", 0, "Ane", "edge", 2, end); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Fatalf("edge attempt %d: %v, want EINVALID (within the limit)", i+1, err)
		}
	}
	if err := limited("nope", 0, "Ane", "edge", 2, end.Add(2*time.Second)); pledge.ErrorCode(err) != pledge.ETOOMANY {
		t.Errorf("just after the window boundary: %v, want ETOOMANY", err)
	}
	if err := limited("nope", 0, "Ane", "edge", 2, end.Add(window+time.Second)); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("a whole window later: %v, want EINVALID (allowed again)", err)
	}
	// Concurrent attempts of one client: exactly the limit gets in.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = limited("b2", 0, "Ane", "c", 4, Now)
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
