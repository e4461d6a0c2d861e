package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var (
	_ pledge.Store        = (*Store)(nil)
	_ pledge.AccountStore = (*Store)(nil)
)

// Lists of area codes and scopes are text[] columns (see
// migrations/0006_accounts.sql); an empty list reads back as nil.

func encodeList[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

func decodeList[T ~string](l []string) []T {
	if len(l) == 0 {
		return nil
	}
	out := make([]T, len(l))
	for i, v := range l {
		out[i] = T(v)
	}
	return out
}

// utc returns t in UTC; pgx gives times in the local zone.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

var (
	errNoUser       = pledge.Errorf(pledge.ENOTFOUND, "no such user")
	errEmailTaken   = &pledge.Error{Code: pledge.ECONFLICT, Reason: pledge.ReasonAccountExists, Field: "email", Message: "this e-mail address has an account already"}
	errNoInvitation = pledge.Errorf(pledge.ENOTFOUND, "no such invitation")
	errNoSession    = pledge.Errorf(pledge.ENOTFOUND, "no such session")
	errNoToken      = pledge.Errorf(pledge.ENOTFOUND, "no such API token")
	errNoReset      = pledge.Errorf(pledge.ENOTFOUND, "no such password reset")
	errLinkUsed     = pledge.Errorf(pledge.ECONFLICT, "this link was used already")
)

// notFound replaces the generic ENOTFOUND of formatError with want.
func notFound(err error, want error) error {
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return want
	}
	return err
}

// insertAudit writes e on db, in the caller's transaction.
func insertAudit(ctx context.Context, db execer, e pledge.AuditEntry) error {
	_, err := db.Exec(ctx, `INSERT INTO audit_log (at, actor_id, actor, action, area_code, target, old, new) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.At, e.ActorID, e.Actor, e.Action, e.AreaCode, e.Target, e.Old, e.New)
	return formatError(err)
}

// withAudit runs fn and writes e in one transaction.
func (s *Store) withAudit(ctx context.Context, e pledge.AuditEntry, fn func(pgx.Tx) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, e)
	})
}

// CreateInvitation stores inv and queues mail, in one transaction.
func (s *Store) CreateInvitation(ctx context.Context, inv *pledge.Invitation, mail *pledge.Event, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		var by *int64
		if inv.CreatedBy != 0 {
			by = &inv.CreatedBy
		}
		err := tx.QueryRow(ctx, `INSERT INTO invitations (token_hash, email, name, role, areas, provider, created_by, created_at, expires_at, used_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			inv.TokenHash, inv.Email, inv.Name, string(inv.Role), encodeList(inv.Areas), inv.Provider, by,
			inv.CreatedAt, inv.ExpiresAt, inv.UsedAt).Scan(&inv.ID)
		if err != nil {
			return formatError(err)
		}
		if mail != nil {
			return insertEvent(ctx, tx, *mail)
		}
		return nil
	})
}

// InvitationByTokenHash returns an invitation, used or not.
func (s *Store) InvitationByTokenHash(ctx context.Context, hash string) (pledge.Invitation, error) {
	var inv pledge.Invitation
	var areas []string
	err := s.pool.QueryRow(ctx, `SELECT id, token_hash, email, name, role, areas, provider, coalesce(created_by, 0), created_at, expires_at, used_at
		FROM invitations WHERE token_hash = $1`, hash).Scan(
		&inv.ID, &inv.TokenHash, &inv.Email, &inv.Name, &inv.Role, &areas, &inv.Provider, &inv.CreatedBy, &inv.CreatedAt, &inv.ExpiresAt, &inv.UsedAt)
	if err != nil {
		return inv, notFound(formatError(err), errNoInvitation)
	}
	inv.Areas = decodeList[string](areas)
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC(), utc(inv.UsedAt)
	return inv, nil
}

// AcceptInvitation marks the invitation used and creates the user, in one
// transaction. The conditional update locks the invitation's row: a
// concurrent acceptance waits for it and then finds it used.
func (s *Store) AcceptInvitation(ctx context.Context, id int64, u *pledge.UserRecord, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, u.CreatedAt, id)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM invitations WHERE id = $1`, id).Scan(&one); err != nil {
				return notFound(formatError(err), errNoInvitation)
			}
			return errLinkUsed
		}
		err = tx.QueryRow(ctx, `INSERT INTO users (email, name, role, areas, provider, active, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			u.Email, u.Name, string(u.Role), encodeList(u.Areas), u.Provider, u.Active, u.PasswordHash, u.CreatedAt).Scan(&u.ID)
		if err = formatError(err); pledge.ErrorCode(err) == pledge.ECONFLICT {
			return errEmailTaken
		}
		return err
	})
}

const userColumns = `id, email, name, role, areas, provider, active, created_at, password_hash`

func scanUser(row pgx.Row) (pledge.UserRecord, error) {
	var u pledge.UserRecord
	var areas []string
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &areas, &u.Provider, &u.Active, &u.CreatedAt, &u.PasswordHash); err != nil {
		return u, notFound(formatError(err), errNoUser)
	}
	u.Areas, u.CreatedAt = decodeList[string](areas), u.CreatedAt.UTC()
	return u, nil
}

// UserByID returns a user, active or not.
func (s *Store) UserByID(ctx context.Context, id int64) (pledge.UserRecord, error) {
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByEmail returns a user, active or not.
func (s *Store) UserByEmail(ctx context.Context, email string) (pledge.UserRecord, error) {
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
}

// Users lists every user by e-mail.
func (s *Store) Users(ctx context.Context) ([]pledge.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u.User)
	}
	return out, formatError(rows.Err())
}

// UpdateUser changes a user; deactivating ends their sessions and revokes
// their tokens in the same transaction.
func (s *Store) UpdateUser(ctx context.Context, u pledge.User, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET name = $1, role = $2, areas = $3, provider = $4, active = $5 WHERE id = $6`,
			u.Name, string(u.Role), encodeList(u.Areas), u.Provider, u.Active, u.ID)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return errNoUser
		}
		if u.Active {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return formatError(err)
		}
		_, err = tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, changedAt(audit), u.ID)
		return formatError(err)
	})
}

// changedAt is when an audited change happened: the entry's time.
func changedAt(e pledge.AuditEntry) time.Time {
	if e.At.IsZero() {
		return time.Now()
	}
	return e.At
}

// SetPassword sets a password hash, uses up the reset and ends every
// session of the user, in one transaction. The conditional update locks
// the reset's row, so of two concurrent uses one wins.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string, resetID int64, at time.Time, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		if resetID != 0 {
			tag, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = $1 WHERE id = $2 AND user_id = $3 AND used_at IS NULL`, at, resetID, userID)
			if err != nil {
				return formatError(err)
			}
			if tag.RowsAffected() == 0 {
				var one int
				if err := tx.QueryRow(ctx, `SELECT 1 FROM password_resets WHERE id = $1 AND user_id = $2`, resetID, userID).Scan(&one); err != nil {
					return notFound(formatError(err), errNoReset)
				}
				return errLinkUsed
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return errNoUser
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		return formatError(err)
	})
}

const sessionColumns = `id, secret_hash, user_id, created_at, last_seen_at, expires_at`

func scanSession(row pgx.Row) (pledge.Session, error) {
	var ss pledge.Session
	if err := row.Scan(&ss.ID, &ss.SecretHash, &ss.UserID, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt); err != nil {
		return ss, notFound(formatError(err), errNoSession)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = ss.CreatedAt.UTC(), ss.LastSeenAt.UTC(), ss.ExpiresAt.UTC()
	return ss, nil
}

// CreateSession stores ss and deletes the session it replaces, in one
// transaction.
func (s *Store) CreateSession(ctx context.Context, ss *pledge.Session, replaces string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if replaces != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE secret_hash = $1`, replaces); err != nil {
				return formatError(err)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO sessions (secret_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			ss.SecretHash, ss.UserID, ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt).Scan(&ss.ID)
		return formatError(err)
	})
}

// SessionByHash returns a session by its secret's hash.
func (s *Store) SessionByHash(ctx context.Context, hash string) (pledge.Session, error) {
	return scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE secret_hash = $1`, hash))
}

// TouchSession sets a session's last-seen time. A session deleted
// meanwhile is no error: the next request finds it gone.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, at, id)
	return formatError(err)
}

// DeleteSession deletes the session with the secret hash, if any.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE secret_hash = $1`, hash)
	return formatError(err)
}

// UserSessions lists a user's sessions, newest first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]pledge.Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Session{}
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ss)
	}
	return out, formatError(rows.Err())
}

// RevokeSession deletes one of a user's sessions.
func (s *Store) RevokeSession(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return errNoSession
	}
	return nil
}

// DeleteSessions deletes every session (userID 0) or one user's.
func (s *Store) DeleteSessions(ctx context.Context, userID int64) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE $1 = 0 OR user_id = $1`, userID)
	if err != nil {
		return 0, formatError(err)
	}
	return int(tag.RowsAffected()), nil
}

const tokenColumns = `id, secret_hash, user_id, name, scopes, created_at, last_used_at, revoked_at`

func scanToken(row pgx.Row) (pledge.APIToken, error) {
	var t pledge.APIToken
	var scopes []string
	if err := row.Scan(&t.ID, &t.SecretHash, &t.UserID, &t.Name, &scopes, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
		return t, notFound(formatError(err), errNoToken)
	}
	t.Scopes = decodeList[pledge.Scope](scopes)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = t.CreatedAt.UTC(), utc(t.LastUsedAt), utc(t.RevokedAt)
	return t, nil
}

// CreateAPIToken stores t with its audit entry.
func (s *Store) CreateAPIToken(ctx context.Context, t *pledge.APIToken, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (secret_hash, user_id, name, scopes, created_at, last_used_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			t.SecretHash, t.UserID, t.Name, encodeList(t.Scopes), t.CreatedAt, t.LastUsedAt, t.RevokedAt).Scan(&t.ID)
		return formatError(err)
	})
}

// APITokenByHash returns a token, revoked or not.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (pledge.APIToken, error) {
	return scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE secret_hash = $1`, hash))
}

// TouchAPIToken sets a token's last-used time.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, at, id)
	return formatError(err)
}

// UserAPITokens lists a user's tokens, newest first.
func (s *Store) UserAPITokens(ctx context.Context, userID int64) ([]pledge.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, formatError(rows.Err())
}

// RevokeAPIToken revokes one of a user's unrevoked tokens.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, at, id, userID)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return errNoToken
		}
		return nil
	})
}

// CreatePasswordReset stores r and queues mail, in one transaction.
func (s *Store) CreatePasswordReset(ctx context.Context, r *pledge.PasswordReset, mail *pledge.Event) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			r.TokenHash, r.UserID, r.CreatedAt, r.ExpiresAt, r.UsedAt).Scan(&r.ID)
		if err != nil {
			return formatError(err)
		}
		if mail != nil {
			return insertEvent(ctx, tx, *mail)
		}
		return nil
	})
}

// PasswordResetByHash returns a reset, used or not.
func (s *Store) PasswordResetByHash(ctx context.Context, hash string) (pledge.PasswordReset, error) {
	var r pledge.PasswordReset
	err := s.pool.QueryRow(ctx, `SELECT id, token_hash, user_id, created_at, expires_at, used_at FROM password_resets WHERE token_hash = $1`, hash).Scan(
		&r.ID, &r.TokenHash, &r.UserID, &r.CreatedAt, &r.ExpiresAt, &r.UsedAt)
	if err != nil {
		return r, notFound(formatError(err), errNoReset)
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC(), utc(r.UsedAt)
	return r, nil
}

// AddAudit writes one audit entry.
func (s *Store) AddAudit(ctx context.Context, e pledge.AuditEntry) error {
	return insertAudit(ctx, s.pool, e)
}

const auditColumns = `id, at, actor_id, actor, action, area_code, target, old, new`

// Audit lists entries newest first.
func (s *Store) Audit(ctx context.Context, f pledge.AuditFilter) ([]pledge.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	// Two forms, so that an area's entries come from its index.
	q, args := `SELECT `+auditColumns+` FROM audit_log ORDER BY at DESC, id DESC LIMIT $1`, []any{limit}
	if f.AreaCode != nil {
		q, args = `SELECT `+auditColumns+` FROM audit_log WHERE area_code = $2 ORDER BY at DESC, id DESC LIMIT $1`, []any{limit, *f.AreaCode}
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.AuditEntry{}
	for rows.Next() {
		var e pledge.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Action, &e.AreaCode, &e.Target, &e.Old, &e.New); err != nil {
			return nil, formatError(err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}

// AreaPledges reads an area's pledges with contact details and logs the
// read, in one transaction. It reads pledges through the addresses of the
// area (by their area index); pledges gain no index for it.
func (s *Store) AreaPledges(ctx context.Context, code string, audit pledge.AuditEntry) ([]pledge.Pledge, error) {
	out := []pledge.Pledge{}
	err := s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		var areaID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, code).Scan(&areaID); err != nil {
			return notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
		}
		rows, err := tx.Query(ctx, pledgeSelect+`WHERE ad.area_id = $1 ORDER BY p.id`, areaID)
		if err != nil {
			return formatError(err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPledge(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return formatError(rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateAreaAudited is UpdateArea with its audit entry, in one transaction.
func (s *Store) UpdateAreaAudited(ctx context.Context, a pledge.Area, audit pledge.AuditEntry, events ...pledge.Event) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		if err := updateArea(ctx, tx, a); err != nil {
			return err
		}
		for _, e := range events {
			if err := insertEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetCostParamsAudited is SetCostParams with its audit entry, in one
// transaction.
func (s *Store) SetCostParamsAudited(ctx context.Context, code string, p pledge.CostParams, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error { return setCostParams(ctx, tx, code, p) })
}
