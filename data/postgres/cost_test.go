package postgres_test

import (
	"testing"

	"github.com/kommunity/kommunity/data/storetest"
	"github.com/kommunity/kommunity/pledge"
)

func TestCostConformance(t *testing.T) {
	storetest.RunCost(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}
