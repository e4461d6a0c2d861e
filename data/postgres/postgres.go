// Package postgres is the production store: PostgreSQL 15+ with PostGIS 3
// through a pgx/v5 connection pool. Addresses are geometry(Point,4326) with a
// GIST index, areas geometry(MultiPolygon,4326); area geometry travels as
// go-geom values through pgx-geom. It implements pledge.Store with the same
// semantics as the SQLite store (data/storetest checks both), imports pledge
// only, and decides no business rule.
//
// Several kommunity processes may share one database: every count is kept
// in the database in the same transaction as the change that moves it.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxgeom "github.com/twpayne/pgx-geom"

	"github.com/kommunity/kommunity/pledge"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tunes the connection pool. The zero value uses the defaults.
type Options struct {
	// MaxConns is the pool size per process; 0 means pgxpool's default
	// (the larger of 4 and the number of CPUs).
	MaxConns int32
	// StatementTimeout bounds every statement on the server, so one slow
	// query cannot hold a connection; 0 keeps the server's setting. Bulk
	// imports lift it for their own transaction.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening one connection (and pinging an idle
	// one); 0 means DefaultConnectTimeout. It is how long a request waits
	// when the database host does not answer at all.
	ConnectTimeout time.Duration
}

// DefaultConnectTimeout keeps requests answering (503) within about a
// second when the database is unreachable.
const DefaultConnectTimeout = time.Second

// Store is a pledge.Store on PostgreSQL. Safe for concurrent use, also by
// several processes on one database.
type Store struct {
	pool   *pgxpool.Pool
	writes *batcher[write] // pledges and rate-limit hits
}

func newStore(pool *pgxpool.Pool) *Store {
	s := &Store{pool: pool}
	s.writes = newBatcher(writeWorkers, maxWriteBatch, s.runWrites)
	return s
}

// Open connects to the database at url (postgres://...), applies pending
// migrations and returns the store with its pool.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL with its password.
		return nil, errors.New("open postgres: the database URL is not valid (want postgres://user@host:port/db)")
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = DefaultConnectTimeout
	}
	cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
	// The pool pings connections idle for over a second before handing
	// them out; bound that too, so a vanished server cannot hang a request.
	cfg.PingTimeout = opt.ConnectTimeout
	if opt.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opt.StatementTimeout.Milliseconds(), 10)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "kommunity"

	if err := migrate(ctx, cfg.ConnConfig.Copy()); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// The geometry types exist only after the first migration, so the
	// pool registers them per connection from here on.
	cfg.AfterConnect = pgxgeom.Register
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", formatError(err))
	}
	return newStore(pool), nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return formatError(s.pool.Ping(ctx))
}

// DataVersion is the current transaction snapshot (xmin:xmax:in-progress
// ids): two equal snapshots see the same committed transactions, and any
// transaction that writes is given an id that moves it
// (pledge.DataVersioner). It moves with writes to other tables and
// databases of the cluster too, which only costs a tile rendered again.
func (s *Store) DataVersion(ctx context.Context) (string, error) {
	var v string
	if err := s.pool.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&v); err != nil {
		return "", formatError(err)
	}
	return v, nil
}

// migrationLock serialises migrations of processes starting together.
const migrationLock = 0x6b6f6d6d756e6974 // "kommunit"

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction. Migrations are append-only: never edit an applied file.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return formatError(err)
	}
	defer conn.Close(context.Background())
	// Migrations may rewrite big tables: no statement timeout here.
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return formatError(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return formatError(err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", formatError(err))
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
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		if err := applyMigration(ctx, conn, version, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, formatError(err))
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, version int, name string) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil || done {
			return err
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		// Exec without arguments uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())`,
			version, strings.TrimPrefix(name, "migrations/"))
		return err
	})
}

var (
	errUnavailable = &pledge.Error{Code: pledge.EUNAVAILABLE, Message: "the database is unavailable"}
	errBusy        = &pledge.Error{Code: pledge.EUNAVAILABLE, Message: "the database is busy; try again"}
)

// formatError translates driver errors into pledge errors, in one place.
// Anything it does not know stays as it is (a logged 500 in web).
func formatError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pledge.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return pledge.Errorf(pledge.ENOTFOUND, "not found")
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == "23505": // unique_violation
			return &pledge.Error{Code: pledge.ECONFLICT, Message: "already exists"}
		case code == "57014", // query_canceled: statement_timeout
			code == "55P03", // lock_not_available
			code == "40001", // serialization_failure
			code == "40P01": // deadlock_detected
			return errBusy
		case strings.HasPrefix(code, "08"), // connection_exception
			code == "57P01", // admin_shutdown
			code == "57P02", // crash_shutdown
			code == "57P03", // cannot_connect_now
			code == "53300": // too_many_connections
			return errUnavailable
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed), errors.As(err, &ne):
		return errUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		// Waited for a pooled connection (or an answer) until the
		// request's deadline.
		return errUnavailable
	}
	return err
}

// inTx runs fn in a transaction and commits when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		return err
	}
	return formatError(tx.Commit(ctx))
}

// lockPledges orders an import against pledges without costing a pledge
// anything: SHARE ROW EXCLUSIVE on pledges conflicts with the ROW
// EXCLUSIVE lock every pledge and withdrawal takes by writing a pledge row,
// and with itself. So an import waits for the pledges in flight and holds
// new ones back until it commits: it never recounts areas while a pledge is
// uncommitted, and a pledge, whose one statement takes its lock on pledges
// before its snapshot, never counts into an area the import moved the
// address out of. Two imports run one after the other. Readers are not blocked.
func lockPledges(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `LOCK TABLE pledges IN SHARE ROW EXCLUSIVE MODE`)
	return formatError(err)
}
