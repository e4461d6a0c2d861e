package storetest

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
)

// The tile cases decode each store's tiles with orb's MVT decoder and
// compare them with what the store holds, through pledge.Service.

// tileFeatures returns the features of layer in tile t by their key
// property (code or address_id), in tile coordinates.
func tileFeatures(t *testing.T, svc *pledge.Service, layer string, tile maptile.Tile) map[string]*geojson.Feature {
	t.Helper()
	got, err := svc.Tile(context.Background(), layer, int(tile.Z), int(tile.X), int(tile.Y))
	if err != nil {
		t.Fatalf("tile %s %v: %v", layer, tile, err)
	}
	out := map[string]*geojson.Feature{}
	if len(got.Data) == 0 {
		return out
	}
	layers, err := mvt.Unmarshal(got.Data)
	if err != nil {
		t.Fatalf("tile %s %v does not decode: %v", layer, tile, err)
	}
	if len(layers) != 1 || layers[0].Name != layer || layers[0].Extent != pledge.TileExtent {
		t.Fatalf("tile %s %v: want one layer %q of extent %d, got %d layers", layer, tile, layer, pledge.TileExtent, len(layers))
	}
	key := "code"
	if layer == pledge.TileLayerAddresses {
		key = "address_id"
	}
	for _, f := range layers[0].Features {
		k, _ := f.Properties[key].(string)
		if _, dup := out[k]; dup {
			t.Errorf("tile %s %v: %s %q twice", layer, tile, key, k)
		}
		out[k] = f
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// The neighbouring tiles at zoom 8 on either side of lon 9.84375, which
// cuts area A (lon 9-11) in two: V (lon 9.25-9.75) lies only in the west
// one, B (lon 11-13) reaches into the east one.
var (
	tileWest = maptile.At(orb.Point{9.5, 54.5}, 8)
	tileEast = maptile.New(tileWest.X+1, tileWest.Y, 8)
)

func testTileAreas(t *testing.T, svc *pledge.Service) {
	ctx := cliContext() // area.edit
	mustImport(t, svc)
	if _, _, err := svc.CreatePledge(ctx, req("a2", 0), ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tile maptile.Tile
		want []string
	}{
		{tileWest, []string{"A", "V"}},
		{tileEast, []string{"A", "B"}},
		{maptile.New(0, 0, 0), []string{"A", "B", "V"}},
		{maptile.At(orb.Point{-60, -30}, 6), nil}, // far from every area
	} {
		fs := tileFeatures(t, svc, pledge.TileLayerAreas, c.tile)
		if got := keys(fs); !slices.Equal(got, c.want) {
			t.Errorf("tile %v: areas %v, want %v", c.tile, got, c.want)
		}
		for code, f := range fs {
			checkWinding(t, c.tile, code, f.Geometry)
			a := areaByCode(t, svc, code)
			want := map[string]any{
				"code": a.Code, "name": a.Name, "status": string(a.Status), "take_up_band": float64(pledge.TakeUpBand(a)),
				"units": float64(a.Units), "pledged_units": float64(a.PledgedUnits), "threshold_percent": a.ThresholdPercent,
			}
			if len(f.Properties) != len(want) {
				t.Errorf("tile %v area %s: properties %v, want exactly %v", c.tile, code, f.Properties, want)
			}
			for k, v := range want {
				if f.Properties[k] != v {
					t.Errorf("tile %v area %s: %s = %v (%T), want %v", c.tile, code, k, f.Properties[k], f.Properties[k], v)
				}
			}
		}
		if a, ok := fs["A"]; ok && a.Properties["pledged_units"] != float64(1) {
			t.Errorf("tile %v: A pledged_units = %v, want 1", c.tile, a.Properties["pledged_units"])
		}
	}
	// A draft is not public: it leaves the tiles and their bound.
	draft := pledge.StatusDraft
	if _, err := svc.UpdateAreaSettings(ctx, "B", pledge.AreaSettings{Status: &draft}); err != nil {
		t.Fatal(err)
	}
	if got := keys(tileFeatures(t, svc, pledge.TileLayerAreas, tileEast)); !slices.Equal(got, []string{"A"}) {
		t.Errorf("east tile with B a draft: %v, want [A]", got)
	}
	b, ok, err := svc.PublicAreasBound(ctx)
	if want := (orb.Bound{Min: orb.Point{9, 54}, Max: orb.Point{11, 56}}); err != nil || !ok || !boundNear(b, want) {
		t.Errorf("PublicAreasBound = %v, %v, %v; want %v", b, ok, err, want)
	}
}

// checkWinding: the MVT specification tells polygons from holes by their
// winding in tile coordinates: exterior rings have a positive signed area
// (orb's CCW, as it decodes), holes negative. Wrongly wound, B's second
// part would decode as a hole in its first.
func checkWinding(t *testing.T, tile maptile.Tile, code string, g orb.Geometry) {
	t.Helper()
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	default:
		t.Errorf("tile %v area %s: geometry %T, want polygons", tile, code, g)
	}
	for i, p := range polys {
		for j, r := range p {
			if want := map[bool]orb.Orientation{true: orb.CCW, false: orb.CW}[j == 0]; r.Orientation() != want {
				t.Errorf("tile %v area %s: polygon %d ring %d wound %v, want %v", tile, code, i, j, r.Orientation(), want)
			}
		}
	}
	if code == "B" && tile.Z == 0 && len(polys) != 2 {
		t.Errorf("tile %v: B has %d polygons, want its 2 parts", tile, len(polys))
	}
}

func boundNear(a, b orb.Bound) bool {
	for i := range 2 {
		if math.Abs(a.Min[i]-b.Min[i]) > 1e-6 || math.Abs(a.Max[i]-b.Max[i]) > 1e-6 {
			return false
		}
	}
	return true
}

// testTileClipping: area A crosses the edge between the two tiles, so it
// is in both, each part clipped to the tile plus the buffer, and each part
// covers what A covers of that buffered tile.
func testTileClipping(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	var areaA orb.MultiPolygon
	for _, f := range fixtureAreas() {
		if f.Code == "A" {
			areaA = f.Polygon
		}
	}
	const lo, hi = -pledge.TileBuffer, pledge.TileExtent + pledge.TileBuffer
	box := orb.Bound{Min: orb.Point{lo, lo}, Max: orb.Point{hi, hi}}
	for _, c := range []struct {
		name string
		tile maptile.Tile
		// which sides of the buffered tile A's part reaches (it runs on
		// beyond them): west/east, and north/south on both.
		west, east bool
	}{
		{"West", tileWest, false, true},
		{"East", tileEast, true, false},
	} {
		f := tileFeatures(t, svc, pledge.TileLayerAreas, c.tile)["A"]
		if f == nil {
			t.Fatalf("%s tile %v: no area A", c.name, c.tile)
		}
		b := f.Geometry.Bound()
		if b.Min[0] < lo-1 || b.Min[1] < lo-1 || b.Max[0] > hi+1 || b.Max[1] > hi+1 {
			t.Errorf("%s tile: A's part %v reaches beyond the buffer [%d, %d]", c.name, b, lo, hi)
		}
		near := func(v, want float64) bool { return math.Abs(v-want) <= 1 }
		if !near(b.Min[1], lo) || !near(b.Max[1], hi) {
			t.Errorf("%s tile: A's part spans y %v-%v, want clipped at the buffer %d-%d", c.name, b.Min[1], b.Max[1], lo, hi)
		}
		if c.west != near(b.Min[0], lo) || c.east != near(b.Max[0], hi) {
			t.Errorf("%s tile: A's part spans x %v-%v; clipped west %v, east %v wanted", c.name, b.Min[0], b.Max[0], c.west, c.east)
		}
		// What A covers of the buffered tile, from its own rings.
		l := &mvt.Layer{Extent: pledge.TileExtent, Features: []*geojson.Feature{geojson.NewFeature(areaA.Clone())}}
		l.ProjectToTile(c.tile)
		want := planar.Area(clip.Geometry(box, l.Features[0].Geometry))
		if got := planar.Area(f.Geometry); math.Abs(got-want) > 0.01*want {
			t.Errorf("%s tile: A's part covers %.0f square tile units, want %.0f (±1 %%)", c.name, got, want)
		}
	}
}

func testTileAddresses(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	if _, _, err := svc.CreatePledge(ctx, req("a2", 2), ""); err != nil {
		t.Fatal(err)
	}
	at := func(id string, z maptile.Zoom) maptile.Tile {
		a, err := storeOf(svc).Address(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return maptile.At(a.Point, z)
	}
	for _, id := range []string{"a2", "v1", "b2"} {
		a, err := storeOf(svc).Address(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range []maptile.Zoom{pledge.AddressTileMinZoom, 16, pledge.MaxTileZoom} {
			tile := maptile.At(a.Point, z)
			fs := tileFeatures(t, svc, pledge.TileLayerAddresses, tile)
			if got := keys(fs); !slices.Equal(got, []string{id}) {
				t.Errorf("z%d tile of %s: addresses %v, want [%s]", z, id, got, id)
				continue
			}
			f := fs[id]
			want := map[string]any{"address_id": id, "units": float64(a.Units), "pledged_units": float64(a.PledgedUnits),
				"unpledged_units": float64(a.Units - a.PledgedUnits)}
			if len(f.Properties) != len(want) {
				t.Errorf("z%d %s: properties %v, want exactly %v (counts, never who)", z, id, f.Properties, want)
			}
			for k, v := range want {
				if f.Properties[k] != v {
					t.Errorf("z%d %s: %s = %v, want %v", z, id, k, f.Properties[k], v)
				}
			}
			l := &mvt.Layer{Extent: pledge.TileExtent, Features: []*geojson.Feature{f}}
			l.ProjectToWGS84(tile)
			p, ok := f.Geometry.(orb.Point)
			// One tile unit at zoom 13 is about 2.4 m; at 22 it is far less.
			if tol := 360.0 / float64(uint64(1)<<z) / pledge.TileExtent * 1.5; !ok || math.Abs(p[0]-a.Point[0]) > tol || math.Abs(p[1]-a.Point[1]) > tol {
				t.Errorf("z%d %s: point %v, want %v", z, id, f.Geometry, a.Point)
			}
		}
	}
	if f := tileFeatures(t, svc, pledge.TileLayerAddresses, at("a2", pledge.AddressTileMinZoom))["a2"]; f == nil || f.Properties["pledged_units"] != float64(1) {
		t.Errorf("a2 after a pledge: %v, want pledged_units 1", f)
	}
	// Below the first address zoom the tile is empty; so are tiles of
	// addresses outside every area (in A's hole, at sea).
	for _, c := range []struct {
		id string
		z  maptile.Zoom
	}{{"a2", pledge.AddressTileMinZoom - 1}, {"a2", 0}, {"hole", 15}, {"sea", 15}} {
		tile := at(c.id, c.z)
		got, err := svc.Tile(ctx, pledge.TileLayerAddresses, int(tile.Z), int(tile.X), int(tile.Y))
		if err != nil || len(got.Data) != 0 {
			t.Errorf("z%d tile of %s: %d bytes, %v; want an empty tile", c.z, c.id, len(got.Data), err)
		}
	}
}

// testTileBands: the store's take_up_band is pledge.TakeUpBand, at the
// edges of the bands too. A has 5 units; one is pledged (20 %).
func testTileBands(t *testing.T, svc *pledge.Service) {
	ctx := cliContext() // area.edit
	mustImport(t, svc)
	if _, _, err := svc.CreatePledge(ctx, req("a1", 0), ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		percent float64
		units   int
		want    int
	}{
		{100, 0, 0}, {61, 0, 0}, {60, 0, 1}, {31, 0, 1}, {30, 0, 2}, {20.5, 0, 2}, {20, 0, 3}, {20, 2, 2}, {0, 1, 3}, {0, 2, 0},
	} {
		pct, units := c.percent, c.units
		a, err := svc.UpdateAreaSettings(ctx, "A", pledge.AreaSettings{ThresholdPercent: &pct, ThresholdUnits: &units})
		if err != nil {
			t.Fatal(err)
		}
		if got := pledge.TakeUpBand(a); got != c.want {
			t.Errorf("threshold %g%%/%d units: TakeUpBand = %d, want %d", pct, units, got, c.want)
		}
		f := tileFeatures(t, svc, pledge.TileLayerAreas, tileEast)["A"]
		if f == nil || f.Properties["take_up_band"] != float64(c.want) {
			t.Errorf("threshold %g%%/%d units: tile take_up_band = %v, want %d", pct, units, f, c.want)
		}
	}
}

// testTileFollowsPledges: this instance's pledges show in the next tile of
// either layer (the cache drops only the tiles in reach of the area);
// another instance's (a second Service on the same store) within its TTL.
// The store's DataVersion, which lets a cache keep tiles of an unchanged
// store past the TTL, moves with the pledge.
func testTileFollowsPledges(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	versioner, ok := storeOf(svc).(pledge.DataVersioner)
	if !ok {
		t.Fatal("the store has no DataVersion")
	}
	version := func() string {
		t.Helper()
		v, err := versioner.DataVersion(ctx)
		if err != nil || v == "" {
			t.Fatalf("DataVersion: %q, %v", v, err)
		}
		return v
	}
	v0 := version()
	other := withTTL(newService(storeOf(svc), nil), 300*time.Millisecond)
	pledged := func(s *pledge.Service) (float64, string) {
		got, err := s.Tile(ctx, pledge.TileLayerAreas, int(tileEast.Z), int(tileEast.X), int(tileEast.Y))
		if err != nil {
			t.Fatal(err)
		}
		layers, err := mvt.Unmarshal(got.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range layers[0].Features {
			if f.Properties["code"] == "A" {
				n, _ := f.Properties["pledged_units"].(float64)
				return n, got.ETag
			}
		}
		t.Fatal("no area A in the tile")
		return 0, ""
	}
	a2, err := storeOf(svc).Address(ctx, "a2")
	if err != nil {
		t.Fatal(err)
	}
	a2Tile := maptile.At(a2.Point, pledge.AddressTileMinZoom)
	addressPledged := func() any {
		t.Helper()
		f := tileFeatures(t, svc, pledge.TileLayerAddresses, a2Tile)["a2"]
		if f == nil {
			t.Fatal("no a2 in its address tile")
		}
		return f.Properties["pledged_units"]
	}
	a0 := addressPledged() // rendered and kept
	n0, tag0 := pledged(svc)
	cachedAt := time.Now()
	if n, _ := pledged(other); n != n0 {
		t.Fatalf("other instance: %v pledged, want %v", n, n0)
	}
	if _, _, err := svc.CreatePledge(ctx, req("a2", 0), ""); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v0 {
		t.Errorf("DataVersion %q did not move with a pledge", v)
	}
	n1, tag1 := pledged(svc)
	if n1 != n0+1 || tag1 == tag0 {
		t.Errorf("after a pledge through this Service: pledged %v (ETag %s), want %v and a new ETag (was %s)", n1, tag1, n0+1, tag0)
	}
	if got := addressPledged(); got != a0.(float64)+1 {
		t.Errorf("a2's address tile after its pledge: pledged_units %v, want %v", got, a0.(float64)+1)
	}
	if n, _ := pledged(other); time.Since(cachedAt) < 250*time.Millisecond && n != n0 {
		t.Errorf("other instance within its TTL: %v pledged, want its copy (%v)", n, n0)
	}
	time.Sleep(time.Until(cachedAt.Add(350 * time.Millisecond)))
	if n, _ := pledged(other); n != n1 {
		t.Errorf("other instance after its TTL: %v pledged, want %v", n, n1)
	}
}

// testTileFollowsGeometry: a re-import that moves an area's boundary shows
// in the next tile at every zoom, though the store may keep polygons
// simplified per zoom: A shrinks to the west of the line between tileWest
// and tileEast, so it leaves tileEast, and at zoom 0 its outline is the
// new square.
func testTileFollowsGeometry(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	zoom0 := maptile.New(0, 0, 0)
	for _, tile := range []maptile.Tile{tileWest, tileEast, zoom0} {
		tileFeatures(t, svc, pledge.TileLayerAreas, tile) // rendered and kept
	}
	areas := fixtureAreas()
	areas[0].Polygon = orb.MultiPolygon{{square(9.4, 55, 0.3)}}
	if _, err := svc.ImportAreas(context.Background(), areas, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	if got := keys(tileFeatures(t, svc, pledge.TileLayerAreas, tileEast)); !slices.Equal(got, []string{"B"}) {
		t.Errorf("east tile after A moved west: %v, want [B]", got)
	}
	a := tileFeatures(t, svc, pledge.TileLayerAreas, zoom0)["A"]
	if a == nil {
		t.Fatal("A left the zoom-0 tile")
	}
	a.Geometry = mvtToLonLat(a.Geometry, zoom0)
	if b, want := a.Geometry.Bound(), (orb.Bound{Min: orb.Point{9.1, 54.7}, Max: orb.Point{9.7, 55.3}}); !boundWithin(b, want, 0.1) {
		t.Errorf("A at zoom 0 spans %v; want about %v (the new square)", b, want)
	}
}

// mvtToLonLat projects tile coordinates of tile t back to lon/lat.
func mvtToLonLat(g orb.Geometry, t maptile.Tile) orb.Geometry {
	l := &mvt.Layer{Extent: pledge.TileExtent, Features: []*geojson.Feature{geojson.NewFeature(orb.Clone(g))}}
	l.ProjectToWGS84(t)
	return l.Features[0].Geometry
}

func boundWithin(a, b orb.Bound, tol float64) bool {
	for i := range 2 {
		if math.Abs(a.Min[i]-b.Min[i]) > tol || math.Abs(a.Max[i]-b.Max[i]) > tol {
			return false
		}
	}
	return true
}
