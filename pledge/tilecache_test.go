package pledge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// The tile cache serves a tile from memory for its TTL, refreshes it in the
// background when it is asked for in the second half of the TTL, never
// serves it older than the TTL, and renders once for many at once.
func TestTileCacheRefreshesAhead(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c := &tileCache{now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	at := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	var renders atomic.Int32
	release := make(chan struct{}, 10)
	render := func(ctx context.Context) ([]byte, error) {
		n := renders.Add(1)
		if n > 1 {
			<-release // the refreshes wait until the test lets them go
		}
		return []byte(fmt.Sprintf("v%d", n)), ctx.Err()
	}
	k := tileKey{TileLayerAreas, maptile.New(0, 0, 0)}
	ttl := time.Second
	get := func(ctx context.Context) string {
		t.Helper()
		data, tag, err := c.get(ctx, k, ttl, render)
		if err != nil || tag != etag(data) {
			t.Fatalf("get: %q %s %v", data, tag, err)
		}
		return string(data)
	}
	ctx := context.Background()
	if got := get(ctx); got != "v1" {
		t.Fatalf("first: %s", got)
	}
	at(400 * time.Millisecond)
	if got := get(ctx); got != "v1" || renders.Load() != 1 {
		t.Fatalf("within half the TTL: %s after %d renders", got, renders.Load())
	}
	// Second half: the cached tile at once, one refresh started, however
	// many ask meanwhile, and the request's own context may end.
	at(200 * time.Millisecond)
	cancelled, cancel := context.WithCancel(ctx)
	for range 5 {
		if got := get(cancelled); got != "v1" {
			t.Fatalf("second half: %s; want the cached tile", got)
		}
	}
	cancel()
	for deadline := time.Now().Add(5 * time.Second); renders.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := renders.Load(); n != 2 {
		t.Fatalf("%d renders; want one refresh", n)
	}
	release <- struct{}{}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if got := get(ctx); got == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never landed")
		}
		time.Sleep(time.Millisecond)
	}
	// Past the TTL nothing stale is served: the request waits for a render.
	at(1100 * time.Millisecond)
	release <- struct{}{}
	if got := get(ctx); got != "v3" {
		t.Fatalf("past the TTL: %s; want a new render", got)
	}
	// A drop of every tile (an import) drops it at once.
	c.drop(orb.Bound{}, true)
	release <- struct{}{}
	if got := get(ctx); got != "v4" {
		t.Fatalf("after a drop of all: %s", got)
	}
}

// A write in one area drops the tiles that may show it, at once, and no
// other: a tile next to the area's bound within the render buffer goes
// too, one beyond it stays; a render in flight when the drop comes serves
// its waiting request but is not kept.
func TestTileCacheDropsTilesInReachOfAnArea(t *testing.T) {
	c := &tileCache{}
	renders := map[maptile.Tile]int{}
	var mu sync.Mutex
	gate := make(chan struct{})
	var hold atomic.Bool
	render := func(tile maptile.Tile) func(context.Context) ([]byte, error) {
		return func(ctx context.Context) ([]byte, error) {
			if hold.Load() {
				<-gate
			}
			mu.Lock()
			defer mu.Unlock()
			renders[tile]++
			return []byte(fmt.Sprintf("%v#%d", tile, renders[tile])), nil
		}
	}
	ctx := context.Background()
	get := func(tile maptile.Tile) string {
		t.Helper()
		data, _, err := c.get(ctx, tileKey{TileLayerAddresses, tile}, time.Hour, render(tile))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	// inFlight waits until n renders are in flight.
	inFlight := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			c.mu.Lock()
			got := len(c.flight)
			c.mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d renders in flight, want %d", got, n)
			}
		}
	}
	// Three zoom-13 tiles in a row, west to east: area lies inside the
	// first, well away from its edges; edge ends 1% of a tile short of the
	// first's east edge, so inside the first tile but within the second's
	// render buffer; the third is two tiles away.
	in := maptile.New(4352, 2560, 13)
	next := maptile.New(4353, 2560, 13)
	far := maptile.New(4355, 2560, 13)
	b := in.Bound()
	w := b.Max[0] - b.Min[0]
	area := orb.Bound{Min: orb.Point{b.Min[0] + w/4, b.Min[1] + (b.Max[1]-b.Min[1])/4}, Max: orb.Point{b.Max[0] - w/4, b.Max[1] - (b.Max[1]-b.Min[1])/4}}
	edge := orb.Bound{Min: orb.Point{b.Max[0] - w/4, area.Min[1]}, Max: orb.Point{b.Max[0] - w/100, area.Max[1]}}
	for _, tile := range []maptile.Tile{in, next, far} {
		get(tile)
	}
	c.drop(area, false)
	if got := []string{get(in), get(next), get(far)}; got[0] != fmt.Sprintf("%v#2", in) || got[1] != fmt.Sprintf("%v#1", next) || got[2] != fmt.Sprintf("%v#1", far) {
		t.Errorf("after a drop inside the first tile: %q; want only the first rendered again", got)
	}
	c.drop(edge, false)
	if got := []string{get(in), get(next), get(far)}; got[0] != fmt.Sprintf("%v#3", in) || got[1] != fmt.Sprintf("%v#2", next) || got[2] != fmt.Sprintf("%v#1", far) {
		t.Errorf("after a drop near the edge: %q; want the first two rendered again", got)
	}

	// A render in flight during a drop in its reach: the request gets it,
	// the cache does not keep it. One outside the drop's reach is kept.
	c.drop(orb.Bound{}, true)
	hold.Store(true)
	results := make(chan string, 2)
	go func() { results <- get(in) }()
	go func() { results <- get(far) }()
	inFlight(2)
	c.drop(area, false)
	close(gate)
	<-results
	<-results
	hold.Store(false)
	if got := get(in); got != fmt.Sprintf("%v#5", in) {
		t.Errorf("a render that began before the drop was kept: %s", got)
	}
	if got := get(far); got != fmt.Sprintf("%v#2", far) {
		t.Errorf("a render outside the drop was not kept: %s", got)
	}

	// More drops during a render than are remembered: not kept.
	c.drop(orb.Bound{}, true)
	hold.Store(true)
	gate = make(chan struct{})
	go func() { results <- get(far) }()
	inFlight(1)
	for range maxRecentDrops + 1 {
		c.drop(area, false)
	}
	close(gate)
	<-results
	hold.Store(false)
	if got := get(far); got != fmt.Sprintf("%v#4", far) {
		t.Errorf("a render older than the drops remembered was kept: %s", got)
	}
}

// With the store's version, a tile whose store has not changed is kept,
// in the background refresh and past the TTL alike, as of the reading of
// the version; a changed version renders it again, and the tile is never
// served older than the TTL against the last reading.
func TestTileCacheKeepsTilesOfAnUnchangedStore(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	var version atomic.Int64
	var reads, renders atomic.Int32
	c := &tileCache{now: clock, version: func(ctx context.Context) (string, error) {
		reads.Add(1)
		return fmt.Sprint(version.Load()), nil
	}}
	render := func(ctx context.Context) ([]byte, error) {
		return []byte(fmt.Sprintf("v%d@%d", renders.Add(1), version.Load())), nil
	}
	k := tileKey{TileLayerAddresses, maptile.New(0, 0, 13)}
	ttl := time.Second
	get := func() string {
		t.Helper()
		data, _, err := c.get(context.Background(), k, ttl, render)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	waitRefresh := func() {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			c.mu.Lock()
			busy := len(c.flight) > 0
			c.mu.Unlock()
			if !busy {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the refresh never ended")
			}
		}
	}
	if got := get(); got != "v1@0" {
		t.Fatalf("first: %s", got)
	}
	// Second half of the TTL: the refresh reads the version and keeps the
	// tile, now as of that reading.
	at(600 * time.Millisecond)
	if got := get(); got != "v1@0" {
		t.Fatalf("second half: %s", got)
	}
	waitRefresh()
	if renders.Load() != 1 || reads.Load() != 2 {
		t.Fatalf("unchanged store: %d renders, %d version reads; want 1 and 2", renders.Load(), reads.Load())
	}
	// 1.5 s after the render but 0.9 s after the reading: still fresh.
	at(900 * time.Millisecond)
	if got := get(); got != "v1@0" {
		t.Fatalf("kept tile: %s", got)
	}
	waitRefresh()
	if renders.Load() != 1 {
		t.Fatalf("%d renders of an unchanged tile", renders.Load())
	}
	// The store changes (another process's pledge): the next refresh
	// renders.
	version.Store(1)
	at(600 * time.Millisecond)
	get()
	waitRefresh()
	if got := get(); got != "v2@1" || renders.Load() != 2 {
		t.Fatalf("after a change: %s after %d renders", got, renders.Load())
	}
	// Past the TTL with a changed store: the request waits for a render.
	version.Store(2)
	at(1100 * time.Millisecond)
	if got := get(); got != "v3@2" {
		t.Fatalf("past the TTL after a change: %s", got)
	}
	// Past the TTL, unchanged: kept without a render, within the request.
	at(1100 * time.Millisecond)
	if got := get(); got != "v3@2" || renders.Load() != 3 {
		t.Fatalf("past the TTL, unchanged: %s after %d renders", got, renders.Load())
	}
	// A failing version read renders as without versions.
	c.version = func(context.Context) (string, error) { return "", fmt.Errorf("gone") }
	at(1100 * time.Millisecond)
	if got := get(); got != "v4@2" {
		t.Fatalf("version unknown: %s", got)
	}
}
