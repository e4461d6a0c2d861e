package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// The residents' confirmation link and notice settings (issue 14, 5 and 7).

// confirmPage: GET /confirm/{secret} shows a button that confirms the
// pledge. The link itself changes nothing: mail scanners open links.
func (s *Server) confirmPage(c *gin.Context) {
	l := s.locale(c)
	p := s.newPage(c, l, &url.URL{Path: "/confirm/" + url.PathEscape(c.Param("secret"))})
	p.TokenPage, p.Title, p.CSRF = true, l.T("confirm.title"), s.csrfToken(c)
	p.ManagePath = "/confirm/" + url.PathEscape(c.Param("secret"))
	s.render(c, http.StatusOK, "confirm", p)
}

// postConfirm: POST /confirm/{secret} confirms the pledge and shows its
// manage page.
func (s *Server) postConfirm(c *gin.Context) {
	pl, err := s.svc.ConfirmPledge(c.Request.Context(), c.Param("secret"))
	if err != nil {
		tokenPageHeaders(c)
		s.renderReasonError(c, err)
		return
	}
	tokenPageHeaders(c)
	c.Redirect(http.StatusSeeOther, s.publicURL(managePath(pl.Token)+"?confirmed=1"))
}

// postNotices: POST /p/{token}/notices {notices=on|off} turns the e-mails
// about the area's progress on or off.
func (s *Server) postNotices(c *gin.Context) {
	l := s.locale(c)
	token := c.Param("token")
	on := c.Request.PostForm.Get("notices")
	if on != "on" && on != "off" {
		s.manageError(c, l, token, pledge.Invalid("notices", pledge.ReasonInvalid, "choose on or off"), nil)
		return
	}
	if _, err := s.svc.SetPledgeNotices(c.Request.Context(), token, on == "on"); err != nil {
		s.manageError(c, l, token, err, nil)
		return
	}
	tokenPageHeaders(c)
	c.Redirect(http.StatusSeeOther, s.publicURL(managePath(token)+"?saved=1"))
}

// myDataJSON is everything kept about a resident's pledge.
type myDataJSON struct {
	AddressID   string     `json:"address_id"`
	AddressText string     `json:"address_text"`
	AreaCode    string     `json:"area_code"`
	AreaName    string     `json:"area_name"`
	Unit        int        `json:"unit"`
	Name        string     `json:"name"`
	Email       string     `json:"email"`
	Phone       string     `json:"phone"`
	Consent     bool       `json:"consent"`
	Status      string     `json:"status"`
	Language    string     `json:"language"`
	Confirmed   bool       `json:"confirmed"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
	Notices     bool       `json:"notices"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ManageURL   string     `json:"manage_url"`
}

// myData: GET /p/{token}/data.json downloads what is kept about the
// resident's pledge.
func (s *Server) myData(c *gin.Context) {
	ctx := c.Request.Context()
	tokenPageHeaders(c)
	p, err := s.svc.Pledge(ctx, c.Param("token"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := myDataJSON{AddressID: p.AddressID, AreaCode: p.AreaCode, Unit: p.Unit, Name: p.Name, Email: p.Email, Phone: p.Phone,
		Consent: p.Consent, Status: string(p.Status), Language: pledge.ResidentLanguage(p.Language), Confirmed: !p.Unconfirmed,
		ConfirmedAt: p.ConfirmedAt, Notices: !p.NoticesOff, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		ManageURL: s.publicURL(managePath(p.Token))}
	if a, err := s.svc.Address(ctx, p.AddressID); err == nil {
		out.AddressText = a.Text
	}
	if a, err := s.svc.Area(ctx, p.AreaCode); err == nil {
		out.AreaName = a.Name
	}
	c.Header("Content-Disposition", `attachment; filename="kommunity-pledge.json"`)
	c.JSON(http.StatusOK, out)
}

// postDeleteData: POST /p/{token}/delete erases the resident's contact
// details (see pledge.Service.DeleteMyData).
func (s *Server) postDeleteData(c *gin.Context) {
	l := s.locale(c)
	token := c.Param("token")
	if _, _, err := s.svc.DeleteMyData(c.Request.Context(), token); err != nil {
		s.manageError(c, l, token, err, nil)
		return
	}
	tokenPageHeaders(c)
	c.Redirect(http.StatusSeeOther, s.publicURL(managePath(token)+"?deleted=1"))
}

// eraseContact: DELETE /api/areas/{code}/pledges/{id}/contact erases a
// pledge's contact details on the resident's request (pledges.erase;
// audited).
func (s *Server) eraseContact(c *gin.Context) {
	// A bad id is 0, which the service refuses after the permission
	// check: who may not erase learns nothing from the answer.
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		id = 0
	}
	p, err := s.svc.ErasePledgeContact(c.Request.Context(), c.Param("code"), id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, PledgeContactJSON{ID: p.ID, AddressID: p.AddressID, Unit: p.Unit, Status: string(p.Status),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Confirmed: !p.Unconfirmed})
}

// postErasePledge: POST /coordinator/areas/{code}/pledges/{id}/erase, the
// pledges page's button for a resident's request to erase their data.
func (s *Server) postErasePledge(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	code := c.Param("code")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		id = 0
	}
	if _, err := s.svc.ErasePledgeContact(c.Request.Context(), code, id); err != nil {
		s.renderReason(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.publicURL("/coordinator/areas/"+url.PathEscape(code)+"/pledges"))
}

// renderReasonError is renderError with the text of err's reason (an
// expired link, a closed area) when it has one, else its code's.
func (s *Server) renderReasonError(c *gin.Context, err error) {
	if k, ok := reasonKeys[pledge.ErrorReason(err)]; ok {
		s.renderError(c, err, k)
		return
	}
	s.renderError(c, err)
}
