package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/storetest"
)

// BenchmarkLookups runs the lookup benchmarks on the database at
// KOMMUNITY_BENCH_DATABASE_URL (filled by bench/country.sh), or on a new
// store of storetest.BenchConfig's country.
func BenchmarkLookups(b *testing.B) {
	url := os.Getenv("KOMMUNITY_BENCH_DATABASE_URL")
	if url == "" {
		storetest.BenchLookups(b, MustOpenStore(b))
		return
	}
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchLookups(b, st)
}
