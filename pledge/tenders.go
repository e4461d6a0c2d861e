package pledge

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The tender lifecycle: threshold_reached -> tender_open -> awarded ->
// built. A coordinator of the area (or an admin) opens a tender with a bid
// deadline at least MinTenderDays ahead, may extend but never shorten it,
// and awards one bid at or after it; an admin may move an area back. Each
// transition is one store transaction with its audit entry and outbox
// event, and the area's pledges stay as they are throughout.

// MinTenderDays is how long a tender is announced before a provider may
// be chosen: the Danish broadband pool asks for at least three weeks.
const MinTenderDays = 21

// Tender is an area's call for bids. An area has at most one open tender;
// Round counts openings, so a tender moved back and opened again is a new
// round whose bids start afresh.
type Tender struct {
	AreaCode string
	Round    int
	OpenedAt time.Time
	// Deadline is the last day (UTC) on which bids may be submitted,
	// changed or withdrawn; from the next midnight the tender may be
	// awarded.
	Deadline     time.Time
	Association  string // who runs the tender, for the package
	Contact      string // the association's contact for providers
	Municipality string // where the area lies, for providers' filters
	AwardedBid   int64  // 0 until awarded
	AwardReason  string
	AwardedAt    *time.Time
	ClosedAt     *time.Time // set when an admin moved the area back before tender_open
}

// BidsCloseAt is the instant bids close: the end of the deadline day.
func (t Tender) BidsCloseAt() time.Time { return t.Deadline.AddDate(0, 0, 1) }

// BidsOpen reports whether bids may be submitted, changed or withdrawn at
// now.
func (t Tender) BidsOpen(now time.Time) bool {
	return t.ClosedAt == nil && t.AwardedBid == 0 && now.Before(t.BidsCloseAt())
}

// TenderChange is what a tender transition writes, in one transaction.
type TenderChange struct {
	Status AreaStatus // the area's new status
	Tender Tender     // written as the area's current tender when its Round > 0 (inserted when the round is new)
	// Bids sets the status of bids of the tender's round by id.
	Bids   map[int64]BidStatus
	Events []Event
	Audit  AuditEntry
}

// TenderStore keeps tenders and bids. Both stores implement it.
type TenderStore interface {
	// Tender returns the area's current (latest round) tender, or
	// ENOTFOUND.
	Tender(ctx context.Context, code string) (Tender, error)
	// Tenders lists the current tender of every area that has one.
	Tenders(ctx context.Context) ([]Tender, error)
	// ChangeTender locks area code and its current tender (found false
	// when it has none) and runs change; what change returns is written
	// in the same transaction. ENOTFOUND for an unknown area.
	ChangeTender(ctx context.Context, code string, change func(a Area, t Tender, found bool) (TenderChange, error)) (Area, Tender, error)

	// SaveBid stores a new revision of b (a new bid when b.ID is 0,
	// setting b.ID), with its attachment when att is not nil (else the
	// previous revision's attachment is kept, unless b.Attachment is
	// nil), after check has passed on the locked area, its current
	// tender and the bid as it is (for a new bid: the company's submitted
	// bid of the round, zero if none), all with audit in one transaction.
	// It sets b.Revision, b.CreatedAt and, for a new bid, b.Round from
	// the tender. ENOTFOUND for an unknown area or bid.
	SaveBid(ctx context.Context, b *Bid, att []byte, check func(a Area, t Tender, old Bid) error, audit AuditEntry) error
	// Bid returns the latest revision of bid id, or ENOTFOUND.
	Bid(ctx context.Context, id int64) (Bid, error)
	// Bids lists the latest revision of the bids of area code's round,
	// of company only unless it is "", by id.
	Bids(ctx context.Context, code string, round int, company string) ([]Bid, error)
	// BidRevisions lists every revision of bid id, oldest first.
	BidRevisions(ctx context.Context, id int64) ([]Bid, error)
	// BidAttachment returns the attachment of bid id's latest revision,
	// or ENOTFOUND.
	BidAttachment(ctx context.Context, id int64) ([]byte, error)
}

// BidStatus is the state of a bid.
type BidStatus string

// Bid statuses.
const (
	BidSubmitted BidStatus = "submitted"
	BidWithdrawn BidStatus = "withdrawn"
	BidWon       BidStatus = "won"
	BidLost      BidStatus = "lost"
	BidCancelled BidStatus = "cancelled" // the tender was moved back before an award
)

// MaxBidAttachment is the largest PDF a bid may carry.
const MaxBidAttachment = 10 << 20

// Bid is a provider's offer for an area. Amounts are øre. Each change is
// a new revision; the latest counts.
type Bid struct {
	ID       int64
	AreaCode string
	Round    int
	Company  string // the provider's company
	UserID   int64  // who made this revision
	Status   BidStatus

	PricePerConnection    int64 // what the provider charges per connected household
	HouseholdContribution int64 // what the provider asks each household to pay
	TimelineMonths        int   // from award to built
	OpenAccess            bool  // open wholesale access for other providers
	Notes                 string

	Attachment *BidAttachmentInfo // nil without one

	Revision  int
	CreatedAt time.Time // of the first revision
	UpdatedAt time.Time // of this revision
}

// BidAttachmentInfo describes a bid's PDF; its bytes are kept in the store.
type BidAttachmentInfo struct {
	Name   string
	Size   int
	SHA256 string
}

// TenderRequest opens a tender or extends its deadline.
type TenderRequest struct {
	Deadline     time.Time // a date; the time of day is ignored
	Association  string    // "" keeps the tender's (or the installation's default)
	Contact      string
	Municipality string
}

// tenderText bounds the free text of tenders and bids.
func tenderText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		return "", FieldError(field, "%s is at most %d characters", field, max)
	}
	if hasInvisibleText(s) {
		return "", invisibleError(field)
	}
	return s, nil
}

// hasInvisibleText is hasInvisible allowing line breaks and tabs, for
// notes and reasons written over several lines.
func hasInvisibleText(s string) bool {
	return hasInvisible(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s))
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// tenderPayload is the JSON of a tender event: public facts only.
func tenderPayload(a Area, t Tender, extra map[string]any) string {
	m := map[string]any{"area_code": a.Code, "area_name": a.Name, "status": a.Status,
		"deadline": t.Deadline.Format(time.DateOnly), "units": a.Units, "pledged_units": a.PledgedUnits}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// OpenTender opens area code's tender with req's bid deadline, or extends
// the open tender's deadline, and returns the area and its tender. The
// area must have reached its threshold (to open) or be tender_open (to
// extend). Returns EINVALID (field deadline) for a deadline fewer than
// MinTenderDays days after the opening or earlier than the current one,
// ECONFLICT in any other status. An unchanged deadline changes nothing.
// Needs tender.manage.
func (s *Service) OpenTender(ctx context.Context, code string, req TenderRequest) (Area, Tender, error) {
	if err := s.Can(ctx, ActionManageTender, code); err != nil {
		return Area{}, Tender{}, err
	}
	if req.Deadline.IsZero() {
		return Area{}, Tender{}, FieldError("deadline", "a bid deadline (YYYY-MM-DD) is needed")
	}
	assoc, err := tenderText("association", req.Association, 200)
	if err != nil {
		return Area{}, Tender{}, err
	}
	contact, err := tenderText("contact", req.Contact, 500)
	if err != nil {
		return Area{}, Tender{}, err
	}
	municipality, err := tenderText("municipality", req.Municipality, 100)
	if err != nil {
		return Area{}, Tender{}, err
	}
	deadline := dateOnly(req.Deadline)
	now := s.now()
	a, t, err := s.store.ChangeTender(ctx, code, func(a Area, t Tender, found bool) (TenderChange, error) {
		switch a.Status {
		case StatusThresholdReached:
			earliest := dateOnly(now).AddDate(0, 0, MinTenderDays)
			if deadline.Before(earliest) {
				return TenderChange{}, FieldError("deadline", "a tender is announced for at least %d days: the bid deadline is %s or later", MinTenderDays, earliest.Format(time.DateOnly))
			}
			round := 1
			if found {
				round = t.Round + 1
			}
			nt := Tender{AreaCode: code, Round: round, OpenedAt: now, Deadline: deadline, Association: orElse(assoc, t.Association, s.TenderAssociation), Contact: orElse(contact, t.Contact, s.TenderContact),
				Municipality: orElse(municipality, t.Municipality, s.TenderMunicipality)}
			a.Status = StatusTenderOpen
			e := s.audit(ctx, "tender.open", code, "area:"+code, map[string]any{"status": StatusThresholdReached},
				map[string]any{"status": StatusTenderOpen, "round": round, "deadline": nt.Deadline.Format(time.DateOnly), "association": nt.Association, "contact": nt.Contact, "municipality": nt.Municipality})
			return TenderChange{Status: StatusTenderOpen, Tender: nt, Audit: e, Events: []Event{{
				Kind: EventTenderOpened, AreaCode: code, At: now, Key: fmt.Sprintf("%s:%s:%d", EventTenderOpened, code, round),
				Payload: tenderPayload(a, nt, map[string]any{"opened_at": now.Format(time.RFC3339), "round": round}),
			}}}, nil
		case StatusTenderOpen:
			if deadline.Before(t.Deadline) {
				return TenderChange{}, FieldError("deadline", "a bid deadline can be extended, never shortened: it is %s", t.Deadline.Format(time.DateOnly))
			}
			old := t
			t.Deadline = deadline
			t.Association, t.Contact, t.Municipality = orElse(assoc, t.Association), orElse(contact, t.Contact), orElse(municipality, t.Municipality)
			if old.Deadline.Equal(t.Deadline) && old.Association == t.Association && old.Contact == t.Contact && old.Municipality == t.Municipality {
				return TenderChange{Status: a.Status, Tender: t}, errUnchanged
			}
			e := s.audit(ctx, "tender.extend", code, "area:"+code,
				map[string]any{"deadline": old.Deadline.Format(time.DateOnly), "association": old.Association, "contact": old.Contact, "municipality": old.Municipality},
				map[string]any{"deadline": t.Deadline.Format(time.DateOnly), "association": t.Association, "contact": t.Contact, "municipality": t.Municipality})
			ch := TenderChange{Status: a.Status, Tender: t, Audit: e}
			if !old.Deadline.Equal(t.Deadline) {
				ch.Events = []Event{{Kind: EventTenderDeadlineChanged, AreaCode: code, At: now,
					Key:     fmt.Sprintf("%s:%s:%d:%s", EventTenderDeadlineChanged, code, t.Round, t.Deadline.Format(time.DateOnly)),
					Payload: tenderPayload(a, t, map[string]any{"old_deadline": old.Deadline.Format(time.DateOnly), "round": t.Round}),
				}}
			}
			return ch, nil
		}
		return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("area %s cannot be put out to tender now (status %s): it must have reached its threshold", code, a.Status)}
	})
	if err == errUnchanged {
		return s.tenderOf(ctx, code)
	}
	if err == nil {
		s.dropArea(ctx, code)
	}
	return a, t, err
}

// errUnchanged aborts a change that would write nothing new.
var errUnchanged = &Error{Code: ECONFLICT, Message: "unchanged"}

func (s *Service) tenderOf(ctx context.Context, code string) (Area, Tender, error) {
	a, err := s.store.Area(ctx, code)
	if err != nil {
		return Area{}, Tender{}, err
	}
	t, err := s.store.Tender(ctx, code)
	return a, t, err
}

func orElse(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Tender returns area code's current tender, for whoever may see the
// area's tenders (ENOTFOUND when it has none). Needs tenders.view or
// tender.manage for the area.
func (s *Service) Tender(ctx context.Context, code string) (Tender, error) {
	if err := s.Can(ctx, ActionViewTenders, code); err != nil {
		if err2 := s.Can(ctx, ActionManageTender, code); err2 != nil {
			return Tender{}, err
		}
	}
	return s.store.Tender(ctx, code)
}

// TenderArea is an area as providers see it in the list of tenders: its
// public counters and, once opened, its tender.
type TenderArea struct {
	Area   Area // without geometry
	Tender *Tender
}

// Tenders lists the areas open for tender and those that have reached
// their threshold with no tender yet (Tender nil), soonest deadline first.
// Needs tenders.view.
func (s *Service) Tenders(ctx context.Context) ([]TenderArea, error) {
	if err := s.Can(ctx, ActionViewTenders, ""); err != nil {
		return nil, err
	}
	areas, err := s.store.Areas(ctx, false)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.Tenders(ctx)
	if err != nil {
		return nil, err
	}
	byCode := map[string]Tender{}
	for _, t := range ts {
		byCode[t.AreaCode] = t
	}
	out := []TenderArea{}
	for _, a := range areas {
		switch a.Status {
		case StatusTenderOpen:
			t := byCode[a.Code]
			out = append(out, TenderArea{Area: a, Tender: &t})
		case StatusThresholdReached:
			out = append(out, TenderArea{Area: a})
		}
	}
	slices.SortStableFunc(out, func(x, y TenderArea) int {
		switch {
		case x.Tender == nil && y.Tender == nil:
			return strings.Compare(x.Area.Code, y.Area.Code)
		case x.Tender == nil:
			return 1
		case y.Tender == nil:
			return -1
		}
		if c := x.Tender.Deadline.Compare(y.Tender.Deadline); c != 0 {
			return c
		}
		return strings.Compare(x.Area.Code, y.Area.Code)
	})
	return out, nil
}

// AwardTender awards area code's open tender to bid bidID, with a reason,
// at or after the bid deadline, and returns the area and tender. The
// other bids lose; with mail configured every bidder is told. Returns
// ECONFLICT before the deadline or when the area is not tender_open,
// EINVALID for a missing reason or a bid not of this tender's round or
// withdrawn. Needs tender.manage.
func (s *Service) AwardTender(ctx context.Context, code string, bidID int64, reason string) (Area, Tender, error) {
	if err := s.Can(ctx, ActionManageTender, code); err != nil {
		return Area{}, Tender{}, err
	}
	reason, err := tenderText("reason", reason, 2000)
	if err != nil {
		return Area{}, Tender{}, err
	}
	if reason == "" {
		return Area{}, Tender{}, FieldError("reason", "say why this bid wins: the reason is kept in the audit log")
	}
	t0, err := s.store.Tender(ctx, code)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Area{}, Tender{}, err
	}
	bids, err := s.store.Bids(ctx, code, t0.Round, "")
	if err != nil {
		return Area{}, Tender{}, err
	}
	// Bidders' addresses are read before the transaction; the mails are
	// queued in it.
	emails := map[int64]string{}
	if s.Mail {
		for _, b := range bids {
			if u, err := s.store.UserByID(ctx, b.UserID); err == nil && u.Active {
				emails[b.ID] = u.Email
			}
		}
	}
	now := s.now()
	return s.store.ChangeTender(ctx, code, func(a Area, t Tender, found bool) (TenderChange, error) {
		if a.Status != StatusTenderOpen || !found {
			return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("area %s has no open tender (status %s)", code, a.Status)}
		}
		if now.Before(t.BidsCloseAt()) {
			return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("bids are open until the end of %s; award after that", t.Deadline.Format(time.DateOnly))}
		}
		if t.Round != t0.Round {
			return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: "the tender changed meanwhile; try again"}
		}
		var win *Bid
		set := map[int64]BidStatus{}
		for i, b := range bids {
			if b.Status != BidSubmitted {
				continue
			}
			if b.ID == bidID {
				win = &bids[i]
				set[b.ID] = BidWon
			} else {
				set[b.ID] = BidLost
			}
		}
		if win == nil {
			return TenderChange{}, FieldError("bid_id", "bid %d is not a standing bid of this tender", bidID)
		}
		t.AwardedBid, t.AwardReason, t.AwardedAt = bidID, reason, &now
		a.Status = StatusAwarded
		e := s.audit(ctx, "tender.award", code, fmt.Sprintf("bid:%d", bidID), map[string]any{"status": StatusTenderOpen},
			map[string]any{"status": StatusAwarded, "bid_id": bidID, "provider": win.Company, "reason": reason})
		events := []Event{{Kind: EventTenderAwarded, AreaCode: code, At: now, Key: fmt.Sprintf("%s:%s:%d", EventTenderAwarded, code, t.Round),
			Payload: tenderPayload(a, t, map[string]any{"provider": win.Company, "bid_id": bidID, "awarded_at": now.Format(time.RFC3339), "round": t.Round})}}
		for id, st := range set {
			to := emails[id]
			if to == "" {
				continue
			}
			subject := fmt.Sprintf("Udbud %s: jeres bud blev ikke valgt / Tender %s: your bid was not chosen", a.Name, a.Name)
			text := fmt.Sprintf("Udbuddet for %s (%s) er afgjort. Jeres bud nr. %d blev ikke valgt. Tak for buddet.\n\n"+
				"The tender for %s (%s) has been decided. Your bid no. %d was not chosen. Thank you for bidding.\n", a.Name, code, id, a.Name, code, id)
			if st == BidWon {
				subject = fmt.Sprintf("Udbud %s: jeres bud er valgt / Tender %s: your bid was chosen", a.Name, a.Name)
				text = fmt.Sprintf("Jeres bud nr. %d på %s (%s) er valgt. Foreningen kontakter jer.\n\n"+
					"Your bid no. %d for %s (%s) was chosen. The association will contact you.\n", id, a.Name, code, id, a.Name, code)
			}
			events = append(events, *s.mailEvent(fmt.Sprintf("award:%s:%d:%d", code, t.Round, id), to, subject, text))
		}
		return TenderChange{Status: StatusAwarded, Tender: t, Bids: set, Audit: e, Events: events}, nil
	})
}

// lifecycle orders the statuses an admin may move an area back through.
var lifecycle = []AreaStatus{StatusCollecting, StatusThresholdReached, StatusTenderOpen, StatusAwarded, StatusBuilt}

// MoveAreaBack moves area code back to an earlier lifecycle status, with
// a reason: built -> awarded -> tender_open -> threshold_reached ->
// collecting. Moving before awarded undoes the award (its bids stand
// again); before tender_open closes the tender (its bids are cancelled;
// a new tender starts a new round). Pledges stay. Returns EINVALID for
// a status that is not earlier, ECONFLICT when the area is not in the
// lifecycle. Needs area.move_back (admins).
func (s *Service) MoveAreaBack(ctx context.Context, code string, to AreaStatus, reason string) (Area, error) {
	if err := s.Can(ctx, ActionMoveBack, code); err != nil {
		return Area{}, err
	}
	reason, err := tenderText("reason", reason, 2000)
	if err != nil {
		return Area{}, err
	}
	if reason == "" {
		return Area{}, FieldError("reason", "say why the area moves back: the reason is kept in the audit log")
	}
	ti := slices.Index(lifecycle, to)
	if ti < 0 {
		return Area{}, FieldError("to", "an area moves back to collecting, threshold_reached, tender_open or awarded, not %q", to)
	}
	t0, _ := s.store.Tender(ctx, code)
	bids, err := s.store.Bids(ctx, code, t0.Round, "")
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Area{}, err
	}
	now := s.now()
	a, _, err := s.store.ChangeTender(ctx, code, func(a Area, t Tender, found bool) (TenderChange, error) {
		from := a.Status
		fi := slices.Index(lifecycle, from)
		if fi < 0 {
			return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("area %s is %s, not in the tender lifecycle", code, from)}
		}
		if ti >= fi {
			return TenderChange{}, FieldError("to", "%s is not before the area's status %s", to, from)
		}
		if t.Round != t0.Round {
			return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: "the tender changed meanwhile; try again"}
		}
		set := map[int64]BidStatus{}
		if found && lifecycleAfter(from, StatusTenderOpen) && !lifecycleAfter(to, StatusTenderOpen) {
			t.AwardedBid, t.AwardReason, t.AwardedAt = 0, "", nil
			for _, b := range bids {
				if b.Status == BidWon || b.Status == BidLost {
					set[b.ID] = BidSubmitted
				}
			}
		}
		if found && !lifecycleBefore(from, StatusTenderOpen) && lifecycleBefore(to, StatusTenderOpen) {
			t.ClosedAt = &now
			for _, b := range bids {
				if b.Status != BidWithdrawn {
					set[b.ID] = BidCancelled
				}
			}
		}
		a.Status = to
		e := s.audit(ctx, "area.move_back", code, "area:"+code, map[string]any{"status": from}, map[string]any{"status": to, "reason": reason})
		b, _ := json.Marshal(map[string]any{"area_code": code, "area_name": a.Name, "from": from, "to": to})
		return TenderChange{Status: to, Tender: t, Bids: set, Audit: e, Events: []Event{{
			Kind: EventAreaMovedBack, AreaCode: code, At: now, Key: fmt.Sprintf("%s:%s:%d:%s:%s:%d", EventAreaMovedBack, code, t.Round, from, to, now.UnixNano()), Payload: string(b),
		}}}, nil
	})
	if err == nil {
		s.dropArea(ctx, code)
	}
	return a, err
}

// lifecycleAfter reports whether x comes after y in the lifecycle.
func lifecycleAfter(x, y AreaStatus) bool {
	return slices.Index(lifecycle, x) > slices.Index(lifecycle, y)
}

// lifecycleBefore reports whether x comes before y in the lifecycle.
func lifecycleBefore(x, y AreaStatus) bool {
	return slices.Index(lifecycle, x) < slices.Index(lifecycle, y)
}

// MarkBuilt records that area code's awarded network is built. Needs
// tender.manage.
func (s *Service) MarkBuilt(ctx context.Context, code string) (Area, error) {
	if err := s.Can(ctx, ActionManageTender, code); err != nil {
		return Area{}, err
	}
	a, _, err := s.store.ChangeTender(ctx, code, func(a Area, t Tender, found bool) (TenderChange, error) {
		if a.Status != StatusAwarded {
			return TenderChange{}, &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("only an awarded area is built; area %s is %s", code, a.Status)}
		}
		e := s.audit(ctx, "area.built", code, "area:"+code, map[string]any{"status": a.Status}, map[string]any{"status": StatusBuilt})
		return TenderChange{Status: StatusBuilt, Tender: t, Audit: e}, nil
	})
	if err == nil {
		s.dropArea(ctx, code)
	}
	return a, err
}
