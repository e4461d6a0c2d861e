package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// dashboardView is the coordinator's area dashboard.
type dashboardView struct {
	Code, Name, Status, StatusText string
	Pledged, ThresholdUnits        int
	Units, Addresses               int
	TakeUp, Threshold              string
	DaysLeft, Deadline             string
	PriceNow, PriceThreshold       string
	NextMore                       int
	NextPrice                      string
	Chart                          *takeUpChart
	Pledges                        []pledgeRow
	Query, StatusFilter            string
	SourceFilter                   string
	Shown, Total                   int
}

// takeUpChart is take-up over time as SVG coordinates in a 300 x 120 box:
// the pledged units per day, the threshold line, and the straight line
// from the first pledge to the threshold at the deadline.
type takeUpChart struct {
	Line                   string // polyline points of pledged units
	ThresholdY             string
	TargetX1, TargetY1     string
	TargetX2, TargetY2     string
	HasTarget              bool
	TodayX                 string
	MaxLabel, ThresholdLbl string
	StartLabel, EndLabel   string
	Summary                string // the chart in words, for screen readers
	Rows                   []chartDay
}

type chartDay struct {
	Day   string
	Units int
}

const chartW, chartH, chartPad = 300.0, 120.0, 8.0

func newTakeUpChart(l *Locale, d pledge.Dashboard, now time.Time) *takeUpChart {
	if len(d.Days) == 0 {
		return nil
	}
	end := d.Days[len(d.Days)-1].Day
	if d.Area.Deadline != nil && d.Area.Deadline.After(end) {
		end = time.Date(d.Area.Deadline.Year(), d.Area.Deadline.Month(), d.Area.Deadline.Day(), 0, 0, 0, 0, time.UTC)
	}
	span := end.Sub(d.Start).Hours() / 24
	if span < 1 {
		span = 1
	}
	top := d.ThresholdUnits
	for _, day := range d.Days {
		top = max(top, day.Units)
	}
	top = top + top/10 + 1
	x := func(t time.Time) float64 { return chartPad + (t.Sub(d.Start).Hours()/24)/span*(chartW-2*chartPad) }
	y := func(u int) float64 { return chartH - chartPad - float64(u)/float64(top)*(chartH-2*chartPad) }
	f := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	ch := &takeUpChart{ThresholdY: f(y(d.ThresholdUnits)), TodayX: f(x(d.Days[len(d.Days)-1].Day)),
		MaxLabel: l.Int(top), ThresholdLbl: l.T("dashboard.chart.threshold", l.Int(d.ThresholdUnits)),
		StartLabel: l.Date(d.Start), EndLabel: l.Date(end)}
	var pts []string
	for _, day := range d.Days {
		pts = append(pts, f(x(day.Day))+","+f(y(day.Units)))
		ch.Rows = append(ch.Rows, chartDay{Day: l.Date(day.Day), Units: day.Units})
	}
	if len(pts) == 1 { // one day: a short flat line, so it shows
		pts = append(pts, f(x(d.Days[0].Day)+2)+","+f(y(d.Days[0].Units)))
	}
	ch.Line = strings.Join(pts, " ")
	if d.Area.Deadline != nil {
		ch.HasTarget = true
		ch.TargetX1, ch.TargetY1 = f(x(d.Start)), f(y(0))
		ch.TargetX2, ch.TargetY2 = f(x(end)), f(y(d.ThresholdUnits))
	}
	last := d.Days[len(d.Days)-1].Units
	if d.Target != nil {
		ch.Summary = l.T("dashboard.chart.summary_target", l.Int(last), l.Int(d.ThresholdUnits), l.Int(*d.Target))
	} else {
		ch.Summary = l.T("dashboard.chart.summary", l.Int(last), l.Int(d.ThresholdUnits))
	}
	return ch
}

// areaDashboard: GET /coordinator/areas/{code}: take-up over time, today's
// figures, a map of the addresses, and the pledge list (each view of its
// contact data is in the audit log).
func (s *Server) areaDashboard(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	code := c.Param("code")
	d, err := s.svc.Dashboard(ctx, code)
	if err != nil {
		s.renderReason(c, err)
		return
	}
	ps, err := s.svc.AreaPledges(ctx, code)
	if err != nil {
		s.renderError(c, err)
		return
	}
	p, l := s.accountPage(c, "dashboard.title")
	s.withMap(p)
	now := s.now()
	a := d.Area
	v := &dashboardView{Code: a.Code, Name: a.Name, Status: string(a.Status), StatusText: l.T("status." + string(a.Status)),
		Pledged: a.PledgedUnits, ThresholdUnits: d.ThresholdUnits, Units: a.Units, Addresses: a.Addresses,
		TakeUp: l.Percent(a.TakeUp() * 100), Threshold: l.Percent(a.ThresholdPercent), Deadline: l.DateOf(a.Deadline),
		Chart: newTakeUpChart(l, d, now), Query: strings.TrimSpace(c.Query("q")), StatusFilter: c.Query("status"), SourceFilter: c.Query("source")}
	if d.DaysLeft != nil {
		v.DaysLeft = l.N("tender.days", max(*d.DaysLeft, 0))
	}
	if cv := d.Curve; cv != nil {
		if cv.Current != nil {
			v.PriceNow = l.Money(roundKroner(cv.Current.HouseholdShare))
		}
		for _, pt := range cv.Points {
			if pt.Units == cv.ThresholdUnits {
				v.PriceThreshold = l.Money(roundKroner(pt.HouseholdShare))
			}
		}
		if len(cv.IfMoreJoin) > 0 {
			v.NextMore, v.NextPrice = cv.IfMoreJoin[0].More, l.Money(roundKroner(cv.IfMoreJoin[0].HouseholdShare))
		}
	}
	texts, err := s.addressTexts(c, code)
	if err != nil {
		s.renderError(c, err)
		return
	}
	entries, err := s.svc.AreaPledgeEntries(ctx, code)
	if err != nil {
		s.renderError(c, err)
		return
	}
	q := strings.ToLower(v.Query)
	for _, x := range ps {
		v.Total++
		row := pledgeRow{Pledge: x, Address: texts[x.AddressID], Created: l.Date(x.CreatedAt), StatusText: l.T("pledge." + string(x.Status)),
			Source: pledge.SourceOf(entries, x.ID)}
		if v.SourceFilter != "" && row.Source != v.SourceFilter {
			continue
		}
		if v.StatusFilter != "" && string(x.Status) != v.StatusFilter {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(strings.Join([]string{row.Address, x.Name, x.Email, x.Phone, x.AddressID}, "\x00")), q) {
			continue
		}
		v.Pledges = append(v.Pledges, row)
	}
	v.Shown = len(v.Pledges)
	p.Dashboard = v
	s.render(c, http.StatusOK, "coordinator_area", p)
}

// roundKroner rounds øre to whole kroner: estimates in øre would claim a
// precision they lack.
func roundKroner(ore int64) int64 { return (ore + 50) / 100 * 100 }
