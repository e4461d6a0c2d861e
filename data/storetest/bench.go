package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// BenchConfig is the generated country of the lookup benchmarks:
// KOMMUNITY_BENCH_ADDRESSES addresses (default 100,000) in
// KOMMUNITY_BENCH_AREAS areas (default one per 1,800 addresses), seed 1.
// bench/country.sh runs them on 4,000,000 and 2,200, the size of Denmark.
func BenchConfig(tb testing.TB) demo.Config {
	cfg := demo.Config{Seed: 1, Addresses: 100_000}
	if v := os.Getenv("KOMMUNITY_BENCH_ADDRESSES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			tb.Fatalf("KOMMUNITY_BENCH_ADDRESSES=%q: want a number of at least 1000", v)
		}
		cfg.Addresses = n
	}
	cfg.Areas = max(6, cfg.Addresses/1800)
	if v := os.Getenv("KOMMUNITY_BENCH_AREAS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			tb.Fatalf("KOMMUNITY_BENCH_AREAS=%q: want a positive number", v)
		}
		cfg.Areas = n
	}
	return cfg
}

// benchSample is what the lookups ask for: addresses spread evenly over
// the generated country, and its bounds.
type benchSample struct {
	addrs  []geo.AddressRecord
	bounds orb.Bound
}

var (
	sampleOnce sync.Once
	sample     benchSample
)

// BenchLookups measures one query at a time of st, which holds
// BenchConfig's country or is empty (then it is filled here, through the
// service, which suits up to a few hundred thousand addresses; a bench
// script fills bigger ones with kommunity import). It reports each
// query's p50 and p99 latency:
//
//   - Nearest/near: the nearest address to a point within 200 m of a
//     random address (a click by a house);
//   - Nearest/anywhere: to a uniformly random point in the country's
//     bounds (often no address within reach: the slow case);
//   - Search: the first 3 to 12 characters of a random address's text,
//     10 results, as the search box asks.
func BenchLookups(b *testing.B, st pledge.Store) {
	ctx := cliContext()
	cfg := BenchConfig(b)
	svc := pledge.NewService(st)
	areas, err := st.Areas(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	if len(areas) == 0 {
		fillBench(b, svc, cfg)
	} else if len(areas) != cfg.Areas {
		b.Fatalf("the store has %d areas, BenchConfig %d: set KOMMUNITY_BENCH_ADDRESSES and KOMMUNITY_BENCH_AREAS to what it holds", len(areas), cfg.Areas)
	}
	sampleOnce.Do(func() { sample = sampleCountry(cfg) })
	rng := rand.New(rand.NewPCG(3, 4))
	b.Run("Nearest/near", func(b *testing.B) {
		lookups(b, func() error {
			a := sample.addrs[rng.IntN(len(sample.addrs))]
			r, ang := 200*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
			p := orb.Point{a.Point[0] + r*math.Cos(ang)/111320/math.Cos(a.Point[1]*math.Pi/180), a.Point[1] + r*math.Sin(ang)/111320}
			_, _, err := svc.NearestAddress(ctx, p)
			if pledge.ErrorCode(err) == pledge.ENOTFOUND {
				return nil // a straggler outside every area, with no area's address in reach
			}
			return err
		})
	})
	b.Run("Nearest/anywhere", func(b *testing.B) {
		bo := sample.bounds
		lookups(b, func() error {
			p := orb.Point{bo.Min[0] + rng.Float64()*(bo.Max[0]-bo.Min[0]), bo.Min[1] + rng.Float64()*(bo.Max[1]-bo.Min[1])}
			_, _, err := svc.NearestAddress(ctx, p)
			if pledge.ErrorCode(err) == pledge.ENOTFOUND {
				return nil
			}
			return err
		})
	})
	b.Run("Search", func(b *testing.B) {
		lookups(b, func() error {
			text := []rune(sample.addrs[rng.IntN(len(sample.addrs))].Text)
			q := string(text[:min(len(text), 3+rng.IntN(10))])
			as, err := svc.SearchAddresses(ctx, q, 10)
			if err == nil && len(as) == 0 {
				b.Fatalf("search %q found nothing", q)
			}
			return err
		})
	})
}

// lookups runs query b.N times and reports the latency percentiles.
func lookups(b *testing.B, query func() error) {
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := query(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[min(len(took)-1, int(q*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50_ms")
	b.ReportMetric(at(0.99), "p99_ms")
}

// fillBench imports cfg's country through svc.
func fillBench(b *testing.B, svc *pledge.Service, cfg demo.Config) {
	b.Helper()
	ctx := cliContext()
	if _, err := svc.ImportAreas(ctx, demo.GenerateAreas(cfg), pledge.AreaImport{}); err != nil {
		b.Fatal(err)
	}
	var recs pledge.Records
	if err := demo.EachAddress(cfg, func(r geo.AddressRecord) error { recs = append(recs, r); return nil }); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ImportAddresses(ctx, &recs, pledge.AddressImportOptions{}); err != nil {
		b.Fatal(err)
	}
}

// sampleCountry keeps about 5,000 addresses of cfg, evenly spread.
func sampleCountry(cfg demo.Config) benchSample {
	var s benchSample
	every := max(1, cfg.Addresses/5000)
	i := 0
	_ = demo.EachAddress(cfg, func(r geo.AddressRecord) error {
		if i%every == 0 {
			s.addrs = append(s.addrs, r)
		}
		i++
		return nil
	})
	s.bounds = orb.Bound{Min: s.addrs[0].Point, Max: s.addrs[0].Point}
	for _, a := range demo.GenerateAreas(cfg) {
		s.bounds = s.bounds.Union(a.Polygon.Bound())
	}
	return s
}

// BenchTiles measures the store's tile rendering, one tile at a time and
// without the Service's cache (every call a first render), on the same
// store as BenchLookups: for each zoom, the tiles that cover the public
// areas' bound (at most 256, spread evenly) in turn. It reports p50 and
// p99 per zoom, areas from 0 and addresses from AddressTileMinZoom.
func BenchTiles(b *testing.B, st pledge.Store) {
	ctx := cliContext()
	cfg := BenchConfig(b)
	if areas, err := st.Areas(ctx, false); err != nil {
		b.Fatal(err)
	} else if len(areas) == 0 {
		fillBench(b, pledge.NewService(st), cfg)
	}
	bound, ok, err := st.PublicAreasBound(ctx)
	if err != nil || !ok {
		b.Fatalf("no public areas (%v)", err)
	}
	for z := maptile.Zoom(0); z <= 16; z++ {
		tiles := coveringTiles(bound, z, 256)
		for _, layer := range []string{pledge.TileLayerAreas, pledge.TileLayerAddresses} {
			if layer == pledge.TileLayerAddresses && z < pledge.AddressTileMinZoom {
				continue
			}
			render := st.AreaTile
			if layer == pledge.TileLayerAddresses {
				render = st.AddressTile
			}
			b.Run(fmt.Sprintf("%s/z%02d", layer, z), func(b *testing.B) {
				i := 0
				lookups(b, func() error {
					i++
					_, err := render(ctx, tiles[i%len(tiles)])
					return err
				})
			})
		}
	}
}

// coveringTiles are up to n of the tiles at zoom z that cover bound,
// spread evenly over them.
func coveringTiles(bound orb.Bound, z maptile.Zoom, n int) []maptile.Tile {
	lo, hi := maptile.At(orb.Point{bound.Min[0], bound.Max[1]}, z), maptile.At(orb.Point{bound.Max[0], bound.Min[1]}, z)
	var all []maptile.Tile
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			all = append(all, maptile.New(x, y, z))
		}
	}
	step := max(1, len(all)/n)
	var out []maptile.Tile
	for i := 0; i < len(all) && len(out) < n; i += step {
		out = append(out, all[i])
	}
	return out
}
