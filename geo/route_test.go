package geo_test

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/kommunity/kommunity/geo"
)

// Hand-computed cases are laid out in metres of UTM zone 32N (EPSG:32632)
// around Samsø and converted to lon/lat; StraightRoute projects them back
// into the same zone, so the expected lengths are exact up to rounding.
var (
	utmOriginE, utmOriginN = 600000.0, 6190000.0
)

func routeTestCRS(tb testing.TB) *geo.CRS {
	tb.Helper()
	c, err := geo.CRSFromEPSG(32632)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// fromMetres converts metre offsets from the origin to lon/lat points.
func fromMetres(tb testing.TB, xy ...[2]float64) []orb.Point {
	tb.Helper()
	c := routeTestCRS(tb)
	out := make([]orb.Point, len(xy))
	for i, p := range xy {
		lon, lat, err := c.ToWGS84(utmOriginE+p[0], utmOriginN+p[1])
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = orb.Point{lon, lat}
	}
	return out
}

// toMetres converts lon/lat points back to metre offsets from the origin.
func toMetres(tb testing.TB, pts ...orb.Point) []orb.Point {
	tb.Helper()
	c := routeTestCRS(tb)
	out := make([]orb.Point, len(pts))
	for i, p := range pts {
		x, y, err := c.FromWGS84(p[0], p[1])
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = orb.Point{x - utmOriginE, y - utmOriginN}
	}
	return out
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func checkEstimate(t *testing.T, est geo.RouteEstimate, method string, trench float64, drops []float64) {
	t.Helper()
	const tol = 1e-6 // metres
	if est.Method != method {
		t.Errorf("Method = %q, want %q", est.Method, method)
	}
	if !within(est.TrenchM, trench, tol) {
		t.Errorf("TrenchM = %.9f, want %.9f", est.TrenchM, trench)
	}
	if len(est.DropM) != len(drops) || len(est.Drops) != len(drops) {
		t.Fatalf("%d drops and %d drop lines for %d addresses", len(est.DropM), len(est.Drops), len(drops))
	}
	var total float64
	for i, want := range drops {
		total += want
		if !within(est.DropM[i], want, tol) {
			t.Errorf("DropM[%d] = %.9f, want %.9f", i, est.DropM[i], want)
		}
		if (est.Drops[i] == nil) != (est.DropM[i] == 0) {
			t.Errorf("Drops[%d] = %v for a drop of %g m", i, est.Drops[i], est.DropM[i])
		}
	}
	if !within(est.DropTotalM, total, tol) {
		t.Errorf("DropTotalM = %.9f, want %.9f", est.DropTotalM, total)
	}
}

func TestStraightRouteHandComputed(t *testing.T) {
	s2 := math.Sqrt2
	for _, tc := range []struct {
		name   string
		pop    [2]float64
		addrs  [][2]float64
		detour float64
		trench float64
		drops  []float64
	}{
		// Four spokes of 50√2 m (shorter than the 100 m sides): all drops.
		{"SquareAroundPOP", [2]float64{50, 50}, [][2]float64{{0, 0}, {100, 0}, {100, 100}, {0, 100}}, 0,
			0, []float64{1.25 * 50 * s2, 1.25 * 50 * s2, 1.25 * 50 * s2, 1.25 * 50 * s2}},
		// Chain POP-100-250-300: the far end is the only leaf.
		{"Collinear", [2]float64{0, 0}, [][2]float64{{300, 0}, {100, 0}, {250, 0}}, 0,
			1.25 * 250, []float64{1.25 * 50, 0, 0}},
		{"CollinearNoDetour", [2]float64{0, 0}, [][2]float64{{300, 0}, {100, 0}, {250, 0}}, 1,
			250, []float64{50, 0, 0}},
		// Two addresses at one point share one drop, charged to the first.
		{"DuplicateLeaf", [2]float64{0, 0}, [][2]float64{{0, 40}, {0, 40}, {30, 0}}, 0,
			0, []float64{50, 0, 37.5}},
		{"DuplicateOnTheWay", [2]float64{0, 0}, [][2]float64{{100, 0}, {100, 0}, {100, 60}}, 0,
			125, []float64{0, 0, 75}},
		// POP-(0,100)-(0,200) trunk with three leaves off (0,200).
		{"TShape", [2]float64{0, 0}, [][2]float64{{0, 100}, {0, 200}, {-80, 200}, {90, 200}, {0, 290}}, 0,
			250, []float64{0, 0, 100, 112.5, 112.5}},
		{"TShapeDetour1.5", [2]float64{0, 0}, [][2]float64{{0, 100}, {0, 200}, {-80, 200}, {90, 200}, {0, 290}}, 1.5,
			300, []float64{0, 0, 120, 135, 135}},
		// The POP is never a drop: a lone address gets the whole edge.
		{"OneAddress", [2]float64{0, 0}, [][2]float64{{30, 40}}, 0, 0, []float64{62.5}},
		{"AddressAtPOP", [2]float64{0, 0}, [][2]float64{{0, 0}, {0, 10}}, 0, 0, []float64{0, 12.5}},
		{"NoAddresses", [2]float64{0, 0}, nil, 0, 0, []float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pop := fromMetres(t, tc.pop)[0]
			est, err := geo.StraightRoute(pop, fromMetres(t, tc.addrs...), geo.RouteOptions{Detour: tc.detour})
			if err != nil {
				t.Fatal(err)
			}
			checkEstimate(t, est, geo.MethodStraight, tc.trench, tc.drops)
			// The trench geometry measures TrenchM/detour.
			var geom float64
			for _, ls := range est.Route {
				m := toMetres(t, ls...)
				for i := 1; i < len(m); i++ {
					geom += math.Hypot(m[i][0]-m[i-1][0], m[i][1]-m[i-1][1])
				}
			}
			d := tc.detour
			if d == 0 {
				d = geo.DefaultDetour
			}
			if !within(geom*d, tc.trench, 1e-6) {
				t.Errorf("trench geometry %.6f m × %g, want %.6f", geom, d, tc.trench)
			}
		})
	}
}

func TestStraightRouteErrors(t *testing.T) {
	pop := orb.Point{10.6, 55.8}
	ok := []orb.Point{{10.61, 55.81}}
	for _, tc := range []struct {
		name  string
		pop   orb.Point
		addrs []orb.Point
		opt   geo.RouteOptions
		want  string
	}{
		{"ErrNaNPOP", orb.Point{math.NaN(), 55.8}, ok, geo.RouteOptions{}, "POP: coordinate (NaN, 55.8) is not a finite number"},
		{"ErrInfAddress", pop, []orb.Point{{10.6, 55.8}, {math.Inf(1), 55.8}}, geo.RouteOptions{}, "address 1 (0-based)"},
		{"ErrLatitude", pop, []orb.Point{{10.6, 91}}, geo.RouteOptions{}, "not a longitude/latitude"},
		{"ErrProjected", pop, []orb.Point{{600000, 6190000}}, geo.RouteOptions{}, "not a longitude/latitude"},
		{"ErrDetourBelow1", pop, ok, geo.RouteOptions{Detour: 0.9}, "detour factor 0.9: want a number of at least 1"},
		{"ErrDetourNegative", pop, ok, geo.RouteOptions{Detour: -1}, "detour factor -1"},
		{"ErrDetourNaN", pop, ok, geo.RouteOptions{Detour: math.NaN()}, "detour factor NaN"},
		{"ErrDetourInf", pop, ok, geo.RouteOptions{Detour: math.Inf(1)}, "detour factor +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := geo.StraightRoute(tc.pop, tc.addrs, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRouteEstimateGeoJSON(t *testing.T) {
	pop := fromMetres(t, [2]float64{0, 0})[0]
	addrs := fromMetres(t, [2]float64{0, 100}, [2]float64{0, 200}, [2]float64{-80, 100}, [2]float64{0, 100})
	est, err := geo.StraightRoute(pop, addrs, geo.RouteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := est.GeoJSON()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	if len(fc.Features) != 3 { // trench + drops of addresses 1 and 2
		t.Fatalf("%d features, want 3: %s", len(fc.Features), b)
	}
	tr := fc.Features[0]
	if tr.Properties["kind"] != "trench" || tr.Properties["method"] != "straight" || tr.Properties["trench_m"] != 125.0 {
		t.Errorf("trench properties %v", tr.Properties)
	}
	if mls, ok := tr.Geometry.(orb.MultiLineString); !ok || len(mls) != 1 {
		t.Errorf("trench geometry %#v, want a MultiLineString of one edge", tr.Geometry)
	}
	var got []float64
	for _, f := range fc.Features[1:] {
		if f.Properties["kind"] != "drop" {
			t.Errorf("feature kind %v, want drop", f.Properties["kind"])
		}
		got = append(got, f.Properties["address"].(float64), f.Properties["drop_m"].(float64))
	}
	if want := []float64{1, 125, 2, 100}; !slices.Equal(got, want) {
		t.Errorf("drop (address, drop_m) = %v, want %v", got, want)
	}
}

func TestStraightRouteMatchesPrim(t *testing.T) {
	// Trench plus drops without detour is the EMST length, which must equal
	// the naive Prim's over the same projected points.
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 99))
		var xy [][2]float64
		for range 300 + r.IntN(700) {
			xy = append(xy, [2]float64{r.Float64() * 8000, r.Float64() * 8000})
		}
		pts := fromMetres(t, xy...)
		est, err := geo.StraightRoute(pts[0], pts[1:], geo.RouteOptions{Detour: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, want := geo.PrimMST(toMetres(t, pts...))
		if got := est.TrenchM + est.DropTotalM; math.Abs(got-want) > 1e-6*want {
			t.Errorf("seed %d: trench+drops %.6f m, Prim %.6f m", seed, got, want)
		}
		for i, d := range est.DropM {
			if d < 0 || math.IsNaN(d) {
				t.Fatalf("seed %d: DropM[%d] = %g", seed, i, d)
			}
		}
	}
}

func TestEMSTRandomProperty(t *testing.T) {
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 3))
		n := 1 + r.IntN(3000)
		pts := make([]orb.Point, n)
		for i := range pts {
			pts[i] = orb.Point{r.Float64() * 20000, r.Float64() * 20000}
			if i > 0 && r.IntN(10) == 0 {
				pts[i] = pts[r.IntN(i)] // duplicates, as in address data
			}
		}
		edges, length := geo.EMST(pts)
		if len(edges) != n-1 {
			t.Fatalf("seed %d: %d edges for %d points", seed, len(edges), n)
		}
		// Connected: a walk from point 0 reaches all.
		adj := make([][]int, n)
		for _, e := range edges {
			adj[e[0]] = append(adj[e[0]], e[1])
			adj[e[1]] = append(adj[e[1]], e[0])
		}
		seen := make([]bool, n)
		stack := []int{0}
		seen[0] = true
		reached := 1
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, w := range adj[v] {
				if !seen[w] {
					seen[w] = true
					reached++
					stack = append(stack, w)
				}
			}
		}
		if reached != n {
			t.Fatalf("seed %d: tree reaches %d of %d points", seed, reached, n)
		}
		if _, want := geo.PrimMST(pts); math.Abs(length-want) > 1e-6*want {
			t.Errorf("seed %d: EMST %.6f, Prim %.6f", seed, length, want)
		}
	}
}

// readLonLatCSV reads the lon/lat of every row of a CSV file with "lat"
// and "lon" columns.
func readLonLatCSV(tb testing.TB, path string) []orb.Point {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	lat, lon := slices.Index(rows[0], "lat"), slices.Index(rows[0], "lon")
	if lat < 0 || lon < 0 {
		tb.Fatalf("%s: no lat/lon columns in %v", path, rows[0])
	}
	pts := make([]orb.Point, 0, len(rows)-1)
	for _, row := range rows[1:] {
		y, err1 := strconv.ParseFloat(row[lat], 64)
		x, err2 := strconv.ParseFloat(row[lon], 64)
		if err1 != nil || err2 != nil {
			tb.Fatalf("%s: bad row %v", path, row)
		}
		pts = append(pts, orb.Point{x, y})
	}
	return pts
}
