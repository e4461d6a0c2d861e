package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// Authentication: handlers find out who is asking and put the user in
// the request's context; pledge.Service decides what they may do. A
// request proves who it is by a session cookie (pages and the browser's
// API calls) or an "Authorization: Bearer" API token (scripts).
//
// The session cookie is HttpOnly, SameSite=Lax, and Secure with the
// __Host- prefix on an https public URL. Cookie-authenticated changes are
// safe from cross-site forgery because every unsafe request passes
// checkOrigin (CrossOriginProtection), API bodies must be
// application/json (no cross-site form can send that without a preflight
// this server never grants), and forms carry signed CSRF tokens.

const (
	sessionCookieName = "kommunity_session"
	tokenFailWindow   = 10 * time.Minute
	tokenFailMax      = 30
)

func (s *Server) sessionCookie() string {
	if s.https {
		return "__Host-" + sessionCookieName
	}
	return sessionCookieName
}

// authenticate is the middleware that puts the signed-in user, if any, in
// the request's context. A bad bearer token is a 401 at once (a script
// should hear that its token is wrong, not get the public view); a
// session cookie that no longer works is dropped and the request goes on
// anonymously. Failed bearer tokens count against the client's limit.
func (s *Server) authenticate(c *gin.Context) {
	ctx := c.Request.Context()
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			c.Header("WWW-Authenticate", `Bearer realm="kommunity"`)
			s.writeError(c, pledge.Errorf(pledge.EUNAUTHORIZED, "send an API token as Authorization: Bearer TOKEN"))
			return
		}
		u, err := s.svc.AuthenticateToken(ctx, strings.TrimSpace(tok))
		if err != nil {
			if pledge.ErrorCode(err) == pledge.EUNAUTHORIZED {
				if !s.throttle(c, s.limit(c, "token", tokenFailMax, tokenFailWindow)) {
					return
				}
				c.Header("WWW-Authenticate", `Bearer realm="kommunity", error="invalid_token"`)
			}
			s.writeError(c, err)
			return
		}
		c.Request = c.Request.WithContext(pledge.WithUser(ctx, u))
		c.Next()
		return
	}
	if ck, err := c.Request.Cookie(s.sessionCookie()); err == nil && ck.Value != "" {
		u, err := s.svc.Authenticate(ctx, ck.Value)
		switch {
		case err == nil:
			c.Request = c.Request.WithContext(pledge.WithUser(ctx, u))
		case pledge.ErrorCode(err) == pledge.EUNAUTHORIZED:
			s.clearSessionCookie(c)
		default:
			s.writeError(c, err)
			return
		}
	}
	c.Next()
}

func (s *Server) setSessionCookie(c *gin.Context, secret string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.sessionCookie(), Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.https || c.Request.TLS != nil})
}

func (s *Server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.https || c.Request.TLS != nil})
}

// sessionSecret is the browser's session cookie value, or "".
func (s *Server) sessionSecret(c *gin.Context) string {
	if ck, err := c.Request.Cookie(s.sessionCookie()); err == nil {
		return ck.Value
	}
	return ""
}

// UserJSON is a user as the API shows them.
type UserJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Areas     []string  `json:"areas"`
	Provider  string    `json:"provider,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func newUserJSON(u pledge.User) UserJSON {
	areas := u.Areas
	if areas == nil {
		areas = []string{}
	}
	return UserJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Areas: areas, Provider: u.Provider,
		Active: u.Active, CreatedAt: u.CreatedAt}
}

type inviteInput struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Areas    []string `json:"areas"`
	Provider string   `json:"provider"`
}

// createInvitation: POST /api/invitations (admins).
func (s *Server) createInvitation(c *gin.Context) {
	var in inviteInput
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	inv, link, err := s.svc.Invite(c.Request.Context(), pledge.InviteRequest{Email: in.Email, Name: in.Name,
		Role: pledge.Role(in.Role), Areas: in.Areas, Provider: in.Provider})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"invitation_url": link, "email": inv.Email, "role": inv.Role, "expires_at": inv.ExpiresAt})
}

// getInvitation: GET /api/invitations/{token}, what an invitation is for.
func (s *Server) getInvitation(c *gin.Context) {
	inv, err := s.svc.Invitation(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"email": inv.Email, "name": inv.Name, "role": inv.Role, "areas": nonNil(inv.Areas),
		"provider": inv.Provider, "expires_at": inv.ExpiresAt})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// acceptInvitation: POST /api/invitations/{token} {"password","name"}.
func (s *Server) acceptInvitation(c *gin.Context) {
	var in struct {
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	u, err := s.svc.AcceptInvitation(c.Request.Context(), c.Param("token"), in.Password, in.Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, newUserJSON(u))
}

// signIn: POST /api/session {"email","password"}: 200 with the user and a
// new session cookie.
func (s *Server) signIn(c *gin.Context) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	secret, u, err := s.svc.SignIn(c.Request.Context(), pledge.SignInRequest{Email: in.Email, Password: in.Password,
		Client: clientID(c), Replaces: s.sessionSecret(c)})
	if err != nil {
		if pledge.ErrorCode(err) == pledge.ETOOMANY {
			c.Header("Retry-After", strconv.Itoa(int((15 * time.Minute).Seconds())))
		}
		s.writeError(c, err)
		return
	}
	s.setSessionCookie(c, secret)
	c.JSON(http.StatusOK, newUserJSON(u))
}

// signOut: DELETE /api/session: 204, the session ended.
func (s *Server) signOut(c *gin.Context) {
	if err := s.svc.SignOut(c.Request.Context(), s.sessionSecret(c)); err != nil {
		s.writeError(c, err)
		return
	}
	s.clearSessionCookie(c)
	c.Status(http.StatusNoContent)
}

// currentUser: GET /api/session, who is signed in (401 when nobody).
func (s *Server) currentUser(c *gin.Context) {
	u := pledge.UserFrom(c.Request.Context())
	if u == nil {
		s.writeError(c, &pledge.Error{Code: pledge.EUNAUTHORIZED, Reason: pledge.ReasonSignInRequired, Message: "nobody is signed in"})
		return
	}
	c.JSON(http.StatusOK, newUserJSON(*u))
}

type sessionJSON struct {
	ID         int64     `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

// listSessions: GET /api/sessions, the signed-in user's sessions.
func (s *Server) listSessions(c *gin.Context) {
	ss, err := s.svc.MySessions(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	cur := pledge.UserFrom(c.Request.Context()).SessionID
	out := make([]sessionJSON, len(ss))
	for i, x := range ss {
		out[i] = sessionJSON{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, Current: x.ID == cur}
	}
	c.JSON(http.StatusOK, gin.H{"sessions": out})
}

// idParam reads a numeric path parameter; a bad one is a 404.
func idParam(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, pledge.Errorf(pledge.ENOTFOUND, "no such %s", name)
	}
	return id, nil
}

// revokeSession: DELETE /api/sessions/{id}.
func (s *Server) revokeSession(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.RevokeMySession(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Token      string     `json:"token,omitempty"` // only in the answer that creates it
}

func newTokenJSON(t pledge.APIToken) tokenJSON {
	scopes := make([]string, len(t.Scopes))
	for i, sc := range t.Scopes {
		scopes[i] = string(sc)
	}
	return tokenJSON{ID: t.ID, Name: t.Name, Scopes: scopes, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

// createToken: POST /api/tokens {"name","scopes"}: 201 with the token,
// shown this once.
func (s *Server) createToken(c *gin.Context) {
	var in struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	scopes := make([]pledge.Scope, len(in.Scopes))
	for i, sc := range in.Scopes {
		scopes[i] = pledge.Scope(sc)
	}
	secret, t, err := s.svc.CreateAPIToken(c.Request.Context(), "", in.Name, scopes)
	if err != nil {
		s.writeError(c, err)
		return
	}
	j := newTokenJSON(t)
	j.Token = secret
	c.JSON(http.StatusCreated, j)
}

// listTokens: GET /api/tokens, the signed-in user's tokens, no secrets.
func (s *Server) listTokens(c *gin.Context) {
	ts, err := s.svc.MyAPITokens(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]tokenJSON, len(ts))
	for i, t := range ts {
		out[i] = newTokenJSON(t)
	}
	c.JSON(http.StatusOK, gin.H{"tokens": out})
}

// revokeToken: DELETE /api/tokens/{id}.
func (s *Server) revokeToken(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.RevokeAPIToken(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// requestReset: POST /api/password-resets {"email"}: 202 whether or not
// the address has an account.
func (s *Server) requestReset(c *gin.Context) {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	// With mail off the link is for the CLI only: never shown to whoever
	// asked, who need not own the address.
	if _, err := s.svc.RequestPasswordReset(c.Request.Context(), in.Email, clientID(c)); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "if the address has an account, a link is on its way"})
}

// resetPassword: POST /api/password-resets/{token} {"password"}: 204.
func (s *Server) resetPassword(c *gin.Context) {
	var in struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.svc.ResetPassword(c.Request.Context(), c.Param("token"), in.Password); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// listUsers: GET /api/users (admins).
func (s *Server) listUsers(c *gin.Context) {
	us, err := s.svc.Users(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]UserJSON, len(us))
	for i, u := range us {
		out[i] = newUserJSON(u)
	}
	c.JSON(http.StatusOK, gin.H{"users": out})
}

// updateUser: PATCH /api/users/{id} {"name","role","areas","provider","active"}
// (admins); absent fields stay.
func (s *Server) updateUser(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	var in struct {
		Name     *string   `json:"name"`
		Role     *string   `json:"role"`
		Areas    *[]string `json:"areas"`
		Provider *string   `json:"provider"`
		Active   *bool     `json:"active"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	ch := pledge.UserChange{Name: in.Name, Areas: in.Areas, Provider: in.Provider, Active: in.Active}
	if in.Role != nil {
		r := pledge.Role(*in.Role)
		ch.Role = &r
	}
	u, err := s.svc.UpdateUser(c.Request.Context(), id, ch)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newUserJSON(u))
}

// PledgeContactJSON is a pledge with contact details, for the area's
// coordinators and admins only.
type PledgeContactJSON struct {
	ID        int64     `json:"id"`
	AddressID string    `json:"address_id"`
	Address   string    `json:"address_text"`
	Unit      int       `json:"unit"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Confirmed bool      `json:"confirmed"` // false while waiting for the resident's confirmation link
}

// areaPledges: GET /api/areas/{code}/pledges; every call is audited.
func (s *Server) areaPledges(c *gin.Context) {
	ps, err := s.svc.AreaPledges(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	texts, err := s.addressTexts(c, c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]PledgeContactJSON, len(ps))
	for i, p := range ps {
		out[i] = PledgeContactJSON{ID: p.ID, AddressID: p.AddressID, Address: texts[p.AddressID], Unit: p.Unit, Name: p.Name, Email: p.Email, Phone: p.Phone,
			Status: string(p.Status), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Confirmed: !p.Unconfirmed}
	}
	c.JSON(http.StatusOK, gin.H{"pledges": out})
}

type auditJSON struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	AreaCode string    `json:"area_code,omitempty"`
	Target   string    `json:"target"`
	Old      any       `json:"old"`
	New      any       `json:"new"`
}

// rawOrNull is a stored JSON value as JSON, or null.
func rawOrNull(s string) any {
	if s == "" {
		return nil
	}
	return rawJSON(s)
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// audit: GET /api/audit?area=CODE[&limit=N].
func (s *Server) audit(c *gin.Context) {
	limit, _ := strconv.Atoi(c.Query("limit"))
	es, err := s.svc.Audit(c.Request.Context(), c.Query("area"), limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]auditJSON, len(es))
	for i, e := range es {
		out[i] = auditJSON{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, AreaCode: e.AreaCode, Target: e.Target,
			Old: rawOrNull(e.Old), New: rawOrNull(e.New)}
	}
	c.JSON(http.StatusOK, gin.H{"entries": out})
}

// updateArea: PATCH /api/areas/{code} {"threshold_percent",
// "threshold_units","deadline":"YYYY-MM-DD"|null,"status","confirm_days"}: coordinators
// of the area and admins.
func (s *Server) updateArea(c *gin.Context) {
	var in struct {
		ThresholdPercent *float64 `json:"threshold_percent"`
		ThresholdUnits   *int     `json:"threshold_units"`
		Deadline         *string  `json:"deadline"`
		ClearDeadline    bool     `json:"clear_deadline"`
		Status           *string  `json:"status"`
		ConfirmDays      *int     `json:"confirm_days"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	set := pledge.AreaSettings{ThresholdPercent: in.ThresholdPercent, ThresholdUnits: in.ThresholdUnits, ClearDeadline: in.ClearDeadline,
		ConfirmDays: in.ConfirmDays}
	if in.Deadline != nil {
		d, err := time.Parse("2006-01-02", *in.Deadline)
		if err != nil {
			s.writeError(c, pledge.FieldError("deadline", "want a date as YYYY-MM-DD"))
			return
		}
		end := pledge.DeadlineOn(d)
		set.Deadline = &end
	}
	if in.Status != nil {
		st := pledge.AreaStatus(*in.Status)
		set.Status = &st
	}
	a, err := s.svc.UpdateAreaSettings(c.Request.Context(), c.Param("code"), set)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewAreaJSON(a, s.now()))
}
