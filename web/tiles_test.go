package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// decodeTile decodes a 200 tile response into its features by key.
func decodeTile(t *testing.T, w *httptest.ResponseRecorder, layer, key string) map[string]map[string]any {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	layers, err := mvt.Unmarshal(w.Body.Bytes())
	if err != nil {
		t.Fatalf("tile does not decode: %v", err)
	}
	if len(layers) != 1 || layers[0].Name != layer {
		t.Fatalf("want one layer %q, got %d", layer, len(layers))
	}
	out := map[string]map[string]any{}
	for _, f := range layers[0].Features {
		out[f.Properties[key].(string)] = f.Properties
	}
	return out
}

func tilePath(layer string, t maptile.Tile) string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, t.Z, t.X, t.Y)
}

func TestTiles(t *testing.T) {
	srv, svc, m := newServer(t, web.Config{PledgeRateLimit: -1})
	c := newClient(t, srv, "192.0.2.10")
	ctx := context.Background()
	areas, _, err := svc.Areas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The deepest tile that holds the whole demo: at zoom 0 its areas are
	// smaller than one tile unit, and such specks are left out.
	bound, _, err := svc.PublicAreasBound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var whole maptile.Tile
	for z := maptile.Zoom(14); z > 0; z-- {
		if whole = maptile.At(bound.Min, z); whole == maptile.At(bound.Max, z) {
			break
		}
	}
	wholePath := tilePath("areas", whole)

	t.Run("AreasInOneTile", func(t *testing.T) {
		w := c.get(wholePath)
		if ct := w.Header().Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
			t.Errorf("Content-Type %q", ct)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=1" {
			t.Errorf("Cache-Control %q, want the progress TTL (1 s)", cc)
		}
		got := decodeTile(t, w, "areas", "code")
		public := 0
		for _, a := range areas {
			if a.Status == pledge.StatusDraft {
				continue
			}
			public++
			p := got[a.Code]
			if p == nil {
				t.Errorf("area %s missing from tile %v", a.Code, whole)
				continue
			}
			if p["name"] != a.Name || p["status"] != string(a.Status) || p["units"] != float64(a.Units) ||
				p["pledged_units"] != float64(a.PledgedUnits) || p["threshold_percent"] != a.ThresholdPercent ||
				p["take_up_band"] != float64(pledge.TakeUpBand(a)) {
				t.Errorf("area %s: properties %v, want %+v", a.Code, p, a)
			}
		}
		if len(got) != public {
			t.Errorf("%d areas in the tile, want the %d public ones", len(got), public)
		}
	})

	t.Run("NotModified", func(t *testing.T) {
		w := c.get(wholePath)
		tag := w.Header().Get("ETag")
		if !strings.HasPrefix(tag, `"`) {
			t.Fatalf("ETag %q", tag)
		}
		for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			req := httptest.NewRequest(http.MethodGet, wholePath, nil)
			req.Header.Set("If-None-Match", inm)
			w := c.do(req)
			if w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != tag || w.Header().Get("Cache-Control") == "" {
				t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q, Cache-Control %q; want 304 with the validators", inm, w.Code, w.Body.Len(), w.Header().Get("ETag"), w.Header().Get("Cache-Control"))
			}
		}
		req := httptest.NewRequest(http.MethodGet, wholePath, nil)
		req.Header.Set("If-None-Match", `"stale"`)
		if w := c.do(req); w.Code != http.StatusOK {
			t.Errorf("stale If-None-Match: %d, want 200", w.Code)
		}
	})

	t.Run("EmptyTiles", func(t *testing.T) {
		a := m.Addresses[0]
		for _, path := range []string{
			tilePath("addresses", maptile.At(a.Point, pledge.AddressTileMinZoom-1)), // points only from zoom 13
			"/tiles/areas/10/0/0.mvt", // the Arctic, far from every area
		} {
			w := c.get(path)
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 || w.Header().Get("Cache-Control") == "" || w.Header().Get("ETag") == "" {
				t.Errorf("%s: %d, %d bytes, Cache-Control %q, ETag %q; want 204 with caching headers", path, w.Code, w.Body.Len(), w.Header().Get("Cache-Control"), w.Header().Get("ETag"))
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for path, want := range map[string]int{
			"/tiles/roads/1/0/0.mvt":           http.StatusNotFound,
			"/tiles/areas/1/0/0.png":           http.StatusNotFound,
			"/tiles/areas/1/0/0":               http.StatusNotFound,
			"/tiles/areas/23/0/0.mvt":          http.StatusBadRequest,
			"/tiles/areas/-1/0/0.mvt":          http.StatusBadRequest,
			"/tiles/areas/1/2/0.mvt":           http.StatusBadRequest,
			"/tiles/areas/1/0/2.mvt":           http.StatusBadRequest,
			"/tiles/areas/x/0/0.mvt":           http.StatusBadRequest,
			"/tiles/areas/3/1.5/0.mvt":         http.StatusBadRequest,
			"/tiles/areas/99999999999/0/0.mvt": http.StatusBadRequest,
			"/tiles/addresses/0/0/1.mvt":       http.StatusBadRequest,
		} {
			w := c.get(path)
			if w.Code != want || !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("%s: %d %s, want %d with an error body", path, w.Code, w.Body, want)
			}
		}
	})

	t.Run("PledgeShowsAtOnce", func(t *testing.T) {
		addr := addressWith(t, svc, m, 2, 0)
		areaTile := tilePath("areas", maptile.At(addr.Point, 14))
		addrTile := tilePath("addresses", maptile.At(addr.Point, 15))
		before := c.get(areaTile)
		tag := before.Header().Get("ETag")
		pa := decodeTile(t, before, "areas", "code")[addr.AreaCode]
		pd := decodeTile(t, c.get(addrTile), "addresses", "address_id")[addr.ID]
		if pa == nil || pd == nil {
			t.Fatalf("area %s or address %s missing from their tiles", addr.AreaCode, addr.ID)
		}
		body := fmt.Sprintf(`{"address_id":%q,"name":"Kirsten Ærbø","email":"kirsten@example.dk","phone":"12345678","consent":true}`, addr.ID)
		if w := c.postJSON("/api/pledges", body); w.Code != http.StatusCreated {
			t.Fatalf("pledge: %d %s", w.Code, w.Body)
		}
		req := httptest.NewRequest(http.MethodGet, areaTile, nil)
		req.Header.Set("If-None-Match", tag)
		after := c.do(req)
		if after.Code != http.StatusOK || after.Header().Get("ETag") == tag {
			t.Fatalf("area tile after a pledge: %d, ETag %q (was %q); want 200 and a new ETag", after.Code, after.Header().Get("ETag"), tag)
		}
		if got := decodeTile(t, after, "areas", "code")[addr.AreaCode]["pledged_units"]; got != pa["pledged_units"].(float64)+1 {
			t.Errorf("area pledged_units %v, want %v", got, pa["pledged_units"].(float64)+1)
		}
		w := c.get(addrTile)
		got := decodeTile(t, w, "addresses", "address_id")[addr.ID]
		if got["pledged_units"] != float64(1) || got["unpledged_units"] != float64(addr.Units-1) || got["units"] != float64(addr.Units) {
			t.Errorf("address after a pledge: %v, want 1 of %d pledged", got, addr.Units)
		}
		// Counts, never who: no contact detail anywhere in the tile.
		for _, s := range []string{"Kirsten", "example.dk", "12345678"} {
			if strings.Contains(w.Body.String(), s) {
				t.Errorf("address tile holds %q", s)
			}
		}
		if len(got) != 4 {
			t.Errorf("address properties %v, want address_id, units, pledged_units, unpledged_units", got)
		}
	})

	t.Run("CacheOffRevalidates", func(t *testing.T) {
		svc.ProgressTTL = -1
		defer func() { svc.ProgressTTL = 0 }()
		if cc := c.get(wholePath).Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("with the progress copy off: Cache-Control %q, want no-cache", cc)
		}
	})
}

// TestHomeMapSwitch: the page asks for vector tiles only above
// VectorTilesAbove addresses, and gives their bound for the first view.
func TestHomeMapSwitch(t *testing.T) {
	for _, c := range []struct {
		name  string
		above int
		tiles bool
	}{
		{"SmallUsesGeoJSON", 0, false}, // the default, 5,000, is above the 900 demo addresses
		{"LargeUsesTiles", 100, true},
		{"Never", -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _, _ := newServer(t, web.Config{VectorTilesAbove: c.above})
			body := newClient(t, srv, "192.0.2.11").get("/").Body.String()
			if got := strings.Contains(body, `data-vector-tiles="true"`); got != c.tiles {
				t.Errorf("vector tiles %v, want %v", got, c.tiles)
			}
			if got := strings.Contains(body, "protomaps-leaflet.js"); got != c.tiles {
				t.Errorf("protomaps-leaflet loaded %v, want %v", got, c.tiles)
			}
			if c.tiles && !strings.Contains(body, `data-bounds="`) {
				t.Error("no data-bounds for the first view")
			}
		})
	}
}
