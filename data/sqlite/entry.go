package sqlite

import (
	"context"
	"database/sql"

	"github.com/kommunity/kommunity/pledge"
)

// RecordPledgeEntry stores how an entered pledge came, with audit.
func (s *Store) RecordPledgeEntry(ctx context.Context, e pledge.PledgeEntry, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pledge_entries (pledge_id, source, batch, entered_by, at) VALUES (?, ?, ?, ?, ?)`,
			e.PledgeID, e.Source, e.Batch, e.EnteredBy, formatTime(e.At))
		return formatError(err)
	})
}

// AreaPledgeEntries lists the entries of an area's pledges.
func (s *Store) AreaPledgeEntries(ctx context.Context, code string) ([]pledge.PledgeEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.pledge_id, e.source, e.batch, e.entered_by, e.at FROM pledge_entries e
		JOIN pledges p ON p.id = e.pledge_id JOIN addresses ad ON ad.seq = p.address_seq JOIN areas ar ON ar.id = ad.area_id
		WHERE ar.code = ? ORDER BY e.pledge_id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.PledgeEntry{}
	for rows.Next() {
		var e pledge.PledgeEntry
		var at string
		if err := rows.Scan(&e.PledgeID, &e.Source, &e.Batch, &e.EnteredBy, &at); err != nil {
			return nil, formatError(err)
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}
