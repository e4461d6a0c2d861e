package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/mail"
	"github.com/kommunity/kommunity/pledge"
)

// mailSender checks the mail settings and returns the sender, or nil when
// no mail server is configured. Its errors are usage errors and never
// repeat the URL (it holds a password).
func mailSender(cfg Config) (*mail.Sender, error) {
	if cfg.SMTPURL == "" {
		return nil, nil
	}
	if cfg.MailTimeout <= 0 {
		return nil, usageError{fmt.Errorf("--mail-timeout must be positive, not %v", cfg.MailTimeout)}
	}
	sender, err := mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.MailFrom, Timeout: cfg.MailTimeout})
	if err != nil {
		return nil, usageError{err}
	}
	return sender, nil
}

// mailDispatcher is the dispatcher of the outbox's e-mails through sender.
func mailDispatcher(cfg Config, sender *mail.Sender, st pledge.OutboxStore, log *slog.Logger) *dispatch.Dispatcher {
	return &dispatch.Dispatcher{
		Store:    st,
		Handlers: map[string]dispatch.Handler{pledge.EventMail: sender.Deliver},
		Timeout:  cfg.MailTimeout,
		// Twice the attempt's bound: an attempt ends, and records its
		// outcome, before another process may take the event.
		Lease: 2 * cfg.MailTimeout,
		Retry: dispatch.MailSchedule(),
		Log:   log,
	}
}

// runDispatch delivers the outbox: webhooks always, e-mails with a mail
// server. With --once what is due now, for cron or by hand; else until
// interrupted, as serve does beside the web service.
func runDispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("dispatch", stderr)
	cfg.mailFlags(fs, errs)
	cfg.webhookFlags(fs, errs)
	once := fs.Bool("once", false, "deliver the webhooks and e-mails due now and exit")
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	sender, err := mailSender(*cfg)
	if err != nil {
		return err
	}
	if cfg.WebhookTimeout <= 0 {
		return usageError{fmt.Errorf("--webhook-timeout must be positive, not %v", cfg.WebhookTimeout)}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	st, err := openStore(ctx, *cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := pledge.NewService(st)
	svc.Mail = sender != nil
	domain, delivery, err := webhookDispatchers(*cfg, svc, st, log)
	if err != nil {
		return err
	}
	var mailer *dispatch.Dispatcher
	if sender != nil {
		mailer = mailDispatcher(*cfg, sender, st, log)
	}
	if !*once {
		if sender != nil {
			log.Info("mail: delivering the outbox until interrupted", "smtp", sender.Server().Redacted())
		} else {
			log.Info("mail: no --smtp-url; delivering webhooks only")
		}
		runDispatchers(ctx, domain, delivery, mailer)()
		return nil
	}
	start := time.Now()
	// In order: events fan out to deliveries, deliveries may queue an
	// e-mail (an endpoint disabled).
	if _, err := domain.RunOnce(ctx); err != nil {
		return err
	}
	n, err := delivery.RunOnce(ctx)
	fmt.Fprintf(stdout, "delivered %d webhook(s) in %v\n", n, time.Since(start).Round(time.Millisecond))
	if err != nil || mailer == nil {
		return err
	}
	start = time.Now()
	n, err = mailer.RunOnce(ctx)
	fmt.Fprintf(stdout, "delivered %d e-mail(s) in %v\n", n, time.Since(start).Round(time.Millisecond))
	return err
}
