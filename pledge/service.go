package pledge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"

	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
	"golang.org/x/net/idna"
)

// Service holds the rules: who may pledge what, when an area reaches its
// threshold, how imports assign addresses to areas. It is safe for concurrent
// use.
type Service struct {
	// store is private: adapters go through the service's methods, which
	// hold the rules and the permission checks, never past them.
	store Store
	// Now is the clock; tests inject a fixed one.
	Now func() time.Time
	// NewToken makes pledge manage tokens; nil means 32 random bytes.
	NewToken func() string
	// ProgressTTL is how long AreaProgress may answer from memory: 0 means
	// DefaultProgressTTL, negative never.
	ProgressTTL time.Duration
	// PublicURL prefixes the links the service makes (invitations, password
	// resets); "" leaves them as paths.
	PublicURL string
	// Mail says whether e-mail is sent (a mail server is configured):
	// invitations and reset links are then e-mailed, not only returned.
	Mail bool
	// SessionIdle and SessionMaxAge end sessions; 0 means the defaults.
	SessionIdle, SessionMaxAge time.Duration
	// SignInDelay is the wait of the first slowed sign-in attempt of an
	// account, doubling with each after (at most 4 s): 0 means 200 ms,
	// negative none.
	SignInDelay time.Duration
	// TenderAssociation, TenderContact and TenderMunicipality are what a
	// new tender names when the coordinator gives none.
	TenderAssociation, TenderContact, TenderMunicipality string
	// WebhookAllowPrivate lets webhook endpoints name loopback and
	// private addresses: for tests and closed networks.
	WebhookAllowPrivate bool

	progress progressCache
	secrets  secrets
	extents  extentsCache
	tiles    tileCache
	bounds   boundsCache
}

// NewService returns a Service on store with the real clock.
func NewService(store Store) *Service {
	s := &Service{store: store, Now: time.Now}
	if v, ok := store.(DataVersioner); ok {
		s.tiles.version = v.DataVersion
	}
	return s
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) token() string {
	if s.NewToken != nil {
		return s.NewToken()
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Areas lists every area (without geometry) and the unassigned counts.
func (s *Service) Areas(ctx context.Context) ([]Area, Unassigned, error) {
	areas, err := s.store.Areas(ctx, false)
	if err != nil {
		return nil, Unassigned{}, err
	}
	u, err := s.store.Unassigned(ctx)
	return areas, u, err
}

// Area returns one area with geometry. Returns ENOTFOUND if there is none.
func (s *Service) Area(ctx context.Context, code string) (Area, error) {
	return s.store.Area(ctx, code)
}

// MaxAddressesPerPage bounds AreaAddresses.
const MaxAddressesPerPage = 10000

// AreaAddresses lists an area's addresses with pledged-unit counts (never who
// pledged), optionally within bbox. Returns ENOTFOUND for an unknown area and
// EINVALID for a bad bbox.
func (s *Service) AreaAddresses(ctx context.Context, code string, bbox *orb.Bound, limit int) ([]Address, error) {
	if bbox != nil && (bbox.Min[0] > bbox.Max[0] || bbox.Min[1] > bbox.Max[1]) {
		return nil, FieldError("bbox", "min must not exceed max (min_lon,min_lat,max_lon,max_lat)")
	}
	if limit <= 0 || limit > MaxAddressesPerPage {
		limit = MaxAddressesPerPage
	}
	return s.store.AreaAddresses(ctx, code, bbox, limit)
}

// SearchAddresses finds addresses whose text starts with q, ignoring case,
// accents and punctuation. A query of fewer than 2 letters or digits finds
// nothing.
func (s *Service) SearchAddresses(ctx context.Context, q string, limit int) ([]Address, error) {
	key := SearchKey(q)
	if utf8.RuneCountInString(key) < 2 {
		return []Address{}, nil
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	return s.store.SearchAddresses(ctx, key, limit)
}

// MaxUnit bounds unit numbers (and an address's units): far above any
// real building, far below where a store's integer column would wrap. It
// is geo.MaxUnits, which the importers' readers enforce.
const MaxUnit = geo.MaxUnits

// PledgeRequest is what a resident submits.
type PledgeRequest struct {
	AddressID string
	Unit      int // 0 means the first free unit
	Name      string
	Email     string
	Phone     string
	Consent   bool
	// Language is the resident's language ("da", "en"): the page's. The
	// pledge's e-mails are written in it.
	Language string
	// Confirmed is set when a coordinator enters the pledge on a
	// resident's behalf (paper, phone, door): it counts at once, without
	// a confirmation e-mail. Online pledges leave it false.
	Confirmed bool
	// Limit, when set, is the client's rate limit. Every request counts
	// against it before anything else is decided, whether it is valid or
	// not; a store that is a LimitedPledger counts a valid one in the
	// same trip as its pledge.
	Limit *RateLimit
}

func (r *PledgeRequest) normalise() {
	r.AddressID = strings.TrimSpace(r.AddressID)
	r.Name = strings.Join(strings.Fields(r.Name), " ")
	r.Email = strings.TrimSpace(r.Email)
	r.Phone = strings.TrimSpace(r.Phone)
}

// Validate checks a request on its own, without the store. It returns the
// first problem as an EINVALID error naming the field.
func (r PledgeRequest) Validate() error {
	if r.AddressID == "" {
		return Invalid("address_id", ReasonAddressRequired, "choose an address")
	}
	if r.Unit < 0 {
		return Invalid("unit", ReasonUnitRange, "unit must be 1 or more")
	}
	if r.Unit > MaxUnit {
		return Invalid("unit", ReasonUnitRange, "no address has this many units")
	}
	if r.Name == "" {
		return Invalid("name", ReasonNameRequired, "enter your name")
	}
	if utf8.RuneCountInString(r.Name) > 200 || !utf8.ValidString(r.Name) {
		return Invalid("name", ReasonNameTooLong, "name must be at most 200 characters of text")
	}
	if hasInvisible(r.Name) {
		return invisibleError("name")
	}
	if hasInvisible(r.Email) {
		return invisibleError("email")
	}
	if hasInvisible(r.Phone) {
		return invisibleError("phone")
	}
	if r.Email == "" && r.Phone == "" {
		return Invalid("email", ReasonContactRequired, "enter an e-mail address or a phone number")
	}
	if r.Email != "" && !validEmail(r.Email) {
		return Invalid("email", ReasonEmailInvalid, "this is not an e-mail address")
	}
	if r.Phone != "" && !validPhone(r.Phone) {
		return Invalid("phone", ReasonPhoneInvalid, "a phone number has 8 to 15 digits")
	}
	if !r.Consent {
		return Invalid("consent", ReasonConsentRequired, "accept the area's terms to pledge")
	}
	if r.Language != "" && ResidentLanguage(r.Language) != r.Language {
		return Invalid("language", ReasonInvalid, "the language must be da or en")
	}
	return nil
}

// needsConfirmation: an online pledge made while e-mail is sent waits for
// its confirmation link; a coordinator's entry, or any pledge without a
// mail server (the embedded demo), counts at once.
func (s *Service) needsConfirmation(r PledgeRequest) bool { return s.Mail && !r.Confirmed }

// validEmail accepts a plain address (no display name) whose domain is a
// valid hostname under IDNA's lookup rules (so "bjørn@æblegård.dk" passes
// and "a@-x.dk", "a@x..dk" or a domain of symbols do not).
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return false
	}
	domain := s[at+1:]
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || !strings.Contains(ascii, ".") || len(ascii) > 253 {
		return false
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 8 && digits <= 15
}

func invisibleRune(s string) (rune, bool) { return geo.InvisibleRune(s) }

// hasInvisible reports a Unicode control or format character in s, or
// invalid UTF-8.
func hasInvisible(s string) bool {
	_, bad := geo.InvisibleRune(s)
	return bad || !utf8.ValidString(s)
}

// invisibleError is the EINVALID error of a field that holds an invisible
// or control character (NUL, ESC, U+202E, U+200B ...).
func invisibleError(field string) *Error {
	return Invalid(field, ReasonInvisible, "must not contain invisible or control characters")
}

// CreatePledge records a household's pledge for one unit and returns it with
// its secret manage token. With an idempotency key a retry returns the first
// pledge (replayed is true). Returns EINVALID for bad input or an address
// outside every area, ECONFLICT when the unit (or every unit) is already
// pledged, the area is not collecting, or the key was used for a different
// request.
func (s *Service) CreatePledge(ctx context.Context, req PledgeRequest, idempotencyKey string) (p Pledge, replayed bool, err error) {
	req.normalise()
	idempotencyKey = strings.TrimSpace(idempotencyKey)
	verr := req.Validate()
	if verr == nil && len(idempotencyKey) > 200 {
		verr = Invalid("Idempotency-Key", ReasonIdempotencyKey, "at most 200 characters")
	}
	if verr == nil && idempotencyKey != "" && hasInvisible(idempotencyKey) {
		verr = Invalid("Idempotency-Key", ReasonIdempotencyKey, "must be printable text")
	}
	if verr == nil && req.Email == "" && s.needsConfirmation(req) {
		verr = Invalid("email", ReasonContactRequired, "enter an e-mail address: the link that confirms the pledge is sent to it")
	}
	// The attempt counts first, valid or not. A LimitedPledger counts a
	// valid one in the same trip as its pledge; a replayed idempotency key
	// then shows as the key's conflict, after the count.
	_, combined := s.store.(LimitedPledger)
	combined = combined && verr == nil && req.Limit != nil
	if req.Limit != nil && !combined {
		refused, cerr := s.Throttle(ctx, *req.Limit)
		if refused != nil {
			return Pledge{}, false, refused
		}
		if ErrorCode(cerr) == EUNAVAILABLE {
			return Pledge{}, false, cerr
		}
		req.Limit = nil
	}
	if verr != nil {
		return Pledge{}, false, verr
	}
	// The fingerprint that tells a retry from another request, and the
	// stored key, are keyed hashes: the store holds no plain hash a guess
	// about who pledged could be checked against, and erasure drops the
	// fingerprint.
	hash, err := s.keyedHash(ctx, "pledge", req.AddressID, strconv.Itoa(req.Unit), req.Name, req.Email, req.Phone)
	if err != nil {
		return Pledge{}, false, err
	}
	if idempotencyKey != "" {
		if idempotencyKey, err = s.keyedHash(ctx, "idempotency-key", idempotencyKey); err != nil {
			return Pledge{}, false, err
		}
		if !combined {
			if p, ok, err := s.replay(ctx, idempotencyKey, hash); ok || err != nil {
				return p, ok, err
			}
		}
	}
	// The store reads the address inside its transaction and reports a
	// missing address (ENOTFOUND), one outside every area (EINVALID) and a
	// unit beyond its units (UnitRangeError): no separate lookup first.
	now := s.now()
	confirm := s.needsConfirmation(req)
	for attempt := 0; ; attempt++ {
		p = Pledge{
			Token: s.token(), AddressID: req.AddressID, Unit: req.Unit,
			Name: req.Name, Email: req.Email, Phone: req.Phone, Consent: true,
			Status: PledgeActive, CreatedAt: now, UpdatedAt: now,
			IdempotencyKey: idempotencyKey, RequestHash: hash,
			Language: ResidentLanguage(req.Language), Unconfirmed: confirm,
		}
		var secret string
		if confirm {
			secret, p.ConfirmHash = newSecret("")
		} else {
			p.ConfirmedAt = &now
		}
		decide := s.onPledge(now, &p, secret)
		if req.Limit != nil && attempt == 0 {
			err = s.store.(LimitedPledger).CreateLimitedPledge(ctx, &p, *req.Limit, decide)
		} else {
			err = s.store.CreatePledge(ctx, &p, decide)
		}
		if err == nil {
			s.dropArea(ctx, p.AreaCode)
			return p, false, nil
		}
		var e *Error
		switch code := ErrorCode(err); {
		case code == ENOTFOUND:
			return Pledge{}, false, Invalid("address_id", ReasonAddressUnknown, "no address with this id")
		case code == EINVALID && errors.As(err, &e) && e.Field == "":
			return Pledge{}, false, Invalid("address_id", ReasonAddressOutside, "this address is outside every area, so it cannot be pledged yet")
		case code != ECONFLICT:
			return Pledge{}, false, err
		}
		// A concurrent request may have won the same idempotency key, or
		// taken the unit we picked as the first free one.
		if idempotencyKey != "" {
			if p, ok, rerr := s.replay(ctx, idempotencyKey, hash); ok || rerr != nil {
				return p, ok, rerr
			}
		}
		if req.Unit != 0 || attempt == 2 {
			return Pledge{}, false, err
		}
	}
}

func (s *Service) replay(ctx context.Context, key, hash string) (Pledge, bool, error) {
	p, err := s.store.PledgeByIdempotencyKey(ctx, key)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Pledge{}, false, nil
	case err != nil:
		return Pledge{}, false, err
	case p.Status != PledgeActive:
		// Its fingerprint was erased with its contact details: whatever
		// was sent, it is not created again, nor answered as created.
		return Pledge{}, false, &Error{Code: ECONFLICT, Reason: ReasonKeyReused, Message: fmt.Sprintf("the pledge made with this Idempotency-Key is %s; send a new request to pledge again", p.Status)}
	case p.RequestHash != hash:
		return Pledge{}, false, &Error{Code: ECONFLICT, Reason: ReasonKeyReused, Message: "this Idempotency-Key was already used for a different pledge"}
	}
	return p, true, nil
}

// onPledge is the rule run when a pledge has been stored: the area must be
// collecting, and the first time it meets its threshold (which only a
// confirmed pledge moves) it moves to threshold_reached and an event is
// recorded. An unconfirmed pledge p gets its confirmation e-mail, with
// secret, in the same transaction; the store has set p's id by then.
func (s *Service) onPledge(now time.Time, p *Pledge, secret string) Decider {
	return func(a Area) (Transition, error) {
		if a.Status != StatusCollecting && a.Status != StatusThresholdReached {
			return Transition{}, &Error{Code: ECONFLICT, Reason: ReasonAreaClosed, Message: fmt.Sprintf("area %s is not collecting pledges (status %s)", a.Code, a.Status)}
		}
		if a.Deadline != nil && now.After(*a.Deadline) {
			return Transition{}, &Error{Code: ECONFLICT, Reason: ReasonAreaClosed, Message: fmt.Sprintf("the deadline of area %s has passed", a.Code)}
		}
		t := thresholdCrossing(a, now)
		if p.Unconfirmed && secret != "" {
			t.Events = append(t.Events, s.confirmationMail(*p, secret, confirmDays(a)))
		}
		return t, nil
	}
}

// thresholdPayload is the public facts of a threshold crossing, which
// webhooks carry as their data: "area" is kept beside "area_code" for
// consumers of the first payload.
func thresholdPayload(a Area) string {
	b, _ := json.Marshal(struct {
		Area             string     `json:"area"`
		AreaCode         string     `json:"area_code"`
		AreaName         string     `json:"area_name"`
		Status           AreaStatus `json:"status"`
		Units            int        `json:"units"`
		PledgedUnits     int        `json:"pledged_units"`
		ThresholdPercent float64    `json:"threshold_percent"`
	}{a.Code, a.Code, a.Name, StatusThresholdReached, a.Units, a.PledgedUnits, a.ThresholdPercent})
	return string(b)
}

// Pledge returns the pledge a manage token belongs to. Returns ENOTFOUND for
// an unknown token.
func (s *Service) Pledge(ctx context.Context, token string) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, &Error{Code: ENOTFOUND, Reason: ReasonPledgeNotFound, Message: "no pledge with this link"}
	}
	return s.store.PledgeByToken(ctx, token)
}

// WithdrawPledge withdraws a pledge by its manage token; its contact details
// are erased. An area that falls below its threshold goes back to collecting.
// Returns ENOTFOUND for an unknown or already withdrawn pledge and ECONFLICT
// once the area is past collecting (tender open and later).
func (s *Service) WithdrawPledge(ctx context.Context, token string) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, &Error{Code: ENOTFOUND, Reason: ReasonPledgeNotFound, Message: "no pledge with this link"}
	}
	p, err := s.store.WithdrawPledge(ctx, token, s.now(), func(a Area) (Transition, error) {
		switch a.Status {
		case StatusCollecting:
			return Transition{}, nil
		case StatusThresholdReached:
			if !a.ThresholdMet() {
				return Transition{Status: StatusCollecting}, nil
			}
			return Transition{}, nil
		}
		return Transition{}, &Error{Code: ECONFLICT, Reason: ReasonPledgeBinding, Message: fmt.Sprintf("pledges in area %s are binding now (status %s)", a.Code, a.Status)}
	})
	if err == nil {
		s.dropArea(ctx, p.AreaCode)
	}
	return p, err
}

// Ping reports whether the store is reachable. Returns EUNAVAILABLE (or
// the store's error) when it is not.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }
