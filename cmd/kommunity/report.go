package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
)

// TenderInfo is what a tender package says that the store does not know:
// who runs the tender and when bids are due. `report` and `serve` (for
// the download) share it.
type TenderInfo struct {
	Municipality string
	Association  string
	Contact      string // the association's contact for providers
	Deadline     string // YYYY-MM-DD or RFC 3339; "" shows "to be agreed"
	Attribution  string // data sources on the map; "" for the default
}

func (ti *TenderInfo) flags(fs *flag.FlagSet, errs *envErr) {
	stringVar(fs, &ti.Municipality, "municipality", "MUNICIPALITY", "`name` of the municipality in tender packages", errs)
	stringVar(fs, &ti.Association, "association", "ASSOCIATION", "`name` of the association running the tender", errs)
	stringVar(fs, &ti.Contact, "contact", "CONTACT", "the association's `contact` for providers (name, phone, e-mail)", errs)
	stringVar(fs, &ti.Deadline, "tender-deadline", "TENDER_DEADLINE", "`date` bids are due (YYYY-MM-DD); empty: to be agreed", errs)
	stringVar(fs, &ti.Attribution, "data-attribution", "DATA_ATTRIBUTION", "data sources named on the tender map; empty for the default", errs)
}

// TenderPackageFunc writes area code's tender package (a ZIP) in lang.
type TenderPackageFunc = func(ctx context.Context, code, lang string, w io.Writer) error

// packager returns the function that gathers an area's data through svc
// and writes its package, dated by svc's clock. It checks the deadline
// once, here, rather than on every download.
func (ti TenderInfo) packager(svc *pledge.Service) (TenderPackageFunc, error) {
	var deadline *time.Time
	if s := strings.TrimSpace(ti.Deadline); s != "" {
		d, err := parseDeadline(s)
		if err != nil {
			return nil, err
		}
		deadline = &d
	}
	return func(ctx context.Context, code, lang string, w io.Writer) error {
		data, err := svc.TenderData(ctx, code)
		if err != nil {
			return err
		}
		now := time.Now()
		if svc.Now != nil {
			now = svc.Now()
		}
		// An opened tender's association, contact and deadline win over
		// these (report.Write).
		return report.Write(w, report.Tender{
			TenderData: data, Municipality: ti.Municipality, Association: ti.Association, Contact: ti.Contact,
			TenderDeadline: deadline, Attribution: ti.Attribution, Now: now, Lang: lang,
		})
	}, nil
}

// parseDeadline reads a date (the end of that day, UTC, as area
// deadlines are kept) or an RFC 3339 time.
func parseDeadline(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(23*time.Hour + 59*time.Minute), nil
	}
	if d, err := time.Parse(time.RFC3339, s); err == nil {
		return d.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("tender deadline %q: want a date such as 2027-03-01", s)
}

// checkAdminToken refuses the retired shared admin token, saying what
// replaces it, rather than leaving the old endpoint silently off.
func checkAdminToken(tok string) error {
	if tok != "" {
		return errors.New("--admin-token (KOMMUNITY_ADMIN_TOKEN) is retired: tender packages download with a user's " +
			"session or API token; make one with: kommunity token add --email ADMIN_EMAIL --name SCRIPT (see README, Accounts)")
	}
	return nil
}

const reportUsage = `usage:
  kommunity report --area CODE -o FILE.zip [--lang da|en] [--date YYYY-MM-DD] [flags]
      write the area's tender package: tender.pdf, area.geojson, addresses.geojson,
      addresses.csv, route.geojson and manifest.txt in one ZIP ("-o -" for standard output)
`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("report", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage+"\nflags:\n"); fs.PrintDefaults() }
	cfg.storeFlags(fs, &errs)
	cfg.Tender.flags(fs, &errs)
	code := fs.String("area", "", "area `CODE`")
	out := fs.String("o", "", "write the package to `FILE.zip`; - for standard output")
	lang := fs.String("lang", report.Languages()[0], "language of the PDF: "+strings.Join(report.Languages(), " or "))
	date := fs.String("date", "", "date the package `YYYY-MM-DD` (UTC midnight) instead of now, to make the same bytes again")
	if err := parseNoArgs(fs, args, errs); err != nil {
		return err
	}
	switch {
	case *code == "":
		return usageError{errors.New("--area is required")}
	case *out == "":
		return usageError{errors.New("-o FILE.zip is required")}
	case !slices.Contains(report.Languages(), *lang):
		return usageError{fmt.Errorf("--lang must be %s, not %q", strings.Join(report.Languages(), " or "), *lang)}
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	if *date != "" {
		d, err := time.Parse(time.DateOnly, *date)
		if err != nil {
			return usageError{fmt.Errorf("--date %q: want YYYY-MM-DD", *date)}
		}
		svc.Now = func() time.Time { return d }
	}
	write, err := cfg.Tender.packager(svc)
	if err != nil {
		return usageError{err}
	}
	if *out == "-" {
		return write(ctx, *code, *lang, stdout)
	}
	n, err := writeFileAtomic(*out, func(w io.Writer) error { return write(ctx, *code, *lang, w) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: tender package of area %s, %d bytes\n", *out, *code, n)
	return nil
}

// writeFileAtomic writes path through a temporary file beside it, so a
// failed render never leaves a partial package under the final name.
func writeFileAtomic(path string, write func(io.Writer) error) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".kommunity-report-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	cw := &countingWriter{w: f}
	if err := write(cw); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return 0, err
	}
	return cw.n, os.Rename(f.Name(), path)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
