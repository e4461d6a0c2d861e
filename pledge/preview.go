package pledge

import (
	"context"
	"sort"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
)

// Import previews: what an import would do, read with the same readers
// and the same rules as the import itself, with nothing stored. The
// browser shows them before the coordinator applies the import.

// MaxPreviewPoints bounds the sample of points a preview maps.
const MaxPreviewPoints = 2000

// AddressPreview is what an address import would do.
type AddressPreview struct {
	Read       int
	Valid      int
	Unassigned int
	ByArea     map[string]int // valid addresses per area code
	Rejected   geo.InputErrors
	Sample     []orb.Point // at most MaxPreviewPoints, spread over the file
}

// AreaPreview is what an area import would do.
type AreaPreview struct {
	Read             int
	Created, Updated []string // area codes
	Features         []geo.AreaFeature
}

// PreviewAddresses reads src as ImportAddresses would and says what it
// would do, storing nothing. Needs data.import.
func (s *Service) PreviewAddresses(ctx context.Context, src AddressSource, opt AddressImportOptions) (AddressPreview, error) {
	if err := s.Can(ctx, ActionImport, ""); err != nil {
		return AddressPreview{}, err
	}
	areas, err := s.store.Areas(ctx, true)
	if err != nil {
		return AddressPreview{}, err
	}
	var res AddressImportResult
	batches := make(chan []Address, 2)
	done := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		done <- s.readAddresses(src, opt, &res, batches, stop)
	}()
	assign := newAssigner(areas)
	pv := AddressPreview{ByArea: map[string]int{}}
	var all []orb.Point
	for b := range batches {
		for _, a := range b {
			pv.Valid++
			if code := assign.code(a.Point); code != "" {
				pv.ByArea[code]++
			} else {
				pv.Unassigned++
			}
			all = append(all, a.Point)
		}
	}
	if err := <-done; err != nil {
		return AddressPreview{}, err
	}
	pv.Read, pv.Rejected = res.Read, res.Rejected
	step := max(1, (len(all)+MaxPreviewPoints-1)/MaxPreviewPoints)
	for i := 0; i < len(all); i += step {
		pv.Sample = append(pv.Sample, all[i])
	}
	return pv, nil
}

// PreviewAreas says which areas an import of feats would create and
// which it would update, storing nothing. Needs data.import.
func (s *Service) PreviewAreas(ctx context.Context, feats []geo.AreaFeature) (AreaPreview, error) {
	if err := s.Can(ctx, ActionImport, ""); err != nil {
		return AreaPreview{}, err
	}
	existing, err := s.store.Areas(ctx, false)
	if err != nil {
		return AreaPreview{}, err
	}
	known := map[string]bool{}
	for _, a := range existing {
		known[a.Code] = true
	}
	pv := AreaPreview{Read: len(feats), Features: feats}
	seen := map[string]bool{}
	for _, f := range feats {
		if seen[f.Code] {
			continue
		}
		seen[f.Code] = true
		if known[f.Code] {
			pv.Updated = append(pv.Updated, f.Code)
		} else {
			pv.Created = append(pv.Created, f.Code)
		}
	}
	sort.Strings(pv.Created)
	sort.Strings(pv.Updated)
	return pv, nil
}
