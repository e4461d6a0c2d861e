package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
)

const walksUsage = `usage:
  kommunity walks --area CODE --size N [--new] [--csv FILE] [--pdf FILE] [--lang da|en]
      split the area's unpledged addresses (never do-not-knock ones) into walks of at
      most N stops along the roads, and print them; the area's latest batch of that
      size is reused (its codes are on paper already) unless --new makes another
`

func runWalks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("walks", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, walksUsage+"\nflags:\n"); fs.PrintDefaults() }
	cfg.storeFlags(fs, &errs)
	code := fs.String("area", "", "area `CODE`")
	size := fs.Int("size", pledge.DefaultWalkSize, "at most `N` addresses per walk")
	fresh := fs.Bool("new", false, "make a new batch even if one of this size exists")
	csvPath := fs.String("csv", "", "write the walks as CSV to `FILE` (- for standard output)")
	pdfPath := fs.String("pdf", "", "write the walks as PDF to `FILE`, one page per walk")
	lang := fs.String("lang", report.Languages()[0], "language of the PDF: "+strings.Join(report.Languages(), " or "))
	if err := parseNoArgs(fs, args, errs); err != nil {
		return err
	}
	switch {
	case *code == "":
		return usageError{errors.New("--area is required")}
	case *size < pledge.MinWalkSize || *size > pledge.MaxWalkSize:
		return usageError{fmt.Errorf("--size must be %d to %d, not %d", pledge.MinWalkSize, pledge.MaxWalkSize, *size)}
	case !slices.Contains(report.Languages(), *lang):
		return usageError{fmt.Errorf("--lang must be %s, not %q", strings.Join(report.Languages(), " or "), *lang)}
	case *pdfPath == "-":
		return usageError{errors.New("--pdf needs a file name, not standard output")}
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	var ws []pledge.Walk
	if *fresh {
		ws, err = svc.GenerateWalks(ctx, *code, *size)
	} else {
		ws, err = svc.WalksOfSize(ctx, *code, *size)
	}
	if err != nil {
		return err
	}
	a, err := svc.Area(ctx, *code)
	if err != nil {
		return err
	}
	if *csvPath == "-" {
		return report.WalkCSV(stdout, ws)
	}
	var stops, drives int
	var length float64
	for _, w := range ws {
		stops += len(w.Stops)
		length += w.LengthM
		for _, s := range w.Stops {
			if s.Drive {
				drives++
			}
		}
	}
	batch := 0
	if len(ws) > 0 {
		batch = ws[0].Batch
	}
	fmt.Fprintf(stdout, "area %s: batch %d, %d walks of at most %d, %d addresses, %.1f km, %d legs to drive\n",
		a.Code, batch, len(ws), *size, stops, length/1000, drives)
	for _, w := range ws {
		first, last := "", ""
		if len(w.Stops) > 0 {
			first, last = w.Stops[0].Code, w.Stops[len(w.Stops)-1].Code
		}
		fmt.Fprintf(stdout, "  %dW%d  %3d stops  %6.0f m  %s .. %s\n", w.Batch, w.Number, len(w.Stops), w.LengthM, first, last)
	}
	if *csvPath != "" {
		n, err := writeFileAtomic(*csvPath, func(w io.Writer) error { return report.WalkCSV(w, ws) })
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %d bytes\n", *csvPath, n)
	}
	if *pdfPath != "" {
		now := time.Now().UTC()
		n, err := writeFileAtomic(*pdfPath, func(w io.Writer) error {
			return report.WalkPDF(w, a, ws, report.WalkOptions{Lang: *lang, Now: now})
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %d pages, %d bytes\n", *pdfPath, max(len(ws), 1), n)
	}
	return nil
}

// walkPDF is web.Config.WalkPDF over report.WalkPDF.
func walkPDF(w io.Writer, a pledge.Area, ws []pledge.Walk, lang string, now time.Time) error {
	return report.WalkPDF(w, a, ws, report.WalkOptions{Lang: lang, Now: now})
}
