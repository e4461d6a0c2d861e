package pledge

import (
	"context"
	"time"
)

// PledgeDay is how an area's pledged units moved on one day (UTC): pledges
// made that day count +1, pledges withdrawn or lapsed that day -1.
type PledgeDay struct {
	Day   time.Time
	Delta int
}

// DashboardStore is what the coordinator's dashboard reads besides the
// area. Both stores implement it.
type DashboardStore interface {
	// PledgeHistory lists area code's PledgeDays by day, days without a
	// change left out. ENOTFOUND for an unknown area.
	PledgeHistory(ctx context.Context, code string) ([]PledgeDay, error)
}

// TakeUpDay is an area's pledged units at the end of one day.
type TakeUpDay struct {
	Day   time.Time
	Units int
}

// Dashboard is an area's campaign at a glance: take-up over time against
// the threshold and against the straight line from the first pledge to the
// threshold at the deadline ("where we should be today"), and today's
// figures. Counts only; the pledge list is AreaPledges.
type Dashboard struct {
	Area           Area
	ThresholdUnits int         // pledged units that meet the threshold
	Days           []TakeUpDay // every day from the first pledge to today
	Start          time.Time   // the first pledge's day; zero without pledges
	// Target is where the straight line from Start to the threshold at the
	// deadline stands today; nil without a deadline or pledges.
	Target   *int
	DaysLeft *int
	// Curve is the price curve (the price now and at the threshold, and if
	// more join); nil when the area cannot be priced.
	Curve *CostCurve
}

// Dashboard gathers area code's dashboard. Needs pledges.view (the area's
// coordinators, admins): it sits beside the pledge list.
func (s *Service) Dashboard(ctx context.Context, code string) (Dashboard, error) {
	if err := s.Can(ctx, ActionViewPledges, code); err != nil {
		return Dashboard{}, err
	}
	a, err := s.store.Area(ctx, code)
	if err != nil {
		return Dashboard{}, err
	}
	a.Geometry = nil
	d := Dashboard{Area: a, ThresholdUnits: thresholdUnits(a)}
	hist, err := s.store.PledgeHistory(ctx, code)
	if err != nil {
		return Dashboard{}, err
	}
	today := dateOnly(s.now())
	if len(hist) > 0 {
		d.Start = dateOnly(hist[0].Day)
		units, i := 0, 0
		for day := d.Start; !day.After(today); day = day.AddDate(0, 0, 1) {
			for i < len(hist) && !dateOnly(hist[i].Day).After(day) {
				units += hist[i].Delta
				i++
			}
			d.Days = append(d.Days, TakeUpDay{Day: day, Units: max(units, 0)})
		}
	}
	if a.Deadline != nil {
		left := int(dateOnly(*a.Deadline).Sub(today).Hours() / 24)
		d.DaysLeft = &left
		if !d.Start.IsZero() {
			total := dateOnly(*a.Deadline).Sub(d.Start).Hours() / 24
			done := today.Sub(d.Start).Hours() / 24
			t := d.ThresholdUnits
			if total > 0 && done < total {
				t = int(float64(d.ThresholdUnits)*done/total + 0.5)
			}
			d.Target = &t
		}
	}
	if cv, err := s.CostCurve(ctx, code); err == nil {
		d.Curve = &cv
	} else if c := ErrorCode(err); c != EINVALID && c != ENOTFOUND {
		return Dashboard{}, err
	}
	return d, nil
}

// thresholdUnits is the least number of pledged units that meets a's
// threshold (as Area.ThresholdMet counts).
func thresholdUnits(a Area) int {
	n := unitsAt(a.ThresholdPercent, a.Units)
	return max(n, a.ThresholdUnits, 1)
}
