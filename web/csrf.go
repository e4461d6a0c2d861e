package web

import (
	"crypto/subtle"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// CSRF protection of the pages' forms, in two layers that need no server
// state (so any instance can check a form another rendered):
//
//  1. net/http's CrossOriginProtection refuses unsafe requests that the
//     browser marks as coming from another site (Sec-Fetch-Site, Origin).
//  2. A double-submit token: a random value in an HttpOnly, SameSite=Lax
//     cookie and the same value in a hidden field of each form; a post must
//     carry both, equal. A foreign site can neither read the cookie nor set
//     the field to match it.
//
// The JSON API reads no cookies and grants nothing by them, so a forged
// cross-site request gains nothing there; it is not checked, and clients
// such as scripts and apps need no token.

const (
	csrfCookie = "kommunity_csrf"
	csrfField  = "csrf_token"
)

// csrfToken returns the browser's token, setting a new one if it has none.
func (s *Server) csrfToken(c *gin.Context) string {
	if ck, err := c.Request.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return ck.Value
	}
	if v := c.GetString(csrfCookie); v != "" {
		return v // set earlier in this request
	}
	v := newKey() + newKey()
	c.Set(csrfCookie, v)
	http.SetCookie(c.Writer, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
	return v
}

// checkForm is the middleware of every form post: it parses the (size
// limited) form and refuses a post without a matching CSRF token.
func (s *Server) checkForm(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.renderError(c, pledge.Errorf(pledge.EINVALID, "bad form"))
		return
	}
	ok := s.crossOrigin.Check(c.Request) == nil
	if ok {
		ck, err := c.Request.Cookie(csrfCookie)
		field := c.Request.PostForm.Get(csrfField)
		ok = err == nil && field != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(field)) == 1
	}
	if !ok {
		s.log.Info("form refused: CSRF check failed", "route", c.FullPath())
		s.renderError(c, pledge.Errorf(pledge.EFORBIDDEN, "csrf"), "err.csrf")
		return
	}
	c.Next()
}
