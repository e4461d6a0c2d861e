package geo

import "github.com/paulmach/orb"

// AreaFeature is one area read from a boundary file: all parts that share a
// code merged into one multi-polygon, in EPSG:4326.
type AreaFeature struct {
	Code    string
	Name    string
	Polygon orb.MultiPolygon
}

// AddressRecord is one address point read from an address file, in EPSG:4326.
type AddressRecord struct {
	ID    string    // source id; derived from text and position when the file has none
	Text  string    // human-readable address, e.g. "Nørregade 12, 8305 Samsø"
	Point orb.Point // lon, lat
	Units int       // households behind the address, at least 1
	Line  int       // line (CSV), feature number (GeoJSON), record number (Shapefile) or feature id (GeoPackage)
	// Derived is true when ID was derived from the content; repeated derived
	// ids are extra units of one address rather than duplicates.
	Derived bool
}

// MaxUnits bounds the units of one address: far above any real building,
// far below where a store's integer column would wrap. Every reader refuses
// more; pledge.MaxUnit, the highest unit number, is the same bound.
const MaxUnits = 100000
