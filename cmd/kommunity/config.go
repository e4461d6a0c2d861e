package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kommunity/kommunity/web"
)

// Config is every setting, with its default, filled from flags and
// KOMMUNITY_* environment variables (flags win). Components get copies of
// the parts they need; nothing reads it globally.
type Config struct {
	DB          string // SQLite file of the embedded store
	DatabaseURL string // PostgreSQL URL; when set it replaces the SQLite store
	// PostgreSQL pool size per process, and the bound on each statement.
	DBMaxConns         int64
	DBStatementTimeout time.Duration

	Addr         string
	Demo         bool
	DemoSeed     uint64
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	MaxBodyBytes int64

	TileURL         string // base-map tiles; "" for none (vector layers only)
	TileAttribution string
	// VectorTilesAbove is how many addresses the residents' map draws from
	// one GeoJSON layer; above it, from vector tiles. Negative: never.
	VectorTilesAbove int64
	PledgeRateLimit  int64 // pledges per client per PledgeRateWindow; negative for none
	PledgeRateWindow time.Duration
	// ProgressTTL is how long an area's progress may be answered from
	// memory; 0 turns that off.
	ProgressTTL time.Duration
	// LapseInterval is how often serve lapses areas whose deadline passed
	// below threshold; 0 turns that off (run `kommunity lapse` instead).
	LapseInterval time.Duration
	// Prewarm reads the embedded store's file once at start, into the
	// operating system's cache (see sqlite.Store.Prewarm).
	Prewarm bool
	// RetentionDays is how long contact details stay after an area is
	// built or lapsed; the lapse loop erases them after that.
	RetentionDays int64
	// TrustedProxies are comma-separated addresses or CIDRs of reverse
	// proxies whose X-Forwarded-For names the client (for rate limits).
	TrustedProxies string
	// PublicURL is where residents reach the service ("https://host");
	// links are built on it, never on a request's Host header.
	PublicURL string

	// SMTPURL is the mail server (smtp:// with STARTTLS, smtps://); ""
	// sends no e-mail: invitation and reset links are then only shown.
	SMTPURL  string
	MailFrom string // the sender of e-mails; needed with SMTPURL
	// MailTimeout bounds one delivery attempt; an e-mail that a killed
	// process was sending is taken up again after twice this (the lease).
	MailTimeout time.Duration

	// WebhookAllowPrivate lets webhooks go to loopback and private
	// addresses: for tests and closed networks only.
	WebhookAllowPrivate bool
	// WebhookTimeout bounds one webhook attempt: an answer within it is
	// needed for a success.
	WebhookTimeout time.Duration

	AdminToken string     // Bearer token of the admin endpoints; "" disables them
	Tender     TenderInfo // what tender packages say besides the store's data
}

// DefaultConfig is the configuration before flags and environment.
func DefaultConfig() Config {
	return Config{
		DB:           "kommunity.db",
		Addr:         "127.0.0.1:8080",
		DemoSeed:     1,
		ReadTimeout:  15 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  120 * time.Second,
		MaxBodyBytes: 64 << 10,

		// OpenStreetMap's standard tiles; see its tile usage policy before
		// heavy use, or point --tile-url at your own tile server.
		TileURL:          "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
		TileAttribution:  `&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>`,
		VectorTilesAbove: web.DefaultVectorTilesAbove,
		PledgeRateLimit:  10,
		PledgeRateWindow: 10 * time.Minute,
		ProgressTTL:      time.Second,
		LapseInterval:    time.Minute,
		RetentionDays:    365,
		Prewarm:          true,
		MailTimeout:      30 * time.Second,
		WebhookTimeout:   15 * time.Second,

		// Enough to keep a 2-8 core database busy (commits overlap in
		// group commit); several processes share max_connections.
		DBMaxConns:         10,
		DBStatementTimeout: 5 * time.Second,
	}
}

// env reads KOMMUNITY_<NAME>, or the contents of the file that
// KOMMUNITY_<NAME>_FILE names (for secrets). An unreadable file is reported
// through errs rather than silently turning a setting off.
func env(name string, errs *envErr) (string, bool) {
	key := "KOMMUNITY_" + name
	if v, ok := os.LookupEnv(key); ok {
		return v, true
	}
	if path, ok := os.LookupEnv(key + "_FILE"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			if errs != nil {
				*errs = append(*errs, fmt.Sprintf("%s_FILE: %v", key, err))
			}
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	}
	return "", false
}

// envErr collects bad environment values so they are reported, not ignored.
type envErr []string

func (c *Config) storeFlags(fs *flag.FlagSet, errs *envErr) {
	stringVar(fs, &c.DB, "db", "DB", "SQLite `file` of the embedded store", errs)
	stringVar(fs, &c.DatabaseURL, "database-url", "DATABASE_URL", "PostgreSQL `URL` (postgres://...); replaces the embedded store", errs)
	int64Var(fs, &c.DBMaxConns, "db-max-conns", "DB_MAX_CONNS", "PostgreSQL connection pool size per process", errs)
	durationVar(fs, &c.DBStatementTimeout, "db-statement-timeout", "DB_STATEMENT_TIMEOUT", "PostgreSQL statement timeout (0: none; imports lift it)", errs)
}

func (c *Config) serveFlags(fs *flag.FlagSet, errs *envErr) {
	c.storeFlags(fs, errs)
	stringVar(fs, &c.Addr, "addr", "ADDR", "listen `address`", errs)
	boolVar(fs, &c.Demo, "demo", "DEMO", "fill an empty store with a generated demo municipality", errs)
	uint64Var(fs, &c.DemoSeed, "demo-seed", "DEMO_SEED", "seed of the demo generator", errs)
	durationVar(fs, &c.ReadTimeout, "read-timeout", "READ_TIMEOUT", "HTTP read timeout", errs)
	durationVar(fs, &c.WriteTimeout, "write-timeout", "WRITE_TIMEOUT", "HTTP write timeout", errs)
	durationVar(fs, &c.IdleTimeout, "idle-timeout", "IDLE_TIMEOUT", "HTTP keep-alive idle timeout", errs)
	int64Var(fs, &c.MaxBodyBytes, "max-body-bytes", "MAX_BODY_BYTES", "largest request body", errs)
	stringVar(fs, &c.TileURL, "tile-url", "TILE_URL", "base-map tile `URL` template ({z}/{x}/{y}); empty for none", errs)
	stringVar(fs, &c.TileAttribution, "tile-attribution", "TILE_ATTRIBUTION", "attribution `HTML` of the tiles", errs)
	int64Var(fs, &c.VectorTilesAbove, "vector-tiles-above", "VECTOR_TILES_ABOVE", "above this many addresses the map draws the areas from vector tiles (/tiles/...) instead of one GeoJSON layer; negative for never", errs)
	int64Var(fs, &c.PledgeRateLimit, "pledge-rate-limit", "PLEDGE_RATE_LIMIT", "pledges one client may send per window; negative for no limit", errs)
	durationVar(fs, &c.PledgeRateWindow, "pledge-rate-window", "PLEDGE_RATE_WINDOW", "window of the pledge rate limit", errs)
	stringVar(fs, &c.PublicURL, "public-url", "PUBLIC_URL", "`URL` residents reach the service at, e.g. https://kommunity.example; manage links, e-mails and redirects use it (relative links without it); https also turns on Secure cookies and HSTS", errs)
	stringVar(fs, &c.TrustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "comma-separated `addresses/CIDRs` of reverse proxies whose X-Forwarded-For names the client; empty trusts none", errs)
	durationVar(fs, &c.LapseInterval, "lapse-interval", "LAPSE_INTERVAL", "how often to lapse areas whose deadline passed below threshold (and unconfirmed pledges, and erase contact data past --retention); 0 for never", errs)
	int64Var(fs, &c.RetentionDays, "retention", "RETENTION", "`days` contact data of pledges stay after their area is built or lapsed", errs)
	durationVar(fs, &c.ProgressTTL, "progress-ttl", "PROGRESS_TTL", "how long GET /api/areas/{code} may answer from memory (other instances' pledges show within it); 0 for never", errs)
	boolVar(fs, &c.Prewarm, "prewarm", "PREWARM", "read the embedded store's file once at start, in the background, so that the first map tiles and lookups after a restart do not wait on the disk (skipped for a file over a quarter of the memory)", errs)
	stringVar(fs, &c.AdminToken, "admin-token", "ADMIN_TOKEN", "retired: use accounts and API tokens (kommunity token add); set, serve refuses to start", errs)
	c.mailFlags(fs, errs)
	c.webhookFlags(fs, errs)
	c.Tender.flags(fs, errs)
}

func (c *Config) mailFlags(fs *flag.FlagSet, errs *envErr) {
	stringVar(fs, &c.SMTPURL, "smtp-url", "SMTP_URL", "mail server `URL`: smtp://user:password@host:587 (STARTTLS required) or smtps://...:465; "+
		"it holds a password, so prefer the environment or KOMMUNITY_SMTP_URL_FILE; empty sends no e-mail", errs)
	stringVar(fs, &c.MailFrom, "mail-from", "MAIL_FROM", "`sender` of e-mails, e.g. \"kommunity <noreply@example.dk>\"", errs)
	durationVar(fs, &c.MailTimeout, "mail-timeout", "MAIL_TIMEOUT", "how long one e-mail delivery attempt may take; one a stopped process was sending is taken up after twice this", errs)
}

func (c *Config) webhookFlags(fs *flag.FlagSet, errs *envErr) {
	boolVar(fs, &c.WebhookAllowPrivate, "webhook-allow-private", "WEBHOOK_ALLOW_PRIVATE", "let webhooks go to loopback, private and link-local addresses (tests, closed networks); off, they are refused at registration and at every connection", errs)
	durationVar(fs, &c.WebhookTimeout, "webhook-timeout", "WEBHOOK_TIMEOUT", "how long one webhook attempt may take; a 2xx within it is a success", errs)
}

func stringVar(fs *flag.FlagSet, p *string, name, envName, usage string, errs *envErr) {
	if v, ok := env(envName, errs); ok {
		*p = v
	}
	fs.StringVar(p, name, *p, usage+" (env KOMMUNITY_"+envName+")")
}

func boolVar(fs *flag.FlagSet, p *bool, name, envName, usage string, errs *envErr) {
	if v, ok := env(envName, errs); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("KOMMUNITY_%s=%q: want true or false", envName, v))
		}
		*p = b
	}
	fs.BoolVar(p, name, *p, usage+" (env KOMMUNITY_"+envName+")")
}

func uint64Var(fs *flag.FlagSet, p *uint64, name, envName, usage string, errs *envErr) {
	if v, ok := env(envName, errs); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("KOMMUNITY_%s=%q: want a whole number", envName, v))
		}
		*p = n
	}
	fs.Uint64Var(p, name, *p, usage+" (env KOMMUNITY_"+envName+")")
}

func int64Var(fs *flag.FlagSet, p *int64, name, envName, usage string, errs *envErr) {
	if v, ok := env(envName, errs); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("KOMMUNITY_%s=%q: want a whole number", envName, v))
		}
		*p = n
	}
	fs.Int64Var(p, name, *p, usage+" (env KOMMUNITY_"+envName+")")
}

func durationVar(fs *flag.FlagSet, p *time.Duration, name, envName, usage string, errs *envErr) {
	if v, ok := env(envName, errs); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("KOMMUNITY_%s=%q: want a duration such as 30s", envName, v))
		}
		*p = d
	}
	fs.DurationVar(p, name, *p, usage+" (env KOMMUNITY_"+envName+")")
}

// parseArgs parses flags anywhere among the arguments ("import addresses
// FILE --db x" works as well as "--db x FILE") and returns the positionals.
func parseArgs(fs *flag.FlagSet, args []string, errs envErr) ([]string, error) {
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
