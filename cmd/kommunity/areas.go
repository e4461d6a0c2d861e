package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/kommunity/kommunity/web"
)

func runAreas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, errs := storeFlagSet("areas", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args, *errs); err != nil {
		return err
	}
	svc, done, err := openService(ctx, *cfg)
	if err != nil {
		return err
	}
	defer done()
	areas, u, err := svc.Areas(ctx)
	if err != nil {
		return err
	}
	out := web.NewAreasJSON(areas, u, time.Now())
	if *asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "code\tname\taddresses\tunits\tpledged\ttake-up\tthreshold\tstatus\t")
	for _, a := range out.Areas {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f %%\t%.0f %%\t%s\t\n", a.Code, a.Name, a.Addresses, a.Units, a.PledgedUnits, a.TakeUp*100, a.ThresholdPercent, a.Status)
	}
	fmt.Fprintf(tw, "\tunassigned\t%d\t%d\t\t\t\t\t\n", u.Addresses, u.Units)
	return tw.Flush()
}
