package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// Webhooks: a provider's endpoints through the JSON API and the page
// /provider/webhooks. What a user may see or change is decided by
// pledge.Service: a provider sees only its company's endpoints (another's
// is a 404), an admin all.

func (s *Server) webhookRoutes(r *gin.Engine) {
	api := r.Group("/api")
	api.POST("/webhooks", s.createWebhook)
	api.GET("/webhooks", s.listWebhooks)
	api.DELETE("/webhooks/:id", s.deleteWebhook)
	api.POST("/webhooks/:id/rotate", s.rotateWebhook)
	api.GET("/webhooks/:id/deliveries", s.webhookDeliveries)
	api.POST("/webhooks/:id/deliveries/:n/replay", s.replayDelivery)

	r.GET("/provider/webhooks", s.webhooksPage)
	r.POST("/provider/webhooks", s.checkForm, s.postWebhook)
	r.POST("/provider/webhooks/:id/delete", s.checkForm, s.postDeleteWebhook)
	r.POST("/provider/webhooks/:id/rotate", s.checkForm, s.postRotateWebhook)
	r.POST("/provider/webhooks/:id/deliveries/:n/replay", s.checkForm, s.postReplayDelivery)
}

type webhookJSON struct {
	ID                  int64      `json:"id"`
	Company             string     `json:"company"`
	URL                 string     `json:"url"`
	Events              []string   `json:"events"`
	Active              bool       `json:"active"`
	CreatedAt           time.Time  `json:"created_at"`
	DisabledAt          *time.Time `json:"disabled_at"`
	FailingSince        *time.Time `json:"failing_since"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until"`
	Secret              string     `json:"secret,omitempty"` // only in the answers that make one
}

func newWebhookJSON(w pledge.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, Company: w.Company, URL: w.URL, Events: nonNil(w.Events), Active: w.Active, CreatedAt: w.CreatedAt,
		DisabledAt: w.DisabledAt, FailingSince: w.FailingSince, PreviousSecretUntil: w.PreviousSecretUntil}
}

type deliveryJSON struct {
	N          int64     `json:"n"` // for .../deliveries/{n}/replay
	WebhookID  string    `json:"webhook_id"`
	Type       string    `json:"type"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code"`
	DurationMS int       `json:"duration_ms"`
	Excerpt    string    `json:"excerpt"`
	OK         bool      `json:"ok"`
	ErrorClass string    `json:"error_class"`
}

// createWebhook: POST /api/webhooks {"url","events"}: 201 with the
// endpoint and its secret, shown this once.
func (s *Server) createWebhook(c *gin.Context) {
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	w, secret, err := s.svc.RegisterWebhook(c.Request.Context(), pledge.WebhookRequest{URL: in.URL, Events: in.Events})
	if err != nil {
		s.writeError(c, err)
		return
	}
	j := newWebhookJSON(w)
	j.Secret = secret
	c.JSON(http.StatusCreated, j)
}

// listWebhooks: GET /api/webhooks, without secrets.
func (s *Server) listWebhooks(c *gin.Context) {
	ws, err := s.svc.Webhooks(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]webhookJSON, len(ws))
	for i, w := range ws {
		out[i] = newWebhookJSON(w)
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": out})
}

// deleteWebhook: DELETE /api/webhooks/{id}: 204.
func (s *Server) deleteWebhook(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.DeleteWebhook(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateWebhook: POST /api/webhooks/{id}/rotate: the endpoint with its
// new secret; the old one signs too for 24 hours.
func (s *Server) rotateWebhook(c *gin.Context) {
	id, err := idParam(c, "id")
	var w pledge.Webhook
	var secret string
	if err == nil {
		w, secret, err = s.svc.RotateWebhookSecret(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	j := newWebhookJSON(w)
	j.Secret = secret
	c.JSON(http.StatusOK, j)
}

// webhookDeliveries: GET /api/webhooks/{id}/deliveries, the log, newest
// first.
func (s *Server) webhookDeliveries(c *gin.Context) {
	id, err := idParam(c, "id")
	var log []pledge.WebhookAttempt
	if err == nil {
		log, err = s.svc.WebhookDeliveries(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]deliveryJSON, len(log))
	for i, a := range log {
		out[i] = deliveryJSON{N: a.ID, WebhookID: a.MessageID, Type: a.Type, Attempt: a.Attempt, At: a.At, StatusCode: a.StatusCode,
			DurationMS: a.DurationMS, Excerpt: a.Excerpt, OK: a.OK(), ErrorClass: a.ErrorClass}
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out})
}

// replayDelivery: POST /api/webhooks/{id}/deliveries/{n}/replay: 202, a
// fresh delivery with the same webhook-id is queued.
func (s *Server) replayDelivery(c *gin.Context) {
	id, err := idParam(c, "id")
	var n int64
	if err == nil {
		n, err = idParam(c, "n")
	}
	if err == nil {
		err = s.svc.ReplayDelivery(c.Request.Context(), id, n)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true, "n": n})
}

// hooksView is what /provider/webhooks shows.
type hooksView struct {
	Endpoints []hookRow
	Events    []string
	URL       string          // the form's URL, kept after an error
	Checked   map[string]bool // the form's events
	NewSecret string          // shown once, right after registration or rotation
	SecretFor int64
}

type hookRow struct {
	pledge.Webhook
	EventsText, Disabled, Failing, Overlap string
	Log                                    []attemptRow
}

type attemptRow struct {
	pledge.WebhookAttempt
	At, Result string
}

// maxPageAttempts bounds each endpoint's log on the page; the API gives
// more.
const maxPageAttempts = 20

func (s *Server) hooksData(c *gin.Context, p *pageData, l *Locale) error {
	ctx := c.Request.Context()
	ws, err := s.svc.Webhooks(ctx)
	if err != nil {
		return err
	}
	h := p.Account.Hooks
	if h == nil {
		h = &hooksView{Checked: map[string]bool{}}
		p.Account.Hooks = h
	}
	h.Events = pledge.WebhookEvents
	if len(h.Checked) == 0 {
		for _, e := range pledge.WebhookEvents {
			h.Checked[e] = true
		}
	}
	for _, w := range ws {
		row := hookRow{Webhook: w}
		names := make([]string, len(w.Events))
		for i, e := range w.Events {
			names[i] = l.T("webhooks.event." + e)
		}
		row.EventsText = strings.Join(names, ", ")
		if w.DisabledAt != nil {
			row.Disabled = l.T("webhooks.disabled", l.DateTime(*w.DisabledAt))
		}
		if w.FailingSince != nil && w.Active {
			row.Failing = l.T("webhooks.failing", l.DateTime(*w.FailingSince))
		}
		if w.PreviousSecretUntil != nil && s.now().Before(*w.PreviousSecretUntil) {
			row.Overlap = l.T("webhooks.overlap", l.DateTime(*w.PreviousSecretUntil))
		}
		log, err := s.svc.WebhookDeliveries(ctx, w.ID)
		if err != nil {
			return err
		}
		for _, a := range log[:min(len(log), maxPageAttempts)] {
			r := attemptRow{WebhookAttempt: a, At: l.DateTime(a.At), Result: l.T("webhooks.ok")}
			if !a.OK() {
				r.Result = l.T("webhooks.class." + a.ErrorClass)
			}
			row.Log = append(row.Log, r)
		}
		h.Endpoints = append(h.Endpoints, row)
	}
	return nil
}

func (s *Server) webhooksPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "webhooks.title")
	if c.Query("replayed") != "" {
		p.Notice = l.T("webhooks.replayed")
	} else if c.Query("saved") != "" {
		p.Notice = l.T("account.saved")
	}
	if err := s.hooksData(c, p, l); err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusOK, "provider_webhooks", p)
}

// hooksFail shows the page again with err; a permission error is its
// own page.
func (s *Server) hooksFail(c *gin.Context, p *pageData, l *Locale, err error) {
	if derr := s.hooksData(c, p, l); derr != nil {
		s.renderError(c, derr)
		return
	}
	s.formFail(c, l, p, "provider_webhooks", err)
}

func (s *Server) postWebhook(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "webhooks.title")
	f := c.Request.PostForm
	events := f["event"]
	h := &hooksView{URL: f.Get("url"), Checked: map[string]bool{}}
	for _, e := range events {
		if slices.Contains(pledge.WebhookEvents, e) {
			h.Checked[e] = true
		}
	}
	p.Account.Hooks = h
	w, secret, err := s.svc.RegisterWebhook(c.Request.Context(), pledge.WebhookRequest{URL: f.Get("url"), Events: events})
	if err != nil {
		s.hooksFail(c, p, l, err)
		return
	}
	// Shown on this answer only; the store keeps it sealed.
	p.Account.Hooks = &hooksView{NewSecret: secret, SecretFor: w.ID, Checked: map[string]bool{}}
	if err := s.hooksData(c, p, l); err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusCreated, "provider_webhooks", p)
}

func (s *Server) postDeleteWebhook(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.DeleteWebhook(c.Request.Context(), id)
	}
	if err != nil {
		p, l := s.accountPage(c, "webhooks.title")
		s.hooksFail(c, p, l, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/provider/webhooks?saved=1"))
}

func (s *Server) postRotateWebhook(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "webhooks.title")
	id, err := idParam(c, "id")
	var secret string
	if err == nil {
		_, secret, err = s.svc.RotateWebhookSecret(c.Request.Context(), id)
	}
	if err != nil {
		s.hooksFail(c, p, l, err)
		return
	}
	p.Account.Hooks = &hooksView{NewSecret: secret, SecretFor: id, Checked: map[string]bool{}}
	if err := s.hooksData(c, p, l); err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusOK, "provider_webhooks", p)
}

func (s *Server) postReplayDelivery(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	id, err := idParam(c, "id")
	var n int64
	if err == nil {
		n, err = idParam(c, "n")
	}
	if err == nil {
		err = s.svc.ReplayDelivery(c.Request.Context(), id, n)
	}
	if err != nil {
		p, l := s.accountPage(c, "webhooks.title")
		s.hooksFail(c, p, l, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/provider/webhooks?replayed="+strconv.FormatInt(n, 10)))
}
