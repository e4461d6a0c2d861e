package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func runImportAreas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("import areas", stderr)
	cfg.storeFlags(fs, &errs)
	idProp := fs.String("id-prop", "", "feature property holding the area code (default: the feature id, then \"code\" or \"id\")")
	nameProp := fs.String("name-prop", "", "feature property holding the area name (default \"name\")")
	threshold := fs.Float64("threshold", -1, "take-up threshold `percent` (default 50 for new areas; given, it applies to existing areas too)")
	crsFlag := fs.String("crs", "", "coordinate reference system of the file, e.g. EPSG:25832 (default: the file's crs member, else EPSG:4326; Shapefile: its .prj; GeoPackage: the layer's srs_id)")
	layer := fs.String("layer", "", "GeoPackage: the features `table` to read (default: the only one)")
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	if len(pos) != 1 {
		return usageError{errors.New("want exactly one FILE")}
	}
	opt := geo.AreaReadOptions{IDProp: *idProp, NameProp: *nameProp}
	if *crsFlag != "" {
		if opt.CRS, err = geo.ParseCRS(*crsFlag); err != nil {
			return usageError{err}
		}
	}
	var imp pledge.AreaImport
	if *threshold != -1 {
		imp.ThresholdPercent = threshold
	}
	kind := layeredKind(pos[0])
	if *layer != "" && kind != kindGPKG {
		return usageError{errors.New("--layer goes with a GeoPackage (.gpkg)")}
	}
	name := filepath.Base(pos[0])
	areas, warns, err := readAreaFile(ctx, pos[0], kind, *layer, opt, stderr)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return importRejected(err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	stop := spinner(fmt.Sprintf("%s: storing %d areas and re-assigning the addresses", name, len(areas)), stderr)
	res, err := pledge.NewService(st).ImportAreas(ctx, areas, imp)
	stop()
	if err != nil {
		return importRejected(err)
	}
	fmt.Fprintf(stdout, "%s: read %d areas, created %d, updated %d; %d addresses re-assigned; unassigned %d addresses (%d units)\n",
		name, res.Read, res.Created, res.Updated, res.Reassigned, res.Unassigned.Addresses, res.Unassigned.Units)
	return nil
}

func runImportAddresses(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("import addresses", stderr)
	cfg.storeFlags(fs, &errs)
	format := fs.String("format", "csv", "file format: dawa, csv or geojson")
	idCol := fs.String("id-col", "", "column (property) with the source id (default \"id\" if present, else ids derived from text and position)")
	xCol := fs.String("x-col", "", "column with longitude/easting (default lon, longitude, x)")
	yCol := fs.String("y-col", "", "column with latitude/northing (default lat, latitude, y)")
	textCol := fs.String("text-col", "", "column(s) for the address text: \"street,number\" or a template \"{street} {number}, {postcode} {city}\"")
	unitsCol := fs.String("units-col", "", "column with the number of units (default \"units\" if present, else 1)")
	crsFlag := fs.String("crs", "", "coordinate reference system, e.g. EPSG:25832 (default EPSG:4326; dawa: its EPSG:25832 columns)")
	delim := fs.String("delimiter", "", "field delimiter (default: detected from the header; \\t for tab)")
	unitsFile := fs.String("units", "", "dawa: unit `file` (Enhedsadresse.CSV) giving the units per address")
	streetsFile := fs.String("streets", "", "dawa: street-name `file` (Vejnavn.CSV) for address texts")
	skip := fs.Bool("skip-invalid", false, "import the valid rows and report the rest (default: any bad row rejects the import)")
	layer := fs.String("layer", "", "GeoPackage: the features `table` to read (default: the only one)")
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	if len(pos) != 1 {
		return usageError{errors.New("want exactly one FILE")}
	}
	opt := geo.AddressReadOptions{Format: *format, IDCol: *idCol, XCol: *xCol, YCol: *yCol, UnitsCol: *unitsCol, Text: *textCol}
	if *crsFlag != "" {
		if opt.CRS, err = geo.ParseCRS(*crsFlag); err != nil {
			return usageError{err}
		}
	}
	if *delim != "" {
		d := *delim
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		r, size := utf8.DecodeRuneInString(d)
		if size != len(d) {
			return usageError{fmt.Errorf("--delimiter must be one character, not %q", *delim)}
		}
		opt.Delimiter = r
	}
	for _, side := range []struct {
		path string
		r    *io.Reader
		name *string
	}{{*unitsFile, &opt.Units, &opt.UnitsName}, {*streetsFile, &opt.Streets, &opt.StreetsName}} {
		if side.path == "" {
			continue
		}
		if *format != geo.FormatDAWA {
			return usageError{errors.New("--units and --streets go with --format dawa")}
		}
		sf, err := os.Open(side.path)
		if err != nil {
			return err
		}
		defer sf.Close()
		*side.r, *side.name = sf, filepath.Base(side.path)
	}
	kind := layeredKind(pos[0])
	if kind != "" {
		// Shapefiles and GeoPackages carry their own geometry, CRS and
		// code page, so the delimited-file options do not apply.
		var wrong []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "format", "x-col", "y-col", "delimiter", "units", "streets":
				wrong = append(wrong, "--"+f.Name)
			}
		})
		if len(wrong) > 0 {
			return usageError{fmt.Errorf("%s do(es) not apply to a %s file", strings.Join(wrong, ", "), kind)}
		}
	}
	if *layer != "" && kind != kindGPKG {
		return usageError{errors.New("--layer goes with a GeoPackage (.gpkg)")}
	}
	name := filepath.Base(pos[0])
	var rd *geo.AddressReader
	if kind != "" {
		l, closeLayer, err := openLayered(ctx, pos[0], kind, *layer, "reading "+name, stderr)
		if err != nil {
			return importRejected(err)
		}
		defer closeLayer()
		if rd, err = geo.NewVectorAddressReader(l, opt); err != nil {
			return importRejected(err)
		}
	} else {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		if rd, err = geo.NewAddressReader(progressReader(f, "reading "+name, stderr), name, opt); err != nil {
			return importRejected(err)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// A first load from the command line may take an SQLite file for
	// itself, when nothing else has it open: it writes every page once.
	if sq, ok := st.(*sqlite.Store); ok {
		sq.SetExclusiveFirstLoad(true)
	}
	start := time.Now()
	// Once every record is read, the import's commit (index builds and
	// counters: seconds at a million addresses) shows a spinner of its own.
	src := &endSpinner{AddressReader: rd, desc: name + ": storing the addresses (indexes and counters)", stderr: stderr}
	res, err := pledge.NewService(st).ImportAddresses(ctx, src, pledge.AddressImportOptions{SkipInvalid: *skip, File: name})
	src.stop()
	for _, w := range rd.Warnings() {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return importRejected(err)
	}
	if len(res.Rejected) > 0 {
		fmt.Fprintf(stderr, "rejected rows:\n%s\n", res.Rejected)
	}
	fmt.Fprintf(stdout, "%s: read %d, imported %d, updated %d, unchanged %d, unassigned %d, rejected %d (%.1fs)\n",
		name, res.Read, res.Imported, res.Updated, res.Unchanged, res.Unassigned, len(res.Rejected), time.Since(start).Seconds())
	return nil
}

// readAreaFile reads areas from GeoJSON, a Shapefile or a GeoPackage
// layer, by kind (layeredKind; "" is GeoJSON).
func readAreaFile(ctx context.Context, path, kind, layer string, opt geo.AreaReadOptions, stderr io.Writer) ([]geo.AreaFeature, []geo.Warning, error) {
	name := filepath.Base(path)
	if kind != "" {
		l, closeLayer, err := openLayered(ctx, path, kind, layer, "reading "+name, stderr)
		if err != nil {
			return nil, nil, err
		}
		defer closeLayer()
		return geo.ReadVectorAreas(l, opt)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return geo.ReadAreas(progressReader(f, "reading "+name, stderr), name, opt)
}

// importRejected explains that nothing changed, then what was wrong.
func importRejected(err error) error {
	if geo.IsInputError(err) {
		var ies geo.InputErrors
		n := 1
		if errors.As(err, &ies) {
			n = len(ies)
		}
		return fmt.Errorf("import rejected, nothing was changed (%d problem(s); --skip-invalid imports the valid rows):\n%w", n, err)
	}
	return err
}

// spinner shows desc with a spinner and the time elapsed while work of no
// known length runs, when stderr is a terminal; stop clears it.
func spinner(desc string, stderr io.Writer) (stop func()) {
	w, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(w.Fd())) {
		return func() {}
	}
	bar := progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	bar.RenderBlank()
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				bar.Add(1)
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		bar.Finish()
	}
}

// endSpinner is an address source that starts a spinner when its last
// record has been read.
type endSpinner struct {
	*geo.AddressReader
	desc   string
	stderr io.Writer

	mu   sync.Mutex
	done func() // the running spinner's stop
}

func (e *endSpinner) Next() (geo.AddressRecord, error) {
	rec, err := e.AddressReader.Next()
	if err == io.EOF {
		e.mu.Lock()
		if e.done == nil {
			e.done = spinner(e.desc, e.stderr)
		}
		e.mu.Unlock()
	}
	return rec, err
}

// stop clears the spinner, if it started.
func (e *endSpinner) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done != nil {
		e.done()
		e.done = func() {}
	}
}

// progressReader shows a progress bar of bytes read when stderr is a
// terminal; elsewhere (pipes, CI logs) it stays quiet.
func progressReader(f *os.File, desc string, stderr io.Writer) io.Reader {
	w, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(w.Fd())) {
		return f
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return f
	}
	bar := progressbar.NewOptions64(st.Size(),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	r := progressbar.NewReader(f, bar)
	return &r
}
