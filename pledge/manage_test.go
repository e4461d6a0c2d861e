package pledge_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// demoService is a Service over a new SQLite store holding a small demo
// municipality without pledges, and the generated municipality.
func demoService(tb testing.TB) (*pledge.Service, demo.Municipality) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "kommunity.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	m := demo.Generate(demo.Config{Seed: 3, Areas: 2, Addresses: 300, PledgeShare: -1})
	svc := pledge.NewService(st)
	noRoads := m
	noRoads.Roads = nil // straight-line routes: what these tests assert on
	if err := demo.Seed(ctx, svc, noRoads, nil); err != nil {
		tb.Fatal(err)
	}
	return svc, m
}

func TestUpdatePledgeContact(t *testing.T) {
	ctx := context.Background()
	svc, m := demoService(t)
	p, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: m.Addresses[0].ID, Name: "Ada", Email: "ada@example.dk", Consent: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		got, err := svc.UpdatePledgeContact(ctx, p.Token, "  Ada   Lovelace ", "", "+45 12 34 56 78")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Ada Lovelace" || got.Email != "" || got.Phone != "+45 12 34 56 78" || got.Status != pledge.PledgeActive {
			t.Fatalf("got %+v", got)
		}
		again, err := svc.Pledge(ctx, p.Token)
		if err != nil || again.Name != "Ada Lovelace" {
			t.Fatalf("stored %+v, %v", again, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, c := range []struct{ name, email, phone, field string }{
			{"", "a@example.dk", "", "name"},
			{"Ada", "", "", "email"},
			{"Ada", "not-mail", "", "email"},
			{"Ada", "", "12", "phone"},
		} {
			_, err := svc.UpdatePledgeContact(ctx, p.Token, c.name, c.email, c.phone)
			var pe *pledge.Error
			if pledge.ErrorCode(err) != pledge.EINVALID || !asError(err, &pe) || pe.Field != c.field {
				t.Errorf("%+v: got %v, want invalid %s", c, err, c.field)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := svc.UpdatePledgeContact(ctx, "nope", "Ada", "a@example.dk", ""); pledge.ErrorCode(err) != pledge.ENOTFOUND {
			t.Fatalf("got %v", err)
		}
		if _, err := svc.WithdrawPledge(ctx, p.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdatePledgeContact(ctx, p.Token, "Ada", "a@example.dk", ""); pledge.ErrorCode(err) != pledge.ENOTFOUND {
			t.Fatalf("withdrawn: got %v", err)
		}
	})
}

func asError(err error, pe **pledge.Error) bool {
	e, ok := err.(*pledge.Error)
	*pe = e
	return ok
}

func TestRules(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	for _, c := range []struct {
		status       pledge.AreaStatus
		deadline     *time.Time
		open, undone bool
	}{
		{pledge.StatusCollecting, &future, true, true},
		{pledge.StatusCollecting, nil, true, true},
		{pledge.StatusCollecting, &past, false, true},
		{pledge.StatusThresholdReached, &future, true, true},
		{pledge.StatusTenderOpen, &future, false, false},
		{pledge.StatusDraft, nil, false, false},
		{pledge.StatusLapsed, nil, false, false},
	} {
		a := pledge.Area{Status: c.status, Deadline: c.deadline}
		if got := pledge.PledgesOpen(a, now); got != c.open {
			t.Errorf("PledgesOpen(%s, %v) = %v", c.status, c.deadline, got)
		}
		if got := pledge.Withdrawable(a); got != c.undone {
			t.Errorf("Withdrawable(%s) = %v", c.status, got)
		}
	}
}

func TestNearestAddress(t *testing.T) {
	ctx := context.Background()
	svc, m := demoService(t)
	inArea := map[string]bool{}
	for _, a := range m.Areas {
		as, err := svc.AreaAddresses(ctx, a.Code, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ad := range as {
			inArea[ad.ID] = true
		}
	}
	t.Run("OK", func(t *testing.T) {
		for _, rec := range m.Addresses[:40] {
			if !inArea[rec.ID] {
				continue
			}
			// A few metres off the point, the address itself is nearest
			// unless another lies closer; check against brute force.
			p := orb.Point{rec.Point[0] + 0.00003, rec.Point[1] + 0.00002}
			got, d, err := svc.NearestAddress(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			want, wantD := "", 1e18
			for _, r := range m.Addresses {
				if !inArea[r.ID] {
					continue
				}
				if dd := distance(p, r.Point); dd < wantD {
					want, wantD = r.ID, dd
				}
			}
			if got.ID != want || d > wantD+0.01 {
				t.Fatalf("near %s: got %s at %.1f m, want %s at %.1f m", rec.ID, got.ID, d, want, wantD)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, _, err := svc.NearestAddress(ctx, orb.Point{-40, -40}); pledge.ErrorCode(err) != pledge.ENOTFOUND {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		if _, _, err := svc.NearestAddress(ctx, orb.Point{200, 0}); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Fatalf("got %v", err)
		}
	})
}
