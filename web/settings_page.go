package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// The area's settings in the browser: threshold, deadline, the cost
// parameters of the price model and the POP, placed by a click on the map.

// settingsView is the settings page.
type settingsView struct {
	Code, Name, Status string
	Threshold          string
	ThresholdUnits     string
	Deadline           string // YYYY-MM-DD
	Money              []moneyField
	Split              string
	Splits             []string
	Detour             string
	PopLon, PopLat     string
	Stored             bool // the area has its own cost parameters
}

// moneyField is one amount of the cost parameters, in kroner.
type moneyField struct {
	Name, Label, Value string
}

// moneyFields are the cost parameters' amounts: form name (the API's
// field name) and what pledge.CostParams holds.
var moneyFields = []struct {
	name string
	get  func(*pledge.CostParams) *int64
}{
	{"trench_cost_per_m", func(p *pledge.CostParams) *int64 { return &p.TrenchPerM }},
	{"drop_cost_per_m", func(p *pledge.CostParams) *int64 { return &p.DropPerM }},
	{"connection_cost", func(p *pledge.CostParams) *int64 { return &p.PerConnection }},
	{"fixed_cost", func(p *pledge.CostParams) *int64 { return &p.Fixed }},
	{"state_subsidy_avg_cap", func(p *pledge.CostParams) *int64 { return &p.StateSubsidyAvgCap }},
	{"municipal_topup", func(p *pledge.CostParams) *int64 { return &p.MunicipalTopUp }},
	{"provider_contribution", func(p *pledge.CostParams) *int64 { return &p.ProviderContribution }},
	{"min_own_payment", func(p *pledge.CostParams) *int64 { return &p.MinOwnPayment }},
	{"community_fund", func(p *pledge.CostParams) *int64 { return &p.CommunityFund }},
	{"household_cap", func(p *pledge.CostParams) *int64 { return &p.HouseholdCap }},
}

func (s *Server) settingsData(c *gin.Context, p *pageData, l *Locale) error {
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionEditArea, code); err != nil {
		return err
	}
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		return err
	}
	cp, stored, err := s.svc.CostParams(ctx, code)
	if err != nil {
		return err
	}
	v := &settingsView{Code: a.Code, Name: a.Name, Status: l.T("status." + string(a.Status)), Stored: stored,
		Threshold: strconv.FormatFloat(a.ThresholdPercent, 'f', -1, 64), ThresholdUnits: strconv.Itoa(a.ThresholdUnits),
		Split: string(cp.Split), Splits: []string{string(pledge.SplitEqual), string(pledge.SplitByDrop), string(pledge.SplitCapped)}}
	if v.Split == "" {
		v.Split = string(pledge.SplitEqual)
	}
	if cp.Detour != 0 {
		v.Detour = strconv.FormatFloat(cp.Detour, 'f', -1, 64)
	}
	if a.Deadline != nil {
		v.Deadline = a.Deadline.Format(time.DateOnly)
	}
	if cp.POP != nil {
		v.PopLon, v.PopLat = strconv.FormatFloat(cp.POP[0], 'f', 6, 64), strconv.FormatFloat(cp.POP[1], 'f', 6, 64)
	}
	for _, f := range moneyFields {
		v.Money = append(v.Money, moneyField{Name: f.name, Label: l.T("settings." + f.name), Value: kronerInput(l, *f.get(&cp))})
	}
	p.Settings = v
	s.withMap(p)
	return nil
}

// settingsPage: GET /coordinator/areas/{code}/settings.
func (s *Server) settingsPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "settings.title")
	if err := s.settingsData(c, p, l); err != nil {
		s.renderReason(c, err)
		return
	}
	if c.Query("saved") != "" {
		p.Notice = l.T("tender.saved")
	}
	s.render(c, http.StatusOK, "coordinator_settings", p)
}

// settingsFail shows the page again with what was typed and err.
func (s *Server) settingsFail(c *gin.Context, err error) {
	p, l := s.accountPage(c, "settings.title")
	if derr := s.settingsData(c, p, l); derr != nil {
		s.renderReason(c, derr)
		return
	}
	f := c.Request.PostForm
	v := p.Settings
	if f.Has("threshold") {
		v.Threshold, v.ThresholdUnits, v.Deadline = f.Get("threshold"), f.Get("threshold_units"), f.Get("deadline")
	}
	if f.Has("split_rule") {
		for i := range v.Money {
			v.Money[i].Value = f.Get(v.Money[i].Name)
		}
		v.Split, v.Detour, v.PopLon, v.PopLat = f.Get("split_rule"), f.Get("detour"), f.Get("pop_lon"), f.Get("pop_lat")
	}
	s.formFail(c, l, p, "coordinator_settings", err)
}

// postSettings: POST /coordinator/areas/{code}/settings: the threshold
// and the deadline. A later deadline is an extension, announced on the
// public page.
func (s *Server) postSettings(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	f := c.Request.PostForm
	var set pledge.AreaSettings
	pct, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(f.Get("threshold")), ",", "."), 64)
	if err != nil {
		s.settingsFail(c, pledge.FieldError("threshold", "the threshold is a percent"))
		return
	}
	set.ThresholdPercent = &pct
	units, err := strconv.Atoi(strings.TrimSpace(f.Get("threshold_units")))
	if err != nil {
		s.settingsFail(c, pledge.FieldError("threshold_units", "the minimum is a number of households"))
		return
	}
	set.ThresholdUnits = &units
	switch d := strings.TrimSpace(f.Get("deadline")); d {
	case "":
		set.ClearDeadline = true
	default:
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			s.settingsFail(c, pledge.FieldError("deadline", "the deadline is a date"))
			return
		}
		end := pledge.DeadlineOn(day)
		set.Deadline = &end
	}
	if _, err := s.svc.UpdateAreaSettings(c.Request.Context(), c.Param("code"), set); err != nil {
		s.settingsFail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(c.Param("code"))+"/settings?saved=1"))
}

// postCostParams: POST /coordinator/areas/{code}/cost: the price model's
// parameters in kroner, and the POP (lon, lat; both empty for the area's
// point on surface).
func (s *Server) postCostParams(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	l := s.locale(c)
	f := c.Request.PostForm
	var cp pledge.CostParams
	for _, m := range moneyFields {
		v, err := parseKroner(l.Lang, m.name, f.Get(m.name))
		if err != nil {
			s.settingsFail(c, err)
			return
		}
		*m.get(&cp) = v
	}
	cp.Split = pledge.SplitRule(f.Get("split_rule"))
	if d := strings.TrimSpace(f.Get("detour")); d != "" {
		v, err := strconv.ParseFloat(strings.ReplaceAll(d, ",", "."), 64)
		if err != nil {
			s.settingsFail(c, pledge.FieldError("detour", "the detour factor is a number such as 1.3"))
			return
		}
		cp.Detour = v
	}
	lon, lat := strings.TrimSpace(f.Get("pop_lon")), strings.TrimSpace(f.Get("pop_lat"))
	if lon != "" || lat != "" {
		x, err1 := strconv.ParseFloat(lon, 64)
		y, err2 := strconv.ParseFloat(lat, 64)
		if err1 != nil || err2 != nil {
			s.settingsFail(c, pledge.FieldError("pop", "the POP is a longitude and a latitude, such as 10.15 and 55.27"))
			return
		}
		cp.POP = &orb.Point{x, y}
	}
	if err := s.svc.SetCostParams(c.Request.Context(), c.Param("code"), cp); err != nil {
		s.settingsFail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(c.Param("code"))+"/settings?saved=1"))
}
