package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.WebhookStore = (*Store)(nil)

var (
	errNoWebhook        = pledge.Errorf(pledge.ENOTFOUND, "no such webhook")
	errNoWebhookAttempt = pledge.Errorf(pledge.ENOTFOUND, "no such delivery")
)

const webhookColumns = `id, company, coalesce(created_by, 0), url, events, active, created_at, disabled_at, failing_since, secret, previous_secret, previous_until`

func scanWebhook(row pgx.Row) (pledge.Webhook, error) {
	var w pledge.Webhook
	if err := row.Scan(&w.ID, &w.Company, &w.CreatedBy, &w.URL, &w.Events, &w.Active, &w.CreatedAt, &w.DisabledAt, &w.FailingSince,
		&w.SealedSecret, &w.SealedPreviousSecret, &w.PreviousSecretUntil); err != nil {
		return w, notFound(formatError(err), errNoWebhook)
	}
	if len(w.Events) == 0 {
		w.Events = nil
	}
	w.CreatedAt, w.DisabledAt, w.FailingSince, w.PreviousSecretUntil = w.CreatedAt.UTC(), utc(w.DisabledAt), utc(w.FailingSince), utc(w.PreviousSecretUntil)
	return w, nil
}

func (s *Store) queryWebhooks(ctx context.Context, query string, args ...any) ([]pledge.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks `+query, args...)
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

func textList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// CreateWebhook stores w with its audit entry.
func (s *Store) CreateWebhook(ctx context.Context, w *pledge.Webhook, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		var by *int64
		if w.CreatedBy != 0 {
			by = &w.CreatedBy
		}
		return formatError(tx.QueryRow(ctx, `INSERT INTO webhooks (company, created_by, url, events, active, created_at, disabled_at, failing_since, secret, previous_secret, previous_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			w.Company, by, w.URL, textList(w.Events), w.Active, w.CreatedAt, w.DisabledAt, w.FailingSince,
			w.SealedSecret, w.SealedPreviousSecret, w.PreviousSecretUntil).Scan(&w.ID))
	})
}

// Webhook returns one endpoint.
func (s *Store) Webhook(ctx context.Context, id int64) (pledge.Webhook, error) {
	return scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
}

// Webhooks lists company's endpoints, or all.
func (s *Store) Webhooks(ctx context.Context, company *string) ([]pledge.Webhook, error) {
	if company == nil {
		return s.queryWebhooks(ctx, `ORDER BY id`)
	}
	return s.queryWebhooks(ctx, `WHERE company = $1 ORDER BY id`, *company)
}

// SubscribedWebhooks lists the active endpoints subscribed to event.
func (s *Store) SubscribedWebhooks(ctx context.Context, event string) ([]pledge.Webhook, error) {
	return s.queryWebhooks(ctx, `WHERE active AND events @> ARRAY[$1::text] ORDER BY id`, event)
}

// DeleteWebhook deletes an endpoint; its log goes with it (ON DELETE
// CASCADE).
func (s *Store) DeleteWebhook(ctx context.Context, id int64, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return errNoWebhook
		}
		return nil
	})
}

// SetWebhookSecrets stores the sealed secrets and enables the endpoint.
func (s *Store) SetWebhookSecrets(ctx context.Context, w pledge.Webhook, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhooks SET secret = $1, previous_secret = $2, previous_until = $3,
			active = true, disabled_at = NULL, failing_since = NULL WHERE id = $4`,
			w.SealedSecret, w.SealedPreviousSecret, w.PreviousSecretUntil, w.ID)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return errNoWebhook
		}
		return nil
	})
}

// RecordWebhookAttempt logs a and moves the endpoint's FailingSince.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a *pledge.WebhookAttempt) (pledge.Webhook, error) {
	var w pledge.Webhook
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var failing *time.Time
		if !a.OK() {
			failing = &a.At
		}
		// A success clears it; a failure sets it only if unset.
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `UPDATE webhooks SET failing_since = CASE WHEN $1::timestamptz IS NULL THEN NULL ELSE coalesce(failing_since, $1) END
			WHERE id = $2 RETURNING `+webhookColumns, failing, a.WebhookID))
		if err != nil {
			return err
		}
		return formatError(tx.QueryRow(ctx, `INSERT INTO webhook_attempts (webhook_id, event_id, message_id, type, attempt, at, status_code, duration_ms, excerpt, error_class)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			a.WebhookID, a.EventID, a.MessageID, a.Type, a.Attempt, a.At, a.StatusCode, a.DurationMS, a.Excerpt, a.ErrorClass).Scan(&a.ID))
	})
	return w, err
}

// DisableWebhook disables an active endpoint and queues mail, once.
func (s *Store) DisableWebhook(ctx context.Context, id int64, at time.Time, mail *pledge.Event) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhooks SET active = false, disabled_at = $1 WHERE id = $2 AND active`, at, id)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
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
	rows, err := s.pool.Query(ctx, `SELECT `+attemptColumns+` FROM webhook_attempts WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.WebhookAttempt{}
	for rows.Next() {
		var a pledge.WebhookAttempt
		if err := rows.Scan(&a.ID, &a.WebhookID, &a.EventID, &a.MessageID, &a.Type, &a.Attempt, &a.At, &a.StatusCode, &a.DurationMS, &a.Excerpt, &a.ErrorClass); err != nil {
			return nil, formatError(err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, formatError(rows.Err())
}

// ReplayWebhookAttempt queues a copy of the outbox event an attempt
// delivered.
func (s *Store) ReplayWebhookAttempt(ctx context.Context, webhookID, attemptID int64, key string, at time.Time, audit pledge.AuditEntry) error {
	return s.withAudit(ctx, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO outbox (key, kind, area_code, payload, created_at, next_attempt_at)
			SELECT $1, o.kind, o.area_code, o.payload, $2, $2 FROM webhook_attempts a JOIN outbox o ON o.id = a.event_id
			WHERE a.id = $3 AND a.webhook_id = $4 AND o.kind = $5
			ON CONFLICT (key) DO NOTHING`, key, at, attemptID, webhookID, pledge.EventWebhookDelivery)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			return errNoWebhookAttempt
		}
		return nil
	})
}
