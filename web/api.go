package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// AreaJSON is an area as the API and `kommunity areas --json` show it.
// take_up is pledged_units / units (0-1); threshold_percent is a percent.
type AreaJSON struct {
	Code             string     `json:"code"`
	Name             string     `json:"name"`
	Addresses        int        `json:"addresses"`
	Units            int        `json:"units"`
	PledgedUnits     int        `json:"pledged_units"`
	UnconfirmedUnits int        `json:"unconfirmed_units"` // held by pledges awaiting confirmation; not in take_up
	ConfirmDays      int        `json:"confirm_days"`
	TakeUp           float64    `json:"take_up"`
	ThresholdPercent float64    `json:"threshold_percent"`
	ThresholdUnits   int        `json:"threshold_units"`
	Status           string     `json:"status"`
	Deadline         *time.Time `json:"deadline"`
	DaysLeft         *int       `json:"days_left,omitempty"`
}

// UnassignedJSON counts addresses outside every area.
type UnassignedJSON struct {
	Addresses int `json:"addresses"`
	Units     int `json:"units"`
}

// AreasJSON is the list of areas with the unassigned counts.
type AreasJSON struct {
	Areas      []AreaJSON     `json:"areas"`
	Unassigned UnassignedJSON `json:"unassigned"`
}

// NewAreaJSON converts an area; now gives days left to the deadline.
func NewAreaJSON(a pledge.Area, now time.Time) AreaJSON {
	j := AreaJSON{
		Code: a.Code, Name: a.Name, Addresses: a.Addresses, Units: a.Units, PledgedUnits: a.PledgedUnits,
		UnconfirmedUnits: a.UnconfirmedUnits, ConfirmDays: max(a.ConfirmDays, 0),
		TakeUp: math.Round(a.TakeUp()*1e4) / 1e4, ThresholdPercent: a.ThresholdPercent, ThresholdUnits: a.ThresholdUnits,
		Status: string(a.Status), Deadline: a.Deadline,
	}
	if a.Deadline != nil {
		d := int(math.Ceil(a.Deadline.Sub(now).Hours() / 24))
		j.DaysLeft = &d
	}
	return j
}

// NewAreasJSON converts a list of areas.
func NewAreasJSON(areas []pledge.Area, u pledge.Unassigned, now time.Time) AreasJSON {
	out := AreasJSON{Areas: make([]AreaJSON, len(areas)), Unassigned: UnassignedJSON{u.Addresses, u.Units}}
	for i, a := range areas {
		out.Areas[i] = NewAreaJSON(a, now)
	}
	return out
}

// addressJSON is a public view of an address: no personal data, only counts.
type addressJSON struct {
	AddressID    string  `json:"address_id"`
	Text         string  `json:"text"`
	Lon          float64 `json:"lon"`
	Lat          float64 `json:"lat"`
	Units        int     `json:"units"`
	PledgedUnits int     `json:"pledged_units"`
	AreaCode     *string `json:"area_code"`
}

func newAddressesJSON(as []pledge.Address) []addressJSON {
	out := make([]addressJSON, len(as))
	for i, a := range as {
		out[i] = addressJSON{AddressID: a.ID, Text: a.Text, Lon: a.Point[0], Lat: a.Point[1], Units: a.Units, PledgedUnits: a.PledgedUnits}
		if a.AreaCode != "" {
			code := a.AreaCode
			out[i].AreaCode = &code
		}
	}
	return out
}

// pledgeJSON is the resident's own view of their pledge, with contact details.
type pledgeJSON struct {
	Token     string    `json:"token"`
	ManageURL string    `json:"manage_url"`
	AddressID string    `json:"address_id"`
	AreaCode  string    `json:"area_code"`
	Unit      int       `json:"unit"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	Consent   bool      `json:"consent"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Confirmed is false while the pledge waits for its e-mailed link.
	Confirmed bool   `json:"confirmed"`
	Language  string `json:"language"`
	Notices   bool   `json:"notices"`
}

func (s *Server) newPledgeJSON(p pledge.Pledge) pledgeJSON {
	return pledgeJSON{
		Token: p.Token, ManageURL: s.publicURL(managePath(p.Token)), AddressID: p.AddressID, AreaCode: p.AreaCode, Unit: p.Unit,
		Name: p.Name, Email: p.Email, Phone: p.Phone, Consent: p.Consent, Status: string(p.Status),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Confirmed: !p.Unconfirmed, Language: pledge.ResidentLanguage(p.Language), Notices: !p.NoticesOff,
	}
}

func (s *Server) now() time.Time {
	if s.svc.Now != nil {
		return s.svc.Now()
	}
	return time.Now()
}

func (s *Server) health(c *gin.Context) {
	if err := s.svc.Ping(c.Request.Context()); err != nil {
		s.log.Warn("health: store unreachable", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "store": "unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "store": "ok"})
}

// live answers without touching the store: the process is up. Load
// balancers use /healthz (the store is reachable) to route traffic, and
// /livez to decide whether to restart the process.
func (s *Server) live(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) listAreas(c *gin.Context) {
	areas, u, err := s.svc.Areas(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewAreasJSON(areas, u, s.now()))
}

func (s *Server) getArea(c *gin.Context) {
	a, err := s.svc.AreaProgress(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewAreaJSON(a, s.now()))
}

// parseBBox reads "min_lon,min_lat,max_lon,max_lat".
func parseBBox(s string) (*orb.Bound, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, pledge.FieldError("bbox", "want min_lon,min_lat,max_lon,max_lat")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, pledge.FieldError("bbox", "%q is not a number", p)
		}
		v[i] = f
	}
	if v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 {
		return nil, pledge.FieldError("bbox", "out of longitude/latitude range")
	}
	return &orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

func (s *Server) areaAddresses(c *gin.Context) {
	bbox, err := parseBBox(c.Query("bbox"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	limit, _ := strconv.Atoi(c.Query("limit"))
	as, err := s.svc.AreaAddresses(c.Request.Context(), c.Param("code"), bbox, limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"addresses": newAddressesJSON(as)})
}

func (s *Server) searchAddresses(c *gin.Context) {
	limit, _ := strconv.Atoi(c.Query("limit"))
	as, err := s.svc.SearchAddresses(c.Request.Context(), c.Query("q"), limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"addresses": newAddressesJSON(as)})
}

type pledgeInput struct {
	AddressID string `json:"address_id"`
	Unit      int    `json:"unit"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Consent   bool   `json:"consent"`
	Language  string `json:"language"` // "da" or "en" for the pledge's e-mails; else the request's language
}

// decodeJSON reads a request's JSON object into v, strictly: the body
// must be declared application/json (a cross-site form cannot send that
// without a CORS preflight, which this server never grants), be one object
// with no duplicate or unknown keys and nothing after it. Errors say what
// is wrong in the client's terms, never in Go's.
func decodeJSON(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errUnsupportedMedia
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return pledge.Errorf(pledge.EINVALID, "request body larger than %d bytes", mbe.Limit)
		}
		return pledge.Errorf(pledge.EINVALID, "could not read the request body")
	}
	return unmarshalStrict(body, v)
}

// errUnsupportedMedia is answered 415.
var errUnsupportedMedia = pledge.Errorf(pledge.EUNSUPPORTED, "send the body as JSON with Content-Type: application/json")

// unmarshalStrict decodes one JSON object from data into v; see decodeJSON.
func unmarshalStrict(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return pledge.Errorf(pledge.EINVALID, "empty request body: send a JSON object")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(data) {
		return pledge.Errorf(pledge.EINVALID, "request body is not valid UTF-8")
	}
	if err := checkJSONObject(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return pledge.FieldError(te.Field, "must be %s", jsonKind(te.Type))
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return pledge.FieldError(f, "unknown field")
		}
		return pledge.Errorf(pledge.EINVALID, "request body is not valid JSON")
	}
	return nil
}

// checkJSONObject checks that data is exactly one JSON object, with no
// key twice in any object (which decoders resolve differently, so a
// request could mean one thing to us and another to a proxy or log
// reader) and nothing after it.
func checkJSONObject(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return pledge.Errorf(pledge.EINVALID, "request body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return pledge.Errorf(pledge.EINVALID, "send a JSON object ({...})")
	}
	if err := checkJSONValue(dec, '{', 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return pledge.Errorf(pledge.EINVALID, "unexpected data after the JSON object")
	}
	return nil
}

// maxJSONDepth bounds nesting; a pledge is flat.
const maxJSONDepth = 32

// checkJSONValue reads the rest of the object or array opened by open.
func checkJSONValue(dec *json.Decoder, open json.Delim, depth int) error {
	if depth > maxJSONDepth {
		return pledge.Errorf(pledge.EINVALID, "JSON nested too deeply")
	}
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return pledge.Errorf(pledge.EINVALID, "request body is not valid JSON")
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			return nil
		}
		if open == '{' {
			key, _ := tok.(string)
			if seen[key] {
				return pledge.FieldError(key, "given twice")
			}
			seen[key] = true
			if tok, err = dec.Token(); err != nil {
				return pledge.Errorf(pledge.EINVALID, "request body is not valid JSON")
			}
		}
		if d, ok := tok.(json.Delim); ok {
			if err := checkJSONValue(dec, d, depth+1); err != nil {
				return err
			}
		}
	}
}

// jsonKind names a Go type as the JSON a client should send instead.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a JSON object"
}

func (s *Server) createPledge(c *gin.Context) {
	// Every attempt counts against the client's limit before anything
	// else is decided, malformed ones included.
	limit := s.pledgeLimit(c)
	var in pledgeInput
	if err := decodeJSON(c.Request, &in); err != nil {
		if s.throttle(c, limit) {
			s.writeError(c, err)
		}
		return
	}
	req := pledge.PledgeRequest{AddressID: in.AddressID, Unit: in.Unit, Name: in.Name, Email: in.Email, Phone: in.Phone,
		Consent: in.Consent, Limit: limit, Language: in.Language}
	if req.Language == "" {
		req.Language = s.locale(c).Lang
	}
	p, replayed, err := s.svc.CreatePledge(c.Request.Context(), req, c.GetHeader("Idempotency-Key"))
	if pledge.ErrorCode(err) == pledge.ETOOMANY {
		s.tooMany(c, limit)
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, s.newPledgeJSON(p))
}

func (s *Server) getPledge(c *gin.Context) {
	p, err := s.svc.Pledge(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, s.newPledgeJSON(p))
}

func (s *Server) withdrawPledge(c *gin.Context) {
	p, err := s.svc.WithdrawPledge(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, s.newPledgeJSON(p))
}
