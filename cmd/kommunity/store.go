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
	fs, cfg, errs := storeFlagSet("migrate", stderr)
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	st, err := openStore(ctx, *cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
