package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// runRules handles "kommunity rules list|set": the subsidy scheme's named,
// dated rule sets that the subsidy annex applies.
func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: kommunity rules list | kommunity rules set --name NAME --valid-from YYYY-MM-DD --min-own-payment KR --max-subsidy KR [--title TEXT]"
	if len(args) == 0 || args[0] != "list" && args[0] != "set" {
		return usageError{errors.New(usage)}
	}
	fs, cfg, errs := storeFlagSet("rules "+args[0], stderr)
	name := fs.String("name", "", "the rule set's `name`, e.g. bredbaandspuljen-2027")
	title := fs.String("title", "", "what the annex calls it")
	from := fs.String("valid-from", "", "the `date` the rules apply from (YYYY-MM-DD)")
	minPay := fs.Int64("min-own-payment", -1, "the minimum own payment per household, in whole `kroner`")
	maxSub := fs.Int64("max-subsidy", -1, "the maximum subsidy per address, in whole `kroner`")
	if err := parseNoArgs(fs, args[1:], *errs); err != nil {
		return err
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	if args[0] == "set" {
		day, err := time.Parse(time.DateOnly, *from)
		if err != nil {
			return usageError{fmt.Errorf("--valid-from %q: want YYYY-MM-DD", *from)}
		}
		if *minPay < 0 || *maxSub < 0 {
			return usageError{errors.New("--min-own-payment and --max-subsidy are needed (whole kroner, 0 or more)")}
		}
		r := pledge.SubsidyRules{Name: *name, Title: *title, ValidFrom: day, MinOwnPayment: *minPay * 100, MaxSubsidyPerAddress: *maxSub * 100}
		if err := svc.SaveSubsidyRules(ctx, r); err != nil {
			return err
		}
	}
	rs, err := svc.SubsidyRuleSets(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		fmt.Fprintf(stdout, "%s\t%s\tfrom %s\tmin own payment %s\tmax subsidy per address %s\n", r.Name, r.Title,
			r.ValidFrom.Format(time.DateOnly), pledge.FormatKroner(r.MinOwnPayment), pledge.FormatKroner(r.MaxSubsidyPerAddress))
	}
	return nil
}
