package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.OutboxStore = (*Store)(nil)

const outboxColumns = `id, key, kind, area_code, payload, created_at, attempts, next_attempt_at, delivered_at, last_error, dead`

func scanOutboxEvent(row pgx.Row) (pledge.OutboxEvent, error) {
	var e pledge.OutboxEvent
	if err := row.Scan(&e.ID, &e.Key, &e.Kind, &e.AreaCode, &e.Payload, &e.At, &e.Attempts, &e.NextAttemptAt, &e.DeliveredAt, &e.LastError, &e.Dead); err != nil {
		return e, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no such outbox event"))
	}
	e.At, e.NextAttemptAt, e.DeliveredAt = e.At.UTC(), e.NextAttemptAt.UTC(), utc(e.DeliveredAt)
	return e, nil
}

// QueueEvent records e once per key, due at once.
func (s *Store) QueueEvent(ctx context.Context, e pledge.Event) error {
	return insertEvent(ctx, s.pool, e)
}

// ClaimEvents leases due events in one statement. FOR UPDATE SKIP LOCKED
// passes over events another claimer is leasing right now; one whose
// lease was just committed is re-checked after the lock and left out.
func (s *Store) ClaimEvents(ctx context.Context, kinds []string, now time.Time, lease time.Duration, limit int) ([]pledge.OutboxEvent, error) {
	out := []pledge.OutboxEvent{}
	if len(kinds) == 0 || limit <= 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE outbox SET locked_until = $1 WHERE id IN (
			SELECT id FROM outbox WHERE delivered_at IS NULL AND NOT dead AND kind = ANY($2) AND next_attempt_at <= $3
				AND (locked_until IS NULL OR locked_until <= $3)
			ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+outboxColumns, now.Add(lease), kinds, now, limit)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanOutboxEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b pledge.OutboxEvent) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CompleteEvent marks an event delivered; an e-mail's payload is erased.
func (s *Store) CompleteEvent(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = $1, locked_until = NULL,
		payload = CASE WHEN kind = $2 THEN '{}' ELSE payload END WHERE id = $3`, at, pledge.EventMail, id)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no outbox event %d", id)
	}
	return nil
}

// RetryEvent records a failed attempt and when to try next; a zero next
// gives up.
func (s *Store) RetryEvent(ctx context.Context, id int64, next time.Time, lastErr string) error {
	var nextAt *time.Time
	if !next.IsZero() {
		nextAt = &next
	}
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, locked_until = NULL,
		next_attempt_at = coalesce($2, next_attempt_at), dead = $3 WHERE id = $4`, lastError(lastErr), nextAt, next.IsZero(), id)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no outbox event %d", id)
	}
	return nil
}

// OutboxEvents lists events of kind ("" for all) in the order recorded.
func (s *Store) OutboxEvents(ctx context.Context, kind string) ([]pledge.OutboxEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE $1 = '' OR kind = $1 ORDER BY id`, kind)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.OutboxEvent{}
	for rows.Next() {
		e, err := scanOutboxEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, formatError(rows.Err())
}

// maxLastError bounds the error text kept of a failed attempt.
const maxLastError = 500

// lastError is err as valid UTF-8 (PostgreSQL's text accepts nothing
// else, and a server's reply may be anything), cut to maxLastError bytes
// at a character boundary.
func lastError(err string) string {
	err = strings.ToValidUTF8(err, "\uFFFD")
	if len(err) <= maxLastError {
		return err
	}
	n := maxLastError
	for n > 0 && !utf8.RuneStart(err[n]) {
		n--
	}
	return err[:n]
}
