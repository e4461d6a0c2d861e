package pledge

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ChallengeKind is what a challenge claims is wrong with the address base.
type ChallengeKind string

// Challenge kinds.
const (
	ChallengeMissing    ChallengeKind = "missing"          // an address the base lacks
	ChallengeRuin       ChallengeKind = "ruin"             // nobody can live there
	ChallengeEmpty      ChallengeKind = "empty_or_holiday" // empty or a holiday home
	ChallengeWrongUnits ChallengeKind = "wrong_units"      // a different number of households
)

var challengeKinds = map[ChallengeKind]bool{ChallengeMissing: true, ChallengeRuin: true, ChallengeEmpty: true, ChallengeWrongUnits: true}

// ChallengeStatus is where a challenge stands.
type ChallengeStatus string

// Challenge statuses.
const (
	ChallengeOpen     ChallengeStatus = "open"
	ChallengeAccepted ChallengeStatus = "accepted"
	ChallengeRejected ChallengeStatus = "rejected"
)

// Challenge is a claim that the address base is wrong, and its outcome.
// The reporter follows it through a secret link (only its SHA-256 is
// kept); ReportedBy is the coordinator who reported it, "" for a resident.
type Challenge struct {
	ID            int64
	AddressID     string
	AreaCode      string
	Kind          ChallengeKind
	Note          string
	ProposedUnits int // wrong_units only
	Status        ChallengeStatus
	Reason        string // the coordinator's, with the decision
	SecretHash    string
	ReportedBy    string
	// UnitsBefore and UnitsAfter are the address's eligible units that an
	// accepted challenge changed (0 after: no longer eligible).
	UnitsBefore, UnitsAfter *int
	CreatedAt               time.Time
	DecidedAt               *time.Time
	DecidedBy               string
}

// ChallengeStore keeps challenges. Both stores implement it; it is part of
// Store.
type ChallengeStore interface {
	// CreateChallenge stores c and sets its ID.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByHash returns the challenge whose secret hashes to hash,
	// or ENOTFOUND.
	ChallengeByHash(ctx context.Context, hash string) (Challenge, error)
	// ChallengeByID returns a challenge, or ENOTFOUND.
	ChallengeByID(ctx context.Context, id int64) (Challenge, error)
	// AreaChallenges lists area code's challenges, newest first.
	AreaChallenges(ctx context.Context, code string) ([]Challenge, error)
	// DecideChallenge records the decision on open challenge c.ID (status,
	// reason, by, at) with audit, in one transaction. With units >= 0 the
	// challenged address's eligible units become units, and its area's
	// counters move: 0 takes the address out of its area (it is no longer
	// eligible), and is refused with ECONFLICT while it has active
	// pledges; more than 0 is refused with ECONFLICT below its active
	// pledges. decide then runs on the area with its counters moved, and
	// its transition is stored. ECONFLICT if the challenge is decided
	// already.
	DecideChallenge(ctx context.Context, c Challenge, units int, audit AuditEntry, decide Decider) (Challenge, error)
}

// ChallengeRequest is a report of a problem with an address.
type ChallengeRequest struct {
	AddressID     string
	Kind          ChallengeKind
	Note          string
	ProposedUnits int
	// Limit, when set, is the anonymous reporter's rate limit.
	Limit *RateLimit
}

// MaxChallengeNote bounds a challenge's note and a decision's reason.
const MaxChallengeNote = 1000

func checkText(field, s string, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return Invalid(field, ReasonInvalid, "write what is wrong")
	}
	if utf8.RuneCountInString(s) > MaxChallengeNote || !utf8.ValidString(s) {
		return Invalid(field, ReasonInvalid, "at most %d characters of text", MaxChallengeNote)
	}
	if r, bad := invisibleRune(s); bad && r != '\n' && r != '\r' && r != '\t' {
		return invisibleError(field)
	}
	return nil
}

// ReportChallenge records a challenge of the address base from a resident
// (with their rate limit) or a coordinator, and returns it with the secret
// link where the reporter sees its outcome. Every attempt counts against
// req.Limit first. Returns EINVALID for an unknown kind, a missing or
// unknown address (a "missing" one needs only a note), a bad note or
// proposed unit count, and ETOOMANY past the limit.
func (s *Service) ReportChallenge(ctx context.Context, req ChallengeRequest) (Challenge, string, error) {
	if req.Limit != nil {
		if refused, err := s.Throttle(ctx, *req.Limit); refused != nil {
			return Challenge{}, "", refused
		} else if ErrorCode(err) == EUNAVAILABLE {
			return Challenge{}, "", err
		}
	}
	req.AddressID, req.Note = strings.TrimSpace(req.AddressID), strings.TrimSpace(req.Note)
	if !challengeKinds[req.Kind] {
		return Challenge{}, "", Invalid("kind", ReasonInvalid, "kind must be missing, ruin, empty_or_holiday or wrong_units")
	}
	if err := checkText("note", req.Note, req.Kind == ChallengeMissing); err != nil {
		return Challenge{}, "", err
	}
	if req.Kind == ChallengeWrongUnits && (req.ProposedUnits < 1 || req.ProposedUnits > MaxUnit) {
		return Challenge{}, "", Invalid("proposed_units", ReasonInvalid, "give the number of households, 1 to %d", MaxUnit)
	}
	if req.Kind != ChallengeWrongUnits && req.ProposedUnits != 0 {
		return Challenge{}, "", Invalid("proposed_units", ReasonInvalid, "only a wrong_units challenge proposes a number of households")
	}
	c := Challenge{Kind: req.Kind, Note: req.Note, ProposedUnits: req.ProposedUnits, Status: ChallengeOpen, CreatedAt: s.now()}
	if req.AddressID != "" || req.Kind != ChallengeMissing {
		if req.AddressID == "" || len(req.AddressID) > 200 || hasInvisible(req.AddressID) {
			return Challenge{}, "", Invalid("address_id", ReasonAddressRequired, "choose an address")
		}
		a, err := s.store.Address(ctx, req.AddressID)
		if ErrorCode(err) == ENOTFOUND {
			return Challenge{}, "", Invalid("address_id", ReasonAddressUnknown, "no address with this id")
		} else if err != nil {
			return Challenge{}, "", err
		}
		if req.Kind == ChallengeWrongUnits && req.ProposedUnits == a.Units {
			return Challenge{}, "", Invalid("proposed_units", ReasonInvalid, "the address has %d household(s) already", a.Units)
		}
		c.AddressID, c.AreaCode = a.ID, a.AreaCode
	}
	if u := UserFrom(ctx); u != nil {
		c.ReportedBy = u.Email
		if u.system {
			c.ReportedBy = "cli"
		}
	}
	secret, hash := newSecret("")
	c.SecretHash = hash
	if err := s.store.CreateChallenge(ctx, &c); err != nil {
		return Challenge{}, "", err
	}
	return c, s.link("/challenges/" + secret), nil
}

// ChallengeOutcome returns the challenge of a reporter's secret link.
// Returns ENOTFOUND for an unknown link.
func (s *Service) ChallengeOutcome(ctx context.Context, secret string) (Challenge, error) {
	if !validSecret(secret) {
		return Challenge{}, &Error{Code: ENOTFOUND, Reason: ReasonLinkExpired, Message: "no challenge with this link"}
	}
	c, err := s.store.ChallengeByHash(ctx, SecretHash(secret))
	if ErrorCode(err) == ENOTFOUND {
		return Challenge{}, &Error{Code: ENOTFOUND, Reason: ReasonLinkExpired, Message: "no challenge with this link"}
	}
	return c, err
}

// AreaChallenges lists an area's challenges for its coordinators and
// admins (area.edit).
func (s *Service) AreaChallenges(ctx context.Context, code string) ([]Challenge, error) {
	if err := s.Can(ctx, ActionEditArea, code); err != nil {
		return nil, err
	}
	if _, err := s.store.Area(ctx, code); err != nil {
		return nil, err
	}
	return s.store.AreaChallenges(ctx, code)
}

// DecideChallenge accepts or rejects challenge id of area code, with a
// reason the reporter sees. An accepted ruin or empty-or-holiday challenge
// takes the address out of the eligible units (its area's denominator);
// an accepted wrong_units one sets its units to the proposed count; an
// accepted missing one changes nothing here (import the address). Needs
// area.edit; the decision and the change are in the audit log. Returns
// ENOTFOUND for a challenge not in the area, EINVALID without a reason,
// and ECONFLICT for a decided challenge or an address whose active
// pledges the change would leave without units.
func (s *Service) DecideChallenge(ctx context.Context, code string, id int64, accept bool, reason string) (Challenge, error) {
	if err := s.Can(ctx, ActionEditArea, code); err != nil {
		return Challenge{}, err
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, true); err != nil {
		return Challenge{}, err
	}
	c, err := s.store.ChallengeByID(ctx, id)
	if err != nil || c.AreaCode != code {
		if err == nil || ErrorCode(err) == ENOTFOUND {
			return Challenge{}, Errorf(ENOTFOUND, "area %s has no challenge %d", code, id)
		}
		return Challenge{}, err
	}
	if c.Status != ChallengeOpen {
		return Challenge{}, Errorf(ECONFLICT, "challenge %d is %s already", id, c.Status)
	}
	units := -1
	c.Status = ChallengeRejected
	if accept {
		c.Status = ChallengeAccepted
		switch c.Kind {
		case ChallengeRuin, ChallengeEmpty:
			units = 0
		case ChallengeWrongUnits:
			units = c.ProposedUnits
		}
	}
	now := s.now()
	c.Reason, c.DecidedAt = reason, &now
	c.DecidedBy = "cli"
	if u := UserFrom(ctx); u != nil && !u.system {
		c.DecidedBy = u.Email
	}
	e := s.audit(ctx, "challenge."+string(c.Status), code, "challenge:"+strconv.FormatInt(id, 10),
		map[string]any{"status": ChallengeOpen}, map[string]any{"status": c.Status, "reason": reason, "address_id": c.AddressID, "units": units})
	// Fewer eligible units may meet the threshold, more may undo it.
	out, err := s.store.DecideChallenge(ctx, c, units, e, func(a Area) (Transition, error) {
		if a.Status == StatusThresholdReached && !a.ThresholdMet() {
			return Transition{Status: StatusCollecting}, nil
		}
		return thresholdCrossing(a, now), nil
	})
	if err == nil {
		s.dropArea(ctx, code)
	}
	return out, err
}
