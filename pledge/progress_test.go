package pledge_test

import (
	"context"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// Two services over one store stand for two server instances: a pledge
// shows at once on the instance that took it, and on the other once its
// short-lived copy expires.
func TestAreaProgressCache(t *testing.T) {
	ctx := context.Background()
	here, m := demoService(t)
	here.ProgressTTL = 200 * time.Millisecond
	there := withTTL(pledge.NewService(pledge.StoreOf(here)), 200*time.Millisecond)
	code := m.Areas[0].Code
	var addr string
	for _, a := range m.Addresses {
		if got, err := pledge.StoreOf(here).Address(ctx, a.ID); err == nil && got.AreaCode == code {
			addr = a.ID
			break
		}
	}
	before, err := there.AreaProgress(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := here.AreaProgress(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, _, err := here.CreatePledge(ctx, pledge.PledgeRequest{AddressID: addr, Name: "Ada", Email: "ada@example.dk", Consent: true}, ""); err != nil {
		t.Fatal(err)
	}
	if a, _ := here.AreaProgress(ctx, code); a.PledgedUnits != before.PledgedUnits+1 {
		t.Errorf("the instance that took the pledge shows %d pledged units, want %d", a.PledgedUnits, before.PledgedUnits+1)
	}
	if a, _ := there.AreaProgress(ctx, code); a.PledgedUnits != before.PledgedUnits {
		t.Errorf("the other instance's copy changed before it expired: %d", a.PledgedUnits)
	}
	time.Sleep(250 * time.Millisecond)
	if a, _ := there.AreaProgress(ctx, code); a.PledgedUnits != before.PledgedUnits+1 {
		t.Errorf("after the TTL the other instance shows %d, want %d", a.PledgedUnits, before.PledgedUnits+1)
	}

	uncached := withTTL(pledge.NewService(pledge.StoreOf(here)), -1)
	if _, err := uncached.AreaProgress(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, _, err := there.CreatePledge(ctx, pledge.PledgeRequest{AddressID: addr, Name: "Bo", Email: "bo@example.dk", Consent: true}, ""); err != nil && pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Fatal(err)
	}
	fresh, _ := pledge.StoreOf(here).Area(ctx, code)
	if a, _ := uncached.AreaProgress(ctx, code); a.PledgedUnits != fresh.PledgedUnits {
		t.Errorf("with the cache off: %d, store says %d", a.PledgedUnits, fresh.PledgedUnits)
	}
	if _, err := here.AreaProgress(ctx, "NOPE"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown area: %v", err)
	}
}

func withTTL(s *pledge.Service, ttl time.Duration) *pledge.Service {
	s.ProgressTTL = ttl
	return s
}
