package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.AccountStore = (*Store)(nil)

// Lists of area codes and scopes are JSON arrays in one column (see
// migrations/0007_accounts.sql); an empty list reads back as nil.

func encodeList[T ~string](l []T) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func decodeList[T ~string](s string) ([]T, error) {
	var l []T
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("stored list %q: %w", s, err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func scanNullTime(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

type scanner interface{ Scan(...any) error }

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
	_, err := db.ExecContext(ctx, `INSERT INTO audit_log (at, actor_id, actor, action, area_code, target, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		formatTime(e.At), e.ActorID, e.Actor, e.Action, e.AreaCode, e.Target, e.Old, e.New)
	return formatError(err)
}

// withAudit runs fn and writes e in one transaction.
func (s *Store) withAudit(ctx context.Context, e pledge.AuditEntry, fn func(*sql.Tx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, e)
	})
}

const invitationColumns = `id, token_hash, email, name, role, areas, provider, coalesce(created_by, 0), created_at, expires_at, used_at`

// CreateInvitation stores inv and queues mail, in one transaction.
func (s *Store) CreateInvitation(ctx context.Context, inv *pledge.Invitation, mail *pledge.Event, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		var by any
		if inv.CreatedBy != 0 {
			by = inv.CreatedBy
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO invitations (token_hash, email, name, role, areas, provider, created_by, created_at, expires_at, used_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.TokenHash, inv.Email, inv.Name, string(inv.Role), encodeList(inv.Areas), inv.Provider, by,
			formatTime(inv.CreatedAt), formatTime(inv.ExpiresAt), nullTime(inv.UsedAt))
		if err != nil {
			return formatError(err)
		}
		inv.ID, _ = res.LastInsertId()
		if mail != nil {
			return insertEvent(ctx, tx, *mail)
		}
		return nil
	})
}

// InvitationByTokenHash returns an invitation, used or not.
func (s *Store) InvitationByTokenHash(ctx context.Context, hash string) (pledge.Invitation, error) {
	var inv pledge.Invitation
	var areas, created, expires string
	var used sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`, hash).Scan(
		&inv.ID, &inv.TokenHash, &inv.Email, &inv.Name, &inv.Role, &areas, &inv.Provider, &inv.CreatedBy, &created, &expires, &used)
	if err != nil {
		return inv, notFound(formatError(err), errNoInvitation)
	}
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = parseTime(created), parseTime(expires), scanNullTime(used)
	inv.Areas, err = decodeList[string](areas)
	return inv, err
}

// AcceptInvitation marks the invitation used and creates the user, in one
// immediate transaction: the conditional update lets one of two
// acceptances through.
func (s *Store) AcceptInvitation(ctx context.Context, id int64, u *pledge.UserRecord, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE invitations SET used_at = ? WHERE id = ? AND used_at IS NULL`, formatTime(u.CreatedAt), id)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM invitations WHERE id = ?`, id).Scan(&one); err != nil {
				return notFound(formatError(err), errNoInvitation)
			}
			return errLinkUsed
		}
		return insertUser(ctx, tx, u)
	})
}

func insertUser(ctx context.Context, tx *sql.Tx, u *pledge.UserRecord) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, role, areas, provider, active, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Email, u.Name, string(u.Role), encodeList(u.Areas), u.Provider, u.Active, u.PasswordHash, formatTime(u.CreatedAt))
	if err != nil {
		if err = formatError(err); pledge.ErrorCode(err) == pledge.ECONFLICT {
			return errEmailTaken
		}
		return err
	}
	u.ID, _ = res.LastInsertId()
	return nil
}

const userColumns = `id, email, name, role, areas, provider, active, created_at, password_hash`

func scanUser(sc scanner) (pledge.UserRecord, error) {
	var u pledge.UserRecord
	var areas, created string
	if err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &areas, &u.Provider, &u.Active, &created, &u.PasswordHash); err != nil {
		return u, notFound(formatError(err), errNoUser)
	}
	u.CreatedAt = parseTime(created)
	var err error
	u.Areas, err = decodeList[string](areas)
	return u, err
}

// UserByID returns a user, active or not.
func (s *Store) UserByID(ctx context.Context, id int64) (pledge.UserRecord, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserByEmail returns a user, active or not.
func (s *Store) UserByEmail(ctx context.Context, email string) (pledge.UserRecord, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
}

// Users lists every user by e-mail.
func (s *Store) Users(ctx context.Context) ([]pledge.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
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
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, role = ?, areas = ?, provider = ?, active = ? WHERE id = ?`,
			u.Name, string(u.Role), encodeList(u.Areas), u.Provider, u.Active, u.ID)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoUser
		}
		if u.Active {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return formatError(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, formatTime(changedAt(audit)), u.ID)
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
// session of the user, in one transaction.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string, resetID int64, at time.Time, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		if resetID != 0 {
			res, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE id = ? AND user_id = ? AND used_at IS NULL`, formatTime(at), resetID, userID)
			if err != nil {
				return formatError(err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var one int
				if err := tx.QueryRowContext(ctx, `SELECT 1 FROM password_resets WHERE id = ? AND user_id = ?`, resetID, userID).Scan(&one); err != nil {
					return notFound(formatError(err), errNoReset)
				}
				return errLinkUsed
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoUser
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return formatError(err)
	})
}

const sessionColumns = `id, secret_hash, user_id, created_at, last_seen_at, expires_at`

func scanSession(sc scanner) (pledge.Session, error) {
	var ss pledge.Session
	var created, seen, expires string
	if err := sc.Scan(&ss.ID, &ss.SecretHash, &ss.UserID, &created, &seen, &expires); err != nil {
		return ss, notFound(formatError(err), errNoSession)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = parseTime(created), parseTime(seen), parseTime(expires)
	return ss, nil
}

// CreateSession stores ss and deletes the session it replaces, in one
// transaction.
func (s *Store) CreateSession(ctx context.Context, ss *pledge.Session, replaces string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if replaces != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE secret_hash = ?`, replaces); err != nil {
				return formatError(err)
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (secret_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			ss.SecretHash, ss.UserID, formatTime(ss.CreatedAt), formatTime(ss.LastSeenAt), formatTime(ss.ExpiresAt))
		if err != nil {
			return formatError(err)
		}
		ss.ID, _ = res.LastInsertId()
		return nil
	})
}

// SessionByHash returns a session by its secret's hash.
func (s *Store) SessionByHash(ctx context.Context, hash string) (pledge.Session, error) {
	return scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE secret_hash = ?`, hash))
}

// TouchSession sets a session's last-seen time. A session deleted
// meanwhile is no error: the next request finds it gone.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, formatTime(at), id)
	return formatError(err)
}

// DeleteSession deletes the session with the secret hash, if any.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE secret_hash = ?`, hash)
	return formatError(err)
}

// UserSessions lists a user's sessions, newest first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]pledge.Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC`, userID)
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
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoSession
	}
	return nil
}

// DeleteSessions deletes every session (userID 0) or one user's.
func (s *Store) DeleteSessions(ctx context.Context, userID int64) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE ? = 0 OR user_id = ?`, userID, userID)
	if err != nil {
		return 0, formatError(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

const tokenColumns = `id, secret_hash, user_id, name, scopes, created_at, last_used_at, revoked_at`

func scanToken(sc scanner) (pledge.APIToken, error) {
	var t pledge.APIToken
	var scopes, created string
	var used, revoked sql.NullString
	if err := sc.Scan(&t.ID, &t.SecretHash, &t.UserID, &t.Name, &scopes, &created, &used, &revoked); err != nil {
		return t, notFound(formatError(err), errNoToken)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = parseTime(created), scanNullTime(used), scanNullTime(revoked)
	var err error
	t.Scopes, err = decodeList[pledge.Scope](scopes)
	return t, err
}

// CreateAPIToken stores t with its audit entry.
func (s *Store) CreateAPIToken(ctx context.Context, t *pledge.APIToken, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (secret_hash, user_id, name, scopes, created_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.SecretHash, t.UserID, t.Name, encodeList(t.Scopes), formatTime(t.CreatedAt), nullTime(t.LastUsedAt), nullTime(t.RevokedAt))
		if err != nil {
			return formatError(err)
		}
		t.ID, _ = res.LastInsertId()
		return nil
	})
}

// APITokenByHash returns a token, revoked or not.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (pledge.APIToken, error) {
	return scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE secret_hash = ?`, hash))
}

// TouchAPIToken sets a token's last-used time.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, formatTime(at), id)
	return formatError(err)
}

// UserAPITokens lists a user's tokens, newest first.
func (s *Store) UserAPITokens(ctx context.Context, userID int64) ([]pledge.APIToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC`, userID)
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
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, formatTime(at), id, userID)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoToken
		}
		return nil
	})
}

// CreatePasswordReset stores r and queues mail, in one transaction.
func (s *Store) CreatePasswordReset(ctx context.Context, r *pledge.PasswordReset, mail *pledge.Event) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)`,
			r.TokenHash, r.UserID, formatTime(r.CreatedAt), formatTime(r.ExpiresAt), nullTime(r.UsedAt))
		if err != nil {
			return formatError(err)
		}
		r.ID, _ = res.LastInsertId()
		if mail != nil {
			return insertEvent(ctx, tx, *mail)
		}
		return nil
	})
}

// PasswordResetByHash returns a reset, used or not.
func (s *Store) PasswordResetByHash(ctx context.Context, hash string) (pledge.PasswordReset, error) {
	var r pledge.PasswordReset
	var created, expires string
	var used sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT id, token_hash, user_id, created_at, expires_at, used_at FROM password_resets WHERE token_hash = ?`, hash).Scan(
		&r.ID, &r.TokenHash, &r.UserID, &created, &expires, &used)
	if err != nil {
		return r, notFound(formatError(err), errNoReset)
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = parseTime(created), parseTime(expires), scanNullTime(used)
	return r, nil
}

// AddAudit writes one audit entry.
func (s *Store) AddAudit(ctx context.Context, e pledge.AuditEntry) error {
	return insertAudit(ctx, s.db, e)
}

const auditColumns = `id, at, actor_id, actor, action, area_code, target, old, new`

// Audit lists entries newest first.
func (s *Store) Audit(ctx context.Context, f pledge.AuditFilter) ([]pledge.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	// Two forms, so that an area's entries come from its index.
	q, args := `SELECT `+auditColumns+` FROM audit_log ORDER BY at DESC, id DESC LIMIT ?`, []any{limit}
	if f.AreaCode != nil {
		q, args = `SELECT `+auditColumns+` FROM audit_log WHERE area_code = ? ORDER BY at DESC, id DESC LIMIT ?`, []any{*f.AreaCode, limit}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.AuditEntry{}
	for rows.Next() {
		var e pledge.AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.AreaCode, &e.Target, &e.Old, &e.New); err != nil {
			return nil, formatError(err)
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}

// AreaPledges reads an area's pledges with contact details and logs the
// read, in one transaction.
func (s *Store) AreaPledges(ctx context.Context, code string, audit pledge.AuditEntry) ([]pledge.Pledge, error) {
	out := []pledge.Pledge{}
	err := s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		var areaID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM areas WHERE code = ?`, code).Scan(&areaID); err != nil {
			return notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
		}
		rows, err := tx.QueryContext(ctx, pledgeSelect+`WHERE ad.area_id = ? ORDER BY p.id`, areaID)
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
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
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
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error { return setCostParams(ctx, tx, code, p) })
}
