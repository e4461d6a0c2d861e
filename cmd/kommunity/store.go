package main

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/pledge"
)

// openStore opens the store the configuration names: PostgreSQL when a
// database URL is set, else the embedded SQLite file. Opening applies
// pending migrations.
func openStore(ctx context.Context, cfg Config) (pledge.Store, error) {
	if cfg.DatabaseURL != "" {
		if cfg.DBMaxConns < 1 || cfg.DBMaxConns > math.MaxInt32 {
			return nil, usageError{fmt.Errorf("--db-max-conns must be 1 or more, not %d", cfg.DBMaxConns)}
		}
		if cfg.DBStatementTimeout < 0 {
			return nil, usageError{fmt.Errorf("--db-statement-timeout must not be negative")}
		}
		return postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{
			MaxConns:         int32(cfg.DBMaxConns),
			StatementTimeout: cfg.DBStatementTimeout,
		})
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
