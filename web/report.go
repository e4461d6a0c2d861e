package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// tenderPackage answers GET /api/areas/{code}/tender.zip[?lang=da|en]
// with the area's tender package, for admins until provider accounts
// exist. Without a configured token the endpoint does not exist (404); a
// missing or wrong token is a 401.
func (s *Server) tenderPackage(c *gin.Context) {
	if s.cfg.AdminToken == "" || s.cfg.TenderPackage == nil {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "not found"))
		return
	}
	// Every try counts against the client's limit before the token is
	// compared, so guessing it is as slow as the limit makes it.
	if !s.throttle(c, s.limit(c, "admin", adminAttempts, adminAttemptWindow)) {
		return
	}
	if !s.isAdmin(c.Request) {
		c.Header("WWW-Authenticate", `Bearer realm="kommunity admin"`)
		s.writeError(c, pledge.Errorf(pledge.EUNAUTHORIZED, "this needs the admin token: send Authorization: Bearer TOKEN"))
		return
	}
	code := c.Param("code")
	lang := c.DefaultQuery("lang", "da")
	// Rendered to memory first, so an error is still a JSON error and a
	// client never receives half a ZIP with a 200.
	var buf bytes.Buffer
	if err := s.cfg.TenderPackage(c.Request.Context(), code, lang, &buf); err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="tender-`+fileNamePart(code)+`.zip"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// isAdmin reports whether the request carries the admin token as a
// Bearer token. Comparing hashes in constant time reveals neither the
// token nor its length through timing.
func (s *Server) isAdmin(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// fileNamePart keeps the letters, digits, '-' and '_' of an area code, so
// the code cannot break out of the quoted filename.
func fileNamePart(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, code)
}
