package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/pledge"
)

// openStore opens the store the configuration names: PostgreSQL when a
// database URL is set, else the embedded SQLite file. Opening applies
// pending migrations.
func openStore(ctx context.Context, cfg Config) (pledge.Store, error) {
	if cfg.DatabaseURL != "" {
		return nil, usageError{errors.New("the PostgreSQL store is not available in this build; use --db")}
	}
	return sqlite.Open(ctx, cfg.DB)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("migrate", stderr)
	cfg.storeFlags(fs, &errs)
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
