package pledge

import (
	"context"
	"math"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// Address returns one address with its pledged-unit count (never who
// pledged). Returns ENOTFOUND for an unknown id.
func (s *Service) Address(ctx context.Context, id string) (Address, error) {
	if id == "" || len(id) > 200 {
		return Address{}, Errorf(ENOTFOUND, "no address with this id")
	}
	return s.store.Address(ctx, id)
}

// nearestRadii are the search radii in metres, tried in turn: most clicks
// on a map land near an address, so the first small box usually answers.
var nearestRadii = [...]float64{150, 600, 2400}

// nearestPerArea bounds the addresses read per area and radius.
const nearestPerArea = 2000

// NearestAddress returns the address inside an area that is nearest to p
// (lon, lat), within 2.4 km, and its distance in metres. It works on any
// Store through AreaAddresses with a small box around p in each area whose
// bounds come near it. Addresses outside every area are not found: they
// cannot be pledged. Returns EINVALID for a point outside lon/lat range and
// ENOTFOUND when no address is near.
func (s *Service) NearestAddress(ctx context.Context, p orb.Point) (Address, float64, error) {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 {
		return Address{}, 0, FieldError("lon", "longitude must be from -180 to 180")
	}
	if p[1] < -90 || p[1] > 90 {
		return Address{}, 0, FieldError("lat", "latitude must be from -90 to 90")
	}
	areas, err := s.store.Areas(ctx, true)
	if err != nil {
		return Address{}, 0, err
	}
	bounds := make([]orb.Bound, len(areas))
	for i, a := range areas {
		bounds[i] = a.Geometry.Bound()
	}
	for _, r := range nearestRadii {
		box := boxAround(p, r)
		best, bestD := Address{}, math.Inf(1)
		for i, a := range areas {
			if !bounds[i].Intersects(box) {
				continue
			}
			as, err := s.store.AreaAddresses(ctx, a.Code, &box, nearestPerArea)
			if err != nil {
				return Address{}, 0, err
			}
			for _, ad := range as {
				if d := orbgeo.Distance(p, ad.Point); d < bestD || (d == bestD && ad.ID < best.ID) {
					best, bestD = ad, d
				}
			}
		}
		// Only an address within r is certainly the nearest: one farther
		// away in the box's corner may lose to one just outside the box.
		if bestD <= r {
			return best, bestD, nil
		}
	}
	return Address{}, 0, Errorf(ENOTFOUND, "no address near this point")
}

// boxAround is a lon/lat box reaching at least r metres from p each way.
func boxAround(p orb.Point, r float64) orb.Bound {
	const mPerDegLat = 111_320.0
	dLat := r / mPerDegLat
	cos := math.Cos(p[1] * math.Pi / 180)
	dLon := 180.0
	if cos > 1e-6 {
		dLon = math.Min(180, r/(mPerDegLat*cos))
	}
	return orb.Bound{
		Min: orb.Point{math.Max(-180, p[0]-dLon), math.Max(-90, p[1]-dLat)},
		Max: orb.Point{math.Min(180, p[0]+dLon), math.Min(90, p[1]+dLat)},
	}
}
