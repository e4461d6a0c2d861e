package sqlite

import (
	"context"
	"database/sql"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.ChallengeStore = (*Store)(nil)

const challengeColumns = `id, address_id, area_code, kind, note, coalesce(proposed_units, 0), status, reason, secret_hash, reported_by,
	units_before, units_after, created_at, decided_at, decided_by`

func scanChallenge(row interface{ Scan(...any) error }) (pledge.Challenge, error) {
	var c pledge.Challenge
	var before, after sql.NullInt64
	var created string
	var decided sql.NullString
	if err := row.Scan(&c.ID, &c.AddressID, &c.AreaCode, &c.Kind, &c.Note, &c.ProposedUnits, &c.Status, &c.Reason, &c.SecretHash,
		&c.ReportedBy, &before, &after, &created, &decided, &c.DecidedBy); err != nil {
		return c, formatError(err)
	}
	c.CreatedAt = parseTime(created)
	if decided.Valid {
		t := parseTime(decided.String)
		c.DecidedAt = &t
	}
	if before.Valid {
		b, a := int(before.Int64), int(after.Int64)
		c.UnitsBefore, c.UnitsAfter = &b, &a
	}
	return c, nil
}

// CreateChallenge stores c.
func (s *Store) CreateChallenge(ctx context.Context, c *pledge.Challenge) error {
	var proposed any
	if c.ProposedUnits > 0 {
		proposed = c.ProposedUnits
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO challenges (address_id, area_code, kind, note, proposed_units, status, secret_hash, reported_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.AddressID, c.AreaCode, string(c.Kind), c.Note, proposed, string(c.Status), c.SecretHash,
		c.ReportedBy, formatTime(c.CreatedAt))
	if err != nil {
		return formatError(err)
	}
	c.ID, _ = res.LastInsertId()
	return nil
}

// ChallengeByHash returns the challenge of a secret's hash.
func (s *Store) ChallengeByHash(ctx context.Context, hash string) (pledge.Challenge, error) {
	return scanChallenge(s.db.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE secret_hash = ?`, hash))
}

// ChallengeByID returns a challenge.
func (s *Store) ChallengeByID(ctx context.Context, id int64) (pledge.Challenge, error) {
	return scanChallenge(s.db.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE id = ?`, id))
}

// AreaChallenges lists an area's challenges, newest first.
func (s *Store) AreaChallenges(ctx context.Context, code string) ([]pledge.Challenge, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE area_code = ? ORDER BY id DESC`, code)
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
// audit, in one immediate transaction.
func (s *Store) DecideChallenge(ctx context.Context, c pledge.Challenge, units int, audit pledge.AuditEntry, decide pledge.Decider) (pledge.Challenge, error) {
	err := s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		var before, after any
		if units >= 0 && c.AddressID != "" {
			var seq, areaID sql.NullInt64
			var old, active int
			err := tx.QueryRowContext(ctx, `SELECT seq, units, area_id, (SELECT count(*) FROM pledges p WHERE p.address_seq = ad.seq AND p.status = 'active')
				FROM addresses ad WHERE id = ?`, c.AddressID).Scan(&seq, &old, &areaID, &active)
			if err == sql.ErrNoRows {
				return pledge.Errorf(pledge.ECONFLICT, "address %q is no longer in the address base", c.AddressID)
			} else if err != nil {
				return formatError(err)
			}
			switch {
			case units == 0 && active > 0:
				return pledge.Errorf(pledge.ECONFLICT, "the address has %d active pledge(s): they must be withdrawn before it leaves the area", active)
			case units > 0 && active > units:
				return pledge.Errorf(pledge.ECONFLICT, "the address has %d active pledge(s), more than %d unit(s)", active, units)
			case units == 0:
				if _, err := tx.ExecContext(ctx, `UPDATE addresses SET area_id = NULL WHERE seq = ?`, seq.Int64); err != nil {
					return formatError(err)
				}
				if areaID.Valid {
					if _, err := tx.ExecContext(ctx, `UPDATE areas SET addresses = addresses - 1, units = units - ? WHERE id = ?`, old, areaID.Int64); err != nil {
						return formatError(err)
					}
				}
			default:
				if _, err := tx.ExecContext(ctx, `UPDATE addresses SET units = ? WHERE seq = ?`, units, seq.Int64); err != nil {
					return formatError(err)
				}
				if areaID.Valid {
					if _, err := tx.ExecContext(ctx, `UPDATE areas SET units = units + ? WHERE id = ?`, units-old, areaID.Int64); err != nil {
						return formatError(err)
					}
				}
			}
			before, after = old, units
			if areaID.Valid {
				a, err := scanArea(tx.QueryRowContext(ctx, `SELECT `+areaColumns+` FROM areas WHERE id = ?`, areaID.Int64), false)
				if err != nil {
					return err
				}
				if err := apply(ctx, tx, a, decide); err != nil {
					return err
				}
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE challenges SET status = ?, reason = ?, decided_at = ?, decided_by = ?, units_before = ?, units_after = ?
			WHERE id = ? AND status = 'open'`, string(c.Status), c.Reason, nullTime(c.DecidedAt), c.DecidedBy, before, after, c.ID)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pledge.Errorf(pledge.ECONFLICT, "challenge %d is decided already", c.ID)
		}
		return nil
	})
	if err != nil {
		return pledge.Challenge{}, err
	}
	return s.ChallengeByID(ctx, c.ID)
}
