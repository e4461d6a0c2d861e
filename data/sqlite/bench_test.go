package sqlite_test

import (
	"context"
	"os"
	"testing"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/data/storetest"
)

// BenchmarkLookups runs the lookup benchmarks on the database file in
// KOMMUNITY_BENCH_DB (filled by bench/country.sh), or on a new store of
// storetest.BenchConfig's country.
func BenchmarkLookups(b *testing.B) {
	path := os.Getenv("KOMMUNITY_BENCH_DB")
	if path == "" {
		storetest.BenchLookups(b, MustOpenStore(b))
		return
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchLookups(b, st)
}

// BenchmarkTiles renders tiles at every zoom from the same store as
// BenchmarkLookups (see storetest.BenchTiles).
func BenchmarkTiles(b *testing.B) {
	path := os.Getenv("KOMMUNITY_BENCH_DB")
	if path == "" {
		storetest.BenchTiles(b, MustOpenStore(b))
		return
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchTiles(b, st)
}
