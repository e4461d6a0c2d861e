package pledge

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// AreaSettings are what a coordinator changes about an area; nil fields
// stay as they are.
type AreaSettings struct {
	ThresholdPercent *float64
	ThresholdUnits   *int
	Deadline         *time.Time
	ClearDeadline    bool
	Status           *AreaStatus
	// ConfirmDays is how many days an unconfirmed pledge waits for its
	// confirmation before it lapses, 1 to MaxConfirmDays.
	ConfirmDays *int
}

var knownStatus = map[AreaStatus]bool{
	StatusDraft: true, StatusCollecting: true, StatusThresholdReached: true, StatusTenderOpen: true,
	StatusAwarded: true, StatusBuilt: true, StatusLapsed: true,
}

// UpdateAreaSettings changes an area's threshold, deadline or status and
// returns the area. Returns ENOTFOUND for an unknown area and EINVALID for a
// threshold outside 0-100, a negative minimum, an unknown status, or a move
// to threshold_reached (only a pledge makes that move).
//
// Needs area.edit (EUNAUTHORIZED, EFORBIDDEN); the change is in the audit
// log with the old and new values, in its transaction.
func (s *Service) UpdateAreaSettings(ctx context.Context, code string, set AreaSettings) (Area, error) {
	if err := s.Can(ctx, ActionEditArea, code); err != nil {
		return Area{}, err
	}
	a, err := s.readProgress(ctx, code)
	if err != nil {
		return Area{}, err
	}
	old := areaSettingsView(a)
	if p := set.ThresholdPercent; p != nil {
		if *p < 0 || *p > 100 || *p != *p {
			return Area{}, FieldError("threshold", "threshold must be a percent from 0 to 100, not %g", *p)
		}
		a.ThresholdPercent = *p
	}
	if u := set.ThresholdUnits; u != nil {
		if *u < 0 {
			return Area{}, FieldError("threshold_units", "the minimum number of pledged units cannot be negative")
		}
		a.ThresholdUnits = *u
	}
	if set.ClearDeadline {
		a.Deadline = nil
	} else if d := set.Deadline; d != nil {
		t := d.UTC()
		a.Deadline = &t
	}
	if d := set.ConfirmDays; d != nil {
		if *d < 1 || *d > MaxConfirmDays {
			return Area{}, FieldError("confirm_days", "the days to confirm a pledge must be from 1 to %d, not %d", MaxConfirmDays, *d)
		}
		a.ConfirmDays = *d
	}
	if st := set.Status; st != nil {
		if !knownStatus[*st] {
			return Area{}, FieldError("status", "unknown status %q", *st)
		}
		// The crossing is recorded (with its outbox event) by the pledge
		// that makes it, so it is not set by hand; with a lowered threshold
		// that is already met, the next pledge makes it.
		if *st == StatusThresholdReached && a.Status != StatusThresholdReached {
			return Area{}, FieldError("status", "threshold_reached is set by the pledge that reaches the threshold")
		}
		if err := settableStatus(ctx, a.Status, *st); err != nil {
			return Area{}, err
		}
		a.Status = *st
	}
	e := s.audit(ctx, "area.update", code, "area:"+code, old, areaSettingsView(a))
	// A later deadline for an area still collecting is an extension: it
	// is announced on the public page and notified (its event).
	var ext *DeadlineExtension
	var events []Event
	if before := old["deadline"].(*time.Time); before != nil && a.Deadline != nil && a.Deadline.After(*before) &&
		(a.Status == StatusCollecting || a.Status == StatusThresholdReached) {
		now := s.now()
		ext = &DeadlineExtension{AreaCode: code, From: *before, To: *a.Deadline, At: now}
		// The key holds both dates and the time of the change, so each
		// extension is one event, its notices once.
		b, _ := json.Marshal(map[string]any{"area_code": code, "area_name": a.Name, "status": a.Status,
			"old_deadline": before.Format(time.DateOnly), "new_deadline": a.Deadline.Format(time.DateOnly), "deadline": a.Deadline.Format(time.DateOnly)})
		events = append(events, Event{Kind: EventDeadlineExtended, AreaCode: code, At: now, Payload: string(b),
			Key: EventDeadlineExtended + ":" + code + ":" + before.Format(time.DateOnly) + ":" + a.Deadline.Format(time.DateOnly) + ":" + now.Format(time.RFC3339Nano)})
	}
	if err := s.store.SaveAreaSettings(ctx, a, e, ext, events); err != nil {
		return Area{}, err
	}
	s.dropArea(ctx, code)
	return a, nil
}

// areaSettingsView is what the audit log keeps of an area's settings.
func areaSettingsView(a Area) map[string]any {
	return map[string]any{"threshold_percent": a.ThresholdPercent, "threshold_units": a.ThresholdUnits,
		"deadline": a.Deadline, "status": a.Status, "confirm_days": confirmDays(a)}
}

// DeadlineOn is the deadline of a day: pledges close at the end of it
// (23:59 UTC), as the CLI and the API both read a YYYY-MM-DD date.
func DeadlineOn(day time.Time) time.Time {
	d := day.UTC().Truncate(24 * time.Hour)
	return d.Add(24*time.Hour - time.Minute)
}

// settableStatus refuses, for a signed-in user, the moves that have their
// own transition with its rules, audit and event: tenders are opened and
// awarded through OpenTender and AwardTender, an area moves back through
// MoveAreaBack, and only an awarded area is built. The CLI on the server
// may set any status (an operator's repair).
func settableStatus(ctx context.Context, from, to AreaStatus) error {
	if u := UserFrom(ctx); u != nil && u.system || from == to {
		return nil
	}
	switch {
	case to == StatusTenderOpen:
		return FieldError("status", "open a tender with POST /api/areas/{code}/tender and a bid deadline")
	case to == StatusAwarded:
		return FieldError("status", "award a bid with POST /api/areas/{code}/award")
	case to == StatusBuilt && from != StatusAwarded:
		return FieldError("status", "only an awarded area is built")
	case slices.Contains(lifecycle, from) && from != StatusCollecting && slices.Index(lifecycle, to) >= 0 && lifecycleBefore(to, from),
		to == StatusDraft && from != StatusCollecting && from != StatusDraft:
		return FieldError("status", "an admin moves an area back with POST /api/areas/{code}/move-back and a reason")
	}
	return nil
}

// DeadlineExtension is an area's pledge deadline moved later, as the
// public page announces it.
type DeadlineExtension struct {
	AreaCode string
	From, To time.Time // the old and the new deadline
	At       time.Time
}

// SettingsStore writes area settings with what comes with them. Both
// stores implement it.
type SettingsStore interface {
	// SaveAreaSettings is UpdateArea with its audit entry, the deadline
	// extension (when not nil) and events, in one transaction.
	SaveAreaSettings(ctx context.Context, a Area, audit AuditEntry, ext *DeadlineExtension, events []Event) error
	// DeadlineExtensions returns every area's latest extension, by code.
	DeadlineExtensions(ctx context.Context) (map[string]DeadlineExtension, error)
}

// DeadlineExtensions returns every area's latest deadline extension, by
// area code: public facts for the public pages.
func (s *Service) DeadlineExtensions(ctx context.Context) (map[string]DeadlineExtension, error) {
	return s.store.DeadlineExtensions(ctx)
}
