package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// Walk lists: the API under /api/areas/{code}/walks and /api/walks/{id},
// and the coordinator's page /coordinator/areas/{code}/walks. The
// volunteer's name is personal data: it is in the answers to the area's
// coordinators and admins only (walks.view), never in a log line.

// WalkStopJSON is one stop of a walk.
type WalkStopJSON struct {
	Seq        int     `json:"seq"`
	AddressID  string  `json:"address_id"`
	Code       string  `json:"code"`
	Lon        float64 `json:"lon"`
	Lat        float64 `json:"lat"`
	Units      int     `json:"units"`
	Text       string  `json:"text"`
	Pledged    int     `json:"pledged_units"`
	LegM       float64 `json:"leg_m"` // from the previous stop
	Drive      bool    `json:"drive"` // the leg from the previous stop is driven
	Outcome    string  `json:"outcome,omitempty"`
	DoNotKnock bool    `json:"do_not_knock,omitempty"`
}

// WalkJSON is one walk.
type WalkJSON struct {
	ID         int64          `json:"id"`
	LengthM    float64        `json:"length_m"`
	Batch      int            `json:"batch"`
	Number     int            `json:"number"`
	Size       int            `json:"size"`
	Taken      bool           `json:"taken"`
	AssignedTo string         `json:"assigned_to,omitempty"`
	AssignedAt *time.Time     `json:"assigned_at,omitempty"`
	ExpiresAt  *time.Time     `json:"expires_at,omitempty"`
	ReturnedAt *time.Time     `json:"returned_at,omitempty"`
	Stops      []WalkStopJSON `json:"stops"`
}

func newWalkJSON(w pledge.Walk, now time.Time, outcomes map[string]pledge.AddressOutcome) WalkJSON {
	j := WalkJSON{ID: w.ID, LengthM: roundM(w.LengthM), Batch: w.Batch, Number: w.Number, Size: w.Size, Taken: w.Taken(now),
		AssignedTo: w.AssignedTo, AssignedAt: w.AssignedAt, ExpiresAt: w.ExpiresAt, ReturnedAt: w.ReturnedAt, Stops: make([]WalkStopJSON, len(w.Stops))}
	for i, s := range w.Stops {
		o := outcomes[s.Address.ID]
		j.Stops[i] = WalkStopJSON{Seq: s.Seq, AddressID: s.Address.ID, Code: s.Code, Lon: s.Address.Point[0], Lat: s.Address.Point[1],
			Units: s.Address.Units, Text: s.Address.Text, Pledged: s.Address.PledgedUnits, LegM: roundM(s.LegM), Drive: s.Drive,
			Outcome: string(o.Outcome), DoNotKnock: o.DoNotKnock}
	}
	return j
}

func roundM(m float64) float64 { return float64(int64(m*10+0.5)) / 10 }

// walkSize reads ?size=N; 0 when absent.
func walkSize(c *gin.Context) (int, error) {
	v, ok := c.GetQuery("size")
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, pledge.FieldError("size", "size is a whole number of stops from %d to %d, not %q", pledge.MinWalkSize, pledge.MaxWalkSize, truncate(v, 20))
	}
	return n, nil
}

// areaWalks loads the walks a GET asks for: the latest batch of ?size=N
// (made when there is none), or the latest batch.
func (s *Server) areaWalks(c *gin.Context) ([]pledge.Walk, error) {
	size, err := walkSize(c)
	if err != nil {
		return nil, err
	}
	if size > 0 {
		return s.svc.WalksOfSize(c.Request.Context(), c.Param("code"), size)
	}
	return s.svc.Walks(c.Request.Context(), c.Param("code"))
}

// walksJSON answers ws, with each stop's outcome when withOutcomes (a
// fresh batch is answered without: a token that may make walks need not
// be one that may read them).
func (s *Server) walksJSON(c *gin.Context, status int, ws []pledge.Walk, withOutcomes bool) {
	var outcomes map[string]pledge.AddressOutcome
	if withOutcomes {
		var err error
		if outcomes, err = s.svc.AddressOutcomes(c.Request.Context(), c.Param("code")); err != nil {
			s.writeError(c, err)
			return
		}
	}
	now := s.now()
	out := make([]WalkJSON, len(ws))
	for i, w := range ws {
		out[i] = newWalkJSON(w, now, outcomes)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, gin.H{"walks": out})
}

// getWalks: GET /api/areas/{code}/walks[?size=N].
func (s *Server) getWalks(c *gin.Context) {
	ws, err := s.areaWalks(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.walksJSON(c, http.StatusOK, ws, true)
}

// postWalks: POST /api/areas/{code}/walks {"size"} makes a new batch.
func (s *Server) postWalks(c *gin.Context) {
	var in struct {
		Size int `json:"size"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	ws, err := s.svc.GenerateWalks(c.Request.Context(), c.Param("code"), in.Size)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.walksJSON(c, http.StatusCreated, ws, false)
}

// walksPDF: GET /api/areas/{code}/walks.pdf[?size=N&lang=da|en].
func (s *Server) walksPDF(c *gin.Context) {
	if s.cfg.WalkPDF == nil {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "not found"))
		return
	}
	ws, err := s.areaWalks(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	a, err := s.svc.Area(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	var buf bytes.Buffer
	if err := s.cfg.WalkPDF(&buf, a, ws, c.DefaultQuery("lang", "da"), s.now()); err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="walks-`+fileNamePart(a.Code)+`.pdf"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", buf.Bytes())
}

// walksCSV: GET /api/areas/{code}/walks.csv[?size=N].
func (s *Server) walksCSV(c *gin.Context) {
	if s.cfg.WalkCSV == nil {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "not found"))
		return
	}
	ws, err := s.areaWalks(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var buf bytes.Buffer
	if err := s.cfg.WalkCSV(&buf, ws); err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="walks-`+fileNamePart(c.Param("code"))+`.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// OutcomeJSON is an address's last outcome.
type OutcomeJSON struct {
	AddressID  string    `json:"address_id"`
	Outcome    string    `json:"outcome"`
	Code       string    `json:"code,omitempty"`
	At         time.Time `json:"at"`
	DoNotKnock bool      `json:"do_not_knock"`
}

func newOutcomeJSON(o pledge.AddressOutcome) OutcomeJSON {
	return OutcomeJSON{AddressID: o.AddressID, Outcome: string(o.Outcome), Code: o.Code, At: o.At, DoNotKnock: o.DoNotKnock}
}

// postOutcome: POST /api/areas/{code}/walks/outcomes {"code" or
// "address_id", "outcome"}.
func (s *Server) postOutcome(c *gin.Context) {
	var in struct {
		Code      string `json:"code"`
		AddressID string `json:"address_id"`
		Outcome   string `json:"outcome"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	o, err := s.svc.RecordOutcome(c.Request.Context(), c.Param("code"), pledge.OutcomeRequest{Code: in.Code, AddressID: in.AddressID, Outcome: pledge.Outcome(in.Outcome)})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newOutcomeJSON(o))
}

// getOutcomes: GET /api/areas/{code}/walks/outcomes.
func (s *Server) getOutcomes(c *gin.Context) {
	m, err := s.svc.AddressOutcomes(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]OutcomeJSON, 0, len(m))
	for _, o := range m {
		out = append(out, newOutcomeJSON(o))
	}
	slices.SortFunc(out, func(a, b OutcomeJSON) int { return strings.Compare(a.AddressID, b.AddressID) })
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"outcomes": out})
}

// assignWalk: POST /api/walks/{id}/assign {"volunteer","days"}.
func (s *Server) assignWalk(c *gin.Context) {
	var in struct {
		Volunteer string `json:"volunteer"`
		Days      int    `json:"days"`
	}
	id, err := idParam(c, "id")
	if err == nil {
		err = decodeJSON(c.Request, &in)
	}
	var w pledge.Walk
	if err == nil {
		w, err = s.svc.AssignWalk(c.Request.Context(), id, in.Volunteer, in.Days)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newWalkJSON(w, s.now(), nil))
}

// returnWalk: POST /api/walks/{id}/return (no body).
func (s *Server) returnWalk(c *gin.Context) {
	id, err := idParam(c, "id")
	var w pledge.Walk
	if err == nil {
		w, err = s.svc.ReturnWalk(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newWalkJSON(w, s.now(), nil))
}

// walksView is what the walk-list page shows.
type walksView struct {
	Area      pledge.Area
	Walks     []walkRow
	Size      int // of the batch shown, for the print links
	Outcomes  []outcomeOption
	Outcome   string // the outcome chosen last, kept for the next form
	Code      string // the code typed, shown again after an error
	Recorded  string // confirmation of the last outcome
	MapData   string // the API path the map loads
	DefaultSz int
}

type walkRow struct {
	pledge.Walk
	Label, Length, Expires string
	Taken                  bool
	Drives                 int
}

type outcomeOption struct {
	Value, Text string
}

// walksPage: GET /coordinator/areas/{code}/walks.
func (s *Server) walksPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l, err := s.walksPageData(c)
	if err != nil {
		s.renderReason(c, err)
		return
	}
	q := c.Request.URL.Query()
	if code, outcome := q.Get("recorded"), q.Get("outcome"); code != "" && isOutcome(outcome) {
		if c, ok := pledge.NormaliseWalkCode(code); ok {
			p.Account.Walks.Recorded = l.T("walks.recorded", c, l.T("walks.outcome."+outcome))
		}
	}
	if isOutcome(q.Get("outcome")) {
		p.Account.Walks.Outcome = q.Get("outcome")
	}
	if q.Get("saved") != "" {
		p.Notice = l.T("walks.saved")
	}
	s.render(c, http.StatusOK, "walks", p)
}

func isOutcome(s string) bool {
	for _, o := range pledge.Outcomes {
		if string(o) == s {
			return true
		}
	}
	return false
}

func (s *Server) walksPageData(c *gin.Context) (*pageData, *Locale, error) {
	ctx := c.Request.Context()
	code := c.Param("code")
	ws, err := s.svc.Walks(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	p, l := s.accountPage(c, "walks.title")
	s.withMap(p)
	v := &walksView{Area: a, MapData: "/api/areas/" + url.PathEscape(code), DefaultSz: pledge.DefaultWalkSize, Outcome: string(pledge.OutcomeNotHome)}
	now := s.now()
	for _, w := range ws {
		r := walkRow{Walk: w, Label: strconv.Itoa(w.Batch) + "W" + strconv.Itoa(w.Number), Length: l.Int(int(w.LengthM+0.5)) + " m", Taken: w.Taken(now)}
		if r.Taken {
			r.Expires = l.Date(*w.ExpiresAt)
		}
		for _, st := range w.Stops {
			if st.Drive {
				r.Drives++
			}
		}
		v.Walks = append(v.Walks, r)
		v.Size = w.Size
	}
	for _, o := range pledge.Outcomes {
		v.Outcomes = append(v.Outcomes, outcomeOption{string(o), l.T("walks.outcome." + string(o))})
	}
	p.Account.Walks = v
	return p, l, nil
}

func (s *Server) walksPath(code string, q url.Values) string {
	u := url.URL{Path: "/coordinator/areas/" + code + "/walks", RawQuery: q.Encode()}
	return s.publicURL(u.EscapedPath() + "?" + u.RawQuery)
}

// walksFail shows the page again with err.
func (s *Server) walksFail(c *gin.Context, err error, keep func(*walksView)) {
	p, l, perr := s.walksPageData(c)
	if perr != nil {
		s.renderError(c, perr, reasonKeyOr(perr, "err."+pledge.ErrorCode(perr)))
		return
	}
	if keep != nil {
		keep(p.Account.Walks)
	}
	s.formFail(c, l, p, "walks", err)
}

// postWalksPage: POST /coordinator/areas/{code}/walks (size) makes a batch.
func (s *Server) postWalksPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	size, err := strconv.Atoi(strings.TrimSpace(c.Request.PostForm.Get("size")))
	if err != nil {
		err = pledge.FieldError("size", "size is a whole number")
	} else {
		_, err = s.svc.GenerateWalks(c.Request.Context(), c.Param("code"), size)
	}
	if err != nil {
		s.walksFail(c, err, nil)
		return
	}
	c.Redirect(http.StatusSeeOther, s.walksPath(c.Param("code"), url.Values{"saved": {"1"}}))
}

// postOutcomePage: POST /coordinator/areas/{code}/walks/outcome (code,
// outcome), for typing codes off a stack of forms.
func (s *Server) postOutcomePage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	f := c.Request.PostForm
	o, err := s.svc.RecordOutcome(c.Request.Context(), c.Param("code"), pledge.OutcomeRequest{Code: f.Get("code"), Outcome: pledge.Outcome(f.Get("outcome"))})
	if err != nil {
		s.walksFail(c, err, func(v *walksView) {
			v.Code = truncate(f.Get("code"), 20)
			if isOutcome(f.Get("outcome")) {
				v.Outcome = f.Get("outcome")
			}
		})
		return
	}
	c.Redirect(http.StatusSeeOther, s.walksPath(c.Param("code"), url.Values{"recorded": {o.Code}, "outcome": {string(o.Outcome)}}))
}

// postAssignPage: POST /coordinator/walks/{id}/assign (volunteer, days).
func (s *Server) postAssignPage(c *gin.Context) {
	s.walkFormChange(c, func(id int64) (pledge.Walk, error) {
		f := c.Request.PostForm
		days := 0
		if d := strings.TrimSpace(f.Get("days")); d != "" {
			var err error
			if days, err = strconv.Atoi(d); err != nil {
				return pledge.Walk{}, pledge.FieldError("days", "days is a whole number")
			}
		}
		return s.svc.AssignWalk(c.Request.Context(), id, f.Get("volunteer"), days)
	})
}

// postReturnPage: POST /coordinator/walks/{id}/return.
func (s *Server) postReturnPage(c *gin.Context) {
	s.walkFormChange(c, func(id int64) (pledge.Walk, error) { return s.svc.ReturnWalk(c.Request.Context(), id) })
}

func (s *Server) walkFormChange(c *gin.Context, change func(int64) (pledge.Walk, error)) {
	if !s.requireUser(c) {
		return
	}
	id, err := idParam(c, "id")
	var w pledge.Walk
	if err == nil {
		w, err = change(id)
	}
	if err != nil {
		// The page of the walk's area, when the user may see it.
		if wk, werr := s.svc.Walk(c.Request.Context(), id); werr == nil {
			c.Params = append(c.Params, gin.Param{Key: "code", Value: wk.AreaCode})
			s.walksFail(c, err, nil)
			return
		}
		s.renderReason(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.walksPath(w.AreaCode, url.Values{"saved": {"1"}}))
}
