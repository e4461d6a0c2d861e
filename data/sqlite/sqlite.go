// Package sqlite is the embedded default store: one SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode. It implements pledge.Store and
// imports pledge only; it decides no business rule.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a pledge.Store on a SQLite file. Safe for concurrent use.
type Store struct {
	db           *sql.DB
	areaProgress *sql.Stmt
	// The map's tile queries, prepared once: parsing them was a tenth of
	// a tile's time.
	areaTile, addressTile *sql.Stmt
	shapes                shapes // area polygons for tiles
	path                  string // the database file, for Prewarm
	// version is a connection of its own that never writes, for
	// DataVersion: SQLite's data_version counts other connections'
	// commits. It is pinned (versionConn), since a new connection's
	// count starts again and could repeat an earlier reading. It opens at
	// the first DataVersion, so that a CLI's store, which never asks, has
	// no idle connection that would keep a first load from taking the
	// file for itself (BeginAddressImport).
	version     *sql.DB
	versionMu   sync.Mutex
	versionConn *sql.Conn
	// exclusiveFirstLoad: see SetExclusiveFirstLoad.
	exclusiveFirstLoad bool
}

var (
	_ pledge.Store         = (*Store)(nil)
	_ pledge.ProgressStore = (*Store)(nil)
)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	// Immediate transactions take the write lock at BEGIN: a deferred
	// transaction that reads and then writes fails with SQLITE_BUSY under
	// concurrency instead of waiting.
	q.Set("_txlock", "immediate")
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if s.version, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.version.SetMaxOpenConns(1)
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{{&s.areaProgress, `SELECT ` + areaColumns + ` FROM areas WHERE code = ?`}, {&s.areaTile, areaTileSQL}, {&s.addressTile, addressTileSQL}} {
		if *p.st, err = db.PrepareContext(ctx, p.q); err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.areaProgress, s.areaTile, s.addressTile} {
		if st != nil {
			st.Close()
		}
	}
	s.versionMu.Lock()
	if s.versionConn != nil {
		s.versionConn.Close()
	}
	s.versionMu.Unlock()
	if s.version != nil {
		s.version.Close()
	}
	return s.db.Close()
}

// DataVersion is SQLite's data_version on a connection that never
// writes: it moves with every commit of any other connection, in this
// process or another (pledge.DataVersioner).
func (s *Store) DataVersion(ctx context.Context) (string, error) {
	s.versionMu.Lock()
	defer s.versionMu.Unlock()
	if s.versionConn == nil {
		c, err := s.version.Conn(ctx)
		if err != nil {
			return "", formatError(err)
		}
		s.versionConn = c
	}
	var v int64
	if err := s.versionConn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return "", formatError(err)
	}
	return strconv.FormatInt(v, 10), nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return formatError(s.db.PingContext(ctx))
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction. Migrations are append-only: never edit an applied file.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		if err := s.applyMigration(ctx, version, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, version int, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, strings.TrimPrefix(name, "migrations/"), formatTime(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// formatError translates driver errors into pledge errors, in one place.
func formatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return pledge.Errorf(pledge.ENOTFOUND, "not found")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &pledge.Error{Code: pledge.ECONFLICT, Message: "already exists"}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &pledge.Error{Code: pledge.EUNAVAILABLE, Message: "the database is busy; try again"}
		}
	}
	return err
}

const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t.UTC()
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// inTx runs fn in an immediate transaction and commits when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return formatError(tx.Commit())
}
