package pledge

import (
	"context"
	"fmt"
	"time"
)

// Pledges a coordinator enters on a resident's behalf: a paper form from
// the kitchen table, a phone call, a signature at the door. They count
// like online pledges; how each came is kept beside it.

// Pledge sources.
const (
	SourceOnline = "online"
	SourcePaper  = "paper"
	SourcePhone  = "phone"
	SourceDoor   = "door"
)

// PledgeEntry is how a pledge entered by a coordinator came: its source,
// the sheet or batch it was on, and who entered it.
type PledgeEntry struct {
	PledgeID  int64
	Source    string
	Batch     string
	EnteredBy string // the coordinator's e-mail, or "cli"
	At        time.Time
}

// EntryStore keeps how entered pledges came. Both stores implement it.
type EntryStore interface {
	// RecordPledgeEntry stores e with audit in one transaction.
	RecordPledgeEntry(ctx context.Context, e PledgeEntry, audit AuditEntry) error
	// AreaPledgeEntries lists the entries of area code's pledges.
	AreaPledgeEntries(ctx context.Context, code string) ([]PledgeEntry, error)
}

// EntryRequest is a pledge entered on a resident's behalf: its address by
// id or by the short code of a walk list.
type EntryRequest struct {
	AddressID string
	WalkCode  string
	Unit      int
	Name      string
	Email     string
	Phone     string
	Source    string // paper, phone or door
	Batch     string // the sheet or batch, e.g. "Kirkevej 14. juni"
	// PowerOfAttorney: the form's power of attorney was signed.
	PowerOfAttorney bool
}

// EnterPledge stores a pledge a coordinator of area code enters for a
// resident, with the same rules as an online pledge (a name and an
// e-mail or phone; the unit free). The resident signed the form, so
// consent is given. Entering the same sheet's code twice returns the
// first pledge (the batch and code are its idempotency key). By walk code
// the address's walk outcome becomes pledged_paper. Returns the pledge
// (its manage link is for the resident). Needs pledges.enter.
func (s *Service) EnterPledge(ctx context.Context, code string, r EntryRequest) (Pledge, error) {
	if err := s.Can(ctx, ActionEnterPledges, code); err != nil {
		return Pledge{}, err
	}
	switch r.Source {
	case SourcePaper, SourcePhone, SourceDoor:
	case "":
		r.Source = SourcePaper
	default:
		return Pledge{}, FieldError("source", "the source is paper, phone or door, not %q", truncate(r.Source, 20))
	}
	batch, err := tenderText("batch", r.Batch, 100)
	if err != nil {
		return Pledge{}, err
	}
	key := ""
	if r.WalkCode != "" {
		a, err := s.addressByWalkCode(ctx, code, r.WalkCode)
		if err != nil {
			return Pledge{}, err
		}
		r.AddressID = a.ID
		c, _ := NormaliseWalkCode(r.WalkCode)
		key = "entry:" + code + ":" + batch + ":" + c
	}
	if r.AddressID == "" {
		return Pledge{}, Invalid("address_id", ReasonAddressRequired, "give the address or its walk code")
	}
	addr, err := s.store.Address(ctx, r.AddressID)
	if err != nil {
		return Pledge{}, err
	}
	if addr.AreaCode != code {
		return Pledge{}, FieldError("address_id", "address %s is not in area %s", truncate(r.AddressID, 60), code)
	}
	p, replayed, err := s.CreatePledge(ctx, PledgeRequest{AddressID: r.AddressID, Unit: r.Unit, Name: r.Name, Email: r.Email,
		Phone: r.Phone, Consent: true}, key)
	if err != nil {
		return Pledge{}, err
	}
	if replayed {
		return p, nil
	}
	u := UserFrom(ctx)
	by := "cli"
	if !u.system {
		by = u.Email
	}
	e := PledgeEntry{PledgeID: p.ID, Source: r.Source, Batch: batch, EnteredBy: by, At: s.now()}
	// The pledge is stored; how it came is a second write. Should it
	// fail, the pledge stands and counts, and the error says so.
	if err := s.store.RecordPledgeEntry(ctx, e, s.audit(ctx, "pledge.enter", code, fmt.Sprintf("pledge:%d", p.ID), nil,
		map[string]any{"address_id": p.AddressID, "unit": p.Unit, "source": r.Source, "batch": batch})); err != nil {
		return p, fmt.Errorf("pledge %d stored, but not how it came: %w", p.ID, err)
	}
	if r.PowerOfAttorney {
		if _, err := s.GivePowerOfAttorney(ctx, p.Token, POAPaper); err != nil {
			return p, fmt.Errorf("pledge %d stored, but not its power of attorney: %w", p.ID, err)
		}
	}
	if r.WalkCode != "" && s.Can(ctx, ActionManageWalks, code) == nil {
		if _, err := s.RecordOutcome(ctx, code, OutcomeRequest{AddressID: p.AddressID, Outcome: OutcomePledgedPaper}); err != nil {
			return p, fmt.Errorf("pledge %d stored, but not its walk outcome: %w", p.ID, err)
		}
	}
	return p, nil
}

// AreaPledgeEntries lists how area code's entered pledges came, by pledge
// id. Needs pledges.view.
func (s *Service) AreaPledgeEntries(ctx context.Context, code string) (map[int64]PledgeEntry, error) {
	if err := s.Can(ctx, ActionViewPledges, code); err != nil {
		return nil, err
	}
	es, err := s.store.AreaPledgeEntries(ctx, code)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]PledgeEntry, len(es))
	for _, e := range es {
		out[e.PledgeID] = e
	}
	return out, nil
}

// SourceOf is how pledge id came, given its area's entries.
func SourceOf(entries map[int64]PledgeEntry, id int64) string {
	if e, ok := entries[id]; ok {
		return e.Source
	}
	return SourceOnline
}
