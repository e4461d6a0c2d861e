package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

func runAreas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("areas", stderr)
	cfg.storeFlags(fs, &errs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := pledge.NewService(st)
	areas, u, err := svc.Areas(ctx)
	if err != nil {
		return err
	}
	out := web.NewAreasJSON(areas, u, time.Now())
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "code\tname\taddresses\tunits\tpledged\ttake-up\tthreshold\tstatus\t")
	for _, a := range out.Areas {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f %%\t%.0f %%\t%s\t\n", a.Code, a.Name, a.Addresses, a.Units, a.PledgedUnits, a.TakeUp*100, a.ThresholdPercent, a.Status)
	}
	fmt.Fprintf(tw, "\tunassigned\t%d\t%d\t\t\t\t\t\n", u.Addresses, u.Units)
	return tw.Flush()
}
