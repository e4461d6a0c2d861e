package pledge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Service holds the rules: who may pledge what, when an area reaches its
// threshold, how imports assign addresses to areas. It is safe for concurrent
// use.
type Service struct {
	Store Store
	// Now is the clock; tests inject a fixed one.
	Now func() time.Time
	// NewToken makes pledge manage tokens; nil means 32 random bytes.
	NewToken func() string
	// ProgressTTL is how long AreaProgress may answer from memory: 0 means
	// DefaultProgressTTL, negative never.
	ProgressTTL time.Duration

	progress progressCache
	tiles    tileCache
}

// NewService returns a Service on store with the real clock.
func NewService(store Store) *Service {
	return &Service{Store: store, Now: time.Now}
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
	areas, err := s.Store.Areas(ctx, false)
	if err != nil {
		return nil, Unassigned{}, err
	}
	u, err := s.Store.Unassigned(ctx)
	return areas, u, err
}

// Area returns one area with geometry. Returns ENOTFOUND if there is none.
func (s *Service) Area(ctx context.Context, code string) (Area, error) {
	return s.Store.Area(ctx, code)
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
	return s.Store.AreaAddresses(ctx, code, bbox, limit)
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
	return s.Store.SearchAddresses(ctx, key, limit)
}

// PledgeRequest is what a resident submits.
type PledgeRequest struct {
	AddressID string
	Unit      int // 0 means the first free unit
	Name      string
	Email     string
	Phone     string
	Consent   bool
	// Limit, when set, is the client's rate limit, counted by the store
	// with the pledge; the Store must be a LimitedPledger (see
	// LimitsPledges). Only requests that pass Validate are counted.
	Limit *RateLimit
}

// LimitsPledges reports whether the store counts rate limits with pledges
// (PledgeRequest.Limit).
func (s *Service) LimitsPledges() bool {
	_, ok := s.Store.(LimitedPledger)
	return ok
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
		return FieldError("address_id", "choose an address")
	}
	if r.Unit < 0 {
		return FieldError("unit", "unit must be 1 or more")
	}
	if r.Name == "" {
		return FieldError("name", "enter your name")
	}
	if utf8.RuneCountInString(r.Name) > 200 || hasControl(r.Name) {
		return FieldError("name", "name must be at most 200 characters of text")
	}
	if r.Email == "" && r.Phone == "" {
		return FieldError("email", "enter an e-mail address or a phone number")
	}
	if r.Email != "" && !validEmail(r.Email) {
		return FieldError("email", "this is not an e-mail address")
	}
	if r.Phone != "" && !validPhone(r.Phone) {
		return FieldError("phone", "a phone number has 8 to 15 digits")
	}
	if !r.Consent {
		return FieldError("consent", "accept the area's terms to pledge")
	}
	return nil
}

func (r PledgeRequest) hash() string {
	h := sha256.Sum256([]byte(strings.Join([]string{r.AddressID, strconv.Itoa(r.Unit), r.Name, r.Email, r.Phone, strconv.FormatBool(r.Consent)}, "\x00")))
	return hex.EncodeToString(h[:])
}

func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
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

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// CreatePledge records a household's pledge for one unit and returns it with
// its secret manage token. With an idempotency key a retry returns the first
// pledge (replayed is true). Returns EINVALID for bad input or an address
// outside every area, ECONFLICT when the unit (or every unit) is already
// pledged, the area is not collecting, or the key was used for a different
// request.
func (s *Service) CreatePledge(ctx context.Context, req PledgeRequest, idempotencyKey string) (p Pledge, replayed bool, err error) {
	req.normalise()
	if err := req.Validate(); err != nil {
		return Pledge{}, false, err
	}
	idempotencyKey = strings.TrimSpace(idempotencyKey)
	if len(idempotencyKey) > 200 {
		return Pledge{}, false, FieldError("Idempotency-Key", "at most 200 characters")
	}
	hash := req.hash()
	if idempotencyKey != "" {
		if p, ok, err := s.replay(ctx, idempotencyKey, hash); ok || err != nil {
			return p, ok, err
		}
	}
	// The store reads the address inside its transaction and reports a
	// missing address (ENOTFOUND), one outside every area (EINVALID) and a
	// unit beyond its units (UnitRangeError): no separate lookup first.
	now := s.now()
	for attempt := 0; ; attempt++ {
		p = Pledge{
			Token: s.token(), AddressID: req.AddressID, Unit: req.Unit,
			Name: req.Name, Email: req.Email, Phone: req.Phone, Consent: true,
			Status: PledgeActive, CreatedAt: now, UpdatedAt: now,
			IdempotencyKey: idempotencyKey, RequestHash: hash,
		}
		if req.Limit != nil && attempt == 0 {
			lp, ok := s.Store.(LimitedPledger)
			if !ok {
				return Pledge{}, false, Errorf(EINTERNAL, "this store cannot count rate limits with pledges")
			}
			err = lp.CreateLimitedPledge(ctx, &p, *req.Limit, s.onPledge(now))
		} else {
			err = s.Store.CreatePledge(ctx, &p, s.onPledge(now))
		}
		if err == nil {
			s.progress.drop(p.AreaCode)
			return p, false, nil
		}
		var e *Error
		switch code := ErrorCode(err); {
		case code == ENOTFOUND:
			return Pledge{}, false, FieldError("address_id", "no address with this id")
		case code == EINVALID && errors.As(err, &e) && e.Field == "":
			return Pledge{}, false, FieldError("address_id", "this address is outside every area, so it cannot be pledged yet")
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
	p, err := s.Store.PledgeByIdempotencyKey(ctx, key)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Pledge{}, false, nil
	case err != nil:
		return Pledge{}, false, err
	case p.RequestHash != hash:
		return Pledge{}, false, Errorf(ECONFLICT, "this Idempotency-Key was already used for a different pledge")
	}
	return p, true, nil
}

// onPledge is the rule run when a pledge has been counted: the area must be
// collecting, and the first time it meets its threshold it moves to
// threshold_reached and an event is recorded.
func (s *Service) onPledge(now time.Time) Decider {
	return func(a Area) (Transition, error) {
		if a.Status != StatusCollecting && a.Status != StatusThresholdReached {
			return Transition{}, Errorf(ECONFLICT, "area %s is not collecting pledges (status %s)", a.Code, a.Status)
		}
		if a.Deadline != nil && now.After(*a.Deadline) {
			return Transition{}, Errorf(ECONFLICT, "the deadline of area %s has passed", a.Code)
		}
		if a.Status == StatusCollecting && a.ThresholdMet() {
			return Transition{Status: StatusThresholdReached, Event: &Event{
				Kind: EventThresholdReached, AreaCode: a.Code, At: now,
				Key:     EventThresholdReached + ":" + a.Code,
				Payload: fmt.Sprintf(`{"area":%q,"units":%d,"pledged_units":%d}`, a.Code, a.Units, a.PledgedUnits),
			}}, nil
		}
		return Transition{}, nil
	}
}

// Pledge returns the pledge a manage token belongs to. Returns ENOTFOUND for
// an unknown token.
func (s *Service) Pledge(ctx context.Context, token string) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, Errorf(ENOTFOUND, "no pledge with this link")
	}
	return s.Store.PledgeByToken(ctx, token)
}

// WithdrawPledge withdraws a pledge by its manage token; its contact details
// are erased. An area that falls below its threshold goes back to collecting.
// Returns ENOTFOUND for an unknown or already withdrawn pledge and ECONFLICT
// once the area is past collecting (tender open and later).
func (s *Service) WithdrawPledge(ctx context.Context, token string) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, Errorf(ENOTFOUND, "no pledge with this link")
	}
	p, err := s.Store.WithdrawPledge(ctx, token, s.now(), func(a Area) (Transition, error) {
		switch a.Status {
		case StatusCollecting:
			return Transition{}, nil
		case StatusThresholdReached:
			if !a.ThresholdMet() {
				return Transition{Status: StatusCollecting}, nil
			}
			return Transition{}, nil
		}
		return Transition{}, Errorf(ECONFLICT, "pledges in area %s are binding now (status %s)", a.Code, a.Status)
	})
	if err == nil {
		s.progress.drop(p.AreaCode)
	}
	return p, err
}
