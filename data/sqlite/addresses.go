package sqlite

import (
	"context"
	"database/sql"
	"hash/maphash"
	"strings"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// addressSelect reads addresses with their area code and pledged units.
const addressSelect = `SELECT ad.id, ad.text, ad.lon, ad.lat, ad.units, coalesce(ar.code, ''),
	(SELECT count(*) FROM pledges p WHERE p.address_id = ad.id AND p.status = 'active')
	FROM addresses ad LEFT JOIN areas ar ON ar.id = ad.area_id `

func scanAddresses(rows *sql.Rows) ([]pledge.Address, error) {
	defer rows.Close()
	out := []pledge.Address{}
	for rows.Next() {
		var a pledge.Address
		if err := rows.Scan(&a.ID, &a.Text, &a.Point[0], &a.Point[1], &a.Units, &a.AreaCode, &a.PledgedUnits); err != nil {
			return nil, formatError(err)
		}
		out = append(out, a)
	}
	return out, formatError(rows.Err())
}

// Address returns one address by source id.
func (s *Store) Address(ctx context.Context, id string) (pledge.Address, error) {
	rows, err := s.db.QueryContext(ctx, addressSelect+`WHERE ad.id = ?`, id)
	if err != nil {
		return pledge.Address{}, formatError(err)
	}
	as, err := scanAddresses(rows)
	if err != nil {
		return pledge.Address{}, err
	}
	if len(as) == 0 {
		return pledge.Address{}, pledge.Errorf(pledge.ENOTFOUND, "no address with id %q", id)
	}
	return as[0], nil
}

// AreaAddresses lists an area's addresses ordered by id.
func (s *Store) AreaAddresses(ctx context.Context, code string, bbox *orb.Bound, limit int) ([]pledge.Address, error) {
	var areaID int64
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM areas WHERE code = ?`, code).Scan(&areaID); err == sql.ErrNoRows {
		return nil, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	} else if err != nil {
		return nil, formatError(err)
	}
	q := addressSelect + `WHERE ad.area_id = ?`
	args := []any{areaID}
	if bbox != nil {
		q += ` AND ad.lon BETWEEN ? AND ? AND ad.lat BETWEEN ? AND ?`
		args = append(args, bbox.Min[0], bbox.Max[0], bbox.Min[1], bbox.Max[1])
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY ad.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, formatError(err)
	}
	return scanAddresses(rows)
}

// SearchAddresses is a prefix range scan on the search key index.
func (s *Store) SearchAddresses(ctx context.Context, prefix string, limit int) ([]pledge.Address, error) {
	rows, err := s.db.QueryContext(ctx, addressSelect+`WHERE ad.search_key >= ? AND ad.search_key < ? ORDER BY ad.search_key, ad.id LIMIT ?`,
		prefix, pledge.PrefixEnd(prefix), limit)
	if err != nil {
		return nil, formatError(err)
	}
	return scanAddresses(rows)
}

// BeginAddressImport opens the import's transaction and its staging table.
// The transaction holds SQLite's write lock until Commit or Rollback.
func (s *Store) BeginAddressImport(ctx context.Context) (pledge.AddressImport, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, formatError(err)
	}
	fail := func(err error) (pledge.AddressImport, error) {
		tx.Rollback()
		return nil, formatError(err)
	}
	// A bigger page cache for this connection: a million-row merge touches
	// far more than the default 2 MB of B-tree pages.
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		return fail(err)
	}
	// Staging is appended in file order (cheap); the merge sorts it once by
	// id, adding up the units of repeated ids.
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_addresses (
		id TEXT NOT NULL, text TEXT NOT NULL, search_key TEXT NOT NULL,
		lon REAL NOT NULL, lat REAL NOT NULL, units INTEGER NOT NULL, area_id INTEGER)`); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM import_addresses`); err != nil {
		return fail(err)
	}
	areaIDs := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT code, id FROM areas`)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var code string
		var id int64
		if err := rows.Scan(&code, &id); err != nil {
			rows.Close()
			return fail(err)
		}
		areaIDs[code] = id
	}
	rows.Close()
	return &addressImport{tx: tx, stmts: map[int]*sql.Stmt{}, areaIDs: areaIDs,
		seen: map[uint64]struct{}{}, seed: maphash.MakeSeed()}, nil
}

type addressImport struct {
	tx      *sql.Tx
	stmts   map[int]*sql.Stmt // multi-row inserts by row count
	areaIDs map[string]int64
	seen    map[uint64]struct{} // distinct ids staged, by hash
	seed    maphash.Seed
	done    bool
}

// rowsPerInsert is how many rows one INSERT carries: multi-row statements
// cut the per-row cost of the driver round trip several times.
const rowsPerInsert = 256

func (im *addressImport) stmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st, ok := im.stmts[n]; ok {
		return st, nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO import_addresses (id, text, search_key, lon, lat, units, area_id) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,?)`)
	}
	st, err := im.tx.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, formatError(err)
	}
	if n == rowsPerInsert {
		im.stmts[n] = st
	}
	return st, nil
}

func (im *addressImport) Add(ctx context.Context, addrs []pledge.Address) error {
	args := make([]any, 0, rowsPerInsert*7)
	for len(addrs) > 0 {
		n := min(len(addrs), rowsPerInsert)
		st, err := im.stmt(ctx, n)
		if err != nil {
			return err
		}
		args = args[:0]
		for _, a := range addrs[:n] {
			im.seen[maphash.String(im.seed, a.ID)] = struct{}{}
			var area any
			if id, ok := im.areaIDs[a.AreaCode]; ok {
				area = id
			}
			args = append(args, a.ID, a.Text, pledge.SearchKey(a.Text), a.Point[0], a.Point[1], a.Units, area)
		}
		_, err = st.ExecContext(ctx, args...)
		if n != rowsPerInsert {
			st.Close()
		}
		if err != nil {
			return formatError(err)
		}
		addrs = addrs[n:]
	}
	return nil
}

func (im *addressImport) Commit(ctx context.Context) (pledge.AddressImportCounts, error) {
	var c pledge.AddressImportCounts
	defer im.Rollback()
	var before, after, staged int
	if err := im.tx.QueryRowContext(ctx, `SELECT count(*) FROM addresses`).Scan(&before); err != nil {
		return c, formatError(err)
	}
	// Into an empty table, building the indexes afterwards from sorted keys
	// is several times faster than maintaining them row by row.
	rebuild := before == 0
	if rebuild {
		if _, err := im.tx.ExecContext(ctx, `DROP INDEX addresses_area; DROP INDEX addresses_search`); err != nil {
			return c, formatError(err)
		}
	}
	staged = len(im.seen)
	// One sort by id both merges repeated ids and makes the inserts
	// sequential in the table's key order. The WHERE on the update leaves
	// identical rows untouched, so the change count is inserts plus real
	// updates.
	res, err := im.tx.ExecContext(ctx, `INSERT INTO addresses (id, text, search_key, lon, lat, units, area_id)
		SELECT id, max(text), max(search_key), max(lon), max(lat), sum(units), max(area_id)
		FROM import_addresses GROUP BY id
		ON CONFLICT (id) DO UPDATE SET text = excluded.text, search_key = excluded.search_key,
			lon = excluded.lon, lat = excluded.lat, units = excluded.units, area_id = excluded.area_id
		WHERE addresses.text IS NOT excluded.text OR addresses.lon IS NOT excluded.lon OR addresses.lat IS NOT excluded.lat
			OR addresses.units IS NOT excluded.units OR addresses.area_id IS NOT excluded.area_id`)
	if err != nil {
		return c, formatError(err)
	}
	changed, _ := res.RowsAffected()
	if rebuild {
		if _, err := im.tx.ExecContext(ctx, `CREATE INDEX addresses_area ON addresses(area_id, units);
			CREATE INDEX addresses_search ON addresses(search_key)`); err != nil {
			return c, formatError(err)
		}
	}
	if err := im.tx.QueryRowContext(ctx, `SELECT count(*) FROM addresses`).Scan(&after); err != nil {
		return c, formatError(err)
	}
	c.Inserted = after - before
	c.Updated = int(changed) - c.Inserted
	c.Unchanged = staged - int(changed)
	if err := refreshCounters(ctx, im.tx); err != nil {
		return c, err
	}
	if _, err := im.tx.ExecContext(ctx, `DELETE FROM import_addresses`); err != nil {
		return c, formatError(err)
	}
	if err := im.tx.Commit(); err != nil {
		return c, formatError(err)
	}
	im.done = true
	return c, nil
}

func (im *addressImport) Rollback() error {
	for _, st := range im.stmts {
		st.Close()
	}
	im.stmts = map[int]*sql.Stmt{}
	if im.done {
		return nil
	}
	im.done = true
	return im.tx.Rollback()
}
