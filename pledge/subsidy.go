package pledge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The subsidy application annex. The Danish broadband pool asks, for every
// address of a project, for a power of attorney (fuldmagt) and an own
// payment (egenbetaling). Its rules change every year, so they are named,
// dated rule sets in the store, not constants.

// SubsidyRules is one year's rules of a subsidy scheme. Amounts are øre.
type SubsidyRules struct {
	Name                 string    // e.g. "bredbaandspuljen-2026"
	Title                string    // what the annex calls it
	ValidFrom            time.Time // a date: the rules apply to annexes made from then on
	MinOwnPayment        int64     // every connected household pays at least this
	MaxSubsidyPerAddress int64     // the most the scheme pays for one address
}

// PowerOfAttorney is a resident's power of attorney for a pledge: given in
// the pledge form, from the manage page, or on paper (entered by a
// coordinator). It is a record of its own because it is a document of its
// own: it may come after the pledge.
type PowerOfAttorney struct {
	PledgeID int64
	GivenAt  time.Time
	Source   string // "form", "manage" or "paper"
}

// SubsidyStore keeps rule sets and powers of attorney. Both stores
// implement it.
type SubsidyStore interface {
	// SubsidyRuleSets lists every rule set, by name.
	SubsidyRuleSets(ctx context.Context) ([]SubsidyRules, error)
	// SaveSubsidyRules inserts or replaces the rule set of r.Name, with
	// audit, in one transaction.
	SaveSubsidyRules(ctx context.Context, r SubsidyRules, audit AuditEntry) error
	// RecordPowerOfAttorney records a power of attorney for the active
	// pledge with token (a second is ignored), with audit. ENOTFOUND if
	// no active pledge has the token.
	RecordPowerOfAttorney(ctx context.Context, token string, poa PowerOfAttorney, audit AuditEntry) (Pledge, error)
	// AreaPowersOfAttorney lists the powers of attorney of area code's
	// active pledges.
	AreaPowersOfAttorney(ctx context.Context, code string) ([]PowerOfAttorney, error)
	// HasPowerOfAttorney reports whether pledge id has one on file.
	HasPowerOfAttorney(ctx context.Context, pledgeID int64) (bool, error)
}

// Power-of-attorney sources.
const (
	POAForm   = "form"
	POAManage = "manage"
	POAPaper  = "paper"
)

// GivePowerOfAttorney records the resident's power of attorney for their
// pledge (found by its manage token), from source (POAForm, POAManage or
// POAPaper). Returns ENOTFOUND for an unknown or withdrawn pledge.
func (s *Service) GivePowerOfAttorney(ctx context.Context, token, source string) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, &Error{Code: ENOTFOUND, Reason: ReasonPledgeNotFound, Message: "no pledge with this link"}
	}
	if source != POAForm && source != POAManage && source != POAPaper {
		return Pledge{}, FieldError("source", "unknown source %q", source)
	}
	e := s.audit(ctx, "pledge.power_of_attorney", "", "pledge", nil, map[string]any{"source": source})
	p, err := s.store.RecordPowerOfAttorney(ctx, token, PowerOfAttorney{GivenAt: s.now(), Source: source}, e)
	return p, err
}

// SubsidyRuleSets lists the rule sets, newest first. Needs area.edit for
// some area or users.manage: coordinators and admins read them.
func (s *Service) SubsidyRuleSets(ctx context.Context) ([]SubsidyRules, error) {
	u := UserFrom(ctx)
	if err := s.Can(ctx, ActionManageUsers, ""); err != nil && (u == nil || u.Role != RoleCoordinator || !u.Active) {
		return nil, err
	}
	rs, err := s.store.SubsidyRuleSets(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rs, func(a, b SubsidyRules) int { return b.ValidFrom.Compare(a.ValidFrom) })
	return rs, nil
}

// SaveSubsidyRules adds or replaces a rule set. Needs users.manage
// (admins): the rules are the programme's, not one area's.
func (s *Service) SaveSubsidyRules(ctx context.Context, r SubsidyRules) error {
	if err := s.Can(ctx, ActionManageUsers, ""); err != nil {
		return err
	}
	r.Name, r.Title = strings.TrimSpace(r.Name), strings.TrimSpace(r.Title)
	switch {
	case r.Name == "" || len(r.Name) > 60 || strings.ContainsAny(r.Name, " /\\\"'"):
		return FieldError("name", "a rule set's name is a short word such as bredbaandspuljen-2027")
	case hasInvisible(r.Title) || len(r.Title) > 200:
		return FieldError("title", "the title is at most 200 characters, without invisible ones")
	case r.ValidFrom.IsZero():
		return FieldError("valid_from", "the date the rules apply from (YYYY-MM-DD) is needed")
	case r.MinOwnPayment < 0 || r.MinOwnPayment > maxBidAmount:
		return FieldError("min_own_payment", "the minimum own payment is an amount, 0 or more")
	case r.MaxSubsidyPerAddress < 0 || r.MaxSubsidyPerAddress > maxBidAmount:
		return FieldError("max_subsidy_per_address", "the maximum subsidy per address is an amount, 0 or more")
	}
	if r.Title == "" {
		r.Title = r.Name
	}
	r.ValidFrom = dateOnly(r.ValidFrom)
	return s.store.SaveSubsidyRules(ctx, r, s.audit(ctx, "subsidy_rules.save", "", "rules:"+r.Name, nil, r))
}

// rulesFor is the rule set named name, or ("") the newest valid at now.
func (s *Service) rulesFor(ctx context.Context, name string, now time.Time) (SubsidyRules, error) {
	rs, err := s.store.SubsidyRuleSets(ctx)
	if err != nil {
		return SubsidyRules{}, err
	}
	var best *SubsidyRules
	for i, r := range rs {
		if name != "" && r.Name == name {
			return r, nil
		}
		if name == "" && !r.ValidFrom.After(now) && (best == nil || r.ValidFrom.After(best.ValidFrom)) {
			best = &rs[i]
		}
	}
	if name != "" {
		return SubsidyRules{}, FieldError("rules", "no subsidy rule set %q", name)
	}
	if best == nil {
		return SubsidyRules{}, FieldError("rules", "no subsidy rule set applies on %s: an admin adds one with kommunity rules set", now.Format(time.DateOnly))
	}
	return *best, nil
}

// AnnexRow is one address of the subsidy annex.
type AnnexRow struct {
	AddressID    string
	Text         string
	Units        int
	PledgedUnits int
	// OwnPayment is what the address's pledged households pay together
	// under the area's cost split, at least the rules' minimum each.
	OwnPayment int64
	// PowerOfAttorney counts the pledged households with one on file.
	PowerOfAttorney int
	// Complete: every pledged household has a power of attorney and pays
	// at least the minimum.
	Complete bool
}

// SubsidyAnnex is the annex of an area's subsidy application.
type SubsidyAnnex struct {
	Area  Area
	Rules SubsidyRules
	Date  time.Time
	Rows  []AnnexRow // every address with pledged households, by id
	// StateSubsidy is what the cost split asks of the scheme, capped at
	// the rules' maximum per connected address.
	StateSubsidy int64
	OwnPayments  int64
	Complete     int // addresses complete
}

// SubsidyAnnex builds area code's annex under the rule set named rules
// ("" for the newest in force today). Needs pledges.view: it tells which
// households gave a power of attorney (counts per address, no names).
func (s *Service) SubsidyAnnex(ctx context.Context, code, rules string) (SubsidyAnnex, error) {
	if err := s.Can(ctx, ActionViewPledges, code); err != nil {
		return SubsidyAnnex{}, err
	}
	now := s.now()
	r, err := s.rulesFor(ctx, rules, now)
	if err != nil {
		return SubsidyAnnex{}, err
	}
	m, err := s.costModel(ctx, code, nil, 0)
	if err != nil {
		return SubsidyAnnex{}, err
	}
	cost, idx, err := m.at(m.pledged)
	if err != nil {
		return SubsidyAnnex{}, err
	}
	poas, err := s.store.AreaPowersOfAttorney(ctx, code)
	if err != nil {
		return SubsidyAnnex{}, err
	}
	pledges, err := s.store.AreaPledges(ctx, code, s.audit(ctx, "pledges.annex", code, "area:"+code, nil, map[string]any{"rules": r.Name}))
	if err != nil {
		return SubsidyAnnex{}, err
	}
	withPOA := map[int64]bool{}
	for _, p := range poas {
		withPOA[p.PledgeID] = true
	}
	poaAt := map[string]int{}
	for _, p := range pledges {
		if p.Status == PledgeActive && withPOA[p.ID] {
			poaAt[p.AddressID]++
		}
	}
	an := SubsidyAnnex{Area: m.area, Rules: r, Date: now}
	an.Area.Geometry = nil
	share := 0
	for j, i := range idx {
		a := m.addrs[i]
		n := cost.Connected[j].Units
		var pay int64
		for k := 0; k < n && share+k < len(cost.Shares); k++ {
			pay += cost.Shares[share+k]
		}
		share += n
		pay = max(pay, r.MinOwnPayment*int64(n))
		row := AnnexRow{AddressID: a.ID, Text: a.Text, Units: a.Units, PledgedUnits: n, OwnPayment: pay, PowerOfAttorney: min(poaAt[a.ID], n)}
		row.Complete = row.PowerOfAttorney >= n
		if row.Complete {
			an.Complete++
		}
		an.OwnPayments += pay
		an.Rows = append(an.Rows, row)
	}
	slices.SortFunc(an.Rows, func(x, y AnnexRow) int { return strings.Compare(x.AddressID, y.AddressID) })
	an.StateSubsidy = min(cost.StateSubsidy, r.MaxSubsidyPerAddress*int64(len(an.Rows)))
	return an, nil
}

// String names a rule set with its date, for headers and errors.
func (r SubsidyRules) String() string {
	return fmt.Sprintf("%s (%s)", r.Title, r.ValidFrom.Format(time.DateOnly))
}

// AreaPowersOfAttorney lists the powers of attorney of area code's active
// pledges. Needs pledges.view.
func (s *Service) AreaPowersOfAttorney(ctx context.Context, code string) ([]PowerOfAttorney, error) {
	if err := s.Can(ctx, ActionViewPledges, code); err != nil {
		return nil, err
	}
	return s.store.AreaPowersOfAttorney(ctx, code)
}

// HasPowerOfAttorney reports whether the pledge of a manage token has a
// power of attorney on file, for the resident's own manage page.
func (s *Service) HasPowerOfAttorney(ctx context.Context, token string) (bool, error) {
	p, err := s.Pledge(ctx, token)
	if err != nil {
		return false, err
	}
	return s.store.HasPowerOfAttorney(ctx, p.ID)
}
