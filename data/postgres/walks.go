package postgres

import (
	"context"

	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

const walkColumns = `w.id, ar.code, w.batch, w.number, w.size, w.length_m, w.created_at, w.created_by,
	w.assigned_to, w.assigned_at, w.expires_at, w.returned_at`

func scanWalk(row pgx.Row) (pledge.Walk, error) {
	var w pledge.Walk
	if err := row.Scan(&w.ID, &w.AreaCode, &w.Batch, &w.Number, &w.Size, &w.LengthM, &w.CreatedAt, &w.CreatedBy,
		&w.AssignedTo, &w.AssignedAt, &w.ExpiresAt, &w.ReturnedAt); err != nil {
		return w, formatError(err)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	for _, t := range []**time.Time{&w.AssignedAt, &w.ExpiresAt, &w.ReturnedAt} {
		if *t != nil {
			u := (**t).UTC()
			*t = &u
		}
	}
	return w, nil
}

// stopSelect reads stops with their addresses as they are now.
const stopSelect = `SELECT s.walk_id, s.seq, s.code, s.drive, s.leg_m, s.address_id, coalesce(ad.text, ''),
	coalesce(ST_X(ad.geom), 0), coalesce(ST_Y(ad.geom), 0), coalesce(ad.units, 1), ar.code,
	(SELECT count(*) FROM pledges p WHERE p.address_id = s.address_id AND p.status = 'active')
	FROM walk_stops s JOIN walks w ON w.id = s.walk_id JOIN areas ar ON ar.id = s.area_id
	LEFT JOIN addresses ad ON ad.id = s.address_id `

func scanStops(rows pgx.Rows) (map[int64][]pledge.WalkStop, error) {
	defer rows.Close()
	out := map[int64][]pledge.WalkStop{}
	for rows.Next() {
		var id int64
		var st pledge.WalkStop
		a := &st.Address
		if err := rows.Scan(&id, &st.Seq, &st.Code, &st.Drive, &st.LegM, &a.ID, &a.Text, &a.Point[0], &a.Point[1], &a.Units, &a.AreaCode, &a.PledgedUnits); err != nil {
			return nil, formatError(err)
		}
		out[id] = append(out[id], st)
	}
	return out, formatError(rows.Err())
}

// CreateWalks stores walks as the area's next batch in one transaction;
// an advisory lock per area numbers concurrent batches one after the
// other without locking the area row that pledges update.
func (s *Store) CreateWalks(ctx context.Context, code string, walks []pledge.Walk, codeOf func(batch, number, seq int) string, audit pledge.AuditEntry) (int, error) {
	var batch int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var areaID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, code).Scan(&areaID); err != nil {
			return notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('kommunity.walks'), $1::int)`, int32(areaID)); err != nil {
			return formatError(err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(batch), 0) + 1 FROM walks WHERE area_id = $1`, areaID).Scan(&batch); err != nil {
			return formatError(err)
		}
		var rows [][]any
		for i := range walks {
			w := &walks[i]
			w.Batch = batch
			err := tx.QueryRow(ctx, `INSERT INTO walks (area_id, batch, number, size, length_m, created_at, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, areaID, batch, w.Number, w.Size, w.LengthM, w.CreatedAt, w.CreatedBy).Scan(&w.ID)
			if err != nil {
				return formatError(err)
			}
			for j := range w.Stops {
				st := &w.Stops[j]
				st.Code = codeOf(batch, w.Number, st.Seq)
				rows = append(rows, []any{w.ID, st.Seq, areaID, st.Address.ID, st.Code, st.Drive, st.LegM})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"walk_stops"}, []string{"walk_id", "seq", "area_id", "address_id", "code", "drive", "leg_m"}, pgx.CopyFromRows(rows)); err != nil {
			return formatError(err)
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, err
	}
	return batch, nil
}

// LatestWalkBatch returns the area's latest batch number (of size when
// not 0), or 0.
func (s *Store) LatestWalkBatch(ctx context.Context, code string, size int) (int, error) {
	var batch int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(w.batch), 0) FROM walks w JOIN areas ar ON ar.id = w.area_id
		WHERE ar.code = $1 AND ($2 = 0 OR w.size = $2)`, code, size).Scan(&batch)
	return batch, formatError(err)
}

type walkQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Walks lists one batch's walks with their stops.
func (s *Store) Walks(ctx context.Context, code string, batch int) ([]pledge.Walk, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+walkColumns+` FROM walks w JOIN areas ar ON ar.id = w.area_id
		WHERE ar.code = $1 AND w.batch = $2 ORDER BY w.number`, code, batch)
	if err != nil {
		return nil, formatError(err)
	}
	walks := []pledge.Walk{}
	for rows.Next() {
		w, err := scanWalk(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		walks = append(walks, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	srows, err := s.pool.Query(ctx, stopSelect+`WHERE ar.code = $1 AND w.batch = $2 ORDER BY w.number, s.seq`, code, batch)
	if err != nil {
		return nil, formatError(err)
	}
	stops, err := scanStops(srows)
	if err != nil {
		return nil, err
	}
	for i := range walks {
		walks[i].Stops = stops[walks[i].ID]
	}
	return walks, nil
}

// Walk returns one walk with its stops.
func (s *Store) Walk(ctx context.Context, id int64) (pledge.Walk, error) {
	return s.walk(ctx, s.pool, id, false)
}

func (s *Store) walk(ctx context.Context, q walkQuerier, id int64, lock bool) (pledge.Walk, error) {
	sql := `SELECT ` + walkColumns + ` FROM walks w JOIN areas ar ON ar.id = w.area_id WHERE w.id = $1`
	if lock {
		sql += ` FOR UPDATE OF w`
	}
	w, err := scanWalk(q.QueryRow(ctx, sql, id))
	if err != nil {
		return w, notFound(err, pledge.Errorf(pledge.ENOTFOUND, "no walk %d", id))
	}
	rows, err := q.Query(ctx, stopSelect+`WHERE s.walk_id = $1 ORDER BY s.seq`, id)
	if err != nil {
		return w, formatError(err)
	}
	stops, err := scanStops(rows)
	w.Stops = stops[id]
	return w, err
}

// ChangeWalk locks the walk row and writes change's assignment.
func (s *Store) ChangeWalk(ctx context.Context, id int64, change func(pledge.Walk) (pledge.Walk, pledge.AuditEntry, error)) (pledge.Walk, error) {
	var out pledge.Walk
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		w, err := s.walk(ctx, tx, id, true)
		if err != nil {
			return err
		}
		nw, audit, err := change(w)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE walks SET assigned_to = $1, assigned_at = $2, expires_at = $3, returned_at = $4 WHERE id = $5`,
			nw.AssignedTo, nw.AssignedAt, nw.ExpiresAt, nw.ReturnedAt, id); err != nil {
			return formatError(err)
		}
		out = nw
		return insertAudit(ctx, tx, audit)
	})
	return out, err
}

// WalkStopByCode finds a stop by its code in an area.
func (s *Store) WalkStopByCode(ctx context.Context, area, code string) (pledge.WalkStop, error) {
	rows, err := s.pool.Query(ctx, stopSelect+`WHERE ar.code = $1 AND s.code = $2`, area, code)
	if err != nil {
		return pledge.WalkStop{}, formatError(err)
	}
	stops, err := scanStops(rows)
	if err != nil {
		return pledge.WalkStop{}, err
	}
	for _, st := range stops {
		return st[0], nil
	}
	return pledge.WalkStop{}, pledge.Errorf(pledge.ENOTFOUND, "no walk code %s in area %s", code, area)
}

// RecordOutcome upserts an address's last outcome with audit.
func (s *Store) RecordOutcome(ctx context.Context, o pledge.AddressOutcome, audit pledge.AuditEntry) (pledge.AddressOutcome, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO address_outcomes (address_id, outcome, code, at, recorded_by, do_not_knock) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (address_id) DO UPDATE SET outcome = excluded.outcome, code = excluded.code, at = excluded.at,
				recorded_by = excluded.recorded_by, do_not_knock = address_outcomes.do_not_knock OR excluded.do_not_knock
			RETURNING do_not_knock`, o.AddressID, string(o.Outcome), o.Code, o.At, o.By, o.DoNotKnock).Scan(&o.DoNotKnock)
		if err != nil {
			return formatError(err)
		}
		return insertAudit(ctx, tx, audit)
	})
	return o, err
}

// AddressOutcomes lists the outcomes of the area's addresses.
func (s *Store) AddressOutcomes(ctx context.Context, code string) ([]pledge.AddressOutcome, error) {
	rows, err := s.pool.Query(ctx, `SELECT o.address_id, o.outcome, o.code, o.at, o.recorded_by, o.do_not_knock
		FROM address_outcomes o JOIN addresses ad ON ad.id = o.address_id JOIN areas ar ON ar.id = ad.area_id
		WHERE ar.code = $1 ORDER BY o.address_id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.AddressOutcome{}
	for rows.Next() {
		var o pledge.AddressOutcome
		if err := rows.Scan(&o.AddressID, &o.Outcome, &o.Code, &o.At, &o.By, &o.DoNotKnock); err != nil {
			return nil, formatError(err)
		}
		o.At = o.At.UTC()
		out = append(out, o)
	}
	return out, formatError(rows.Err())
}
