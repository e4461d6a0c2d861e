package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.ChallengeStore = (*Store)(nil)

const challengeColumns = `id, address_id, area_code, kind, note, coalesce(proposed_units, 0), status, reason, secret_hash, reported_by,
	units_before, units_after, created_at, decided_at, decided_by`

func scanChallenge(row pgx.Row) (pledge.Challenge, error) {
	var c pledge.Challenge
	var before, after *int
	if err := row.Scan(&c.ID, &c.AddressID, &c.AreaCode, &c.Kind, &c.Note, &c.ProposedUnits, &c.Status, &c.Reason, &c.SecretHash,
		&c.ReportedBy, &before, &after, &c.CreatedAt, &c.DecidedAt, &c.DecidedBy); err != nil {
		return c, formatError(err)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	if c.DecidedAt != nil {
		t := c.DecidedAt.UTC()
		c.DecidedAt = &t
	}
	c.UnitsBefore, c.UnitsAfter = before, after
	return c, nil
}

// CreateChallenge stores c.
func (s *Store) CreateChallenge(ctx context.Context, c *pledge.Challenge) error {
	var proposed *int
	if c.ProposedUnits > 0 {
		proposed = &c.ProposedUnits
	}
	return formatError(s.pool.QueryRow(ctx, `INSERT INTO challenges (address_id, area_code, kind, note, proposed_units, status, secret_hash, reported_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, c.AddressID, c.AreaCode, string(c.Kind), c.Note, proposed, string(c.Status),
		c.SecretHash, c.ReportedBy, c.CreatedAt).Scan(&c.ID))
}

// ChallengeByHash returns the challenge of a secret's hash.
func (s *Store) ChallengeByHash(ctx context.Context, hash string) (pledge.Challenge, error) {
	return scanChallenge(s.pool.QueryRow(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE secret_hash = $1`, hash))
}

// ChallengeByID returns a challenge.
func (s *Store) ChallengeByID(ctx context.Context, id int64) (pledge.Challenge, error) {
	return scanChallenge(s.pool.QueryRow(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE id = $1`, id))
}

// AreaChallenges lists an area's challenges, newest first.
func (s *Store) AreaChallenges(ctx context.Context, code string) ([]pledge.Challenge, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE area_code = $1 ORDER BY id DESC`, code)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Challenge{}
	for rows.Next() {
		c, err := scanChallenge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, formatError(rows.Err())
}

// DecideChallenge records the decision and applies the unit change, with
// audit, in one transaction. The address's row lock, then its area's,
// order it against pledges and imports.
func (s *Store) DecideChallenge(ctx context.Context, c pledge.Challenge, units int, audit pledge.AuditEntry, decide pledge.Decider) (pledge.Challenge, error) {
	err := s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		var before, after *int
		if units >= 0 && c.AddressID != "" {
			var old, active int
			var areaID *int64
			err := tx.QueryRow(ctx, `SELECT units, area_id, (SELECT count(*) FROM pledges p WHERE p.address_id = ad.id AND p.status = 'active')
				FROM addresses ad WHERE id = $1 FOR UPDATE`, c.AddressID).Scan(&old, &areaID, &active)
			if errors.Is(err, pgx.ErrNoRows) {
				return pledge.Errorf(pledge.ECONFLICT, "address %q is no longer in the address base", c.AddressID)
			} else if err != nil {
				return formatError(err)
			}
			b := &pgx.Batch{}
			switch {
			case units == 0 && active > 0:
				return pledge.Errorf(pledge.ECONFLICT, "the address has %d active pledge(s): they must be withdrawn before it leaves the area", active)
			case units > 0 && active > units:
				return pledge.Errorf(pledge.ECONFLICT, "the address has %d active pledge(s), more than %d unit(s)", active, units)
			case units == 0:
				b.Queue(`UPDATE addresses SET area_id = NULL WHERE id = $1`, c.AddressID)
				if areaID != nil {
					b.Queue(`UPDATE areas SET addresses = addresses - 1, units = units - $1 WHERE id = $2`, old, *areaID)
				}
			default:
				b.Queue(`UPDATE addresses SET units = $1 WHERE id = $2`, units, c.AddressID)
				if areaID != nil {
					b.Queue(`UPDATE areas SET units = units + $1 WHERE id = $2`, units-old, *areaID)
				}
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return formatError(err)
			}
			before, after = &old, &units
			if areaID != nil {
				a, err := scanArea(tx.QueryRow(ctx, `SELECT `+areaColumns+` FROM areas WHERE id = $1`, *areaID), false)
				if err != nil {
					return err
				}
				if err := apply(ctx, tx, a, decide); err != nil {
					return err
				}
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE challenges SET status = $1, reason = $2, decided_at = $3, decided_by = $4, units_before = $5, units_after = $6
			WHERE id = $7 AND status = 'open'`, string(c.Status), c.Reason, c.DecidedAt, c.DecidedBy, before, after, c.ID)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return pledge.Errorf(pledge.ECONFLICT, "challenge %d is decided already", c.ID)
		}
		return nil
	})
	if err != nil {
		return pledge.Challenge{}, err
	}
	return s.ChallengeByID(ctx, c.ID)
}
