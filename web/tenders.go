package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// TenderJSON is an area's tender. deadline is the last day bids may be
// submitted, changed or withdrawn (UTC); bids_close_at the instant after.
type TenderJSON struct {
	Round        int        `json:"round"`
	OpenedAt     time.Time  `json:"opened_at"`
	Deadline     string     `json:"deadline"`
	BidsCloseAt  time.Time  `json:"bids_close_at"`
	BidsOpen     bool       `json:"bids_open"`
	Association  string     `json:"association"`
	Contact      string     `json:"contact"`
	Municipality string     `json:"municipality"`
	AwardedAt    *time.Time `json:"awarded_at,omitempty"`
	// AwardedBid and AwardReason are for the area's coordinators and
	// admins; a provider learns the outcome from its own bid's status.
	AwardedBid  *int64 `json:"awarded_bid,omitempty"`
	AwardReason string `json:"award_reason,omitempty"`
}

func newTenderJSON(t pledge.Tender, now time.Time, full bool) *TenderJSON {
	j := &TenderJSON{Round: t.Round, OpenedAt: t.OpenedAt, Deadline: t.Deadline.Format(time.DateOnly), BidsCloseAt: t.BidsCloseAt(),
		BidsOpen: t.BidsOpen(now), Association: t.Association, Contact: t.Contact, Municipality: t.Municipality, AwardedAt: t.AwardedAt}
	if full && t.AwardedBid != 0 {
		id := t.AwardedBid
		j.AwardedBid, j.AwardReason = &id, t.AwardReason
	}
	return j
}

// TenderAreaJSON is an area in GET /api/tenders: the public counters and
// its tender, null for an area at its threshold with no tender yet.
type TenderAreaJSON struct {
	AreaJSON
	Tender *TenderJSON `json:"tender"`
}

// tenders: GET /api/tenders, for providers and admins: the areas open
// for tender, soonest deadline first, then those at their threshold.
func (s *Server) tenders(c *gin.Context) {
	list, err := s.svc.Tenders(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	now := s.now()
	out := make([]TenderAreaJSON, len(list))
	for i, ta := range list {
		out[i] = TenderAreaJSON{AreaJSON: NewAreaJSON(ta.Area, now)}
		if ta.Tender != nil {
			out[i].Tender = newTenderJSON(*ta.Tender, now, false)
		}
	}
	c.JSON(http.StatusOK, gin.H{"tenders": out})
}

// openTender: POST /api/areas/{code}/tender {"deadline":"YYYY-MM-DD",
// "association","contact"} opens the area's tender or extends its
// deadline; the answer is the area with its tender.
func (s *Server) openTender(c *gin.Context) {
	var in struct {
		Deadline     string `json:"deadline"`
		Association  string `json:"association"`
		Contact      string `json:"contact"`
		Municipality string `json:"municipality"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	d, err := time.Parse(time.DateOnly, in.Deadline)
	if err != nil {
		s.writeError(c, pledge.FieldError("deadline", "the bid deadline is a date such as 2027-03-01, not %q", truncate(in.Deadline, 40)))
		return
	}
	a, t, err := s.svc.OpenTender(c.Request.Context(), c.Param("code"), pledge.TenderRequest{Deadline: d, Association: in.Association, Contact: in.Contact, Municipality: in.Municipality})
	if err != nil {
		s.writeError(c, err)
		return
	}
	now := s.now()
	c.JSON(http.StatusOK, TenderAreaJSON{AreaJSON: NewAreaJSON(a, now), Tender: newTenderJSON(t, now, true)})
}

// awardTender: POST /api/areas/{code}/award {"bid_id","reason"}.
func (s *Server) awardTender(c *gin.Context) {
	var in struct {
		BidID  int64  `json:"bid_id"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	a, t, err := s.svc.AwardTender(c.Request.Context(), c.Param("code"), in.BidID, in.Reason)
	if err != nil {
		s.writeError(c, err)
		return
	}
	now := s.now()
	c.JSON(http.StatusOK, TenderAreaJSON{AreaJSON: NewAreaJSON(a, now), Tender: newTenderJSON(t, now, true)})
}

// moveBack: POST /api/areas/{code}/move-back {"to","reason"} (admins).
func (s *Server) moveBack(c *gin.Context) {
	var in struct {
		To     string `json:"to"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	a, err := s.svc.MoveAreaBack(c.Request.Context(), c.Param("code"), pledge.AreaStatus(in.To), in.Reason)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewAreaJSON(a, s.now()))
}

// markBuilt: POST /api/areas/{code}/built, once the network is built.
func (s *Server) markBuilt(c *gin.Context) {
	a, err := s.svc.MarkBuilt(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewAreaJSON(a, s.now()))
}

// BidJSON is a bid. Amounts are integer øre, as in the cost API.
type BidJSON struct {
	ID                    int64           `json:"id"`
	AreaCode              string          `json:"area_code"`
	Round                 int             `json:"round"`
	Company               string          `json:"company"`
	Status                string          `json:"status"`
	PricePerConnection    int64           `json:"price_per_connection"`
	HouseholdContribution int64           `json:"household_contribution"`
	TimelineMonths        int             `json:"timeline_months"`
	OpenAccess            bool            `json:"open_access"`
	Notes                 string          `json:"notes"`
	Attachment            *AttachmentJSON `json:"attachment"`
	Revision              int             `json:"revision"`
	CreatedAt             time.Time       `json:"created_at"`
	UpdatedAt             time.Time       `json:"updated_at"`
	// Implied is the household price under the area's cost rules, for
	// coordinators and admins.
	Implied *BidPriceJSON `json:"implied,omitempty"`
}

// AttachmentJSON describes a bid's PDF; url downloads it.
type AttachmentJSON struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url"`
}

// BidPriceJSON is what a bid means for the households.
type BidPriceJSON struct {
	Units          int         `json:"units"`
	BuildCost      int64       `json:"build_cost"`
	HouseholdShare int64       `json:"household_share"`
	HouseholdsPay  int64       `json:"households_pay"`
	Funding        FundingJSON `json:"funding"`
	Shortfall      int64       `json:"shortfall"`
}

func newBidJSON(b pledge.Bid, price *pledge.BidPrice) BidJSON {
	j := BidJSON{ID: b.ID, AreaCode: b.AreaCode, Round: b.Round, Company: b.Company, Status: string(b.Status),
		PricePerConnection: b.PricePerConnection, HouseholdContribution: b.HouseholdContribution, TimelineMonths: b.TimelineMonths,
		OpenAccess: b.OpenAccess, Notes: b.Notes, Revision: b.Revision, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
	if a := b.Attachment; a != nil {
		j.Attachment = &AttachmentJSON{Name: a.Name, Size: a.Size, SHA256: a.SHA256, URL: "/api/bids/" + strconv.FormatInt(b.ID, 10) + "/attachment"}
	}
	if p := price; p != nil {
		sp := p.Split
		j.Implied = &BidPriceJSON{Units: p.Units, BuildCost: p.BuildCost, HouseholdShare: p.HouseholdShare, HouseholdsPay: sp.HouseholdsPay,
			Funding:   FundingJSON{StateSubsidy: sp.StateSubsidy, MunicipalTopUp: sp.MunicipalTopUp, ProviderContribution: sp.ProviderContribution, CommunityFund: sp.CommunityFund},
			Shortfall: sp.Shortfall}
	}
	return j
}

// bidInput is the JSON of a bid as submitted or changed.
type bidInput struct {
	PricePerConnection    int64  `json:"price_per_connection"`
	HouseholdContribution int64  `json:"household_contribution"`
	TimelineMonths        int    `json:"timeline_months"`
	OpenAccess            bool   `json:"open_access"`
	Notes                 string `json:"notes"`
	RemoveAttachment      bool   `json:"remove_attachment"`
}

// readBid reads a bid request: multipart/form-data with a "bid" part of
// JSON and an optional "attachment" part (a PDF), or plain JSON.
func readBid(r *http.Request) (pledge.BidRequest, error) {
	var in bidInput
	var br pledge.BidRequest
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		if err := decodeJSON(r, &in); err != nil {
			if err == errUnsupportedMedia {
				return br, pledge.Errorf(pledge.EUNSUPPORTED, "send the bid as multipart/form-data (a \"bid\" JSON part, an optional \"attachment\" PDF) or as application/json")
			}
			return br, err
		}
		return in.request(), nil
	}
	if params["boundary"] == "" {
		return br, pledge.Errorf(pledge.EINVALID, "multipart body without a boundary")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return br, pledge.Errorf(pledge.EINVALID, "could not read the multipart body")
	}
	var gotBid bool
	var att []byte
	var attName string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return br, bodyError(err)
		}
		switch p.FormName() {
		case "bid":
			data, err := io.ReadAll(io.LimitReader(p, 64<<10+1))
			if err != nil {
				return br, bodyError(err)
			}
			if len(data) > 64<<10 {
				return br, pledge.FieldError("bid", "the bid part is larger than 64 KB")
			}
			if err := unmarshalStrict(data, &in); err != nil {
				return br, err
			}
			gotBid = true
		case "attachment":
			data, err := io.ReadAll(io.LimitReader(p, pledge.MaxBidAttachment+1))
			if err != nil {
				return br, bodyError(err)
			}
			if len(data) > pledge.MaxBidAttachment {
				return br, pledge.Invalid("attachment", pledge.ReasonNotPDF, "the attachment is larger than 10 MB")
			}
			att, attName = data, p.FileName()
		default:
			return br, pledge.FieldError(truncate(p.FormName(), 40), "unknown part %q: send \"bid\" and optionally \"attachment\"", truncate(p.FormName(), 40))
		}
	}
	if !gotBid {
		return br, pledge.FieldError("bid", "the \"bid\" part (JSON) is missing")
	}
	br = in.request()
	if att != nil {
		br.Attachment, br.AttachmentName = att, attName
	}
	return br, nil
}

func (in bidInput) request() pledge.BidRequest {
	return pledge.BidRequest{PricePerConnection: in.PricePerConnection, HouseholdContribution: in.HouseholdContribution,
		TimelineMonths: in.TimelineMonths, OpenAccess: in.OpenAccess, Notes: in.Notes, RemoveAttachment: in.RemoveAttachment}
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return pledge.Errorf(pledge.EINVALID, "request body larger than %d bytes", mbe.Limit)
	}
	return pledge.Errorf(pledge.EINVALID, "could not read the multipart body")
}

// submitBid: POST /api/areas/{code}/bids (providers), 201 with the bid.
func (s *Server) submitBid(c *gin.Context) {
	// Refused before a 10 MB body is read.
	if err := s.svc.Can(c.Request.Context(), pledge.ActionBid, c.Param("code")); err != nil {
		s.writeError(c, err)
		return
	}
	br, err := readBid(c.Request)
	if err == nil {
		var b pledge.Bid
		if b, err = s.svc.SubmitBid(c.Request.Context(), c.Param("code"), br); err == nil {
			c.JSON(http.StatusCreated, newBidJSON(b, nil))
			return
		}
	}
	s.writeError(c, err)
}

// changeBid: PUT /api/bids/{id}, a new revision of one's own bid.
func (s *Server) changeBid(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		err = s.svc.Can(c.Request.Context(), pledge.ActionBid, "")
	}
	if err == nil {
		var br pledge.BidRequest
		if br, err = readBid(c.Request); err == nil {
			var b pledge.Bid
			if b, err = s.svc.ChangeBid(c.Request.Context(), id, br); err == nil {
				c.JSON(http.StatusOK, newBidJSON(b, nil))
				return
			}
		}
	}
	s.writeError(c, err)
}

// withdrawBid: DELETE /api/bids/{id}.
func (s *Server) withdrawBid(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		var b pledge.Bid
		if b, err = s.svc.WithdrawBid(c.Request.Context(), id); err == nil {
			c.JSON(http.StatusOK, newBidJSON(b, nil))
			return
		}
	}
	s.writeError(c, err)
}

// getBid: GET /api/bids/{id}, with its revisions.
func (s *Server) getBid(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		var revs []pledge.Bid
		if revs, err = s.svc.BidRevisions(c.Request.Context(), id); err == nil {
			out := make([]BidJSON, len(revs))
			for i, r := range revs {
				out[i] = newBidJSON(r, nil)
			}
			b, _ := s.svc.Bid(c.Request.Context(), id)
			c.JSON(http.StatusOK, gin.H{"bid": newBidJSON(b, nil), "revisions": out})
			return
		}
	}
	s.writeError(c, err)
}

// bidAttachment: GET /api/bids/{id}/attachment, the PDF.
func (s *Server) bidAttachment(c *gin.Context) {
	id, err := idParam(c, "id")
	if err == nil {
		var info pledge.BidAttachmentInfo
		var data []byte
		if info, data, err = s.svc.BidAttachment(c.Request.Context(), id); err == nil {
			c.Header("Content-Disposition", `attachment; filename="bid-`+strconv.FormatInt(id, 10)+`.pdf"`)
			c.Header("Cache-Control", "no-store")
			c.Header("X-Attachment-Name", fileNamePart(info.Name))
			c.Data(http.StatusOK, "application/pdf", data)
			return
		}
	}
	s.writeError(c, err)
}

// areaBids: GET /api/areas/{code}/bids: every bid of the current tender
// with its implied household price for the area's coordinators and
// admins; a provider's own company's bids only.
func (s *Server) areaBids(c *gin.Context) {
	v, err := s.svc.Bids(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]BidJSON, len(v.Bids))
	for i, b := range v.Bids {
		var p *pledge.BidPrice
		if pr, ok := v.Prices[b.ID]; ok {
			p = &pr
		}
		out[i] = newBidJSON(b, p)
	}
	var t *TenderJSON
	if v.Tender.Round > 0 {
		t = newTenderJSON(v.Tender, s.now(), v.Prices != nil)
	}
	c.JSON(http.StatusOK, gin.H{"tender": t, "bids": out})
}
