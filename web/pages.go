package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// The residents' pages: server-rendered, with a little script for the map,
// autocomplete and price. Handlers call pledge.Service and render; the
// rules live in the service.

// pageData is what every page template gets; each page uses its part.
type pageData struct {
	L         *Locale
	Title     string
	LangLinks []langLink
	Map       *mapView
	TokenPage bool // a page behind a secret manage link
	CSRF      string

	Query    string
	TooShort bool
	Results  []addressView
	Areas    []areaView

	Address   *addressView
	Area      *areaView
	Closed    string // why the area takes no pledges, or ""
	Full      bool   // every unit at the address has pledged
	Form      formView
	Errors    map[string]*fieldError
	FormError string

	Pledge      *pledgeView
	ManagePath  string
	ManageURL   string
	CanWithdraw bool
	Notice      string
	ErrorText   string
	Account     *accountView // the account pages
	Tender      *tenderPage  // the tender pages
	Dashboard   *dashboardView
	Entry       *entryView
}

type langLink struct {
	Lang, Name, URL string
	Current         bool
}

type mapView struct {
	TileURL, Attribution string
	HasPoint             bool
	Lon, Lat             float64
	VectorTiles          bool   // draw the areas from /tiles/ (see vectorTileMap)
	Bounds               string // min_lon,min_lat,max_lon,max_lat of the public areas
}

type fieldError struct{ ID, Text string }

type unitOption struct {
	Value    int
	Label    string
	Selected bool
}

type formView struct {
	AddressID, Key     string
	Name, Email, Phone string
	Consent            bool
	Units              []unitOption // nil for a single-unit address
}

// areaView is an area's progress in words and bar geometry.
type areaView struct {
	Code, Name, Status, StatusText string
	Units, Pledged                 int
	Label, Summary, Threshold      string
	Deadline, Days                 string
	Fill, Marker                   string // SVG x positions, 0-100
	Band                           string // colour band, as on the map
	Extended                       string // the deadline extension, announced
}

type addressView struct {
	ID, Text, URL          string
	Units, Pledged         int
	UnitsText, PledgedText string
	Lon, Lat               float64
}

type pledgeView struct {
	Unit               int
	Status, StatusText string
	Created            string
	Active             bool
	Name, Email, Phone string
	PowerOfAttorney    bool // on file
}

func svgNumber(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// band is the colour class of a take-up against the threshold: the same
// pledge.TakeUpBand the map's layers carry (take_up_band).
func band(a pledge.Area) string { return "band" + strconv.Itoa(pledge.TakeUpBand(a)) }

func (s *Server) areaView(l *Locale, a pledge.Area) areaView {
	pct := a.TakeUp() * 100
	v := areaView{
		Code: a.Code, Name: a.Name, Status: string(a.Status), StatusText: l.T("status." + string(a.Status)),
		Units: a.Units, Pledged: a.PledgedUnits,
		Label:     l.T("progress.label", a.Name),
		Summary:   l.T("progress.summary", l.Int(a.PledgedUnits), l.Int(a.Units), l.Percent(pct)),
		Threshold: l.T("progress.threshold", l.Percent(a.ThresholdPercent)),
		Fill:      svgNumber(math.Min(100, pct)), Marker: svgNumber(math.Min(100, math.Max(0, a.ThresholdPercent))),
		Band: band(a),
	}
	if a.ThresholdUnits > 0 {
		v.Threshold += ", " + l.T("progress.min_units", l.Int(a.ThresholdUnits))
	}
	if a.Deadline == nil {
		v.Deadline = l.T("progress.no_deadline")
		return v
	}
	v.Deadline = l.T("progress.deadline", l.Date(*a.Deadline))
	if pledge.PledgesOpen(a, s.now()) || a.Status == pledge.StatusCollecting {
		switch d := int(math.Ceil(a.Deadline.Sub(s.now()).Hours() / 24)); {
		case s.now().After(*a.Deadline):
			v.Days = l.T("progress.passed")
		case d <= 1 && a.Deadline.Sub(s.now()) < 24*time.Hour:
			v.Days = l.T("progress.last_day")
		default:
			v.Days = l.N("progress.days", d)
		}
	}
	return v
}

func newAddressView(l *Locale, a pledge.Address) addressView {
	return addressView{
		ID: a.ID, Text: a.Text, URL: "/address?id=" + url.QueryEscape(a.ID),
		Units: a.Units, Pledged: a.PledgedUnits, Lon: a.Point[0], Lat: a.Point[1],
		UnitsText:   l.N("address.units", a.Units),
		PledgedText: l.T("address.pledged_of", l.Int(a.PledgedUnits), l.Int(a.Units)),
	}
}

// locale picks the request's language and remembers a choice made with
// the switch in a cookie.
func (s *Server) locale(c *gin.Context) *Locale {
	lang, fromSwitch := chooseLang(c.Request)
	if fromSwitch {
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
	}
	c.Header("Vary", "Accept-Language, Cookie")
	return newLocale(lang)
}

// newPage starts the data of a page whose language switch links to path
// (with its query), which is the page itself for GET requests.
func (s *Server) newPage(c *gin.Context, l *Locale, target *url.URL) *pageData {
	p := &pageData{L: l, Errors: map[string]*fieldError{}}
	for _, lang := range languages {
		q := target.Query()
		q.Set("lang", lang)
		u := url.URL{Path: target.Path, RawQuery: q.Encode()}
		p.LangLinks = append(p.LangLinks, langLink{Lang: lang, Name: l.T("lang." + lang), URL: u.String(), Current: lang == l.Lang})
	}
	return p
}

func (s *Server) withMap(p *pageData) {
	p.Map = &mapView{TileURL: s.cfg.TileURL, Attribution: s.cfg.TileAttribution}
}

// render writes a page. Rendering into a buffer first means a template
// error becomes a clean 500, not half a page.
func (s *Server) render(c *gin.Context, status int, name string, p *pageData) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("no such page template", "page", name)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name+".html", p); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	s.pageHeaders(c, p.Map != nil)
	if p.TokenPage {
		tokenPageHeaders(c)
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// tokenPageHeaders keep a manage link out of caches, search engines and
// Referer headers: the link is the resident's only key.
func tokenPageHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Robots-Tag", "noindex, nofollow")
}

// pageHeaders are the security headers of every page. The map's tiles are
// the only content from another origin.
func (s *Server) pageHeaders(c *gin.Context, withMap bool) {
	img := "'self' data:"
	if withMap && s.tileSource != "" {
		img += " " + s.tileSource
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src "+img+"; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("X-Frame-Options", "DENY")
	if c.Writer.Header().Get("Referrer-Policy") == "" {
		c.Header("Referrer-Policy", "strict-origin-when-cross-origin")
	}
}

// tileSource is the CSP source of a tile URL template: its scheme and host,
// with a {s} subdomain as a wildcard; "" for a same-origin or empty URL.
func tileSource(tmpl string) string {
	r := strings.NewReplacer("{s}", "tilesubdomain", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "")
	u, err := url.Parse(r.Replace(tmpl))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + strings.Replace(u.Host, "tilesubdomain", "*", 1)
}

var notFound = pledge.Errorf(pledge.ENOTFOUND, "no such page")

// renderError shows a friendly, translated page for err: the status comes
// from the one errorStatus table; only catalogue texts are shown. key, if
// given, names a more specific text than the error code's.
func (s *Server) renderError(c *gin.Context, err error, key ...string) {
	var pe *pledge.Error
	code := pledge.EINTERNAL
	switch {
	case errors.As(err, &pe):
		code = pe.Code
	case errors.Is(err, context.DeadlineExceeded):
		code = pledge.EUNAVAILABLE
	default:
		s.log.Error("page failed", "route", c.FullPath(), "method", c.Request.Method, "err", err)
	}
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	l := s.locale(c)
	p := s.newPage(c, l, &url.URL{Path: "/"})
	p.Title = l.T("error.title")
	p.ErrorText = l.T("err." + code)
	if len(key) > 0 {
		p.ErrorText = l.T(key[0])
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	s.render(c, status, "error", p)
	c.Abort()
}

func (s *Server) home(c *gin.Context) {
	areas, _, err := s.svc.Areas(c.Request.Context())
	if err != nil {
		s.renderError(c, err)
		return
	}
	l := s.locale(c)
	p := s.newPage(c, l, c.Request.URL)
	s.withMap(p)
	if err := s.vectorTileMap(c.Request.Context(), p.Map, publicAddresses(areas)); err != nil {
		s.renderError(c, err)
		return
	}
	exts, err := s.svc.DeadlineExtensions(c.Request.Context())
	if err != nil {
		s.renderError(c, err)
		return
	}
	for _, a := range areas {
		if a.Status == pledge.StatusDraft {
			continue // not public yet
		}
		v := s.areaView(l, a)
		announce(l, &v, exts)
		p.Areas = append(p.Areas, v)
	}
	s.render(c, http.StatusOK, "home", p)
}

// search is the search without script: a list of matching addresses.
func (s *Server) search(c *gin.Context) {
	l := s.locale(c)
	p := s.newPage(c, l, c.Request.URL)
	p.Title = l.T("search.title")
	p.Query = strings.TrimSpace(c.Query("q"))
	if utf8Len(pledge.SearchKey(p.Query)) < 2 {
		p.TooShort = true
		s.render(c, http.StatusOK, "search", p)
		return
	}
	as, err := s.svc.SearchAddresses(c.Request.Context(), p.Query, 20)
	if err != nil {
		s.renderError(c, err)
		return
	}
	for _, a := range as {
		p.Results = append(p.Results, newAddressView(l, a))
	}
	s.render(c, http.StatusOK, "search", p)
}

func utf8Len(s string) int { return len([]rune(s)) }

// addressPage shows an address, its area's progress and the pledge form.
func (s *Server) addressPage(c *gin.Context) {
	l := s.locale(c)
	p, err := s.addressData(c, l, c.Query("id"))
	if err != nil {
		s.renderError(c, err, "err.address_not_found")
		return
	}
	p.Form.Key = newKey()
	s.render(c, http.StatusOK, "address", p)
}

// addressData fills an address page for id, with an empty form.
func (s *Server) addressData(c *gin.Context, l *Locale, id string) (*pageData, error) {
	ctx := c.Request.Context()
	addr, err := s.svc.Address(ctx, id)
	if err != nil {
		return nil, err
	}
	p := s.newPage(c, l, &url.URL{Path: "/address", RawQuery: url.Values{"id": {addr.ID}}.Encode()})
	av := newAddressView(l, addr)
	p.Address, p.Title = &av, addr.Text
	s.withMap(p)
	p.Map.HasPoint, p.Map.Lon, p.Map.Lat = true, addr.Point[0], addr.Point[1]
	areas, _, err := s.svc.Areas(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.vectorTileMap(ctx, p.Map, publicAddresses(areas)); err != nil {
		return nil, err
	}
	p.CSRF = s.csrfToken(c)
	p.Form.AddressID = addr.ID
	if addr.AreaCode == "" {
		return p, nil
	}
	area, err := s.svc.Area(ctx, addr.AreaCode)
	if err != nil {
		return nil, err
	}
	v := s.areaView(l, area)
	exts, err := s.svc.DeadlineExtensions(ctx)
	if err != nil {
		return nil, err
	}
	announce(l, &v, exts)
	p.Area = &v
	switch {
	case !pledge.PledgesOpen(area, s.now()):
		p.Closed = l.T("address.closed", v.StatusText)
		if area.Deadline != nil && s.now().After(*area.Deadline) {
			p.Closed = l.T("address.closed", l.T("progress.passed"))
		}
	case addr.PledgedUnits >= addr.Units:
		p.Full = true
	}
	if addr.Units > 1 {
		p.Form.Units = []unitOption{{Value: 0, Label: l.T("form.unit_any"), Selected: true}}
		for i := 1; i <= addr.Units && i <= 500; i++ {
			p.Form.Units = append(p.Form.Units, unitOption{Value: i, Label: l.T("form.unit_n", i)})
		}
	}
	return p, nil
}

func newKey() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// postPledge takes the pledge form. It answers like the JSON API but in
// pages: errors beside their fields, success as a redirect to the receipt
// (so reloading does not post twice).
func (s *Server) postPledge(c *gin.Context) {
	l := s.locale(c)
	ctx := c.Request.Context()
	f := c.Request.PostForm
	unit, _ := strconv.Atoi(f.Get("unit"))
	// Every attempt counts against the client's limit, as on the API,
	// whatever the form holds.
	req := pledge.PledgeRequest{
		AddressID: f.Get("address_id"), Unit: unit, Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone"),
		Consent: f.Get("consent") != "", Limit: s.pledgeLimit(c),
	}
	// A bot fills every field, a person never sees this one. The bot is
	// told it worked, and nothing is stored (but the attempt counts).
	if f.Get("website") != "" {
		s.log.Info("pledge form: honeypot filled; ignored")
		if req.Limit != nil {
			if _, err := s.svc.Throttle(ctx, *req.Limit); err != nil {
				s.log.Warn("rate limit: counting failed", "err", err)
			}
		}
		p := s.newPage(c, l, &url.URL{Path: "/"})
		p.Title = l.T("thanks.title")
		s.render(c, http.StatusOK, "thanks", p)
		return
	}
	pl, _, err := s.svc.CreatePledge(ctx, req, f.Get("idempotency_key"))
	if err != nil {
		if pledge.ErrorCode(err) == pledge.ETOOMANY {
			setRetryAfter(c, req.Limit)
		}
		s.pledgeFormError(c, l, req, f.Get("idempotency_key"), err)
		return
	}
	if f.Get("power_of_attorney") != "" {
		// A record of its own: should it fail, the pledge stands and the
		// manage page offers the power of attorney again.
		if _, err := s.svc.GivePowerOfAttorney(ctx, pl.Token, pledge.POAForm); err != nil {
			s.log.Warn("power of attorney with a pledge not recorded", "err", pledge.ErrorCode(err))
		}
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, s.publicURL(managePath(pl.Token)+"/receipt"))
}

// postPowerOfAttorney: POST /p/{token}/power-of-attorney, from the manage
// page.
func (s *Server) postPowerOfAttorney(c *gin.Context) {
	l := s.locale(c)
	token := c.Param("token")
	if _, err := s.svc.GivePowerOfAttorney(c.Request.Context(), token, pledge.POAManage); err != nil {
		s.manageError(c, l, token, err, func(*pageData) {})
		return
	}
	tokenPageHeaders(c)
	c.Redirect(http.StatusSeeOther, s.publicURL(managePath(token)+"?saved=1"))
}

// pledgeFormError shows the form again with what was typed and the error
// beside its field, or above the form when it concerns no field.
func (s *Server) pledgeFormError(c *gin.Context, l *Locale, req pledge.PledgeRequest, key string, err error) {
	field, text, ok := formErrorText(l, err)
	if !ok {
		s.renderError(c, err)
		return
	}
	p, perr := s.addressData(c, l, req.AddressID)
	if perr != nil {
		s.renderError(c, err, "err.address_not_found")
		return
	}
	p.Form.Name, p.Form.Email, p.Form.Phone, p.Form.Consent, p.Form.Key = req.Name, req.Email, req.Phone, req.Consent, key
	if p.Form.Key == "" {
		p.Form.Key = newKey()
	}
	for i := range p.Form.Units {
		p.Form.Units[i].Selected = p.Form.Units[i].Value == req.Unit
	}
	p.FormError = l.T("form.errors")
	if field != "" && (field != "unit" || p.Form.Units != nil) {
		p.Errors[field] = &fieldError{ID: field, Text: text}
	} else {
		p.FormError = text
	}
	status := errorStatus[pledge.ErrorCode(err)]
	// The page holds what the resident typed: keep it out of caches.
	c.Header("Cache-Control", "no-store")
	s.render(c, status, "address", p)
}

// formErrorText translates a service error about a form into the field it
// concerns ("" for the whole form) and a text from the catalogue, by the
// error's reason (never its English message). ok is false for errors a
// form cannot fix (internal, unavailable).
func formErrorText(l *Locale, err error) (field, text string, ok bool) {
	var pe *pledge.Error
	if !errors.As(err, &pe) {
		return "", "", false
	}
	if key, found := reasonKeys[pe.Reason]; found {
		field = pe.Field
		if field == "address_id" || field == "Idempotency-Key" {
			field = ""
		}
		return field, l.T(key), true
	}
	switch pe.Code {
	case pledge.EINVALID:
		return pe.Field, l.T("err.field"), true
	case pledge.ECONFLICT:
		return "", l.T("err.closed"), true
	}
	return "", "", false
}

// reasonKeys maps the service's error reasons to catalogue keys: the one
// table from domain errors to what a resident reads. TestReasonKeys fails
// when a reason the pages can meet is missing here.
var reasonKeys = map[string]string{
	pledge.ReasonAddressRequired: "err.address_id.invalid",
	pledge.ReasonAddressUnknown:  "err.address_id.invalid",
	pledge.ReasonAddressOutside:  "err.address_id.invalid",
	pledge.ReasonUnitRange:       "err.unit.range",
	pledge.ReasonUnitTaken:       "err.unit.taken",
	pledge.ReasonNameRequired:    "err.name.required",
	pledge.ReasonNameTooLong:     "err.name.long",
	pledge.ReasonContactRequired: "err.email.required",
	pledge.ReasonEmailInvalid:    "err.email.invalid",
	pledge.ReasonPhoneInvalid:    "err.phone.invalid",
	pledge.ReasonConsentRequired: "err.consent.required",
	pledge.ReasonInvisible:       "err.invisible",
	pledge.ReasonIdempotencyKey:  "err.resubmitted",
	pledge.ReasonKeyReused:       "err.resubmitted",
	pledge.ReasonAreaClosed:      "err.closed",
	pledge.ReasonPledgeBinding:   "err.binding",
	pledge.ReasonPledgeNotFound:  "err.pledge_not_found",
	pledge.ReasonRateLimited:     "err.too_many_requests",
	pledge.ReasonSignInRequired:  "err.sign_in_required",
	pledge.ReasonForbidden:       "err.forbidden",
	pledge.ReasonBadCredentials:  "err.bad_credentials",
	pledge.ReasonWeakPassword:    "err.weak_password",
	pledge.ReasonLinkExpired:     "err.link_expired",
	pledge.ReasonLinkUsed:        "err.link_used",
	pledge.ReasonAccountExists:   "err.account_exists",
	pledge.ReasonWalkTaken:       "err.walk_taken",
	pledge.ReasonTenderState:     "err.tender_state",
	pledge.ReasonBidsClosed:      "err.bids_closed",
	pledge.ReasonNotPDF:          "err.attachment_pdf",
	pledge.ReasonWebhookURL:      "err.webhook_url",
	pledge.ReasonWebhookPrivate:  "err.webhook_private",
	pledge.ReasonWebhookEvents:   "err.webhook_events",
}

// managePath is the path of a pledge's manage page.
func managePath(token string) string { return "/p/" + url.PathEscape(token) }

// pledgeData fills the receipt and manage pages for a token.
func (s *Server) pledgeData(c *gin.Context, l *Locale, token string) (*pageData, pledge.Pledge, error) {
	ctx := c.Request.Context()
	pl, err := s.svc.Pledge(ctx, token)
	if err != nil {
		return nil, pl, err
	}
	addr, err := s.svc.Address(ctx, pl.AddressID)
	if err != nil {
		return nil, pl, err
	}
	area, err := s.svc.Area(ctx, pl.AreaCode)
	if err != nil {
		return nil, pl, err
	}
	// The link shown is built on the configured public URL, never on the
	// request's Host header, which a client (or a man in the middle) sets.
	path := managePath(token)
	p := s.newPage(c, l, &url.URL{Path: path})
	p.TokenPage, p.ManagePath, p.ManageURL = true, path, s.publicURL(path)
	av, arv := newAddressView(l, addr), s.areaView(l, area)
	exts, err := s.svc.DeadlineExtensions(c.Request.Context())
	if err != nil {
		return nil, pl, err
	}
	announce(l, &arv, exts)
	p.Address, p.Area = &av, &arv
	p.Pledge = &pledgeView{
		Unit: pl.Unit, Status: string(pl.Status), StatusText: l.T("pledge." + string(pl.Status)),
		Created: l.Date(pl.CreatedAt), Active: pl.Status == pledge.PledgeActive,
		Name: pl.Name, Email: pl.Email, Phone: pl.Phone,
	}
	p.Form.Name, p.Form.Email, p.Form.Phone = pl.Name, pl.Email, pl.Phone
	if p.Pledge.PowerOfAttorney, err = s.svc.HasPowerOfAttorney(c.Request.Context(), token); err != nil {
		return nil, pl, err
	}
	p.CanWithdraw = pledge.Withdrawable(area)
	p.CSRF = s.csrfToken(c)
	return p, pl, nil
}

func (s *Server) receipt(c *gin.Context) {
	l := s.locale(c)
	p, _, err := s.pledgeData(c, l, c.Param("token"))
	if err != nil {
		tokenPageHeaders(c)
		s.renderError(c, err, "err.pledge_not_found")
		return
	}
	p.Title = l.T("receipt.title")
	s.render(c, http.StatusOK, "receipt", p)
}

func (s *Server) manage(c *gin.Context) {
	l := s.locale(c)
	p, _, err := s.pledgeData(c, l, c.Param("token"))
	if err != nil {
		tokenPageHeaders(c)
		s.renderError(c, err, "err.pledge_not_found")
		return
	}
	p.Title = l.T("manage.title")
	if c.Query("saved") != "" && p.Pledge.Active {
		p.Notice = l.T("manage.saved")
	}
	s.render(c, http.StatusOK, "manage", p)
}

func (s *Server) postContact(c *gin.Context) {
	l := s.locale(c)
	token := c.Param("token")
	f := c.Request.PostForm
	_, err := s.svc.UpdatePledgeContact(c.Request.Context(), token, f.Get("name"), f.Get("email"), f.Get("phone"))
	if err == nil {
		tokenPageHeaders(c)
		c.Redirect(http.StatusSeeOther, s.publicURL(managePath(token)+"?saved=1"))
		return
	}
	s.manageError(c, l, token, err, func(p *pageData) {
		p.Form.Name, p.Form.Email, p.Form.Phone = f.Get("name"), f.Get("email"), f.Get("phone")
	})
}

func (s *Server) postWithdraw(c *gin.Context) {
	l := s.locale(c)
	token := c.Param("token")
	if _, err := s.svc.WithdrawPledge(c.Request.Context(), token); err != nil {
		s.manageError(c, l, token, err, nil)
		return
	}
	tokenPageHeaders(c)
	c.Redirect(http.StatusSeeOther, s.publicURL(managePath(token)))
}

// manageError shows the manage page again with err beside its field.
func (s *Server) manageError(c *gin.Context, l *Locale, token string, err error, keep func(*pageData)) {
	field, text, ok := formErrorText(l, err)
	if !ok || pledge.ErrorCode(err) == pledge.ENOTFOUND {
		tokenPageHeaders(c)
		s.renderError(c, err, "err.pledge_not_found")
		return
	}
	p, _, perr := s.pledgeData(c, l, token)
	if perr != nil {
		tokenPageHeaders(c)
		s.renderError(c, perr, "err.pledge_not_found")
		return
	}
	p.Title = l.T("manage.title")
	if keep != nil {
		keep(p)
	}
	if field != "" {
		p.Errors[field] = &fieldError{ID: field, Text: text}
		p.FormError = l.T("manage.not_saved")
	} else {
		p.FormError = text
	}
	s.render(c, errorStatus[pledge.ErrorCode(err)], "manage", p)
}

// pageNotFound answers unknown paths: JSON under /api/, a page elsewhere.
func (s *Server) pageNotFound(c *gin.Context) {
	if jsonPath(c.Request.URL.Path) {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "no such page"))
		return
	}
	s.renderError(c, notFound)
}

func (s *Server) methodNotAllowed(c *gin.Context) {
	if jsonPath(c.Request.URL.Path) {
		c.JSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
		return
	}
	l := s.locale(c)
	p := s.newPage(c, l, &url.URL{Path: "/"})
	p.Title, p.ErrorText = l.T("error.title"), l.T("err.method_not_allowed")
	s.render(c, http.StatusMethodNotAllowed, "error", p)
}

// announce puts an area's deadline extension on its public view: "the
// deadline is extended from 1 February to 1 March 2027", while the area
// still collects pledges.
func announce(l *Locale, v *areaView, exts map[string]pledge.DeadlineExtension) {
	e, ok := exts[v.Code]
	if !ok || v.Status != string(pledge.StatusCollecting) && v.Status != string(pledge.StatusThresholdReached) {
		return
	}
	v.Extended = l.T("progress.extended", l.Date(e.From), l.Date(e.To))
}
