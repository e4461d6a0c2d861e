package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/pledge"
)

// Deliverer is the dispatcher's handler of pledge.EventWebhookDelivery:
// it signs and posts one attempt and records it in the endpoint's log.
type Deliverer struct {
	Service *pledge.Service
	Client  *Client
	// Now is the clock of the webhook-timestamp header and the log; nil
	// is time.Now.
	Now func() time.Time
	// Log gets a line when an attempt cannot be recorded; nil logs
	// nothing.
	Log *slog.Logger
}

func (d *Deliverer) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// RecordTimeout bounds writing an attempt to the log after the request;
// a dispatcher's lease must cover the client's timeout plus this.
const RecordTimeout = 2 * time.Second

// attemptError is a failed attempt as the dispatcher stores and logs it:
// its class and a message without the URL or the body.
type attemptError struct {
	class string
	err   error
}

func (e *attemptError) Error() string { return e.class + ": " + e.err.Error() }
func (e *attemptError) Class() string { return "webhook-" + e.class }
func (e *attemptError) Unwrap() error { return e.err }

// Deliver makes one attempt at e. An endpoint deleted or disabled since
// is given up; a payload that does not decode too.
func (d *Deliverer) Deliver(ctx context.Context, e pledge.OutboxEvent) error {
	t, err := d.Service.WebhookTarget(ctx, e)
	if errors.Is(err, pledge.ErrWebhookGone) {
		return dispatch.Permanent(&attemptError{"disabled", err})
	}
	if pledge.ErrorCode(err) == pledge.EINVALID {
		return dispatch.Permanent(err)
	}
	if err != nil {
		return err
	}
	body := Body(t.Delivery)
	at := d.now()
	ts := at.Unix()
	h := http.Header{}
	h.Set(HeaderID, t.Delivery.MessageID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Signature(t.Keys, t.Delivery.MessageID, ts, body))
	r := d.Client.Post(ctx, t.Webhook.URL, h, body)
	a := pledge.WebhookAttempt{WebhookID: t.Webhook.ID, EventID: e.ID, MessageID: t.Delivery.MessageID, Type: t.Delivery.Type,
		Attempt: e.Attempts + 1, At: at, StatusCode: r.StatusCode, DurationMS: int(r.Duration / time.Millisecond),
		Excerpt: r.Excerpt, ErrorClass: r.Class}
	// The log is written even when the attempt used up ctx's time.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	disabled, rerr := d.Service.RecordWebhookAttempt(rctx, &a)
	if rerr != nil && d.Log != nil {
		d.Log.Warn("webhook: attempt not logged", "event", e.ID, "webhook", t.Webhook.ID, "attempt", a.Attempt, "err", rerr)
	}
	if disabled && d.Log != nil {
		d.Log.Warn("webhook: endpoint disabled after failing for 5 days", "webhook", t.Webhook.ID)
	}
	if r.Class == "" {
		return nil
	}
	err = &attemptError{r.Class, r.Err}
	if disabled {
		return dispatch.Permanent(err)
	}
	return err
}
