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

// runDispatch delivers the outbox's e-mails: with --once what is due now,
// for cron or by hand; else until interrupted, as serve does beside the
// web service.
func runDispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("dispatch", stderr)
	cfg.mailFlags(fs, errs)
	once := fs.Bool("once", false, "deliver the e-mails due now and exit")
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	if cfg.SMTPURL == "" {
		return usageError{fmt.Errorf("--smtp-url (or KOMMUNITY_SMTP_URL) is needed: there is nothing to deliver with")}
	}
	sender, err := mailSender(*cfg)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	st, err := openStore(ctx, *cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	d := mailDispatcher(*cfg, sender, st, log)
	if !*once {
		log.Info("mail: delivering the outbox until interrupted", "smtp", sender.Server().Redacted())
		if err := d.Run(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}
	start := time.Now()
	n, err := d.RunOnce(ctx)
	fmt.Fprintf(stdout, "delivered %d e-mail(s) in %v\n", n, time.Since(start).Round(time.Millisecond))
	return err
}
