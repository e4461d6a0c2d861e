package sqlite

import (
	"context"
	"database/sql"

	"github.com/kommunity/kommunity/pledge"
)

// SaveAreaSettings updates an area with its audit entry, extension and
// events in one transaction.
func (s *Store) SaveAreaSettings(ctx context.Context, a pledge.Area, audit pledge.AuditEntry, ext *pledge.DeadlineExtension, events []pledge.Event) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		if err := updateArea(ctx, tx, a); err != nil {
			return err
		}
		if ext != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO deadline_extensions (area_id, from_date, to_date, at)
				SELECT id, ?, ?, ? FROM areas WHERE code = ?`, formatTime(ext.From), formatTime(ext.To), formatTime(ext.At), a.Code); err != nil {
				return formatError(err)
			}
		}
		for _, e := range events {
			if err := insertEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeadlineExtensions returns every area's latest extension.
func (s *Store) DeadlineExtensions(ctx context.Context) (map[string]pledge.DeadlineExtension, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ar.code, x.from_date, x.to_date, x.at FROM deadline_extensions x JOIN areas ar ON ar.id = x.area_id
		WHERE x.id = (SELECT max(id) FROM deadline_extensions WHERE area_id = x.area_id)`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := map[string]pledge.DeadlineExtension{}
	for rows.Next() {
		var e pledge.DeadlineExtension
		var from, to, at string
		if err := rows.Scan(&e.AreaCode, &from, &to, &at); err != nil {
			return nil, formatError(err)
		}
		e.From, e.To, e.At = parseTime(from), parseTime(to), parseTime(at)
		out[e.AreaCode] = e
	}
	return out, formatError(rows.Err())
}
