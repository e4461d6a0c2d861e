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

// Challenges of the address base (issue 14, 5): residents report from the
// address page, coordinators decide under /coordinator/areas/{code}.

// ChallengeJSON is a challenge as the API shows it. The outcome link is
// only in the answer to its report.
type ChallengeJSON struct {
	ID            int64      `json:"id"`
	AddressID     string     `json:"address_id"`
	AreaCode      string     `json:"area_code"`
	Kind          string     `json:"kind"`
	Note          string     `json:"note"`
	ProposedUnits int        `json:"proposed_units,omitempty"`
	Status        string     `json:"status"`
	Reason        string     `json:"reason"`
	UnitsBefore   *int       `json:"units_before,omitempty"`
	UnitsAfter    *int       `json:"units_after,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	OutcomeURL    string     `json:"outcome_url,omitempty"`
}

func newChallengeJSON(c pledge.Challenge) ChallengeJSON {
	return ChallengeJSON{ID: c.ID, AddressID: c.AddressID, AreaCode: c.AreaCode, Kind: string(c.Kind), Note: c.Note,
		ProposedUnits: c.ProposedUnits, Status: string(c.Status), Reason: c.Reason, UnitsBefore: c.UnitsBefore,
		UnitsAfter: c.UnitsAfter, CreatedAt: c.CreatedAt, DecidedAt: c.DecidedAt}
}

// challengeLimit is an anonymous reporter's limit, as for pledges; a
// signed-in coordinator has none.
func (s *Server) challengeLimit(c *gin.Context) *pledge.RateLimit {
	if pledge.UserFrom(c.Request.Context()) != nil {
		return nil
	}
	return s.limit(c, "challenge", s.cfg.PledgeRateLimit, s.cfg.PledgeRateWindow)
}

// createChallenge: POST /api/challenges {"address_id","kind","note","proposed_units"}.
func (s *Server) createChallenge(c *gin.Context) {
	limit := s.challengeLimit(c)
	var in struct {
		AddressID     string `json:"address_id"`
		Kind          string `json:"kind"`
		Note          string `json:"note"`
		ProposedUnits int    `json:"proposed_units"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		if s.throttle(c, limit) {
			s.writeError(c, err)
		}
		return
	}
	ch, link, err := s.svc.ReportChallenge(c.Request.Context(), pledge.ChallengeRequest{AddressID: in.AddressID,
		Kind: pledge.ChallengeKind(in.Kind), Note: in.Note, ProposedUnits: in.ProposedUnits, Limit: limit})
	if pledge.ErrorCode(err) == pledge.ETOOMANY {
		s.tooMany(c, limit)
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := newChallengeJSON(ch)
	out.OutcomeURL = s.publicURL(link)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
}

// getChallenge: GET /api/challenges/{secret}, the reporter's view.
func (s *Server) getChallenge(c *gin.Context) {
	tokenPageHeaders(c)
	ch, err := s.svc.ChallengeOutcome(c.Request.Context(), c.Param("secret"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newChallengeJSON(ch))
}

// listChallenges: GET /api/areas/{code}/challenges (area.edit).
func (s *Server) listChallenges(c *gin.Context) {
	cs, err := s.svc.AreaChallenges(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]ChallengeJSON, len(cs))
	for i, ch := range cs {
		out[i] = newChallengeJSON(ch)
	}
	c.JSON(http.StatusOK, gin.H{"challenges": out})
}

// decideChallenge: POST /api/areas/{code}/challenges/{id}/decision
// {"accept":true|false,"reason"} (area.edit).
func (s *Server) decideChallenge(c *gin.Context) {
	var in struct {
		Accept *bool  `json:"accept"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64) // a bad id finds no challenge
	ctx := c.Request.Context()
	if err := s.svc.Can(ctx, pledge.ActionEditArea, c.Param("code")); err != nil {
		s.writeError(c, err)
		return
	}
	if in.Accept == nil {
		s.writeError(c, pledge.FieldError("accept", "say true to accept or false to reject"))
		return
	}
	ch, err := s.svc.DecideChallenge(ctx, c.Param("code"), id, *in.Accept, in.Reason)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newChallengeJSON(ch))
}

// challengeView is a challenge in a page's words.
type challengeView struct {
	pledge.Challenge
	KindText, StatusText, Created, Decided, Address string
}

func (s *Server) challengeView(l *Locale, ch pledge.Challenge) challengeView {
	v := challengeView{Challenge: ch, KindText: l.T("challenge.kind." + string(ch.Kind)), StatusText: l.T("challenge.status." + string(ch.Status)),
		Created: l.Date(ch.CreatedAt)}
	if ch.DecidedAt != nil {
		v.Decided = l.Date(*ch.DecidedAt)
	}
	return v
}

// postChallenge: POST /challenge, the address page's form.
func (s *Server) postChallenge(c *gin.Context) {
	l := s.locale(c)
	f := c.Request.PostForm
	units, _ := strconv.Atoi(strings.TrimSpace(f.Get("proposed_units")))
	limit := s.challengeLimit(c)
	_, link, err := s.svc.ReportChallenge(c.Request.Context(), pledge.ChallengeRequest{AddressID: f.Get("address_id"),
		Kind: pledge.ChallengeKind(f.Get("kind")), Note: f.Get("note"), ProposedUnits: units, Limit: limit})
	if code := pledge.ErrorCode(err); err != nil && code != pledge.EINVALID && code != pledge.ETOOMANY {
		s.renderReasonError(c, err) // logged when internal
		return
	}
	if err != nil {
		if pledge.ErrorCode(err) == pledge.ETOOMANY {
			setRetryAfter(c, limit)
		}
		p := s.newPage(c, l, &url.URL{Path: "/challenge"})
		p.Title, p.ErrorText = l.T("challenge.title"), challengeErrorText(l, err)
		s.render(c, errorStatus[pledge.ErrorCode(err)], "error", p)
		return
	}
	tokenPageHeaders(c)
	c.Redirect(http.StatusSeeOther, s.publicURL(link))
}

// challengeErrorText says what is wrong with a report, by field.
func challengeErrorText(l *Locale, err error) string {
	if pledge.ErrorCode(err) == pledge.ETOOMANY {
		return l.T("err.too_many_requests")
	}
	field := ""
	if e, ok := err.(*pledge.Error); ok {
		field = e.Field
	}
	switch field {
	case "kind", "note", "proposed_units", "address_id", "reason":
		return l.T("challenge.err." + field)
	}
	return l.T("challenge.err.note")
}

// challengePage: GET /challenges/{secret}, the reporter's outcome.
func (s *Server) challengePage(c *gin.Context) {
	l := s.locale(c)
	ch, err := s.svc.ChallengeOutcome(c.Request.Context(), c.Param("secret"))
	if err != nil {
		tokenPageHeaders(c)
		s.renderReasonError(c, err)
		return
	}
	p := s.newPage(c, l, &url.URL{Path: "/challenges/" + url.PathEscape(c.Param("secret"))})
	p.TokenPage, p.Title = true, l.T("challenge.title")
	v := s.challengeView(l, ch)
	if a, err := s.svc.Address(c.Request.Context(), ch.AddressID); err == nil {
		v.Address = a.Text
	}
	p.Challenge = &v
	s.render(c, http.StatusOK, "challenge", p)
}

// areaChallengesPage: GET /coordinator/areas/{code}/challenges.
func (s *Server) areaChallengesPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	code := c.Param("code")
	cs, err := s.svc.AreaChallenges(ctx, code)
	if err != nil {
		s.renderReason(c, err)
		return
	}
	p, l := s.accountPage(c, "challenges.title")
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
	for _, ch := range cs {
		v := s.challengeView(l, ch)
		v.Address = texts[ch.AddressID]
		p.Account.Challenges = append(p.Account.Challenges, v)
	}
	if c.Query("decided") != "" {
		p.Notice = l.T("challenges.decided")
	}
	s.render(c, http.StatusOK, "area_challenges", p)
}

// postDecideChallenge: POST /coordinator/areas/{code}/challenges/{id}
// {decision=accept|reject, reason}.
func (s *Server) postDecideChallenge(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	l := s.locale(c)
	f := c.Request.PostForm
	code := c.Param("code")
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	var err error
	switch f.Get("decision") {
	case "accept", "reject":
		_, err = s.svc.DecideChallenge(c.Request.Context(), code, id, f.Get("decision") == "accept", f.Get("reason"))
	default:
		if err = s.svc.Can(c.Request.Context(), pledge.ActionEditArea, code); err == nil {
			err = pledge.FieldError("decision", "accept or reject")
		}
	}
	if err != nil {
		switch pledge.ErrorCode(err) {
		case pledge.EINVALID, pledge.ECONFLICT:
			p, _ := s.accountPage(c, "challenges.title")
			p.ErrorText = challengeErrorText(l, err)
			if pledge.ErrorCode(err) == pledge.ECONFLICT {
				p.ErrorText = l.T("challenges.conflict")
			}
			s.render(c, errorStatus[pledge.ErrorCode(err)], "error", p)
		default:
			s.renderReason(c, err)
		}
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(code)+"/challenges?decided=1"))
}
