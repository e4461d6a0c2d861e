package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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

// reassign walks every address and moves those whose area changed.
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
		id   string
		area sql.NullInt64
	}
	var moves []move
	rows, err = tx.QueryContext(ctx, `SELECT id, lon, lat, area_id FROM addresses`)
	if err != nil {
		return 0, formatError(err)
	}
	for rows.Next() {
		var id string
		var p orb.Point
		var cur sql.NullInt64
		if err := rows.Scan(&id, &p[0], &p[1], &cur); err != nil {
			rows.Close()
			return 0, formatError(err)
		}
		var next sql.NullInt64
		if code := assign(p); code != "" {
			next = sql.NullInt64{Int64: ids[code], Valid: true}
		}
		if next != cur {
			moves = append(moves, move{id, next})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, formatError(err)
	}
	stmt, err := tx.PrepareContext(ctx, `UPDATE addresses SET area_id = ? WHERE id = ?`)
	if err != nil {
		return 0, formatError(err)
	}
	defer stmt.Close()
	for _, m := range moves {
		if _, err := stmt.ExecContext(ctx, m.area, m.id); err != nil {
			return 0, formatError(err)
		}
	}
	return len(moves), nil
}

// refreshCounters recomputes every area's counters from the rows.
func refreshCounters(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE areas SET
		addresses = (SELECT count(*) FROM addresses WHERE area_id = areas.id),
		units = (SELECT coalesce(sum(units), 0) FROM addresses WHERE area_id = areas.id),
		pledged_units = (SELECT count(*) FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq
			WHERE ad.area_id = areas.id AND p.status = 'active' AND p.confirmed),
		unconfirmed_units = (SELECT count(*) FROM pledges p JOIN addresses ad ON ad.seq = p.address_seq
			WHERE ad.area_id = areas.id AND p.status = 'active' AND NOT p.confirmed)`)
	return formatError(err)
}
