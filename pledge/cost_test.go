package pledge_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// costParams are round figures for hand computation: no funding, no floor.
func costParams() pledge.CostParams {
	return pledge.CostParams{TrenchPerM: 100, DropPerM: 10, PerConnection: 1000, Fixed: 500, Split: pledge.SplitEqual}
}

// costConns: 100 m of trench costs 10,000; drops 100 + 200 + 0; four
// households (B has two) cost 4,000; fixed 500: build cost 14,800.
var costConns = []pledge.Connection{
	{AddressID: "A", Units: 1, DropM: 10},
	{AddressID: "B", Units: 2, DropM: 20},
	{AddressID: "C", Units: 1, DropM: 0},
}

// funded adds every funding layer to costParams.
func funded(rule pledge.SplitRule, fund, cap int64) pledge.CostParams {
	p := costParams()
	p.MinOwnPayment, p.ProviderContribution, p.MunicipalTopUp, p.StateSubsidyAvgCap = 1000, 500, 250, 1000
	p.CommunityFund, p.Split, p.HouseholdCap = fund, rule, cap
	return p
}

func TestSplitCost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      pledge.CostParams
		trench float64
		conns  []pledge.Connection
		want   pledge.CostSplit
	}{
		{
			name: "Equal", p: costParams(), trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				HouseholdsPay: 14800, Shares: []int64{3700, 3700, 3700, 3700}},
		},
		{
			// 14,801 / 4 = 3,700.25: the one øre left goes to the first.
			name: "EqualLargestRemainder", p: func() pledge.CostParams { p := costParams(); p.Fixed = 501; return p }(), trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 501, BuildCost: 14801,
				HouseholdsPay: 14801, Shares: []int64{3701, 3700, 3700, 3700}},
		},
		{
			// Floor 4 × 1,000 stays with the households; the 10,800 above it
			// is covered by provider 2,000, municipality 1,000, state
			// 4,000 (its cap), fund 300, and the households pay 3,500 more.
			name: "FundingLayers", p: funded(pledge.SplitEqual, 300, 0), trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				ProviderContribution: 2000, MunicipalTopUp: 1000, StateSubsidy: 4000, CommunityFund: 300,
				HouseholdsPay: 7500, Shares: []int64{1875, 1875, 1875, 1875}},
		},
		{
			// The 3,500 above the floor by weight = an equal part of trench
			// and fixed (10,500 / 4 = 2,625) + connection 1,000 + own drop:
			// A 100, B 200 / 2 each, C 0 -> 3,725 3,725 3,725 3,625 of
			// 14,800: 880.91 880.91 880.91 857.26 -> 881 881 881 857.
			name: "ByDrop", p: funded(pledge.SplitByDrop, 300, 0), trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				ProviderContribution: 2000, MunicipalTopUp: 1000, StateSubsidy: 4000, CommunityFund: 300,
				HouseholdsPay: 7500, Shares: []int64{1881, 1881, 1881, 1857}},
		},
		{
			// Capped keeps the fund for the cap: 3,800 by weight is 956.42
			// 956.42 956.42 930.74 -> the two øre left go to the largest
			// remainders (C .74, then A .42): 957 956 956 931. Over the cap
			// of 1,950: 7 + 6 + 6 = 19, all from the fund of 20.
			name: "CappedFundCovers", p: funded(pledge.SplitCapped, 20, 1950), trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				ProviderContribution: 2000, MunicipalTopUp: 1000, StateSubsidy: 4000, CommunityFund: 19,
				HouseholdsPay: 7781, Shares: []int64{1950, 1950, 1950, 1931}},
		},
		{
			name: "CappedShortfall", p: funded(pledge.SplitCapped, 10, 1950), trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				ProviderContribution: 2000, MunicipalTopUp: 1000, StateSubsidy: 4000, CommunityFund: 10, Shortfall: 9,
				HouseholdsPay: 7781, Shares: []int64{1950, 1950, 1950, 1931}},
		},
		{
			// The minimum own payment (5,000 each) exceeds the whole cost:
			// the households pay the cost, no subsidy is needed.
			name: "MinOwnPaymentAboveCost", p: func() pledge.CostParams { p := funded(pledge.SplitEqual, 0, 0); p.MinOwnPayment = 5000; return p }(),
			trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				HouseholdsPay: 14800, Shares: []int64{3700, 3700, 3700, 3700}},
		},
		{
			// Generous subsidies stop at the floor: every household still
			// pays its 1,000.
			name: "MinOwnPaymentFloor", p: func() pledge.CostParams {
				p := funded(pledge.SplitEqual, 0, 0)
				p.StateSubsidyAvgCap = 1_000_000
				return p
			}(),
			trench: 100, conns: costConns,
			want: pledge.CostSplit{TrenchCost: 10000, DropCost: 300, ConnectionCost: 4000, FixedCost: 500, BuildCost: 14800,
				ProviderContribution: 2000, MunicipalTopUp: 1000, StateSubsidy: 7800,
				HouseholdsPay: 4000, Shares: []int64{1000, 1000, 1000, 1000}},
		},
		{
			name: "NoHouseholds", p: costParams(), trench: 0, conns: nil,
			want: pledge.CostSplit{FixedCost: 500, BuildCost: 500, Shortfall: 500, Shares: []int64{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pledge.SplitCost(tc.p, tc.trench, tc.conns)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Rule, want.Addresses, want.TrenchM = tc.p.Split, len(tc.conns), tc.trench
			for _, c := range tc.conns {
				want.Units += c.Units
				want.DropM += c.DropM
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			checkSplitSums(t, got)
		})
	}
}

// checkSplitSums asserts what holds for every split: the funding adds up
// to the build cost and the shares to what the households pay.
func checkSplitSums(t *testing.T, c pledge.CostSplit) {
	t.Helper()
	if sum := c.ProviderContribution + c.MunicipalTopUp + c.StateSubsidy + c.CommunityFund + c.HouseholdsPay + c.Shortfall; sum != c.BuildCost {
		t.Errorf("funding sums to %d, build cost %d", sum, c.BuildCost)
	}
	if c.TrenchCost+c.DropCost+c.ConnectionCost+c.FixedCost != c.BuildCost {
		t.Errorf("cost parts do not sum to the build cost: %+v", c)
	}
	var sum int64
	for _, s := range c.Shares {
		sum += s
	}
	if sum != c.HouseholdsPay || len(c.Shares) != c.Units {
		t.Errorf("%d shares sum to %d; %d households pay %d", len(c.Shares), sum, c.Units, c.HouseholdsPay)
	}
}

func TestSplitCostProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	rules := []pledge.SplitRule{pledge.SplitEqual, pledge.SplitByDrop, pledge.SplitCapped}
	for i := range 2000 {
		p := pledge.CostParams{
			TrenchPerM: r.Int64N(500_00), DropPerM: r.Int64N(200_00), PerConnection: r.Int64N(20_000_00), Fixed: r.Int64N(1_000_000_00),
			StateSubsidyAvgCap: r.Int64N(40_000_00), MunicipalTopUp: r.Int64N(5_000_00), ProviderContribution: r.Int64N(10_000_00),
			MinOwnPayment: r.Int64N(5_000_00), CommunityFund: r.Int64N(500_000_00), Split: rules[i%3],
		}
		p.HouseholdCap = p.MinOwnPayment + 1 + r.Int64N(50_000_00)
		conns := make([]pledge.Connection, r.IntN(8))
		for j := range conns {
			conns[j] = pledge.Connection{AddressID: fmt.Sprint(j), Units: 1 + r.IntN(4)*r.IntN(2), DropM: r.Float64() * 400}
		}
		c, err := pledge.SplitCost(p, r.Float64()*5000, conns)
		if err != nil {
			t.Fatal(err)
		}
		checkSplitSums(t, c)
		lo, hi := c.ShareRange()
		if c.Units > 0 && c.BuildCost >= p.MinOwnPayment*int64(c.Units) && lo < p.MinOwnPayment {
			t.Errorf("case %d: share %d below the minimum own payment %d", i, lo, p.MinOwnPayment)
		}
		switch p.Split {
		case pledge.SplitEqual:
			if hi-lo > 1 {
				t.Errorf("case %d: equal shares from %d to %d", i, lo, hi)
			}
		case pledge.SplitCapped:
			if hi > p.HouseholdCap {
				t.Errorf("case %d: share %d above the cap %d", i, hi, p.HouseholdCap)
			}
		}
		if c.StateSubsidy > p.StateSubsidyAvgCap*int64(c.Units) {
			t.Errorf("case %d: state subsidy %d above its average cap", i, c.StateSubsidy)
		}
		if t.Failed() {
			t.Fatalf("params %+v conns %+v: %+v", p, conns, c)
		}
	}
}

func TestSplitCostHugeAmountsExact(t *testing.T) {
	// The largest allowed amounts over many households stay exact.
	p := pledge.CostParams{TrenchPerM: 100_000_00, PerConnection: 100_000_000_00, Fixed: 10_000_000_000_00 - 7, Split: pledge.SplitByDrop, DropPerM: 1}
	conns := []pledge.Connection{{AddressID: "a", Units: 40_000, DropM: 3}, {AddressID: "b", Units: 1, DropM: 1e6}}
	c, err := pledge.SplitCost(p, 1e7, conns)
	if err != nil {
		t.Fatal(err)
	}
	checkSplitSums(t, c)
}

func TestCostParamsValidate(t *testing.T) {
	area := pledge.Area{Code: "S", Geometry: orb.MultiPolygon{{square(10.6, 55.85, 0.05)}}}
	for _, tc := range []struct {
		name, field string
		edit        func(*pledge.CostParams)
	}{
		{"ErrNegativeTrench", "trench_cost_per_m", func(p *pledge.CostParams) { p.TrenchPerM = -1 }},
		{"ErrNegativeFixed", "fixed_cost", func(p *pledge.CostParams) { p.Fixed = -100 }},
		{"ErrNegativeFund", "community_fund", func(p *pledge.CostParams) { p.CommunityFund = -1 }},
		{"ErrHugeConnection", "connection_cost", func(p *pledge.CostParams) { p.PerConnection = math.MaxInt64 }},
		{"ErrDetour", "detour", func(p *pledge.CostParams) { p.Detour = 0.5 }},
		{"ErrDetourNaN", "detour", func(p *pledge.CostParams) { p.Detour = math.NaN() }},
		{"ErrSplitRule", "split_rule", func(p *pledge.CostParams) { p.Split = "lottery" }},
		{"ErrCappedWithoutCap", "household_cap", func(p *pledge.CostParams) { p.Split = pledge.SplitCapped }},
		{"ErrCapBelowOwnPayment", "household_cap", func(p *pledge.CostParams) { p.Split, p.HouseholdCap = pledge.SplitCapped, 100 }},
		{"ErrPOPNotLonLat", "pop", func(p *pledge.CostParams) { p.POP = &orb.Point{600000, 6190000} }},
		{"ErrPOPNaN", "pop", func(p *pledge.CostParams) { p.POP = &orb.Point{math.NaN(), 55} }},
		{"ErrPOPFar", "pop", func(p *pledge.CostParams) { p.POP = &orb.Point{12.57, 55.68} }}, // Copenhagen
		{"OK", "", func(p *pledge.CostParams) { p.POP = &orb.Point{10.3, 55.9} }},             // ~18 km off
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pledge.DefaultCostParams()
			tc.edit(&p)
			err := p.Validate(area)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *pledge.Error
			if !errors.As(err, &pe) || pe.Code != pledge.EINVALID || pe.Field != tc.field {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
			t.Log(pe.Message)
		})
	}
}

func square(x, y, h float64) orb.Ring {
	return orb.Ring{{x - h, y - h}, {x + h, y - h}, {x + h, y + h}, {x - h, y + h}, {x - h, y - h}}
}

// east returns the point m metres east of p in p's UTM zone, where the
// cost model measures.
func east(t *testing.T, p orb.Point, m float64) orb.Point {
	t.Helper()
	crs := geo.UTMFor(p)
	x, y, err := crs.FromWGS84(p[0], p[1])
	if err != nil {
		t.Fatal(err)
	}
	lon, lat, err := crs.ToWGS84(x+m, y)
	if err != nil {
		t.Fatal(err)
	}
	return orb.Point{lon, lat}
}

func TestCostModelHandComputed(t *testing.T) {
	pop := orb.Point{10.6, 55.85}
	area := pledge.Area{Code: "L", Geometry: orb.MultiPolygon{{square(10.6, 55.85, 0.05)}}, ThresholdPercent: 50}
	// On a line east of the POP: a at 100 m, b at 250 m (2 households, one
	// pledged), c at 330 m (pledged), and d 1 km west.
	addrs := []pledge.Address{
		{ID: "a", Point: east(t, pop, 100), Units: 1},
		{ID: "b", Point: east(t, pop, 250), Units: 2, PledgedUnits: 1},
		{ID: "c", Point: east(t, pop, 330), Units: 1, PledgedUnits: 1},
		{ID: "d", Point: east(t, pop, -1000), Units: 1},
	}
	p := costParams()
	p.POP, p.Detour = &pop, 1
	m, err := pledge.NewCostModel(area, addrs, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.EligibleUnits() != 5 || m.PledgedUnits() != 2 || m.Method() != geo.MethodStraight {
		t.Fatalf("units %d, pledged %d, method %s", m.EligibleUnits(), m.PledgedUnits(), m.Method())
	}
	// Join order: pledged b (nearer the POP), c; b's second household; a
	// (100 m from the POP); d (1,000 m).
	for _, tc := range []struct {
		k              int
		ids            string
		trench, drop   float64
		households     int
		share, build   int64
		takeUp         float64
		firstConnUnits int
	}{
		// b alone: its 250 m link to the POP is all drop.
		{1, "[b]", 0, 250, 1, 0, 0, 20, 1},
		// b and c: trench POP-b 250, drop b-c 80.
		{2, "[b c]", 250, 80, 2, 0, 0, 40, 1},
		{3, "[b c]", 250, 80, 3, 0, 0, 60, 2},
		// a joins: trench POP-a-b 250, drop c 80.
		{4, "[a b c]", 250, 80, 4, 0, 0, 80, 1},
		// d joins: its 1,000 m to the POP is its drop.
		{5, "[a b c d]", 250, 1080, 5, 0, 0, 100, 1},
	} {
		c, err := m.At(tc.k)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, cn := range c.Connected {
			ids = append(ids, cn.AddressID)
		}
		// Costs: trench 1 kr/m, drops 0.10 kr/m, 10 kr per household, 5 kr fixed.
		build := int64(math.Round(tc.trench*100)) + int64(math.Round(tc.drop*10)) + int64(tc.households)*1000 + 500
		if fmt.Sprint(ids) != tc.ids || math.Abs(c.TrenchM-tc.trench) > 0.01 || math.Abs(c.DropM-tc.drop) > 0.01 ||
			c.Units != tc.households || c.TakeUpPercent != tc.takeUp || c.Connected[0].Units != tc.firstConnUnits {
			t.Errorf("At(%d): %s trench %.2f drop %.2f units %d take-up %g; want %s %.0f %.0f %d %g",
				tc.k, ids, c.TrenchM, c.DropM, c.Units, c.TakeUpPercent, tc.ids, tc.trench, tc.drop, tc.households, tc.takeUp)
		}
		if c.BuildCost != build || c.HouseholdsPay != build {
			t.Errorf("At(%d): build %d, households pay %d; want %d", tc.k, c.BuildCost, c.HouseholdsPay, build)
		}
		checkSplitSums(t, c.CostSplit)
	}

	cv, err := m.Curve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Threshold 50 % of 5 = 3 households; then 60 % (3), 65 % (4), ...
	// distinct: 3, 4, 5; current 2 below it. If 5/10/20 more join: more
	// than there are; to the threshold: 1 more.
	var units []int
	for _, pt := range cv.Points {
		units = append(units, pt.Units)
	}
	if fmt.Sprint(units) != "[2 3 4 5]" || cv.ThresholdUnits != 3 || cv.Current == nil || cv.Current.Units != 2 ||
		len(cv.IfMoreJoin) != 1 || cv.IfMoreJoin[0].More != 1 || cv.IfMoreJoin[0].Units != 3 {
		t.Errorf("curve points %v, threshold %d, current %+v, more %+v", units, cv.ThresholdUnits, cv.Current, cv.IfMoreJoin)
	}
	for _, pt := range cv.Points {
		c, _ := m.At(pt.Units)
		if pt.HouseholdShare != c.HouseholdShare() || pt.TrenchM != c.TrenchM || pt.BuildCost != c.BuildCost {
			t.Errorf("curve point %+v differs from At: %+v", pt, c.CostSplit)
		}
	}

	t.Run("ErrTakeUpAbove100", func(t *testing.T) {
		if _, err := m.UnitsAt(100.5); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrThresholdAbove100", func(t *testing.T) {
		bad := area
		bad.ThresholdPercent = 120
		m, err := pledge.NewCostModel(bad, addrs, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		var pe *pledge.Error
		if _, err := m.Curve(context.Background()); !errors.As(err, &pe) || pe.Field != "threshold_percent" {
			t.Fatalf("got %v", err)
		}
	})
}

// TestJoinOrderIsPrim: the households join in the order of the naive
// all-pairs Prim's algorithm from the POP and the pledged addresses.
func TestJoinOrderIsPrim(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	pop := orb.Point{10.6, 55.85}
	area := pledge.Area{Code: "R", Geometry: orb.MultiPolygon{{square(10.6, 55.85, 0.05)}}}
	for trial := range 5 {
		var addrs []pledge.Address
		for i := range 60 {
			a := pledge.Address{ID: fmt.Sprintf("%03d", i), Units: 1,
				Point: orb.Point{10.6 + (r.Float64()-0.5)*0.05, 55.85 + (r.Float64()-0.5)*0.03}}
			if r.IntN(6) == 0 {
				a.PledgedUnits = 1
			}
			addrs = append(addrs, a)
		}
		p := costParams()
		p.POP = &pop
		m, err := pledge.NewCostModel(area, addrs, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := naivePrimOrder(pop, addrs)
		var got []string
		seen := map[string]bool{}
		for k := m.PledgedUnits() + 1; k <= m.EligibleUnits(); k++ {
			c, err := m.At(k)
			if err != nil {
				t.Fatal(err)
			}
			for _, cn := range c.Connected {
				if !seen[cn.AddressID] {
					seen[cn.AddressID] = true
					if addrs[idIndex(cn.AddressID)].PledgedUnits == 0 {
						got = append(got, cn.AddressID)
					}
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("trial %d: join order\n%v, Prim's\n%v", trial, got, want)
		}
	}
}

func idIndex(id string) int {
	var i int
	fmt.Sscanf(id, "%d", &i)
	return i
}

// naivePrimOrder is the O(n²) nearest-to-the-connected-set order of the
// unpledged addresses, in the UTM zone the model uses.
func naivePrimOrder(pop orb.Point, addrs []pledge.Address) []string {
	b := pop.Bound()
	for _, a := range addrs {
		b = b.Extend(a.Point)
	}
	crs := geo.UTMFor(b.Center())
	xy := func(p orb.Point) orb.Point {
		x, y, _ := crs.FromWGS84(p[0], p[1])
		return orb.Point{x, y}
	}
	connected := []orb.Point{xy(pop)}
	var rest []pledge.Address
	for _, a := range addrs {
		if a.PledgedUnits > 0 {
			connected = append(connected, xy(a.Point))
		} else {
			rest = append(rest, a)
		}
	}
	var order []string
	for len(rest) > 0 {
		best, bestD := 0, math.Inf(1)
		for i, a := range rest {
			for _, c := range connected {
				q := xy(a.Point)
				if d := math.Hypot(q[0]-c[0], q[1]-c[1]); d < bestD {
					best, bestD = i, d
				}
			}
		}
		order = append(order, rest[best].ID)
		connected = append(connected, xy(rest[best].Point))
		rest = slices.Delete(rest, best, best+1)
	}
	return order
}

func TestCostModelDefaultPOPInside(t *testing.T) {
	// A C-shaped area: its centroid lies in the notch, outside.
	c := orb.Ring{{0, 0}, {3, 0}, {3, 1}, {1, 1}, {1, 2}, {3, 2}, {3, 3}, {0, 3}, {0, 0}}
	for i := range c {
		c[i] = orb.Point{10 + c[i][0]*0.01, 55 + c[i][1]*0.01}
	}
	area := pledge.Area{Code: "C", Geometry: orb.MultiPolygon{{c}}}
	m, err := pledge.NewCostModel(area, nil, pledge.DefaultCostParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pop := m.POP(); !planar.PolygonContains(area.Geometry[0], pop) {
		t.Fatalf("POP %v outside the area", pop)
	}
	cv, err := m.Curve(context.Background())
	if err != nil || len(cv.Points) != 0 || cv.Current != nil {
		t.Fatalf("empty area curve %+v, %v", cv, err)
	}
}
