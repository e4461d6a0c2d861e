package postgres

import (
	"context"
	"hash/maphash"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// addressSelect reads addresses with their area code and pledged units.
const addressSelect = `SELECT ad.id, ad.text, ST_X(ad.geom), ST_Y(ad.geom), ad.units, coalesce(ar.code, ''),
	(SELECT count(*) FROM pledges p WHERE p.address_id = ad.id AND p.status = 'active')
	FROM addresses ad LEFT JOIN areas ar ON ar.id = ad.area_id `

func scanAddresses(rows pgx.Rows) ([]pledge.Address, error) {
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
	rows, err := s.pool.Query(ctx, addressSelect+`WHERE ad.id = $1`, id)
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

// AreaAddresses lists an area's addresses ordered by id. The bbox filter
// is the index-friendly && (float4 boxes, rounded outwards) narrowed to the
// exact inclusive comparison the SQLite store makes.
func (s *Store) AreaAddresses(ctx context.Context, code string, bbox *orb.Bound, limit int) ([]pledge.Address, error) {
	var areaID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, code).Scan(&areaID); err == pgx.ErrNoRows {
		return nil, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	} else if err != nil {
		return nil, formatError(err)
	}
	q := addressSelect + `WHERE ad.area_id = $1`
	args := []any{areaID, limit}
	if bbox != nil {
		q += ` AND ad.geom && ST_MakeEnvelope($3, $4, $5, $6, 4326)
			AND ST_X(ad.geom) BETWEEN $3 AND $5 AND ST_Y(ad.geom) BETWEEN $4 AND $6`
		args = append(args, bbox.Min[0], bbox.Min[1], bbox.Max[0], bbox.Max[1])
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY ad.id LIMIT $2`, args...)
	if err != nil {
		return nil, formatError(err)
	}
	return scanAddresses(rows)
}

// SearchAddresses is a prefix range scan on the search key index; the "C"
// collation makes the range the same code-point range as in SQLite.
func (s *Store) SearchAddresses(ctx context.Context, prefix string, limit int) ([]pledge.Address, error) {
	rows, err := s.pool.Query(ctx, addressSelect+`WHERE ad.search_key >= $1 AND ad.search_key < $2 ORDER BY ad.search_key, ad.id LIMIT $3`,
		prefix, pledge.PrefixEnd(prefix), limit)
	if err != nil {
		return nil, formatError(err)
	}
	return scanAddresses(rows)
}

// BeginAddressImport opens the import's transaction and a temporary staging
// table that Add fills with COPY. Nothing shared is locked until Commit.
func (s *Store) BeginAddressImport(ctx context.Context) (pledge.AddressImport, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, formatError(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		tx.Rollback(context.Background())
		return nil, formatError(err)
	}
	// seq keeps file order, so a repeated id keeps its first row's fields.
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_addresses (
		seq bigint NOT NULL, id text COLLATE "C" NOT NULL, text text NOT NULL, search_key text COLLATE "C" NOT NULL,
		lon double precision NOT NULL, lat double precision NOT NULL, units integer NOT NULL, area_code text COLLATE "C" NOT NULL
	) ON COMMIT DROP`); err != nil {
		tx.Rollback(context.Background())
		return nil, formatError(err)
	}
	return &addressImport{tx: tx, seed: maphash.MakeSeed(), seen: map[uint64]struct{}{}}, nil
}

type addressImport struct {
	tx     pgx.Tx
	staged int64
	// seen holds a hash of every staged id. Without a repeat (the usual
	// case) the merge reads the staging table as it is; a possible repeat
	// (or a hash collision) makes it sum the units per id first.
	seed     maphash.Seed
	seen     map[uint64]struct{}
	repeated bool
	done     bool
}

var stagingColumns = []string{"seq", "id", "text", "search_key", "lon", "lat", "units", "area_code"}

func (im *addressImport) Add(ctx context.Context, addrs []pledge.Address) error {
	if len(addrs) == 0 {
		return nil
	}
	if !im.repeated {
		for _, a := range addrs {
			h := maphash.String(im.seed, a.ID)
			if _, ok := im.seen[h]; ok {
				im.repeated = true
				im.seen = nil
				break
			}
			im.seen[h] = struct{}{}
		}
	}
	src := &stagingSource{addrs: addrs, seq: im.staged}
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"import_addresses"}, stagingColumns, src); err != nil {
		return formatError(err)
	}
	im.staged += int64(len(addrs))
	return nil
}

// stagingSource feeds addresses to COPY one row at a time.
type stagingSource struct {
	addrs []pledge.Address
	seq   int64
	i     int
	row   [8]any
}

func (s *stagingSource) Next() bool { s.i++; return s.i <= len(s.addrs) }
func (s *stagingSource) Err() error { return nil }
func (s *stagingSource) Values() ([]any, error) {
	a := &s.addrs[s.i-1]
	s.row = [8]any{s.seq + int64(s.i), a.ID, a.Text, pledge.SearchKey(a.Text), a.Point[0], a.Point[1], int32(a.Units), a.AreaCode}
	return s.row[:], nil
}

func (im *addressImport) Commit(ctx context.Context) (pledge.AddressImportCounts, error) {
	var c pledge.AddressImportCounts
	defer im.Rollback()
	tx := im.tx
	if err := lockExclusive(ctx, tx); err != nil {
		return c, err
	}
	staged := im.staged
	src := `SELECT id, text, search_key, lon, lat, units, area_code FROM import_addresses`
	if im.repeated {
		// The first row of an id gives its fields; the units add up.
		src = `SELECT DISTINCT ON (id) id, text, search_key, lon, lat, sum(units) OVER (PARTITION BY id) AS units, area_code
			FROM import_addresses ORDER BY id, seq`
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT id) FROM import_addresses`).Scan(&staged); err != nil {
			return c, formatError(err)
		}
	}
	var before, after int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM addresses`).Scan(&before); err != nil {
		return c, formatError(err)
	}
	// The WHERE on the update leaves identical rows untouched, so the
	// statement's row count is inserts plus real updates. Sorting by id
	// fills the primary key index in order.
	tag, err := tx.Exec(ctx, `INSERT INTO addresses (id, text, search_key, geom, units, area_id)
		SELECT s.id, s.text, s.search_key, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.units, ar.id
		FROM (`+src+`) s LEFT JOIN areas ar ON ar.code = s.area_code
		ORDER BY s.id
		ON CONFLICT (id) DO UPDATE SET text = excluded.text, search_key = excluded.search_key,
			geom = excluded.geom, units = excluded.units, area_id = excluded.area_id
		WHERE addresses.text IS DISTINCT FROM excluded.text OR addresses.geom IS DISTINCT FROM excluded.geom
			OR addresses.units IS DISTINCT FROM excluded.units OR addresses.area_id IS DISTINCT FROM excluded.area_id`)
	if err != nil {
		return c, formatError(err)
	}
	changed := tag.RowsAffected()
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM addresses`).Scan(&after); err != nil {
		return c, formatError(err)
	}
	c.Inserted = int(after - before)
	c.Updated = int(changed) - c.Inserted
	c.Unchanged = int(staged - changed)
	if err := refreshCounters(ctx, tx); err != nil {
		return c, err
	}
	if err := tx.Commit(ctx); err != nil {
		return c, formatError(err)
	}
	im.done = true
	return c, nil
}

func (im *addressImport) Rollback() error {
	if im.done {
		return nil
	}
	im.done = true
	return formatError(im.tx.Rollback(context.Background()))
}
