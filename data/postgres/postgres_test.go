package postgres_test

import (
	"context"
	"testing"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/storetest"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/pledge"
)

// MustOpenStore opens a store on a new database of its own.
func MustOpenStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	st, err := postgres.Open(context.Background(), pgtest.URL(tb), postgres.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}
