package pledge

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/paulmach/orb"
)

// FeatureQuery selects one page of a feature collection (areas or
// addresses, as the OGC API – Features layer serves them), in the order of
// the collection's key: the area code or the address id. Paging is by
// keyset, never by offset, so a page costs the same wherever it is and a
// feature added or removed between pages neither repeats nor skips another.
type FeatureQuery struct {
	// BBox keeps features that intersect it, in lon/lat (CRS84); nil keeps
	// all. An area intersects when its bounding box does (edges included),
	// an address when its point lies inside or on the edge.
	BBox *orb.Bound
	// After is the key of the last feature of the previous page; "" starts
	// at the first.
	After string
	// Limit is the most features to return.
	Limit int
}

// AreaPage is one page of areas, each with its geometry.
type AreaPage struct {
	Areas []Area
	// Matched counts every area the query's BBox selects, on any page.
	Matched int
	// More reports whether a page follows (set by Service, not stores).
	More bool
}

// AddressPage is one page of addresses with their pledged-unit counts.
type AddressPage struct {
	Addresses []Address
	// Matched counts every address the query's BBox selects, on any page.
	Matched int
	// More reports whether a page follows (set by Service, not stores).
	More bool
}

// FeatureExtents are the lon/lat bounds of everything stored; a nil bound
// means there is nothing of that kind.
type FeatureExtents struct {
	Areas     *orb.Bound // of the areas' polygons
	Addresses *orb.Bound // of the address points
}

// FeatureStore pages areas and addresses by key for the OGC API – Features
// layer. Every Store implements it; data/storetest checks both stores
// against the same cases.
type FeatureStore interface {
	// AreaFeatures returns the areas with their geometry whose code is
	// greater than q.After and whose bounds intersect q.BBox, ordered by
	// code (byte order), at most q.Limit, and how many areas q.BBox selects
	// regardless of After and Limit.
	AreaFeatures(ctx context.Context, q FeatureQuery) (AreaPage, error)
	// AddressFeatures returns the addresses whose id is greater than
	// q.After and whose point lies in q.BBox (edges included), ordered by
	// id (byte order), at most q.Limit, and how many q.BBox selects
	// regardless of After and Limit.
	AddressFeatures(ctx context.Context, q FeatureQuery) (AddressPage, error)
	// FeatureExtents returns the exact bounds of all areas and addresses.
	FeatureExtents(ctx context.Context) (FeatureExtents, error)
}

// Page sizes of the feature layer. The maximum bounds one response's
// memory; a larger limit is clamped to it, as OGC API – Features wants.
const (
	DefaultFeaturesPerPage = 100
	MaxFeaturesPerPage     = 10000
)

// extentsTTL is how long FeatureExtents answers from memory: computing
// them reads every address, and they change only with imports, where a
// minute of delay in an advisory extent does no harm.
const extentsTTL = time.Minute

func (q FeatureQuery) normalise() (FeatureQuery, error) {
	if b := q.BBox; b != nil {
		for _, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return q, FieldError("bbox", "bbox must be four numbers")
			}
		}
		if b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			return q, FieldError("bbox", "bbox is out of longitude/latitude range")
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			// OGC lets a box cross the antimeridian with min_lon >
			// max_lon; no area of this service does, so it is an error.
			return q, FieldError("bbox", "bbox min must not exceed max (min_lon,min_lat,max_lon,max_lat)")
		}
	}
	switch {
	case q.Limit <= 0:
		q.Limit = DefaultFeaturesPerPage
	case q.Limit > MaxFeaturesPerPage:
		q.Limit = MaxFeaturesPerPage
	}
	return q, nil
}

// AreaFeatures returns one page of areas with geometry and counts (never
// who pledged), by code after q.After, and whether another page follows.
// A limit of 0 or less means DefaultFeaturesPerPage, above
// MaxFeaturesPerPage is clamped to it. Returns EINVALID for a bad bbox.
func (s *Service) AreaFeatures(ctx context.Context, q FeatureQuery) (AreaPage, error) {
	q, err := q.normalise()
	if err != nil {
		return AreaPage{}, err
	}
	// One more than the page tells whether a next page exists, so the
	// last page never links to an empty one.
	limit := q.Limit
	q.Limit++
	p, err := s.store.AreaFeatures(ctx, q)
	if err != nil {
		return AreaPage{}, err
	}
	if len(p.Areas) > limit {
		p.Areas, p.More = p.Areas[:limit], true
	}
	return p, nil
}

// AddressFeatures returns one page of addresses with their pledged-unit
// counts (never who pledged), by id after q.After, and whether another page
// follows. Limits as in AreaFeatures. Returns EINVALID for a bad bbox.
func (s *Service) AddressFeatures(ctx context.Context, q FeatureQuery) (AddressPage, error) {
	q, err := q.normalise()
	if err != nil {
		return AddressPage{}, err
	}
	limit := q.Limit
	q.Limit++
	p, err := s.store.AddressFeatures(ctx, q)
	if err != nil {
		return AddressPage{}, err
	}
	if len(p.Addresses) > limit {
		p.Addresses, p.More = p.Addresses[:limit], true
	}
	return p, nil
}

// FeatureExtents returns the bounds of the areas and of the addresses,
// possibly up to a minute old (they move only with imports).
func (s *Service) FeatureExtents(ctx context.Context) (FeatureExtents, error) {
	if e, ok := s.extents.get(); ok {
		return e, nil
	}
	e, err := s.store.FeatureExtents(ctx)
	if err == nil {
		s.extents.put(e)
	}
	return e, err
}

// extentsCache holds the last FeatureExtents. The zero value is ready.
type extentsCache struct {
	mu sync.Mutex
	e  FeatureExtents
	at time.Time // wall clock of the read; the TTL is not a business rule
}

func (c *extentsCache) get() (FeatureExtents, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) > extentsTTL {
		return FeatureExtents{}, false
	}
	return c.e, true
}

func (c *extentsCache) put(e FeatureExtents) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.e, c.at = e, time.Now()
}
