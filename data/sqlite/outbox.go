package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.OutboxStore = (*Store)(nil)

const outboxColumns = `id, key, kind, area_code, payload, created_at, attempts, next_attempt_at, delivered_at, last_error, dead`

func scanOutboxEvent(sc scanner) (pledge.OutboxEvent, error) {
	var e pledge.OutboxEvent
	var at, next string
	var delivered sql.NullString
	if err := sc.Scan(&e.ID, &e.Key, &e.Kind, &e.AreaCode, &e.Payload, &at, &e.Attempts, &next, &delivered, &e.LastError, &e.Dead); err != nil {
		return e, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no such outbox event"))
	}
	e.At, e.DeliveredAt = parseTime(at), scanNullTime(delivered)
	if next != "" {
		e.NextAttemptAt = parseTime(next)
	}
	return e, nil
}

// QueueEvent records e once per key, due at once.
func (s *Store) QueueEvent(ctx context.Context, e pledge.Event) error {
	return insertEvent(ctx, s.db, e)
}

// ClaimEvents leases due events in one immediate transaction: SQLite has
// one writer at a time, so two claimers never see the same free event.
func (s *Store) ClaimEvents(ctx context.Context, kinds []string, now time.Time, lease time.Duration, limit int) ([]pledge.OutboxEvent, error) {
	out := []pledge.OutboxEvent{}
	if len(kinds) == 0 || limit <= 0 {
		return out, nil
	}
	kindList, _ := json.Marshal(kinds)
	at := formatTime(now)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET locked_until = ? WHERE id IN (
				SELECT id FROM outbox WHERE delivered_at IS NULL AND dead = 0 AND next_attempt_at <= ?
					AND kind IN (SELECT value FROM json_each(?)) AND (locked_until IS NULL OR locked_until <= ?)
				ORDER BY id LIMIT ?)
			RETURNING `+outboxColumns, formatTime(now.Add(lease)), at, string(kindList), at, limit)
		if err != nil {
			return formatError(err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanOutboxEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return formatError(rows.Err())
	})
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b pledge.OutboxEvent) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CompleteEvent marks an event delivered; an e-mail's payload is erased.
func (s *Store) CompleteEvent(ctx context.Context, id int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET delivered_at = ?, locked_until = NULL,
		payload = CASE WHEN kind = ? THEN '{}' ELSE payload END WHERE id = ?`, formatTime(at), pledge.EventMail, id)
	if err != nil {
		return formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no outbox event %d", id)
	}
	return nil
}

// RetryEvent records a failed attempt and when to try next; a zero next
// gives up.
func (s *Store) RetryEvent(ctx context.Context, id int64, next time.Time, lastErr string) error {
	var nextAt any
	if !next.IsZero() {
		nextAt = formatTime(next)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, locked_until = NULL,
		next_attempt_at = coalesce(?, next_attempt_at), dead = ? WHERE id = ?`, lastError(lastErr), nextAt, next.IsZero(), id)
	if err != nil {
		return formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no outbox event %d", id)
	}
	return nil
}

// OutboxEvents lists events of kind ("" for all) in the order recorded.
func (s *Store) OutboxEvents(ctx context.Context, kind string) ([]pledge.OutboxEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE ? = '' OR kind = ? ORDER BY id`, kind, kind)
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
