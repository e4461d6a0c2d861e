package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
	"github.com/paulmach/orb"
)

// ogcServer serves a demo store on a real loopback listener whose address
// is the links' base, as `kommunity serve` wires it.
func ogcServer(t *testing.T, cfg web.Config) (string, *pledge.Service, demo.Municipality) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.ListenAddr = ts.Listener.Addr().String()
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc, m := MustOpenDemoService(t, func() time.Time { return now })
	ts.Config.Handler = web.NewServer(svc, cfg, quietLog())
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL, svc, m
}

type ogcLink struct {
	Href, Rel, Type string
}

type ogcPage struct {
	Type           string `json:"type"`
	TimeStamp      string `json:"timeStamp"`
	NumberMatched  *int   `json:"numberMatched"`
	NumberReturned *int   `json:"numberReturned"`
	Features       []struct {
		Type     string `json:"type"`
		ID       string `json:"id"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Links []ogcLink `json:"links"`
}

func linkOf(links []ogcLink, rel string) (ogcLink, bool) {
	for _, l := range links {
		if l.Rel == rel {
			return l, true
		}
	}
	return ogcLink{}, false
}

// fetch GETs url and decodes JSON into v, checking status and media type.
func fetch(t *testing.T, url string, status int, mediaType string, v any) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v", url, resp.StatusCode, err)
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != mediaType {
		t.Fatalf("GET %s: %d %s, want %d %s: %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), status, mediaType, raw)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return string(raw)
}

func TestOGCLandingConformanceAPI(t *testing.T) {
	base, _, _ := ogcServer(t, web.Config{})
	var landing struct{ Links []ogcLink }
	fetch(t, base+"/ogc", 200, "application/json", &landing)
	fetch(t, base+"/ogc?f=json", 200, "application/json", nil)
	want := map[string]string{"self": "application/json", "service-desc": "application/vnd.oai.openapi+json;version=3.0",
		"conformance": "application/json", "data": "application/json"}
	for rel, media := range want {
		l, ok := linkOf(landing.Links, rel)
		if !ok || l.Type != media || !strings.HasPrefix(l.Href, base+"/ogc") {
			t.Errorf("link %s = %+v, want an absolute %s link under %s/ogc", rel, l, media, base)
			continue
		}
		fetch(t, l.Href, 200, media, nil)
	}
	var conf struct{ ConformsTo []string }
	fetch(t, base+"/ogc/conformance", 200, "application/json", &conf)
	for _, c := range []string{"core", "geojson", "oas30"} {
		if !slices.Contains(conf.ConformsTo, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"+c) {
			t.Errorf("conformsTo %v lacks %s", conf.ConformsTo, c)
		}
	}
	var api struct {
		OpenAPI string
		Servers []struct{ URL string }
		Paths   map[string]any
	}
	fetch(t, base+"/ogc/api", 200, "application/vnd.oai.openapi+json;version=3.0", &api)
	if !strings.HasPrefix(api.OpenAPI, "3.0.") || len(api.Servers) != 1 || api.Servers[0].URL != base+"/ogc" ||
		api.Paths["/collections/{collectionId}/items"] == nil {
		t.Errorf("API definition: openapi %q, servers %+v, %d paths", api.OpenAPI, api.Servers, len(api.Paths))
	}
}

func TestOGCCollectionsExtentFromData(t *testing.T) {
	base, _, m := ogcServer(t, web.Config{})
	// The extents the generator's own geometry has.
	areas := m.Areas[0].Polygon.Bound()
	for _, a := range m.Areas[1:] {
		areas = areas.Union(a.Polygon.Bound())
	}
	addrs := orb.Bound{Min: m.Addresses[0].Point, Max: m.Addresses[0].Point}
	for _, a := range m.Addresses {
		addrs = addrs.Extend(a.Point)
	}
	type collection struct {
		ID, ItemType string
		CRS          []string
		Extent       struct{ Spatial struct{ BBox [][4]float64 } }
		Links        []ogcLink
	}
	var cols struct{ Collections []collection }
	fetch(t, base+"/ogc/collections", 200, "application/json", &cols)
	want := map[string]orb.Bound{"areas": areas, "addresses": addrs}
	if len(cols.Collections) != 2 {
		t.Fatalf("%d collections, want areas and addresses", len(cols.Collections))
	}
	for _, c := range cols.Collections {
		b, ok := want[c.ID]
		wantBox := [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		if !ok || c.ItemType != "feature" || !slices.Equal(c.CRS, []string{"http://www.opengis.net/def/crs/OGC/1.3/CRS84"}) ||
			len(c.Extent.Spatial.BBox) != 1 || c.Extent.Spatial.BBox[0] != wantBox {
			t.Errorf("collection %+v, want extent %v", c, wantBox)
		}
		items, ok := linkOf(c.Links, "items")
		if !ok || items.Type != "application/geo+json" || items.Href != base+"/ogc/collections/"+c.ID+"/items" {
			t.Errorf("%s: items link %+v", c.ID, items)
		}
		var one collection
		fetch(t, base+"/ogc/collections/"+c.ID, 200, "application/json", &one)
		if one.ID != c.ID || one.Extent.Spatial.BBox[0] != wantBox {
			t.Errorf("/collections/%s = %+v", c.ID, one)
		}
	}
}

// pageAll follows next links from first and returns every page.
func pageAll(t *testing.T, first string) []ogcPage {
	t.Helper()
	var pages []ogcPage
	for next := first; next != ""; {
		var p ogcPage
		fetch(t, next, 200, "application/geo+json", &p)
		pages = append(pages, p)
		l, ok := linkOf(p.Links, "next")
		if ok && l.Type != "application/geo+json" {
			t.Errorf("next link type %q", l.Type)
		}
		next = l.Href
		if len(pages) > 1000 {
			t.Fatal("paging does not end")
		}
	}
	return pages
}

func TestOGCItemsPageEveryFeatureOnce(t *testing.T) {
	base, _, m := ogcServer(t, web.Config{})
	units, pledged := map[string]int{}, map[string]int{}
	for _, a := range m.Addresses {
		units[a.ID] += a.Units
	}
	for _, p := range m.Pledges {
		pledged[p.AddressID]++
	}
	cases := []struct {
		collection string
		limit      int
		want       []string // every key, from the generator
		props      []string
	}{
		{"addresses", 37, slices.Sorted(maps.Keys(units)),
			[]string{"address_id", "text", "units", "pledged_units", "area_code"}},
		{"areas", 2, func() []string {
			var codes []string
			for _, a := range m.Areas {
				codes = append(codes, a.Code)
			}
			return slices.Sorted(slices.Values(codes))
		}(), []string{"code", "name", "addresses", "units", "pledged_units", "take_up", "threshold_percent", "threshold_units", "status", "deadline"}},
	}
	for _, tc := range cases {
		t.Run(tc.collection, func(t *testing.T) {
			pages := pageAll(t, base+"/ogc/collections/"+tc.collection+"/items?limit="+strconv.Itoa(tc.limit))
			var ids []string
			for i, p := range pages {
				if p.Type != "FeatureCollection" || p.NumberMatched == nil || *p.NumberMatched != len(tc.want) ||
					p.NumberReturned == nil || *p.NumberReturned != len(p.Features) {
					t.Fatalf("page %d: type %q, matched %v, returned %v of %d features; want matched %d", i, p.Type, p.NumberMatched, p.NumberReturned, len(p.Features), len(tc.want))
				}
				if _, err := time.Parse(time.RFC3339, p.TimeStamp); err != nil {
					t.Errorf("timeStamp %q: %v", p.TimeStamp, err)
				}
				self, ok1 := linkOf(p.Links, "self")
				col, ok2 := linkOf(p.Links, "collection")
				if !ok1 || !ok2 || col.Href != base+"/ogc/collections/"+tc.collection || !strings.HasPrefix(self.Href, base+"/ogc/collections/") {
					t.Errorf("page %d: links %+v", i, p.Links)
				}
				// Every page but the last is full; the last links nowhere.
				if _, more := linkOf(p.Links, "next"); more != (i < len(pages)-1) || (more && len(p.Features) != tc.limit) {
					t.Errorf("page %d of %d: %d features, next %v", i, len(pages), len(p.Features), more)
				}
				for _, f := range p.Features {
					ids = append(ids, f.ID)
					if got := slices.Sorted(maps.Keys(f.Properties)); !slices.Equal(got, slices.Sorted(slices.Values(tc.props))) {
						t.Fatalf("feature %s: properties %v, want exactly %v", f.ID, got, tc.props)
					}
				}
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("%d features paged, want %d, each once in key order", len(ids), len(tc.want))
			}
			if n := (len(tc.want) + tc.limit - 1) / tc.limit; len(pages) != n {
				t.Errorf("%d pages, want %d", len(pages), n)
			}
			if tc.collection != "addresses" {
				return
			}
			for _, p := range pages {
				for _, f := range p.Features {
					id := f.Properties["address_id"]
					if id != f.ID || f.Properties["units"] != float64(units[f.ID]) || f.Properties["pledged_units"] != float64(pledged[f.ID]) || f.Geometry.Type != "Point" {
						t.Errorf("feature %s: %v, want units %d, pledged %d", f.ID, f.Properties, units[f.ID], pledged[f.ID])
					}
				}
			}
		})
	}
}

// No body of the layer carries anything about who pledged.
func TestOGCNoPersonalData(t *testing.T) {
	base, _, m := ogcServer(t, web.Config{})
	var bodies strings.Builder
	for _, col := range []string{"areas", "addresses"} {
		for next := base + "/ogc/collections/" + col + "/items?limit=10000"; next != ""; {
			var p ogcPage
			bodies.WriteString(fetch(t, next, 200, "application/geo+json", &p))
			l, _ := linkOf(p.Links, "next")
			next = l.Href
		}
	}
	all := bodies.String()
	for _, p := range m.Pledges {
		for _, s := range []string{p.Email, p.Name, p.Phone} {
			if s != "" && strings.Contains(all, s) {
				t.Fatalf("the layer shows %q of a pledge", s)
			}
		}
	}
	if len(m.Pledges) == 0 || !strings.Contains(all, `"pledged_units":1`) {
		t.Fatal("the demo has no pledges to hide")
	}
}

func TestOGCItemsBBoxAndLimit(t *testing.T) {
	base, _, m := ogcServer(t, web.Config{})
	items := base + "/ogc/collections/addresses/items"
	b := m.Areas[0].Polygon.Bound()
	ids := map[string]bool{}
	for _, a := range m.Addresses {
		if b.Contains(a.Point) {
			ids[a.ID] = true
		}
	}
	box := strconv.FormatFloat(b.Min[0], 'f', -1, 64) + "," + strconv.FormatFloat(b.Min[1], 'f', -1, 64) + "," +
		strconv.FormatFloat(b.Max[0], 'f', -1, 64) + "," + strconv.FormatFloat(b.Max[1], 'f', -1, 64)
	pages := pageAll(t, items+"?limit=50&bbox="+url.QueryEscape(box))
	n := 0
	for _, p := range pages {
		if *p.NumberMatched != len(ids) {
			t.Errorf("numberMatched %d, want %d in the box", *p.NumberMatched, len(ids))
		}
		for _, f := range p.Features {
			if !ids[f.ID] {
				t.Errorf("%s is not in the box", f.ID)
			}
			n++
		}
	}
	if n != len(ids) || len(pages) < 2 {
		t.Errorf("%d addresses in %d pages, want %d in several pages", n, len(pages), len(ids))
	}

	// Above the maximum is clamped (the demo has fewer addresses than it).
	var p ogcPage
	fetch(t, items+"?limit=20000", 200, "application/geo+json", &p)
	self, _ := linkOf(p.Links, "self")
	if *p.NumberReturned != *p.NumberMatched || !strings.Contains(self.Href, "limit=10000") {
		t.Errorf("limit=20000: returned %d of %d, self %s", *p.NumberReturned, *p.NumberMatched, self.Href)
	}
	// The default page is 100.
	fetch(t, items, 200, "application/geo+json", &p)
	if *p.NumberReturned != 100 {
		t.Errorf("default page: %d features", *p.NumberReturned)
	}

	for name, query := range map[string]string{
		"BBoxThreeNumbers": "bbox=1,2,3", "BBoxSixNumbers": "bbox=1,2,3,4,5,6", "BBoxNotNumbers": "bbox=a,b,c,d",
		"BBoxMinAboveMax": "bbox=11,55,10,56", "BBoxOutOfRange": "bbox=10,55,11,95", "BBoxEmpty": "bbox=",
		"BBoxOtherCRS": "bbox=1,2,3,4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/25832",
		"LimitZero":    "limit=0", "LimitNegative": "limit=-5", "LimitNotNumber": "limit=ten",
		"CursorGarbage": "cursor=%21%21", "FormatXML": "f=xml",
	} {
		t.Run(name, func(t *testing.T) {
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			fetch(t, items+"?"+query, 400, "application/json; charset=utf-8", &e)
			param, _, _ := strings.Cut(strings.SplitN(query, "&", 2)[len(strings.SplitN(query, "&", 2))-1], "=")
			if e.Error.Code != "invalid" || e.Error.Field != param || e.Error.Message == "" {
				t.Errorf("error %+v, want invalid about %s", e.Error, param)
			}
		})
	}
}

func TestOGCItemAndNotFound(t *testing.T) {
	base, svc, m := ogcServer(t, web.Config{})
	id := m.Addresses[0].ID
	var f struct {
		ID         string
		Geometry   struct{ Type string }
		Properties map[string]any
		Links      []ogcLink
	}
	fetch(t, base+"/ogc/collections/addresses/items/"+id, 200, "application/geo+json", &f)
	want, err := svc.Address(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != id || f.Geometry.Type != "Point" || f.Properties["text"] != want.Text || f.Properties["units"] != float64(want.Units) {
		t.Errorf("feature %+v, store has %+v", f, want)
	}
	if l, ok := linkOf(f.Links, "self"); !ok || l.Href != base+"/ogc/collections/addresses/items/"+id {
		t.Errorf("self link %+v", l)
	}
	code := m.Areas[0].Code
	var af struct {
		ID         string
		Geometry   struct{ Type string }
		Properties map[string]any
	}
	fetch(t, base+"/ogc/collections/areas/items/"+code, 200, "application/geo+json", &af)
	if af.ID != code || af.Geometry.Type != "MultiPolygon" || af.Properties["code"] != code || af.Properties["address_id"] != nil {
		t.Errorf("area feature %+v", af)
	}
	for _, path := range []string{"/ogc/collections/addresses/items/no-such-id", "/ogc/collections/areas/items/NOPE",
		"/ogc/collections/pledges", "/ogc/collections/pledges/items", "/ogc/nothing"} {
		var e struct{ Error struct{ Code string } }
		fetch(t, base+path, 404, "application/json; charset=utf-8", &e)
		if e.Error.Code != "not_found" {
			t.Errorf("%s: %+v", path, e)
		}
	}
}

// Links come from PublicURL, never from the request's Host header.
func TestOGCLinksIgnoreHostHeader(t *testing.T) {
	for _, tc := range []struct{ publicURL, want string }{
		{"https://kommunity.example/k/", "https://kommunity.example/k/ogc"},
		{"", ""}, // the listener's address, filled in below
	} {
		base, _, _ := ogcServer(t, web.Config{PublicURL: tc.publicURL})
		want := tc.want
		if want == "" {
			want = base + "/ogc"
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/ogc/collections/areas/items?limit=1", nil)
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p ogcPage
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if len(p.Links) != 3 {
			t.Fatalf("links %+v, want self, next, collection", p.Links)
		}
		for _, l := range p.Links {
			if !strings.HasPrefix(l.Href, want+"/collections/areas") || strings.Contains(l.Href, "evil") {
				t.Errorf("PublicURL %q: link %s, want it under %s", tc.publicURL, l.Href, want)
			}
		}
	}
}
