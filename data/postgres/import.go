package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kommunity/kommunity/pledge"
)

// An address import streams rows with one COPY that runs beside the caller
// (reading and assigning the next rows overlaps with the server storing the
// last), in one of two ways:
//
//   - into an empty addresses table (a first load) rows go into a new
//     table without indexes or constraints, which get made at Commit:
//     building an index from sorted keys is several times faster than a
//     million single-row inserts into it, and a constraint is checked
//     with one join instead of row by row (see loadTable);
//   - into a filled table rows go to a temporary staging table, merged at
//     Commit with one INSERT ... ON CONFLICT that touches only changed rows.
//
// Either way the import is one transaction: all or nothing.

// A first load goes further: its rows go into a table of their own,
// addresses_load, created and filled outside the import's transaction
// and committed, so that two connections can build its indexes at once
// (the GIST index on one, the others beside it: the index builds were
// half of such an import). The import's transaction, which has held the
// empty addresses table locked from the start, then drops it and renames
// addresses_load in its place, so readers see the empty table or the full
// one, never a part. A load that fails is dropped; one left by a crash is
// dropped by the next first load. loadTable must match the migrations
// (TestFirstLoadRemakesSchema compares columns, indexes and constraints).
const loadTable = `CREATE TABLE addresses_load (
	id         text COLLATE "C" NOT NULL,
	text       text NOT NULL,
	search_key text COLLATE "C" NOT NULL,
	geom       geometry(Point, 4326) NOT NULL,
	units      integer NOT NULL CONSTRAINT addresses_units_check CHECK (units >= 1),
	area_id    bigint
)`

// BeginAddressImport opens the import's transaction. Into a filled table
// nothing shared is locked until Commit; a first load holds the addresses
// table (empty, so no pledge can wait on it) until it commits.
func (s *Store) BeginAddressImport(ctx context.Context) (pledge.AddressImport, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, formatError(err)
	}
	im := &addressImport{pool: s.pool, tx: tx, areaIDs: map[string]int64{}}
	if err := im.begin(ctx); err != nil {
		tx.Rollback(context.Background())
		return nil, formatError(err)
	}
	return im, nil
}

type addressImport struct {
	pool    *pgxpool.Pool
	tx      pgx.Tx
	direct  bool      // a first load, into addresses_load
	load    *pgx.Conn // the connection that fills addresses_load
	areaIDs map[string]int64
	staged  int // rows sent, repeated ids included
	copy    *copyStream
	done    bool
}

func (im *addressImport) begin(ctx context.Context) error {
	tx := im.tx
	// Bulk work: no request statement timeout, and room to sort in memory.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL work_mem = '128MB'; SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT code, id FROM areas`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var code string
		var id int64
		if err := rows.Scan(&code, &id); err != nil {
			rows.Close()
			return err
		}
		im.areaIDs[code] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// A first load is decided under the import lock, so two imports never
	// both take the table for empty.
	var empty bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM addresses)`).Scan(&empty); err != nil {
		return err
	}
	if empty {
		if err := lockPledges(ctx, tx); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM addresses)`).Scan(&empty); err != nil {
			return err
		}
	}
	if empty {
		im.direct = true
		// Held until commit: no reader sees the table change and no other
		// import starts, so the load table is this import's alone.
		if _, err := tx.Exec(ctx, `LOCK TABLE addresses IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		if im.load, err = acquireBulk(ctx, im.pool); err != nil {
			return err
		}
		_, err = im.load.Exec(ctx, `DROP TABLE IF EXISTS addresses_load; `+loadTable)
		return err
	}
	_, err = tx.Exec(ctx, `CREATE TEMP TABLE import_addresses (
		seq bigint NOT NULL, id text COLLATE "C" NOT NULL, text text NOT NULL, search_key text COLLATE "C" NOT NULL,
		lon double precision NOT NULL, lat double precision NOT NULL, units integer NOT NULL, area_id bigint
	) ON COMMIT DROP`)
	return err
}

func (im *addressImport) Add(ctx context.Context, addrs []pledge.Address) error {
	if im.done {
		return errors.New("address import: Add after Commit or Rollback")
	}
	batch := make([]stagedAddress, len(addrs))
	for i, a := range addrs {
		batch[i] = stagedAddress{seq: im.staged + i, id: a.ID, text: a.Text, lon: a.Point[0], lat: a.Point[1], units: int32(a.Units)}
		if id, ok := im.areaIDs[a.AreaCode]; ok {
			batch[i].areaID = &id
		}
	}
	im.staged += len(addrs)
	if len(batch) == 0 {
		return nil
	}
	if im.copy == nil {
		if im.direct {
			im.copy = startCopy(ctx, im.load.PgConn(), "addresses_load", []string{"id", "text", "search_key", "geom", "units", "area_id"}, directRow)
		} else {
			im.copy = startCopy(ctx, im.tx.Conn().PgConn(), "import_addresses", []string{"seq", "id", "text", "search_key", "lon", "lat", "units", "area_id"}, stagingRow)
		}
	}
	return im.copy.send(batch)
}

// stagedAddress is one row on its way to COPY; its search key is computed
// in the COPY goroutine, off the caller's path.
type stagedAddress struct {
	seq      int
	id, text string
	lon, lat float64
	units    int32
	areaID   *int64
}

// directRow encodes a row of the addresses table (id, text, search_key,
// geom, units, area_id) in COPY's binary format.
func directRow(b []byte, a *stagedAddress) []byte {
	b = binary.BigEndian.AppendUint16(b, 6)
	b = copyText(b, a.id)
	b = copyText(b, a.text)
	b = copyText(b, pledge.SearchKey(a.text))
	// EWKB point with its SRID, little-endian, as PostGIS's binary input
	// reads it.
	b = binary.BigEndian.AppendUint32(b, 25)
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 1|0x20000000)
	b = binary.LittleEndian.AppendUint32(b, srid)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.lon))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.lat))
	b = copyInt4(b, a.units)
	return copyAreaID(b, a.areaID)
}

// stagingRow encodes a row of import_addresses (seq, id, text,
// search_key, lon, lat, units, area_id).
func stagingRow(b []byte, a *stagedAddress) []byte {
	b = binary.BigEndian.AppendUint16(b, 8)
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint64(b, uint64(a.seq))
	b = copyText(b, a.id)
	b = copyText(b, a.text)
	b = copyText(b, pledge.SearchKey(a.text))
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(a.lon))
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(a.lat))
	b = copyInt4(b, a.units)
	return copyAreaID(b, a.areaID)
}

func copyText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func copyInt4(b []byte, v int32) []byte {
	b = binary.BigEndian.AppendUint32(b, 4)
	return binary.BigEndian.AppendUint32(b, uint32(v))
}

func copyAreaID(b []byte, id *int64) []byte {
	if id == nil {
		return binary.BigEndian.AppendUint32(b, 0xFFFFFFFF) // NULL
	}
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(*id))
}

func (im *addressImport) Commit(ctx context.Context) (pledge.AddressImportCounts, error) {
	var c pledge.AddressImportCounts
	if im.done {
		return c, errors.New("address import: Commit after Commit or Rollback")
	}
	defer im.Rollback()
	if im.copy != nil {
		if err := im.copy.finish(); err != nil {
			return c, formatError(err)
		}
	}
	var err error
	if im.direct {
		c, err = im.commitDirect(ctx)
	} else {
		c, err = im.commitMerge(ctx)
	}
	if err != nil {
		return c, err
	}
	if err := refreshCounters(ctx, im.tx); err != nil {
		return c, err
	}
	if err := im.tx.Commit(ctx); err != nil {
		return c, formatError(err)
	}
	im.done = true
	if im.load != nil {
		releaseBulk(im.load)
		im.load = nil
	}
	return c, nil
}

// A repeated id (extra units of one address: the caller lets only ids
// derived from text and position repeat, so the rows are the same but for
// their units) is rare, so it is not looked for row by row: the unique
// index or the upsert finds it, and only then is the import's transaction
// rolled back to a savepoint and the repeats merged.

func (im *addressImport) commitDirect(ctx context.Context) (pledge.AddressImportCounts, error) {
	var c pledge.AddressImportCounts
	load := im.load
	merged := 0
	_, err := load.Exec(ctx, loadKey)
	if isRepeat(err) {
		// Keep one row per id with the units of all; the rows are equal
		// otherwise.
		tag, merr := load.Exec(ctx, `WITH r AS (
				SELECT id, min(ctid) AS keep, sum(units) AS units FROM addresses_load GROUP BY id HAVING count(*) > 1),
			u AS (UPDATE addresses_load a SET units = r.units FROM r WHERE a.ctid = r.keep)
			DELETE FROM addresses_load a USING r WHERE a.id = r.id AND a.ctid <> r.keep`)
		if merr != nil {
			return c, formatError(merr)
		}
		merged = int(tag.RowsAffected())
		_, err = load.Exec(ctx, loadKey)
	}
	if err != nil {
		return c, formatError(err)
	}
	if err := buildLoadIndexes(ctx, im.pool, load, `CREATE INDEX addresses_load_geom ON addresses_load USING gist (geom)`,
		`CREATE INDEX addresses_load_area ON addresses_load (area_id);
		CREATE INDEX addresses_load_search ON addresses_load (search_key, id)`); err != nil {
		return c, err
	}
	if err := swapInLoad(ctx, im.tx); err != nil {
		return c, err
	}
	c.Inserted = im.staged - merged
	return c, nil
}

// loadKey is the primary key's index, made before the constraint so that
// it can be built beside the other indexes (ADD PRIMARY KEY would lock the
// table against them); swapInLoad turns it into the constraint.
const loadKey = `CREATE UNIQUE INDEX addresses_load_pkey ON addresses_load (id)`

// buildLoadIndexes runs first on load and second on a connection of its
// own, at once: on two cores the index builds of a million rows take half
// the time they take one after the other.
func buildLoadIndexes(ctx context.Context, pool *pgxpool.Pool, load *pgx.Conn, first, second string) error {
	other, err := acquireBulk(ctx, pool)
	if err != nil {
		return err
	}
	defer releaseBulk(other)
	done := make(chan error, 1)
	go func() {
		_, err := load.Exec(ctx, first)
		done <- err
	}()
	_, err = other.Exec(ctx, second)
	if ferr := <-done; err == nil {
		err = ferr
	}
	return formatError(err)
}

// swapInLoad puts addresses_load, with every index of buildLoadIndexes,
// in the place of addresses, within tx: readers see the old table until
// tx commits, then the new one.
func swapInLoad(ctx context.Context, tx pgx.Tx) error {
	for _, q := range []string{
		`DROP TABLE addresses`,
		`ALTER TABLE addresses_load RENAME TO addresses`,
		`ALTER TABLE addresses ADD CONSTRAINT addresses_pkey PRIMARY KEY USING INDEX addresses_load_pkey`,
		`ALTER INDEX addresses_load_geom RENAME TO addresses_geom`,
		`ALTER INDEX addresses_load_area RENAME TO addresses_area`,
		`ALTER INDEX addresses_load_search RENAME TO addresses_search`,
		`ALTER TABLE addresses ADD CONSTRAINT addresses_area_id_fkey FOREIGN KEY (area_id) REFERENCES areas (id)`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return formatError(err)
		}
	}
	return nil
}

// acquireBulk opens a connection of its own for bulk work, with no
// statement timeout and room to sort in memory. It is not taken from the
// pool: an import holds its transaction's connection and needs two more,
// which a pool of fewer than three (--db-max-conns) would never give.
func acquireBulk(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["statement_timeout"] = "0"
	cfg.RuntimeParams["maintenance_work_mem"] = "256MB"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, formatError(err)
	}
	return conn, nil
}

func releaseBulk(conn *pgx.Conn) { conn.Close(context.Background()) }

// dropLoad drops addresses_load after a failed load. The loading
// connection may have been closed by a cancelled COPY; then another
// drops it. Only the import holding the addresses table calls it, so
// the table is surely its own.
func dropLoad(pool *pgxpool.Pool, load *pgx.Conn) {
	const drop = `DROP TABLE IF EXISTS addresses_load`
	if _, err := load.Exec(context.Background(), drop); err != nil {
		if conn, aerr := pool.Acquire(context.Background()); aerr == nil {
			conn.Exec(context.Background(), drop)
			conn.Release()
		}
	}
}

func (im *addressImport) commitMerge(ctx context.Context) (pledge.AddressImportCounts, error) {
	var c pledge.AddressImportCounts
	tx := im.tx
	if err := lockPledges(ctx, tx); err != nil {
		return c, err
	}
	var before, after int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM addresses`).Scan(&before); err != nil {
		return c, formatError(err)
	}
	// The WHERE on the update leaves identical rows untouched, so the
	// statement's row count is inserts plus real updates. Sorting by id
	// walks the primary key in order.
	const merge = `INSERT INTO addresses (id, text, search_key, geom, units, area_id)
		SELECT id, text, search_key, ST_SetSRID(ST_MakePoint(lon, lat), 4326), units, area_id
		FROM (%s) s ORDER BY id
		ON CONFLICT (id) DO UPDATE SET text = excluded.text, search_key = excluded.search_key,
			geom = excluded.geom, units = excluded.units, area_id = excluded.area_id
		WHERE addresses.text IS DISTINCT FROM excluded.text OR addresses.geom IS DISTINCT FROM excluded.geom
			OR addresses.units IS DISTINCT FROM excluded.units OR addresses.area_id IS DISTINCT FROM excluded.area_id`
	staged := im.staged
	var tag pgconn.CommandTag
	err := savepoint(ctx, tx, "")
	if err == nil {
		tag, err = tx.Exec(ctx, fmt.Sprintf(merge, `SELECT * FROM import_addresses`))
	}
	if isRepeat(err) {
		// The first row of an id gives its fields; the units add up.
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT import`); err != nil {
			return c, formatError(err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT id) FROM import_addresses`).Scan(&staged); err != nil {
			return c, formatError(err)
		}
		tag, err = tx.Exec(ctx, fmt.Sprintf(merge, `SELECT DISTINCT ON (id) id, text, search_key, lon, lat,
			sum(units) OVER (PARTITION BY id) AS units, area_id FROM import_addresses ORDER BY id, seq`))
	}
	if err != nil {
		return c, formatError(err)
	}
	changed := int(tag.RowsAffected())
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM addresses`).Scan(&after); err != nil {
		return c, formatError(err)
	}
	c.Inserted = int(after - before)
	c.Updated = changed - c.Inserted
	c.Unchanged = staged - changed
	return c, nil
}

// savepoint sets the savepoint "import" and, unless q is empty, runs q;
// when q fails it rolls back to the savepoint, so the transaction can go
// on, and returns q's error.
func savepoint(ctx context.Context, tx pgx.Tx, q string) error {
	if _, err := tx.Exec(ctx, `SAVEPOINT import`); err != nil || q == "" {
		return err
	}
	_, err := tx.Exec(ctx, q)
	if err != nil {
		if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT import`); rerr != nil {
			return rerr
		}
	}
	return err
}

// isRepeat reports whether err is a repeated id: a unique violation while
// building the primary key, or an upsert meeting the same id twice.
func isRepeat(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "21000")
}

func (im *addressImport) Rollback() error {
	if im.done {
		return nil
	}
	im.done = true
	if im.copy != nil {
		im.copy.abort()
	}
	if im.load != nil {
		dropLoad(im.pool, im.load)
		releaseBulk(im.load)
		im.load = nil
	}
	err := im.tx.Rollback(context.Background())
	if err != nil && im.tx.Conn().IsClosed() {
		// Cancelling a running COPY can close its connection; PostgreSQL
		// rolls back the transaction of a connection that ends, so nothing
		// was stored and the pool drops the connection.
		return nil
	}
	return formatError(err)
}

// copyStream is one COPY running in its own goroutine, fed batches through
// a channel, so the caller produces the next batch while the server stores
// the last. Rows are encoded straight into COPY's binary format: pgx's
// generic CopyFrom spent more CPU boxing and planning each value than the
// server spent storing it.
type copyStream struct {
	batches chan []stagedAddress
	closed  bool // batches is closed
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // valid after done is closed

	encode  func([]byte, *stagedAddress) []byte
	buf     []byte // the encoded batch; buf[off:] is not yet read
	off     int
	started bool // the header is written
	ended   bool // the trailer is written
}

// copyHeader starts a binary COPY: signature, flags, no extension.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func startCopy(ctx context.Context, conn *pgconn.PgConn, table string, columns []string, encode func([]byte, *stagedAddress) []byte) *copyStream {
	ctx, cancel := context.WithCancel(ctx)
	cs := &copyStream{batches: make(chan []stagedAddress, 4), cancel: cancel, done: make(chan struct{}), encode: encode}
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	sql := `COPY ` + pgx.Identifier{table}.Sanitize() + ` (` + strings.Join(cols, ", ") + `) FROM STDIN (FORMAT binary)`
	go func() {
		defer close(cs.done)
		_, cs.err = conn.CopyFrom(ctx, cs, sql)
	}()
	return cs
}

// send hands a batch to the COPY, or returns its error if it has failed.
func (cs *copyStream) send(batch []stagedAddress) error {
	select {
	case cs.batches <- batch:
		return nil
	case <-cs.done:
		if cs.err == nil {
			return errors.New("address import: copy ended early")
		}
		return formatError(cs.err)
	}
}

// finish ends the COPY and waits for the server to have stored every row.
func (cs *copyStream) finish() error {
	cs.close()
	<-cs.done
	cs.cancel()
	return cs.err
}

// abort stops the COPY, if it still runs, and waits for it. Closing the
// channel too frees pgx's row reader if it waits for a batch.
func (cs *copyStream) abort() {
	cs.cancel()
	cs.close()
	<-cs.done
}

func (cs *copyStream) close() {
	if !cs.closed {
		cs.closed = true
		close(cs.batches)
	}
}

// Read implements io.Reader for pgconn's CopyFrom: the next batch,
// encoded, after the header; the trailer once the batches are closed.
func (cs *copyStream) Read(p []byte) (int, error) {
	for cs.off == len(cs.buf) {
		if cs.ended {
			return 0, io.EOF
		}
		b := cs.buf[:0]
		if !cs.started {
			cs.started = true
			b = append(b, copyHeader...)
		}
		batch, ok := <-cs.batches
		if !ok {
			cs.ended = true
			b = binary.BigEndian.AppendUint16(b, 0xFFFF)
		}
		for i := range batch {
			b = cs.encode(b, &batch[i])
		}
		cs.buf, cs.off = b, 0
	}
	n := copy(p, cs.buf[cs.off:])
	cs.off += n
	return n, nil
}
