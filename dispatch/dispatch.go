// Package dispatch delivers outbox events (e-mail now, webhooks later) at
// least once, across restarts and instances.
//
// The events are recorded by pledge.Service in the same transaction as the
// change that caused them; a Dispatcher claims the due ones under a lease
// (pledge.OutboxStore.ClaimEvents), hands each to the handler of its kind,
// and marks it delivered or schedules the next attempt. A process killed
// mid-delivery leaves its events leased; when the lease ends another
// dispatcher (or the same one, restarted) takes them up. So a handler may
// see an event twice: it passes the event's Key on as the idempotency key
// (a Message-ID, an Idempotency-Key header) for the receiver to drop the
// duplicate.
//
// The package imports pledge, never a store, never web.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// Handler delivers one event. Its error is stored with the event (as
// LastError) and its Class, if it has one, is logged: neither may hold
// personal data. Wrap an error that retrying cannot cure in Permanent.
type Handler func(ctx context.Context, e pledge.OutboxEvent) error

// Defaults of the Dispatcher's fields; a zero field means its default.
const (
	DefaultLease        = time.Minute
	DefaultPollInterval = time.Second
	DefaultTimeout      = 30 * time.Second
	DefaultConcurrency  = 4
)

// MailSchedule is the wait before each retry of an e-mail: 5 s, 1 min,
// 5 min, 30 min, 2 h, 6 h; after the seventh attempt it is given up. It
// is long enough to outlast a mail server's restart or a night's outage.
func MailSchedule() []time.Duration {
	return []time.Duration{5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}
}

// WebhookSchedule is the wait before each retry of a webhook: 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h, 10 h (the first attempt is at once), about a
// day and a half in all.
func WebhookSchedule() []time.Duration {
	return []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
}

// Dispatcher delivers the due events of its handlers' kinds. Its fields
// are set before Run and not changed after. Run and RunOnce may be called
// from several goroutines or processes on one store: the lease makes one
// of them deliver each attempt.
type Dispatcher struct {
	Store    pledge.OutboxStore
	Handlers map[string]Handler // event kind -> handler
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Lease is how long a claimed event is held for its attempt; another
	// dispatcher takes it up after that. It must exceed Timeout.
	Lease time.Duration
	// PollInterval is how often Run looks for due events; Wake makes it
	// look at once.
	PollInterval time.Duration
	// Timeout bounds one attempt; it is cut to half the lease if longer.
	Timeout time.Duration
	// Concurrency is how many deliveries run at once.
	Concurrency int
	// Retry is the wait before each retry; after len(Retry)+1 failed
	// attempts the event is given up (Dead). nil is MailSchedule.
	Retry []time.Duration
	// Log gets a line per attempt: event id, kind, attempt number and
	// error class, never an address or a body. nil logs nothing.
	Log *slog.Logger

	once sync.Once
	wake chan struct{}
}

func (d *Dispatcher) init() {
	d.once.Do(func() { d.wake = make(chan struct{}, 1) })
}

func (d *Dispatcher) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease <= 0 {
		return DefaultLease
	}
	return d.Lease
}

func (d *Dispatcher) timeout() time.Duration {
	t := d.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	// An attempt must end before its lease, or a second dispatcher could
	// start the same attempt while the first still runs.
	return min(t, d.lease()/2)
}

func (d *Dispatcher) concurrency() int {
	if d.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return d.Concurrency
}

func (d *Dispatcher) retry() []time.Duration {
	if d.Retry == nil {
		return MailSchedule()
	}
	return d.Retry
}

func (d *Dispatcher) kinds() []string {
	var k []string
	for kind := range d.Handlers {
		k = append(k, kind)
	}
	slices.Sort(k)
	return k
}

// Wake makes Run look for due events now instead of at its next poll; a
// caller that has just queued an event uses it. It never blocks.
func (d *Dispatcher) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers due events until ctx ends, then waits for the deliveries
// under way and returns ctx's error. Store errors are logged and tried
// again at the next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	poll := d.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-d.wake:
		}
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.logWarn("outbox: claiming events failed", "err", err)
		}
		t.Reset(poll)
	}
}

// RunOnce delivers the events due now, Concurrency at a time, until none
// is left due, and returns how many it delivered. It stops early when ctx
// ends or the store fails; deliveries under way are waited for.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	kinds := d.kinds()
	if len(kinds) == 0 || d.Store == nil {
		return 0, errors.New("dispatch: no store or no handlers")
	}
	n := d.concurrency()
	slots := make(chan struct{}, n) // a token per delivery under way
	var wg sync.WaitGroup
	var mu sync.Mutex
	delivered := 0
	// Deliveries under way are waited for before the count is read.
	finish := func(err error) (int, error) {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return delivered, err
	}
	for ctx.Err() == nil {
		// Claim only as many as can start at once: each claimed event's
		// lease runs from now, so none may wait behind another delivery.
		slots <- struct{}{}
		free := 1
	fill:
		for free < n {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break fill
			}
		}
		events, err := d.Store.ClaimEvents(ctx, kinds, d.now(), d.lease(), free)
		for range free - len(events) {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				return finish(nil)
			}
			return finish(fmt.Errorf("claim events: %w", err))
		}
		if len(events) == 0 {
			// Nothing due now. A delivery still under way that fails is
			// due again only after its wait, so this run is done.
			return finish(nil)
		}
		for _, e := range events {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				if d.deliver(ctx, e) {
					mu.Lock()
					delivered++
					mu.Unlock()
				}
			}()
		}
	}
	return finish(nil)
}

// deliver makes one attempt at e and records its outcome; it reports
// whether e was delivered.
func (d *Dispatcher) deliver(ctx context.Context, e pledge.OutboxEvent) bool {
	attempt := e.Attempts + 1
	h := d.Handlers[e.Kind]
	actx, cancel := context.WithTimeout(ctx, d.timeout())
	err := safeCall(actx, h, e)
	cancel()
	// The outcome is recorded even when ctx has just ended (a shutdown):
	// a delivered event left unmarked would be sent again after its lease.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if err == nil {
		if cerr := d.Store.CompleteEvent(rctx, e.ID, d.now()); cerr != nil {
			d.logWarn("outbox: delivered but not marked; it will be sent again", "event", e.ID, "kind", e.Kind, "attempt", attempt, "err", cerr)
			return false
		}
		d.logInfo("outbox: delivered", "event", e.ID, "kind", e.Kind, "attempt", attempt)
		return true
	}
	if ctx.Err() != nil {
		// Shutting down: this attempt did not fail, it was stopped. Leave
		// the event leased; it is taken up again when the lease ends.
		d.logInfo("outbox: attempt stopped by shutdown", "event", e.ID, "kind", e.Kind, "attempt", attempt)
		return false
	}
	var next time.Time
	schedule := d.retry()
	permanent := IsPermanent(err)
	if !permanent && attempt <= len(schedule) {
		next = d.now().Add(schedule[attempt-1])
	}
	if rerr := d.Store.RetryEvent(rctx, e.ID, next, err.Error()); rerr != nil {
		d.logWarn("outbox: failed attempt not recorded", "event", e.ID, "kind", e.Kind, "attempt", attempt, "class", Class(err), "err", rerr)
		return false
	}
	if next.IsZero() {
		d.logWarn("outbox: given up", "event", e.ID, "kind", e.Kind, "attempt", attempt, "class", Class(err), "permanent", permanent)
	} else {
		d.logWarn("outbox: attempt failed; will retry", "event", e.ID, "kind", e.Kind, "attempt", attempt, "class", Class(err), "next", next)
	}
	return false
}

// safeCall runs h, turning a panic into an error so one bad event cannot
// stop the dispatcher.
func safeCall(ctx context.Context, h Handler, e pledge.OutboxEvent) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &classError{class: "panic", err: fmt.Errorf("handler panicked")}
		}
	}()
	return h(ctx, e)
}

func (d *Dispatcher) logInfo(msg string, args ...any) {
	if d.Log != nil {
		d.Log.Info(msg, args...)
	}
}

func (d *Dispatcher) logWarn(msg string, args ...any) {
	if d.Log != nil {
		d.Log.Warn(msg, args...)
	}
}

// Permanent marks err as one that retrying cannot cure (a mailbox that does
// not exist, a payload that does not decode): the event is given up at
// once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err or an error it wraps was made by
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Classer is an error that names its class for the log ("smtp-rcpt-550",
// "network"): a short word that says what went wrong without saying to
// whom.
type Classer interface{ Class() string }

// Class is err's class for the log: its own, if it has one, else
// "timeout", "canceled", "permanent" or "error".
func Class(err error) string {
	var c Classer
	switch {
	case errors.As(err, &c):
		return c.Class()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case IsPermanent(err):
		return "permanent"
	}
	return "error"
}

type classError struct {
	class string
	err   error
}

func (e *classError) Error() string { return e.err.Error() }
func (e *classError) Class() string { return e.class }
func (e *classError) Unwrap() error { return e.err }

// Chain is a handler that runs hs in order and stops at the first error,
// so several consumers (webhook fan-out, notices to pledgers) can take one
// event kind. A retry runs all of them again: each must be idempotent,
// which they are when they only queue derived events under stable keys
// (pledge.OutboxStore.QueueEvent ignores a key it has).
func Chain(hs ...Handler) Handler {
	return func(ctx context.Context, e pledge.OutboxEvent) error {
		for _, h := range hs {
			if err := h(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
}
