package web

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// The tender pages: providers' open tenders (a map and a filtered list),
// an area's tender with the provider's own bid, and the coordinator's
// side-by-side comparison and award. They are forms like the account
// pages; what a user may see or do is decided by pledge.Service.

// tenderPage is what the tender pages show.
type tenderPage struct {
	Rows      []tenderRow
	Filter    tenderFilter
	Councils  []string // municipalities to filter by
	Codes     string   // the listed areas' codes, for the map
	Row       *tenderRow
	Tender    *pledge.Tender
	Deadline  string
	CloseAt   string
	BidsOpen  bool
	Packages  []packageLink
	Mine      *bidRow   // the provider's standing or latest bid
	History   []bidRow  // its revisions, newest first
	Bids      []bidRow  // all bids, for the coordinator
	Chart     *bidChart // implied household prices side by side
	Form      bidForm
	MinDate   string // the earliest bid deadline a new tender may have (YYYY-MM-DD)
	MinText   string // the same, in words
	CanAward  bool
	Awarded   *bidRow
	Status    string
	IsAdmin   bool
	Threshold string // the area's threshold, in words
}

type tenderRow struct {
	Code, Name, Municipality   string
	Units, Pledged             int
	TakeUp, StatusText, Status string
	Deadline, Days             string
	HasTender                  bool
	TakeUpPct                  float64
	deadline                   time.Time
}

type tenderFilter struct {
	MinTakeUp, MinUnits, MaxUnits, Municipality, Before, Sort string
}

type packageLink struct{ Lang, Name, URL string }

type bidRow struct {
	ID                              int64
	Company, Status, StatusText     string
	Price, Contribution             string
	Timeline                        int
	OpenAccess                      bool
	Notes                           string
	Attachment                      string // its URL, "" without one
	AttachmentName                  string
	Revision                        int
	Updated                         string
	Household, BuildCost, Shortfall string // implied, for the coordinator
	Won                             bool
}

type bidForm struct {
	Price, Contribution, Timeline, Notes string
	OpenAccess                           bool
	Deadline, Association, Contact, Town string
	Reason                               string
}

type bidChart struct{ Bars []chartBar }

// chartBar is one bid's bar: W is its length in percent of the longest.
type chartBar struct {
	Label, Value string
	W            int
	Won          bool
}

func (s *Server) tenderPageData(c *gin.Context, titleKey string) (*pageData, *Locale) {
	p, l := s.accountPage(c, titleKey)
	p.Tender = &tenderPage{}
	if u := pledge.UserFrom(c.Request.Context()); u != nil {
		p.Tender.IsAdmin = u.Role == pledge.RoleAdmin
	}
	return p, l
}

func (s *Server) newTenderRow(l *Locale, a pledge.Area, t *pledge.Tender, now time.Time) tenderRow {
	r := tenderRow{Code: a.Code, Name: a.Name, Units: a.Units, Pledged: a.PledgedUnits, TakeUp: l.Percent(a.TakeUp() * 100),
		TakeUpPct: a.TakeUp() * 100, Status: string(a.Status), StatusText: l.T("tender.status." + string(a.Status)), Municipality: s.svc.TenderMunicipality}
	if t != nil {
		r.HasTender, r.Municipality, r.deadline = true, orText(t.Municipality, s.svc.TenderMunicipality), t.Deadline
		r.Deadline = l.Date(t.Deadline)
		if d := int(math.Ceil(t.BidsCloseAt().Sub(now).Hours() / 24)); d > 0 {
			r.Days = l.N("tender.days", d)
		} else {
			r.Days = l.T("tender.closed")
		}
	}
	return r
}

func orText(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// providerPage: GET /provider, the open tenders on a map and in a list,
// filtered by take-up, units, municipality and deadline.
func (s *Server) providerPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	list, err := s.svc.Tenders(c.Request.Context())
	if err != nil {
		s.renderReason(c, err)
		return
	}
	p, l := s.tenderPageData(c, "provider.title")
	s.withMap(p)
	now := s.now()
	f := tenderFilter{MinTakeUp: c.Query("min_take_up"), MinUnits: c.Query("min_units"), MaxUnits: c.Query("max_units"),
		Municipality: c.Query("municipality"), Before: c.Query("before"), Sort: c.DefaultQuery("sort", "deadline")}
	p.Tender.Filter = f
	minTake, _ := strconv.ParseFloat(strings.ReplaceAll(f.MinTakeUp, ",", "."), 64)
	minUnits, _ := strconv.Atoi(f.MinUnits)
	maxUnits, _ := strconv.Atoi(f.MaxUnits)
	before, beforeErr := time.Parse(time.DateOnly, f.Before)
	councils := map[string]bool{}
	var codes []string
	for _, ta := range list {
		r := s.newTenderRow(l, ta.Area, ta.Tender, now)
		if r.Municipality != "" {
			councils[r.Municipality] = true
		}
		switch {
		case minTake > 0 && r.TakeUpPct < minTake,
			minUnits > 0 && r.Units < minUnits,
			maxUnits > 0 && r.Units > maxUnits,
			f.Municipality != "" && r.Municipality != f.Municipality,
			beforeErr == nil && (!r.HasTender || r.deadline.After(before)):
			continue
		}
		p.Tender.Rows = append(p.Tender.Rows, r)
		codes = append(codes, r.Code)
	}
	switch f.Sort {
	case "take_up":
		slices.SortStableFunc(p.Tender.Rows, func(a, b tenderRow) int { return cmpFloat(b.TakeUpPct, a.TakeUpPct) })
	case "units":
		slices.SortStableFunc(p.Tender.Rows, func(a, b tenderRow) int { return b.Units - a.Units })
	}
	for m := range councils {
		p.Tender.Councils = append(p.Tender.Councils, m)
	}
	slices.Sort(p.Tender.Councils)
	p.Tender.Codes = strings.Join(codes, ",")
	s.render(c, http.StatusOK, "provider", p)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// providerAreaPage: GET /provider/areas/{code}: the tender, the package
// downloads, the provider's own bid with its history, and the bid form.
func (s *Server) providerAreaPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.tenderPageData(c, "provider.area.title")
	if err := s.providerAreaData(c, p, l); err != nil {
		s.renderReason(c, err)
		return
	}
	if c.Query("saved") != "" {
		p.Notice = l.T("bid.saved")
	}
	s.render(c, http.StatusOK, "provider_area", p)
}

func (s *Server) providerAreaData(c *gin.Context, p *pageData, l *Locale) error {
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.CanDownloadPackage(ctx, code); err != nil {
		return err
	}
	// This is the providers' page (admins may look); coordinators have
	// their own.
	u := pledge.UserFrom(ctx)
	if u.Role == pledge.RoleCoordinator {
		return &pledge.Error{Code: pledge.EFORBIDDEN, Reason: pledge.ReasonForbidden, Message: "providers' page"}
	}
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		return err
	}
	v, err := s.svc.Bids(ctx, code)
	if err != nil {
		return err
	}
	now := s.now()
	tp := p.Tender
	tp.Status = string(a.Status)
	var t *pledge.Tender
	if v.Tender.Round > 0 {
		t = &v.Tender
		tp.Tender, tp.Deadline, tp.CloseAt, tp.BidsOpen = t, l.Date(t.Deadline), l.DateTime(t.BidsCloseAt()), t.BidsOpen(now) && a.Status == pledge.StatusTenderOpen
	}
	r := s.newTenderRow(l, a, t, now)
	tp.Row = &r
	for _, lang := range languages {
		tp.Packages = append(tp.Packages, packageLink{Lang: lang, Name: l.T("lang." + lang), URL: "/api/areas/" + url.PathEscape(code) + "/tender.zip?lang=" + lang})
	}
	// The provider's bid: the standing one, else the latest.
	for i := len(v.Bids) - 1; i >= 0 && u.Role == pledge.RoleProvider; i-- {
		b := v.Bids[i]
		if tp.Mine == nil || b.Status == pledge.BidSubmitted || b.Status == pledge.BidWon || b.Status == pledge.BidLost {
			row := s.newBidRow(l, b, nil)
			tp.Mine = &row
			if b.Status != pledge.BidWithdrawn {
				break
			}
		}
	}
	if tp.Mine != nil {
		revs, err := s.svc.BidRevisions(ctx, tp.Mine.ID)
		if err != nil {
			return err
		}
		for i := len(revs) - 1; i >= 0; i-- {
			tp.History = append(tp.History, s.newBidRow(l, revs[i], nil))
		}
		if tp.Mine.Status == string(pledge.BidSubmitted) {
			b := v.Bids[slices.IndexFunc(v.Bids, func(b pledge.Bid) bool { return b.ID == tp.Mine.ID })]
			tp.Form = bidForm{Price: kronerInput(l, b.PricePerConnection), Contribution: kronerInput(l, b.HouseholdContribution),
				Timeline: strconv.Itoa(b.TimelineMonths), OpenAccess: b.OpenAccess, Notes: b.Notes}
		}
	}
	return nil
}

func (s *Server) newBidRow(l *Locale, b pledge.Bid, price *pledge.BidPrice) bidRow {
	r := bidRow{ID: b.ID, Company: b.Company, Status: string(b.Status), StatusText: l.T("bid.status." + string(b.Status)),
		Price: l.Money(b.PricePerConnection), Contribution: l.Money(b.HouseholdContribution), Timeline: b.TimelineMonths,
		OpenAccess: b.OpenAccess, Notes: b.Notes, Revision: b.Revision, Updated: l.DateTime(b.UpdatedAt), Won: b.Status == pledge.BidWon}
	if b.Attachment != nil {
		r.Attachment, r.AttachmentName = "/api/bids/"+strconv.FormatInt(b.ID, 10)+"/attachment", b.Attachment.Name
	}
	if price != nil {
		r.Household, r.BuildCost, r.Shortfall = l.Money(price.HouseholdShare), l.Money(price.BuildCost), l.Money(price.Split.Shortfall)
	}
	return r
}

// kronerInput shows an amount in øre as a form value in kroner.
func kronerInput(l *Locale, ore int64) string {
	if ore%100 == 0 {
		return strconv.FormatInt(ore/100, 10)
	}
	s := strconv.FormatFloat(float64(ore)/100, 'f', 2, 64)
	if l.Lang == "da" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// parseKroner reads an amount in kroner as typed in lang ("25.000,50" in
// Danish, "25,000.50" in English, spaces allowed) and returns øre.
func parseKroner(lang, field, s string) (int64, error) {
	s = strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "kr.")), "kr")), "")
	thousands, decimal := ",", "."
	if lang == "da" {
		thousands, decimal = ".", ","
	}
	s = strings.ReplaceAll(s, thousands, "")
	s = strings.Replace(s, decimal, ".", 1)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e9 {
		return 0, pledge.FieldError(field, "%s is an amount in kroner", field)
	}
	return int64(math.Round(f * 100)), nil
}

// postProviderBid: POST /provider/areas/{code}/bid (multipart, with an
// optional PDF): submits the provider's bid, or changes its standing one.
func (s *Server) postProviderBid(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionBid, code); err != nil {
		s.renderReason(c, err)
		return
	}
	p, l := s.tenderPageData(c, "provider.area.title")
	form := c.Request.PostForm
	p.Tender.Form = bidForm{Price: form.Get("price"), Contribution: form.Get("contribution"), Timeline: form.Get("timeline"),
		Notes: form.Get("notes"), OpenAccess: form.Get("open_access") == "yes"}
	fail := func(err error) {
		if derr := s.providerAreaData(c, p, l); derr != nil {
			s.renderError(c, derr)
			return
		}
		// Keep what was typed, not the stored bid.
		p.Tender.Form = bidForm{Price: form.Get("price"), Contribution: form.Get("contribution"), Timeline: form.Get("timeline"),
			Notes: form.Get("notes"), OpenAccess: form.Get("open_access") == "yes"}
		s.formFail(c, l, p, "provider_area", err)
	}
	var r pledge.BidRequest
	var err error
	if r.PricePerConnection, err = parseKroner(l.Lang, "price_per_connection", form.Get("price")); err != nil {
		fail(err)
		return
	}
	if r.HouseholdContribution, err = parseKroner(l.Lang, "household_contribution", form.Get("contribution")); err != nil {
		fail(err)
		return
	}
	if r.TimelineMonths, err = strconv.Atoi(strings.TrimSpace(form.Get("timeline"))); err != nil {
		fail(pledge.FieldError("timeline_months", "the build timeline is a number of months"))
		return
	}
	r.OpenAccess, r.Notes = form.Get("open_access") == "yes", form.Get("notes")
	if fh, err := c.FormFile("attachment"); err == nil && fh.Size > 0 {
		if fh.Size > pledge.MaxBidAttachment {
			fail(pledge.Invalid("attachment", pledge.ReasonNotPDF, "the attachment is larger than 10 MB"))
			return
		}
		f, err := fh.Open()
		if err != nil {
			fail(pledge.FieldError("attachment", "could not read the attachment"))
			return
		}
		r.Attachment, err = io.ReadAll(io.LimitReader(f, pledge.MaxBidAttachment+1))
		f.Close()
		if err != nil {
			fail(pledge.FieldError("attachment", "could not read the attachment"))
			return
		}
		r.AttachmentName = fh.Filename
	}
	v, err := s.svc.Bids(ctx, code)
	if err != nil {
		fail(err)
		return
	}
	standing := int64(0)
	for _, b := range v.Bids {
		if b.Status == pledge.BidSubmitted {
			standing = b.ID
		}
	}
	if standing != 0 {
		_, err = s.svc.ChangeBid(ctx, standing, r)
	} else {
		_, err = s.svc.SubmitBid(ctx, code, r)
	}
	if err != nil {
		fail(err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/provider/areas/"+url.PathEscape(code)+"?saved=1"))
}

// postWithdrawBid: POST /provider/areas/{code}/bid/withdraw.
func (s *Server) postWithdrawBid(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionBid, code); err != nil {
		s.renderReason(c, err)
		return
	}
	id, _ := strconv.ParseInt(c.Request.PostForm.Get("bid_id"), 10, 64)
	if _, err := s.svc.WithdrawBid(ctx, id); err != nil {
		p, l := s.tenderPageData(c, "provider.area.title")
		if derr := s.providerAreaData(c, p, l); derr != nil {
			s.renderError(c, derr)
			return
		}
		s.formFail(c, l, p, "provider_area", err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/provider/areas/"+url.PathEscape(code)+"?saved=1"))
}

// coordinatorTenderPage: GET /coordinator/areas/{code}/tender: open or
// extend the tender; compare the bids side by side with the household
// price each implies; award one; mark the area built.
func (s *Server) coordinatorTenderPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.tenderPageData(c, "coordinator.tender.title")
	if err := s.coordinatorTenderData(c, p, l); err != nil {
		s.renderReason(c, err)
		return
	}
	if c.Query("saved") != "" {
		p.Notice = l.T("tender.saved")
	}
	s.render(c, http.StatusOK, "coordinator_tender", p)
}

func (s *Server) coordinatorTenderData(c *gin.Context, p *pageData, l *Locale) error {
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionManageTender, code); err != nil {
		return err
	}
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		return err
	}
	v, err := s.svc.Bids(ctx, code)
	if err != nil {
		return err
	}
	now := s.now()
	tp := p.Tender
	tp.Status = string(a.Status)
	tp.Threshold = l.Percent(a.ThresholdPercent)
	var t *pledge.Tender
	if v.Tender.Round > 0 && a.Status != pledge.StatusThresholdReached && a.Status != pledge.StatusCollecting {
		t = &v.Tender
		tp.Tender, tp.Deadline, tp.CloseAt, tp.BidsOpen = t, l.Date(t.Deadline), l.DateTime(t.BidsCloseAt()), t.BidsOpen(now)
		tp.CanAward = a.Status == pledge.StatusTenderOpen && !now.Before(t.BidsCloseAt())
		tp.Form = bidForm{Deadline: t.Deadline.Format(time.DateOnly), Association: t.Association, Contact: t.Contact, Town: t.Municipality}
	} else {
		tp.Form = bidForm{Association: s.svc.TenderAssociation, Contact: s.svc.TenderContact, Town: s.svc.TenderMunicipality}
	}
	r := s.newTenderRow(l, a, t, now)
	tp.Row = &r
	earliest := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, pledge.MinTenderDays)
	tp.MinDate, tp.MinText = earliest.Format(time.DateOnly), l.Date(earliest)
	if t != nil {
		for _, b := range v.Bids {
			if b.Status == pledge.BidWithdrawn || b.Status == pledge.BidCancelled {
				continue
			}
			var price *pledge.BidPrice
			if pr, ok := v.Prices[b.ID]; ok {
				price = &pr
			}
			row := s.newBidRow(l, b, price)
			tp.Bids = append(tp.Bids, row)
			if b.Status == pledge.BidWon {
				tp.Awarded = &row
			}
		}
		tp.Chart = newBidChart(l, v)
	}
	return nil
}

// newBidChart draws the implied household price of each standing bid as
// horizontal bars, longest for the dearest.
func newBidChart(l *Locale, v pledge.BidsView) *bidChart {
	var most int64
	for _, b := range v.Bids {
		if pr, ok := v.Prices[b.ID]; ok && b.Status != pledge.BidWithdrawn && b.Status != pledge.BidCancelled {
			most = max(most, pr.HouseholdShare)
		}
	}
	if most == 0 {
		return nil
	}
	ch := &bidChart{}
	for _, b := range v.Bids {
		pr, ok := v.Prices[b.ID]
		if !ok || b.Status == pledge.BidWithdrawn || b.Status == pledge.BidCancelled {
			continue
		}
		w := int(math.Round(float64(pr.HouseholdShare) / float64(most) * 100))
		ch.Bars = append(ch.Bars, chartBar{Label: fmt.Sprintf("%s (%d)", b.Company, b.ID), Value: l.Money(pr.HouseholdShare),
			W: max(w, 1), Won: b.Status == pledge.BidWon})
	}
	return ch
}

// coordinatorTenderFail shows the coordinator's page again with err.
func (s *Server) coordinatorTenderFail(c *gin.Context, err error, keep func(*bidForm)) {
	p, l := s.tenderPageData(c, "coordinator.tender.title")
	if derr := s.coordinatorTenderData(c, p, l); derr != nil {
		s.renderReason(c, derr)
		return
	}
	keep(&p.Tender.Form)
	s.formFail(c, l, p, "coordinator_tender", err)
}

// postOpenTender: POST /coordinator/areas/{code}/tender opens the tender
// or extends its deadline.
func (s *Server) postOpenTender(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	code := c.Param("code")
	f := c.Request.PostForm
	keep := func(bf *bidForm) {
		bf.Deadline, bf.Association, bf.Contact, bf.Town = f.Get("deadline"), f.Get("association"), f.Get("contact"), f.Get("municipality")
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(f.Get("deadline")))
	if err != nil {
		s.coordinatorTenderFail(c, pledge.FieldError("deadline", "the bid deadline is a date"), keep)
		return
	}
	_, _, err = s.svc.OpenTender(c.Request.Context(), code, pledge.TenderRequest{Deadline: d, Association: f.Get("association"),
		Contact: f.Get("contact"), Municipality: f.Get("municipality")})
	if err != nil {
		s.coordinatorTenderFail(c, err, keep)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(code)+"/tender?saved=1"))
}

// postAward: POST /coordinator/areas/{code}/award {bid_id, reason}.
func (s *Server) postAward(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	code := c.Param("code")
	f := c.Request.PostForm
	id, _ := strconv.ParseInt(f.Get("bid_id"), 10, 64)
	if _, _, err := s.svc.AwardTender(c.Request.Context(), code, id, f.Get("reason")); err != nil {
		s.coordinatorTenderFail(c, err, func(bf *bidForm) { bf.Reason = f.Get("reason") })
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(code)+"/tender?saved=1"))
}

// postBuilt: POST /coordinator/areas/{code}/built.
func (s *Server) postBuilt(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	code := c.Param("code")
	if _, err := s.svc.MarkBuilt(c.Request.Context(), code); err != nil {
		s.coordinatorTenderFail(c, err, func(*bidForm) {})
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(code)+"/tender?saved=1"))
}
