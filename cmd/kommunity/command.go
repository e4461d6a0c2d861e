package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/kommunity/kommunity/pledge"
)

// Helpers every subcommand shares: a flag set with the store flags, flag
// parsing without positional arguments, the service over the configured
// store, and indented JSON output.

// storeFlagSet returns a command's flag set with the store flags
// registered, the configuration they fill and the environment errors to
// report when parsing.
func storeFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *Config, *envErr) {
	cfg := DefaultConfig()
	errs := &envErr{}
	fs := newFlagSet(name, stderr)
	cfg.storeFlags(fs, errs)
	return fs, &cfg, errs
}

// openService opens the configured store and a Service on it.
func openService(ctx context.Context, cfg Config) (*pledge.Service, func(), error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return pledge.NewService(st), func() { st.Close() }, nil
}

// parseNoArgs parses flags and rejects positional arguments.
func parseNoArgs(fs *flag.FlagSet, args []string, errs envErr) error {
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
