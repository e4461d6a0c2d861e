package postgres_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

func TestCountHit(t *testing.T) {
	ctx := context.Background()
	st := MustOpenStore(t)
	w1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w2 := w1.Add(10 * time.Minute)
	for i, c := range []struct {
		key    string
		window time.Time
		want   int
	}{
		{"a", w1, 1}, {"a", w1, 2}, {"b", w1, 1}, {"a", w1, 3}, {"a", w2, 1}, {"a", w2.Add(48 * time.Hour), 1},
	} {
		got, err := st.CountHit(ctx, c.key, c.window)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("hit %d (%s): got %d, want %d", i, c.key, got, c.want)
		}
	}
	if got, err := st.CountHit(ctx, "a", w1); err != nil || got != 1 {
		t.Errorf("old window after cleanup: got %d, %v", got, err)
	}
	// Concurrent hits (as from several instances) are each counted once.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.CountHit(ctx, "c", w2); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := st.CountHit(ctx, "c", w2); got != 21 {
		t.Errorf("after 20 concurrent hits: %d, want 21", got)
	}
}

type oneRecord []geo.AddressRecord

func (r *oneRecord) Next() (geo.AddressRecord, error) {
	if len(*r) == 0 {
		return geo.AddressRecord{}, io.EOF
	}
	rec := (*r)[0]
	*r = (*r)[1:]
	return rec, nil
}

func TestUpdatePledgeContact(t *testing.T) {
	ctx := context.Background()
	st := MustOpenStore(t)
	svc := &pledge.Service{Store: st, Now: func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }}
	sq := orb.Ring{{9, 54}, {11, 54}, {11, 56}, {9, 56}, {9, 54}}
	if _, err := svc.ImportAreas(ctx, []geo.AreaFeature{{Code: "A", Name: "A", Polygon: orb.MultiPolygon{{sq}}}}, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	src := oneRecord{{ID: "a1", Text: "Vej 1", Point: orb.Point{10, 55}, Units: 1}}
	if _, err := svc.ImportAddresses(ctx, &src, pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: "a1", Name: "Ane", Email: "ane@example.dk", Consent: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.UpdatePledgeContact(ctx, p.Token, "Ane Ø", "", "+45 12 34 56 78")
	if err != nil || got.Name != "Ane Ø" || got.Email != "" || got.Phone != "+45 12 34 56 78" || got.AreaCode != "A" {
		t.Errorf("updated = %+v, %v", got, err)
	}
	if _, err := svc.WithdrawPledge(ctx, p.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdatePledgeContact(ctx, p.Token, "X", "x@example.dk", ""); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("withdrawn pledge: %v, want ENOTFOUND", err)
	}
}
