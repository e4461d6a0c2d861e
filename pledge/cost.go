package pledge

import (
	"context"
	"fmt"
	"math"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

// Currency of every amount in the cost model; amounts are its 1/100 (øre).
const Currency = "DKK"

// CostParams are an area's cost parameters. Amounts are integer øre
// (1/100 DKK): money is never a float. A connection is one household
// (unit); drops are per address, shared by its households.
type CostParams struct {
	// POP is where the area's network joins the backbone (lon, lat); nil
	// means the area's point on surface (PointOnSurface).
	POP *orb.Point
	// Detour lengthens straight-line routes (geo.RouteOptions); 0 means
	// geo.DefaultDetour. Road-following routes ignore it.
	Detour float64

	TrenchPerM    int64 // shared trench: digging or ploughing, duct and cable, per metre
	DropPerM      int64 // private drop from the route to the house, per metre
	PerConnection int64 // per household: equipment, splicing, installation in the house
	Fixed         int64 // per area: POP cabinet, design, project management

	// StateSubsidyAvgCap is the largest average state subsidy per connected
	// household. The subsidy covers what is still open after the provider
	// and the municipality, up to this average over the area (as in the
	// Danish Bredbåndspuljen), so remote households may receive more.
	StateSubsidyAvgCap   int64
	MunicipalTopUp       int64 // municipal money per connected household
	ProviderContribution int64 // the network provider's contribution per connection
	MinOwnPayment        int64 // every household pays at least this
	CommunityFund        int64 // money the community raised for the area

	Split SplitRule
	// HouseholdCap is the most a household pays under SplitCapped.
	HouseholdCap int64
}

// DefaultCostParams are plausible figures for rural Denmark, used for an
// area until a coordinator sets its own. They are assumptions for a first
// estimate, not quotes and not the official rules of any subsidy pool:
//
//	trench              300 kr per metre (rural ploughing/digging, duct, cable)
//	drop                100 kr per metre
//	connection       12,000 kr per household (equipment, splicing, installation)
//	fixed           250,000 kr per area (POP cabinet, design, project)
//	state subsidy    20,000 kr average cap per household
//	municipal top-up      0 kr (a local political decision)
//	provider              0 kr (known only from a provider's bid)
//	own payment       2,500 kr minimum per household
//	community fund        0 kr
//	split             equal
func DefaultCostParams() CostParams {
	return CostParams{
		TrenchPerM:         300_00,
		DropPerM:           100_00,
		PerConnection:      12_000_00,
		Fixed:              250_000_00,
		StateSubsidyAvgCap: 20_000_00,
		MinOwnPayment:      2_500_00,
		Split:              SplitEqual,
	}
}

// Bounds on parameters: far beyond any real figure, and small enough that
// no sum of them can overflow int64 even for millions of households.
const (
	maxPerM       = 100_000_00        // 100,000 kr per metre
	maxPerUnit    = 100_000_000_00    // 100 million kr per household
	maxArea       = 10_000_000_000_00 // 10 billion kr per area
	maxDetour     = 10
	maxPOPDistM   = 50_000 // a POP farther from the area is a mistake
	popBoundsPadM = 2_000  // roads this far outside the area are routed over
)

func (p CostParams) split() SplitRule {
	if p.Split == "" {
		return SplitEqual
	}
	return p.Split
}

// Validate checks the parameters for area a: amounts not negative and
// within bounds, a known split rule with a cap when it needs one, a detour
// factor of 0 or 1-10, and a POP that is a longitude/latitude no more than
// 50 km from the area's bounds (skipped when a has no geometry). It
// returns the first problem as an EINVALID error naming the field.
func (p CostParams) Validate(a Area) error {
	if err := p.validateMoney(); err != nil {
		return err
	}
	if p.POP != nil {
		if err := checkPOP(*p.POP, a); err != nil {
			return err
		}
	}
	return nil
}

// validateMoney is Validate without the POP, which needs the area.
func (p CostParams) validateMoney() error {
	for _, f := range []struct {
		field, label string
		v, max       int64
	}{
		{"trench_cost_per_m", "the trench cost per metre", p.TrenchPerM, maxPerM},
		{"drop_cost_per_m", "the drop cost per metre", p.DropPerM, maxPerM},
		{"connection_cost", "the connection cost", p.PerConnection, maxPerUnit},
		{"fixed_cost", "the fixed cost", p.Fixed, maxArea},
		{"state_subsidy_avg_cap", "the state subsidy cap", p.StateSubsidyAvgCap, maxPerUnit},
		{"municipal_topup", "the municipal top-up", p.MunicipalTopUp, maxPerUnit},
		{"provider_contribution", "the provider contribution", p.ProviderContribution, maxPerUnit},
		{"min_own_payment", "the minimum own payment", p.MinOwnPayment, maxPerUnit},
		{"community_fund", "the community fund", p.CommunityFund, maxArea},
		{"household_cap", "the household cap", p.HouseholdCap, maxPerUnit},
	} {
		if f.v < 0 {
			return FieldError(f.field, "%s must not be negative, not %s", f.label, FormatKroner(f.v))
		}
		if f.v > f.max {
			return FieldError(f.field, "%s must be at most %s", f.label, FormatKroner(f.max))
		}
	}
	if d := p.Detour; d != 0 && !(d >= 1 && d <= maxDetour) {
		return FieldError("detour", "detour factor must be from 1 to %d (0 for the default %g), not %g", maxDetour, geo.DefaultDetour, d)
	}
	if !p.split().Valid() {
		return FieldError("split_rule", "split rule must be %s, %s or %s, not %q", SplitEqual, SplitByDrop, SplitCapped, p.Split)
	}
	if p.split() == SplitCapped {
		if p.HouseholdCap == 0 {
			return FieldError("household_cap", "the %s split needs a household cap above 0", SplitCapped)
		}
		if p.HouseholdCap < p.MinOwnPayment {
			return FieldError("household_cap", "household cap %s is below the minimum own payment %s",
				FormatKroner(p.HouseholdCap), FormatKroner(p.MinOwnPayment))
		}
	}
	return nil
}

// checkPOP accepts a longitude/latitude within maxPOPDistM of a's bounds.
func checkPOP(pop orb.Point, a Area) error {
	if math.IsNaN(pop[0]) || math.IsNaN(pop[1]) || pop[0] < -180 || pop[0] > 180 || pop[1] < -90 || pop[1] > 90 {
		return FieldError("pop", "POP (%g, %g) is not a longitude/latitude in degrees", pop[0], pop[1])
	}
	if len(a.Geometry) == 0 {
		return nil
	}
	b := a.Geometry.Bound()
	near := orb.Point{math.Max(b.Min[0], math.Min(pop[0], b.Max[0])), math.Max(b.Min[1], math.Min(pop[1], b.Max[1]))}
	if d := orbgeo.Distance(pop, near); d > maxPOPDistM {
		return FieldError("pop", "POP (%g, %g) is %.0f km from area %s; it must be within %d km", pop[0], pop[1], d/1000, a.Code, maxPOPDistM/1000)
	}
	return nil
}

// FormatKroner writes øre as kroner with two decimals: "-1234.50 kr".
func FormatKroner(ore int64) string {
	sign := ""
	u := uint64(ore)
	if ore < 0 {
		sign, u = "-", uint64(-ore)
	}
	return fmt.Sprintf("%s%d.%02d kr", sign, u/100, u%100)
}

// CostStore persists cost parameters and road centrelines. Both stores
// implement it; it is part of Store.
type CostStore interface {
	// CostParams returns the parameters stored for the area with code, or
	// ENOTFOUND when none are stored (or there is no such area).
	CostParams(ctx context.Context, code string) (CostParams, error)
	// SetCostParams stores p for the area with code, replacing any stored
	// before. ENOTFOUND if there is no such area.
	SetCostParams(ctx context.Context, code string, p CostParams) error
	// ImportRoads adds road centrelines (EPSG:4326) in one transaction,
	// skipping lines already stored with exactly the same coordinates, so
	// importing a file twice adds nothing. It returns how many were added.
	ImportRoads(ctx context.Context, lines []orb.LineString) (int, error)
	// Roads returns the stored lines whose bounds intersect bound, in the
	// order they were added; a store whose index rounds bounds outwards
	// may add a few lines just outside.
	Roads(ctx context.Context, bound orb.Bound) ([]orb.LineString, error)
}

// CostParams returns the area's cost parameters, and whether they were set
// for it (false: DefaultCostParams). Returns ENOTFOUND for an unknown area.
func (s *Service) CostParams(ctx context.Context, code string) (p CostParams, stored bool, err error) {
	if _, err := s.store.Area(ctx, code); err != nil {
		return CostParams{}, false, err
	}
	return s.costParams(ctx, code)
}

func (s *Service) costParams(ctx context.Context, code string) (CostParams, bool, error) {
	p, err := s.store.CostParams(ctx, code)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return DefaultCostParams(), false, nil
	case err != nil:
		return CostParams{}, false, err
	}
	return p, true, nil
}

// SetCostParams validates p for the area with code and stores it, with
// the old and new values in the audit log. Needs area.edit. Returns EINVALID
// naming the field at fault (nothing is stored then), ENOTFOUND for an
// unknown area.
func (s *Service) SetCostParams(ctx context.Context, code string, p CostParams) error {
	if err := s.Can(ctx, ActionEditArea, code); err != nil {
		return err
	}
	a, err := s.store.Area(ctx, code)
	if err != nil {
		return err
	}
	if p.Split == "" {
		p.Split = SplitEqual
	}
	if err := p.Validate(a); err != nil {
		return err
	}
	old, _, err := s.costParams(ctx, code)
	if err != nil {
		return err
	}
	return s.store.SetCostParamsAudited(ctx, code, p, s.audit(ctx, "area.cost", code, "area:"+code, old, p))
}

// MaxRoadLines bounds one road import (Denmark has about 1.5 million).
const MaxRoadLines = 5_000_000

// ImportRoads stores road centrelines (EPSG:4326, e.g. from geo.ReadRoads)
// for road-following route estimates; lines already stored are skipped.
// It returns how many lines were added. Returns EINVALID for a line with
// fewer than two points or a coordinate that is not a longitude/latitude
// (nothing is stored then).
func (s *Service) ImportRoads(ctx context.Context, lines []orb.LineString) (int, error) {
	if len(lines) > MaxRoadLines {
		return 0, FieldError("roads", "%d lines: at most %d in one import", len(lines), MaxRoadLines)
	}
	for i, l := range lines {
		if len(l) < 2 {
			return 0, FieldError("roads", "line %d has %d point(s), want at least 2", i+1, len(l))
		}
		for _, p := range l {
			if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
				return 0, FieldError("roads", "line %d: (%g, %g) is not a longitude/latitude", i+1, p[0], p[1])
			}
		}
	}
	n, err := s.store.ImportRoads(ctx, lines)
	if err != nil {
		return 0, fmt.Errorf("import roads: %w", err)
	}
	return n, nil
}

// costModel loads what pricing area code needs: the area, its addresses,
// its parameters (with pop and detour overrides when given) and, when the
// store has roads near it, the road network.
func (s *Service) costModel(ctx context.Context, code string, pop *orb.Point, detour float64) (*CostModel, error) {
	a, err := s.store.Area(ctx, code)
	if err != nil {
		return nil, err
	}
	p, _, err := s.costParams(ctx, code)
	if err != nil {
		return nil, err
	}
	if pop != nil {
		if err := checkPOP(*pop, a); err != nil {
			return nil, err
		}
		p.POP = pop
	}
	if detour != 0 {
		p.Detour = detour
	}
	addrs, err := s.store.AreaAddresses(ctx, code, nil, maxCostAddresses)
	if err != nil {
		return nil, err
	}
	if len(addrs) == maxCostAddresses {
		return nil, Errorf(EINVALID, "area %s has more than %d addresses: too many to price at once", code, maxCostAddresses-1)
	}
	var roads *geo.RoadNetwork
	b := a.Geometry.Bound()
	if p.POP != nil {
		b = b.Extend(*p.POP)
	}
	b = geo.BoxAround(b.Min, popBoundsPadM).Union(geo.BoxAround(b.Max, popBoundsPadM))
	lines, err := s.store.Roads(ctx, b)
	if err != nil {
		return nil, err
	}
	if len(lines) > 0 {
		roads = geo.NewRoadNetwork(lines)
	}
	return NewCostModel(a, addrs, p, roads)
}

// maxCostAddresses bounds the addresses of one priced area (one more than
// allowed, to detect the excess).
const maxCostAddresses = 2_000_001

// Cost prices area code at a take-up percent (nil: the current pledges),
// with the households assumed to join in CostModel's order. It uses the
// area's road network when roads have been imported near it, else the
// straight-line estimate. Returns ENOTFOUND for an unknown area and
// EINVALID (field take_up_percent) for a percent outside 0-100.
func (s *Service) Cost(ctx context.Context, code string, takeUpPercent *float64) (AreaCost, error) {
	m, err := s.costModel(ctx, code, nil, 0)
	if err != nil {
		return AreaCost{}, err
	}
	k := m.PledgedUnits()
	if takeUpPercent != nil {
		if k, err = m.UnitsAt(*takeUpPercent); err != nil {
			return AreaCost{}, err
		}
	}
	return m.At(k)
}

// CostCurve is the household share at each take-up level from the area's
// threshold to 100 %, the current share and the share if more households
// join (see CostModel.Curve). Returns ENOTFOUND for an unknown area.
func (s *Service) CostCurve(ctx context.Context, code string) (CostCurve, error) {
	m, err := s.costModel(ctx, code, nil, 0)
	if err != nil {
		return CostCurve{}, err
	}
	return m.Curve(ctx)
}

// RouteRequest chooses what Service.Route estimates.
type RouteRequest struct {
	// AllAddresses routes every address of the area; otherwise only the
	// addresses with a pledge.
	AllAddresses bool
	// POP overrides the area's POP for this estimate only.
	POP *orb.Point
	// Detour overrides the area's detour factor for this estimate; 0 keeps it.
	Detour float64
}

// AreaRoute is a route estimate for an area's addresses.
type AreaRoute struct {
	AreaCode  string
	POP       orb.Point
	Addresses []Address // the addresses routed, by id; Estimate.DropM follows them
	Units     int
	Estimate  geo.RouteEstimate
}

// Route estimates the trench and drops joining the area's POP and its
// pledged addresses (or all of them), along the roads when roads have been
// imported near the area. Returns ENOTFOUND for an unknown area and
// EINVALID for a bad POP or detour.
func (s *Service) Route(ctx context.Context, code string, req RouteRequest) (AreaRoute, error) {
	if d := req.Detour; d != 0 && !(d >= 1 && d <= maxDetour) {
		return AreaRoute{}, FieldError("detour", "detour factor must be from 1 to %d, not %g", maxDetour, d)
	}
	m, err := s.costModel(ctx, code, req.POP, req.Detour)
	if err != nil {
		return AreaRoute{}, err
	}
	return m.Route(req.AllAddresses)
}

// GeoJSON renders the route for maps and tender packages: a "pop" Point,
// one "trench" MultiLineString carrying the totals, then one "drop"
// LineString per address with a drop, naming it by address_id.
func (r AreaRoute) GeoJSON() ([]byte, error) {
	e := r.Estimate
	fc := geojson.NewFeatureCollection()
	pop := geojson.NewFeature(r.POP)
	pop.Properties = geojson.Properties{"kind": "pop", "area_code": r.AreaCode}
	fc.Append(pop)
	route := e.Route
	if route == nil {
		route = orb.MultiLineString{}
	}
	tf := geojson.NewFeature(route)
	tf.Properties = geojson.Properties{
		"kind": "trench", "area_code": r.AreaCode, "method": e.Method,
		"trench_m": roundM(e.TrenchM), "drop_m": roundM(e.DropTotalM),
		"addresses": len(r.Addresses), "units": r.Units, "unconnected": e.Unconnected,
	}
	fc.Append(tf)
	for i, d := range e.Drops {
		if d == nil {
			continue
		}
		f := geojson.NewFeature(d)
		f.Properties = geojson.Properties{"kind": "drop", "address_id": r.Addresses[i].ID, "drop_m": roundM(e.DropM[i])}
		fc.Append(f)
	}
	return fc.MarshalJSON()
}

// roundM rounds metres to the centimetre for output.
func roundM(m float64) float64 { return math.Round(m*100) / 100 }
