package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

// RecordPledgeEntry stores how an entered pledge came, with audit.
func (s *Store) RecordPledgeEntry(ctx context.Context, e pledge.PledgeEntry, audit pledge.AuditEntry) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pledge_entries (pledge_id, source, batch, entered_by, at) VALUES ($1, $2, $3, $4, $5)`,
			e.PledgeID, e.Source, e.Batch, e.EnteredBy, e.At); err != nil {
			return formatError(err)
		}
		return insertAudit(ctx, tx, audit)
	})
}

// AreaPledgeEntries lists the entries of an area's pledges.
func (s *Store) AreaPledgeEntries(ctx context.Context, code string) ([]pledge.PledgeEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.pledge_id, e.source, e.batch, e.entered_by, e.at FROM pledge_entries e
		JOIN pledges p ON p.id = e.pledge_id JOIN addresses ad ON ad.id = p.address_id JOIN areas ar ON ar.id = ad.area_id
		WHERE ar.code = $1 ORDER BY e.pledge_id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.PledgeEntry{}
	for rows.Next() {
		var e pledge.PledgeEntry
		if err := rows.Scan(&e.PledgeID, &e.Source, &e.Batch, &e.EnteredBy, &e.At); err != nil {
			return nil, formatError(err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}
