package walk_test

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/kommunity/kommunity/walk"
	"github.com/paulmach/orb"
)

// optimum is an exact reference written independently of walk.HeldKarp:
// memoised recursion over (set of visited points, last point).
func optimum(m [][]float64) float64 {
	n := len(m)
	memo := map[[2]int]float64{}
	var rest func(mask, last int) float64
	rest = func(mask, last int) float64 {
		if mask == 1<<n-1 {
			return 0
		}
		key := [2]int{mask, last}
		if v, ok := memo[key]; ok {
			return v
		}
		best := math.Inf(1)
		for k := range n {
			if mask&(1<<k) == 0 {
				best = min(best, m[last][k]+rest(mask|1<<k, k))
			}
		}
		memo[key] = best
		return best
	}
	best := math.Inf(1)
	for s := range n {
		best = min(best, rest(1<<s, s))
	}
	return best
}

// randomWalk is n points in a 2 km square near Samsø, some in clusters
// (houses of a hamlet) as real walks are.
func randomWalk(r *rand.Rand, n int) [][]float64 {
	pts := make([]orb.Point, n)
	for i := range pts {
		if i > 0 && r.IntN(3) == 0 {
			q := pts[r.IntN(i)]
			pts[i] = orb.Point{q[0] + r.NormFloat64()*0.0005, q[1] + r.NormFloat64()*0.0003}
			continue
		}
		pts[i] = orb.Point{10.60 + r.Float64()*0.032, 55.86 + r.Float64()*0.018}
	}
	return walk.HaversineMatrix(pts)
}

func isPermutation(p []int, n int) bool {
	q := slices.Clone(p)
	slices.Sort(q)
	for i, v := range q {
		if v != i {
			return false
		}
	}
	return len(q) == n
}

// qualityRatios runs the heuristic and the exact order on many random
// walks of up to 10 stops and returns the worst and mean ratio of the
// heuristic's length to the optimum.
func qualityRatios(tb testing.TB, instances int) (worst, mean, exactWorst float64) {
	r := rand.New(rand.NewPCG(14, 4))
	var sum float64
	for k := range instances {
		n := 4 + k%7
		m := randomWalk(r, n)
		opt := optimum(m)
		h := walk.Heuristic(m)
		o := walk.Order(m)
		if !isPermutation(h, n) || !isPermutation(o, n) {
			tb.Fatalf("instance %d: not a permutation: %v %v", k, h, o)
		}
		ratio := 1.0
		if opt > 0 {
			ratio = walk.PathLength(m, h) / opt
			exactWorst = max(exactWorst, walk.PathLength(m, o)/opt)
		}
		worst = max(worst, ratio)
		sum += ratio
	}
	return worst, sum / float64(instances), exactWorst
}

func TestOrderWithinFivePercentOfOptimum(t *testing.T) {
	worst, mean, exact := qualityRatios(t, 600)
	t.Logf("600 walks of 4-10 stops: heuristic/optimum worst %.4f, mean %.5f; Order (Held–Karp) worst %.6f", worst, mean, exact)
	if worst > 1.05 {
		t.Errorf("heuristic order is %.1f %% above the optimum on some walk, want at most 5 %%", (worst-1)*100)
	}
	if exact > 1+1e-9 {
		t.Errorf("Order on at most %d stops is %.6f times the optimum, want exact", walk.ExactMax, exact)
	}
}

func TestHeldKarpMatchesBruteForce12(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		m := randomWalk(r, 12)
		if got, want := walk.PathLength(m, walk.HeldKarp(m)), optimum(m); math.Abs(got-want) > 1e-6 {
			t.Fatalf("HeldKarp %.3f m, optimum %.3f m", got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	stops := make([]walk.Stop, 1003)
	for i := range stops {
		stops[i] = walk.Stop{ID: strconv.Itoa(i), Point: orb.Point{10 + r.Float64()*0.2, 55 + r.Float64()*0.1}, Units: 1}
	}
	for _, size := range []int{1, 7, 40, 1003, 2000} {
		t.Run(fmt.Sprint("Size", size), func(t *testing.T) {
			groups := walk.Split(stops, size)
			if want := (len(stops) + size - 1) / size; len(groups) != want {
				t.Fatalf("%d groups, want %d", len(groups), want)
			}
			seen := make([]bool, len(stops))
			for _, g := range groups {
				if len(g) > size || len(g) == 0 {
					t.Fatalf("group of %d stops, want 1 to %d", len(g), size)
				}
				// Balanced: no walk far below the others.
				if size < len(stops) && len(g) < size*3/4 {
					t.Errorf("group of %d stops with size %d: unbalanced", len(g), size)
				}
				for _, k := range g {
					if seen[k] {
						t.Fatalf("stop %d in two groups", k)
					}
					seen[k] = true
				}
			}
			if slices.Contains(seen, false) {
				t.Fatal("a stop is in no group")
			}
		})
	}
	t.Run("Compact", func(t *testing.T) {
		// Bisection turf: the walks' bounding boxes together cover little
		// more than the whole area (strips or interleaved groups would
		// each span it).
		groups := walk.Split(stops, 40)
		var sum float64
		for _, g := range groups {
			b := stops[g[0]].Point.Bound()
			for _, k := range g {
				b = b.Extend(stops[k].Point)
			}
			sum += (b.Max[0] - b.Min[0]) * (b.Max[1] - b.Min[1])
		}
		if whole := 0.2 * 0.1; sum > 1.2*whole {
			t.Errorf("walk boxes cover %.2f times the area, want at most 1.2", sum/whole)
		}
	})
}

func TestPlanRejectsBadInput(t *testing.T) {
	ok := []walk.Stop{{ID: "a", Point: orb.Point{10, 55}, Units: 1}}
	if _, err := walk.Plan(ok, walk.Options{Size: 0}); err == nil {
		t.Error("size 0 accepted")
	}
	if _, err := walk.Plan(ok, walk.Options{Size: walk.MaxSize + 1}); err == nil {
		t.Error("size above MaxSize accepted")
	}
	bad := []walk.Stop{{ID: "x", Point: orb.Point{math.NaN(), 55}}}
	if _, err := walk.Plan(bad, walk.Options{Size: 5}); err == nil {
		t.Error("NaN position accepted")
	}
}

func TestPlanDriveLegs(t *testing.T) {
	// Two hamlets 3 km apart, three houses each: one drive leg between.
	var stops []walk.Stop
	for i := range 3 {
		stops = append(stops, walk.Stop{ID: "a" + strconv.Itoa(i), Point: orb.Point{10.60 + float64(i)*0.0005, 55.86}, Units: 1})
		stops = append(stops, walk.Stop{ID: "b" + strconv.Itoa(i), Point: orb.Point{10.65 + float64(i)*0.0005, 55.86}, Units: 2})
	}
	ws, err := walk.Plan(stops, walk.Options{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || len(ws[0].Stops) != 6 {
		t.Fatalf("got %d walks", len(ws))
	}
	drives := 0
	for _, d := range ws[0].Drive {
		if d {
			drives++
		}
	}
	if drives != 1 {
		t.Errorf("%d drive legs, want 1 (between the hamlets): legs %v", drives, ws[0].Legs)
	}
	if l := ws[0].LengthM; l < 3000 || l > 3300 {
		t.Errorf("walk length %.0f m, want about 3,130 m", l)
	}
}

type samsoe struct {
	stops []walk.Stop
	roads *geo.RoadDistances
}

func loadSamsoe(tb testing.TB) samsoe {
	tb.Helper()
	f, err := os.Open(shareddata.Path(tb, "samsoe_osm/derived/addresses.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var s samsoe
	pts := make([]orb.Point, 0, len(rows))
	for _, row := range rows[1:] {
		lat, err1 := strconv.ParseFloat(row[7], 64)
		lon, err2 := strconv.ParseFloat(row[8], 64)
		if err1 != nil || err2 != nil {
			tb.Fatalf("row %v: bad coordinates", row)
		}
		s.stops = append(s.stops, walk.Stop{ID: row[0], Point: orb.Point{lon, lat}, Units: 1})
		pts = append(pts, orb.Point{lon, lat})
	}
	rf, err := os.Open(shareddata.Path(tb, "samsoe_osm/derived/roads.geojson"))
	if err != nil {
		tb.Fatal(err)
	}
	defer rf.Close()
	lines, err := geo.ReadRoads(rf, "roads.geojson")
	if err != nil {
		tb.Fatal(err)
	}
	if s.roads, err = geo.NewRoadNetwork(lines).Distances(pts); err != nil {
		tb.Fatal(err)
	}
	return s
}

// samsoeRatio plans 40-stop walks over Samsø's addresses along the roads
// and returns the total length of the planned order and of the
// nearest-neighbour order from each walk's first stop in turf order.
func samsoeRatio(tb testing.TB, s samsoe) (planned, nn float64, walks int) {
	for _, g := range walk.Split(s.stops, 40) {
		m := s.roads.Matrix(g)
		planned += walk.PathLength(m, walk.Order(m))
		nn += walk.PathLength(m, walk.NearestNeighbour(m, 0))
		walks++
	}
	return planned, nn, walks
}

func TestSamsoeWalksShorterThanNearestNeighbour(t *testing.T) {
	s := loadSamsoe(t)
	planned, nn, walks := samsoeRatio(t, s)
	ratio := planned / nn
	t.Logf("Samsø, %d addresses in %d walks of 40 along the roads: planned %.1f km, nearest neighbour %.1f km, ratio %.3f (%.1f %% shorter)",
		len(s.stops), walks, planned/1000, nn/1000, ratio, (1-ratio)*100)
	if ratio > 0.85 {
		t.Errorf("planned walks are %.1f %% shorter than nearest-neighbour order, want at least 15 %%", (1-ratio)*100)
	}
}

func BenchmarkOrderQuality10(b *testing.B) {
	var worst, mean float64
	for b.Loop() {
		worst, mean, _ = qualityRatios(b, 200)
	}
	b.ReportMetric(worst, "worst/optimum")
	b.ReportMetric(mean, "mean/optimum")
}

func BenchmarkSamsoe40(b *testing.B) {
	s := loadSamsoe(b)
	var planned, nn float64
	for b.Loop() {
		planned, nn, _ = samsoeRatio(b, s)
	}
	b.ReportMetric(planned/nn, "planned/nn")
}

// BenchmarkPlan5000 plans 40-stop walks for 5,000 addresses of a
// clustered rural layout in straight lines, and reports the time as a
// ratio of the 2 s budget.
func BenchmarkPlan5000(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 0))
	stops := make([]walk.Stop, 5000)
	for i := range stops {
		if i > 0 && r.IntN(4) != 0 {
			q := stops[r.IntN(i)].Point
			stops[i] = walk.Stop{ID: strconv.Itoa(i), Point: orb.Point{q[0] + r.NormFloat64()*0.001, q[1] + r.NormFloat64()*0.0006}, Units: 1}
			continue
		}
		stops[i] = walk.Stop{ID: strconv.Itoa(i), Point: orb.Point{10.5 + r.Float64()*0.3, 55.8 + r.Float64()*0.2}, Units: 1}
	}
	var d time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := walk.Plan(stops, walk.Options{Size: 40}); err != nil {
			b.Fatal(err)
		}
		d = time.Since(start)
	}
	b.ReportMetric(d.Seconds()/2, "budget")
}

// BenchmarkPlan5000Roads is what GenerateWalks does for a generated rural
// area of 5,000 addresses with its roads: build the road network, snap
// the stops, split, and order 40-stop walks along the roads. It reports
// the time against the 2 s budget and the planned length against
// nearest-neighbour order on the same walks and distances.
func BenchmarkPlan5000Roads(b *testing.B) {
	m := demo.Generate(demo.Config{Seed: 1, Areas: 1, Addresses: 5000})
	stops := make([]walk.Stop, len(m.Addresses))
	pts := make([]orb.Point, len(m.Addresses))
	for i, a := range m.Addresses {
		stops[i] = walk.Stop{ID: a.ID, Point: a.Point, Units: a.Units}
		pts[i] = a.Point
	}
	var d time.Duration
	var planned, nn float64
	for b.Loop() {
		start := time.Now()
		rd, err := geo.NewRoadNetwork(m.Roads).Distances(pts)
		if err != nil {
			b.Fatal(err)
		}
		ws, err := walk.Plan(stops, walk.Options{Size: 40, Matrix: rd.Matrix})
		if err != nil {
			b.Fatal(err)
		}
		d = time.Since(start)
		planned, nn = 0, 0
		for _, g := range walk.Split(stops, 40) {
			mx := rd.Matrix(g)
			nn += walk.PathLength(mx, walk.NearestNeighbour(mx, 0))
		}
		for _, w := range ws {
			planned += w.LengthM
		}
	}
	b.ReportMetric(d.Seconds()/2, "budget")
	b.ReportMetric(planned/nn, "planned/nn")
}
