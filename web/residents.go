package web

import (
	"net/http"
	"net/url"

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
		s.renderError(c, err, "err.link_expired")
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
