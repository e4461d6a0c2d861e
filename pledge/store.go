package pledge

import (
	"context"
	"time"

	"github.com/paulmach/orb"
)

// Store persists and queries the domain. It decides nothing: where a rule
// must run inside a store transaction (a threshold crossing), the Service
// passes it in as a function. Every method takes ctx first.
type Store interface {
	// Areas lists all areas by code, without geometry unless withGeometry.
	Areas(ctx context.Context, withGeometry bool) ([]Area, error)
	// Area returns one area with its geometry, or ENOTFOUND.
	Area(ctx context.Context, code string) (Area, error)
	// Unassigned counts addresses outside every area.
	Unassigned(ctx context.Context) (Unassigned, error)
	// ImportAreas inserts or updates areas by code in one transaction,
	// re-assigns every address with assign (which returns an area code or
	// "" and is safe for concurrent use; see AssignAll), and refreshes the
	// counters.
	ImportAreas(ctx context.Context, areas []Area, opt AreaImportOptions, assign func(orb.Point) string) (AreaImportCounts, error)
	// UpdateArea changes an area's settings (threshold, deadline, status)
	// by code. ENOTFOUND if it does not exist.
	UpdateArea(ctx context.Context, a Area) error

	// BeginAddressImport starts an all-or-nothing address import.
	BeginAddressImport(ctx context.Context) (AddressImport, error)
	// Address returns one address by source id, or ENOTFOUND.
	Address(ctx context.Context, id string) (Address, error)
	// AreaAddresses lists an area's addresses, optionally within bbox,
	// ordered by id, at most limit. ENOTFOUND if the area does not exist.
	AreaAddresses(ctx context.Context, code string, bbox *orb.Bound, limit int) ([]Address, error)
	// SearchAddresses returns addresses whose search key (see SearchKey)
	// starts with prefix, ordered by key, at most limit.
	SearchAddresses(ctx context.Context, prefix string, limit int) ([]Address, error)
	// NearestAddress returns the address inside an area nearest to p by
	// geo.Distance, at most maxMetres away, and its distance; of equally
	// near ones the lowest id. ENOTFOUND when there is none. It is one
	// indexed query (a k-nearest search or growing boxes), whatever the
	// number of addresses.
	NearestAddress(ctx context.Context, p orb.Point, maxMetres float64) (Address, float64, error)

	// CreatePledge stores p in one transaction with the area's counters.
	// When p.Unit is 0 it takes the lowest free unit. decide sees the area
	// with its counters already moved and returns the area's new status and
	// any event to record; an error from decide aborts everything.
	// It reads the address in the same transaction: ENOTFOUND if it does
	// not exist, EINVALID (no field) if it lies outside every area,
	// UnitRangeError if p.Unit exceeds its units; ECONFLICT if the unit (or,
	// with p.Unit 0, every unit) is already pledged or the idempotency key
	// is taken. It sets p.ID, p.Unit and p.AreaCode.
	CreatePledge(ctx context.Context, p *Pledge, decide Decider) error
	// PledgeByToken returns a pledge by its manage token, or ENOTFOUND.
	PledgeByToken(ctx context.Context, token string) (Pledge, error)
	// PledgeByIdempotencyKey returns the pledge made with key, or ENOTFOUND.
	PledgeByIdempotencyKey(ctx context.Context, key string) (Pledge, error)
	// WithdrawPledge marks an active pledge withdrawn at time at, erases its
	// contact details and moves the counters, in one transaction with decide.
	// ENOTFOUND if no active pledge has the token.
	WithdrawPledge(ctx context.Context, token string, at time.Time, decide Decider) (Pledge, error)

	// LapseArea runs decide on the area, locked; when decide moves it to
	// lapsed, every active pledge in it lapses too (contact details erased:
	// nothing will be charged) and its pledged units go to zero, all in one
	// transaction with decide's event. Returns the area as it is afterwards
	// and how many pledges lapsed. ENOTFOUND if there is no such area.
	LapseArea(ctx context.Context, code string, at time.Time, decide Decider) (Area, int, error)

	// RateCounter counts clients' attempts for rate limits.
	RateCounter
	// SecretStore keeps the secrets every instance shares.
	SecretStore
	// AccountStore keeps users, sessions, tokens and the audit log.
	AccountStore
	// OutboxStore is what the dispatcher delivers from.
	OutboxStore
	// CostStore keeps cost parameters and roads.
	CostStore
	// ContactUpdater changes a pledge's contact details.
	ContactUpdater
	// FeatureStore pages areas and addresses for the OGC API – Features
	// layer.
	FeatureStore
	// TileStore serves the public map's vector tiles.
	TileStore
	// TenderStore keeps tenders and bids.
	TenderStore
	// WalkStore keeps walk lists and address outcomes.
	WalkStore
	// DashboardStore is what the coordinator's dashboard reads.
	DashboardStore
	// SubsidyStore keeps subsidy rule sets and powers of attorney.
	SubsidyStore
	// SettingsStore writes area settings with their extensions.
	SettingsStore
	// EntryStore keeps how entered pledges came.
	EntryStore
	// WebhookStore keeps webhook endpoints and their delivery logs.
	WebhookStore
	// ResidentStore confirms pledges and keeps the residents' notices,
	// data and challenges.
	ResidentStore
	// ChallengeStore keeps challenges of the address base.
	ChallengeStore

	// Events lists outbox events in the order recorded.
	Events(ctx context.Context) ([]Event, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Decider is a rule run inside a store transaction on an area whose counters
// have just changed.
type Decider func(Area) (Transition, error)

// Transition is what a Decider wants done to the area.
type Transition struct {
	Status AreaStatus // new status; "" or the same means no change
	Event  *Event     // recorded once per Event.Key
	// Events are more events to record with it, each once per key (a
	// pledge's confirmation e-mail).
	Events []Event
	// PledgeEvent, when set on a lapse, is called for each pledge that
	// lapses, before its contact details are erased; the event it
	// returns (nil for none) is recorded too: the notice to the pledger.
	PledgeEvent func(Pledge) *Event
}

// AllEvents is Event and Events, in order: what a store records of t
// besides the per-pledge events.
func (t Transition) AllEvents() []Event {
	var out []Event
	if t.Event != nil {
		out = append(out, *t.Event)
	}
	return append(out, t.Events...)
}

// AreaImportOptions controls what an area import overwrites.
type AreaImportOptions struct {
	// SetThreshold applies each Area's ThresholdPercent to existing areas
	// too; new areas always take it.
	SetThreshold bool
}

// AreaImportCounts is what an area import changed.
type AreaImportCounts struct {
	Created    int
	Updated    int
	Reassigned int // addresses whose area changed
}

// AddressImport is one all-or-nothing address import: nothing is visible
// until Commit, and Rollback (or a failed Commit) leaves the store as it was.
type AddressImport interface {
	// Add stages addresses. An id seen twice in one import adds the units
	// of the second to the first (the caller rejects explicit duplicates).
	Add(ctx context.Context, addrs []Address) error
	// Commit merges the staged addresses by id and refreshes the counters.
	Commit(ctx context.Context) (AddressImportCounts, error)
	// Rollback abandons the import; it is a no-op after Commit.
	Rollback() error
}

// AddressImportCounts is what the store did with the staged addresses.
type AddressImportCounts struct {
	Inserted  int
	Updated   int
	Unchanged int
}
