package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
	"github.com/paulmach/orb"
)

const costUsage = `usage:
  kommunity cost --area CODE [--takeup PERCENT] [--json]   the cost and each household's share
  kommunity cost curve --area CODE [--json]                the share from the threshold to 100 % take-up
  kommunity cost set --area CODE [flags]                   set the area's cost parameters (amounts in kr)
`

// runCost dispatches "kommunity cost [curve|set]".
func runCost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "set":
			return runCostSet(ctx, args[1:], stdout, stderr)
		case "curve":
			return runCostCurve(ctx, args[1:], stdout, stderr)
		}
	}
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("cost", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, costUsage+"\nflags of kommunity cost:\n"); fs.PrintDefaults() }
	cfg.storeFlags(fs, &errs)
	code := fs.String("area", "", "area `CODE`")
	takeUp := fs.Float64("takeup", -1, "take-up `PERCENT` to price (default: the current pledges)")
	asJSON := fs.Bool("json", false, "print JSON, as GET /api/areas/{code}/cost")
	if err := parseNoArgs(fs, args, errs); err != nil {
		return err
	}
	if *code == "" {
		return usageError{errors.New("--area is required")}
	}
	var pct *float64
	if *takeUp != -1 {
		pct = takeUp
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	c, err := svc.Cost(ctx, *code, pct)
	if err != nil {
		return err
	}
	j := web.NewCostJSON(c)
	if *asJSON {
		return printJSON(stdout, j)
	}
	a, err := svc.Area(ctx, *code)
	if err != nil {
		return err
	}
	_, stored, err := svc.CostParams(ctx, *code)
	if err != nil {
		return err
	}
	when := "with the current pledges"
	if pct != nil {
		when = fmt.Sprintf("at %g %% take-up", *pct)
	}
	fmt.Fprintf(stdout, "Area %s %s, %s: %d of %d households (%.1f %%) at %d addresses\n",
		a.Code, a.Name, when, j.ConnectedUnits, j.EligibleUnits, j.TakeUpPercent, j.ConnectedAddresses)
	fmt.Fprintf(stdout, "Route (%s): trench %.2f km, drops %.2f km%s\n\n", methodName(j.Method, c.Params.Detour), j.TrenchM/1000, j.DropM/1000, unconnectedNote(j.Unconnected))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, r := range []struct {
		label string
		v     int64
	}{
		{"trench", j.Costs.Trench}, {"drops", j.Costs.Drops}, {"connections", j.Costs.Connections}, {"fixed", j.Costs.Fixed},
		{"build cost", j.BuildCost},
		{"- provider contribution", j.Funding.ProviderContribution}, {"- municipal top-up", j.Funding.MunicipalTopUp},
		{"- state subsidy", j.Funding.StateSubsidy}, {"- community fund", j.Funding.CommunityFund},
		{"- shortfall (not covered)", j.Shortfall},
		{"households pay", j.HouseholdsPay},
	} {
		fmt.Fprintf(tw, "%s\t%s\t\n", r.label, kr(r.v))
	}
	share := kr(j.HouseholdShare)
	if j.HouseholdShareMax-j.HouseholdShareMin > 1 {
		share += fmt.Sprintf(" (from %s to %s)", kr(j.HouseholdShareMin), kr(j.HouseholdShareMax))
	}
	fmt.Fprintf(tw, "per household, %s split\t%s\t\n", j.SplitRule, share)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printParams(stdout, c.Params, c.POP, stored)
	return nil
}

func runCostCurve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("cost curve", stderr)
	cfg.storeFlags(fs, &errs)
	code := fs.String("area", "", "area `CODE`")
	asJSON := fs.Bool("json", false, "print JSON, as GET /api/areas/{code}/cost/curve")
	if err := parseNoArgs(fs, args, errs); err != nil {
		return err
	}
	if *code == "" {
		return usageError{errors.New("--area is required")}
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	cv, err := svc.CostCurve(ctx, *code)
	if err != nil {
		return err
	}
	j := web.NewCurveJSON(cv)
	if *asJSON {
		return printJSON(stdout, j)
	}
	fmt.Fprintf(stdout, "Area %s: household share by take-up (route %s; threshold %g %% = %d households)\n\n",
		j.AreaCode, methodName(j.Method, -1), j.ThresholdPercent, j.ThresholdUnits)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "take-up\thouseholds\ttrench km\tper household\t\t")
	for _, p := range j.Points {
		var mark []string
		if p.Threshold {
			mark = append(mark, "threshold")
		}
		if p.Current {
			mark = append(mark, "now")
		}
		fmt.Fprintf(tw, "%.1f %%\t%d\t%.2f\t%s\t%s\t\n", p.TakeUpPercent, p.Units, p.TrenchM/1000, kr(p.HouseholdShare), strings.Join(mark, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if j.Current.HouseholdShare != nil {
		fmt.Fprintf(stdout, "Now: %d households pledged (%.1f %%), %s each\n", j.Current.PledgedUnits, j.Current.TakeUpPercent, kr(*j.Current.HouseholdShare))
	} else {
		fmt.Fprintln(stdout, "Now: no pledges yet")
	}
	for _, m := range j.IfMoreJoin {
		note := ""
		if m.ReachesThreshold {
			note = " (threshold reached)"
		}
		fmt.Fprintf(stdout, "If %d more join: %s each%s\n", m.MoreHouseholds, kr(m.HouseholdShare), note)
	}
	fmt.Fprintf(stdout, "\nAssumption: %s\n", j.Assumption)
	return nil
}

// moneyFlag is a kroner amount flag ("300", "299.50", "1200,5"), kept in
// øre, remembering whether it was given.
type moneyFlag struct {
	ore int64
	set bool
}

func (m *moneyFlag) String() string {
	if m == nil || !m.set {
		return ""
	}
	return pledge.FormatKroner(m.ore)
}

func (m *moneyFlag) Set(s string) error {
	v, err := parseKroner(s)
	if err != nil {
		return err
	}
	m.ore, m.set = v, true
	return nil
}

// parseKroner reads kroner with at most two decimals (point or comma) into
// øre exactly, without going through a float.
func parseKroner(s string) (int64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "kr"))
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(t, ",", "."), ".")
	bad := fmt.Errorf("%q is not an amount in kroner (e.g. 300 or 299.50)", s)
	if whole == "" || len(whole) > 12 || strings.Trim(whole, "0123456789") != "" ||
		(hasFrac && (frac == "" || len(frac) > 2 || strings.Trim(frac, "0123456789") != "")) {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	if neg {
		v = -v
	}
	return v, nil
}

// parsePOP reads "LON,LAT".
func parsePOP(s string) (*orb.Point, error) {
	lon, lat, ok := strings.Cut(s, ",")
	x, err1 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("--pop %q: want LON,LAT in degrees, e.g. 10.597,55.830", s)
	}
	return &orb.Point{x, y}, nil
}

func runCostSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("cost set", stderr)
	cfg.storeFlags(fs, &errs)
	code := fs.String("area", "", "area `CODE`")
	pop := fs.String("pop", "", "POP as `LON,LAT`, or \"default\" for the area's point on surface")
	detour := fs.Float64("detour", -1, "detour `factor` of straight-line routes, 1-10 (0: the default 1.25)")
	split := fs.String("split", "", "split `rule`: equal, drop or capped")
	money := []struct {
		name, usage string
		field       func(*pledge.CostParams) *int64
	}{
		{"trench-cost", "trench cost, `kr` per metre", func(p *pledge.CostParams) *int64 { return &p.TrenchPerM }},
		{"drop-cost", "drop cost, `kr` per metre", func(p *pledge.CostParams) *int64 { return &p.DropPerM }},
		{"connection-cost", "cost per connected household (equipment, installation), `kr`", func(p *pledge.CostParams) *int64 { return &p.PerConnection }},
		{"fixed-cost", "fixed cost of the area (POP, design, project), `kr`", func(p *pledge.CostParams) *int64 { return &p.Fixed }},
		{"state-subsidy-cap", "largest average state subsidy per household, `kr`", func(p *pledge.CostParams) *int64 { return &p.StateSubsidyAvgCap }},
		{"municipal-topup", "municipal top-up per household, `kr`", func(p *pledge.CostParams) *int64 { return &p.MunicipalTopUp }},
		{"provider-contribution", "provider contribution per connection, `kr`", func(p *pledge.CostParams) *int64 { return &p.ProviderContribution }},
		{"min-own-payment", "minimum own payment per household, `kr`", func(p *pledge.CostParams) *int64 { return &p.MinOwnPayment }},
		{"community-fund", "the community's fund for the area, `kr`", func(p *pledge.CostParams) *int64 { return &p.CommunityFund }},
		{"household-cap", "most a household pays with --split capped, `kr`", func(p *pledge.CostParams) *int64 { return &p.HouseholdCap }},
	}
	values := make([]moneyFlag, len(money))
	for i, m := range money {
		fs.Var(&values[i], m.name, m.usage)
	}
	if err := parseNoArgs(fs, args, errs); err != nil {
		return err
	}
	if *code == "" {
		return usageError{errors.New("--area is required")}
	}
	changed := 0
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "area" && f.Name != "db" && f.Name != "database-url" && !strings.HasPrefix(f.Name, "db-") {
			changed++
		}
	})
	if changed == 0 {
		return usageError{errors.New("nothing to set: give at least one parameter (see kommunity cost set -h)")}
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	p, _, err := svc.CostParams(ctx, *code)
	if err != nil {
		return err
	}
	for i, m := range money {
		if values[i].set {
			*m.field(&p) = values[i].ore
		}
	}
	switch *pop {
	case "":
	case "default":
		p.POP = nil
	default:
		if p.POP, err = parsePOP(*pop); err != nil {
			return usageError{err}
		}
	}
	if *detour != -1 {
		p.Detour = *detour
	}
	if *split != "" {
		p.Split = pledge.SplitRule(*split)
	}
	// The CLI acts as the system user (see runArea).
	if err := svc.SetCostParams(pledge.WithUser(ctx, pledge.SystemUser()), *code, p); err != nil {
		return err
	}
	c, err := svc.Cost(ctx, *code, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cost parameters of area %s set\n", *code)
	printParams(stdout, p, c.POP, true)
	return nil
}

func printParams(w io.Writer, p pledge.CostParams, pop orb.Point, stored bool) {
	src := "set for this area"
	if !stored {
		src = "defaults: set them with kommunity cost set"
	}
	fmt.Fprintf(w, "Parameters (%s):\n", src)
	popNote := ""
	if p.POP == nil {
		popNote = " (the area's point on surface)"
	}
	detour := p.Detour
	if detour == 0 {
		detour = geo.DefaultDetour
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range [][2]string{
		{"POP", fmt.Sprintf("%.6f,%.6f%s", pop[0], pop[1], popNote)},
		{"trench", kr(p.TrenchPerM) + " per metre"},
		{"drop", kr(p.DropPerM) + " per metre"},
		{"connection", kr(p.PerConnection) + " per household"},
		{"fixed", kr(p.Fixed)},
		{"state subsidy", "up to " + kr(p.StateSubsidyAvgCap) + " per household on average"},
		{"municipal top-up", kr(p.MunicipalTopUp) + " per household"},
		{"provider", kr(p.ProviderContribution) + " per connection"},
		{"minimum own payment", kr(p.MinOwnPayment) + " per household"},
		{"community fund", kr(p.CommunityFund)},
		{"split", splitName(p)},
		{"detour (straight lines)", strconv.FormatFloat(detour, 'f', -1, 64)},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	tw.Flush()
}

func splitName(p pledge.CostParams) string {
	if p.Split == pledge.SplitCapped {
		return fmt.Sprintf("%s at %s per household", p.Split, kr(p.HouseholdCap))
	}
	return string(p.Split)
}

func runRoute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("route", stderr)
	cfg.storeFlags(fs, &errs)
	code := fs.String("area", "", "area `CODE`")
	all := fs.Bool("all-addresses", false, "route to every address (default: the pledged ones)")
	pop := fs.String("pop", "", "POP as `LON,LAT` for this estimate (default: the area's)")
	detour := fs.Float64("detour", 0, "detour `factor` of straight-line routes, 1-10 (default: the area's)")
	asJSON := fs.Bool("json", false, "print JSON")
	geojsonOut := fs.String("geojson", "", "also write the route as GeoJSON to `FILE`")
	if err := parseNoArgs(fs, args, errs); err != nil {
		return err
	}
	if *code == "" {
		return usageError{errors.New("--area is required")}
	}
	req := pledge.RouteRequest{AllAddresses: *all, Detour: *detour}
	if *pop != "" {
		p, err := parsePOP(*pop)
		if err != nil {
			return usageError{err}
		}
		req.POP = p
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	r, err := svc.Route(ctx, *code, req)
	if err != nil {
		return err
	}
	if *geojsonOut != "" {
		body, err := r.GeoJSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*geojsonOut, body, 0o644); err != nil {
			return err
		}
	}
	e := r.Estimate
	out := routeJSON{
		AreaCode: r.AreaCode, Method: e.Method, POP: [2]float64{r.POP[0], r.POP[1]},
		Addresses: len(r.Addresses), Units: r.Units, TrenchM: round2(e.TrenchM), DropM: round2(e.DropTotalM),
		Unconnected: e.Unconnected,
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	who := "pledged addresses"
	if *all {
		who = "addresses"
	}
	d := req.Detour
	if d == 0 {
		d = -1 // the area's own
	}
	fmt.Fprintf(stdout, "Area %s: route from the POP (%.6f,%.6f) to %d %s (%d households), %s\n",
		out.AreaCode, out.POP[0], out.POP[1], out.Addresses, who, out.Units, methodName(out.Method, d))
	fmt.Fprintf(stdout, "  trench %.2f km, drops %.2f km%s\n", out.TrenchM/1000, out.DropM/1000, unconnectedNote(out.Unconnected))
	if *geojsonOut != "" {
		fmt.Fprintf(stdout, "  route written to %s\n", *geojsonOut)
	}
	return nil
}

// routeJSON is `kommunity route --json`: lengths in metres.
type routeJSON struct {
	AreaCode    string     `json:"area_code"`
	Method      string     `json:"method"`
	POP         [2]float64 `json:"pop"`
	Addresses   int        `json:"addresses"`
	Units       int        `json:"units"`
	TrenchM     float64    `json:"trench_m"`
	DropM       float64    `json:"drop_m"` // all drops together
	Unconnected int        `json:"unconnected"`
}

func runImportRoads(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	var errs envErr
	fs := newFlagSet("import roads", stderr)
	cfg.storeFlags(fs, &errs)
	pos, err := parseArgs(fs, args, errs)
	if err != nil {
		return usageError{err}
	}
	if len(pos) != 1 {
		return usageError{errors.New("want exactly one FILE (GeoJSON road lines)")}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(pos[0])
	lines, err := geo.ReadRoads(progressReader(f, "reading "+name, stderr), name)
	if err != nil {
		return importRejected(err)
	}
	svc, done, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	n, err := svc.ImportRoads(ctx, lines)
	if err != nil {
		return importRejected(err)
	}
	fmt.Fprintf(stdout, "%s: read %d road lines, added %d, %d already stored\n", name, len(lines), n, len(lines)-n)
	return nil
}

// methodName describes a route method; detour < 0 means not known here,
// 0 the default factor.
func methodName(method string, detour float64) string {
	switch {
	case method == geo.MethodRoad:
		return "along the imported roads"
	case detour < 0:
		return "straight lines with a detour factor"
	case detour == 0:
		detour = geo.DefaultDetour
	}
	return fmt.Sprintf("straight lines with detour factor %g", detour)
}

func unconnectedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d addresses on roads not connected to the POP's; joined in straight lines)", n)
}

// kr formats øre as "12,345.67 kr".
func kr(ore int64) string {
	sign := ""
	if ore < 0 {
		sign, ore = "-", -ore
	}
	whole := strconv.FormatInt(ore/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s.%02d kr", sign, b.String(), ore%100)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
