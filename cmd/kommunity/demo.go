package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kommunity/kommunity/data/demo"
)

// runDemo writes a generated municipality as files, for trying imports and
// for benchmarks: areas.geojson, addresses.csv and roads.geojson.
func runDemo(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	seed := fs.Uint64("seed", 1, "generator seed")
	areas := fs.Int("areas", demo.DefaultAreas, "number of areas")
	addresses := fs.Int("addresses", demo.DefaultAddresses, "number of addresses")
	out := fs.String("out", ".", "output `directory`")
	pos, err := parseArgs(fs, args, nil)
	if err != nil {
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	if *areas < 1 || *addresses < 1 {
		return usageError{fmt.Errorf("--areas and --addresses must be at least 1")}
	}
	cfg := demo.Config{Seed: *seed, Areas: *areas, Addresses: *addresses}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	as := demo.GenerateAreas(cfg)
	write := func(name string, fn func(io.Writer) error) error {
		f, err := os.Create(filepath.Join(*out, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if err := fn(w); err != nil {
			f.Close()
			return err
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("areas.geojson", func(w io.Writer) error { return demo.WriteAreasGeoJSON(w, as) }); err != nil {
		return err
	}
	if err := write("addresses.csv", func(w io.Writer) error { return demo.WriteAddressesCSV(w, cfg) }); err != nil {
		return err
	}
	if *addresses <= 100_000 {
		m := demo.Generate(cfg)
		if err := write("roads.geojson", func(w io.Writer) error { return demo.WriteRoadsGeoJSON(w, m.Roads) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d areas and %d addresses to %s\n", len(as), *addresses, *out)
	return nil
}
