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
	// Tender is the area's tender once opened (tender_open and later):
	// its association, contact, bid deadline and opening date.
	Tender *Tender
}

// TenderData gathers an area's tender data from one cost model, so the
// addresses are read and ordered once and the cost, curve and route agree.
// Returns ENOTFOUND for an unknown area and EINVALID when the area cannot
// be priced (no geometry and no POP, a threshold outside 0-100). Needs
// package.download: admins and the area's coordinators any time, providers
// once the area has reached its threshold (EFORBIDDEN before: a provider
// sees only what is up for tender).
func (s *Service) TenderData(ctx context.Context, code string) (TenderData, error) {
	if err := s.CanDownloadPackage(ctx, code); err != nil {
		return TenderData{}, err
	}
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
	td := TenderData{Area: m.area, Addresses: m.addrs, Params: m.params, Cost: cost, Curve: curve, Route: route}
	if m.area.Status == StatusTenderOpen || m.area.Status == StatusAwarded || m.area.Status == StatusBuilt {
		if t, err := s.store.Tender(ctx, code); err == nil {
			td.Tender = &t
		} else if ErrorCode(err) != ENOTFOUND {
			return TenderData{}, err
		}
	}
	return td, nil
}

// forTender are the statuses in which providers see an area.
var forTender = map[AreaStatus]bool{StatusThresholdReached: true, StatusTenderOpen: true, StatusAwarded: true, StatusBuilt: true}

// CanDownloadPackage reports (as Can does) whether the user in ctx may
// download area code's tender package.
func (s *Service) CanDownloadPackage(ctx context.Context, code string) error {
	if err := s.Can(ctx, ActionDownloadPackage, code); err != nil {
		return err
	}
	if u := UserFrom(ctx); u.Role == RoleProvider && !u.system {
		a, err := s.store.Area(ctx, code)
		if err != nil {
			return err
		}
		if !forTender[a.Status] {
			return &Error{Code: EFORBIDDEN, Reason: ReasonForbidden, Message: "this area is not up for tender"}
		}
	}
	return nil
}
