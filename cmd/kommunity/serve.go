package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/dispatch"
	"github.com/kommunity/kommunity/internal/logbuf"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
	"github.com/kommunity/kommunity/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("serve", stderr)
	cfg.serveFlags(fs, &errs)
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	// A server's live heap is small (tens of MB) while every request
	// allocates: collecting at five times the live heap instead of twice
	// costs little memory and cut the CPU per pledge by about 15 % in
	// bench/pg_bench.sh. GOGC still overrides it.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	if err := checkAdminToken(cfg.AdminToken); err != nil {
		return usageError{err}
	}
	publicURL, err := parsePublicURL(cfg.PublicURL)
	if err != nil {
		return usageError{err}
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return usageError{err}
	}
	sender, err := mailSender(cfg)
	if err != nil {
		return err
	}
	// The log (a line per request) is buffered: see logbuf.
	logs := logbuf.New(stderr, 200*time.Millisecond)
	defer logs.Close()
	log := slog.New(slog.NewTextHandler(logs, nil))
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Prewarm {
		warmCtx, stopWarm := context.WithCancel(ctx)
		defer stopWarm()
		prewarm(warmCtx, st, log)
	}
	svc := pledge.NewService(st)
	svc.PublicURL = publicURL
	svc.TenderAssociation, svc.TenderContact, svc.TenderMunicipality = cfg.Tender.Association, cfg.Tender.Contact, cfg.Tender.Municipality
	svc.ProgressTTL = cfg.ProgressTTL
	if svc.ProgressTTL <= 0 {
		svc.ProgressTTL = -1 // off
	}
	tender, err := cfg.Tender.packager(svc)
	if err != nil {
		return usageError{err}
	}
	// With a mail server, invitations and reset links are e-mailed
	// through the outbox; without one they are only shown to whoever
	// asked, and nothing is queued.
	var mailer *dispatch.Dispatcher
	if sender != nil {
		mailer = mailDispatcher(cfg, sender, st, log)
	}
	svc.Mail = mailer != nil
	// Webhooks are always delivered: registering an endpoint needs no
	// setting, and an event with no endpoint costs one query.
	domain, delivery, err := webhookDispatchers(cfg, svc, st, log)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := seedDemo(ctx, svc, cfg.DemoSeed, log); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	// Listen before building the handler: links without --public-url
	// name the bound address, known only now (--addr may say port 0).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	srv := &http.Server{
		Handler: web.NewServer(svc, web.Config{
			MaxBodyBytes: cfg.MaxBodyBytes, TileURL: cfg.TileURL, TileAttribution: cfg.TileAttribution,
			VectorTilesAbove: int(cfg.VectorTilesAbove),
			PledgeRateLimit:  int(cfg.PledgeRateLimit), PledgeRateWindow: cfg.PledgeRateWindow,
			TenderPackage: tender, TrustedProxies: proxies,
			WalkPDF: walkPDF, WalkCSV: report.WalkCSV,
			PublicURL: publicURL, ListenAddr: ln.Addr().String(),
		}, log),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() && cfg.PublicURL == "" {
		log.Warn("the OGC API's links name the listen address, which other hosts cannot reach: set --public-url", "addr", ln.Addr().String())
	}
	fmt.Fprintf(stdout, "kommunity listening on http://%s\n", ln.Addr())
	if cfg.RetentionDays < 1 {
		return usageError{fmt.Errorf("--retention must be at least 1 day, not %d", cfg.RetentionDays)}
	}
	if cfg.LapseInterval > 0 {
		go lapseLoop(ctx, svc, cfg.LapseInterval, time.Duration(cfg.RetentionDays)*24*time.Hour, log)
	}
	if mailer != nil {
		log.Info("mail: sending e-mails from the outbox", "smtp", sender.Server().Redacted())
	} else {
		log.Info("mail: no --smtp-url; nothing is e-mailed: invitation links are shown to the admin, reset links only by kommunity user reset")
	}
	if cfg.WebhookAllowPrivate {
		log.Warn("webhooks: --webhook-allow-private is set: endpoints on loopback and private addresses are reached")
	}
	dispatchCtx, stopDispatch := context.WithCancel(ctx)
	waitDispatch := runDispatchers(dispatchCtx, domain, delivery, mailer)
	// The store closes after the dispatchers have recorded the attempts
	// under way (each is bounded by --mail-timeout or --webhook-timeout).
	defer func() { stopDispatch(); waitDispatch() }()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// seedDemo fills an empty store with the generated municipality, through the
// same service rules as real data. A store with areas is left alone, so
// starting again never duplicates anything.
func seedDemo(ctx context.Context, svc *pledge.Service, seed uint64, log *slog.Logger) error {
	areas, _, err := svc.Areas(ctx)
	if err != nil {
		return err
	}
	if len(areas) > 0 {
		log.Info("demo: store already has data; not generating", "areas", len(areas))
		return nil
	}
	m := demo.Generate(demo.Config{Seed: seed})
	// Deadlines a few months out, different per area, so progress pages
	// have something to count down.
	now := svc.Now()
	deadline := func(i int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day(), 23, 59, 0, 0, time.UTC).AddDate(0, 2+i%4, 0)
	}
	if err := demo.Seed(ctx, svc, m, deadline); err != nil {
		return err
	}
	log.Info("demo: generated", "areas", len(m.Areas), "addresses", len(m.Addresses), "pledges", len(m.Pledges))
	return nil
}

// parsePublicURL checks --public-url: an http(s) URL with a host and no
// path, query or credentials; "" is none.
func parsePublicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--public-url: %q is not an http(s) URL of a host without a path, e.g. https://kommunity.example", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// parseProxies reads --trusted-proxies: IP addresses or CIDRs.
func parseProxies(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", p)
			}
		}
		out = append(out, p)
	}
	return out, nil
}
