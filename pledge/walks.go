package pledge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/walk"
	"github.com/paulmach/orb"
)

// Walk lists for door-to-door campaigning. An area's unpledged addresses
// (never the do-not-knock ones) are split into walks that a volunteer
// takes round; each stop has a short code (12W3-07: batch 12, walk 3,
// stop 7) that the paper form carries, so outcomes and pledges can be
// entered by code later. Codes stay unique per area: batches are numbered
// per area and never reused.

// Outcome is what happened at an address on a walk.
type Outcome string

// Outcomes.
const (
	OutcomeVisited      Outcome = "visited"
	OutcomeNotHome      Outcome = "not_home"
	OutcomeDeclined     Outcome = "declined"
	OutcomePledgedPaper Outcome = "pledged_paper" // a paper form was signed; it is entered as a pledge separately
	OutcomeDoNotKnock   Outcome = "do_not_knock"  // never on a walk again
)

// Outcomes lists every outcome in the order forms show them.
var Outcomes = []Outcome{OutcomeVisited, OutcomeNotHome, OutcomeDeclined, OutcomePledgedPaper, OutcomeDoNotKnock}

// Walk rules.
const (
	MinWalkSize        = 2
	MaxWalkSize        = walk.MaxSize
	DefaultWalkSize    = 40
	DefaultWalkDays    = 14 // how long a walk stays with a volunteer unless returned
	MaxWalkDays        = 90
	maxVolunteerName   = 100
	maxWalkedAddresses = 200_000 // one batch; a municipality is far below
)

// Walk is one volunteer's round: stops in walking order.
type Walk struct {
	ID        int64
	AreaCode  string
	Batch     int // per area, from 1
	Number    int // within the batch, from 1
	Size      int // the size asked for when the batch was made
	LengthM   float64
	CreatedAt time.Time
	CreatedBy string // the actor, as in the audit log
	// AssignedTo is the volunteer's name: personal data, for the area's
	// coordinators and admins only.
	AssignedTo string
	AssignedAt *time.Time
	ExpiresAt  *time.Time
	ReturnedAt *time.Time
	Stops      []WalkStop
}

// Taken reports whether the walk is with a volunteer at now: assigned,
// not returned and not expired.
func (w Walk) Taken(now time.Time) bool {
	return w.AssignedTo != "" && w.ReturnedAt == nil && w.ExpiresAt != nil && now.Before(*w.ExpiresAt)
}

// WalkStop is one address on a walk.
type WalkStop struct {
	Seq     int // 1-based position in the walk
	Code    string
	Address Address // as it is now (text, point, units)
	// Drive marks the leg from the previous stop as one to drive (a long
	// leg between hamlets); false for the first stop.
	Drive bool
	LegM  float64 // length of the leg from the previous stop; 0 for the first
}

// WalkCode is the short code of a stop.
func WalkCode(batch, number, seq int) string {
	return fmt.Sprintf("%dW%d-%02d", batch, number, seq)
}

var walkCodeRE = regexp.MustCompile(`^[0-9]{1,6}W[0-9]{1,6}-[0-9]{2,3}$`)

// NormaliseWalkCode upper-cases and trims a typed code; ok is false when
// it is not of the form 12W3-07.
func NormaliseWalkCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, walkCodeRE.MatchString(s)
}

// AddressOutcome is the last outcome recorded at an address. DoNotKnock,
// once set, stays set whatever is recorded later.
type AddressOutcome struct {
	AddressID  string
	Outcome    Outcome
	Code       string // the walk code it was recorded by, "" when by address
	At         time.Time
	By         string // the actor, as in the audit log
	DoNotKnock bool
}

// WalkStore keeps walks and outcomes. Both stores implement it.
type WalkStore interface {
	// CreateWalks stores walks as area code's next batch (one more than
	// its highest), setting each walk's ID, Batch and the stops' codes
	// from codeOf, with audit, in one transaction. ENOTFOUND for an
	// unknown area; ECONFLICT if a code is taken in the area.
	CreateWalks(ctx context.Context, code string, walks []Walk, codeOf func(batch, number, seq int) string, audit AuditEntry) (int, error)
	// LatestWalkBatch returns the number of area code's latest batch made
	// with size (any size when 0), or 0 when there is none.
	LatestWalkBatch(ctx context.Context, code string, size int) (int, error)
	// Walks lists the walks of one batch of area code by number, stops
	// in order with their addresses.
	Walks(ctx context.Context, code string, batch int) ([]Walk, error)
	// Walk returns one walk with its stops, or ENOTFOUND.
	Walk(ctx context.Context, id int64) (Walk, error)
	// ChangeWalk locks walk id and writes what change returns (the
	// assignment fields) with its audit entry, in one transaction.
	// ENOTFOUND if there is no such walk.
	ChangeWalk(ctx context.Context, id int64, change func(Walk) (Walk, AuditEntry, error)) (Walk, error)
	// WalkStopByCode returns the stop with code in area code, or
	// ENOTFOUND.
	WalkStopByCode(ctx context.Context, area, code string) (WalkStop, error)
	// RecordOutcome stores o as the address's last outcome (keeping
	// DoNotKnock set once set) with audit, in one transaction, and
	// returns it as stored.
	RecordOutcome(ctx context.Context, o AddressOutcome, audit AuditEntry) (AddressOutcome, error)
	// AddressOutcomes lists the outcomes of area code's addresses by
	// address id.
	AddressOutcomes(ctx context.Context, code string) ([]AddressOutcome, error)
}

// GenerateWalks splits area code's unpledged addresses (those with a unit
// not pledged), leaving out every do-not-knock address and every address
// where a paper pledge awaits entry, into walks of at most size stops,
// orders each along the roads when roads have been imported near the area
// (straight lines otherwise), and stores them as the area's next batch.
// Returns EINVALID (field size) for a size outside MinWalkSize to
// MaxWalkSize, ENOTFOUND for an unknown area. Needs walks.manage.
func (s *Service) GenerateWalks(ctx context.Context, code string, size int) ([]Walk, error) {
	if err := s.Can(ctx, ActionManageWalks, code); err != nil {
		return nil, err
	}
	if size < MinWalkSize || size > MaxWalkSize {
		return nil, FieldError("size", "a walk has %d to %d stops, not %d", MinWalkSize, MaxWalkSize, size)
	}
	a, err := s.store.Area(ctx, code)
	if err != nil {
		return nil, err
	}
	addrs, err := s.store.AreaAddresses(ctx, code, nil, maxWalkedAddresses+1)
	if err != nil {
		return nil, err
	}
	if len(addrs) > maxWalkedAddresses {
		return nil, Errorf(EINVALID, "area %s has more than %d addresses: too many to walk in one batch", code, maxWalkedAddresses)
	}
	outcomes, err := s.store.AddressOutcomes(ctx, code)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, o := range outcomes {
		if o.DoNotKnock || o.Outcome == OutcomePledgedPaper {
			skip[o.AddressID] = true
		}
	}
	var stops []walk.Stop
	byID := map[string]Address{}
	for _, ad := range addrs {
		if ad.PledgedUnits >= ad.Units || skip[ad.ID] {
			continue
		}
		stops = append(stops, walk.Stop{ID: ad.ID, Point: ad.Point, Units: ad.Units})
		byID[ad.ID] = ad
	}
	opt := walk.Options{Size: size}
	if len(stops) > 0 {
		m, err := s.walkMatrix(ctx, a, stops)
		if err != nil {
			return nil, err
		}
		opt.Matrix = m
	}
	plan, err := walk.Plan(stops, opt)
	if err != nil {
		return nil, Errorf(EINVALID, "walks of area %s: %v", code, err)
	}
	now := s.now()
	walks := make([]Walk, len(plan))
	for i, p := range plan {
		w := Walk{AreaCode: code, Number: i + 1, Size: size, LengthM: p.LengthM, CreatedAt: now, Stops: make([]WalkStop, len(p.Stops))}
		for j, st := range p.Stops {
			ws := WalkStop{Seq: j + 1, Address: byID[st.ID]}
			if j > 0 {
				ws.Drive, ws.LegM = p.Drive[j-1], p.Legs[j-1]
			}
			w.Stops[j] = ws
		}
		walks[i] = w
	}
	e := s.audit(ctx, "walks.generate", code, "area:"+code, nil, map[string]any{"size": size, "walks": len(walks), "addresses": len(stops)})
	for i := range walks {
		walks[i].CreatedBy = e.Actor
	}
	batch, err := s.store.CreateWalks(ctx, code, walks, WalkCode, e)
	if err != nil {
		return nil, err
	}
	for i := range walks {
		walks[i].Batch = batch
	}
	return walks, nil
}

// walkMatrix returns road distances between stops when the store has
// roads near the area, else nil (straight lines).
func (s *Service) walkMatrix(ctx context.Context, a Area, stops []walk.Stop) (walk.MatrixFunc, error) {
	b := orb.Bound{Min: stops[0].Point, Max: stops[0].Point}
	for _, st := range stops {
		b = b.Extend(st.Point)
	}
	b = geo.BoxAround(b.Min, popBoundsPadM).Union(geo.BoxAround(b.Max, popBoundsPadM))
	lines, err := s.store.Roads(ctx, b)
	if err != nil || len(lines) == 0 {
		return nil, err
	}
	pts := make([]orb.Point, len(stops))
	for i, st := range stops {
		pts[i] = st.Point
	}
	rd, err := geo.NewRoadNetwork(lines).Distances(pts)
	if err != nil {
		return nil, nil // unusable roads: straight lines
	}
	return rd.Matrix, nil
}

// Walks returns area code's latest batch of walks (none: an empty list).
// ENOTFOUND for an unknown area. Needs walks.view.
func (s *Service) Walks(ctx context.Context, code string) ([]Walk, error) {
	if err := s.Can(ctx, ActionViewWalks, code); err != nil {
		return nil, err
	}
	return s.walksOf(ctx, code, 0)
}

// WalksOfSize returns area code's latest batch made with size, and makes
// one (as GenerateWalks, which needs walks.manage) when there is none, so
// a repeated request answers the same codes. Needs walks.view.
func (s *Service) WalksOfSize(ctx context.Context, code string, size int) ([]Walk, error) {
	if err := s.Can(ctx, ActionViewWalks, code); err != nil {
		return nil, err
	}
	if size < MinWalkSize || size > MaxWalkSize {
		return nil, FieldError("size", "a walk has %d to %d stops, not %d", MinWalkSize, MaxWalkSize, size)
	}
	if _, err := s.store.Area(ctx, code); err != nil {
		return nil, err
	}
	batch, err := s.store.LatestWalkBatch(ctx, code, size)
	if err != nil {
		return nil, err
	}
	if batch == 0 {
		return s.GenerateWalks(ctx, code, size)
	}
	return s.store.Walks(ctx, code, batch)
}

func (s *Service) walksOf(ctx context.Context, code string, batch int) ([]Walk, error) {
	if _, err := s.store.Area(ctx, code); err != nil {
		return nil, err
	}
	if batch == 0 {
		var err error
		if batch, err = s.store.LatestWalkBatch(ctx, code, 0); err != nil || batch == 0 {
			return []Walk{}, err
		}
	}
	return s.store.Walks(ctx, code, batch)
}

// Walk returns walk id. ENOTFOUND if there is none (or, to a user who may
// not see its area's walks, EFORBIDDEN). Needs walks.view.
func (s *Service) Walk(ctx context.Context, id int64) (Walk, error) {
	if err := s.canSome(ctx, ActionViewWalks); err != nil {
		return Walk{}, err
	}
	w, err := s.store.Walk(ctx, id)
	if err != nil {
		return Walk{}, err
	}
	if err := s.Can(ctx, ActionViewWalks, w.AreaCode); err != nil {
		return Walk{}, err
	}
	return w, nil
}

// AssignWalk gives walk id to a volunteer by name for days days (0:
// DefaultWalkDays). Returns EINVALID (field volunteer or days) for an
// empty or too long name or days outside 1 to MaxWalkDays, ECONFLICT if
// the walk is taken by someone else, ENOTFOUND for an unknown walk. Needs
// walks.manage for the walk's area.
func (s *Service) AssignWalk(ctx context.Context, id int64, volunteer string, days int) (Walk, error) {
	if err := s.walkAccess(ctx, id); err != nil {
		return Walk{}, err
	}
	volunteer = strings.Join(strings.Fields(volunteer), " ")
	switch {
	case volunteer == "":
		return Walk{}, Invalid("volunteer", ReasonNameRequired, "the volunteer's name is needed")
	case utf8.RuneCountInString(volunteer) > maxVolunteerName:
		return Walk{}, Invalid("volunteer", ReasonNameTooLong, "a name has at most %d characters", maxVolunteerName)
	case hasInvisible(volunteer):
		return Walk{}, invisibleError("volunteer")
	}
	if days == 0 {
		days = DefaultWalkDays
	}
	if days < 1 || days > MaxWalkDays {
		return Walk{}, FieldError("days", "a walk is given for 1 to %d days, not %d", MaxWalkDays, days)
	}
	now := s.now()
	return s.store.ChangeWalk(ctx, id, func(w Walk) (Walk, AuditEntry, error) {
		if w.Taken(now) && w.AssignedTo != volunteer {
			return w, AuditEntry{}, &Error{Code: ECONFLICT, Reason: ReasonWalkTaken, Message: fmt.Sprintf("walk %dW%d is taken until %s; return it first", w.Batch, w.Number, w.ExpiresAt.Format(time.DateOnly))}
		}
		exp := now.AddDate(0, 0, days)
		old := map[string]any{"assigned_to": w.AssignedTo}
		w.AssignedTo, w.AssignedAt, w.ExpiresAt, w.ReturnedAt = volunteer, &now, &exp, nil
		e := s.audit(ctx, "walk.assign", w.AreaCode, fmt.Sprintf("walk:%d", w.ID), old, map[string]any{"assigned_to": volunteer, "expires_at": exp.Format(time.RFC3339)})
		return w, e, nil
	})
}

// ReturnWalk marks walk id returned, so it is free again. ECONFLICT if it
// is not taken. Needs walks.manage for the walk's area.
func (s *Service) ReturnWalk(ctx context.Context, id int64) (Walk, error) {
	if err := s.walkAccess(ctx, id); err != nil {
		return Walk{}, err
	}
	now := s.now()
	return s.store.ChangeWalk(ctx, id, func(w Walk) (Walk, AuditEntry, error) {
		if !w.Taken(now) {
			return w, AuditEntry{}, &Error{Code: ECONFLICT, Reason: ReasonWalkTaken, Message: fmt.Sprintf("walk %dW%d is not taken", w.Batch, w.Number)}
		}
		w.ReturnedAt = &now
		e := s.audit(ctx, "walk.return", w.AreaCode, fmt.Sprintf("walk:%d", w.ID), map[string]any{"assigned_to": w.AssignedTo}, map[string]any{"returned_at": now.Format(time.RFC3339)})
		return w, e, nil
	})
}

// walkAccess checks walks.manage for walk id's area.
func (s *Service) walkAccess(ctx context.Context, id int64) error {
	if err := s.canSome(ctx, ActionManageWalks); err != nil {
		return err
	}
	w, err := s.store.Walk(ctx, id)
	if err != nil {
		return err
	}
	return s.Can(ctx, ActionManageWalks, w.AreaCode)
}

// canSome reports (as Can does) whether the user in ctx may do action for
// some area, before the area of a record is known: a role without the
// action is refused without learning whether the record exists.
func (s *Service) canSome(ctx context.Context, action Action) error {
	err := s.Can(ctx, action, "")
	if err == nil || ErrorCode(err) == EUNAUTHORIZED {
		return err
	}
	u := UserFrom(ctx)
	for _, p := range Permissions {
		if p.Role == u.Role && p.Action == action {
			return nil // decided once the area is known
		}
	}
	return err
}

// OutcomeRequest records an outcome at an address of an area, named by
// its walk code or its address id.
type OutcomeRequest struct {
	Code      string
	AddressID string
	Outcome   Outcome
}

// RecordOutcome records an outcome at an address of area code. Returns
// EINVALID (field outcome, code or address_id) for an unknown outcome, a
// malformed code, neither or both of code and address id, or an address
// outside the area; ENOTFOUND for an unknown code or address. Needs
// walks.manage.
func (s *Service) RecordOutcome(ctx context.Context, code string, req OutcomeRequest) (AddressOutcome, error) {
	if err := s.Can(ctx, ActionManageWalks, code); err != nil {
		return AddressOutcome{}, err
	}
	if !slices.Contains(Outcomes, req.Outcome) {
		return AddressOutcome{}, FieldError("outcome", "outcome %q: want one of visited, not_home, declined, pledged_paper, do_not_knock", truncate(string(req.Outcome), 40))
	}
	if _, err := s.store.Area(ctx, code); err != nil {
		return AddressOutcome{}, err
	}
	o := AddressOutcome{Outcome: req.Outcome, At: s.now(), DoNotKnock: req.Outcome == OutcomeDoNotKnock}
	switch {
	case req.Code != "" && req.AddressID != "":
		return AddressOutcome{}, FieldError("code", "give a walk code or an address id, not both")
	case req.Code != "":
		c, ok := NormaliseWalkCode(req.Code)
		if !ok {
			return AddressOutcome{}, FieldError("code", "%q is not a walk code like 12W3-07", truncate(req.Code, 40))
		}
		st, err := s.store.WalkStopByCode(ctx, code, c)
		if err != nil {
			return AddressOutcome{}, err
		}
		o.Code, o.AddressID = c, st.Address.ID
	case req.AddressID != "":
		ad, err := s.store.Address(ctx, req.AddressID)
		if err != nil {
			return AddressOutcome{}, err
		}
		if ad.AreaCode != code {
			return AddressOutcome{}, FieldError("address_id", "address %s is not in area %s", truncate(req.AddressID, 60), code)
		}
		o.AddressID = ad.ID
	default:
		return AddressOutcome{}, FieldError("code", "a walk code or an address id is needed")
	}
	e := s.audit(ctx, "address.outcome", code, "address:"+o.AddressID, nil, map[string]any{"outcome": o.Outcome, "code": o.Code})
	o.By = e.Actor
	return s.store.RecordOutcome(ctx, o, e)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// AddressOutcomes returns the last outcome of each of area code's
// addresses that has one, by address id. Needs walks.view.
func (s *Service) AddressOutcomes(ctx context.Context, code string) (map[string]AddressOutcome, error) {
	if err := s.Can(ctx, ActionViewWalks, code); err != nil {
		return nil, err
	}
	if _, err := s.store.Area(ctx, code); err != nil {
		return nil, err
	}
	list, err := s.store.AddressOutcomes(ctx, code)
	if err != nil {
		return nil, err
	}
	m := make(map[string]AddressOutcome, len(list))
	for _, o := range list {
		m[o.AddressID] = o
	}
	return m, nil
}

// AddressByWalkCode returns the address that walk code has in area
// area. EINVALID (field code) for a malformed code, ENOTFOUND for an
// unknown one. Needs walks.view.
func (s *Service) AddressByWalkCode(ctx context.Context, area, code string) (Address, error) {
	if err := s.Can(ctx, ActionViewWalks, area); err != nil {
		return Address{}, err
	}
	return s.addressByWalkCode(ctx, area, code)
}

// addressByWalkCode is AddressByWalkCode for a caller that has checked
// its own permission (entering a pledge by code).
func (s *Service) addressByWalkCode(ctx context.Context, area, code string) (Address, error) {
	c, ok := NormaliseWalkCode(code)
	if !ok {
		return Address{}, FieldError("code", "%q is not a walk code like 12W3-07", truncate(code, 40))
	}
	st, err := s.store.WalkStopByCode(ctx, area, c)
	if err != nil {
		return Address{}, err
	}
	return st.Address, nil
}
