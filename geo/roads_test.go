package geo_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
)

// roadFromMetres builds a lon/lat road from metre offsets (see fromMetres).
func roadFromMetres(tb testing.TB, xy ...[2]float64) orb.LineString {
	tb.Helper()
	return orb.LineString(fromMetres(tb, xy...))
}

func TestRoadRouteHandComputed(t *testing.T) {
	// A T junction: a 1000 m road with a vertex at 500, and a 600 m side road.
	tee := []orb.LineString{
		roadFromMetres(t, [2]float64{0, 0}, [2]float64{500, 0}, [2]float64{1000, 0}),
		roadFromMetres(t, [2]float64{500, 0}, [2]float64{500, 600}),
	}
	far := roadFromMetres(t, [2]float64{2000, 0}, [2]float64{2000, 500}) // touches nothing
	for _, tc := range []struct {
		name        string
		roads       []orb.LineString
		pop         [2]float64
		addrs       [][2]float64
		trench      float64
		drops       []float64
		unconnected int
	}{
		// POP link 10, road 0..800.
		{"OneRoad", tee[:1], [2]float64{0, -10}, [][2]float64{{200, 30}, {500, -20}, {800, 5}},
			10 + 800, []float64{30, 20, 5}, 0},
		// Road 0..900 and up the side road to 400, plus the POP link.
		{"Tee", tee, [2]float64{0, -10}, [][2]float64{{900, 10}, {510, 400}, {490, 300}},
			10 + 900 + 400, []float64{10, 10, 10}, 0},
		// Addresses at one point share one drop; one on the road has none;
		// two addresses on the same road point need no road between them.
		{"SharedPoints", tee, [2]float64{0, 0}, [][2]float64{{300, 40}, {300, 40}, {700, 0}, {650, 10}, {650, -10}},
			700, []float64{40, 0, 0, 10, 10}, 0},
		// Snapped to the junction node: the side road is not needed.
		{"AtJunction", tee, [2]float64{0, -10}, [][2]float64{{500, -30}, {400, 5}},
			10 + 500, []float64{30, 5}, 0},
		// The far road is joined by the shortest straight link between
		// snapped points: (900,0)-(2000,250).
		{"Unconnected", append(slices.Clone(tee), far), [2]float64{0, -10}, [][2]float64{{900, 10}, {510, 400}, {490, 300}, {2010, 250}},
			10 + 900 + 400 + math.Sqrt(1100*1100+250*250), []float64{10, 10, 10, 10}, 1},
		{"NoAddresses", tee, [2]float64{0, -10}, nil, 0, []float64{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rn := geo.NewRoadNetwork(tc.roads)
			pop := fromMetres(t, tc.pop)[0]
			addrs := fromMetres(t, tc.addrs...)
			est, err := rn.Route(pop, addrs, geo.RouteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkEstimate(t, est, geo.MethodRoad, tc.trench, tc.drops)
			if est.Unconnected != tc.unconnected {
				t.Errorf("Unconnected = %d, want %d", est.Unconnected, tc.unconnected)
			}
			if len(addrs) > 0 {
				checkRouteGeometry(t, est, pop, addrs, 1e-6)
			}
		})
	}
}

// checkRouteGeometry asserts that the trench and drop lines join the POP
// and every address, and that the trench lines measure TrenchM.
func checkRouteGeometry(t *testing.T, est geo.RouteEstimate, pop orb.Point, addrs []orb.Point, relTol float64) {
	t.Helper()
	id := map[orb.Point]int{}
	var parent []int
	find := func(p orb.Point) int {
		i, ok := id[p]
		if !ok {
			i = len(parent)
			id[p] = i
			parent = append(parent, i)
		}
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	join := func(ls orb.LineString) {
		for i := 1; i < len(ls); i++ {
			parent[find(ls[i])] = find(ls[0])
		}
	}
	var length float64
	for _, ls := range est.Route {
		join(ls)
		m := toMetres(t, ls...)
		for i := 1; i < len(m); i++ {
			length += math.Hypot(m[i][0]-m[i-1][0], m[i][1]-m[i-1][1])
		}
	}
	for _, d := range est.Drops {
		if d != nil {
			join(d)
		}
	}
	root := find(pop)
	for i, a := range addrs {
		if find(a) != root {
			t.Fatalf("address %d %v is not joined to the POP", i, a)
		}
	}
	if math.Abs(length-est.TrenchM) > relTol*max(1, est.TrenchM) {
		t.Errorf("trench lines measure %.6f m, TrenchM %.6f m", length, est.TrenchM)
	}
}

// TestRoadRouteGrid compares road routes over a street grid with what can
// be computed independently: each drop is the distance to the nearest grid
// line, and road trench plus drops is never shorter than the straight EMST.
func TestRoadRouteGrid(t *testing.T) {
	const step, size = 200.0, 2000.0
	var roads []orb.LineString
	for k := 0.0; k <= size; k += step {
		var h, v [][2]float64
		for j := 0.0; j <= size; j += step {
			h = append(h, [2]float64{j, k})
			v = append(v, [2]float64{k, j})
		}
		roads = append(roads, roadFromMetres(t, h...), roadFromMetres(t, v...))
	}
	rn := geo.NewRoadNetwork(roads)
	if want := 2 * (size/step + 1) * size; !within(rn.LengthM(), want, 1e-6) {
		t.Errorf("LengthM = %.6f, want %.0f", rn.LengthM(), want)
	}
	if got, want := rn.NodeCount(), 11*11; got != want {
		t.Errorf("NodeCount = %d, want %d", got, want)
	}
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("Seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 5))
			xy := make([][2]float64, 1+r.IntN(400))
			for i := range xy {
				xy[i] = [2]float64{r.Float64() * size, r.Float64() * size}
			}
			pts := fromMetres(t, xy...)
			pop, addrs := pts[0], pts[1:]
			est, err := rn.Route(pop, addrs, geo.RouteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range xy[1:] {
				dx := math.Abs(p[0] - step*math.Round(p[0]/step))
				dy := math.Abs(p[1] - step*math.Round(p[1]/step))
				if want := min(dx, dy); !within(est.DropM[i], want, 1e-6) {
					t.Fatalf("DropM[%d] = %.6f, want %.6f", i, est.DropM[i], want)
				}
			}
			if est.Unconnected != 0 {
				t.Errorf("Unconnected = %d on a connected grid", est.Unconnected)
			}
			checkRouteGeometry(t, est, pop, addrs, 1e-6)
			straight, err := geo.StraightRoute(pop, addrs, geo.RouteOptions{Detour: 1})
			if err != nil {
				t.Fatal(err)
			}
			road, emst := est.TrenchM+est.DropTotalM, straight.TrenchM+straight.DropTotalM
			if road < emst {
				t.Errorf("road trench+drops %.1f m < straight EMST %.1f m", road, emst)
			}
			if est.TrenchM > rn.LengthM() {
				t.Errorf("trench %.1f m longer than all roads (%.1f m)", est.TrenchM, rn.LengthM())
			}
		})
	}
}

func TestRoadRouteConcurrent(t *testing.T) {
	var roads []orb.LineString
	for k := 0.0; k <= 1000; k += 100 {
		roads = append(roads, roadFromMetres(t, [2]float64{0, k}, [2]float64{1000, k}), roadFromMetres(t, [2]float64{k, 0}, [2]float64{k, 1000}))
	}
	rn := geo.NewRoadNetwork(roads)
	r := rand.New(rand.NewPCG(1, 1))
	xy := make([][2]float64, 200)
	for i := range xy {
		xy[i] = [2]float64{r.Float64() * 1000, r.Float64() * 1000}
	}
	pts := fromMetres(t, xy...)
	want, err := rn.Route(pts[0], pts[1:], geo.RouteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := rn.Route(pts[0], pts[1:], geo.RouteOptions{})
			if err == nil && (got.TrenchM != want.TrenchM || !slices.Equal(got.DropM, want.DropM)) {
				err = fmt.Errorf("concurrent route differs: trench %g, want %g", got.TrenchM, want.TrenchM)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestRoadRouteErrors(t *testing.T) {
	rn := geo.NewRoadNetwork([]orb.LineString{roadFromMetres(t, [2]float64{0, 0}, [2]float64{100, 0})})
	pop := fromMetres(t, [2]float64{0, 0})[0]
	if _, err := rn.Route(pop, []orb.Point{{10.6, math.NaN()}}, geo.RouteOptions{}); err == nil ||
		!strings.Contains(err.Error(), "road route: address 0 (0-based): coordinate (10.6, NaN) is not a finite number") {
		t.Errorf("NaN address: %v", err)
	}
	empty := geo.NewRoadNetwork(nil)
	if _, err := empty.Route(pop, []orb.Point{pop}, geo.RouteOptions{}); err == nil || !strings.Contains(err.Error(), "road network is empty") {
		t.Errorf("empty network: %v", err)
	}
}

func TestReadRoads(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		in := `{"type":"FeatureCollection","name":"x","features":[
			{"type":"Feature","properties":{"a":1},"geometry":{"type":"LineString","coordinates":[[10.5,55.8],[10.6,55.9,12.5]]}},
			{"type":"Feature","properties":null,"geometry":null},
			{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[10,55],[11,56]],[[9,54],[9.5,54.5],[9.6,54.6]]]}}]}`
		got, err := geo.ReadRoads(strings.NewReader(in), "roads.geojson")
		if err != nil {
			t.Fatal(err)
		}
		want := []orb.LineString{
			{{10.5, 55.8}, {10.6, 55.9}},
			{{10, 55}, {11, 56}},
			{{9, 54}, {9.5, 54.5}, {9.6, 54.6}},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	// A DAWA access address published with both coordinates:
	// E 728838.86 N 6166977.63 (EPSG:25832) = 12.6321654583299 E 55.5948574162612 N.
	for _, crs := range []string{
		`{"type":"name","properties":{"name":"EPSG:25832"}}`,
		`{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25832"}}`,
		`{"type":"EPSG","properties":{"code":25832}}`,
	} {
		t.Run("CRS", func(t *testing.T) {
			// crs after features: the member may come anywhere in the object.
			in := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString",
				"coordinates":[[728838.86,6166977.63,-999],[728938.86,6166977.63,-999]]}}],"crs":` + crs + `}`
			got, err := geo.ReadRoads(strings.NewReader(in), "vej.json")
			if err != nil {
				t.Fatal(err)
			}
			if p := got[0][0]; !within(p[0], 12.6321654583299, 1e-6) || !within(p[1], 55.5948574162612, 1e-6) {
				t.Errorf("first position %v, want 12.6321654583299 55.5948574162612", p)
			}
		})
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"ErrFeature", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10,55],[11,56]]}}`,
			`roads.geojson: GeoJSON type "Feature", want FeatureCollection`},
		{"ErrArray", `[1,2]`, "roads.geojson: not a GeoJSON FeatureCollection: the file is not a JSON object"},
		{"ErrNoType", `{"features":[]}`, `roads.geojson: not a GeoJSON FeatureCollection: no "type" member`},
		{"ErrPoint", `{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10,55],[11,56]]}},
			{"type":"Feature","geometry":{"type":"Point","coordinates":[10,55]}}]}`,
			"roads.geojson: feature 2: geometry type Point, want LineString or MultiLineString"},
		{"ErrOnePosition", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10,55]]}}]}`,
			"roads.geojson: feature 1: line has 1 positions, want at least 2"},
		{"ErrShortPosition", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[10,55],[11,56]],[[10,55],[11]]]}}]}`,
			"roads.geojson: feature 1: part 2: position 2 has 1 numbers, want at least 2"},
		{"ErrCoordinatesType", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[10,55]}}]}`,
			"roads.geojson: feature 1: LineString coordinates are not an array of positions"},
		{"ErrNotFeature", `{"type":"FeatureCollection","features":[{"type":"Point","coordinates":[10,55]}]}`,
			`roads.geojson: feature 1: type "Point", want Feature`},
		{"ErrProjectedWithoutCRS", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[728838.86,6166977.63],[728938.86,6166977.63]]}}]}`,
			"roads.geojson: feature 1: position 1: longitude/latitude"},
		{"ErrUnknownCRS", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:9999"}},"features":[]}`,
			"roads.geojson: crs member:"},
		{"ErrTruncated", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineStr`,
			"roads.geojson: feature 1: file ends too early"},
		{"ErrSyntax", `{"type":"FeatureCollection","features":[{"type":"Feature",]}`,
			"roads.geojson: feature 1: not valid JSON"},
		{"ErrNaN", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[10,55],[NaN,56]]}}]}`,
			"roads.geojson: feature 1: not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := geo.ReadRoads(strings.NewReader(tc.in), "roads.geojson")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !geo.IsInputError(err) {
				t.Errorf("%v is not an input error", err)
			}
		})
	}
}

func readRoadsFile(tb testing.TB, rel string) []orb.LineString {
	tb.Helper()
	path := shareddata.Path(tb, rel)
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	lines, err := geo.ReadRoads(f, path)
	if err != nil {
		tb.Fatal(err)
	}
	return lines
}

// Tranebjerg, the island's main town, near its middle.
var samsoePOP = orb.Point{10.597, 55.830}

func TestRoadRouteSamsoe(t *testing.T) {
	lines := readRoadsFile(t, "samsoe_osm/derived/roads.geojson")
	if len(lines) != 1935 { // SOURCE.txt: 1,935 highway ways
		t.Errorf("%d lines, want 1935", len(lines))
	}
	rn := geo.NewRoadNetwork(lines)
	if got, want := rn.LengthM()/1000, 514.6; math.Abs(got-want) > 0.01*want {
		t.Errorf("road length %.1f km, SOURCE.txt says %.1f km", got, want)
	}
	addrs := readLonLatCSV(t, shareddata.Path(t, "samsoe_osm/derived/addresses.csv"))
	if len(addrs) != 4596 {
		t.Fatalf("%d addresses, want 4596", len(addrs))
	}
	est, err := rn.Route(samsoePOP, addrs, geo.RouteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	straight, err := geo.StraightRoute(samsoePOP, addrs, geo.RouteOptions{Detour: 1})
	if err != nil {
		t.Fatal(err)
	}
	emst := straight.TrenchM + straight.DropTotalM
	t.Logf("roads %.1f km in %d nodes, %d edges; road trench %.1f km + drops %.1f km, %d unconnected; straight EMST %.1f km (trench %.1f + drops %.1f)",
		rn.LengthM()/1000, rn.NodeCount(), rn.EdgeCount(), est.TrenchM/1000, est.DropTotalM/1000, est.Unconnected,
		emst/1000, straight.TrenchM/1000, straight.DropTotalM/1000)
	checkRealRoute(t, est, addrs, emst)
	// 8 addresses share a coordinate with another (SOURCE.txt); only those
	// may have no drop of their own.
	zero := 0
	for _, d := range est.DropM {
		if d == 0 {
			zero++
		}
	}
	if zero > 8 {
		t.Errorf("%d addresses without a drop, at most 8 expected", zero)
	}
	if med := medianOf(est.DropM); med >= 100 {
		t.Errorf("median drop %.1f m, want < 100 m", med)
	}
	if est.Unconnected > len(addrs)/20 {
		t.Errorf("%d of %d addresses not connected by road to the POP", est.Unconnected, len(addrs))
	}
	if est.TrenchM > rn.LengthM() {
		t.Errorf("trench %.1f km exceeds the whole network", est.TrenchM/1000)
	}
	checkRouteGeometry(t, est, samsoePOP, addrs, 1e-6)

	// The straight estimate over real points matches the naive Prim's.
	_, prim := geo.PrimMST(projectUTM(t, append([]orb.Point{samsoePOP}, addrs...)))
	if math.Abs(emst-prim) > 1e-6*prim {
		t.Errorf("straight EMST %.3f m, Prim %.3f m", emst, prim)
	}
}

func TestRoadRouteDAWA(t *testing.T) {
	lines := readRoadsFile(t, "dawa_testdata/VejmidtTest.json")
	if len(lines) != 5684 { // SOURCE.txt: 5,684 road-centreline segments
		t.Errorf("%d lines, want 5684", len(lines))
	}
	rn := geo.NewRoadNetwork(lines)
	if got, want := rn.LengthM()/1000, 482.0; math.Abs(got-want) > 0.01*want {
		t.Errorf("road length %.1f km, SOURCE.txt says %.0f km", got, want)
	}
	addrs := readLonLatCSV(t, shareddata.Path(t, "dawa_testdata/derived/access_addresses_with_units.csv"))
	if len(addrs) != 1320 {
		t.Fatalf("%d addresses, want 1320", len(addrs))
	}
	pop := orb.Point{10.3883, 55.3959} // Odense
	est, err := rn.Route(pop, addrs, geo.RouteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	straight, err := geo.StraightRoute(pop, addrs, geo.RouteOptions{Detour: 1})
	if err != nil {
		t.Fatal(err)
	}
	emst := straight.TrenchM + straight.DropTotalM
	t.Logf("roads %.1f km in %d nodes, %d edges; road trench %.1f km + drops %.1f km, %d unconnected; straight EMST %.1f km",
		rn.LengthM()/1000, rn.NodeCount(), rn.EdgeCount(), est.TrenchM/1000, est.DropTotalM/1000, est.Unconnected, emst/1000)
	checkRealRoute(t, est, addrs, emst)
	// The addresses lie in 16 municipalities and the roads cover some of
	// them, so several road components must be joined by straight links.
	if est.Unconnected == 0 || est.Unconnected == len(addrs) {
		t.Errorf("Unconnected = %d of %d", est.Unconnected, len(addrs))
	}
	for i, d := range est.DropM {
		if d == 0 {
			t.Errorf("address %d has no drop; SOURCE.txt says no two share a coordinate", i)
		}
	}
	checkRouteGeometry(t, est, pop, addrs, 1e-6)
}

func checkRealRoute(t *testing.T, est geo.RouteEstimate, addrs []orb.Point, emst float64) {
	t.Helper()
	if len(est.DropM) != len(addrs) {
		t.Fatalf("%d drops for %d addresses", len(est.DropM), len(addrs))
	}
	for i, d := range est.DropM {
		if d < 0 || math.IsNaN(d) || math.IsInf(d, 0) {
			t.Fatalf("DropM[%d] = %g", i, d)
		}
	}
	if road := est.TrenchM + est.DropTotalM; road < emst {
		t.Errorf("road trench+drops %.1f km < straight EMST %.1f km", road/1000, emst/1000)
	}
	if est.TrenchM < emst {
		t.Errorf("road trench %.1f km < straight EMST %.1f km", est.TrenchM/1000, emst/1000)
	}
	if road := est.TrenchM + est.DropTotalM; road > 2*emst {
		t.Errorf("road trench+drops %.1f km is more than twice the straight EMST %.1f km", road/1000, emst/1000)
	}
	t.Logf("median drop %.1f m", medianOf(est.DropM))
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// projectUTM projects lon/lat points into the UTM zone of their first point.
func projectUTM(tb testing.TB, pts []orb.Point) []orb.Point {
	tb.Helper()
	c := geo.UTMFor(pts[0])
	out := make([]orb.Point, len(pts))
	for i, p := range pts {
		x, y, err := c.FromWGS84(p[0], p[1])
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = orb.Point{x, y}
	}
	return out
}
