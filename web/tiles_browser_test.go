package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// TestBrowserVectorTiles: on an installation above the default switch
// (5,000 addresses) the home page draws the areas from vector tiles, with
// no base map and without WebGL (chromium runs with the GPU off), never
// downloads the whole GeoJSON layer, and a click selects the area under it
// from the tile's data.
func TestBrowserVectorTiles(t *testing.T) {
	chromePath(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kommunity.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := pledge.NewService(st)
	m := demo.Generate(demo.Config{Seed: 3, Areas: 12, Addresses: 8000})
	m.Roads = nil
	deadline := func(i int) time.Time { return time.Now().UTC().AddDate(0, 0, 30*(i+1)) }
	if err := demo.Seed(ctx, svc, m, deadline); err != nil {
		t.Fatal(err)
	}
	var tileRequests, geojsonRequests atomic.Int64
	h := web.NewServer(svc, web.Config{PledgeRateLimit: -1, TileURL: ""}, quietLog())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/tiles/areas/"):
			tileRequests.Add(1)
		case r.URL.Path == "/api/areas.geojson":
			geojsonRequests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	b := newBrowser(t, srv.URL, 1280, 900)
	b.open("/")
	b.do("wait for the area tiles", chromedp.WaitReady(chromedp.CSS(`#map[data-loaded="true"]`)))
	if got := b.eval(`document.querySelector("#map").getAttribute("data-layer")`); got != "tiles" {
		t.Fatalf("map layer %q, want tiles", got)
	}
	if n := b.eval(`String(document.querySelectorAll("#map canvas.leaflet-tile").length)`); n == "0" {
		t.Error("no tile canvas on the map")
	}
	if n := tileRequests.Load(); n == 0 {
		t.Error("the browser asked for no area tiles")
	}
	if n := geojsonRequests.Load(); n != 0 {
		t.Errorf("the browser downloaded the GeoJSON layer %d times, want never", n)
	}
	b.screenshot("tiles")
	// The map opens on the bound of the areas, which tile the generated
	// municipality: its centre lies in one of them.
	b.do("click the map centre", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		r, err := chromedp.Evaluate[[]float64](`(() => { const m = document.querySelector("#map"); m.scrollIntoView({block: "center"});
			const r = m.getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2]; })()`)(ctx, tg)
		if err != nil {
			return err
		}
		_, err = chromedp.MouseClickXY(r[0], r[1])(ctx, tg)
		return err
	}), chromedp.WaitVisible(chromedp.CSS("#selected-area")))
	code := b.eval(`document.querySelector("#map").getAttribute("data-selected")`)
	a, err := svc.Area(ctx, code)
	if err != nil {
		t.Fatalf("selected area %q: %v", code, err)
	}
	if got := b.text("#selected-area"); !strings.HasPrefix(got, a.Name+":") {
		t.Errorf("selected area reads %q, want %s's name first", got, a.Name)
	}
	if n := b.eval(`String(document.querySelectorAll("#area-` + code + `.selected").length)`); n != "1" {
		t.Errorf("area %s is not marked in the list", code)
	}
	b.screenshot("tiles-selected")
}
