// Package pgtest gives tests a fresh PostgreSQL+PostGIS database each, on
// the cluster named by TEST_DATABASE_URL (an admin URL, as printed by
// scripts/postgres.sh start). Without it tests skip, or fail when CI=true.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/internal/testenv"
)

// EnvURL is the environment variable with the admin URL.
const EnvURL = "TEST_DATABASE_URL"

// template is a database with PostGIS installed that every test database is
// copied from: CREATE EXTENSION postgis takes about a second, a copy of the
// template a fraction of that.
const template = "kommunity_test_template"

// AdminURL returns TEST_DATABASE_URL, skipping the test without it (failing
// it when CI=true, where PostgreSQL tests must run).
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		msg := EnvURL + " is not set: skipping PostgreSQL tests (scripts/test.sh starts a cluster; or run: " +
			"export " + EnvURL + "=$(bash scripts/postgres.sh start /tmp/kommunity-pg 55432))"
		testenv.Missing(tb, msg)
	}
	return u
}

// URL creates an empty database with PostGIS for this test and returns its
// URL; the database is dropped when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(context.Background())
	if err := ensureTemplate(ctx, conn); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "kommunity_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		// FORCE ends connections a test left open (a killed server).
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// ensureTemplate creates the template once per cluster. Test packages run
// in parallel, so an advisory lock makes the others wait for the first.
func ensureTemplate(ctx context.Context, conn *pgx.Conn) error {
	const lock = 0x6b6f6d2d746d706c // "kom-tmpl"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lock)); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(lock))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// A half-made template from an interrupted run is made again.
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+template+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+template); err != nil {
		return err
	}
	cfg := conn.Config().Copy()
	cfg.Database = template
	tc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = tc.Exec(ctx, `CREATE EXTENSION postgis`)
	tc.Close(context.Background())
	if err != nil {
		return fmt.Errorf("create extension postgis (is postgresql-15-postgis-3 installed?): %w", err)
	}
	_, err = conn.Exec(ctx, `ALTER DATABASE `+template+` WITH IS_TEMPLATE true`)
	return err
}
