package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

const areaColumns = `id, code, name, area_m2, threshold_percent, threshold_units, deadline, status, addresses, units, pledged_units, unconfirmed_units, confirm_days`

// areaGeometry is the geometry column of an areas row.
const areaGeometry = `(SELECT geom FROM area_shapes WHERE area_id = areas.id)`

func scanArea(row pgx.Row, geom bool) (pledge.Area, error) {
	var a pledge.Area
	var deadline *time.Time
	dest := []any{&a.ID, &a.Code, &a.Name, &a.AreaM2, &a.ThresholdPercent, &a.ThresholdUnits, &deadline, &a.Status, &a.Addresses, &a.Units, &a.PledgedUnits, &a.UnconfirmedUnits, &a.ConfirmDays}
	if geom {
		dest = append(dest, multiPolygon{&a.Geometry})
	}
	if err := row.Scan(dest...); err != nil {
		return a, formatError(err)
	}
	if deadline != nil {
		t := deadline.UTC()
		a.Deadline = &t
	}
	return a, nil
}

// Areas lists all areas ordered by code.
func (s *Store) Areas(ctx context.Context, withGeometry bool) ([]pledge.Area, error) {
	q := `SELECT ` + areaColumns
	if withGeometry {
		q += `, ` + areaGeometry
	}
	rows, err := s.pool.Query(ctx, q+` FROM areas ORDER BY code`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	areas := []pledge.Area{}
	for rows.Next() {
		a, err := scanArea(rows, withGeometry)
		if err != nil {
			return nil, err
		}
		areas = append(areas, a)
	}
	return areas, formatError(rows.Err())
}

// Area returns one area with its geometry.
func (s *Store) Area(ctx context.Context, code string) (pledge.Area, error) {
	a, err := scanArea(s.pool.QueryRow(ctx, `SELECT `+areaColumns+`, `+areaGeometry+` FROM areas WHERE code = $1`, code), true)
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return a, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return a, err
}

var _ pledge.ProgressStore = (*Store)(nil)

// AreaProgress returns one area without its geometry: the narrow areas row
// only, for the page every resident polls.
func (s *Store) AreaProgress(ctx context.Context, code string) (pledge.Area, error) {
	a, err := scanArea(s.pool.QueryRow(ctx, `SELECT `+areaColumns+` FROM areas WHERE code = $1`, code), false)
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return a, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return a, err
}

// Unassigned counts addresses outside every area.
func (s *Store) Unassigned(ctx context.Context) (pledge.Unassigned, error) {
	var u pledge.Unassigned
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(units), 0) FROM addresses WHERE area_id IS NULL`).Scan(&u.Addresses, &u.Units)
	return u, formatError(err)
}

// UpdateArea changes an area's threshold, deadline and status.
func (s *Store) UpdateArea(ctx context.Context, a pledge.Area) error {
	return updateArea(ctx, s.pool, a)
}

// execer is the pool or a transaction, so a statement runs on its own or
// in a caller's transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// updateArea is UpdateArea on db, which may be a transaction.
func updateArea(ctx context.Context, db execer, a pledge.Area) error {
	tag, err := db.Exec(ctx, `UPDATE areas SET threshold_percent = $1, threshold_units = $2, deadline = $3, status = $4,
		confirm_days = CASE WHEN $6 > 0 THEN $6 ELSE confirm_days END WHERE code = $5`,
		a.ThresholdPercent, a.ThresholdUnits, a.Deadline, string(a.Status), a.Code, a.ConfirmDays)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", a.Code)
	}
	return nil
}

// ImportAreas upserts areas, re-assigns every address with assign and
// refreshes the counters, in one transaction that excludes pledges.
func (s *Store) ImportAreas(ctx context.Context, areas []pledge.Area, opt pledge.AreaImportOptions, assign func(orb.Point) string) (pledge.AreaImportCounts, error) {
	var c pledge.AreaImportCounts
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := beginBulk(ctx, tx); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, a := range areas {
			mp := a.Geometry
			// xmax = 0 only on a row this statement inserted.
			b.Queue(`WITH a AS (
					INSERT INTO areas (code, name, area_m2, threshold_percent, threshold_units, deadline, status)
					VALUES ($1, $2, $4, $5, $6, $7, $8)
					ON CONFLICT (code) DO UPDATE SET name = excluded.name, area_m2 = excluded.area_m2,
						threshold_percent = CASE WHEN $9 THEN excluded.threshold_percent ELSE areas.threshold_percent END
					RETURNING id, xmax = 0 AS created)
				INSERT INTO area_shapes (area_id, geom) SELECT id, $3 FROM a
				ON CONFLICT (area_id) DO UPDATE SET geom = excluded.geom
				RETURNING (SELECT created FROM a)`,
				a.Code, a.Name, multiPolygon{&mp}, a.AreaM2, a.ThresholdPercent, a.ThresholdUnits, a.Deadline, string(a.Status), opt.SetThreshold)
		}
		br := tx.SendBatch(ctx, b)
		for _, a := range areas {
			var created bool
			if err := br.QueryRow().Scan(&created); err != nil {
				br.Close()
				return fmt.Errorf("area %s: %w", a.Code, formatError(err))
			}
			if created {
				c.Created++
			} else {
				c.Updated++
			}
		}
		if err := br.Close(); err != nil {
			return formatError(err)
		}
		n, err := reassign(ctx, s.pool, tx, assign)
		c.Reassigned = n
		if err != nil {
			return err
		}
		return refreshCounters(ctx, tx)
	})
	return c, err
}

// beginBulk prepares an area import's transaction: it waits for pledges
// in flight and holds new ones back until commit (see lockPledges), and
// lifts the statement timeout, which is meant for requests, not for bulk
// work. Then no address may change until commit (a decided challenge
// waits; readers go on), so the rows reassign writes are the rows it
// assigned. That lock comes before any area row is written: a challenge
// decision holding an address row and waiting for its area's row would
// otherwise deadlock with the import.
func beginBulk(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return formatError(err)
	}
	if err := lockPledges(ctx, tx); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `LOCK TABLE addresses IN EXCLUSIVE MODE`)
	return formatError(err)
}

// reassignChunk is how many addresses one FETCH brings: memory stays
// bounded however many addresses there are.
const reassignChunk = 65536

// reassign streams every address through assign, chunk by chunk from a
// cursor (each chunk assigned on every core), COPYs those whose area
// changed into a temporary table and moves them with one UPDATE. When many
// move, the table is written again into a new one that takes its place
// (rewriteAddresses): a changed row is a new row version in every index,
// and a million of them took 41 s. The table is then locked until commit,
// readers too. (As after a TRUNCATE, a transaction whose snapshot
// predates the commit and that had not yet read addresses would see it
// empty; the store's reads are single statements, which take their
// snapshot when they run.)
func reassign(ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx, assign func(orb.Point) string) (int, error) {
	ids := map[string]int64{}
	rows, err := tx.Query(ctx, `SELECT id, code FROM areas`)
	if err != nil {
		return 0, formatError(err)
	}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			rows.Close()
			return 0, formatError(err)
		}
		ids[code] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, formatError(err)
	}
	// temp_buffers first: it holds area_moves (up to a row per address) in
	// memory instead of spilling it to a file (it takes effect only on a
	// connection's first temporary table, and is harmless later).
	if _, err := tx.Exec(ctx, `SET LOCAL temp_buffers = '512MB';
		CREATE TEMP TABLE area_moves (id text COLLATE "C" NOT NULL, area_id bigint) ON COMMIT DROP;
		SET LOCAL work_mem = '128MB'; SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return 0, formatError(err)
	}
	if _, err := tx.Exec(ctx, `DECLARE area_addresses NO SCROLL CURSOR FOR SELECT id, ST_X(geom), ST_Y(geom), area_id FROM addresses`); err != nil {
		return 0, formatError(err)
	}
	moved, total := 0, 0
	addrIDs := make([]string, 0, reassignChunk)
	pts := make([]orb.Point, 0, reassignChunk)
	cur := make([]*int64, 0, reassignChunk)
	codes := make([]string, reassignChunk)
	for {
		addrIDs, pts, cur = addrIDs[:0], pts[:0], cur[:0]
		rows, err := tx.Query(ctx, `FETCH `+strconv.Itoa(reassignChunk)+` FROM area_addresses`)
		if err != nil {
			return 0, formatError(err)
		}
		for rows.Next() {
			var id string
			var p orb.Point
			var c *int64
			if err := rows.Scan(&id, &p[0], &p[1], &c); err != nil {
				rows.Close()
				return 0, formatError(err)
			}
			addrIDs, pts, cur = append(addrIDs, id), append(pts, p), append(cur, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, formatError(err)
		}
		total += len(pts)
		pledge.AssignAll(pts, codes, assign)
		var moves moveSource
		for i := range pts {
			var next *int64
			if codes[i] != "" {
				v := ids[codes[i]]
				next = &v
			}
			if c := cur[i]; (c == nil) != (next == nil) || (c != nil && *c != *next) {
				moves.moves = append(moves.moves, move{addrIDs[i], next})
			}
		}
		if len(moves.moves) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"area_moves"}, []string{"id", "area_id"}, &moves); err != nil {
				return 0, formatError(err)
			}
			moved += len(moves.moves)
		}
		if len(pts) < reassignChunk {
			break
		}
	}
	if _, err := tx.Exec(ctx, `CLOSE area_addresses`); err != nil {
		return 0, formatError(err)
	}
	if moved == 0 {
		return 0, nil
	}
	if moved < 10000 || moved < total/16 {
		if _, err := tx.Exec(ctx, `UPDATE addresses ad SET area_id = m.area_id FROM area_moves m WHERE ad.id = m.id`); err != nil {
			return 0, formatError(err)
		}
		return moved, nil
	}
	return moved, rewriteAddresses(ctx, pool, tx)
}

// rewriteAddresses writes every address, moved ones in their new areas,
// into a new table that takes the old one's place (nothing refers to
// addresses by a foreign key), indexed afterwards from sorted keys. The
// new table is filled and indexed on connections of their own, as a first
// load's is (commitDirect): the rows stream out of tx's snapshot with one
// COPY and into addresses_load with another, the two servers working at
// once, and then the indexes are built two at a time. An UPDATE of each
// row left a table of twice the size, half of it dead, for the index
// builds to read; a copy written inside tx had its indexes built one after
// the other (3.3 s of 8.9 s at a million rows).
func rewriteAddresses(ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx) (err error) {
	load, err := acquireBulk(ctx, pool)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dropLoad(pool, load)
		}
		releaseBulk(load)
	}()
	if _, err := load.Exec(ctx, `DROP TABLE IF EXISTS addresses_load; `+loadTable); err != nil {
		return formatError(err)
	}
	// Both ends speak COPY's binary format with the same columns, so the
	// bytes pass through unread; the buffer makes pipe writes of many rows.
	pr, pw := io.Pipe()
	in := make(chan error, 1)
	go func() {
		_, err := load.PgConn().CopyFrom(ctx, pr, `COPY addresses_load (id, text, search_key, geom, units, area_id) FROM STDIN (FORMAT binary)`)
		pr.CloseWithError(errLoadEnded)
		in <- err
	}()
	w := bufio.NewWriterSize(pw, 1<<18)
	_, err = tx.Conn().PgConn().CopyTo(ctx, w, `COPY (SELECT ad.id, ad.text, ad.search_key, ad.geom, ad.units,
			CASE WHEN m.id IS NULL THEN ad.area_id ELSE m.area_id END
		FROM addresses ad LEFT JOIN area_moves m ON m.id = ad.id) TO STDOUT (FORMAT binary)`)
	if err == nil {
		err = w.Flush()
	}
	pw.CloseWithError(err) // nil: the reader sees the end
	if ierr := <-in; ierr != nil && (err == nil || errors.Is(err, errLoadEnded)) {
		err = ierr // the cause, where this side saw only a closed pipe
	}
	if err != nil {
		return formatError(err)
	}
	if err := buildLoadIndexes(ctx, pool, load, `CREATE INDEX addresses_load_geom ON addresses_load USING gist (geom);
		CREATE INDEX addresses_load_area ON addresses_load (area_id)`,
		loadKey+`; CREATE INDEX addresses_load_search ON addresses_load (search_key, id)`); err != nil {
		return err
	}
	return swapInLoad(ctx, tx)
}

// errLoadEnded is what the rows read for addresses_load meet when its
// COPY has stopped taking them.
var errLoadEnded = errors.New("copy into addresses_load ended")

type move struct {
	id   string
	area *int64
}

// moveSource feeds moves to COPY without boxing each row up front.
type moveSource struct {
	moves []move
	i     int
	row   [2]any
}

func (m *moveSource) Next() bool { m.i++; return m.i <= len(m.moves) }
func (m *moveSource) Err() error { return nil }
func (m *moveSource) Values() ([]any, error) {
	mv := m.moves[m.i-1]
	m.row[0], m.row[1] = mv.id, mv.area
	return m.row[:], nil
}

// refreshCounters recomputes every area's counters from the rows, writing
// only the areas whose counts differ.
func refreshCounters(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE areas SET addresses = n.addresses, units = n.units, pledged_units = n.pledged_units,
			unconfirmed_units = n.unconfirmed_units
		FROM (
			SELECT ar.id, coalesce(ad.addresses, 0) AS addresses, coalesce(ad.units, 0) AS units, coalesce(p.pledged, 0) AS pledged_units,
				coalesce(p.unconfirmed, 0) AS unconfirmed_units
			FROM areas ar
			LEFT JOIN (SELECT area_id, count(*) AS addresses, sum(units) AS units FROM addresses
				WHERE area_id IS NOT NULL GROUP BY area_id) ad ON ad.area_id = ar.id
			LEFT JOIN (SELECT a.area_id, count(*) FILTER (WHERE p.confirmed) AS pledged, count(*) FILTER (WHERE NOT p.confirmed) AS unconfirmed
				FROM pledges p JOIN addresses a ON a.id = p.address_id
				WHERE p.status = 'active' AND a.area_id IS NOT NULL GROUP BY a.area_id) p ON p.area_id = ar.id
		) n
		WHERE areas.id = n.id AND (areas.addresses, areas.units, areas.pledged_units, areas.unconfirmed_units)
			IS DISTINCT FROM (n.addresses, n.units, n.pledged_units, n.unconfirmed_units)`)
	return formatError(err)
}
