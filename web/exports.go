package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/internal/safecsv"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
	"github.com/paulmach/orb/geojson"
)

// The association's exports: its pledges (contact data, audited), the
// subsidy application annex as CSV and PDF, and the area with its
// addresses as GeoJSON. Every CSV cell is guarded against formula
// injection (internal/safecsv).

func (s *Server) attachment(c *gin.Context, name, contentType string, body []byte) {
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, contentType, body)
}

// exportPledges: GET /api/areas/{code}/export/pledges.csv.
func (s *Server) exportPledges(c *gin.Context) {
	ctx := c.Request.Context()
	code := c.Param("code")
	ps, err := s.svc.AreaPledges(ctx, code)
	if err != nil {
		s.writeError(c, err)
		return
	}
	poas, err := s.svc.AreaPowersOfAttorney(ctx, code)
	if err != nil {
		s.writeError(c, err)
		return
	}
	texts, err := s.addressTexts(c, code)
	if err != nil {
		s.writeError(c, err)
		return
	}
	poa := map[int64]string{}
	for _, p := range poas {
		poa[p.PledgeID] = p.Source
	}
	var buf bytes.Buffer
	w := safecsv.NewWriter(&buf)
	w.Write([]string{"pledge_id", "address_id", "address", "unit", "name", "email", "phone", "status", "power_of_attorney", "created_at", "updated_at"})
	for _, p := range ps {
		w.Write([]string{strconv.FormatInt(p.ID, 10), p.AddressID, texts[p.AddressID], strconv.Itoa(p.Unit), p.Name, p.Email, p.Phone,
			string(p.Status), poa[p.ID], p.CreatedAt.UTC().Format(time.RFC3339), p.UpdatedAt.UTC().Format(time.RFC3339)})
	}
	if err := w.Flush(); err != nil {
		s.writeError(c, err)
		return
	}
	s.attachment(c, "pledges-"+fileNamePart(code)+".csv", "text/csv; charset=utf-8", buf.Bytes())
}

func (s *Server) annex(c *gin.Context) (report.Annex, bool) {
	// The language is checked first: the annex's reading is audited.
	lang := c.DefaultQuery("lang", "da")
	if !slices.Contains(report.Languages(), lang) {
		s.writeError(c, pledge.FieldError("lang", "language must be da or en"))
		return report.Annex{}, false
	}
	an, err := s.svc.SubsidyAnnex(c.Request.Context(), c.Param("code"), c.Query("rules"))
	if err != nil {
		s.writeError(c, err)
		return report.Annex{}, false
	}
	assoc := s.svc.TenderAssociation
	if t, err := s.svc.Tender(c.Request.Context(), an.Area.Code); err == nil && t.Association != "" {
		assoc = t.Association
	}
	return report.Annex{SubsidyAnnex: an, Association: assoc, Lang: lang}, true
}

// exportSubsidyCSV: GET /api/areas/{code}/export/subsidy.csv[?rules=NAME].
func (s *Server) exportSubsidyCSV(c *gin.Context) {
	a, ok := s.annex(c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := report.WriteAnnexCSV(&buf, a); err != nil {
		s.writeError(c, err)
		return
	}
	s.attachment(c, "subsidy-"+fileNamePart(a.Area.Code)+".csv", "text/csv; charset=utf-8", buf.Bytes())
}

// exportSubsidyPDF: GET /api/areas/{code}/export/subsidy.pdf[?rules=&lang=].
func (s *Server) exportSubsidyPDF(c *gin.Context) {
	a, ok := s.annex(c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := report.WriteAnnexPDF(&buf, a); err != nil {
		s.writeError(c, err)
		return
	}
	s.attachment(c, "subsidy-"+fileNamePart(a.Area.Code)+".pdf", "application/pdf", buf.Bytes())
}

// exportAreaGeoJSON: GET /api/areas/{code}/export/area.geojson: the area
// and every address with its counts, one FeatureCollection, for the
// association's GIS.
func (s *Server) exportAreaGeoJSON(c *gin.Context) {
	ctx := c.Request.Context()
	code := c.Param("code")
	if err := s.svc.Can(ctx, pledge.ActionViewPledges, code); err != nil {
		s.writeError(c, err)
		return
	}
	a, err := s.svc.Area(ctx, code)
	if err != nil {
		s.writeError(c, err)
		return
	}
	as, err := s.svc.AreaAddresses(ctx, code, nil, 0)
	if err != nil {
		s.writeError(c, err)
		return
	}
	fc := geojson.NewFeatureCollection()
	af := geojson.NewFeature(a.Geometry)
	af.ID = a.Code
	af.Properties = geojson.Properties{"kind": "area", "code": a.Code, "name": a.Name, "status": string(a.Status),
		"addresses": a.Addresses, "units": a.Units, "pledged_units": a.PledgedUnits, "threshold_percent": a.ThresholdPercent}
	fc.Append(af)
	for _, ad := range as {
		f := geojson.NewFeature(ad.Point)
		f.ID = ad.ID
		f.Properties = geojson.Properties{"kind": "address", "address_id": ad.ID, "text": ad.Text, "units": ad.Units, "pledged_units": ad.PledgedUnits}
		fc.Append(f)
	}
	b, err := json.Marshal(fc)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.attachment(c, "area-"+fileNamePart(code)+".geojson", "application/geo+json", b)
}

// SubsidyRulesJSON is a subsidy rule set; amounts are integer øre.
type SubsidyRulesJSON struct {
	Name                 string `json:"name"`
	Title                string `json:"title"`
	ValidFrom            string `json:"valid_from"`
	MinOwnPayment        int64  `json:"min_own_payment"`
	MaxSubsidyPerAddress int64  `json:"max_subsidy_per_address"`
}

// subsidyRules: GET /api/subsidy-rules (coordinators, admins).
func (s *Server) subsidyRules(c *gin.Context) {
	rs, err := s.svc.SubsidyRuleSets(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]SubsidyRulesJSON, len(rs))
	for i, r := range rs {
		out[i] = SubsidyRulesJSON{Name: r.Name, Title: r.Title, ValidFrom: r.ValidFrom.Format(time.DateOnly), MinOwnPayment: r.MinOwnPayment, MaxSubsidyPerAddress: r.MaxSubsidyPerAddress}
	}
	c.JSON(http.StatusOK, gin.H{"rules": out})
}

// saveSubsidyRules: POST /api/subsidy-rules (admins) adds or replaces one.
func (s *Server) saveSubsidyRules(c *gin.Context) {
	if err := s.svc.Can(c.Request.Context(), pledge.ActionManageUsers, ""); err != nil {
		s.writeError(c, err)
		return
	}
	var in SubsidyRulesJSON
	if err := decodeJSON(c.Request, &in); err != nil {
		s.writeError(c, err)
		return
	}
	from, err := time.Parse(time.DateOnly, in.ValidFrom)
	if err != nil {
		s.writeError(c, pledge.FieldError("valid_from", "valid_from is a date such as 2027-01-01"))
		return
	}
	r := pledge.SubsidyRules{Name: in.Name, Title: in.Title, ValidFrom: from, MinOwnPayment: in.MinOwnPayment, MaxSubsidyPerAddress: in.MaxSubsidyPerAddress}
	if err := s.svc.SaveSubsidyRules(c.Request.Context(), r); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, in)
}
