// Package report renders an area's tender package for network providers:
// a PDF (cover, summary, vector map, cost estimate, price-versus-take-up
// chart, terms and timeline, address annex) and the same data as GeoJSON
// and CSV, bundled in a ZIP with a SHA-256 manifest.
//
// It renders from pledge types (Tender) to an io.Writer and never reads a
// store: callers gather the data with pledge.Service.TenderData. The same
// Tender, clock included, always gives the same bytes, so two packages can
// be compared. The package holds counts only, never who pledged.
//
// It imports the standard library, pledge, geo, orb and fpdf; never gin,
// web or a store.
package report
