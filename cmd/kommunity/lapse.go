package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// runLapse lapses overdue areas and unconfirmed pledges, and erases
// contact data past --retention, once, for cron or by hand; serve does the
// same every --lapse-interval. With --smtp-url the pledgers' notices are
// queued (kommunity dispatch sends them).
func runLapse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("lapse", stderr)
	cfg.mailFlags(fs, errs)
	int64Var(fs, &cfg.RetentionDays, "retention", "RETENTION", "`days` contact data of pledges stay after their area is built or lapsed", errs)
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	if cfg.RetentionDays < 1 {
		return usageError{fmt.Errorf("--retention must be at least 1 day, not %d", cfg.RetentionDays)}
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	svc.Mail = cfg.SMTPURL != ""
	n, err := svc.LapseUnconfirmed(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "%d unconfirmed pledge(s) lapsed\n", n)
	}
	lapsed, err := svc.LapseOverdue(ctx)
	for _, a := range lapsed {
		fmt.Fprintf(stdout, "%s: lapsed, %d pledge(s) lapsed\n", a.Code, a.Pledges)
	}
	if err == nil && len(lapsed) == 0 {
		fmt.Fprintln(stdout, "no area is overdue")
	}
	if err != nil {
		return err
	}
	erased, err := svc.EraseClosedContacts(ctx, time.Duration(cfg.RetentionDays)*24*time.Hour)
	if erased > 0 {
		fmt.Fprintf(stdout, "contact data of %d pledge(s) erased: area built or lapsed over %d days ago\n", erased, cfg.RetentionDays)
	}
	return err
}

// lapseLoop runs LapseOverdue now and then every interval until ctx ends.
// Several instances may run it: each area is re-checked in its transaction.
func lapseLoop(ctx context.Context, svc *pledge.Service, interval, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := svc.LapseUnconfirmed(ctx); err != nil && ctx.Err() == nil {
			log.Warn("lapsing unconfirmed pledges failed", "err", err)
		} else if n > 0 {
			log.Info("unconfirmed pledges lapsed", "pledges", n)
		}
		lapsed, err := svc.LapseOverdue(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("lapsing overdue areas failed", "err", err)
		}
		for _, a := range lapsed {
			log.Info("area lapsed: deadline passed below threshold", "area", a.Code, "pledges", a.Pledges)
		}
		if n, err := svc.EraseClosedContacts(ctx, retention); err != nil && ctx.Err() == nil {
			log.Warn("erasing contact data past retention failed", "err", err)
		} else if n > 0 {
			log.Info("contact data erased: area built or lapsed longer than --retention", "pledges", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
