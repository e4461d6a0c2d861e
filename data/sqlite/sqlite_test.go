package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/data/storetest"
	"github.com/kommunity/kommunity/pledge"
)

// MustOpenStore opens a store on a new file in a temporary directory.
func MustOpenStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "kommunity.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

// The same with first loads that take the file for themselves, as a CLI
// import's do (TestExclusiveFirstLoad).
func TestConformanceExclusiveFirstLoad(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) pledge.Store {
		st := MustOpenStore(tb)
		st.SetExclusiveFirstLoad(true)
		return st
	})
}

func TestRateCounter(t *testing.T) {
	storetest.RunRateCounter(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestLimitedPledges(t *testing.T) {
	storetest.RunLimitedPledger(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestContactUpdater(t *testing.T) {
	storetest.RunContactUpdater(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestFeatureConformance(t *testing.T) {
	storetest.RunFeatures(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestAccountConformance(t *testing.T) {
	storetest.RunAccounts(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestWebhookConformance(t *testing.T) {
	storetest.RunWebhooks(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestResidentConformance(t *testing.T) {
	storetest.RunResidents(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestChallengeConformance(t *testing.T) {
	storetest.RunChallenges(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestTenderConformance(t *testing.T) {
	storetest.RunTenders(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestWalkConformance(t *testing.T) {
	storetest.RunWalks(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestDashboardConformance(t *testing.T) {
	storetest.RunDashboard(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func BenchmarkWebhookDelivery(b *testing.B) {
	storetest.BenchWebhookDelivery(b, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestSubsidyConformance(t *testing.T) {
	storetest.RunSubsidy(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestEntryConformance(t *testing.T) {
	storetest.RunEntry(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}
