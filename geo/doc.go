// Package geo is pure geometry on orb: coordinate reference systems
// (EPSG:25832 and friends <-> EPSG:4326), the area index that assigns address
// points to areas, and readers and writers of address and area files (CSV,
// GeoJSON).
//
// Geometry crosses this package's boundary as orb types in EPSG:4326
// (orb.Point{lon, lat}); metric work happens in a projected CRS inside.
// It does no I/O beyond io.Reader and io.Writer and must not import pledge,
// web or any store.
package geo
