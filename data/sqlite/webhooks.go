package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.WebhookStore = (*Store)(nil)

var (
	errNoWebhook        = pledge.Errorf(pledge.ENOTFOUND, "no such webhook")
	errNoWebhookAttempt = pledge.Errorf(pledge.ENOTFOUND, "no such delivery")
)

const webhookColumns = `id, company, coalesce(created_by, 0), url, events, active, created_at, disabled_at, failing_since, secret, previous_secret, previous_until`

func scanWebhook(sc scanner) (pledge.Webhook, error) {
	var w pledge.Webhook
	var events, created string
	var disabled, failing, until sql.NullString
	if err := sc.Scan(&w.ID, &w.Company, &w.CreatedBy, &w.URL, &events, &w.Active, &created, &disabled, &failing,
		&w.SealedSecret, &w.SealedPreviousSecret, &until); err != nil {
		return w, notFound(formatError(err), errNoWebhook)
	}
	w.CreatedAt, w.DisabledAt, w.FailingSince, w.PreviousSecretUntil = parseTime(created), scanNullTime(disabled), scanNullTime(failing), scanNullTime(until)
	var err error
	w.Events, err = decodeList[string](events)
	return w, err
}

func (s *Store) queryWebhooks(ctx context.Context, query string, args ...any) ([]pledge.Webhook, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks `+query, args...)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, formatError(rows.Err())
}

// CreateWebhook stores w with its audit entry.
func (s *Store) CreateWebhook(ctx context.Context, w *pledge.Webhook, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		var by any
		if w.CreatedBy != 0 {
			by = w.CreatedBy
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhooks (company, created_by, url, events, active, created_at, disabled_at, failing_since, secret, previous_secret, previous_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.Company, by, w.URL, encodeList(w.Events), w.Active, formatTime(w.CreatedAt), nullTime(w.DisabledAt), nullTime(w.FailingSince),
			w.SealedSecret, w.SealedPreviousSecret, nullTime(w.PreviousSecretUntil))
		if err != nil {
			return formatError(err)
		}
		w.ID, _ = res.LastInsertId()
		return nil
	})
}

// Webhook returns one endpoint.
func (s *Store) Webhook(ctx context.Context, id int64) (pledge.Webhook, error) {
	return scanWebhook(s.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
}

// Webhooks lists company's endpoints, or all.
func (s *Store) Webhooks(ctx context.Context, company *string) ([]pledge.Webhook, error) {
	if company == nil {
		return s.queryWebhooks(ctx, `ORDER BY id`)
	}
	return s.queryWebhooks(ctx, `WHERE company = ? ORDER BY id`, *company)
}

// SubscribedWebhooks lists the active endpoints subscribed to event.
func (s *Store) SubscribedWebhooks(ctx context.Context, event string) ([]pledge.Webhook, error) {
	return s.queryWebhooks(ctx, `WHERE active AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?) ORDER BY id`, event)
}

// DeleteWebhook deletes an endpoint; its log goes with it (ON DELETE
// CASCADE).
func (s *Store) DeleteWebhook(ctx context.Context, id int64, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoWebhook
		}
		return nil
	})
}

// SetWebhookSecrets stores the sealed secrets and enables the endpoint.
func (s *Store) SetWebhookSecrets(ctx context.Context, w pledge.Webhook, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret = ?, previous_secret = ?, previous_until = ?,
			active = 1, disabled_at = NULL, failing_since = NULL WHERE id = ?`,
			w.SealedSecret, w.SealedPreviousSecret, nullTime(w.PreviousSecretUntil), w.ID)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoWebhook
		}
		return nil
	})
}

// RecordWebhookAttempt logs a and moves the endpoint's FailingSince.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a *pledge.WebhookAttempt) (pledge.Webhook, error) {
	var w pledge.Webhook
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var failing any
		if !a.OK() {
			failing = formatTime(a.At)
		}
		// A success clears it; a failure sets it only if unset.
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = CASE WHEN ? IS NULL THEN NULL ELSE coalesce(failing_since, ?) END WHERE id = ?`,
			failing, failing, a.WebhookID)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoWebhook
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO webhook_attempts (webhook_id, event_id, message_id, type, attempt, at, status_code, duration_ms, excerpt, error_class)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.WebhookID, a.EventID, a.MessageID, a.Type, a.Attempt, formatTime(a.At), a.StatusCode, a.DurationMS, a.Excerpt, a.ErrorClass)
		if err != nil {
			return formatError(err)
		}
		a.ID, _ = res.LastInsertId()
		w, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, a.WebhookID))
		return err
	})
	return w, err
}

// DisableWebhook disables an active endpoint and queues mail, once.
func (s *Store) DisableWebhook(ctx context.Context, id int64, at time.Time, mail *pledge.Event) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET active = 0, disabled_at = ? WHERE id = ? AND active`, formatTime(at), id)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		if mail != nil {
			return insertEvent(ctx, tx, *mail)
		}
		return nil
	})
	return done, err
}

const attemptColumns = `id, webhook_id, event_id, message_id, type, attempt, at, status_code, duration_ms, excerpt, error_class`

// WebhookAttempts lists an endpoint's log, newest first.
func (s *Store) WebhookAttempts(ctx context.Context, webhookID int64, limit int) ([]pledge.WebhookAttempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+attemptColumns+` FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.WebhookAttempt{}
	for rows.Next() {
		var a pledge.WebhookAttempt
		var at string
		if err := rows.Scan(&a.ID, &a.WebhookID, &a.EventID, &a.MessageID, &a.Type, &a.Attempt, &at, &a.StatusCode, &a.DurationMS, &a.Excerpt, &a.ErrorClass); err != nil {
			return nil, formatError(err)
		}
		a.At = parseTime(at)
		out = append(out, a)
	}
	return out, formatError(rows.Err())
}

// ReplayWebhookAttempt queues a copy of the outbox event an attempt
// delivered.
func (s *Store) ReplayWebhookAttempt(ctx context.Context, webhookID, attemptID int64, key string, at time.Time, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox (key, kind, area_code, payload, created_at, next_attempt_at)
			SELECT ?, o.kind, o.area_code, o.payload, ?, ? FROM webhook_attempts a JOIN outbox o ON o.id = a.event_id
			WHERE a.id = ? AND a.webhook_id = ? AND o.kind = ?
			ON CONFLICT (key) DO NOTHING`, key, formatTime(at), formatTime(at), attemptID, webhookID, pledge.EventWebhookDelivery)
		if err != nil {
			return formatError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoWebhookAttempt
		}
		return nil
	})
}
