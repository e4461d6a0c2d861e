package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

// SubsidyRuleSets lists the rule sets by name.
func (s *Store) SubsidyRuleSets(ctx context.Context) ([]pledge.SubsidyRules, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, title, valid_from, min_own_payment, max_subsidy_per_address FROM subsidy_rules ORDER BY name`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.SubsidyRules{}
	for rows.Next() {
		var r pledge.SubsidyRules
		if err := rows.Scan(&r.Name, &r.Title, &r.ValidFrom, &r.MinOwnPayment, &r.MaxSubsidyPerAddress); err != nil {
			return nil, formatError(err)
		}
		r.ValidFrom = time.Date(r.ValidFrom.Year(), r.ValidFrom.Month(), r.ValidFrom.Day(), 0, 0, 0, 0, time.UTC)
		out = append(out, r)
	}
	return out, formatError(rows.Err())
}

// SaveSubsidyRules upserts a rule set with its audit entry.
func (s *Store) SaveSubsidyRules(ctx context.Context, r pledge.SubsidyRules, audit pledge.AuditEntry) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO subsidy_rules (name, title, valid_from, min_own_payment, max_subsidy_per_address) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (name) DO UPDATE SET title = excluded.title, valid_from = excluded.valid_from,
				min_own_payment = excluded.min_own_payment, max_subsidy_per_address = excluded.max_subsidy_per_address`,
			r.Name, r.Title, r.ValidFrom.Format(time.DateOnly), r.MinOwnPayment, r.MaxSubsidyPerAddress)
		if err != nil {
			return formatError(err)
		}
		return insertAudit(ctx, tx, audit)
	})
}

// RecordPowerOfAttorney records a pledge's power of attorney once.
func (s *Store) RecordPowerOfAttorney(ctx context.Context, token string, poa pledge.PowerOfAttorney, audit pledge.AuditEntry) (pledge.Pledge, error) {
	var p pledge.Pledge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanPledge(tx.QueryRow(ctx, pledgeSelect+`WHERE p.token = $1 AND p.status = 'active'`, token))
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no active pledge with this link")
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO powers_of_attorney (pledge_id, given_at, source) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			p.ID, poa.GivenAt, poa.Source)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
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
	rows, err := s.pool.Query(ctx, `SELECT poa.pledge_id, poa.given_at, poa.source FROM powers_of_attorney poa
		JOIN pledges p ON p.id = poa.pledge_id JOIN addresses ad ON ad.id = p.address_id JOIN areas ar ON ar.id = ad.area_id
		WHERE ar.code = $1 AND p.status = 'active' ORDER BY poa.pledge_id`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.PowerOfAttorney{}
	for rows.Next() {
		var poa pledge.PowerOfAttorney
		if err := rows.Scan(&poa.PledgeID, &poa.GivenAt, &poa.Source); err != nil {
			return nil, formatError(err)
		}
		poa.GivenAt = poa.GivenAt.UTC()
		out = append(out, poa)
	}
	return out, formatError(rows.Err())
}

// HasPowerOfAttorney reports whether a pledge has one on file.
func (s *Store) HasPowerOfAttorney(ctx context.Context, pledgeID int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM powers_of_attorney WHERE pledge_id = $1)`, pledgeID).Scan(&ok)
	return ok, formatError(err)
}
