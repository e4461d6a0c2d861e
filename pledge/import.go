package pledge

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// DefaultThresholdPercent is the take-up a new area must reach unless the
// import says otherwise.
const DefaultThresholdPercent = 50

// AreaImportOptions for Service.ImportAreas.
type AreaImport struct {
	// ThresholdPercent for the areas; nil keeps existing areas' thresholds
	// and gives new ones DefaultThresholdPercent.
	ThresholdPercent *float64
	// Status of new areas; "" means collecting.
	Status AreaStatus
}

// AreaImportResult is the summary of an area import.
type AreaImportResult struct {
	Read int // areas in the file (parts merged)
	AreaImportCounts
	Unassigned Unassigned // after the import
}

// ImportAreas stores areas (by code: new ones are created, known ones get
// the new geometry and name) and assigns every stored address to the area
// that contains it. Returns EINVALID for a threshold outside 0-100 or an
// empty code.
func (s *Service) ImportAreas(ctx context.Context, feats []geo.AreaFeature, opt AreaImport) (AreaImportResult, error) {
	pct := float64(DefaultThresholdPercent)
	if opt.ThresholdPercent != nil {
		pct = *opt.ThresholdPercent
		if pct < 0 || pct > 100 || pct != pct {
			return AreaImportResult{}, FieldError("threshold", "threshold must be a percent from 0 to 100, not %g", pct)
		}
	}
	status := opt.Status
	if status == "" {
		status = StatusCollecting
	}
	existing, err := s.store.Areas(ctx, true)
	if err != nil {
		return AreaImportResult{}, err
	}
	all := map[string]Area{}
	for _, a := range existing {
		all[a.Code] = a
	}
	areas := make([]Area, 0, len(feats))
	for i, f := range feats {
		if f.Code == "" {
			return AreaImportResult{}, FieldError("code", "area %d has no code", i+1)
		}
		a := Area{
			Code: f.Code, Name: f.Name, Geometry: f.Polygon, AreaM2: math.Abs(orbgeo.Area(f.Polygon)),
			ThresholdPercent: pct, Status: status,
		}
		areas = append(areas, a)
		all[a.Code] = a
	}
	merged := make([]Area, 0, len(all))
	for _, a := range all {
		merged = append(merged, a)
	}
	assign := newAssigner(merged)
	counts, err := s.store.ImportAreas(ctx, areas, AreaImportOptions{SetThreshold: opt.ThresholdPercent != nil}, assign.code)
	s.dropArea(ctx, "")
	if err != nil {
		return AreaImportResult{}, fmt.Errorf("import areas: %w", err)
	}
	u, err := s.store.Unassigned(ctx)
	if err != nil {
		return AreaImportResult{}, err
	}
	return AreaImportResult{Read: len(feats), AreaImportCounts: counts, Unassigned: u}, nil
}

// assigner places points in areas. Where areas overlap, the smaller area
// wins (a village inside a parish gets the village), then the lower code, so
// assignment does not depend on import order.
type assigner struct {
	ix    *geo.AreaIndex
	codes []string
}

func newAssigner(areas []Area) *assigner {
	sorted := append([]Area(nil), areas...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].AreaM2 != sorted[j].AreaM2 {
			return sorted[i].AreaM2 < sorted[j].AreaM2
		}
		return sorted[i].Code < sorted[j].Code
	})
	polys := make([]orb.MultiPolygon, len(sorted))
	codes := make([]string, len(sorted))
	for i, a := range sorted {
		polys[i], codes[i] = a.Geometry, a.Code
	}
	return &assigner{ix: geo.NewAreaIndex(polys), codes: codes}
}

// AssignAll sets codes[i] to assign(pts[i]) for every point, on every
// core (len(codes) >= len(pts)): stores use it to re-assign millions of
// addresses with the assign function of ImportAreas, which is safe for
// concurrent use.
func AssignAll(pts []orb.Point, codes []string, assign func(orb.Point) string) {
	workers := runtime.GOMAXPROCS(0)
	if len(pts) < 4096 || workers == 1 {
		for i, p := range pts {
			codes[i] = assign(p)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (len(pts) + workers - 1) / workers
	for lo := 0; lo < len(pts); lo += chunk {
		hi := min(lo+chunk, len(pts))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				codes[i] = assign(pts[i])
			}
		})
	}
	wg.Wait()
}

// code is safe for concurrent use: the index is immutable.
func (as *assigner) code(p orb.Point) string {
	if i := as.ix.Locate(p); i >= 0 {
		return as.codes[i]
	}
	return ""
}

// AddressSource yields address records; geo.AddressReader is one.
type AddressSource interface {
	Next() (geo.AddressRecord, error)
}

// AddressImportOptions for Service.ImportAddresses.
type AddressImportOptions struct {
	// SkipInvalid imports the valid rows and reports the rest; without it
	// one bad row rejects the whole import.
	SkipInvalid bool
	// File names the source in error messages.
	File string
}

// AddressImportResult is the summary of an address import.
type AddressImportResult struct {
	Read       int // records read, good and bad
	Imported   int // new addresses
	Updated    int // known addresses that changed
	Unchanged  int
	Unassigned int // addresses of this import outside every area
	Rejected   geo.InputErrors
}

const importBatch = 2000

// ImportAddresses reads every record from src, assigns each to its area and
// stores them all in one transaction: either everything is imported or
// nothing is. Bad rows make it fail with geo.InputErrors listing them all,
// unless SkipInvalid, when they are left out and listed in Rejected. A
// source id that appears twice is a bad row; records without a source id
// (ids derived from text and position) that repeat count as extra units.
func (s *Service) ImportAddresses(ctx context.Context, src AddressSource, opt AddressImportOptions) (AddressImportResult, error) {
	var res AddressImportResult
	areas, err := s.store.Areas(ctx, true)
	if err != nil {
		return res, err
	}
	assign := newAssigner(areas)
	imp, err := s.store.BeginAddressImport(ctx)
	if err != nil {
		return res, err
	}
	defer imp.Rollback()

	// Reading and parsing run in one goroutine, assigning in a second,
	// while the store writes the previous batch in this one: the stages
	// take about as long as each other, and the machine has more than one
	// core.
	parsed := make(chan []Address, 2)
	batches := make(chan []Address, 2)
	readDone := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(parsed)
		readDone <- s.readAddresses(src, opt, &res, parsed, stop)
	}()
	go func() {
		defer close(batches)
		unassigned := 0
		for b := range parsed {
			for i := range b {
				if b[i].AreaCode = assign.code(b[i].Point); b[i].AreaCode == "" {
					unassigned++
				}
			}
			select {
			case batches <- b:
			case <-stop:
				for range parsed {
				}
				return
			}
		}
		res.Unassigned = unassigned
	}()
	var addErr error
	for b := range batches {
		if addErr == nil {
			addErr = imp.Add(ctx, b)
		}
	}
	if err := <-readDone; err != nil {
		return res, err // unreadable file: nothing imported
	}
	if addErr != nil {
		return res, addErr
	}
	if len(res.Rejected) > 0 && !opt.SkipInvalid {
		return res, res.Rejected
	}
	if res.Read == 0 {
		return res, geo.InputErrors{{File: opt.File, Reason: "no addresses in the file"}}
	}
	counts, err := imp.Commit(ctx)
	s.dropArea(ctx, "")
	if err != nil {
		return res, fmt.Errorf("import addresses: %w", err)
	}
	res.Imported, res.Updated, res.Unchanged = counts.Inserted, counts.Updated, counts.Unchanged
	return res, nil
}

// readAddresses reads src to the end, sending batches of addresses not yet
// assigned. It fills res's Read and Rejected; the caller reads res only
// after batches is closed.
func (s *Service) readAddresses(src AddressSource, opt AddressImportOptions, res *AddressImportResult, batches chan<- []Address, stop <-chan struct{}) error {
	seed := maphash.MakeSeed()
	firstLine := map[uint64]int{} // explicit ids seen, by hash
	batch := make([]Address, 0, importBatch)
	send := func() bool {
		select {
		case batches <- batch:
			batch = make([]Address, 0, importBatch)
			return true
		case <-stop:
			return false
		}
	}
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var ie *geo.InputError
		if errors.As(err, &ie) {
			res.Read++
			res.Rejected = append(res.Rejected, ie)
			continue
		}
		if err != nil {
			return err
		}
		res.Read++
		// The readers refuse these already; a source of records in memory
		// must not bring them into the store either.
		if rec.Units < 1 || rec.Units > MaxUnit {
			res.Rejected = append(res.Rejected, &geo.InputError{File: opt.File, Line: rec.Line, Field: "units",
				Reason: fmt.Sprintf("%d units: want 1 to %d", rec.Units, MaxUnit)})
			continue
		}
		if !rec.Derived {
			h := maphash.String(seed, rec.ID)
			if line, dup := firstLine[h]; dup {
				res.Rejected = append(res.Rejected, &geo.InputError{File: opt.File, Line: rec.Line,
					Reason: fmt.Sprintf("duplicate id %q (first on line %d)", rec.ID, line)})
				continue
			}
			firstLine[h] = rec.Line
		}
		a := Address{ID: rec.ID, Text: rec.Text, Point: rec.Point, Units: rec.Units}
		if batch = append(batch, a); len(batch) == importBatch && !send() {
			return nil
		}
	}
	if len(batch) > 0 {
		send()
	}
	return nil
}

// Records is an AddressSource over records in memory; Next consumes them.
type Records []geo.AddressRecord

// Next returns the first record and drops it, or io.EOF.
func (r *Records) Next() (geo.AddressRecord, error) {
	if len(*r) == 0 {
		return geo.AddressRecord{}, io.EOF
	}
	rec := (*r)[0]
	*r = (*r)[1:]
	return rec, nil
}
