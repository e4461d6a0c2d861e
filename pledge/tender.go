package pledge

import "context"

// TenderData is what a tender package shows of one area: the area with its
// counters, every address with its pledged units, the cost parameters, the
// cost at the current pledges, the price-versus-take-up curve and the
// estimated route to the pledged addresses. It holds counts only, never
// who pledged, so it may go to network providers.
type TenderData struct {
	Area      Area
	Addresses []Address // every address of the area, by id
	Params    CostParams
	Cost      AreaCost  // as Service.Cost with the current pledges
	Curve     CostCurve // as Service.CostCurve
	Route     AreaRoute // as Service.Route for the pledged addresses
}

// TenderData gathers an area's tender data from one cost model, so the
// addresses are read and ordered once and the cost, curve and route agree.
// Returns ENOTFOUND for an unknown area and EINVALID when the area cannot
// be priced (no geometry and no POP, a threshold outside 0-100).
func (s *Service) TenderData(ctx context.Context, code string) (TenderData, error) {
	m, err := s.costModel(ctx, code, nil, 0)
	if err != nil {
		return TenderData{}, err
	}
	cost, idx, err := m.at(m.pledged)
	if err != nil {
		return TenderData{}, err
	}
	curve, err := m.Curve(ctx)
	if err != nil {
		return TenderData{}, err
	}
	// The route is the one the cost was priced with (CostModel.Route for
	// the pledged addresses), without estimating it twice.
	route := AreaRoute{AreaCode: m.area.Code, POP: m.pop, Units: m.pledged, Estimate: cost.Route, Addresses: make([]Address, len(idx))}
	for j, i := range idx {
		route.Addresses[j] = m.addrs[i]
	}
	return TenderData{Area: m.area, Addresses: m.addrs, Params: m.params, Cost: cost, Curve: curve, Route: route}, nil
}
