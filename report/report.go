package report

import (
	"archive/zip"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// Tender is everything an area's tender package shows: the data gathered
// by pledge.Service.TenderData and what the store does not know (who runs
// the tender, its deadline), with the clock and language.
type Tender struct {
	pledge.TenderData

	Municipality string
	Association  string
	// Contact is the association's contact for providers (a coordinator,
	// shown on purpose), never a pledging household.
	Contact string
	// TenderDeadline is when bids are due; nil shows "to be agreed".
	TenderDeadline *time.Time
	// Attribution replaces the map's data attribution when set; the default
	// names Danish public geodata, and OpenStreetMap when the route follows
	// imported roads.
	Attribution string

	// Now dates the package: the cover, the PDF's dates and the ZIP's
	// modification times. It must be set (inject the service's clock).
	Now time.Time
	// Lang is "da" (default) or "en".
	Lang string
}

// Files of the package, in the order they are written.
const (
	FilePDF          = "tender.pdf"
	FileArea         = "area.geojson"
	FileAddresses    = "addresses.geojson"
	FileAddressesCSV = "addresses.csv"
	FileRoute        = "route.geojson"
	FileGeoPackage   = "tender.gpkg"
	FileManifest     = "manifest.txt"
)

// CSVHeader is the header row of addresses.csv.
var CSVHeader = []string{"address_id", "text", "lon", "lat", "units", "pledged_units", "drop_m"}

// Write writes t's tender package to w as a ZIP: tender.pdf, area.geojson,
// addresses.geojson, addresses.csv, route.geojson, tender.gpkg and
// manifest.txt (each
// file's SHA-256 in sha256sum format), in that order, every entry dated
// t.Now. The same t gives the same bytes. Returns EINVALID for an unknown
// language or a missing clock.
func Write(w io.Writer, t Tender) error {
	r, err := newRenderer(&t)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	// Text files shrink about 5× at the fastest level too, at a fraction
	// of the default level's time; the PDF is compressed already.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	var manifest []byte
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{FilePDF, r.writePDF},
		{FileArea, r.writeAreaGeoJSON},
		{FileAddresses, r.writeAddressesGeoJSON},
		{FileAddressesCSV, r.writeAddressesCSV},
		{FileRoute, r.writeRouteGeoJSON},
		{FileGeoPackage, r.writeGeoPackage},
	} {
		method := zip.Deflate
		if f.name == FilePDF {
			method = zip.Store
		}
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: method, Modified: t.Now})
		if err != nil {
			return err
		}
		h := sha256.New()
		if err := f.write(io.MultiWriter(ew, h)); err != nil {
			return fmt.Errorf("tender package %s: %w", f.name, err)
		}
		manifest = fmt.Appendf(manifest, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), f.name)
	}
	ew, err := zw.CreateHeader(&zip.FileHeader{Name: FileManifest, Method: zip.Deflate, Modified: t.Now})
	if err != nil {
		return err
	}
	if _, err := ew.Write(manifest); err != nil {
		return err
	}
	return zw.Close()
}

// WritePDF writes only t's tender PDF to w.
func WritePDF(w io.Writer, t Tender) error {
	r, err := newRenderer(&t)
	if err != nil {
		return err
	}
	return r.writePDF(w)
}

// renderer holds what every file of one package shares.
type renderer struct {
	t *Tender
	l *locale
	// dropM is each address's drop in metres (by index into
	// t.Addresses), or -1 for an address not on the route.
	dropM []float64
}

func newRenderer(t *Tender) (*renderer, error) {
	// An opened tender's own association, contact and bid deadline win
	// over the installation's, and the package is dated by the opening,
	// so every provider downloads the same bytes.
	if tn := t.TenderData.Tender; tn != nil {
		if tn.Association != "" {
			t.Association = tn.Association
		}
		if tn.Contact != "" {
			t.Contact = tn.Contact
		}
		if tn.Municipality != "" {
			t.Municipality = tn.Municipality
		}
		d := tn.Deadline.Add(23*time.Hour + 59*time.Minute)
		t.TenderDeadline, t.Now = &d, tn.OpenedAt
	}
	l, err := newLocale(t.Lang)
	if err != nil {
		return nil, err
	}
	if t.Now.IsZero() {
		return nil, errors.New("report: Tender.Now is not set")
	}
	t.Now = t.Now.UTC()
	r := &renderer{t: t, l: l, dropM: make([]float64, len(t.Addresses))}
	onRoute := make(map[string]float64, len(t.Route.Addresses))
	for j, a := range t.Route.Addresses {
		if j < len(t.Route.Estimate.DropM) {
			onRoute[a.ID] = t.Route.Estimate.DropM[j]
		}
	}
	for i, a := range t.Addresses {
		d, ok := onRoute[a.ID]
		if !ok {
			d = -1
		}
		r.dropM[i] = d
	}
	return r, nil
}
