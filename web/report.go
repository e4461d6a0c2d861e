package web

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// tenderPackage answers GET /api/areas/{code}/tender.zip[?lang=da|en]
// with the area's tender package, for signed-in users whom the service
// lets download it (admins, the area's coordinators, providers once the
// area is up for tender), by session or API token. An anonymous request
// is a 401 that says how to authenticate.
func (s *Server) tenderPackage(c *gin.Context) {
	if s.cfg.TenderPackage == nil {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "not found"))
		return
	}
	ctx := c.Request.Context()
	if pledge.UserFrom(ctx) == nil {
		c.Header("WWW-Authenticate", `Bearer realm="kommunity"`)
		s.writeError(c, &pledge.Error{Code: pledge.EUNAUTHORIZED, Reason: pledge.ReasonSignInRequired,
			Message: "sign in, or send an API token as Authorization: Bearer TOKEN"})
		return
	}
	code := c.Param("code")
	lang := c.DefaultQuery("lang", "da")
	// Rendered to memory first, so an error is still a JSON error and a
	// client never receives half a ZIP with a 200.
	var buf bytes.Buffer
	if err := s.cfg.TenderPackage(ctx, code, lang, &buf); err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="tender-`+fileNamePart(code)+`.zip"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
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
