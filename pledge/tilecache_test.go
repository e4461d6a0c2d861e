package pledge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	k := tileKey{TileLayerAreas, maptile.New(0, 0, 0), 1}
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
	// A new generation drops the old tile at once.
	k.gen = 2
	release <- struct{}{}
	if got := get(ctx); got != "v4" {
		t.Fatalf("new generation: %s", got)
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
	k := tileKey{TileLayerAddresses, maptile.New(0, 0, 13), 1}
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
