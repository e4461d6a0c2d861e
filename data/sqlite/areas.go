package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

const areaColumns = `id, code, name, area_m2, threshold_percent, threshold_units, deadline, status, addresses, units, pledged_units, unconfirmed_units, confirm_days`

func scanArea(sc interface{ Scan(...any) error }, geom bool) (pledge.Area, error) {
	var a pledge.Area
	var deadline sql.NullString
	var blob []byte
	dest := []any{&a.ID, &a.Code, &a.Name, &a.AreaM2, &a.ThresholdPercent, &a.ThresholdUnits, &deadline, &a.Status, &a.Addresses, &a.Units, &a.PledgedUnits, &a.UnconfirmedUnits, &a.ConfirmDays}
	if geom {
		dest = append(dest, &blob)
	}
	if err := sc.Scan(dest...); err != nil {
		return a, formatError(err)
	}
	if deadline.Valid {
		t := parseTime(deadline.String)
		a.Deadline = &t
	}
	if geom {
		mp, err := decodeMultiPolygon(a.Code, blob)
		if err != nil {
			return a, err
		}
		a.Geometry = mp
	}
	return a, nil
}

// decodeMultiPolygon decodes the stored WKB of area code.
func decodeMultiPolygon(code string, blob []byte) (orb.MultiPolygon, error) {
	g, err := wkb.Unmarshal(blob)
	if err != nil {
		return nil, fmt.Errorf("area %s: geometry: %w", code, err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("area %s: geometry is %T", code, g)
	}
	return mp, nil
}

// Areas lists all areas ordered by code.
func (s *Store) Areas(ctx context.Context, withGeometry bool) ([]pledge.Area, error) {
	q := `SELECT ` + areaColumns
	if withGeometry {
		q += `, geometry`
	}
	rows, err := s.db.QueryContext(ctx, q+` FROM areas ORDER BY code`)
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
	a, err := scanArea(s.db.QueryRowContext(ctx, `SELECT `+areaColumns+`, geometry FROM areas WHERE code = ?`, code), true)
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return a, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return a, err
}

// AreaProgress returns one area without its geometry, through a statement
// prepared once: the hot path of every progress bar.
func (s *Store) AreaProgress(ctx context.Context, code string) (pledge.Area, error) {
	a, err := scanArea(s.areaProgress.QueryRowContext(ctx, code), false)
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return a, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return a, err
}

// Unassigned counts addresses outside every area.
func (s *Store) Unassigned(ctx context.Context) (pledge.Unassigned, error) {
	var u pledge.Unassigned
	err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(units), 0) FROM addresses WHERE area_id IS NULL`).Scan(&u.Addresses, &u.Units)
	return u, formatError(err)
}

// UpdateArea changes an area's threshold, deadline and status.
func (s *Store) UpdateArea(ctx context.Context, a pledge.Area) error {
	return updateArea(ctx, s.db, a)
}

// execer is a *sql.DB or a *sql.Tx, so a statement runs on its own or in
// a caller's transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// updateArea is UpdateArea on db, which may be a transaction.
func updateArea(ctx context.Context, db execer, a pledge.Area) error {
	res, err := db.ExecContext(ctx, `UPDATE areas SET threshold_percent = ?, threshold_units = ?, deadline = ?, status = ?,
		confirm_days = CASE WHEN ? > 0 THEN ? ELSE confirm_days END WHERE code = ?`,
		a.ThresholdPercent, a.ThresholdUnits, nullTime(a.Deadline), string(a.Status), a.ConfirmDays, a.ConfirmDays, a.Code)
	if err != nil {
		return formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", a.Code)
	}
	return nil
}

// ImportAreas upserts areas, re-assigns every address and refreshes the
// counters, in one transaction.
func (s *Store) ImportAreas(ctx context.Context, areas []pledge.Area, opt pledge.AreaImportOptions, assign func(orb.Point) string) (pledge.AreaImportCounts, error) {
	var c pledge.AreaImportCounts
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, a := range areas {
			blob, err := wkb.Marshal(a.Geometry)
			if err != nil {
				return fmt.Errorf("area %s: %w", a.Code, err)
			}
			b := a.Geometry.Bound()
			var id int64
			err = tx.QueryRowContext(ctx, `SELECT id FROM areas WHERE code = ?`, a.Code).Scan(&id)
			switch {
			case err == sql.ErrNoRows:
				_, err = tx.ExecContext(ctx, `INSERT INTO areas (code, name, geometry, min_lon, min_lat, max_lon, max_lat, area_m2, threshold_percent, threshold_units, deadline, status)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					a.Code, a.Name, blob, b.Min[0], b.Min[1], b.Max[0], b.Max[1], a.AreaM2, a.ThresholdPercent, a.ThresholdUnits, nullTime(a.Deadline), string(a.Status))
				c.Created++
			case err == nil:
				_, err = tx.ExecContext(ctx, `UPDATE areas SET name = ?, geometry = ?, min_lon = ?, min_lat = ?, max_lon = ?, max_lat = ?, area_m2 = ?,
					threshold_percent = CASE WHEN ? THEN ? ELSE threshold_percent END WHERE id = ?`,
					a.Name, blob, b.Min[0], b.Min[1], b.Max[0], b.Max[1], a.AreaM2, opt.SetThreshold, a.ThresholdPercent, id)
				c.Updated++
			}
			if err != nil {
				return formatError(err)
			}
		}
		n, err := reassign(ctx, tx, assign)
		c.Reassigned = n
		if err != nil {
			return err
		}
		return refreshCounters(ctx, tx)
	})
	return c, err
}

// reassignChunk is how many addresses are read and assigned at a time:
// memory stays bounded however many addresses there are.
const reassignChunk = 65536

// reassign walks every address in rowid order, assigns each chunk on every
// core, and moves those whose area changed, by rowid, in the same order.
// When many move, the area index is dropped first and built again from
// sorted keys: a million random updates of it took most of 55 s.
func reassign(ctx context.Context, tx *sql.Tx, assign func(orb.Point) string) (int, error) {
	ids := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT id, code FROM areas`)
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

	type move struct {
		seq  int64
		area sql.NullInt64
	}
	var moves []move
	seqs := make([]int64, 0, reassignChunk)
	pts := make([]orb.Point, 0, reassignChunk)
	cur := make([]sql.NullInt64, 0, reassignChunk)
	codes := make([]string, reassignChunk)
	flush := func() {
		pledge.AssignAll(pts, codes, assign)
		for i := range pts {
			var next sql.NullInt64
			if codes[i] != "" {
				next = sql.NullInt64{Int64: ids[codes[i]], Valid: true}
			}
			if next != cur[i] {
				moves = append(moves, move{seqs[i], next})
			}
		}
		seqs, pts, cur = seqs[:0], pts[:0], cur[:0]
	}
	total := 0
	rows, err = tx.QueryContext(ctx, `SELECT seq, lon, lat, area_id FROM addresses ORDER BY seq`)
	if err != nil {
		return 0, formatError(err)
	}
	for rows.Next() {
		var seq int64
		var p orb.Point
		var c sql.NullInt64
		if err := rows.Scan(&seq, &p[0], &p[1], &c); err != nil {
			rows.Close()
			return 0, formatError(err)
		}
		seqs, pts, cur = append(seqs, seq), append(pts, p), append(cur, c)
		if total++; len(pts) == reassignChunk {
			flush()
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, formatError(err)
	}
	flush()
	if len(moves) == 0 {
		return 0, nil
	}
	rebuild := len(moves) >= 10000 && len(moves) >= total/16
	if rebuild {
		if _, err := tx.ExecContext(ctx, `DROP INDEX addresses_area`); err != nil {
			return 0, formatError(err)
		}
	}
	// The moves go into a temporary table and then into addresses with one
	// UPDATE: an UPDATE per row made SQLite copy its page to the statement
	// journal each time (the foreign key may abort a statement), a fifth of
	// the time; one statement copies each page once.
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS area_moves (seq INTEGER PRIMARY KEY, area_id INTEGER);
		DELETE FROM area_moves`); err != nil {
		return 0, formatError(err)
	}
	const perInsert = 256
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, 2*perInsert)
	for lo := 0; lo < len(moves); lo += perInsert {
		hi := min(lo+perInsert, len(moves))
		args = args[:0]
		for _, m := range moves[lo:hi] {
			args = append(args, m.seq, m.area)
		}
		st := full
		if st == nil || hi-lo != perInsert {
			q := `INSERT INTO area_moves (seq, area_id) VALUES (?,?)` + strings.Repeat(`,(?,?)`, hi-lo-1)
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return 0, formatError(err)
			}
			if hi-lo == perInsert {
				full = st
			} else {
				defer st.Close()
			}
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return 0, formatError(err)
		}
	}
	// Driven by area_moves, so rows are visited in seq order. UPDATE ...
	// FROM let SQLite scan addresses through its smallest covering index
	// instead, in that index's order: a random page for every row, 7.5 s
	// instead of 3.8 s for a million once addresses_lon_lat was gone.
	if _, err := tx.ExecContext(ctx, `UPDATE addresses SET area_id = (SELECT m.area_id FROM area_moves m WHERE m.seq = addresses.seq)
			WHERE seq IN (SELECT seq FROM area_moves);
		DELETE FROM area_moves`); err != nil {
		return 0, formatError(err)
	}
	if rebuild {
		if _, err := tx.ExecContext(ctx, `CREATE INDEX addresses_area ON addresses(area_id, units)`); err != nil {
			return 0, formatError(err)
		}
	}
	return len(moves), nil
}

// refreshCounters recomputes every area's counters from the rows.
func refreshCounters(ctx context.Context, tx *sql.Tx) error {
	// One pass over each area's addresses and one over its pledges, not
	// one per counter: 1.4 s of a 4M-address load before.
	_, err := tx.ExecContext(ctx, `UPDATE areas SET
		(addresses, units) = (SELECT count(*), coalesce(sum(units), 0) FROM addresses WHERE area_id = areas.id),
		(pledged_units, unconfirmed_units) = (SELECT count(*) FILTER (WHERE p.confirmed), count(*) FILTER (WHERE NOT p.confirmed)
			FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq
			WHERE ad.area_id = areas.id AND p.status = 'active')`)
	return formatError(err)
}
