package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// Pledges entered on a resident's behalf: the JSON API and the quick
// keyboard-only page for a stack of paper forms.

type entryInput struct {
	AddressID       string `json:"address_id"`
	Code            string `json:"code"`
	Unit            int    `json:"unit"`
	Name            string `json:"name"`
	Email           string `json:"email"`
	Phone           string `json:"phone"`
	Source          string `json:"source"`
	Batch           string `json:"batch"`
	PowerOfAttorney bool   `json:"power_of_attorney"`
}

func (in entryInput) request() pledge.EntryRequest {
	return pledge.EntryRequest{AddressID: in.AddressID, WalkCode: in.Code, Unit: in.Unit, Name: in.Name, Email: in.Email,
		Phone: in.Phone, Source: in.Source, Batch: in.Batch, PowerOfAttorney: in.PowerOfAttorney}
}

// enterPledge: POST /api/areas/{code}/pledges, a pledge entered by a
// coordinator; 201 with the pledge and its manage link for the resident.
func (s *Server) enterPledge(c *gin.Context) {
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionEnterPledges, code); err != nil {
		s.writeError(c, err)
		return
	}
	var in entryInput
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	p, err := s.svc.EnterPledge(ctx, code, in.request())
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, s.newPledgeJSON(p))
}

// entryView is the quick entry page.
type entryView struct {
	Code, Name string
	Form       entryInput
	Last       *pledgeRow // the pledge just entered
	Batch      []pledgeRow
}

// entryPage: GET /coordinator/areas/{code}/entry.
func (s *Server) entryPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	p, l := s.accountPage(c, "entry.title")
	if err := s.entryData(c, p, l, c.Query("batch"), c.Query("source")); err != nil {
		s.renderReason(c, err)
		return
	}
	if id, _ := strconv.ParseInt(c.Query("entered"), 10, 64); id > 0 {
		for i, r := range p.Entry.Batch {
			if r.ID == id {
				p.Entry.Last = &p.Entry.Batch[i]
				p.Notice = l.T("entry.entered", r.Address, r.Name)
			}
		}
	}
	s.render(c, http.StatusOK, "coordinator_entry", p)
}

// entryData fills the page: the area and the pledges of this batch.
func (s *Server) entryData(c *gin.Context, p *pageData, l *Locale, batch, source string) error {
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionEnterPledges, code); err != nil {
		return err
	}
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		return err
	}
	v := &entryView{Code: code, Name: a.Name, Form: entryInput{Batch: batch, Source: source}}
	if v.Form.Source == "" {
		v.Form.Source = pledge.SourcePaper
	}
	if batch != "" {
		entries, err := s.svc.AreaPledgeEntries(ctx, code)
		if err != nil {
			return err
		}
		ps, err := s.svc.AreaPledges(ctx, code)
		if err != nil {
			return err
		}
		texts, err := s.addressTexts(c, code)
		if err != nil {
			return err
		}
		for _, x := range ps {
			if e, ok := entries[x.ID]; ok && e.Batch == strings.TrimSpace(batch) {
				v.Batch = append(v.Batch, pledgeRow{Pledge: x, Address: texts[x.AddressID], Created: l.DateTime(x.CreatedAt),
					StatusText: l.T("pledge." + string(x.Status)), Source: e.Source})
			}
		}
		slices.Reverse(v.Batch) // newest first
	}
	p.Entry = v
	return nil
}

// postEntry: POST /coordinator/areas/{code}/entry, one form: the next
// page has the same batch and source and the cursor on the code again.
func (s *Server) postEntry(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	code := c.Param("code")
	f := c.Request.PostForm
	in := entryInput{Code: strings.TrimSpace(f.Get("code")), Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone"),
		Source: f.Get("source"), Batch: f.Get("batch"), PowerOfAttorney: f.Get("power_of_attorney") == "yes"}
	if u, err := strconv.Atoi(strings.TrimSpace(f.Get("unit"))); err == nil {
		in.Unit = u
	}
	pl, err := s.svc.EnterPledge(ctx, code, in.request())
	if err != nil {
		p, l := s.accountPage(c, "entry.title")
		if derr := s.entryData(c, p, l, in.Batch, in.Source); derr != nil {
			s.renderReason(c, derr)
			return
		}
		p.Entry.Form = in
		if pledge.ErrorCode(err) == pledge.ECONFLICT && pledge.ErrorReason(err) == "" {
			err = pledge.FieldError("code", "%s", pledge.ErrorMessage(err))
		}
		s.formFail(c, l, p, "coordinator_entry", err)
		return
	}
	q := url.Values{"batch": {in.Batch}, "source": {in.Source}, "entered": {strconv.FormatInt(pl.ID, 10)}}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(code)+"/entry?"+q.Encode()))
}
