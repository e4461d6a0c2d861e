package pledge

import (
	"context"
	"fmt"
	"time"
)

// EventAreaLapsed is recorded when an area's deadline passes below its
// threshold.
const EventAreaLapsed = "area_lapsed"

// LapseOverdue lapses every collecting area whose deadline has passed
// without reaching its threshold: the area becomes lapsed, its pledges
// lapse (nothing is charged; contact details are erased) and an event is
// recorded once. Areas that reached their threshold are left alone. It is
// safe to run from several instances at once: each area is re-checked inside
// its own transaction. Returns the areas it lapsed.
func (s *Service) LapseOverdue(ctx context.Context) ([]LapsedArea, error) {
	areas, err := s.store.Areas(ctx, false)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var lapsed []LapsedArea
	for _, a := range areas {
		if !overdue(a, now) {
			continue
		}
		after, n, err := s.store.LapseArea(ctx, a.Code, now, func(a Area) (Transition, error) {
			if !overdue(a, now) {
				return Transition{}, nil
			}
			return Transition{Status: StatusLapsed, PledgeEvent: s.lapseNotice(a), Event: &Event{
				Kind: EventAreaLapsed, AreaCode: a.Code, At: now, Key: EventAreaLapsed + ":" + a.Code,
				Payload: fmt.Sprintf(`{"area":%q,"units":%d,"pledged_units":%d,"deadline":%q}`,
					a.Code, a.Units, a.PledgedUnits, a.Deadline.UTC().Format(time.RFC3339)),
			}}, nil
		})
		if err != nil {
			return lapsed, fmt.Errorf("lapse area %s: %w", a.Code, err)
		}
		if after.Status == StatusLapsed {
			s.dropArea(ctx, a.Code)
			lapsed = append(lapsed, LapsedArea{Code: a.Code, Pledges: n})
		}
	}
	return lapsed, nil
}

// LapsedArea is an area LapseOverdue lapsed, with its number of pledges.
type LapsedArea struct {
	Code    string
	Pledges int
}

// overdue: still collecting, deadline passed, threshold not met.
func overdue(a Area, now time.Time) bool {
	return a.Status == StatusCollecting && a.Deadline != nil && now.After(*a.Deadline) && !a.ThresholdMet()
}
