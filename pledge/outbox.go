package pledge

import (
	"context"
	"time"
)

// The outbox holds events recorded in the same transaction as the change
// that caused them (a threshold crossing, an e-mail to send). A dispatcher
// delivers them at least once, across restarts and instances: it claims
// due events under a lease, delivers each with its Key as the idempotency
// key, and marks it delivered or schedules a retry.

// OutboxEvent is a recorded event with its delivery state.
type OutboxEvent struct {
	ID int64
	Event
	Attempts      int
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	LastError     string
	Dead          bool // given up: no more attempts
}

// OutboxStore is the dispatcher's view of the outbox. Both stores
// implement it.
type OutboxStore interface {
	// QueueEvent records e, once per e.Key (a second event with the same
	// key is ignored, no error), due at once.
	QueueEvent(ctx context.Context, e Event) error
	// ClaimEvents leases up to limit undelivered, living events of kinds
	// whose next attempt is due at now, oldest first, until now+lease. A
	// leased event is not claimed again before its lease ends, so of
	// several dispatchers on one database one delivers each attempt
	// (FOR UPDATE SKIP LOCKED on PostgreSQL).
	ClaimEvents(ctx context.Context, kinds []string, now time.Time, lease time.Duration, limit int) ([]OutboxEvent, error)
	// CompleteEvent marks event id delivered at at. An e-mail's payload
	// (an address, perhaps a secret link) is erased then.
	CompleteEvent(ctx context.Context, id int64, at time.Time) error
	// RetryEvent records a failed attempt of event id: one more attempt,
	// its error (at most 500 bytes kept), the lease released and the next
	// attempt due at next; a zero next gives up (Dead).
	RetryEvent(ctx context.Context, id int64, next time.Time, lastErr string) error
	// OutboxEvents lists events of kind ("" for all) in the order
	// recorded, with their delivery state.
	OutboxEvents(ctx context.Context, kind string) ([]OutboxEvent, error)
}
