package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// runArea handles "kommunity area set": a coordinator's threshold, deadline
// and status for one area.
func runArea(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "set" {
		return usageError{errors.New("usage: kommunity area set --area CODE [--threshold PCT] [--threshold-units N] [--deadline YYYY-MM-DD|none] [--status STATUS] [--confirm-days N]")}
	}
	fs, cfg, errs := storeFlagSet("area set", stderr)
	code := fs.String("area", "", "area `CODE`")
	threshold := fs.Float64("threshold", -1, "take-up threshold in `percent`")
	units := fs.Int("threshold-units", -1, "minimum number of pledged `units` (0 for none)")
	deadline := fs.String("deadline", "", "last day for pledges, `YYYY-MM-DD` (pledges close at its end, UTC), or none")
	status := fs.String("status", "", "new `status`: draft, collecting, tender_open, awarded, built or lapsed")
	confirmDays := fs.Int("confirm-days", 0, "`days` an unconfirmed online pledge waits for its e-mailed link before it lapses (1-365)")
	asJSON := fs.Bool("json", false, "print the area as JSON")
	if err := parseNoArgs(fs, args[1:], *errs); err != nil {
		return err
	}
	if *code == "" {
		return usageError{errors.New("--area is required")}
	}
	var set pledge.AreaSettings
	if *threshold != -1 {
		set.ThresholdPercent = threshold
	}
	if *units != -1 {
		set.ThresholdUnits = units
	}
	switch d := strings.TrimSpace(*deadline); d {
	case "":
	case "none":
		set.ClearDeadline = true
	default:
		day, err := time.Parse("2006-01-02", d)
		if err != nil {
			return usageError{fmt.Errorf("--deadline %q: want YYYY-MM-DD or none", d)}
		}
		end := pledge.DeadlineOn(day)
		set.Deadline = &end
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "confirm-days" {
			set.ConfirmDays = confirmDays
		}
	})
	if *status != "" {
		st := pledge.AreaStatus(*status)
		set.Status = &st
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	// Whoever runs the CLI on the server owns the data: it acts as the
	// system user, and the audit log names it "cli".
	a, err := svc.UpdateAreaSettings(pledge.WithUser(ctx, pledge.SystemUser()), *code, set)
	if err != nil {
		return err
	}
	j := web.NewAreaJSON(a, time.Now())
	if *asJSON {
		return printJSON(stdout, j)
	}
	dl := "none"
	if j.Deadline != nil {
		dl = j.Deadline.Format("2006-01-02")
	}
	fmt.Fprintf(stdout, "%s %s: threshold %g %% (at least %d units), deadline %s, status %s, unconfirmed pledges lapse after %d days\n",
		j.Code, j.Name, j.ThresholdPercent, j.ThresholdUnits, dl, j.Status, j.ConfirmDays)
	return nil
}
