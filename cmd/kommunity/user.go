package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kommunity/kommunity/pledge"
)

// Accounts from the CLI on the server: the first admin is invited here,
// and so is anyone when no admin can use the web.

// listFlag collects a repeated flag (--area A --area B), also comma
// separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// publicURLFlag registers --public-url on a command that prints links.
func publicURLFlag(fs *flag.FlagSet, cfg *Config, errs *envErr) {
	stringVar(fs, &cfg.PublicURL, "public-url", "PUBLIC_URL", "`URL` the printed links start with, e.g. https://kommunity.example", errs)
}

// linkService opens the service with the public URL checked and set.
func linkService(ctx context.Context, cfg *Config) (*pledge.Service, func(), error) {
	u, err := parsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, nil, usageError{err}
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return nil, nil, err
	}
	svc.PublicURL = u
	return svc, done, nil
}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: kommunity user add|reset [flags]")}
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, args[1:], stdout, stderr)
	case "reset":
		return runUserReset(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Errorf("kommunity user: unknown command %q: want add or reset", args[0])}
}

// runUserAdd invites a user and prints the invitation link, which works
// once, for 7 days.
func runUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("user add", stderr)
	publicURLFlag(fs, cfg, errs)
	role := fs.String("role", "", "admin, coordinator or provider")
	email := fs.String("email", "", "the user's e-mail `address`")
	name := fs.String("name", "", "the user's `name`")
	provider := fs.String("provider", "", "a provider user's `company`")
	var areas listFlag
	fs.Var(&areas, "area", "an area `CODE` a coordinator coordinates (repeat for more)")
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	if *role == "" || *email == "" {
		return usageError{errors.New("user add needs --role and --email")}
	}
	svc, done, err := linkService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	inv, link, err := svc.Invite(ctx, pledge.InviteRequest{Email: *email, Name: *name, Role: pledge.Role(*role), Areas: areas, Provider: *provider})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintln(stdout, link)
	fmt.Fprintf(stderr, "invitation for %s as %s, valid until %s, once\n", inv.Email, inv.Role, inv.ExpiresAt.Format("2006-01-02 15:04 UTC"))
	return nil
}

// runUserReset prints a password reset link, valid for an hour, once.
func runUserReset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("user reset", stderr)
	publicURLFlag(fs, cfg, errs)
	email := fs.String("email", "", "the user's e-mail `address`")
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	if *email == "" {
		return usageError{errors.New("user reset needs --email")}
	}
	svc, done, err := linkService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	link, err := svc.RequestPasswordReset(ctx, *email, "")
	if err != nil {
		return cliError(err)
	}
	if link == "" {
		return fmt.Errorf("no active user has the e-mail address %q", *email)
	}
	fmt.Fprintln(stdout, link)
	return nil
}

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("users", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	users, err := svc.Users(ctx)
	if err != nil {
		return cliError(err)
	}
	if *asJSON {
		return printJSON(stdout, users)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tE-MAIL\tROLE\tAREAS\tPROVIDER\tACTIVE")
	for _, u := range users {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\n", u.ID, u.Email, u.Role, strings.Join(u.Areas, ","), u.Provider, u.Active)
	}
	return tw.Flush()
}

// runToken makes an API token for a user and prints it, once.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{errors.New("usage: kommunity token add --email E --name N [--scope read|bid|admin]...")}
	}
	fs, cfg, errs := storeFlagSet("token add", stderr)
	email := fs.String("email", "", "the user's e-mail `address`")
	name := fs.String("name", "", "what the token is for, e.g. \"bid script\"")
	var scopes listFlag
	fs.Var(&scopes, "scope", "read, bid or admin (repeat for more; default read)")
	if err := parseNoArgs(fs, args[1:], *errs); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return usageError{errors.New("token add needs --email and --name")}
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	sc := make([]pledge.Scope, len(scopes))
	for i, s := range scopes {
		sc[i] = pledge.Scope(s)
	}
	secret, t, err := svc.CreateAPIToken(ctx, *email, *name, sc)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "token %d (%s) for %s with scopes %v: shown once, keep it secret\n", t.ID, t.Name, *email, t.Scopes)
	return nil
}

// runSessions: "sessions flush" signs everybody out.
func runSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "flush" {
		return usageError{errors.New("usage: kommunity sessions flush")}
	}
	fs, cfg, errs := storeFlagSet("sessions flush", stderr)
	if err := parseNoArgs(fs, args[1:], *errs); err != nil {
		return err
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	n, err := svc.FlushSessions(ctx)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "%d session(s) ended\n", n)
	return nil
}

// cliError turns a user-facing service error into a plain message (with
// the field at fault) and a usage error for bad input.
func cliError(err error) error {
	var pe *pledge.Error
	if !errors.As(err, &pe) {
		return err
	}
	msg := pe.Message
	if pe.Field != "" {
		msg = pe.Field + ": " + msg
	}
	if pe.Code == pledge.EINVALID {
		return usageError{errors.New(msg)}
	}
	return errors.New(msg)
}
