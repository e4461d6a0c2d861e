package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// twoProcesses opens two stores on one new file: a server's and a CLI's
// beside it.
func twoProcesses(t *testing.T) (serve, cli *sqlite.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k.db")
	for _, st := range []**sqlite.Store{&serve, &cli} {
		var err error
		if *st, err = sqlite.Open(context.Background(), path); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*st).Close() })
	}
	return serve, cli
}

// The store keeps area polygons for tiles in memory; a re-import by
// another process on the same file (kommunity import beside serve) moves
// the geometry's revision, so the serving store's next tile draws the new
// boundary.
func TestTileShapesFollowOtherProcess(t *testing.T) {
	ctx := context.Background()
	serve, cli := twoProcesses(t)
	square := func(x, y, h float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x - h, y - h}, {x + h, y - h}, {x + h, y + h}, {x - h, y + h}, {x - h, y - h}}}}
	}
	importArea := func(mp orb.MultiPolygon) {
		t.Helper()
		if _, err := pledge.NewService(cli).ImportAreas(ctx, []geo.AreaFeature{{Code: "A", Name: "Åby", Polygon: mp}}, pledge.AreaImport{}); err != nil {
			t.Fatal(err)
		}
	}
	west := func() float64 {
		t.Helper()
		tile := maptile.New(0, 0, 0)
		data, err := serve.AreaTile(ctx, tile)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := mvt.Unmarshal(data)
		if err != nil || len(layers) != 1 || len(layers[0].Features) != 1 {
			t.Fatalf("tile: %d layers (%v)", len(layers), err)
		}
		layers.ProjectToWGS84(tile)
		return layers[0].Features[0].Geometry.Bound().Min[0]
	}
	importArea(square(10, 55, 1))
	if w := west(); w < 8.5 || w > 9.5 {
		t.Fatalf("first import: west edge %g; want about 9", w)
	}
	importArea(square(20, 55, 1))
	if w := west(); w < 18.5 || w > 19.5 {
		t.Errorf("after the other process's re-import: west edge %g; want about 19", w)
	}
}

// DataVersion moves with another process's commit (a second Store on the
// file) and stays put while nothing is written, reads included.
func TestDataVersionFollowsOtherProcess(t *testing.T) {
	ctx := context.Background()
	serve, cli := twoProcesses(t)
	version := func() string {
		t.Helper()
		v, err := serve.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	if _, err := serve.Areas(ctx, false); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0 {
		t.Errorf("a read moved DataVersion %s -> %s", v0, v)
	}
	square := orb.MultiPolygon{{{{9, 55}, {10, 55}, {10, 56}, {9, 56}, {9, 55}}}}
	if _, err := pledge.NewService(cli).ImportAreas(ctx, []geo.AreaFeature{{Code: "A", Name: "Åby", Polygon: square}}, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	v1 := version()
	if v1 == v0 {
		t.Errorf("the other process's import left DataVersion at %s", v0)
	}
	if _, err := pledge.NewService(serve).ImportAreas(ctx, []geo.AreaFeature{{Code: "B", Name: "Bøby", Polygon: square}}, pledge.AreaImport{}); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v1 {
		t.Errorf("this process's own import left DataVersion at %s", v1)
	}
}
