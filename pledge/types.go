package pledge

import (
	"time"

	"github.com/paulmach/orb"
)

// AreaStatus is a step of an area's lifecycle:
// draft -> collecting -> threshold_reached -> tender_open -> awarded -> built,
// or lapsed when the deadline passes below threshold.
type AreaStatus string

// Area statuses.
const (
	StatusDraft            AreaStatus = "draft"
	StatusCollecting       AreaStatus = "collecting"
	StatusThresholdReached AreaStatus = "threshold_reached"
	StatusTenderOpen       AreaStatus = "tender_open"
	StatusAwarded          AreaStatus = "awarded"
	StatusBuilt            AreaStatus = "built"
	StatusLapsed           AreaStatus = "lapsed"
)

// Area is a polygon with its own threshold, deadline and status, and counters
// of what lies inside it. The counters are kept by the store in the same
// transaction as the change that moves them.
type Area struct {
	ID       int64
	Code     string
	Name     string
	Geometry orb.MultiPolygon // EPSG:4326
	AreaM2   float64          // size, for the overlap tie-break and display

	ThresholdPercent float64    // take-up percent to reach, 0-100
	ThresholdUnits   int        // minimum pledged units, 0 for none
	Deadline         *time.Time // nil until set
	Status           AreaStatus

	Addresses    int // addresses inside
	Units        int // eligible units inside
	PledgedUnits int // units with an active, confirmed pledge: what the threshold counts

	// UnconfirmedUnits are units held by active pledges still waiting for
	// their confirmation e-mail's link; they do not count yet.
	UnconfirmedUnits int
	// ConfirmDays is how long an unconfirmed pledge waits before it
	// lapses; 0 means DefaultConfirmDays.
	ConfirmDays int
}

// DefaultConfirmDays is an area's ConfirmDays unless set.
const DefaultConfirmDays = 14

// TakeUp is pledged units per eligible unit, 0-1.
func (a Area) TakeUp() float64 {
	if a.Units == 0 {
		return 0
	}
	return float64(a.PledgedUnits) / float64(a.Units)
}

// ThresholdMet reports whether the area has reached its threshold: the
// take-up percent and, if set, the minimum number of pledged units.
func (a Area) ThresholdMet() bool {
	if a.Units == 0 || a.PledgedUnits == 0 {
		return false
	}
	// Integer comparison avoids 49.999... rounding: pledged*100 >= pct*units.
	if float64(a.PledgedUnits)*100 < a.ThresholdPercent*float64(a.Units)-1e-9 {
		return false
	}
	return a.PledgedUnits >= a.ThresholdUnits
}

// Address is an access address point with the units (households) behind it.
type Address struct {
	ID           string    // source id from the import
	Text         string    // e.g. "Nørregade 12, 8305 Samsø"
	Point        orb.Point // lon, lat
	Units        int
	AreaCode     string // "" when outside every area
	PledgedUnits int    // units with an active, confirmed pledge (a count, never who)
}

// PledgeStatus is the state of one pledge.
type PledgeStatus string

// Pledge statuses.
const (
	PledgeActive    PledgeStatus = "active"
	PledgeWithdrawn PledgeStatus = "withdrawn"
	PledgeLapsed    PledgeStatus = "lapsed"
)

// Pledge is one household's commitment for one unit at one address. Name,
// Email and Phone are personal data: only the resident (through Token), the
// area's coordinators and admins may see them.
type Pledge struct {
	ID        int64
	Token     string // secret manage token
	AddressID string
	AreaCode  string
	Unit      int // 1..address units
	Name      string
	Email     string
	Phone     string
	Consent   bool
	Status    PledgeStatus
	CreatedAt time.Time
	UpdatedAt time.Time

	// Language is the resident's language ("da", "en"), from the page the
	// pledge was made on: its e-mails are written in it.
	Language string
	// Unconfirmed pledges hold their unit but do not count towards the
	// threshold until confirmed. An online pledge made while e-mail is
	// sent starts unconfirmed, with ConfirmHash the SHA-256 of its
	// confirmation link's secret. The zero value counts, as every pledge
	// did before confirmation existed.
	Unconfirmed bool
	ConfirmedAt *time.Time
	ConfirmHash string
	// NoticesOff is set once the resident stopped the e-mails about the
	// area's progress (threshold, tender, award, deadline, lapse).
	NoticesOff bool

	// IdempotencyKey and RequestHash make a retried POST return the first
	// pledge instead of making a second.
	IdempotencyKey string
	RequestHash    string
}

// Unassigned counts addresses outside every area.
type Unassigned struct {
	Addresses int
	Units     int
}

// Event is a fact recorded in the outbox in the same transaction as the
// change that caused it, for at-least-once delivery (webhooks, e-mail).
type Event struct {
	Kind     string // e.g. "threshold_reached"
	AreaCode string
	// Key is unique per event; a second event with the same key is not
	// recorded, which is how a threshold crossing is recorded once.
	Key     string
	Payload string // JSON
	At      time.Time
}

// Event kinds. Their payloads are JSON objects of public facts only (area
// code and name, statuses, dates, a winning provider's company), never
// personal data, since webhooks carry them to providers. Consumers (the
// webhook fan-out, notices to pledgers) subscribe by kind.
const (
	EventThresholdReached      = "threshold_reached"       // a pledge reached the threshold (webhook: area.threshold_reached)
	EventTenderOpened          = "tender.opened"           // a coordinator opened a tender, with its bid deadline
	EventTenderDeadlineChanged = "tender.deadline_changed" // a tender's bid deadline was extended
	EventTenderAwarded         = "tender.awarded"          // a bid won; payload names the provider
	EventAreaMovedBack         = "area.moved_back"         // an admin moved an area back a status, with a reason
	EventDeadlineExtended      = "area.deadline_extended"  // the pledge deadline moved later (old and new date)
)
