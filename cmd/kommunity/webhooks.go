package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/webhook"
)

// domainHandlers are the handlers of the domain event kinds (threshold
// reached, tender opened, deadline changed, awarded): today the webhook
// fan-out, which wakes the delivery dispatcher with wake. Later consumers
// of the same kinds (notices to pledgers or bidders) join through
// dispatch.Chain here, so each kind keeps one handler.
func domainHandlers(svc *pledge.Service, wake func()) map[string]dispatch.Handler {
	fanOut := func(ctx context.Context, e pledge.OutboxEvent) error {
		if err := svc.FanOutWebhooks(ctx, e); err != nil {
			if pledge.ErrorCode(err) == pledge.EINVALID {
				return dispatch.Permanent(err) // a payload that is not JSON stays so
			}
			return err
		}
		wake()
		return nil
	}
	h := map[string]dispatch.Handler{}
	for kind := range pledge.WebhookKinds {
		h[kind] = fanOut
	}
	return h
}

// webhookDispatchers are the dispatcher of the domain events and the
// dispatcher of webhook deliveries, on the retry schedule of webhooks.
// Its error is a usage error.
func webhookDispatchers(cfg Config, svc *pledge.Service, st pledge.OutboxStore, log *slog.Logger) (domain, delivery *dispatch.Dispatcher, err error) {
	if cfg.WebhookTimeout <= 0 {
		return nil, nil, usageError{fmt.Errorf("--webhook-timeout must be positive, not %v", cfg.WebhookTimeout)}
	}
	svc.WebhookAllowPrivate = cfg.WebhookAllowPrivate
	d := &webhook.Deliverer{Service: svc, Client: &webhook.Client{AllowPrivate: cfg.WebhookAllowPrivate, Timeout: cfg.WebhookTimeout}, Log: log}
	// An attempt is the request plus reading the endpoint and writing
	// the log (webhook.RecordTimeout); the lease is twice that, so an
	// attempt has ended, and recorded its outcome, before another process
	// may take the event.
	attempt := cfg.WebhookTimeout + max(2*webhook.RecordTimeout, cfg.WebhookTimeout/2)
	delivery = &dispatch.Dispatcher{
		Store:    st,
		Handlers: map[string]dispatch.Handler{pledge.EventWebhookDelivery: d.Deliver},
		Timeout:  attempt,
		Lease:    2 * attempt,
		Retry:    dispatch.WebhookSchedule(),
		Log:      log,
	}
	domain = &dispatch.Dispatcher{
		Store:    st,
		Handlers: domainHandlers(svc, delivery.Wake),
		Retry:    dispatch.WebhookSchedule(),
		Log:      log,
	}
	return domain, delivery, nil
}

// runDispatchers runs ds until ctx ends; the returned function waits for
// them to record the attempts under way.
func runDispatchers(ctx context.Context, ds ...*dispatch.Dispatcher) (wait func()) {
	var wg sync.WaitGroup
	for _, d := range ds {
		if d == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Run(ctx)
		}()
	}
	return wg.Wait
}
