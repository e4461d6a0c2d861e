package demo_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
)

func csvBytes(tb testing.TB, cfg demo.Config) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := demo.WriteAddressesCSV(&b, cfg); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func areasJSON(tb testing.TB, areas []geo.AreaFeature) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := demo.WriteAreasGeoJSON(&b, areas); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func roadsJSON(tb testing.TB, roads []orb.LineString) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := demo.WriteRoadsGeoJSON(&b, roads); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestDefaults(t *testing.T) {
	m := demo.Generate(demo.Config{})
	if len(m.Areas) != demo.DefaultAreas || len(m.Addresses) != demo.DefaultAddresses {
		t.Fatalf("got %d areas, %d addresses; want %d, %d", len(m.Areas), len(m.Addresses), demo.DefaultAreas, demo.DefaultAddresses)
	}
	if m.Name == "" || len(m.Roads) == 0 || len(m.Pledges) == 0 {
		t.Fatalf("name %q, %d roads, %d pledges", m.Name, len(m.Roads), len(m.Pledges))
	}
	if got := demo.Stragglers(demo.Config{}); got != 3 {
		t.Errorf("Stragglers(defaults) = %d, want 3", got)
	}
	if got := demo.Stragglers(demo.Config{Addresses: 1_000_000}); got != 1000 {
		t.Errorf("Stragglers(1M) = %d, want 1000", got)
	}
	if got := len(demo.Generate(demo.Config{Addresses: -1}).Addresses); got != 0 {
		t.Errorf("Addresses -1 gave %d addresses", got)
	}
	if got := len(demo.Generate(demo.Config{PledgeShare: -1}).Pledges); got != 0 {
		t.Errorf("PledgeShare -1 gave %d pledges", got)
	}
}

func TestDeterminism(t *testing.T) {
	cfg := demo.Config{Seed: 42, Areas: 9, Addresses: 5000}
	t.Run("SameSeed", func(t *testing.T) {
		a, b := demo.Generate(cfg), demo.Generate(cfg)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("Generate differs between runs")
		}
		if !bytes.Equal(csvBytes(t, cfg), csvBytes(t, cfg)) {
			t.Error("CSV differs between runs")
		}
		if !bytes.Equal(areasJSON(t, a.Areas), areasJSON(t, demo.GenerateAreas(cfg))) {
			t.Error("areas GeoJSON of Generate and GenerateAreas differ")
		}
		if !bytes.Equal(roadsJSON(t, a.Roads), roadsJSON(t, b.Roads)) {
			t.Error("roads GeoJSON differs between runs")
		}
	})
	t.Run("OtherSeed", func(t *testing.T) {
		other := cfg
		other.Seed = 43
		if bytes.Equal(csvBytes(t, cfg), csvBytes(t, other)) {
			t.Error("CSV equal for seeds 42 and 43")
		}
		if bytes.Equal(areasJSON(t, demo.GenerateAreas(cfg)), areasJSON(t, demo.GenerateAreas(other))) {
			t.Error("areas equal for seeds 42 and 43")
		}
	})
	t.Run("EachAddressOrder", func(t *testing.T) {
		m := demo.Generate(cfg)
		var got []geo.AddressRecord
		if err := demo.EachAddress(cfg, func(a geo.AddressRecord) error {
			got = append(got, a)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m.Addresses) {
			t.Fatal("EachAddress differs from Generate")
		}
	})
	t.Run("EachAddressStops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := demo.EachAddress(cfg, func(geo.AddressRecord) error {
			n++
			if n == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 10 {
			t.Fatalf("err %v after %d calls; want stop after 10", err, n)
		}
	})
}

// signedArea is positive for counter-clockwise rings.
func signedArea(r orb.Ring) float64 {
	s := 0.0
	for i := 1; i < len(r); i++ {
		s += r[i-1][0]*r[i][1] - r[i][0]*r[i-1][1]
	}
	return s / 2
}

func cross(o, a, b orb.Point) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

func segmentsCross(a, b, c, d orb.Point) bool {
	d1, d2 := cross(c, d, a), cross(c, d, b)
	d3, d4 := cross(a, b, c), cross(a, b, d)
	return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)) && d1 != 0 && d2 != 0 && d3 != 0 && d4 != 0
}

// selfIntersects reports whether two non-adjacent segments of a closed ring
// cross, or a vertex repeats.
func selfIntersects(r orb.Ring) bool {
	n := len(r) - 1
	seen := make(map[orb.Point]bool, n)
	for _, p := range r[:n] {
		if seen[p] {
			return true
		}
		seen[p] = true
	}
	for i := 0; i < n; i++ {
		bi := orb.LineString{r[i], r[i+1]}.Bound()
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue
			}
			if !bi.Intersects(orb.LineString{r[j], r[j+1]}.Bound()) {
				continue
			}
			if segmentsCross(r[i], r[i+1], r[j], r[j+1]) {
				return true
			}
		}
	}
	return false
}

func checkAreas(t *testing.T, areas []geo.AreaFeature, want int, simple bool) {
	t.Helper()
	if len(areas) != want {
		t.Fatalf("%d areas, want %d", len(areas), want)
	}
	codes, names := map[string]bool{}, map[string]bool{}
	for i, a := range areas {
		if a.Code != fmt.Sprintf("D%03d", i+1) || codes[a.Code] {
			t.Errorf("area %d: code %q", i, a.Code)
		}
		if a.Name == "" || names[a.Name] {
			t.Errorf("area %s: empty or repeated name %q", a.Code, a.Name)
		}
		codes[a.Code], names[a.Name] = true, true
		if len(a.Polygon) != 1 {
			t.Fatalf("area %s: %d polygons, want 1", a.Code, len(a.Polygon))
		}
		for k, ring := range a.Polygon[0] {
			if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
				t.Fatalf("area %s ring %d: %d positions, closed %v", a.Code, k, len(ring), ring[0] == ring[len(ring)-1])
			}
			if ccw := signedArea(ring) > 0; ccw != (k == 0) {
				t.Errorf("area %s ring %d: counter-clockwise %v", a.Code, k, ccw)
			}
			if simple && selfIntersects(ring) {
				t.Errorf("area %s ring %d intersects itself", a.Code, k)
			}
		}
		if n := len(a.Polygon[0][0]); n < 60 {
			t.Errorf("area %s: %d vertices, want >= 60", a.Code, n)
		}
		if km2 := orbgeo.Area(a.Polygon) / 1e6; km2 < 15 || km2 > 70 {
			t.Errorf("area %s: %.1f km², want parish-sized 15-70", a.Code, km2)
		}
	}
}

func TestAreas(t *testing.T) {
	t.Run("Default", func(t *testing.T) {
		checkAreas(t, demo.GenerateAreas(demo.Config{}), demo.DefaultAreas, true)
	})
	for _, n := range []int{1, 2, 7, 200} {
		t.Run(fmt.Sprintf("Areas%d", n), func(t *testing.T) {
			checkAreas(t, demo.GenerateAreas(demo.Config{Seed: uint64(n), Areas: n}), n, true)
		})
	}
	t.Run("Areas2000", func(t *testing.T) {
		areas := demo.GenerateAreas(demo.Config{Areas: 2000})
		checkAreas(t, areas, 2000, false)
		danish, holes := false, 0
		for _, a := range areas {
			danish = danish || strings.ContainsAny(a.Name, "æøåÆØÅ")
			holes += len(a.Polygon[0]) - 1
		}
		if !danish {
			t.Error("no area name with æ, ø or å")
		}
		if holes < 100 {
			t.Errorf("%d lakes in 2000 areas, want some hundreds", holes)
		}
	})
}

// TestTiling checks that the areas tile the municipality: every boundary
// segment is shared, in opposite directions, by exactly two areas or lies
// on the outline, and the outline segments form one closed loop (a gap
// would form a second one). Random points then show no overlaps.
func TestTiling(t *testing.T) {
	for _, cfg := range []demo.Config{{}, {Seed: 7, Areas: 7}, {Seed: 9, Areas: 60}} {
		t.Run(fmt.Sprintf("Areas%d", cfg.Areas), func(t *testing.T) {
			areas := demo.GenerateAreas(cfg)
			type seg struct{ a, b orb.Point }
			count := map[seg]int{}
			for _, a := range areas {
				r := a.Polygon[0][0]
				for i := 1; i < len(r); i++ {
					count[seg{r[i-1], r[i]}]++
				}
			}
			next := map[orb.Point]orb.Point{}
			for s, n := range count {
				if n != 1 {
					t.Fatalf("segment %v used %d times in one direction", s, n)
				}
				if count[seg{s.b, s.a}] == 0 {
					if _, dup := next[s.a]; dup {
						t.Fatalf("outline branches at %v", s.a)
					}
					next[s.a] = s.b
				}
			}
			var start orb.Point
			for p := range next {
				start = p
				break
			}
			steps := 0
			for p := next[start]; p != start; p = next[p] {
				steps++
				if steps > len(next) {
					t.Fatal("outline does not close")
				}
			}
			if steps+1 != len(next) {
				t.Errorf("outline loop has %d of %d outline segments: the tiling has a gap", steps+1, len(next))
			}

			var b orb.Bound = areas[0].Polygon.Bound()
			for _, a := range areas {
				b = b.Union(a.Polygon.Bound())
			}
			rng := rand.New(rand.NewPCG(1, 2))
			inside := 0
			for i := 0; i < 3000; i++ {
				p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
				n := 0
				for _, a := range areas {
					if planar.MultiPolygonContains(a.Polygon, p) {
						n++
					}
				}
				if n > 1 {
					t.Fatalf("point %v in %d areas", p, n)
				}
				inside += n
			}
			if inside < 2000 {
				t.Errorf("only %d of 3000 points of the bounding box in an area", inside)
			}
		})
	}
}

// areaIndex finds the areas containing a point, with a bounding-box filter.
type areaIndex struct {
	areas  []geo.AreaFeature
	bounds []orb.Bound
}

func newAreaIndex(areas []geo.AreaFeature) *areaIndex {
	x := &areaIndex{areas: areas}
	for _, a := range areas {
		x.bounds = append(x.bounds, a.Polygon.Bound())
	}
	return x
}

func (x *areaIndex) containing(p orb.Point) []int {
	var out []int
	for i, b := range x.bounds {
		if b.Contains(p) && planar.MultiPolygonContains(x.areas[i].Polygon, p) {
			out = append(out, i)
		}
	}
	return out
}

// metres maps lon/lat to a local plane, good enough for checking distances
// of tens of metres.
func metres(p orb.Point) orb.Point {
	return orb.Point{p[0] * 111320 * math.Cos(55.3*math.Pi/180), p[1] * 110574}
}

func TestAddresses(t *testing.T) {
	cfg := demo.Config{}
	m := demo.Generate(cfg)
	idx := newAreaIndex(m.Areas)
	ids, texts := map[string]bool{}, map[string]bool{}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	textRE := regexp.MustCompile(`^\S.* \d+, (\S[^,]*, )?\d{4} \S.*$`)
	outside, multi := 0, 0
	for i, a := range m.Addresses {
		if !uuidRE.MatchString(a.ID) || ids[a.ID] {
			t.Fatalf("address %d: id %q malformed or repeated", i, a.ID)
		}
		if !textRE.MatchString(a.Text) || texts[a.Text] {
			t.Fatalf("address %d: text %q malformed or repeated", i, a.Text)
		}
		ids[a.ID], texts[a.Text] = true, true
		if a.Units < 1 || a.Units > 12 {
			t.Fatalf("address %s: %d units", a.Text, a.Units)
		}
		if a.Units > 1 {
			multi++
		}
		if a.Line != i+2 || a.Derived {
			t.Fatalf("address %d: line %d derived %v", i, a.Line, a.Derived)
		}
		switch in := idx.containing(a.Point); len(in) {
		case 0:
			outside++
		case 1:
		default:
			t.Fatalf("address %s in %d areas", a.Text, len(in))
		}
	}
	if want := demo.Stragglers(cfg); outside != want {
		t.Errorf("%d addresses outside every area, want %d stragglers", outside, want)
	}
	if share := float64(multi) / float64(len(m.Addresses)); share < 0.03 || share > 0.08 {
		t.Errorf("multi-unit share %.3f, want about 5 %%", share)
	}

	t.Run("NearRoads", func(t *testing.T) {
		var segs [][2]orb.Point
		for _, r := range m.Roads {
			for i := 1; i < len(r); i++ {
				segs = append(segs, [2]orb.Point{metres(r[i-1]), metres(r[i])})
			}
		}
		far := 0
		for _, a := range m.Addresses {
			p := metres(a.Point)
			d := math.Inf(1)
			for _, s := range segs {
				d = math.Min(d, planar.DistanceFromSegment(s[0], s[1], p))
			}
			if d > 310 {
				far++
			}
		}
		if far > demo.Stragglers(cfg) {
			t.Errorf("%d addresses more than 310 m from a road", far)
		}
	})
}

// TestAddressesAtScale streams a larger municipality and checks that every
// address but the stragglers is in exactly one area.
func TestAddressesAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this streams 60,000 addresses")
	}
	cfg := demo.Config{Seed: 3, Areas: 150, Addresses: 60_000}
	idx := newAreaIndex(demo.GenerateAreas(cfg))
	n, outside := 0, 0
	err := demo.EachAddress(cfg, func(a geo.AddressRecord) error {
		n++
		switch in := idx.containing(a.Point); len(in) {
		case 0:
			outside++
		case 1:
		default:
			return fmt.Errorf("address %s in %d areas", a.Text, len(in))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != cfg.Addresses || outside != demo.Stragglers(cfg) {
		t.Errorf("%d addresses, %d outside; want %d, %d", n, outside, cfg.Addresses, demo.Stragglers(cfg))
	}
}

func TestPledges(t *testing.T) {
	for _, cfg := range []demo.Config{{}, {Seed: 5, Areas: 12, Addresses: 8000, PledgeShare: 0.25}} {
		t.Run(fmt.Sprintf("Seed%d", cfg.Seed), func(t *testing.T) {
			m := demo.Generate(cfg)
			idx := newAreaIndex(m.Areas)
			byID := map[string]geo.AddressRecord{}
			areaOf := map[string]int{}
			units := make([]int, len(m.Areas))
			total := 0
			for _, a := range m.Addresses {
				byID[a.ID] = a
				if in := idx.containing(a.Point); len(in) == 1 {
					areaOf[a.ID] = in[0]
					units[in[0]] += a.Units
					total += a.Units
				}
			}
			pledged := make([]int, len(m.Areas))
			seen, emails := map[string]bool{}, map[string]bool{}
			phoneRE := regexp.MustCompile(`^\+45 \d{2} \d{2} \d{2} \d{2}$`)
			emailRE := regexp.MustCompile(`^[a-z0-9.]+@example\.dk$`)
			for _, p := range m.Pledges {
				a, ok := byID[p.AddressID]
				if !ok {
					t.Fatalf("pledge for unknown address %q", p.AddressID)
				}
				if p.Unit < 1 || p.Unit > a.Units {
					t.Fatalf("pledge unit %d at %s with %d units", p.Unit, a.Text, a.Units)
				}
				key := p.AddressID + "/" + strconv.Itoa(p.Unit)
				if seen[key] {
					t.Fatalf("unit %s pledged twice", key)
				}
				seen[key] = true
				if !emailRE.MatchString(p.Email) || emails[p.Email] {
					t.Fatalf("e-mail %q malformed or repeated", p.Email)
				}
				emails[p.Email] = true
				if !phoneRE.MatchString(p.Phone) || !strings.Contains(p.Name, " ") {
					t.Fatalf("pledge %+v: phone or name malformed", p)
				}
				ai, ok := areaOf[p.AddressID]
				if !ok {
					t.Fatalf("pledge for straggler %s", a.Text)
				}
				pledged[ai]++
			}
			want := cfg.PledgeShare
			if want == 0 {
				want = demo.DefaultPledgeShare
			}
			if share := float64(len(m.Pledges)) / float64(total); math.Abs(share-want) > 0.1 {
				t.Errorf("pledge share %.3f, want about %.2f", share, want)
			}
			high, low := 0, 0
			for i := range units {
				switch s := float64(pledged[i]) / float64(units[i]); {
				case s > 0.5:
					high++
				case s < 0.5:
					low++
				}
			}
			if high == 0 || low == 0 {
				t.Errorf("%d areas above 50 %% and %d below; want some of each", high, low)
			}
		})
	}
}

func TestWriteAddressesCSV(t *testing.T) {
	cfg := demo.Config{Seed: 11, Areas: 4, Addresses: 2500}
	m := demo.Generate(cfg)
	rows, err := csv.NewReader(bytes.NewReader(csvBytes(t, cfg))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"id", "text", "lon", "lat", "units"}; !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("header %q, want %q", rows[0], want)
	}
	if len(rows) != cfg.Addresses+1 {
		t.Fatalf("%d rows, want %d and a header", len(rows)-1, cfg.Addresses)
	}
	decimals := regexp.MustCompile(`^-?\d+\.\d{7}$`)
	for i, row := range rows[1:] {
		a := m.Addresses[i]
		lon, _ := strconv.ParseFloat(row[2], 64)
		lat, _ := strconv.ParseFloat(row[3], 64)
		units, _ := strconv.Atoi(row[4])
		if row[0] != a.ID || row[1] != a.Text || lon != a.Point[0] || lat != a.Point[1] || units != a.Units {
			t.Fatalf("row %d %q, want %+v", i+1, row, a)
		}
		if !decimals.MatchString(row[2]) || !decimals.MatchString(row[3]) {
			t.Fatalf("row %d: lon/lat %q %q, want 7 decimals", i+1, row[2], row[3])
		}
	}
}

func TestWriteGeoJSON(t *testing.T) {
	m := demo.Generate(demo.Config{Seed: 2})
	t.Run("Areas", func(t *testing.T) {
		fc, err := geojson.UnmarshalFeatureCollection(areasJSON(t, m.Areas))
		if err != nil {
			t.Fatal(err)
		}
		if len(fc.Features) != len(m.Areas) {
			t.Fatalf("%d features, want %d", len(fc.Features), len(m.Areas))
		}
		for i, f := range fc.Features {
			a := m.Areas[i]
			mp, ok := f.Geometry.(orb.MultiPolygon)
			if !ok || f.Properties["code"] != a.Code || f.Properties["name"] != a.Name {
				t.Fatalf("feature %d: %T %v", i, f.Geometry, f.Properties)
			}
			if !orb.Equal(mp, a.Polygon) {
				t.Fatalf("feature %d geometry differs after a round trip", i)
			}
		}
	})
	t.Run("Roads", func(t *testing.T) {
		fc, err := geojson.UnmarshalFeatureCollection(roadsJSON(t, m.Roads))
		if err != nil {
			t.Fatal(err)
		}
		if len(fc.Features) != len(m.Roads) {
			t.Fatalf("%d features, want %d", len(fc.Features), len(m.Roads))
		}
		for i, f := range fc.Features {
			if ls, ok := f.Geometry.(orb.LineString); !ok || !orb.Equal(ls, m.Roads[i]) {
				t.Fatalf("feature %d: %T differs", i, f.Geometry)
			}
		}
	})
}
