// Package web is the HTTP interface: the gin router, JSON API handlers and
// middleware. It depends on pledge, never on a store; errors are mapped to
// statuses in one table (errorStatus) and written in one place (writeError).
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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
}

// Server serves the API over a pledge.Service.
type Server struct {
	svc    *pledge.Service
	cfg    Config
	log    *slog.Logger
	router *gin.Engine
}

// NewServer builds the router.
func NewServer(svc *pledge.Service, cfg Config, log *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{svc: svc, cfg: cfg, log: log, router: gin.New()}
	s.router.Use(s.recoverPanics, s.logRequests, s.limitBody)
	s.routes()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) routes() {
	r := s.router
	r.GET("/healthz", s.health)
	api := r.Group("/api")
	api.GET("/areas", s.listAreas)
	api.GET("/areas/:code", s.getArea)
	api.GET("/areas/:code/addresses", s.areaAddresses)
	api.GET("/addresses", s.searchAddresses)
	api.POST("/pledges", s.createPledge)
	api.GET("/pledges/:token", s.getPledge)
	api.DELETE("/pledges/:token", s.withdrawPledge)
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "no such page"))
	})
	r.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
	})
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
