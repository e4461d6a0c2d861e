// Command kommunity runs the kommunity service and its tools:
//
//	kommunity serve [--demo] [--addr 127.0.0.1:8080] [--db kommunity.db]
//	kommunity import areas [flags] FILE
//	kommunity import addresses [flags] FILE
//	kommunity areas [--json]
//
// This is the only package that knows which store is used.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/kommunity/kommunity/pledge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A CPU profile of any command, for performance work.
	if path := os.Getenv("KOMMUNITY_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
	}
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}

const usage = `kommunity: broadband demand aggregation

Usage:
  kommunity serve [--demo] [--addr ADDR] [--db FILE]     run the web service
  kommunity import areas [flags] FILE                    import area polygons (GeoJSON, Shapefile, GeoPackage)
  kommunity import addresses [flags] FILE                import address points (DAWA, CSV, GeoJSON, Shapefile, GeoPackage)
  kommunity import roads FILE                            import road centrelines (GeoJSON lines) for route estimates
  kommunity areas [--json] [--db FILE]                   list areas and their progress
  kommunity area set --area CODE [--threshold PCT] [--threshold-units N] [--deadline DAY|none] [--status S]
                                                         change an area's threshold, deadline or status
  kommunity lapse                                        lapse areas whose deadline passed below threshold
  kommunity cost --area CODE [--takeup PCT] [--json]     the area's cost and each household's share
  kommunity cost curve --area CODE [--json]              the share from the threshold to 100 % take-up
  kommunity cost set --area CODE [--pop LON,LAT] [--trench-cost KR_PER_M] ...  set cost parameters
  kommunity route --area CODE [--all-addresses] [--pop LON,LAT] [--detour F] [--json]  estimate the route
  kommunity report --area CODE -o FILE.zip [--lang da|en]  write the area's tender package (PDF, GeoJSON, CSV)
  kommunity walks --area CODE --size N [--csv FILE] [--pdf FILE] [--lang da|en]
                                                         walk lists for door-to-door campaigning
  kommunity demo [--areas N] [--addresses N] [--out DIR]  write a generated municipality as files
  kommunity migrate [--db FILE | --database-url URL]     apply pending database migrations
  kommunity user add --role admin|coordinator|provider --email E [--name N] [--area CODE]... [--provider ORG]
                                                         invite a user: prints the invitation link
  kommunity user reset --email E                         a password reset link (printed without a mail server)
  kommunity users [--json]                               list the users
  kommunity token add --email E --name N [--scope read|bid|admin]...  an API token for a user's scripts
  kommunity sessions flush                               sign everybody out
  kommunity rules list | rules set --name N --valid-from D --min-own-payment KR --max-subsidy KR
                                                         the subsidy scheme's rule sets for the annex
  kommunity dispatch [--smtp-url URL --mail-from ADDR] [--once]  deliver the queued webhooks and e-mails (serve does it too)

Run "kommunity COMMAND -h" for a command's flags.
`

// Run runs one command and returns the process exit code: 0 on success, 1 on
// failure, 2 on bad usage.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	// Whoever runs the CLI on the server owns the data: commands act as
	// the system user, and the audit log names them "cli". serve's
	// requests carry their own users.
	ctx = pledge.WithUser(ctx, pledge.SystemUser())
	var err error
	switch args[0] {
	case "user":
		err = runUser(ctx, args[1:], stdout, stderr)
	case "users":
		err = runUsers(ctx, args[1:], stdout, stderr)
	case "token":
		err = runToken(ctx, args[1:], stdout, stderr)
	case "sessions":
		err = runSessions(ctx, args[1:], stdout, stderr)
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "import":
		if len(args) < 2 {
			fmt.Fprint(stderr, "usage: kommunity import areas|addresses|roads [flags] FILE\n")
			return 2
		}
		switch args[1] {
		case "areas":
			err = runImportAreas(ctx, args[2:], stdout, stderr)
		case "addresses":
			err = runImportAddresses(ctx, args[2:], stdout, stderr)
		case "roads":
			err = runImportRoads(ctx, args[2:], stdout, stderr)
		default:
			fmt.Fprintf(stderr, "kommunity import: unknown kind %q: want areas, addresses or roads\n", args[1])
			return 2
		}
	case "areas":
		err = runAreas(ctx, args[1:], stdout, stderr)
	case "area":
		err = runArea(ctx, args[1:], stdout, stderr)
	case "rules":
		err = runRules(ctx, args[1:], stdout, stderr)
	case "lapse":
		err = runLapse(ctx, args[1:], stdout, stderr)
	case "cost":
		err = runCost(ctx, args[1:], stdout, stderr)
	case "route":
		err = runRoute(ctx, args[1:], stdout, stderr)
	case "report":
		err = runReport(ctx, args[1:], stdout, stderr)
	case "walks":
		err = runWalks(ctx, args[1:], stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, args[1:], stdout, stderr)
	case "dispatch":
		err = runDispatch(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kommunity: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "kommunity %s: %v\n", args[0], err)
		return 2
	}
	fmt.Fprintf(stderr, "kommunity %s: %s\n", args[0], userMessage(err))
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// userMessage is what a command-line user sees of an error: the message of
// a pledge.Error, or the wrapped text of anything else (the user runs the
// tool on their own data, so the detail helps and leaks nothing).
func userMessage(err error) string {
	var pe *pledge.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kommunity "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
