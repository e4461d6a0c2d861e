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
