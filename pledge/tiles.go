package pledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Vector tiles: the public map at national scale. Instead of every area in
// one GeoJSON document, the map asks for Mapbox Vector Tiles of the part it
// shows. Two layers, counts only (never who pledged):
//
//   - TileLayerAreas ("areas"): every area that is not a draft, with the
//     properties code, name, status, take_up_band (see TakeUpBand), units,
//     pledged_units and threshold_percent.
//   - TileLayerAddresses ("addresses"): from zoom AddressTileMinZoom, every
//     address in such an area, with address_id, units, pledged_units and
//     unpledged_units. Below that zoom the tile is empty: a point per
//     household is noise on a national view.
//
// Geometry is in tile coordinates of extent TileExtent, clipped to the tile
// plus TileBuffer on every side, so that polygons crossing a tile edge join
// up without seams.
const (
	TileLayerAreas     = "areas"
	TileLayerAddresses = "addresses"

	// TileExtent is the side of a tile in tile coordinates (the MVT default).
	TileExtent = 4096
	// TileBuffer is how far, in tile coordinates, geometry reaches beyond
	// the tile's edge: enough for the outline's stroke width at 256 px.
	TileBuffer = 64
	// MaxTileZoom is the deepest zoom served; address points are exact
	// long before it.
	MaxTileZoom = 22
	// AddressTileMinZoom is the first zoom with address points.
	AddressTileMinZoom = 13
)

// TileStore is what a store needs to serve vector tiles. Both stores
// implement it (Store embeds it); data/storetest checks them against each
// other's rules. A store encodes the tile itself because PostgreSQL does so
// next to the data (ST_AsMVT), sending one small blob instead of the rows.
type TileStore interface {
	// AreaTile returns the TileLayerAreas layer of tile t encoded as a
	// Mapbox Vector Tile (uncompressed), or an empty slice when no public
	// area intersects the tile (buffer included). Geometry is clipped to
	// the tile plus TileBuffer and simplified to the tile's resolution;
	// take_up_band is TakeUpBand of the area.
	AreaTile(ctx context.Context, t maptile.Tile) ([]byte, error)
	// AddressTile returns the TileLayerAddresses layer of tile t: the
	// addresses in public areas whose point lies in the tile plus
	// TileBuffer, or an empty slice when there are none.
	AddressTile(ctx context.Context, t maptile.Tile) ([]byte, error)
	// PublicAreasBound is the bound of every public area's geometry; ok is
	// false when there is none.
	PublicAreasBound(ctx context.Context) (b orb.Bound, ok bool, err error)
}

// DataVersioner is implemented by a store that can tell, cheaply, whether
// anything was committed to it since an earlier call, by any process: the
// version it returns then differs. It may differ without a change (a
// write to another table, a vacuum) but never stays the same across one.
// The tile cache asks it before rendering a tile again: a national map's
// tiles cost milliseconds each to render and almost never change from
// one second to the next.
type DataVersioner interface {
	DataVersion(ctx context.Context) (string, error)
}

// TakeUpBand is an area's colour band on the map and on its progress bar,
// from its take-up against the threshold:
//
//	0: under a third of the threshold percent
//	1: from one third
//	2: from two thirds
//	3: the threshold is met (ThresholdMet, so ThresholdUnits counts too)
//
// The PostgreSQL store computes the same in SQL (its tile query); the
// conformance suite checks that they agree.
func TakeUpBand(a Area) int {
	if a.ThresholdMet() {
		return 3
	}
	if a.ThresholdPercent <= 0 || a.Units == 0 {
		return 0
	}
	// pledged/units*100 >= k/3*percent, without division: exact for the
	// integer counts, so the SQL twin gives the same band at the edges.
	p, t := float64(a.PledgedUnits)*300, a.ThresholdPercent*float64(a.Units)
	switch {
	case p >= 2*t:
		return 2
	case p >= t:
		return 1
	}
	return 0
}

// Tile is one encoded vector tile and what HTTP caches need to know.
type Tile struct {
	Data []byte // uncompressed MVT; empty when nothing lies in the tile
	ETag string // strong validator of Data, quoted
	// MaxAge is how long a client may reuse the tile: the progress TTL,
	// since the tile's counters are the same counters; 0 means revalidate.
	MaxAge time.Duration
}

// Tile returns layer's tile z/x/y. A pledge through this Service shows in
// the next request of any tile; other instances' within the progress TTL
// (see ProgressTTL), for which tiles are also kept in memory. Returns
// ENOTFOUND for an unknown layer and EINVALID (field z, x or y) for a tile
// outside the zoom range or the grid of its zoom.
func (s *Service) Tile(ctx context.Context, layer string, z, x, y int) (Tile, error) {
	if layer != TileLayerAreas && layer != TileLayerAddresses {
		return Tile{}, Errorf(ENOTFOUND, "no tile layer %q", layer)
	}
	if z < 0 || z > MaxTileZoom {
		return Tile{}, FieldError("z", "zoom must be 0 to %d", MaxTileZoom)
	}
	n := 1 << z
	if x < 0 || x >= n {
		return Tile{}, FieldError("x", "x must be 0 to %d at zoom %d", n-1, z)
	}
	if y < 0 || y >= n {
		return Tile{}, FieldError("y", "y must be 0 to %d at zoom %d", n-1, z)
	}
	ttl := s.ProgressTTL
	if ttl == 0 {
		ttl = DefaultProgressTTL
	}
	maxAge := max(ttl, 0)
	if layer == TileLayerAddresses && z < AddressTileMinZoom {
		return Tile{Data: []byte{}, ETag: etag(nil), MaxAge: maxAge}, nil
	}
	t := maptile.New(uint32(x), uint32(y), maptile.Zoom(z))
	render := func(ctx context.Context) ([]byte, error) {
		if layer == TileLayerAreas {
			return s.store.AreaTile(ctx, t)
		}
		return s.store.AddressTile(ctx, t)
	}
	if ttl < 0 {
		data, err := render(ctx)
		if err != nil {
			return Tile{}, err
		}
		return Tile{Data: data, ETag: etag(data), MaxAge: 0}, nil
	}
	data, tag, err := s.tiles.get(ctx, tileKey{layer, t}, ttl, render)
	if err != nil {
		return Tile{}, err
	}
	return Tile{Data: data, ETag: tag, MaxAge: maxAge}, nil
}

// PublicAreasBound is the bound of every area on the public map, for its
// first view; ok is false when there is none.
func (s *Service) PublicAreasBound(ctx context.Context) (orb.Bound, bool, error) {
	return s.store.PublicAreasBound(ctx)
}

func etag(data []byte) string {
	h := sha256.Sum256(data)
	return `"` + hex.EncodeToString(h[:12]) + `"`
}

// tileKey names a tile.
type tileKey struct {
	layer string
	tile  maptile.Tile
}

// tileReach is what tile t's render may show: its bound and the buffer
// around it, doubled (the buffer is linear in Mercator, not in latitude).
func tileReach(t maptile.Tile) orb.Bound {
	b := t.Bound()
	dx := (b.Max[0] - b.Min[0]) * 2 * TileBuffer / TileExtent
	dy := (b.Max[1] - b.Min[1]) * 2 * TileBuffer / TileExtent
	return orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
}

// dropArea forgets what is kept of area code, or of every area when code
// is "": its progress, and the tiles that may show it. A write through
// the Service calls it before it returns, so the writer's next request
// sees the change. Only the tiles within the area's bound go: a pledge in
// one village used to drop every tile of the country, and under two
// pledges a second 32 clients sweeping zoom-13 tiles waited for renders
// (p99 41 ms instead of 6 ms at rest).
func (s *Service) dropArea(ctx context.Context, code string) {
	s.progress.drop(code)
	if code == "" {
		s.bounds.clear()
		s.tiles.drop(orb.Bound{}, true)
		return
	}
	b, ok := s.bounds.get(code)
	if !ok {
		a, err := s.store.Area(context.WithoutCancel(ctx), code)
		if err != nil || len(a.Geometry) == 0 {
			s.tiles.drop(orb.Bound{}, true) // unknown: every tile, to be safe
			return
		}
		b = a.Geometry.Bound()
		s.bounds.put(code, b)
	}
	s.tiles.drop(b, false)
}

// boundsCache holds areas' bounds for dropArea; an import clears it, since
// only imports change an area's geometry. The zero value is ready.
type boundsCache struct {
	mu sync.Mutex
	m  map[string]orb.Bound
}

func (c *boundsCache) get(code string) (orb.Bound, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[code]
	return b, ok
}

func (c *boundsCache) put(code string, b orb.Bound) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 100000 {
		c.m = map[string]orb.Bound{} // bounded: start over rather than grow
	}
	c.m[code] = b
}

func (c *boundsCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// maxTileCacheBytes bounds the tiles kept in memory. National low-zoom
// tiles are a few hundred kB; the many high-zoom ones are small.
const maxTileCacheBytes = 64 << 20

// tileCache keeps rendered tiles for the TTL and renders each missing tile
// once however many requests want it at the same moment (a map opening on
// many screens asks for the same low-zoom tiles). A tile asked for in the
// second half of its TTL is served from memory while one render in the
// background refreshes it, so a tile in use is never waited for after its
// first render, and none is served older than the TTL.
//
// With version set (the store's DataVersion), a refresh or an expired tile
// first compares the store's version with the one read before the tile
// was rendered: when they are equal nothing was committed since, and the
// tile is kept as of that comparison instead of rendered again. Under 32
// clients sweeping 256 zoom-13 tiles, rendering each again every second
// had made the p99 32-40 ms (87-165 ms on a cold page cache); keeping
// them, 7-11 ms. The zero value is ready (without versions).
type tileCache struct {
	mu      sync.Mutex
	drops   uint64     // how many drops so far
	recent  []tileDrop // the last maxRecentDrops of them, oldest first
	m       map[tileKey]tileEntry
	bytes   int
	flight  map[tileKey]*tileFlight
	now     func() time.Time // wall clock unless a test sets it
	version func(context.Context) (string, error)

	// The last version read and when: refreshes within tileVersionReuse
	// of it share one query.
	verMu sync.Mutex
	ver   string
	verAt time.Time
}

type tileEntry struct {
	data []byte
	etag string
	at   time.Time // wall clock: the TTL is not a business rule
	ver  string    // the store's version read before rendering; "" unknown
}

// tileVersionReuse is how long one reading of the store's version serves
// every tile that asks: a refresh then keeps a tile as of that reading,
// at most this much older than now.
const tileVersionReuse = 50 * time.Millisecond

// tileDrop is one drop: of the tiles whose reach meets bound, or of all.
type tileDrop struct {
	seq   uint64
	bound orb.Bound
	all   bool
}

// maxRecentDrops is how many drops a render in flight is checked against;
// one that started before more than these is not kept.
const maxRecentDrops = 64

type tileFlight struct {
	seq  uint64 // drops when the render started
	done chan struct{}
	data []byte
	etag string
	err  error
}

// storeVersion reads the store's version, or reuses a reading younger
// than tileVersionReuse (and no older than ttl/4); at is when it was
// read. ok is false when the store has none or it failed: then every
// tile is rendered again, as without versions.
func (c *tileCache) storeVersion(ctx context.Context, ttl time.Duration) (ver string, at time.Time, ok bool) {
	if c.version == nil {
		return "", time.Time{}, false
	}
	c.verMu.Lock()
	defer c.verMu.Unlock()
	now := c.clock()
	if c.ver != "" && now.Sub(c.verAt) < min(tileVersionReuse, ttl/4) {
		return c.ver, c.verAt, true
	}
	v, err := c.version(ctx)
	if err != nil || v == "" {
		c.ver = ""
		return "", time.Time{}, false
	}
	c.ver, c.verAt = v, now
	return v, now, true
}

// keep renews k's entry as of at when it was rendered at version ver and
// the store is still at it; reports whether it did.
func (c *tileCache) keep(k tileKey, ver string, at time.Time) (tileEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || e.ver == "" || e.ver != ver {
		return tileEntry{}, false
	}
	if at.After(e.at) {
		e.at = at
		c.m[k] = e
	}
	return e, true
}

// rerender renders k again unless the store is still at the version it
// was rendered at, in which case the entry is kept.
func (c *tileCache) rerender(ctx context.Context, k tileKey, ttl time.Duration, f *tileFlight, render func(context.Context) ([]byte, error)) {
	ver, at, ok := c.storeVersion(ctx, ttl)
	if ok {
		if e, kept := c.keep(k, ver, at); kept {
			c.settle(k, f, e.data, e.etag)
			return
		}
	}
	data, err := render(ctx)
	c.finish(k, f, data, ver, err)
}

// settle ends flight f with a kept tile.
func (c *tileCache) settle(k tileKey, f *tileFlight, data []byte, tag string) {
	f.data, f.etag = data, tag
	c.mu.Lock()
	delete(c.flight, k)
	c.mu.Unlock()
	close(f.done)
}

// tileRefreshTimeout bounds a background refresh, which no request waits
// for and no request's context cancels.
const tileRefreshTimeout = 30 * time.Second

func (c *tileCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *tileCache) get(ctx context.Context, k tileKey, ttl time.Duration, render func(context.Context) ([]byte, error)) ([]byte, string, error) {
	c.mu.Lock()
	if e, ok := c.m[k]; ok {
		if age := c.clock().Sub(e.at); age <= ttl {
			if _, busy := c.flight[k]; age > ttl/2 && !busy {
				f := c.startLocked(k)
				go func() {
					rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tileRefreshTimeout)
					defer cancel()
					c.rerender(rctx, k, ttl, f, render)
				}()
			}
			c.mu.Unlock()
			return e.data, e.etag, nil
		}
	}
	if f, ok := c.flight[k]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
		if f.err != nil {
			// The request that rendered may have been cancelled: this one
			// tries for itself rather than inherit its error.
			data, err := render(ctx)
			return data, etag(data), err
		}
		return f.data, f.etag, nil
	}
	f := c.startLocked(k)
	c.mu.Unlock()
	c.rerender(ctx, k, ttl, f, render)
	return f.data, f.etag, f.err
}

// startLocked records a render of k in flight; c.mu is held.
func (c *tileCache) startLocked(k tileKey) *tileFlight {
	f := &tileFlight{seq: c.drops, done: make(chan struct{})}
	if c.flight == nil {
		c.flight = map[tileKey]*tileFlight{}
	}
	c.flight[k] = f
	return f
}

// drop forgets the tiles whose reach meets b, or all of them, and marks
// the renders in flight for them as not to be kept (they may have read
// the store before the write that caused the drop).
func (c *tileCache) drop(b orb.Bound, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops++
	if len(c.recent) == maxRecentDrops {
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, tileDrop{seq: c.drops, bound: b, all: all})
	if all {
		c.m, c.bytes = nil, 0
		return
	}
	for k, e := range c.m {
		if tileReach(k.tile).Intersects(b) {
			delete(c.m, k)
			c.bytes -= len(e.data)
		}
	}
}

// droppedSinceLocked reports whether a drop since seq covers k; c.mu is
// held.
func (c *tileCache) droppedSinceLocked(k tileKey, seq uint64) bool {
	n := c.drops - seq
	if n == 0 {
		return false
	}
	if n > uint64(len(c.recent)) {
		return true
	}
	reach := tileReach(k.tile)
	for _, d := range c.recent[uint64(len(c.recent))-n:] {
		if d.all || reach.Intersects(d.bound) {
			return true
		}
	}
	return false
}

// finish keeps a render's outcome, rendered at store version ver (not
// when a drop since the render started covers the tile), and wakes the
// requests waiting for it.
func (c *tileCache) finish(k tileKey, f *tileFlight, data []byte, ver string, err error) {
	f.data, f.err = data, err
	if err == nil {
		f.etag = etag(data)
	}
	c.mu.Lock()
	delete(c.flight, k)
	if err == nil && !c.droppedSinceLocked(k, f.seq) {
		if c.m == nil || c.bytes+len(data) > maxTileCacheBytes {
			c.m, c.bytes = map[tileKey]tileEntry{}, 0 // bounded: start over rather than grow
		}
		if old, ok := c.m[k]; ok {
			c.bytes -= len(old.data)
		}
		c.m[k] = tileEntry{data: data, etag: f.etag, at: c.clock(), ver: ver}
		c.bytes += len(data)
	}
	c.mu.Unlock()
	close(f.done)
}
