package pledge

import (
	"math"
	"math/bits"
	"slices"
)

// SplitRule names how the households' part of the build cost is divided.
type SplitRule string

// Split rules.
const (
	// SplitEqual: every connected household pays the same (to the øre).
	SplitEqual SplitRule = "equal"
	// SplitByDrop: each household pays the minimum own payment plus a part
	// of the rest in proportion to the cost its connection causes: an equal
	// part of the trench and fixed costs, its connection cost and its
	// address's drop (shared by the households there). A farm at the end of
	// a 300 m drop pays more than a house on the route.
	SplitByDrop SplitRule = "drop"
	// SplitCapped: as SplitByDrop, but no household pays more than
	// CostParams.HouseholdCap. The community fund covers what the cap cuts
	// off; what it cannot cover is the Shortfall, money still to be found.
	SplitCapped SplitRule = "capped"
)

// Valid reports whether r is a known rule.
func (r SplitRule) Valid() bool {
	return r == SplitEqual || r == SplitByDrop || r == SplitCapped
}

// Connection is one connected address in a cost split.
type Connection struct {
	AddressID string
	Units     int     // connected households at the address, at least 1
	DropM     float64 // private drop from the route to the address, metres
}

// CostSplit is what building the network for a set of connected households
// costs and how it is paid. Amounts are øre (1/100 DKK); lengths metres.
// The amounts always add up exactly:
//
//	BuildCost = ProviderContribution + MunicipalTopUp + StateSubsidy +
//	            CommunityFund + HouseholdsPay + Shortfall
type CostSplit struct {
	Rule      SplitRule
	Addresses int // connected addresses
	Units     int // connected households
	TrenchM   float64
	DropM     float64 // all drops together

	TrenchCost     int64
	DropCost       int64
	ConnectionCost int64
	FixedCost      int64
	BuildCost      int64

	ProviderContribution int64
	MunicipalTopUp       int64
	StateSubsidy         int64
	CommunityFund        int64 // the part of the fund used
	HouseholdsPay        int64
	Shortfall            int64 // not covered by anyone (a cap, or no households)

	// Shares is what each household pays: one per connected unit, the
	// units of each connection together, in the order of the connections.
	// It sums to HouseholdsPay exactly.
	Shares []int64
}

// HouseholdShare is what a typical household pays: HouseholdsPay over the
// households, rounded half up to the øre; 0 without households. Under
// SplitEqual every share is this or differs from it by 1 øre.
func (c CostSplit) HouseholdShare() int64 {
	if c.Units == 0 {
		return 0
	}
	n := int64(c.Units)
	return (c.HouseholdsPay + n/2) / n
}

// ShareRange returns the smallest and largest share; 0, 0 without households.
func (c CostSplit) ShareRange() (lo, hi int64) {
	if len(c.Shares) == 0 {
		return 0, 0
	}
	return slices.Min(c.Shares), slices.Max(c.Shares)
}

// SplitCost prices a network with trenchM metres of shared trench and the
// given connections under p, and splits the cost. Funding is applied in
// this order, each layer covering what is left above the households'
// minimum own payments (so a household never pays less than
// p.MinOwnPayment, unless the whole cost is less than that):
//
//  1. the provider's contribution per connected household,
//  2. the municipal top-up per connected household,
//  3. the state subsidy: what is still open, up to p.StateSubsidyAvgCap
//     times the households, so the average per household never exceeds
//     the cap while remote households may receive more than others
//     (the Bredbåndspuljen rule),
//  4. the community fund (under SplitCapped it is kept for the cap),
//  5. the households, by p.Split.
//
// Money from metres is rounded to the øre per address (drops) and for the
// trench; shares are rounded by the largest-remainder method, ties to the
// earlier household, so they sum exactly. Without households nobody pays:
// the whole cost is Shortfall.
//
// p must pass p.Validate (POP aside); lengths must be finite and not
// negative and every connection must have a unit. Otherwise SplitCost
// returns an EINVALID error naming the field.
func SplitCost(p CostParams, trenchM float64, conns []Connection) (CostSplit, error) {
	if err := p.validateMoney(); err != nil {
		return CostSplit{}, err
	}
	if !finiteNonNegative(trenchM) {
		return CostSplit{}, FieldError("trench_m", "trench length must be a finite number of metres, not %g", trenchM)
	}
	c := CostSplit{Rule: p.split(), Addresses: len(conns), TrenchM: trenchM}
	dropCost := make([]int64, len(conns))
	for i, cn := range conns {
		if cn.Units < 1 {
			return CostSplit{}, FieldError("units", "address %q has %d connected units, want at least 1", cn.AddressID, cn.Units)
		}
		if !finiteNonNegative(cn.DropM) {
			return CostSplit{}, FieldError("drop_m", "address %q: drop length must be a finite number of metres, not %g", cn.AddressID, cn.DropM)
		}
		c.Units += cn.Units
		c.DropM += cn.DropM
		dropCost[i] = money(cn.DropM, p.DropPerM)
		c.DropCost += dropCost[i]
	}
	n := int64(c.Units)
	c.TrenchCost = money(trenchM, p.TrenchPerM)
	c.ConnectionCost = n * p.PerConnection
	c.FixedCost = p.Fixed
	c.BuildCost = c.TrenchCost + c.DropCost + c.ConnectionCost + c.FixedCost
	if n == 0 {
		c.Shortfall = c.BuildCost
		c.Shares = []int64{}
		return c, nil
	}

	floor := min(c.BuildCost, n*p.MinOwnPayment)
	open := c.BuildCost - floor
	take := func(offer int64) int64 {
		t := min(offer, open)
		open -= t
		return t
	}
	c.ProviderContribution = take(n * p.ProviderContribution)
	c.MunicipalTopUp = take(n * p.MunicipalTopUp)
	c.StateSubsidy = take(n * p.StateSubsidyAvgCap)
	if c.Rule != SplitCapped {
		c.CommunityFund = take(p.CommunityFund)
	}

	// Everyone pays an equal part of the floor, then a part of what is
	// still open by the rule's weights.
	c.Shares = largestRemainder(floor, equalWeights(c.Units))
	var weights []int64
	if c.Rule == SplitEqual {
		weights = equalWeights(c.Units)
	} else {
		weights = make([]int64, 0, c.Units)
		shared := (c.TrenchCost + c.FixedCost) / n
		for i, cn := range conns {
			w := max(1, shared+p.PerConnection+dropCost[i]/int64(cn.Units))
			for range cn.Units {
				weights = append(weights, w)
			}
		}
	}
	for i, s := range largestRemainder(open, weights) {
		c.Shares[i] += s
	}

	if c.Rule == SplitCapped {
		var excess int64
		for i, s := range c.Shares {
			if s > p.HouseholdCap {
				excess += s - p.HouseholdCap
				c.Shares[i] = p.HouseholdCap
			}
		}
		c.CommunityFund = min(p.CommunityFund, excess)
		c.Shortfall = excess - c.CommunityFund
	}
	for _, s := range c.Shares {
		c.HouseholdsPay += s
	}
	return c, nil
}

// money is metres times øre per metre, rounded to the øre.
func money(m float64, perM int64) int64 {
	return int64(math.Round(m * float64(perM)))
}

func finiteNonNegative(f float64) bool {
	return f >= 0 && !math.IsInf(f, 1) // NaN fails f >= 0
}

func equalWeights(n int) []int64 {
	w := make([]int64, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

// largestRemainder divides total (>= 0) in proportion to weights (>= 0,
// not all 0): each part is floor(total*w/W), and the øre still left go one
// each to the parts with the largest remainders, ties to the lower index.
// The parts sum to total exactly. Products use 128-bit arithmetic, so any
// int64 amounts and weights are exact.
func largestRemainder(total int64, weights []int64) []int64 {
	parts := make([]int64, len(weights))
	if total == 0 || len(weights) == 0 {
		return parts
	}
	var sum uint64
	for _, w := range weights {
		sum += uint64(w)
	}
	rem := make([]uint64, len(weights))
	left := total
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, sum) // q <= total since w <= sum
		parts[i], rem[i] = int64(q), r
		left -= int64(q)
	}
	if left == 0 {
		return parts
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for _, i := range order[:left] {
		parts[i]++
	}
	return parts
}
