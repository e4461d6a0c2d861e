package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

// SaveAreaSettings updates an area with its audit entry, extension and
// events in one transaction.
func (s *Store) SaveAreaSettings(ctx context.Context, a pledge.Area, audit pledge.AuditEntry, ext *pledge.DeadlineExtension, events []pledge.Event) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := updateArea(ctx, tx, a); err != nil {
			return err
		}
		if ext != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO deadline_extensions (area_id, from_date, to_date, at)
				SELECT id, $1, $2, $3 FROM areas WHERE code = $4`, ext.From, ext.To, ext.At, a.Code); err != nil {
				return formatError(err)
			}
		}
		for _, e := range events {
			if err := insertEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, audit)
	})
}

// DeadlineExtensions returns every area's latest extension.
func (s *Store) DeadlineExtensions(ctx context.Context) (map[string]pledge.DeadlineExtension, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (x.area_id) ar.code, x.from_date, x.to_date, x.at
		FROM deadline_extensions x JOIN areas ar ON ar.id = x.area_id ORDER BY x.area_id, x.id DESC`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := map[string]pledge.DeadlineExtension{}
	for rows.Next() {
		var e pledge.DeadlineExtension
		if err := rows.Scan(&e.AreaCode, &e.From, &e.To, &e.At); err != nil {
			return nil, formatError(err)
		}
		e.From, e.To, e.At = e.From.UTC(), e.To.UTC(), e.At.UTC()
		out[e.AreaCode] = e
	}
	return out, formatError(rows.Err())
}
