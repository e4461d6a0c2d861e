package pledge

import (
	"context"
	"math"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
)

// Address returns one address with its pledged-unit count (never who
// pledged). Returns ENOTFOUND for an unknown id.
func (s *Service) Address(ctx context.Context, id string) (Address, error) {
	if id == "" || len(id) > 200 {
		return Address{}, Errorf(ENOTFOUND, "no address with this id")
	}
	return s.store.Address(ctx, id)
}

// NearestMetres is how far NearestAddress looks.
const NearestMetres = 2400

// NearestAddress returns the address inside an area that is nearest to p
// (lon, lat), within NearestMetres, and its distance in metres
// (geo.Distance). The store finds it with its spatial index. Addresses
// outside every area are not found: they cannot be pledged. Returns
// EINVALID for a point outside lon/lat range and ENOTFOUND when no address
// is near.
func (s *Service) NearestAddress(ctx context.Context, p orb.Point) (Address, float64, error) {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 {
		return Address{}, 0, FieldError("lon", "longitude must be from -180 to 180")
	}
	if p[1] < -90 || p[1] > 90 {
		return Address{}, 0, FieldError("lat", "latitude must be from -90 to 90")
	}
	a, d, err := s.store.NearestAddress(ctx, p, NearestMetres)
	if ErrorCode(err) == ENOTFOUND {
		return Address{}, 0, Errorf(ENOTFOUND, "no address near this point")
	}
	return a, d, err
}

// BoxAround is geo.BoxAround for the stores, which import pledge only: a
// lon/lat box holding every point within r metres of p by Distance.
func BoxAround(p orb.Point, r float64) orb.Bound { return geo.BoxAround(p, r) }

// Distance in metres between two lon/lat points, the one NearestAddress
// reports (geo.Distance).
func Distance(a, b orb.Point) float64 { return geo.Distance(a, b) }
