package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// SubsidyRuleSets lists the rule sets by name.
func (s *Store) SubsidyRuleSets(ctx context.Context) ([]pledge.SubsidyRules, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, title, valid_from, min_own_payment, max_subsidy_per_address FROM subsidy_rules ORDER BY name`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.SubsidyRules{}
	for rows.Next() {
		var r pledge.SubsidyRules
		var from string
		if err := rows.Scan(&r.Name, &r.Title, &from, &r.MinOwnPayment, &r.MaxSubsidyPerAddress); err != nil {
			return nil, formatError(err)
		}
		if r.ValidFrom, err = time.Parse(time.DateOnly, from); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, formatError(rows.Err())
}

// SaveSubsidyRules upserts a rule set with its audit entry.
func (s *Store) SaveSubsidyRules(ctx context.Context, r pledge.SubsidyRules, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subsidy_rules (name, title, valid_from, min_own_payment, max_subsidy_per_address) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET title = excluded.title, valid_from = excluded.valid_from,
				min_own_payment = excluded.min_own_payment, max_subsidy_per_address = excluded.max_subsidy_per_address`,
			r.Name, r.Title, r.ValidFrom.Format(time.DateOnly), r.MinOwnPayment, r.MaxSubsidyPerAddress)
		return formatError(err)
	})
}

// RecordPowerOfAttorney records a pledge's power of attorney once.
func (s *Store) RecordPowerOfAttorney(ctx context.Context, token string, poa pledge.PowerOfAttorney, audit pledge.AuditEntry) (pledge.Pledge, error) {
	var p pledge.Pledge
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanPledge(tx.QueryRowContext(ctx, pledgeSelect+`WHERE p.token = ? AND p.status = 'active'`, token))
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO powers_of_attorney (pledge_id, given_at, source) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			p.ID, formatTime(poa.GivenAt), poa.Source)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // given already: nothing new to audit
		}
		audit.AreaCode, audit.Target = p.AreaCode, "pledge:"+strconv.FormatInt(p.ID, 10)
		return insertAudit(ctx, tx, audit)
	})
	return p, err
}

// AreaPowersOfAttorney lists the powers of attorney of an area's active
// pledges.
func (s *Store) AreaPowersOfAttorney(ctx context.Context, code string) ([]pledge.PowerOfAttorney, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT poa.pledge_id, poa.given_at, poa.source FROM powers_of_attorney poa
		JOIN pledges p ON p.id = poa.pledge_id JOIN addresses ad ON ad.seq = p.address_seq JOIN areas ar ON ar.id = ad.area_id
		WHERE ar.code = ? AND p.status = 'active' ORDER BY poa.pledge_id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.PowerOfAttorney{}
	for rows.Next() {
		var poa pledge.PowerOfAttorney
		var at string
		if err := rows.Scan(&poa.PledgeID, &at, &poa.Source); err != nil {
			return nil, formatError(err)
		}
		poa.GivenAt = parseTime(at)
		out = append(out, poa)
	}
	return out, formatError(rows.Err())
}

// HasPowerOfAttorney reports whether a pledge has one on file.
func (s *Store) HasPowerOfAttorney(ctx context.Context, pledgeID int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM powers_of_attorney WHERE pledge_id = ?`, pledgeID).Scan(&n)
	return n > 0, formatError(err)
}
