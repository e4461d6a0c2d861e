package web

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// CostJSON is an area's cost at one take-up level, as GET
// /api/areas/{code}/cost and `kommunity cost --json` show it. Amounts are
// integer øre (1/100 DKK); lengths metres. No personal data: only counts.
type CostJSON struct {
	AreaCode           string         `json:"area_code"`
	Currency           string         `json:"currency"`
	TakeUpPercent      float64        `json:"take_up_percent"`
	EligibleUnits      int            `json:"eligible_units"`
	ConnectedUnits     int            `json:"connected_units"`
	ConnectedAddresses int            `json:"connected_addresses"`
	TrenchM            float64        `json:"trench_m"`
	DropM              float64        `json:"drop_m"`
	BuildCost          int64          `json:"build_cost"`
	Costs              CostPartsJSON  `json:"costs"`
	Funding            FundingJSON    `json:"funding"`
	HouseholdsPay      int64          `json:"households_pay"`
	HouseholdShare     int64          `json:"household_share"`
	HouseholdShareMin  int64          `json:"household_share_min"`
	HouseholdShareMax  int64          `json:"household_share_max"`
	Shortfall          int64          `json:"shortfall"`
	SplitRule          string         `json:"split_rule"`
	Method             string         `json:"method"` // "straight" or "road"
	Unconnected        int            `json:"unconnected"`
	POP                [2]float64     `json:"pop"` // lon, lat
	Params             CostParamsJSON `json:"params"`
}

// CostPartsJSON is the build cost by part.
type CostPartsJSON struct {
	Trench      int64 `json:"trench"`
	Drops       int64 `json:"drops"`
	Connections int64 `json:"connections"`
	Fixed       int64 `json:"fixed"`
}

// FundingJSON is who pays what besides the households.
type FundingJSON struct {
	StateSubsidy         int64 `json:"state_subsidy"`
	MunicipalTopUp       int64 `json:"municipal_topup"`
	ProviderContribution int64 `json:"provider_contribution"`
	CommunityFund        int64 `json:"community_fund"`
}

// CostParamsJSON are the parameters a cost was computed with; the names
// are the fields pledge.CostParams.Validate reports.
type CostParamsJSON struct {
	POP                  *[2]float64 `json:"pop"` // null: the area's point on surface
	Detour               float64     `json:"detour"`
	TrenchCostPerM       int64       `json:"trench_cost_per_m"`
	DropCostPerM         int64       `json:"drop_cost_per_m"`
	ConnectionCost       int64       `json:"connection_cost"`
	FixedCost            int64       `json:"fixed_cost"`
	StateSubsidyAvgCap   int64       `json:"state_subsidy_avg_cap"`
	MunicipalTopUp       int64       `json:"municipal_topup"`
	ProviderContribution int64       `json:"provider_contribution"`
	MinOwnPayment        int64       `json:"min_own_payment"`
	CommunityFund        int64       `json:"community_fund"`
	SplitRule            string      `json:"split_rule"`
	HouseholdCap         int64       `json:"household_cap"`
}

// NewCostParamsJSON converts parameters.
func NewCostParamsJSON(p pledge.CostParams) CostParamsJSON {
	j := CostParamsJSON{
		Detour: p.Detour, TrenchCostPerM: p.TrenchPerM, DropCostPerM: p.DropPerM, ConnectionCost: p.PerConnection,
		FixedCost: p.Fixed, StateSubsidyAvgCap: p.StateSubsidyAvgCap, MunicipalTopUp: p.MunicipalTopUp,
		ProviderContribution: p.ProviderContribution, MinOwnPayment: p.MinOwnPayment, CommunityFund: p.CommunityFund,
		SplitRule: string(p.Split), HouseholdCap: p.HouseholdCap,
	}
	if p.POP != nil {
		j.POP = &[2]float64{p.POP[0], p.POP[1]}
	}
	return j
}

// NewCostJSON converts an area's cost.
func NewCostJSON(c pledge.AreaCost) CostJSON {
	lo, hi := c.ShareRange()
	return CostJSON{
		AreaCode: c.AreaCode, Currency: pledge.Currency, TakeUpPercent: round2(c.TakeUpPercent),
		EligibleUnits: c.EligibleUnits, ConnectedUnits: c.Units, ConnectedAddresses: c.Addresses,
		TrenchM: round2(c.TrenchM), DropM: round2(c.DropM), BuildCost: c.BuildCost,
		Costs: CostPartsJSON{Trench: c.TrenchCost, Drops: c.DropCost, Connections: c.ConnectionCost, Fixed: c.FixedCost},
		Funding: FundingJSON{StateSubsidy: c.StateSubsidy, MunicipalTopUp: c.MunicipalTopUp,
			ProviderContribution: c.ProviderContribution, CommunityFund: c.CommunityFund},
		HouseholdsPay: c.HouseholdsPay, HouseholdShare: c.HouseholdShare(), HouseholdShareMin: lo, HouseholdShareMax: hi,
		Shortfall: c.Shortfall, SplitRule: string(c.Rule), Method: c.Method, Unconnected: c.Route.Unconnected,
		POP: [2]float64{c.POP[0], c.POP[1]}, Params: NewCostParamsJSON(c.Params),
	}
}

// CurveJSON is GET /api/areas/{code}/cost/curve: the household share at
// take-up levels from the threshold to 100 %, the current share and the
// share if more households join. Amounts are integer øre.
type CurveJSON struct {
	AreaCode         string           `json:"area_code"`
	Currency         string           `json:"currency"`
	Method           string           `json:"method"`
	Assumption       string           `json:"assumption"`
	EligibleUnits    int              `json:"eligible_units"`
	ThresholdPercent float64          `json:"threshold_percent"`
	ThresholdUnits   int              `json:"threshold_units"`
	Points           []CurvePointJSON `json:"points"`
	Current          CurrentJSON      `json:"current"`
	IfMoreJoin       []MoreJoinJSON   `json:"if_more_join"`
}

// CurvePointJSON is one level of the curve. Threshold and Current mark the
// points at the threshold and at the current take-up.
type CurvePointJSON struct {
	TakeUpPercent  float64 `json:"take_up_percent"`
	Units          int     `json:"units"`
	Addresses      int     `json:"addresses"`
	TrenchM        float64 `json:"trench_m"`
	DropM          float64 `json:"drop_m"`
	BuildCost      int64   `json:"build_cost"`
	HouseholdsPay  int64   `json:"households_pay"`
	HouseholdShare int64   `json:"household_share"`
	Shortfall      int64   `json:"shortfall"`
	Threshold      bool    `json:"threshold"`
	Current        bool    `json:"current"`
}

// CurrentJSON is the share with the pledged households only; the share is
// null while nobody has pledged.
type CurrentJSON struct {
	PledgedUnits   int     `json:"pledged_units"`
	TakeUpPercent  float64 `json:"take_up_percent"`
	HouseholdShare *int64  `json:"household_share"`
}

// MoreJoinJSON is the share if more_households more households join.
type MoreJoinJSON struct {
	MoreHouseholds   int     `json:"more_households"`
	Units            int     `json:"units"`
	TakeUpPercent    float64 `json:"take_up_percent"`
	HouseholdShare   int64   `json:"household_share"`
	ReachesThreshold bool    `json:"reaches_threshold"`
}

// NewCurveJSON converts a curve.
func NewCurveJSON(cv pledge.CostCurve) CurveJSON {
	j := CurveJSON{
		AreaCode: cv.AreaCode, Currency: pledge.Currency, Method: cv.Method, Assumption: cv.Assumption,
		EligibleUnits: cv.EligibleUnits, ThresholdPercent: cv.ThresholdPercent, ThresholdUnits: cv.ThresholdUnits,
		Points: make([]CurvePointJSON, len(cv.Points)), IfMoreJoin: make([]MoreJoinJSON, len(cv.IfMoreJoin)),
		Current: CurrentJSON{PledgedUnits: cv.PledgedUnits},
	}
	for i, p := range cv.Points {
		j.Points[i] = CurvePointJSON{
			TakeUpPercent: round2(p.TakeUpPercent), Units: p.Units, Addresses: p.Addresses,
			TrenchM: round2(p.TrenchM), DropM: round2(p.DropM), BuildCost: p.BuildCost,
			HouseholdsPay: p.HouseholdsPay, HouseholdShare: p.HouseholdShare, Shortfall: p.Shortfall,
			Threshold: p.Units == cv.ThresholdUnits, Current: p.Units == cv.PledgedUnits,
		}
	}
	if cv.Current != nil {
		share := cv.Current.HouseholdShare
		j.Current.HouseholdShare = &share
		j.Current.TakeUpPercent = round2(cv.Current.TakeUpPercent)
	}
	for i, m := range cv.IfMoreJoin {
		j.IfMoreJoin[i] = MoreJoinJSON{
			MoreHouseholds: m.More, Units: m.Units, TakeUpPercent: round2(m.TakeUpPercent),
			HouseholdShare: m.HouseholdShare, ReachesThreshold: m.Units >= cv.ThresholdUnits,
		}
	}
	return j
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// areaCost answers GET /api/areas/{code}/cost[?take_up=PERCENT]; without
// take_up, the cost at the current pledges.
func (s *Server) areaCost(c *gin.Context) {
	var pct *float64
	if q := c.Query("take_up"); q != "" {
		f, err := strconv.ParseFloat(q, 64)
		if err != nil {
			s.writeError(c, pledge.FieldError("take_up_percent", "take_up must be a percent from 0 to 100, not %q", q))
			return
		}
		pct = &f
	}
	cost, err := s.svc.Cost(c.Request.Context(), c.Param("code"), pct)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewCostJSON(cost))
}

// areaCostCurve answers GET /api/areas/{code}/cost/curve.
func (s *Server) areaCostCurve(c *gin.Context) {
	cv, err := s.svc.CostCurve(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewCurveJSON(cv))
}

// areaRoute answers GET /api/areas/{code}/route.geojson[?all_addresses=true]:
// the estimated route to the pledged addresses (or all) as GeoJSON.
func (s *Server) areaRoute(c *gin.Context) {
	var req pledge.RouteRequest
	if q := c.Query("all_addresses"); q != "" {
		all, err := strconv.ParseBool(q)
		if err != nil {
			s.writeError(c, pledge.FieldError("all_addresses", "all_addresses must be true or false"))
			return
		}
		req.AllAddresses = all
	}
	r, err := s.svc.Route(c.Request.Context(), c.Param("code"), req)
	if err != nil {
		s.writeError(c, err)
		return
	}
	body, err := r.GeoJSON()
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/geo+json", body)
}
