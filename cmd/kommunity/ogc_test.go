package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
)

// GDAL's OAPIF driver (what QGIS's OGC API – Features layers are built
// on) reads the real server over both stores: ogrinfo lists both
// collections, and ogr2ogr pages through every feature, small pages for
// the addresses, with the store's counts and values.
func TestOGCWithGDAL(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo", "gdal-bin")
	ogr2ogr := testenv.Tool(t, "ogr2ogr", "gdal-bin")
	cases := []struct {
		name  string
		store func(t *testing.T) ([]string, pledge.Store)
	}{
		{"SQLite", func(t *testing.T) ([]string, pledge.Store) {
			db := filepath.Join(t.TempDir(), "k.db")
			// The test reads the same file as serve (WAL allows both).
			st, err := sqlite.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			return []string{"--db", db}, st
		}},
		{"PostgreSQL", func(t *testing.T) ([]string, pledge.Store) {
			url := pgtest.URL(t)
			st, err := postgres.Open(context.Background(), url, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return []string{"--database-url", url}, st
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, st := tc.store(t)
			defer st.Close()
			base, stop := startServe(t, append([]string{"--demo"}, args...)...)
			stopped := false
			defer func() {
				if !stopped {
					stop()
				}
			}()
			ctx := context.Background()
			areas, err := st.Areas(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			unassigned, err := st.Unassigned(ctx)
			if err != nil {
				t.Fatal(err)
			}
			addresses := unassigned.Addresses
			for _, a := range areas {
				addresses += a.Addresses
			}
			if len(areas) < 3 || addresses < 1000 {
				t.Fatalf("demo store: %d areas, %d addresses", len(areas), addresses)
			}

			out := gdal(t, ogrinfo, "-so", "OAPIF:"+base+"/ogc")
			if !strings.Contains(out, "1: areas (title: Areas) (Multi Polygon)") || !strings.Contains(out, "2: addresses (title: Addresses) (Point)") {
				t.Errorf("ogrinfo lists:\n%s", out)
			}
			out = gdal(t, ogrinfo, "-so", "OAPIF:"+base+"/ogc", "addresses")
			if !strings.Contains(out, "Feature Count: "+strconv.Itoa(addresses)+"\n") {
				t.Errorf("ogrinfo addresses, want Feature Count: %d:\n%s", addresses, out)
			}

			dir := t.TempDir()
			gdal(t, ogr2ogr, "-f", "GeoJSON", filepath.Join(dir, "areas.geojson"), "OAPIF:"+base+"/ogc", "areas")
			const pageSize = 37
			gdal(t, ogr2ogr, "-f", "GeoJSON", filepath.Join(dir, "addresses.geojson"), "OAPIF:"+base+"/ogc", "addresses",
				"-oo", "PAGE_SIZE="+strconv.Itoa(pageSize))

			got := readFeatures(t, filepath.Join(dir, "areas.geojson"), "code", "Polygon", "MultiPolygon")
			if len(got) != len(areas) {
				t.Errorf("ogr2ogr wrote %d areas, the store has %d", len(got), len(areas))
			}
			for _, a := range areas {
				p, ok := got[a.Code]
				if !ok {
					t.Errorf("area %s missing", a.Code)
					continue
				}
				takeUp := math.Round(float64(a.PledgedUnits)/float64(a.Units)*1e4) / 1e4
				deadline, _ := p["deadline"].(string)
				if p["name"] != a.Name || p["addresses"] != float64(a.Addresses) || p["units"] != float64(a.Units) ||
					p["pledged_units"] != float64(a.PledgedUnits) || p["take_up"] != takeUp ||
					p["threshold_percent"] != a.ThresholdPercent || p["threshold_units"] != float64(a.ThresholdUnits) ||
					p["status"] != string(a.Status) || a.Deadline == nil || !sameTime(deadline, *a.Deadline) {
					t.Errorf("area %s: GDAL read %v, store has %+v", a.Code, p, a)
				}
			}

			got = readFeatures(t, filepath.Join(dir, "addresses.geojson"), "address_id", "Point")
			if len(got) != addresses {
				t.Errorf("ogr2ogr wrote %d distinct addresses, the store has %d", len(got), addresses)
			}
			pledged := 0
			for id, p := range got {
				a, err := st.Address(ctx, id)
				if err != nil {
					t.Fatalf("address %s: %v", id, err)
				}
				var area any
				if a.AreaCode != "" {
					area = a.AreaCode
				}
				if p["text"] != a.Text || p["units"] != float64(a.Units) || p["pledged_units"] != float64(a.PledgedUnits) || p["area_code"] != area {
					t.Errorf("address %s: GDAL read %v, store has %+v", id, p, a)
				}
				pledged += a.PledgedUnits
			}
			if pledged == 0 {
				t.Error("no pledged units compared")
			}

			// GDAL followed the next links, a page of pageSize at a time.
			logs := stop()
			stopped = true
			pages := strings.Count(logs, "route=/ogc/collections/:collection/items status=200")
			if want := (addresses + pageSize - 1) / pageSize; pages < want {
				t.Errorf("%d item pages served, want at least %d for %d addresses in pages of %d", pages, want, addresses, pageSize)
			}
			if strings.Contains(logs, "status=4") || strings.Contains(logs, "status=5") {
				t.Errorf("GDAL got an error response:\n%s", logs)
			}
		})
	}
}

// gdal runs a GDAL tool and returns its output; any failure fails the test.
func gdal(t *testing.T, tool string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	// No proxy for loopback, and no user or site configuration.
	cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1", "GDAL_HTTP_TIMEOUT=60", "CPL_DEBUG=OFF")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(tool), strings.Join(args, " "), err, out)
	}
	if strings.Contains(string(out), "ERROR") {
		t.Fatalf("%s %s reported an error:\n%s", filepath.Base(tool), strings.Join(args, " "), out)
	}
	return string(out)
}

// readFeatures reads a GeoJSON file that ogr2ogr wrote and returns each
// feature's properties by the key property, failing on a repeated key or
// an unexpected geometry type.
func readFeatures(t *testing.T, path, key string, geometryTypes ...string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry   struct{ Type string }
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]map[string]any{}
	for _, f := range fc.Features {
		k, _ := f.Properties[key].(string)
		if _, dup := out[k]; dup || k == "" {
			t.Errorf("%s: feature %q twice or without %s", path, k, key)
		}
		ok := false
		for _, g := range geometryTypes {
			ok = ok || f.Geometry.Type == g
		}
		if !ok {
			t.Errorf("%s: feature %s has geometry %q", path, k, f.Geometry.Type)
		}
		out[k] = f.Properties
	}
	return out
}

// sameTime compares GDAL's rendering of a DateTime with the store's time.
func sameTime(s string, want time.Time) bool {
	for _, layout := range []string{time.RFC3339, "2006/01/02 15:04:05-07", "2006-01-02T15:04:05-07:00"} {
		if got, err := time.Parse(layout, s); err == nil {
			return got.Equal(want)
		}
	}
	return false
}
