package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// The account pages: sign in and out, accept an invitation, reset a
// password, one's own account (sessions, API tokens, password), the
// admins' user list, and a coordinator's list of an area's pledges. They
// are plain forms (each with a signed CSRF token), usable on a phone and
// with the keyboard alone; what a user may see or do is decided by
// pledge.Service, as for the API.

// accountView is what the account pages show.
type accountView struct {
	User        *pledge.User
	Next        string // where sign-in goes afterwards
	Email       string
	Invitation  *pledge.Invitation
	Secret      string // the invitation or reset secret in the page's URL
	Sessions    []sessionRow
	Tokens      []tokenRow
	NewToken    string // shown once, right after it was made
	Users       []userRow
	InviteLink  string // shown to the admin when no e-mail is sent
	Roles       []pledge.Role
	Scopes      []pledge.Scope
	Area        *pledge.Area
	Pledges     []pledgeRow
	Coordinates []string
	IsAdmin     bool
	Walks       *walksView // the walk-list page
	Hooks       *hooksView // /provider/webhooks
	Challenges  []challengeView
}

type sessionRow struct {
	ID                int64
	Created, LastSeen string
	Current           bool
}

type tokenRow struct {
	ID                int64
	Name, Scopes      string
	Created, LastUsed string
	Revoked           bool
}

type userRow struct {
	pledge.User
	AreasText string
	Self      bool
}

type pledgeRow struct {
	pledge.Pledge
	Address    string // the address text, which a volunteer can find
	Created    string
	StatusText string
	Source     string // online, paper, phone or door
}

// accountPage starts an account page: never cached, never sent as a
// Referer (some hold secrets in their URL).
func (s *Server) accountPage(c *gin.Context, titleKey string) (*pageData, *Locale) {
	l := s.locale(c)
	p := s.newPage(c, l, &url.URL{Path: c.Request.URL.Path})
	p.Title = l.T(titleKey)
	p.TokenPage = true // no-store, no-referrer, noindex
	p.CSRF = s.csrfToken(c)
	p.Account = &accountView{User: pledge.UserFrom(c.Request.Context()), Roles: pledge.Roles, Scopes: pledge.Scopes}
	return p, l
}

// requireUser sends an anonymous browser to the sign-in page and reports
// whether the request may go on.
func (s *Server) requireUser(c *gin.Context) bool {
	if pledge.UserFrom(c.Request.Context()) != nil {
		return true
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, s.publicURL("/login?next="+url.QueryEscape(c.Request.URL.RequestURI())))
	c.Abort()
	return false
}

// safeNext keeps a post-sign-in target on this site: a path, never
// "//host" or a URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/account"
	}
	return next
}

// formFail shows page again with err above the form or beside its field.
func (s *Server) formFail(c *gin.Context, l *Locale, p *pageData, page string, err error) {
	field, text, ok := formErrorText(l, err)
	if !ok {
		s.renderError(c, err)
		return
	}
	p.FormError = text
	if field != "" {
		p.Errors[field] = &fieldError{ID: field, Text: text}
	}
	if pledge.ErrorCode(err) == pledge.ETOOMANY {
		c.Header("Retry-After", strconv.Itoa(int((15 * time.Minute).Seconds())))
	}
	status := errorStatus[pledge.ErrorCode(err)]
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.render(c, status, page, p)
}

func (s *Server) loginPage(c *gin.Context) {
	p, l := s.accountPage(c, "login.title")
	p.Account.Next = safeNext(c.Query("next"))
	switch {
	case c.Query("invited") != "":
		p.Notice = l.T("login.invited")
	case c.Query("reset") != "":
		p.Notice = l.T("login.reset_done")
	case c.Query("signed_out") != "":
		p.Notice = l.T("login.signed_out")
	}
	s.render(c, http.StatusOK, "login", p)
}

func (s *Server) postLogin(c *gin.Context) {
	p, l := s.accountPage(c, "login.title")
	f := c.Request.PostForm
	p.Account.Next, p.Account.Email = safeNext(f.Get("next")), f.Get("email")
	secret, _, err := s.svc.SignIn(c.Request.Context(), pledge.SignInRequest{Email: f.Get("email"), Password: f.Get("password"),
		Client: clientID(c), Replaces: s.sessionSecret(c)})
	if err != nil {
		s.formFail(c, l, p, "login", err)
		return
	}
	s.setSessionCookie(c, secret)
	c.Redirect(http.StatusSeeOther, s.publicURL(p.Account.Next))
}

func (s *Server) logoutPage(c *gin.Context) {
	p, _ := s.accountPage(c, "logout.title")
	s.render(c, http.StatusOK, "logout", p)
}

func (s *Server) postLogout(c *gin.Context) {
	if err := s.svc.SignOut(c.Request.Context(), s.sessionSecret(c)); err != nil {
		s.renderError(c, err)
		return
	}
	s.clearSessionCookie(c)
	c.Redirect(http.StatusSeeOther, s.publicURL("/login?signed_out=1"))
}

// accountData fills the account page's lists.
func (s *Server) accountData(c *gin.Context, p *pageData, l *Locale) error {
	ctx := c.Request.Context()
	u := p.Account.User
	ss, err := s.svc.MySessions(ctx)
	if err != nil {
		return err
	}
	for _, x := range ss {
		p.Account.Sessions = append(p.Account.Sessions, sessionRow{ID: x.ID, Created: l.DateTime(x.CreatedAt),
			LastSeen: l.DateTime(x.LastSeenAt), Current: x.ID == u.SessionID})
	}
	ts, err := s.svc.MyAPITokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		row := tokenRow{ID: t.ID, Name: t.Name, Created: l.DateTime(t.CreatedAt), Revoked: t.RevokedAt != nil, LastUsed: "–"}
		sc := make([]string, len(t.Scopes))
		for i, x := range t.Scopes {
			sc[i] = string(x)
		}
		row.Scopes = strings.Join(sc, ", ")
		if t.LastUsedAt != nil {
			row.LastUsed = l.DateTime(*t.LastUsedAt)
		}
		p.Account.Tokens = append(p.Account.Tokens, row)
	}
	p.Account.Coordinates = u.Areas
	p.Account.IsAdmin = u.Role == pledge.RoleAdmin
	return nil
}

func (s *Server) account(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "account.title")
	if c.Query("saved") != "" {
		p.Notice = l.T("account.saved")
	}
	if err := s.accountData(c, p, l); err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusOK, "account", p)
}

// accountFail shows the account page with an error.
func (s *Server) accountFail(c *gin.Context, p *pageData, l *Locale, err error) {
	if derr := s.accountData(c, p, l); derr != nil {
		s.renderError(c, derr)
		return
	}
	s.formFail(c, l, p, "account", err)
}

func (s *Server) postRevokeSession(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.RevokeMySession(c.Request.Context(), id)
	}
	if err != nil {
		p, l := s.accountPage(c, "account.title")
		s.accountFail(c, p, l, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/account?saved=1"))
}

func (s *Server) postCreateToken(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "account.title")
	f := c.Request.PostForm
	var scopes []pledge.Scope
	for _, sc := range f["scope"] {
		scopes = append(scopes, pledge.Scope(sc))
	}
	secret, _, err := s.svc.CreateAPIToken(c.Request.Context(), "", f.Get("name"), scopes)
	if err != nil {
		s.accountFail(c, p, l, err)
		return
	}
	// Shown on this answer only; the store keeps its hash.
	p.Account.NewToken = secret
	if err := s.accountData(c, p, l); err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusCreated, "account", p)
}

func (s *Server) postRevokeToken(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.RevokeAPIToken(c.Request.Context(), id)
	}
	if err != nil {
		p, l := s.accountPage(c, "account.title")
		s.accountFail(c, p, l, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/account?saved=1"))
}

func (s *Server) postPassword(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	f := c.Request.PostForm
	if err := s.svc.ChangePassword(c.Request.Context(), f.Get("current_password"), f.Get("password")); err != nil {
		p, l := s.accountPage(c, "account.title")
		s.accountFail(c, p, l, err)
		return
	}
	// Every session ended with the change: sign in again.
	s.clearSessionCookie(c)
	c.Redirect(http.StatusSeeOther, s.publicURL("/login?reset=1"))
}

func (s *Server) invitationPage(c *gin.Context) {
	p, l := s.accountPage(c, "invite.title")
	inv, err := s.svc.Invitation(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.renderError(c, err, reasonKeyOr(err, "err.link_expired"))
		return
	}
	_ = l
	p.Account.Invitation, p.Account.Secret = &inv, c.Param("token")
	p.Form.Name = inv.Name
	s.render(c, http.StatusOK, "invitation", p)
}

// reasonKeyOr is the catalogue key of err's reason, or def.
// renderReason is renderError with the text of err's reason, or of its
// code when the reason has none.
func (s *Server) renderReason(c *gin.Context, err error) {
	s.renderError(c, err, reasonKeyOr(err, "err."+pledge.ErrorCode(err)))
}

func reasonKeyOr(err error, def string) string {
	if k, ok := reasonKeys[pledge.ErrorReason(err)]; ok {
		return k
	}
	return def
}

func (s *Server) postInvitation(c *gin.Context) {
	p, l := s.accountPage(c, "invite.title")
	secret := c.Param("token")
	f := c.Request.PostForm
	inv, err := s.svc.Invitation(c.Request.Context(), secret)
	if err != nil {
		s.renderError(c, err, reasonKeyOr(err, "err.link_expired"))
		return
	}
	p.Account.Invitation, p.Account.Secret = &inv, secret
	p.Form.Name = f.Get("name")
	if f.Get("password") != f.Get("password2") {
		s.formFail(c, l, p, "invitation", pledge.Invalid("password2", pledge.ReasonWeakPassword, "the passwords differ"))
		return
	}
	if _, err := s.svc.AcceptInvitation(c.Request.Context(), secret, f.Get("password"), f.Get("name")); err != nil {
		s.formFail(c, l, p, "invitation", err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/login?invited=1"))
}

func (s *Server) resetRequestPage(c *gin.Context) {
	p, _ := s.accountPage(c, "reset.title")
	s.render(c, http.StatusOK, "reset_request", p)
}

func (s *Server) postResetRequest(c *gin.Context) {
	p, l := s.accountPage(c, "reset.title")
	// The same answer whether or not the address has an account; without
	// a mail server the link is made but only the CLI can print one.
	if _, err := s.svc.RequestPasswordReset(c.Request.Context(), c.Request.PostForm.Get("email"), clientID(c)); err != nil {
		s.formFail(c, l, p, "reset_request", err)
		return
	}
	p.Notice = l.T("reset.sent")
	s.render(c, http.StatusOK, "reset_request", p)
}

func (s *Server) resetPage(c *gin.Context) {
	p, _ := s.accountPage(c, "reset.title")
	p.Account.Secret = c.Param("token")
	s.render(c, http.StatusOK, "reset", p)
}

func (s *Server) postReset(c *gin.Context) {
	p, l := s.accountPage(c, "reset.title")
	p.Account.Secret = c.Param("token")
	f := c.Request.PostForm
	if f.Get("password") != f.Get("password2") {
		s.formFail(c, l, p, "reset", pledge.Invalid("password2", pledge.ReasonWeakPassword, "the passwords differ"))
		return
	}
	if err := s.svc.ResetPassword(c.Request.Context(), p.Account.Secret, f.Get("password")); err != nil {
		s.formFail(c, l, p, "reset", err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/login?reset=1"))
}

// usersData fills the admins' user list.
func (s *Server) usersData(c *gin.Context, p *pageData) error {
	us, err := s.svc.Users(c.Request.Context())
	if err != nil {
		return err
	}
	me := p.Account.User
	for _, u := range us {
		p.Account.Users = append(p.Account.Users, userRow{User: u, AreasText: strings.Join(u.Areas, ", "), Self: me != nil && me.ID == u.ID})
	}
	return nil
}

func (s *Server) adminUsers(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "admin.users.title")
	if c.Query("saved") != "" {
		p.Notice = l.T("account.saved")
	}
	if err := s.usersData(c, p); err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin_users", p)
}

// splitList reads "A, B C" as [A B C].
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
}

func (s *Server) postInvite(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "admin.users.title")
	f := c.Request.PostForm
	_, link, err := s.svc.Invite(c.Request.Context(), pledge.InviteRequest{Email: f.Get("email"), Name: f.Get("name"),
		Role: pledge.Role(f.Get("role")), Areas: splitList(f.Get("areas")), Provider: f.Get("provider")})
	if uerr := s.usersData(c, p); uerr != nil && err == nil {
		err = uerr
	}
	if err != nil {
		p.Form.Name, p.Form.Email = f.Get("name"), f.Get("email")
		s.formFail(c, l, p, "admin_users", err)
		return
	}
	p.Account.InviteLink = link
	p.Notice = l.T("admin.users.invited", f.Get("email"))
	s.render(c, http.StatusCreated, "admin_users", p)
}

func (s *Server) postUpdateUser(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	id, err := idParam(c, "id")
	f := c.Request.PostForm
	if err == nil {
		role, areas, provider, active := pledge.Role(f.Get("role")), splitList(f.Get("areas")), f.Get("provider"), f.Get("active") != ""
		_, err = s.svc.UpdateUser(c.Request.Context(), id, pledge.UserChange{Role: &role, Areas: &areas, Provider: &provider, Active: &active})
	}
	if err != nil {
		p, l := s.accountPage(c, "admin.users.title")
		if uerr := s.usersData(c, p); uerr != nil {
			s.renderError(c, uerr)
			return
		}
		s.formFail(c, l, p, "admin_users", err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/admin/users?saved=1"))
}

// areaPledgesPage lists an area's pledges with contact details, for its
// coordinators and admins; each view is in the audit log.
func (s *Server) areaPledgesPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	code := c.Param("code")
	ps, err := s.svc.AreaPledges(ctx, code)
	if err != nil {
		s.renderReason(c, err)
		return
	}
	p, l := s.accountPage(c, "pledges.title")
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		s.renderError(c, err)
		return
	}
	p.Account.Area = &a
	texts, err := s.addressTexts(c, code)
	if err != nil {
		s.renderError(c, err)
		return
	}
	for _, x := range ps {
		p.Account.Pledges = append(p.Account.Pledges, pledgeRow{Pledge: x, Address: texts[x.AddressID], Created: l.Date(x.CreatedAt),
			StatusText: l.T("pledge." + string(x.Status))})
	}
	s.render(c, http.StatusOK, "area_pledges", p)
}

// addressTexts maps an area's address ids to their texts.
func (s *Server) addressTexts(c *gin.Context, code string) (map[string]string, error) {
	as, err := s.svc.AreaAddresses(c.Request.Context(), code, nil, 0)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.ID] = a.Text
	}
	return m, nil
}
