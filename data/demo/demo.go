// Package demo generates a deterministic, plausible rural Danish
// municipality: parish-like areas that tile it, a road network, villages,
// hamlets and farms with their addresses, and some pledges. `kommunity serve
// --demo` fills an empty store with it; benchmarks use it for scale, from one
// village to millions of addresses streamed in O(areas) memory.
//
// The same Config always gives byte-identical output (math/rand/v2 PCG
// streams derived from Config.Seed; no map iteration, no clock). Geometry is
// laid out in metres on a local plane around 10.2 E 55.3 N (Funen) and mapped
// to EPSG:4326 with a fixed equirectangular scale; because that map is affine,
// "inside" in metres is "inside" in degrees, so containment holds exactly in
// lon/lat. Coordinates are rounded to 7 decimals (about 1 cm), the precision
// of the CSV, so a CSV round trip gives the same points.
//
// The package imports only the standard library, orb and geo: never a store,
// web or pledge, so any of them can use it.
package demo

import (
	"github.com/paulmach/orb"

	"github.com/kommunity/kommunity/geo"
)

// Defaults used for zero Config fields.
const (
	DefaultAreas       = 6
	DefaultAddresses   = 3000
	DefaultPledgeShare = 0.3
)

// Config chooses the size and character of a generated municipality. Zero
// fields take the defaults.
type Config struct {
	Seed uint64
	// Areas is the number of parish-like areas (about 36 km² each on
	// average); the municipality grows with it. Zero or less means 6.
	Areas int
	// Addresses is the total number of addresses, stragglers included. Zero
	// means about 3,000 (DefaultAddresses); negative means none.
	Addresses int
	// PledgeShare is the expected share of units with a pledge over the
	// municipality; each area gets its own share around it (from near zero
	// up to 2.5 times it, capped at 95 %), so some areas are well above
	// 50 % and some low. Zero means 0.3; negative means no pledges.
	PledgeShare float64
}

// Municipality is a generated municipality, everything in EPSG:4326.
type Municipality struct {
	Name      string
	Areas     []geo.AreaFeature   // codes "D001"...; tile the municipality; CCW outer rings, CW lake holes
	Roads     []orb.LineString    // main roads, village streets, local roads, hamlet roads, farm tracks
	Addresses []geo.AddressRecord // same records and order as EachAddress
	Pledges   []PledgeSeed
}

// PledgeSeed is one fake household's pledge for one unit at one address.
// Each (AddressID, Unit) occurs at most once; E-mail addresses are unique
// and use the reserved-for-examples domain example.dk. Stragglers (outside
// every area) never get a pledge.
type PledgeSeed struct {
	AddressID string
	Unit      int // 1..Units of the address
	Name      string
	Email     string
	Phone     string
}

func (c Config) normalized() Config {
	if c.Areas <= 0 {
		c.Areas = DefaultAreas
	}
	switch {
	case c.Addresses == 0:
		c.Addresses = DefaultAddresses
	case c.Addresses < 0:
		c.Addresses = 0
	}
	switch {
	case c.PledgeShare == 0:
		c.PledgeShare = DefaultPledgeShare
	case c.PledgeShare < 0:
		c.PledgeShare = 0
	case c.PledgeShare > 1:
		c.PledgeShare = 1
	}
	return c
}

// Stragglers is the number of addresses that lie deliberately outside every
// area (coastal stragglers, as real address registers have): Addresses/1000,
// rounded down, after defaults (3 at the default 3,000; 1,000 of a million).
// All others lie inside exactly one area, at least 5 m from any boundary.
func Stragglers(cfg Config) int {
	return cfg.normalized().Addresses / 1000
}

// Generate builds the whole municipality in memory. For very large
// configurations use GenerateAreas and EachAddress, which give the same areas
// and addresses without holding all addresses.
func Generate(cfg Config) Municipality {
	cfg = cfg.normalized()
	w := newWorld(cfg)
	m := Municipality{
		Name:      "Demo Kommune",
		Areas:     w.areaFeatures(),
		Addresses: make([]geo.AddressRecord, 0, cfg.Addresses),
	}
	for _, l := range w.links {
		m.Roads = append(m.Roads, w.lineLL(l.line))
	}
	emails := make(map[string]bool)
	_ = w.eachArea(true, func(a *areaPlan, recs []geo.AddressRecord, tracks [][]orb.Point) error {
		for _, s := range a.streets {
			if s.own {
				m.Roads = append(m.Roads, w.lineLL(s.line.pts))
			}
		}
		for _, t := range tracks {
			m.Roads = append(m.Roads, w.lineLL(t))
		}
		m.Addresses = append(m.Addresses, recs...)
		inArea := recs[:len(recs)-len(a.stragglerSides)]
		m.Pledges = w.appendPledges(m.Pledges, a, inArea, emails)
		return nil
	})
	return m
}

// GenerateAreas returns the areas of Generate(cfg) without generating
// addresses: O(areas) time and memory.
func GenerateAreas(cfg Config) []geo.AreaFeature {
	return newWorld(cfg.normalized()).areaFeatures()
}

// EachAddress calls fn with the addresses of Generate(cfg), in the same
// order, one area at a time: memory is O(areas) plus one area's addresses.
// Line is the record's line number in WriteAddressesCSV's output (the header
// is line 1). It stops at and returns the first error of fn.
func EachAddress(cfg Config, fn func(geo.AddressRecord) error) error {
	w := newWorld(cfg.normalized())
	return w.eachArea(false, func(_ *areaPlan, recs []geo.AddressRecord, _ [][]orb.Point) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}
