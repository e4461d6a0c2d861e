// Package web is the HTTP interface: the gin router, JSON API handlers,
// the residents' server-rendered pages with their embedded templates and
// static files, and middleware. It depends on pledge, never on a store;
// errors are mapped to statuses in one table (errorStatus) and written in
// one place (writeError for the API, renderError for pages).
package web

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// Config is what the web layer needs from the service configuration.
type Config struct {
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64
	// RequestTimeout bounds one request's work (its context).
	RequestTimeout time.Duration

	// TileURL is the base map's tile URL template ({z}/{x}/{y}, optional
	// {s}); "" shows the areas on a blank background. The page works
	// without tiles either way.
	TileURL string
	// TileAttribution is HTML shown on the map for the tiles (from the
	// operator's configuration, so trusted).
	TileAttribution string
	// VectorTilesAbove is how many addresses (in public areas) the map
	// draws from one GeoJSON document; above it the map draws the areas
	// from vector tiles (/tiles/...). 0 means DefaultVectorTilesAbove,
	// negative never.
	VectorTilesAbove int

	// PledgeRateLimit is how many pledges one client (IP address) may
	// send per PledgeRateWindow, through the form and the API together;
	// 0 means 10, negative means no limit.
	PledgeRateLimit  int
	PledgeRateWindow time.Duration
	// TenderPackage writes area code's tender package, a ZIP, in lang to
	// w; nil turns the download off. cmd wires it to the report package,
	// which web does not import (adapters never import each other).
	TenderPackage func(ctx context.Context, code, lang string, w io.Writer) error
	// WalkPDF and WalkCSV write an area's walk lists (cmd wires them to
	// report.WalkPDF and report.WalkCSV); nil turns the download off.
	WalkPDF func(w io.Writer, a pledge.Area, walks []pledge.Walk, lang string, now time.Time) error
	WalkCSV func(w io.Writer, walks []pledge.Walk) error

	// PublicURL is where residents reach the service, e.g.
	// "https://kommunity.example" (no path): manage links, e-mails and
	// redirects are built on it, never on the request's Host header, and
	// with https cookies are Secure with the __Host- prefix and HSTS is
	// sent. "" makes links relative paths (the OGC API's, which GDAL
	// needs absolute, then use ListenAddr).
	PublicURL string

	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; nil trusts none, so the client is
	// the connection's peer.
	TrustedProxies []string

	// ListenAddr is the host:port the listener is bound to, for links when
	// PublicURL is "". The request's Host header is never trusted for links.
	ListenAddr string
}

// Server serves the API over a pledge.Service.
type Server struct {
	svc         *pledge.Service
	cfg         Config
	log         *slog.Logger
	router      *gin.Engine
	pages       map[string]*template.Template
	crossOrigin *http.CrossOriginProtection
	https       bool   // PublicURL is https
	tileSource  string // CSP source of the tiles
}

// NewServer builds the router. It panics if the embedded templates do not
// parse, which the package's tests catch.
func NewServer(svc *pledge.Service, cfg Config, log *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.VectorTilesAbove == 0 {
		cfg.VectorTilesAbove = DefaultVectorTilesAbove
	}
	if cfg.PledgeRateLimit == 0 {
		cfg.PledgeRateLimit = 10
	}
	if cfg.PledgeRateWindow <= 0 {
		cfg.PledgeRateWindow = 10 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	pages, err := parsePages(assetVersion())
	if err != nil {
		panic("web: templates: " + err.Error())
	}
	s := &Server{svc: svc, cfg: cfg, log: log, router: gin.New(), pages: pages,
		crossOrigin: http.NewCrossOriginProtection(), tileSource: tileSource(cfg.TileURL)}
	s.cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s.https = strings.HasPrefix(s.cfg.PublicURL, "https://")
	if err := s.router.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		panic("web: trusted proxies: " + err.Error())
	}
	s.router.Use(s.recoverPanics, s.logRequests, s.securityHeaders, s.checkOrigin, s.limitBody, s.authenticate)
	s.routes()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) routes() {
	r := s.router
	r.GET("/healthz", s.health)
	r.GET("/livez", s.live)
	api := r.Group("/api")
	api.GET("/areas", s.listAreas)
	api.GET("/areas.geojson", s.areasGeoJSON)
	api.GET("/areas/:code", s.getArea)
	api.GET("/areas/:code/addresses", s.areaAddresses)
	api.GET("/areas/:code/cost", s.areaCost)
	api.GET("/areas/:code/cost/curve", s.areaCostCurve)
	api.GET("/areas/:code/route.geojson", s.areaRoute)
	api.GET("/areas/:code/tender.zip", s.tenderPackage)
	api.GET("/tenders", s.tenders)
	api.POST("/areas/:code/tender", s.openTender)
	api.POST("/areas/:code/award", s.awardTender)
	api.POST("/areas/:code/move-back", s.moveBack)
	api.POST("/areas/:code/built", s.markBuilt)
	api.GET("/areas/:code/bids", s.areaBids)
	api.POST("/areas/:code/bids", s.submitBid)
	api.GET("/bids/:id", s.getBid)
	api.PUT("/bids/:id", s.changeBid)
	api.DELETE("/bids/:id", s.withdrawBid)
	api.GET("/bids/:id/attachment", s.bidAttachment)
	api.GET("/areas/:code/export/pledges.csv", s.exportPledges)
	api.GET("/areas/:code/export/subsidy.csv", s.exportSubsidyCSV)
	api.GET("/areas/:code/export/subsidy.pdf", s.exportSubsidyPDF)
	api.GET("/areas/:code/export/area.geojson", s.exportAreaGeoJSON)
	api.GET("/subsidy-rules", s.subsidyRules)
	api.POST("/subsidy-rules", s.saveSubsidyRules)
	api.GET("/addresses", s.searchAddresses)
	api.GET("/addresses/nearest", s.nearestAddress)
	api.PATCH("/areas/:code", s.updateArea)
	api.GET("/areas/:code/pledges", s.areaPledges)
	api.POST("/areas/:code/pledges", s.enterPledge)
	api.GET("/audit", s.audit)
	api.POST("/invitations", s.createInvitation)
	api.GET("/invitations/:token", s.getInvitation)
	api.POST("/invitations/:token", s.acceptInvitation)
	api.GET("/session", s.currentUser)
	api.POST("/session", s.signIn)
	api.DELETE("/session", s.signOut)
	api.GET("/sessions", s.listSessions)
	api.DELETE("/sessions/:id", s.revokeSession)
	api.GET("/tokens", s.listTokens)
	api.POST("/tokens", s.createToken)
	api.DELETE("/tokens/:id", s.revokeToken)
	api.POST("/password-resets", s.requestReset)
	api.POST("/password-resets/:token", s.resetPassword)
	api.GET("/users", s.listUsers)
	api.PATCH("/users/:id", s.updateUser)
	api.POST("/pledges", s.createPledge)
	api.GET("/pledges/:token", s.getPledge)
	api.DELETE("/pledges/:token", s.withdrawPledge)
	api.GET("/areas/:code/walks", s.getWalks)
	api.POST("/areas/:code/walks", s.postWalks)
	api.GET("/areas/:code/walks.pdf", s.walksPDF)
	api.GET("/areas/:code/walks.csv", s.walksCSV)
	api.GET("/areas/:code/walks/outcomes", s.getOutcomes)
	api.POST("/areas/:code/walks/outcomes", s.postOutcome)
	api.POST("/walks/:id/assign", s.assignWalk)
	api.POST("/walks/:id/return", s.returnWalk)

	// Residents' pages. Form posts go through checkForm (CSRF); see csrf.go.
	r.GET("/", s.home)
	r.GET("/search", s.search)
	r.GET("/address", s.addressPage)
	r.POST("/pledge", s.checkForm, s.postPledge)
	r.GET("/p/:token", s.manage)
	r.GET("/p/:token/receipt", s.receipt)
	r.POST("/p/:token/contact", s.checkForm, s.postContact)
	r.POST("/p/:token/withdraw", s.checkForm, s.postWithdraw)
	r.POST("/p/:token/power-of-attorney", s.checkForm, s.postPowerOfAttorney)
	r.GET("/static/*filepath", s.serveStatic())

	// Accounts. Form posts go through checkForm (CSRF) too.
	r.GET("/login", s.loginPage)
	r.POST("/login", s.checkForm, s.postLogin)
	r.GET("/logout", s.logoutPage)
	r.POST("/logout", s.checkForm, s.postLogout)
	r.GET("/account", s.account)
	r.POST("/account/password", s.checkForm, s.postPassword)
	r.POST("/account/tokens", s.checkForm, s.postCreateToken)
	r.POST("/account/tokens/:id/revoke", s.checkForm, s.postRevokeToken)
	r.POST("/account/sessions/:id/revoke", s.checkForm, s.postRevokeSession)
	r.GET("/invitations/:token", s.invitationPage)
	r.POST("/invitations/:token", s.checkForm, s.postInvitation)
	r.GET("/reset", s.resetRequestPage)
	r.POST("/reset", s.checkForm, s.postResetRequest)
	r.GET("/reset/:token", s.resetPage)
	r.POST("/reset/:token", s.checkForm, s.postReset)
	r.GET("/admin/users", s.adminUsers)
	r.POST("/admin/users/invite", s.checkForm, s.postInvite)
	r.POST("/admin/users/:id", s.checkForm, s.postUpdateUser)
	r.GET("/coordinator/areas/:code/pledges", s.areaPledgesPage)
	r.GET("/coordinator/areas/:code/walks", s.walksPage)
	r.POST("/coordinator/areas/:code/walks", s.checkForm, s.postWalksPage)
	r.POST("/coordinator/areas/:code/walks/outcome", s.checkForm, s.postOutcomePage)
	r.POST("/coordinator/walks/:id/assign", s.checkForm, s.postAssignPage)
	r.POST("/coordinator/walks/:id/return", s.checkForm, s.postReturnPage)
	r.GET("/coordinator/areas/:code", s.areaDashboard)
	r.GET("/coordinator/areas/:code/entry", s.entryPage)
	r.POST("/coordinator/areas/:code/entry", s.checkForm, s.postEntry)
	r.GET("/coordinator/areas/:code/tender", s.coordinatorTenderPage)
	r.POST("/coordinator/areas/:code/tender", s.checkForm, s.postOpenTender)
	r.POST("/coordinator/areas/:code/award", s.checkForm, s.postAward)
	r.POST("/coordinator/areas/:code/built", s.checkForm, s.postBuilt)
	r.GET("/provider", s.providerPage)
	r.GET("/provider/areas/:code", s.providerAreaPage)
	r.POST("/provider/areas/:code/bid", s.checkForm, s.postProviderBid)
	r.POST("/provider/areas/:code/bid/withdraw", s.checkForm, s.postWithdrawBid)
	s.ogcRoutes(r)
	s.tileRoutes(r)
	s.webhookRoutes(r)

	r.NoRoute(s.pageNotFound)
	r.NoMethod(s.methodNotAllowed)
	r.HandleMethodNotAllowed = true
}

// errorStatus is the one table from error codes to HTTP statuses.
var errorStatus = map[string]int{
	pledge.EINVALID:      http.StatusBadRequest,
	pledge.ENOTFOUND:     http.StatusNotFound,
	pledge.ECONFLICT:     http.StatusConflict,
	pledge.EUNAUTHORIZED: http.StatusUnauthorized,
	pledge.EFORBIDDEN:    http.StatusForbidden,
	pledge.EUNAVAILABLE:  http.StatusServiceUnavailable,
	pledge.ETOOMANY:      http.StatusTooManyRequests,
	pledge.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	pledge.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError writes err as JSON. Errors that are not *pledge.Error are
// logged and answered with a generic 500: their text never leaves.
func (s *Server) writeError(c *gin.Context, err error) {
	var pe *pledge.Error
	if errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &pe) {
		s.log.Warn("request timed out", "route", c.FullPath(), "err", err)
		pe = &pledge.Error{Code: pledge.EUNAVAILABLE, Message: "the service is busy; try again"}
	}
	if !errors.As(err, &pe) && pe == nil {
		s.log.Error("request failed", "route", c.FullPath(), "method", c.Request.Method, "err", err)
		pe = &pledge.Error{Code: pledge.EINTERNAL, Message: "internal error"}
	}
	status, ok := errorStatus[pe.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: pe.Code, Message: pe.Message, Field: pe.Field}})
}

// Route is one route of the router: its method and path pattern.
type Route struct{ Method, Path string }

// Routes lists every route, as the authorization matrix test walks them.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.router.Routes() {
		out = append(out, Route{r.Method, r.Path})
	}
	return out
}
