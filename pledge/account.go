package pledge

import (
	"context"
	"slices"
	"time"
)

// Accounts: admins, coordinators and providers sign in; residents have no
// account, only their pledge's secret manage link. Who may do what is one
// table (Permissions), checked by Service.can from the user in the
// context. Handlers only authenticate and pass the context.

// Role is what kind of user someone is.
type Role string

// Roles.
const (
	RoleAdmin       Role = "admin"       // everything; invites users, assigns coordinators
	RoleCoordinator Role = "coordinator" // their areas: settings, pledges with contact data, tenders, exports
	RoleProvider    Role = "provider"    // a company's user: tenders, packages, their own bids
)

// Roles lists the roles in the order pages show them.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleProvider}

// Scope limits what an API token may do; a session has all of its role's
// rights.
type Scope string

// Scopes.
const (
	ScopeRead  Scope = "read"  // read what the role may read
	ScopeBid   Scope = "bid"   // a provider's bids
	ScopeAdmin Scope = "admin" // changes: settings, users, tenders
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeRead, ScopeBid, ScopeAdmin}

// User is a person with an account. It travels in the context of a
// request (WithUser, UserFrom).
type User struct {
	ID        int64
	Email     string // lower case
	Name      string
	Role      Role
	Areas     []string // the area codes a coordinator coordinates, sorted
	Provider  string   // a provider user's company
	Active    bool
	CreatedAt time.Time
	// Scopes, for a request authenticated by API token, limit it to the
	// token's scopes; nil for a session.
	Scopes []Scope
	// SessionID is the session a request came with (0 for a token).
	SessionID int64

	system bool
}

// UserRecord is a user with the hash of their password, as stored.
type UserRecord struct {
	User
	PasswordHash string // argon2id, PHC string format
}

// SystemUser is the CLI on the server: whoever can run it owns the data,
// so it may do everything, and the audit log names it "cli".
func SystemUser() *User {
	return &User{Name: "cli", Email: "cli", Role: RoleAdmin, Active: true, system: true}
}

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user in ctx, or nil for an anonymous request.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// Coordinates reports whether u coordinates area code.
func (u *User) Coordinates(code string) bool {
	return u != nil && u.Role == RoleCoordinator && slices.Contains(u.Areas, code)
}

// Action is something a user may be allowed to do.
type Action string

// Actions, with the scope a token needs for each in Permissions.
const (
	ActionManageUsers     Action = "users.manage"     // invite, change role and areas, deactivate
	ActionEditArea        Action = "area.edit"        // threshold, deadline, status, cost parameters
	ActionViewPledges     Action = "pledges.view"     // an area's pledges with contact data
	ActionViewAudit       Action = "audit.view"       // an area's audit log (all of it for admins)
	ActionViewTenders     Action = "tenders.view"     // areas open for tender and at threshold
	ActionDownloadPackage Action = "package.download" // an area's tender package
	ActionOwnAccount      Action = "account.own"      // one's own sessions and API tokens
	ActionManageTender    Action = "tender.manage"    // open, extend and award an area's tender; mark it built
	ActionMoveBack        Action = "area.move_back"   // move an area back in the lifecycle, with a reason
	ActionBid             Action = "bids.submit"      // submit, change and withdraw one's company's bids
	ActionViewBids        Action = "bids.view"        // every bid of an area
	ActionEnterPledges    Action = "pledges.enter"    // enter paper, phone and door pledges on a resident's behalf
	ActionManageWalks     Action = "walks.manage"     // generate walk lists, assign and return walks, record outcomes
	ActionViewWalks       Action = "walks.view"       // an area's walk lists (with volunteers' names) and outcomes
)

// Reach says for which areas a role has an action.
type Reach string

// Reaches.
const (
	ReachAll      Reach = "all"       // every area, or not about an area
	ReachOwnAreas Reach = "own areas" // only the areas the user coordinates
)

// Permission is one row of the table: role may do action with reach, and
// an API token needs scope for it.
type Permission struct {
	Role   Role
	Action Action
	Reach  Reach
	Scope  Scope
}

// Permissions is who may do what. What is not here is refused. It is the
// one place these rules live; docs/SECURITY.md prints it.
var Permissions = []Permission{
	{RoleAdmin, ActionManageUsers, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionEditArea, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionViewPledges, ReachAll, ScopeRead},
	{RoleAdmin, ActionViewAudit, ReachAll, ScopeRead},
	{RoleAdmin, ActionViewTenders, ReachAll, ScopeRead},
	{RoleAdmin, ActionDownloadPackage, ReachAll, ScopeRead},
	{RoleAdmin, ActionOwnAccount, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionManageTender, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionMoveBack, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionViewBids, ReachAll, ScopeRead},
	{RoleAdmin, ActionEnterPledges, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionManageWalks, ReachAll, ScopeAdmin},
	{RoleAdmin, ActionViewWalks, ReachAll, ScopeRead},
	{RoleAdmin, ActionManageWebhooks, ReachAll, ScopeAdmin},

	{RoleCoordinator, ActionEditArea, ReachOwnAreas, ScopeAdmin},
	{RoleCoordinator, ActionViewPledges, ReachOwnAreas, ScopeRead},
	{RoleCoordinator, ActionViewAudit, ReachOwnAreas, ScopeRead},
	{RoleCoordinator, ActionDownloadPackage, ReachOwnAreas, ScopeRead},
	{RoleCoordinator, ActionOwnAccount, ReachAll, ScopeAdmin},
	{RoleCoordinator, ActionManageTender, ReachOwnAreas, ScopeAdmin},
	{RoleCoordinator, ActionViewBids, ReachOwnAreas, ScopeRead},
	{RoleCoordinator, ActionEnterPledges, ReachOwnAreas, ScopeAdmin},
	{RoleCoordinator, ActionManageWalks, ReachOwnAreas, ScopeAdmin},
	{RoleCoordinator, ActionViewWalks, ReachOwnAreas, ScopeRead},

	{RoleProvider, ActionViewTenders, ReachAll, ScopeRead},
	{RoleProvider, ActionDownloadPackage, ReachAll, ScopeRead},
	{RoleProvider, ActionOwnAccount, ReachAll, ScopeAdmin},
	{RoleProvider, ActionBid, ReachAll, ScopeBid},
	{RoleProvider, ActionManageWebhooks, ReachAll, ScopeAdmin}, // own company's endpoints only
}

// Can reports whether the user in ctx may do action, for area code ("" when
// the action is not about one area). It returns nil, EUNAUTHORIZED for an
// anonymous or deactivated user, or EFORBIDDEN.
func (s *Service) Can(ctx context.Context, action Action, code string) error {
	u := UserFrom(ctx)
	if u == nil || !u.Active {
		return &Error{Code: EUNAUTHORIZED, Reason: ReasonSignInRequired, Message: "sign in first"}
	}
	if u.system {
		return nil
	}
	for _, p := range Permissions {
		if p.Role != u.Role || p.Action != action {
			continue
		}
		if p.Reach == ReachOwnAreas && (code == "" || !u.Coordinates(code)) {
			continue
		}
		if u.Scopes != nil && !slices.Contains(u.Scopes, p.Scope) {
			return &Error{Code: EFORBIDDEN, Reason: ReasonForbidden, Message: "this API token's scopes do not allow this (needs " + string(p.Scope) + ")"}
		}
		return nil
	}
	return &Error{Code: EFORBIDDEN, Reason: ReasonForbidden, Message: "you may not do this"}
}

// Invitation asks someone to create an account with a role. Only the
// SHA-256 of its secret is kept.
type Invitation struct {
	ID        int64
	TokenHash string
	Email     string
	Name      string
	Role      Role
	Areas     []string
	Provider  string
	CreatedBy int64 // user id; 0 for the CLI
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Session is a signed-in browser. The cookie holds the secret, the store
// its SHA-256.
type Session struct {
	ID         int64
	SecretHash string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute end, whatever the activity
}

// APIToken is a scoped, revocable bearer token for scripts. Only the
// SHA-256 of its secret is kept.
type APIToken struct {
	ID         int64
	SecretHash string
	UserID     int64
	Name       string
	Scopes     []Scope
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// PasswordReset is a single-use link to set a new password.
type PasswordReset struct {
	ID        int64
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// AuditEntry is one line of the audit log: who did what, when, to which
// area or record, with the old and new values (JSON, "" when none).
type AuditEntry struct {
	ID       int64
	At       time.Time
	ActorID  int64  // 0 for the CLI
	Actor    string // the user's e-mail, or "cli"
	Action   string // e.g. "user.invite", "area.update", "pledges.view"
	AreaCode string // "" when not about an area
	Target   string // e.g. "user:12", "area:D001", "token:3"
	Old, New string
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	AreaCode *string // only this area's entries
	Limit    int     // at most; 0 means 100
}

// AccountStore keeps users, invitations, sessions, API tokens, password
// resets and the audit log. Both stores implement it. Every method that
// takes an AuditEntry writes it in the same transaction as its change,
// with the entry's ID assigned by the store. Errors: ENOTFOUND for a
// missing row, ECONFLICT for a unique violation (an e-mail taken, an
// invitation or reset already used).
type AccountStore interface {
	// CreateInvitation stores inv (setting its ID) and, when mail is not
	// nil, queues it in the outbox, all in one transaction.
	CreateInvitation(ctx context.Context, inv *Invitation, mail *Event, audit AuditEntry) error
	// InvitationByTokenHash returns an invitation, used or not.
	InvitationByTokenHash(ctx context.Context, hash string) (Invitation, error)
	// AcceptInvitation marks invitation id used at u.CreatedAt and creates
	// u (setting its ID), in one transaction. ECONFLICT if the invitation
	// was used already (checked under a lock, so one of two concurrent
	// acceptances wins) or the e-mail has an account.
	AcceptInvitation(ctx context.Context, id int64, u *UserRecord, audit AuditEntry) error

	// UserByID and UserByEmail return a user (active or not).
	UserByID(ctx context.Context, id int64) (UserRecord, error)
	UserByEmail(ctx context.Context, email string) (UserRecord, error)
	// Users lists every user by e-mail.
	Users(ctx context.Context) ([]User, error)
	// UpdateUser sets a user's name, role, areas, provider and active
	// flag. Deactivating deletes the user's sessions and revokes their API
	// tokens in the same transaction.
	UpdateUser(ctx context.Context, u User, audit AuditEntry) error
	// SetPassword sets a user's password hash, marks the password reset
	// resetID used (0: none; ECONFLICT if it was used already) and deletes
	// every session of the user.
	SetPassword(ctx context.Context, userID int64, hash string, resetID int64, at time.Time, audit AuditEntry) error

	// CreateSession stores s (setting its ID) and deletes the session
	// whose secret hash is replaces ("" for none), so signing in rotates
	// the session.
	CreateSession(ctx context.Context, s *Session, replaces string) error
	// SessionByHash returns a session by its secret's hash.
	SessionByHash(ctx context.Context, hash string) (Session, error)
	// TouchSession sets a session's last-seen time.
	TouchSession(ctx context.Context, id int64, at time.Time) error
	// DeleteSession deletes the session with the secret hash (no error if
	// there is none).
	DeleteSession(ctx context.Context, hash string) error
	// UserSessions lists a user's sessions, newest first.
	UserSessions(ctx context.Context, userID int64) ([]Session, error)
	// RevokeSession deletes session id of user userID; ENOTFOUND if the
	// user has no such session.
	RevokeSession(ctx context.Context, userID, id int64) error
	// DeleteSessions deletes every session (userID 0) or one user's, and
	// returns how many.
	DeleteSessions(ctx context.Context, userID int64) (int, error)

	// CreateAPIToken stores t (setting its ID).
	CreateAPIToken(ctx context.Context, t *APIToken, audit AuditEntry) error
	// APITokenByHash returns a token, revoked or not.
	APITokenByHash(ctx context.Context, hash string) (APIToken, error)
	// TouchAPIToken sets a token's last-used time.
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
	// UserAPITokens lists a user's tokens, revoked ones included, newest
	// first.
	UserAPITokens(ctx context.Context, userID int64) ([]APIToken, error)
	// RevokeAPIToken marks token id of user userID revoked at at;
	// ENOTFOUND if the user has no such unrevoked token.
	RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time, audit AuditEntry) error

	// CreatePasswordReset stores r (setting its ID) and, when mail is not
	// nil, queues it in the outbox, in one transaction.
	CreatePasswordReset(ctx context.Context, r *PasswordReset, mail *Event) error
	// PasswordResetByHash returns a reset, used or not.
	PasswordResetByHash(ctx context.Context, hash string) (PasswordReset, error)

	// AddAudit writes one audit entry on its own.
	AddAudit(ctx context.Context, e AuditEntry) error
	// Audit lists entries newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// AreaPledges returns area code's pledges, every status, with contact
	// details, by id, and writes audit in the same transaction: every read
	// of contact data is logged. ENOTFOUND for an unknown area.
	AreaPledges(ctx context.Context, code string, audit AuditEntry) ([]Pledge, error)
	// UpdateAreaAudited is UpdateArea with an audit entry in its
	// transaction.
	UpdateAreaAudited(ctx context.Context, a Area, audit AuditEntry) error
	// SetCostParamsAudited is CostStore.SetCostParams with an audit entry
	// in its transaction.
	SetCostParamsAudited(ctx context.Context, code string, p CostParams, audit AuditEntry) error
}
