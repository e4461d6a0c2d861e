package web

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// recoverPanics turns a panic into a logged 500; the stack goes to the log,
// never to the client.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "route", c.FullPath(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.writeError(c, pledge.Errorf(pledge.EINTERNAL, "internal error"))
		}
	}()
	c.Next()
}

// logRequests logs the route pattern, not the path: paths carry secret
// manage tokens, and query strings carry what residents typed.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	s.log.Info("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"ms", time.Since(start).Milliseconds())
}

// uploadRoutes take a bid's PDF, up to 10 MB, besides the JSON.
var uploadRoutes = map[string]bool{"/api/areas/:code/bids": true, "/api/bids/:id": true,
	"/provider/areas/:code/bid": true}

// limitBody bounds the request body and the request's context.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		limit := s.cfg.MaxBodyBytes
		if uploadRoutes[c.FullPath()] {
			limit = max(limit, pledge.MaxBidAttachment+1<<20)
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// securityHeaders are sent on every response, API and static files
// included; pages add their Content-Security-Policy in pageHeaders. API
// responses are not cached unless a handler says otherwise: they hold
// live counts and, for a pledge, contact details.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), interest-cohort=()")
	if s.https {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	c.Next()
}

// checkOrigin refuses state-changing requests (POST, PUT, PATCH, DELETE)
// that a browser marks as coming from another site, on the API as on the
// pages: a visitor's browser cannot be made to pledge or withdraw by a
// foreign page. Clients that are not browsers send no such marks and pass.
func (s *Server) checkOrigin(c *gin.Context) {
	if err := s.crossOrigin.Check(c.Request); err != nil {
		s.log.Info("cross-origin request refused", "route", c.FullPath(), "method", c.Request.Method)
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			s.writeError(c, pledge.Errorf(pledge.EFORBIDDEN, "cross-origin requests are not allowed"))
		} else {
			s.renderError(c, pledge.Errorf(pledge.EFORBIDDEN, "csrf"), "err.csrf")
		}
		return
	}
	c.Next()
}

// publicURL is path under the configured public URL, or path itself.
func (s *Server) publicURL(path string) string { return s.cfg.PublicURL + path }
