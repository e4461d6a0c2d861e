package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

const walkColumns = `w.id, ar.code, w.batch, w.number, w.size, w.length_m, w.created_at, w.created_by,
	w.assigned_to, w.assigned_at, w.expires_at, w.returned_at`

func scanWalk(sc interface{ Scan(...any) error }) (pledge.Walk, error) {
	var w pledge.Walk
	var created string
	var assigned, expires, returned sql.NullString
	if err := sc.Scan(&w.ID, &w.AreaCode, &w.Batch, &w.Number, &w.Size, &w.LengthM, &created, &w.CreatedBy,
		&w.AssignedTo, &assigned, &expires, &returned); err != nil {
		return w, formatError(err)
	}
	w.CreatedAt = parseTime(created)
	w.AssignedAt, w.ExpiresAt, w.ReturnedAt = optTime(assigned), optTime(expires), optTime(returned)
	return w, nil
}

func optTime(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

// stopSelect reads stops with their addresses as they are now.
const stopSelect = `SELECT s.walk_id, s.seq, s.code, s.drive, s.leg_m, s.address_id, coalesce(ad.text, ''),
	coalesce(ad.lon, 0), coalesce(ad.lat, 0), coalesce(ad.units, 1), ar.code,
	(SELECT count(*) FROM pledges p WHERE p.address_seq = ad.seq AND p.status = 'active')
	FROM walk_stops s JOIN walks w ON w.id = s.walk_id JOIN areas ar ON ar.id = s.area_id
	LEFT JOIN addresses ad ON ad.id = s.address_id `

func scanStops(rows *sql.Rows) (map[int64][]pledge.WalkStop, error) {
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

// CreateWalks stores walks as the area's next batch in one transaction.
func (s *Store) CreateWalks(ctx context.Context, code string, walks []pledge.Walk, codeOf func(batch, number, seq int) string, audit pledge.AuditEntry) (int, error) {
	var batch int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var areaID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM areas WHERE code = ?`, code).Scan(&areaID); err != nil {
			return notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
		}
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(batch), 0) + 1 FROM walks WHERE area_id = ?`, areaID).Scan(&batch); err != nil {
			return formatError(err)
		}
		for i := range walks {
			w := &walks[i]
			w.Batch = batch
			err := tx.QueryRowContext(ctx, `INSERT INTO walks (area_id, batch, number, size, length_m, created_at, created_by)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, areaID, batch, w.Number, w.Size, w.LengthM, formatTime(w.CreatedAt), w.CreatedBy).Scan(&w.ID)
			if err != nil {
				return formatError(err)
			}
			for j := range w.Stops {
				st := &w.Stops[j]
				st.Code = codeOf(batch, w.Number, st.Seq)
				if _, err := tx.ExecContext(ctx, `INSERT INTO walk_stops (walk_id, seq, area_id, address_id, code, drive, leg_m) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					w.ID, st.Seq, areaID, st.Address.ID, st.Code, st.Drive, st.LegM); err != nil {
					return formatError(err)
				}
			}
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
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(w.batch), 0) FROM walks w JOIN areas ar ON ar.id = w.area_id
		WHERE ar.code = ? AND (? = 0 OR w.size = ?)`, code, size, size).Scan(&batch)
	return batch, formatError(err)
}

// Walks lists one batch's walks with their stops.
func (s *Store) Walks(ctx context.Context, code string, batch int) ([]pledge.Walk, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+walkColumns+` FROM walks w JOIN areas ar ON ar.id = w.area_id
		WHERE ar.code = ? AND w.batch = ? ORDER BY w.number`, code, batch)
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
	srows, err := s.db.QueryContext(ctx, stopSelect+`WHERE ar.code = ? AND w.batch = ? ORDER BY w.number, s.seq`, code, batch)
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
	return s.walk(ctx, s.db, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) walk(ctx context.Context, q queryer, id int64) (pledge.Walk, error) {
	w, err := scanWalk(q.QueryRowContext(ctx, `SELECT `+walkColumns+` FROM walks w JOIN areas ar ON ar.id = w.area_id WHERE w.id = ?`, id))
	if err != nil {
		return w, notFound(err, pledge.Errorf(pledge.ENOTFOUND, "no walk %d", id))
	}
	rows, err := q.QueryContext(ctx, stopSelect+`WHERE s.walk_id = ? ORDER BY s.seq`, id)
	if err != nil {
		return w, formatError(err)
	}
	stops, err := scanStops(rows)
	w.Stops = stops[id]
	return w, err
}

// ChangeWalk writes change's assignment in one immediate transaction.
func (s *Store) ChangeWalk(ctx context.Context, id int64, change func(pledge.Walk) (pledge.Walk, pledge.AuditEntry, error)) (pledge.Walk, error) {
	var out pledge.Walk
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w, err := s.walk(ctx, tx, id)
		if err != nil {
			return err
		}
		nw, audit, err := change(w)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE walks SET assigned_to = ?, assigned_at = ?, expires_at = ?, returned_at = ? WHERE id = ?`,
			nw.AssignedTo, nullTime(nw.AssignedAt), nullTime(nw.ExpiresAt), nullTime(nw.ReturnedAt), id); err != nil {
			return formatError(err)
		}
		out = nw
		return insertAudit(ctx, tx, audit)
	})
	return out, err
}

// WalkStopByCode finds a stop by its code in an area.
func (s *Store) WalkStopByCode(ctx context.Context, area, code string) (pledge.WalkStop, error) {
	rows, err := s.db.QueryContext(ctx, stopSelect+`WHERE ar.code = ? AND s.code = ?`, area, code)
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO address_outcomes (address_id, outcome, code, at, recorded_by, do_not_knock) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (address_id) DO UPDATE SET outcome = excluded.outcome, code = excluded.code, at = excluded.at,
				recorded_by = excluded.recorded_by, do_not_knock = address_outcomes.do_not_knock OR excluded.do_not_knock
			RETURNING do_not_knock`, o.AddressID, string(o.Outcome), o.Code, formatTime(o.At), o.By, o.DoNotKnock).Scan(&o.DoNotKnock)
		if err != nil {
			return formatError(err)
		}
		return insertAudit(ctx, tx, audit)
	})
	return o, err
}

// AddressOutcomes lists the outcomes of the area's addresses.
func (s *Store) AddressOutcomes(ctx context.Context, code string) ([]pledge.AddressOutcome, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.address_id, o.outcome, o.code, o.at, o.recorded_by, o.do_not_knock
		FROM address_outcomes o JOIN addresses ad ON ad.id = o.address_id JOIN areas ar ON ar.id = ad.area_id
		WHERE ar.code = ? ORDER BY o.address_id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.AddressOutcome{}
	for rows.Next() {
		var o pledge.AddressOutcome
		var at string
		if err := rows.Scan(&o.AddressID, &o.Outcome, &o.Code, &at, &o.By, &o.DoNotKnock); err != nil {
			return nil, formatError(err)
		}
		o.At = parseTime(at)
		out = append(out, o)
	}
	return out, formatError(rows.Err())
}
