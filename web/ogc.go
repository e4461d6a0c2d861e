package web

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The OGC API – Features layer (Part 1 Core, GeoJSON, CRS84) under /ogc,
// so GIS clients (QGIS, GDAL's OAPIF driver) add areas and addresses as
// layers. It serves public fields only: counts, never who pledged. Pages
// follow next links with an opaque cursor of the last key (keyset paging),
// never an offset.

// OGC vocabulary: conformance classes, CRS and media types.
const (
	confCore    = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
	confGeoJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
	confOAS30   = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
	crs84       = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

	mediaJSON    = "application/json"
	mediaGeoJSON = "application/geo+json"
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
)

// ogcAPI is the OpenAPI 3.0 definition of the routes below.
//
//go:embed ogc_api.json
var ogcAPI []byte

// ogcCollection describes one feature collection: its id in the URL, its
// title, and the name of the property that holds its key.
type ogcCollection struct {
	ID, Title, Description string
	extent                 func(pledge.FeatureExtents) *orb.Bound
}

var ogcCollections = []ogcCollection{
	{ID: "areas", Title: "Areas", Description: "Areas collecting pledges for fibre broadband: threshold, deadline, status and take-up (counts only).",
		extent: func(e pledge.FeatureExtents) *orb.Bound { return e.Areas }},
	{ID: "addresses", Title: "Addresses", Description: "Access addresses with their units (households) and pledged units (counts, never who).",
		extent: func(e pledge.FeatureExtents) *orb.Bound { return e.Addresses }},
}

func (s *Server) ogcRoutes(r *gin.Engine) {
	g := r.Group("/ogc")
	g.GET("", s.ogcLanding)
	g.GET("/api", s.ogcOpenAPI)
	g.GET("/conformance", s.ogcConformance)
	g.GET("/collections", s.ogcCollections)
	g.GET("/collections/:collection", s.ogcCollection)
	g.GET("/collections/:collection/items", s.ogcItems)
	g.GET("/collections/:collection/items/:fid", s.ogcItem)
}

// jsonPath reports whether path belongs to a JSON API, whose errors (404,
// 405) are JSON rather than a page.
func jsonPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/ogc" || strings.HasPrefix(path, "/ogc/")
}

type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// ogcBase is the absolute or root-relative URL of /ogc for links. The
// request's Host header is never used: a client could make the service
// hand out links to a host of its choosing. With Config.PublicURL the
// links are absolute on it; without, they are absolute on the address the
// listener is bound to (GDAL 3.6, as in Debian 12, does not resolve
// relative next links), or root-relative when that is unknown too.
func (s *Server) ogcBase() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/") + "/ogc"
	}
	if s.cfg.ListenAddr != "" {
		return "http://" + s.cfg.ListenAddr + "/ogc"
	}
	return "/ogc"
}

// ogcFormat accepts the f parameter: JSON (GeoJSON for features) is the
// only encoding served.
func ogcFormat(c *gin.Context) error {
	switch c.Query("f") {
	case "", "json", "geojson":
		return nil
	}
	return pledge.FieldError("f", "the only format is json")
}

// ogcJSON writes v with the media type t (gin keeps a Content-Type that
// is already set).
func ogcJSON(c *gin.Context, t string, v any) {
	c.Header("Cache-Control", "no-cache")
	c.Header("Content-Type", t)
	c.JSON(http.StatusOK, v)
}

func (s *Server) ogcLanding(c *gin.Context) {
	if err := ogcFormat(c); err != nil {
		s.writeError(c, err)
		return
	}
	base := s.ogcBase()
	ogcJSON(c, mediaJSON, gin.H{
		"title":       "kommunity",
		"description": "Areas and addresses of broadband demand aggregation, as OGC API – Features (counts only, no personal data).",
		"links": []ogcLink{
			{Href: base, Rel: "self", Type: mediaJSON, Title: "This document"},
			{Href: base + "/api", Rel: "service-desc", Type: mediaOpenAPI, Title: "The API definition"},
			{Href: base + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "Conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: mediaJSON, Title: "Feature collections"},
		},
	})
}

// ogcOpenAPI serves the embedded definition with its server URL set to
// this service's /ogc.
func (s *Server) ogcOpenAPI(c *gin.Context) {
	var doc map[string]any
	if err := json.Unmarshal(ogcAPI, &doc); err != nil {
		s.writeError(c, fmt.Errorf("ogc_api.json: %w", err))
		return
	}
	doc["servers"] = []gin.H{{"url": s.ogcBase()}}
	ogcJSON(c, mediaOpenAPI, doc)
}

func (s *Server) ogcConformance(c *gin.Context) {
	if err := ogcFormat(c); err != nil {
		s.writeError(c, err)
		return
	}
	ogcJSON(c, mediaJSON, gin.H{"conformsTo": []string{confCore, confGeoJSON, confOAS30}})
}

type ogcCollectionJSON struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	ItemType    string    `json:"itemType"`
	CRS         []string  `json:"crs"`
	Extent      *extent   `json:"extent,omitempty"`
	Links       []ogcLink `json:"links"`
}

type extent struct {
	Spatial spatialExtent `json:"spatial"`
}

type spatialExtent struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

func (s *Server) collectionJSON(col ogcCollection, e pledge.FeatureExtents) ogcCollectionJSON {
	base := s.ogcBase() + "/collections/" + col.ID
	j := ogcCollectionJSON{ID: col.ID, Title: col.Title, Description: col.Description, ItemType: "feature", CRS: []string{crs84},
		Links: []ogcLink{
			{Href: base, Rel: "self", Type: mediaJSON, Title: "This collection"},
			{Href: base + "/items", Rel: "items", Type: mediaGeoJSON, Title: col.Title},
		}}
	if b := col.extent(e); b != nil {
		j.Extent = &extent{Spatial: spatialExtent{BBox: [][4]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}, CRS: crs84}}
	}
	return j
}

// collection finds the collection named in the path, or answers 404.
func (s *Server) collection(c *gin.Context) (ogcCollection, bool) {
	id := c.Param("collection")
	for _, col := range ogcCollections {
		if col.ID == id {
			return col, true
		}
	}
	s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "no collection %q: there are areas and addresses", truncate(id, 60)))
	return ogcCollection{}, false
}

// truncate keeps error messages that echo input short and valid UTF-8.
func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		return "?"
	}
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n] + "…"
	}
	return s
}

func (s *Server) ogcCollections(c *gin.Context) {
	if err := ogcFormat(c); err != nil {
		s.writeError(c, err)
		return
	}
	e, err := s.svc.FeatureExtents(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	cols := make([]ogcCollectionJSON, len(ogcCollections))
	for i, col := range ogcCollections {
		cols[i] = s.collectionJSON(col, e)
	}
	base := s.ogcBase() + "/collections"
	ogcJSON(c, mediaJSON, gin.H{
		"links":       []ogcLink{{Href: base, Rel: "self", Type: mediaJSON, Title: "Feature collections"}},
		"collections": cols,
	})
}

func (s *Server) ogcCollection(c *gin.Context) {
	col, ok := s.collection(c)
	if !ok {
		return
	}
	if err := ogcFormat(c); err != nil {
		s.writeError(c, err)
		return
	}
	e, err := s.svc.FeatureExtents(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	ogcJSON(c, mediaJSON, s.collectionJSON(col, e))
}

// The public properties of each collection: counts, never who pledged.
type areaProperties struct {
	Code             string     `json:"code"`
	Name             string     `json:"name"`
	Addresses        int        `json:"addresses"`
	Units            int        `json:"units"`
	PledgedUnits     int        `json:"pledged_units"`
	TakeUp           decimal    `json:"take_up"`
	ThresholdPercent decimal    `json:"threshold_percent"`
	ThresholdUnits   int        `json:"threshold_units"`
	Status           string     `json:"status"`
	Deadline         *time.Time `json:"deadline"`
}

// decimal is a number that always has a decimal point in JSON (50.0, not
// 50): GDAL and QGIS guess a field's type from the first page, and an
// integer guess would truncate a later 62.5.
type decimal float64

func (r decimal) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(r)) || math.IsInf(float64(r), 0) {
		return nil, fmt.Errorf("decimal: %v is not a JSON number", float64(r))
	}
	b := strconv.AppendFloat(nil, float64(r), 'f', -1, 64)
	if !strings.ContainsAny(string(b), ".eE") {
		b = append(b, ".0"...)
	}
	return b, nil
}

type addressProperties struct {
	AddressID    string  `json:"address_id"`
	Text         string  `json:"text"`
	Units        int     `json:"units"`
	PledgedUnits int     `json:"pledged_units"`
	AreaCode     *string `json:"area_code"`
}

type ogcFeature struct {
	Type       string            `json:"type"`
	ID         string            `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties any               `json:"properties"`
	Links      []ogcLink         `json:"links,omitempty"`
}

func (s *Server) areaFeature(a pledge.Area) ogcFeature {
	j := NewAreaJSON(a, s.now())
	return ogcFeature{Type: "Feature", ID: a.Code, Geometry: geojson.NewGeometry(a.Geometry),
		Properties: areaProperties{Code: j.Code, Name: j.Name, Addresses: j.Addresses, Units: j.Units, PledgedUnits: j.PledgedUnits,
			TakeUp: decimal(j.TakeUp), ThresholdPercent: decimal(j.ThresholdPercent), ThresholdUnits: j.ThresholdUnits, Status: j.Status, Deadline: j.Deadline}}
}

func addressFeature(a pledge.Address) ogcFeature {
	p := addressProperties{AddressID: a.ID, Text: a.Text, Units: a.Units, PledgedUnits: a.PledgedUnits}
	if a.AreaCode != "" {
		code := a.AreaCode
		p.AreaCode = &code
	}
	return ogcFeature{Type: "Feature", ID: a.ID, Geometry: geojson.NewGeometry(a.Point), Properties: p}
}

type featureCollection struct {
	Type           string       `json:"type"`
	TimeStamp      string       `json:"timeStamp"`
	NumberMatched  int          `json:"numberMatched"`
	NumberReturned int          `json:"numberReturned"`
	Features       []ogcFeature `json:"features"`
	Links          []ogcLink    `json:"links"`
}

// itemsQuery reads limit, bbox, bbox-crs and cursor. Other parameters are
// ignored: QGIS passes on any extra parameter of the layer's URL (an API
// key, say), and refusing them would break such layers.
func itemsQuery(c *gin.Context) (pledge.FeatureQuery, error) {
	var q pledge.FeatureQuery
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return q, pledge.FieldError("limit", "limit must be a whole number from 1 (at most %d are served)", pledge.MaxFeaturesPerPage)
		}
		q.Limit = n
	}
	if v, ok := c.GetQuery("bbox"); ok {
		if strings.TrimSpace(v) == "" {
			return q, pledge.FieldError("bbox", "want min_lon,min_lat,max_lon,max_lat")
		}
		b, err := parseBBox(v)
		if err != nil {
			return q, err
		}
		q.BBox = b
	}
	if v, ok := c.GetQuery("bbox-crs"); ok && v != crs84 {
		return q, pledge.FieldError("bbox-crs", "the only bbox-crs is %s", crs84)
	}
	if v, ok := c.GetQuery("cursor"); ok {
		key, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(key) == 0 || !utf8.Valid(key) {
			return q, pledge.FieldError("cursor", "cursor is not valid: follow the next link as given")
		}
		q.After = string(key)
	}
	return q, nil
}

// itemsLink is the items URL of the same query starting after key.
func (s *Server) itemsLink(col ogcCollection, q pledge.FeatureQuery, limit int, after string) string {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(limit))
	if b := q.BBox; b != nil {
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
		v.Set("bbox", f(b.Min[0])+","+f(b.Min[1])+","+f(b.Max[0])+","+f(b.Max[1]))
	}
	if after != "" {
		v.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(after)))
	}
	return s.ogcBase() + "/collections/" + col.ID + "/items?" + v.Encode()
}

func (s *Server) ogcItems(c *gin.Context) {
	col, ok := s.collection(c)
	if !ok {
		return
	}
	q, err := itemsQuery(c)
	if err == nil {
		err = ogcFormat(c)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	fc := featureCollection{Type: "FeatureCollection", Features: []ogcFeature{}}
	var more bool
	var last string
	switch col.ID {
	case "areas":
		p, err := s.svc.AreaFeatures(ctx, q)
		if err != nil {
			s.writeError(c, err)
			return
		}
		for _, a := range p.Areas {
			fc.Features = append(fc.Features, s.areaFeature(a))
		}
		fc.NumberMatched, more = p.Matched, p.More
	default:
		p, err := s.svc.AddressFeatures(ctx, q)
		if err != nil {
			s.writeError(c, err)
			return
		}
		for _, a := range p.Addresses {
			fc.Features = append(fc.Features, addressFeature(a))
		}
		fc.NumberMatched, more = p.Matched, p.More
	}
	fc.NumberReturned = len(fc.Features)
	if n := len(fc.Features); n > 0 {
		last = fc.Features[n-1].ID
	}
	// The limit as served: the default, or clamped to the maximum.
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = pledge.DefaultFeaturesPerPage
	case limit > pledge.MaxFeaturesPerPage:
		limit = pledge.MaxFeaturesPerPage
	}
	fc.TimeStamp = s.now().UTC().Format(time.RFC3339)
	fc.Links = []ogcLink{{Href: s.itemsLink(col, q, limit, q.After), Rel: "self", Type: mediaGeoJSON, Title: "This page"}}
	if more {
		fc.Links = append(fc.Links, ogcLink{Href: s.itemsLink(col, q, limit, last), Rel: "next", Type: mediaGeoJSON, Title: "Next page"})
	}
	fc.Links = append(fc.Links, ogcLink{Href: s.ogcBase() + "/collections/" + col.ID, Rel: "collection", Type: mediaJSON, Title: col.Title})
	ogcJSON(c, mediaGeoJSON, fc)
}

func (s *Server) ogcItem(c *gin.Context) {
	col, ok := s.collection(c)
	if !ok {
		return
	}
	if err := ogcFormat(c); err != nil {
		s.writeError(c, err)
		return
	}
	ctx, fid := c.Request.Context(), c.Param("fid")
	var f ogcFeature
	switch col.ID {
	case "areas":
		a, err := s.svc.Area(ctx, fid)
		if err != nil {
			s.writeError(c, err)
			return
		}
		f = s.areaFeature(a)
	default:
		a, err := s.svc.Address(ctx, fid)
		if err != nil {
			s.writeError(c, err)
			return
		}
		f = addressFeature(a)
	}
	base := s.ogcBase() + "/collections/" + col.ID
	f.Links = []ogcLink{
		{Href: base + "/items/" + url.PathEscape(fid), Rel: "self", Type: mediaGeoJSON, Title: "This feature"},
		{Href: base, Rel: "collection", Type: mediaJSON, Title: col.Title},
	}
	ogcJSON(c, mediaGeoJSON, f)
}
