package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// CSRF protection of the pages' forms, in two layers that need no session
// state (so any instance can check a form another rendered):
//
//  1. net/http's CrossOriginProtection (checkOrigin, on every route)
//     refuses unsafe requests that the browser marks as coming from
//     another site (Sec-Fetch-Site, Origin).
//  2. A signed double-submit token: the server issues a random nonce with
//     its HMAC under a secret that every instance shares (kept in the
//     store), in an HttpOnly, SameSite=Lax cookie and in a hidden field of
//     each form. A post must carry both, equal, and the signature must be
//     the server's: a token an attacker planted in a cookie (from a
//     sibling subdomain, say) is refused, because they cannot sign it.
//     With an https public URL the cookie is Secure and named with the
//     __Host- prefix, which browsers only accept from the host itself.
//
// The JSON API reads no cookies and grants nothing by them; it is guarded
// by CrossOriginProtection and by requiring a JSON content type.

const (
	csrfCookieName = "kommunity_csrf"
	csrfField      = "csrf_token"
	csrfNonceBytes = 18
)

// csrfCookie is the cookie's name: __Host- prefixed on https.
func (s *Server) csrfCookie() string {
	if s.https {
		return "__Host-" + csrfCookieName
	}
	return csrfCookieName
}

// csrfSign is the token for nonce: nonce and its HMAC, base64url.
func csrfSign(key, nonce []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("csrf\x00"))
	m.Write(nonce)
	return base64.RawURLEncoding.EncodeToString(append(append([]byte{}, nonce...), m.Sum(nil)...))
}

// csrfValid reports whether tok is a token this server signed.
func csrfValid(key []byte, tok string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != csrfNonceBytes+sha256.Size {
		return false
	}
	want := csrfSign(key, raw[:csrfNonceBytes])
	return subtle.ConstantTimeCompare([]byte(want), []byte(tok)) == 1
}

// csrfToken returns the browser's token, issuing a new one if it has none
// that this server signed. "" when the secret cannot be had (the store is
// down): the form then fails its check, safely.
func (s *Server) csrfToken(c *gin.Context) string {
	if v := c.GetString(csrfCookieName); v != "" {
		return v // issued earlier in this request
	}
	key, err := s.svc.Secret(c.Request.Context(), pledge.SecretCSRF)
	if err != nil {
		s.log.Warn("csrf: no secret", "err", err)
		return ""
	}
	if ck, err := c.Request.Cookie(s.csrfCookie()); err == nil && csrfValid(key, ck.Value) {
		return ck.Value
	}
	nonce := make([]byte, csrfNonceBytes)
	_, _ = rand.Read(nonce)
	v := csrfSign(key, nonce)
	c.Set(csrfCookieName, v)
	http.SetCookie(c.Writer, &http.Cookie{Name: s.csrfCookie(), Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.https || c.Request.TLS != nil})
	return v
}

// checkForm is the middleware of every form post: it parses the (size
// limited) form and refuses a post without a matching, server-signed CSRF
// token.
func (s *Server) checkForm(c *gin.Context) {
	parse := c.Request.ParseForm
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt == "multipart/form-data" {
		// A form with a file (a bid's PDF): what exceeds 1 MB waits on
		// disk until the request ends.
		parse = func() error { return c.Request.ParseMultipartForm(1 << 20) }
	}
	if err := parse(); err != nil {
		s.renderError(c, pledge.Errorf(pledge.EINVALID, "bad form"))
		return
	}
	ok := false
	if key, err := s.svc.Secret(c.Request.Context(), pledge.SecretCSRF); err == nil {
		ck, cerr := c.Request.Cookie(s.csrfCookie())
		field := c.Request.PostForm.Get(csrfField)
		ok = cerr == nil && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(field)) == 1 && csrfValid(key, field)
	} else {
		s.log.Warn("csrf: no secret", "err", err)
	}
	if !ok {
		s.log.Info("form refused: CSRF check failed", "route", c.FullPath())
		s.renderError(c, pledge.Errorf(pledge.EFORBIDDEN, "csrf"), "err.csrf")
		return
	}
	c.Next()
}
