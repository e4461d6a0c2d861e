package storetest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunAccounts runs the conformance suite of pledge.AccountStore against
// stores made by open, through the store and through pledge.Service where
// the service's rules meet the store (sessions ending, single-use links,
// permissions and the audit log).
func RunAccounts(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *accountEnv)
	}{
		{"InviteAcceptSignInOut", testInviteAcceptSignIn},
		{"InvitationSingleUse", testInvitationSingleUse},
		{"InvitationConcurrentOneWins", testInvitationConcurrent},
		{"InvitationExpires", testInvitationExpires},
		{"EmailTaken", testEmailTaken},
		{"SignInFailuresLookAlike", testSignInFailures},
		{"SessionRotation", testSessionRotation},
		{"SessionIdleAndMaxAge", testSessionEnds},
		{"SessionsListRevokeFlush", testSessionsList},
		{"DeactivateEndsAccess", testDeactivate},
		{"APITokens", testAPITokens},
		{"PasswordReset", testPasswordReset},
		{"PasswordResetMailed", testPasswordResetMailed},
		{"AuditAreaUpdate", testAuditAreaUpdate},
		{"AuditUserUpdate", testAuditUserUpdate},
		{"AreaPledges", testAreaPledges},
		{"TimesRoundTrip", testAccountTimes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			clk := &clock{t: Now}
			e := &accountEnv{st: st, clock: clk, svc: newService(st, clk.Now)}
			tc.fn(t, e)
		})
	}
}

// clock is a settable clock for the service, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type accountEnv struct {
	st    pledge.Store
	svc   *pledge.Service
	clock *clock
}

// goodPassword passes CheckPassword.
const goodPassword = "Fjord-lys over Åby 2026"

// invite invites email as role through the CLI and returns the link's
// secret.
func (e *accountEnv) invite(t *testing.T, email string, role pledge.Role, areas ...string) string {
	t.Helper()
	r := pledge.InviteRequest{Email: email, Name: "Test " + string(role), Role: role, Areas: areas}
	if role == pledge.RoleProvider {
		r.Provider = "Fiber A/S"
	}
	_, link, err := e.svc.Invite(cliContext(), r)
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	_, secret, ok := strings.Cut(link, "/invitations/")
	if !ok || secret == "" {
		t.Fatalf("invitation link %q", link)
	}
	return secret
}

// newUser makes an account through an invitation.
func (e *accountEnv) newUser(t *testing.T, email string, role pledge.Role, areas ...string) pledge.User {
	t.Helper()
	u, err := e.svc.AcceptInvitation(context.Background(), e.invite(t, email, role, areas...), goodPassword, "")
	if err != nil {
		t.Fatalf("accept invitation of %s: %v", email, err)
	}
	return u
}

// signIn starts a session and returns its secret.
func (e *accountEnv) signIn(t *testing.T, email, password string) string {
	t.Helper()
	secret, _, err := e.svc.SignIn(context.Background(), pledge.SignInRequest{Email: email, Password: password, Client: "192.0.2.1"})
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return secret
}

// as returns a context with the user of a session secret, as the web
// layer makes it.
func (e *accountEnv) as(t *testing.T, secret string) context.Context {
	t.Helper()
	u, err := e.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return pledge.WithUser(context.Background(), u)
}

// auditActions lists the actions in the audit log, oldest first.
func (e *accountEnv) auditActions(t *testing.T, f pledge.AuditFilter) []string {
	t.Helper()
	entries, err := e.st.Audit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action)
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if pledge.ErrorCode(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func testInviteAcceptSignIn(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	mustImport(t, e.svc)
	secret := e.invite(t, "  Anna@Example.DK ", pledge.RoleCoordinator, "B", "A")
	inv, err := e.svc.Invitation(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "anna@example.dk" || inv.Role != pledge.RoleCoordinator || strings.Join(inv.Areas, ",") != "A,B" ||
		!inv.ExpiresAt.Equal(Now.Add(pledge.InvitationTTL)) || inv.UsedAt != nil || inv.CreatedBy != 0 || inv.ID == 0 {
		t.Errorf("invitation = %+v", inv)
	}
	if inv.TokenHash != pledge.SecretHash(secret) {
		t.Error("the store does not keep the secret's hash")
	}
	e.clock.Add(time.Hour)
	u, err := e.svc.AcceptInvitation(ctx, secret, goodPassword, "Anna Ø. Jensen")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Email != "anna@example.dk" || u.Name != "Anna Ø. Jensen" || !u.Active || !u.Coordinates("A") || !u.Coordinates("B") ||
		!u.CreatedAt.Equal(Now.Add(time.Hour)) {
		t.Errorf("user = %+v", u)
	}
	rec, err := e.st.UserByEmail(ctx, "anna@example.dk")
	if err != nil || rec.ID != u.ID || rec.PasswordHash == "" || strings.Contains(rec.PasswordHash, goodPassword) {
		t.Errorf("stored user = %+v, %v", rec, err)
	}
	if byID, err := e.st.UserByID(ctx, u.ID); err != nil || byID.Email != u.Email || strings.Join(byID.Areas, ",") != "A,B" {
		t.Errorf("by id = %+v, %v", byID, err)
	}
	used, err := e.st.InvitationByTokenHash(ctx, pledge.SecretHash(secret))
	if err != nil || used.UsedAt == nil || !used.UsedAt.Equal(Now.Add(time.Hour)) {
		t.Errorf("used invitation = %+v, %v", used, err)
	}

	session := e.signIn(t, "ANNA@example.dk", goodPassword)
	me, err := e.svc.Authenticate(ctx, session)
	if err != nil || me.ID != u.ID || me.SessionID == 0 || me.Scopes != nil {
		t.Fatalf("authenticate = %+v, %v", me, err)
	}
	sessions, err := e.st.UserSessions(ctx, u.ID)
	if err != nil || len(sessions) != 1 || sessions[0].ID != me.SessionID || sessions[0].SecretHash != pledge.SecretHash(session) {
		t.Errorf("sessions = %+v, %v", sessions, err)
	}
	if err := e.svc.SignOut(ctx, session); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, session)
	wantCode(t, "after sign-out", err, pledge.EUNAUTHORIZED)
	if err := e.svc.SignOut(ctx, session); err != nil {
		t.Errorf("second sign-out: %v", err)
	}
	if got := e.auditActions(t, pledge.AuditFilter{}); strings.Join(got, " ") != "user.invite user.create" {
		t.Errorf("audit = %v", got)
	}
	users, err := e.svc.Users(cliContext())
	if err != nil || len(users) != 1 || users[0].ID != u.ID {
		t.Errorf("users = %+v, %v", users, err)
	}
	_, err = e.st.UserByID(ctx, u.ID+100)
	wantCode(t, "unknown user", err, pledge.ENOTFOUND)
	_, err = e.st.InvitationByTokenHash(ctx, pledge.SecretHash("nope"))
	wantCode(t, "unknown invitation", err, pledge.ENOTFOUND)
}

func testInvitationSingleUse(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	secret := e.invite(t, "per@example.dk", pledge.RoleAdmin)
	if _, err := e.svc.AcceptInvitation(ctx, secret, goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.AcceptInvitation(ctx, secret, goodPassword+"!", "")
	wantCode(t, "second acceptance", err, pledge.ECONFLICT)
	_, err = e.svc.Invitation(ctx, secret)
	wantCode(t, "used invitation", err, pledge.ECONFLICT)
	// The store refuses it too, whatever the service checked before.
	inv, err := e.st.InvitationByTokenHash(ctx, pledge.SecretHash(secret))
	if err != nil {
		t.Fatal(err)
	}
	u := pledge.UserRecord{User: pledge.User{Email: "other@example.dk", Role: pledge.RoleAdmin, Active: true, CreatedAt: Now}, PasswordHash: "x"}
	err = e.st.AcceptInvitation(ctx, inv.ID, &u, pledge.AuditEntry{At: Now, Action: "user.create"})
	wantCode(t, "store: used invitation", err, pledge.ECONFLICT)
	if _, err := e.st.UserByEmail(ctx, "other@example.dk"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("a used invitation made a user: %v", err)
	}
	if got := e.auditActions(t, pledge.AuditFilter{}); strings.Join(got, " ") != "user.invite user.create" {
		t.Errorf("audit = %v", got)
	}
}

func testInvitationConcurrent(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	secret := e.invite(t, "race@example.dk", pledge.RoleProvider)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.AcceptInvitation(ctx, secret, goodPassword, "")
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch pledge.ErrorCode(err) {
		case "":
			won++
		case pledge.ECONFLICT:
		default:
			t.Errorf("acceptance %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d acceptances won, want exactly 1 (%v)", won, errs)
	}
	users, err := e.st.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Provider != "Fiber A/S" {
		t.Errorf("users = %+v, %v", users, err)
	}
	if got := e.auditActions(t, pledge.AuditFilter{}); strings.Join(got, " ") != "user.invite user.create" {
		t.Errorf("audit = %v", got)
	}
}

func testInvitationExpires(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	secret := e.invite(t, "late@example.dk", pledge.RoleAdmin)
	e.clock.Add(pledge.InvitationTTL - time.Second)
	if _, err := e.svc.Invitation(ctx, secret); err != nil {
		t.Errorf("a second before it expires: %v", err)
	}
	e.clock.Add(time.Second)
	_, err := e.svc.Invitation(ctx, secret)
	wantCode(t, "expired invitation", err, pledge.ENOTFOUND)
	_, err = e.svc.AcceptInvitation(ctx, secret, goodPassword, "")
	wantCode(t, "accepting an expired invitation", err, pledge.ENOTFOUND)
	if _, err := e.st.UserByEmail(ctx, "late@example.dk"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("an expired invitation made a user: %v", err)
	}
	_, err = e.svc.Invitation(ctx, "no-such-secret")
	wantCode(t, "unknown invitation", err, pledge.ENOTFOUND)
}

func testEmailTaken(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	e.newUser(t, "taken@example.dk", pledge.RoleAdmin)
	_, _, err := e.svc.Invite(cliContext(), pledge.InviteRequest{Email: "Taken@example.dk", Role: pledge.RoleAdmin})
	wantCode(t, "inviting an e-mail with an account", err, pledge.ECONFLICT)
	// An invitation made before the account existed cannot make a second
	// one; the invitation stays unused (the transaction rolled back).
	inv := pledge.Invitation{TokenHash: pledge.SecretHash("second"), Email: "taken@example.dk", Role: pledge.RoleAdmin, CreatedAt: Now, ExpiresAt: Now.Add(time.Hour)}
	if err := e.st.CreateInvitation(ctx, &inv, nil, pledge.AuditEntry{At: Now, Actor: "cli", Action: "user.invite"}); err != nil {
		t.Fatal(err)
	}
	u := pledge.UserRecord{User: pledge.User{Email: "taken@example.dk", Role: pledge.RoleAdmin, Active: true, CreatedAt: Now}, PasswordHash: "x"}
	err = e.st.AcceptInvitation(ctx, inv.ID, &u, pledge.AuditEntry{At: Now, Action: "user.create"})
	wantCode(t, "second account for an e-mail", err, pledge.ECONFLICT)
	if got, err := e.st.InvitationByTokenHash(ctx, inv.TokenHash); err != nil || got.UsedAt != nil {
		t.Errorf("invitation after a failed acceptance = %+v, %v", got, err)
	}
	// A duplicate secret hash is a conflict, not a second row.
	dup := inv
	err = e.st.CreateInvitation(ctx, &dup, nil, pledge.AuditEntry{At: Now, Actor: "cli", Action: "user.invite"})
	wantCode(t, "duplicate invitation hash", err, pledge.ECONFLICT)
}

func testSignInFailures(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	u := e.newUser(t, "sign@example.dk", pledge.RoleAdmin)
	other := e.newUser(t, "off@example.dk", pledge.RoleAdmin)
	off := false
	if _, err := e.svc.UpdateUser(cliContext(), other.ID, pledge.UserChange{Active: &off}); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i, r := range []pledge.SignInRequest{
		{Email: "sign@example.dk", Password: goodPassword + "x"},
		{Email: "nobody@example.dk", Password: goodPassword},
		{Email: "off@example.dk", Password: goodPassword},
	} {
		r.Client = "198.51.100." + string(rune('1'+i))
		_, _, err := e.svc.SignIn(ctx, r)
		wantCode(t, "sign-in of "+r.Email, err, pledge.EUNAUTHORIZED)
		errs = append(errs, err)
	}
	for _, err := range errs[1:] {
		if err == nil || errs[0] == nil || err.Error() != errs[0].Error() || pledge.ErrorReason(err) != pledge.ErrorReason(errs[0]) {
			t.Errorf("sign-in errors differ: %v and %v", errs[0], err)
		}
	}
	if s, err := e.st.UserSessions(ctx, u.ID); err != nil || len(s) != 0 {
		t.Errorf("failed sign-ins made sessions: %+v, %v", s, err)
	}
}

func testSessionRotation(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	u := e.newUser(t, "rot@example.dk", pledge.RoleAdmin)
	first := e.signIn(t, "rot@example.dk", goodPassword)
	second, _, err := e.svc.SignIn(ctx, pledge.SignInRequest{Email: "rot@example.dk", Password: goodPassword, Client: "192.0.2.1", Replaces: first})
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("signing in kept the session's secret")
	}
	_, err = e.svc.Authenticate(ctx, first)
	wantCode(t, "the replaced session", err, pledge.EUNAUTHORIZED)
	if _, err := e.svc.Authenticate(ctx, second); err != nil {
		t.Errorf("the new session: %v", err)
	}
	if s, err := e.st.UserSessions(ctx, u.ID); err != nil || len(s) != 1 {
		t.Errorf("sessions after rotation = %+v, %v", s, err)
	}
	// A planted secret that is no session replaces nothing and is no error.
	// (Past the sign-in window first: a fourth attempt would be slowed.)
	e.clock.Add(20 * time.Minute)
	if _, _, err := e.svc.SignIn(ctx, pledge.SignInRequest{Email: "rot@example.dk", Password: goodPassword, Client: "192.0.2.1", Replaces: "planted"}); err != nil {
		t.Error(err)
	}
}

func testSessionEnds(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	e.svc.SessionIdle, e.svc.SessionMaxAge = time.Hour, 3*time.Hour
	e.newUser(t, "idle@example.dk", pledge.RoleAdmin)

	// Idle: an hour without a request ends the session, and deletes it.
	idle := e.signIn(t, "idle@example.dk", goodPassword)
	e.clock.Add(time.Hour)
	_, err := e.svc.Authenticate(ctx, idle)
	wantCode(t, "idle session", err, pledge.EUNAUTHORIZED)
	_, err = e.st.SessionByHash(ctx, pledge.SecretHash(idle))
	wantCode(t, "idle session in the store", err, pledge.ENOTFOUND)

	// Active: each request within the hour moves last-seen on, up to the
	// absolute end.
	active := e.signIn(t, "idle@example.dk", goodPassword)
	start := e.clock.Now()
	for i := 1; i <= 3; i++ {
		e.clock.Add(59 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, active); err != nil {
			t.Fatalf("request %d after %v: %v", i, e.clock.Now().Sub(start), err)
		}
		s, err := e.st.SessionByHash(ctx, pledge.SecretHash(active))
		if err != nil || !s.LastSeenAt.Equal(e.clock.Now()) || !s.ExpiresAt.Equal(start.Add(3*time.Hour)) || !s.CreatedAt.Equal(start) {
			t.Errorf("session after request %d = %+v, %v", i, s, err)
		}
	}
	e.clock.Add(3 * time.Minute) // 3h00m after sign-in
	_, err = e.svc.Authenticate(ctx, active)
	wantCode(t, "session past its absolute end", err, pledge.EUNAUTHORIZED)

	// The defaults: 8 hours idle.
	e.svc.SessionIdle, e.svc.SessionMaxAge = 0, 0
	def := e.signIn(t, "idle@example.dk", goodPassword)
	e.clock.Add(pledge.DefaultSessionIdle - time.Minute)
	if _, err := e.svc.Authenticate(ctx, def); err != nil {
		t.Errorf("within the default idle time: %v", err)
	}
	e.clock.Add(pledge.DefaultSessionIdle)
	_, err = e.svc.Authenticate(ctx, def)
	wantCode(t, "past the default idle time", err, pledge.EUNAUTHORIZED)
}

func testSessionsList(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	u := e.newUser(t, "many@example.dk", pledge.RoleCoordinator)
	other := e.newUser(t, "else@example.dk", pledge.RoleAdmin)
	a := e.signIn(t, "many@example.dk", goodPassword)
	e.clock.Add(time.Minute)
	b := e.signIn(t, "many@example.dk", goodPassword)
	e.signIn(t, "else@example.dk", goodPassword)
	me := e.as(t, b)
	mine, err := e.svc.MySessions(me)
	if err != nil || len(mine) != 2 || mine[0].SecretHash != pledge.SecretHash(b) || mine[1].SecretHash != pledge.SecretHash(a) {
		t.Fatalf("my sessions (newest first) = %+v, %v", mine, err)
	}
	theirs, _ := e.st.UserSessions(ctx, other.ID)
	err = e.svc.RevokeMySession(me, theirs[0].ID)
	wantCode(t, "revoking another user's session", err, pledge.ENOTFOUND)
	if err := e.svc.RevokeMySession(me, mine[1].ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, a)
	wantCode(t, "revoked session", err, pledge.EUNAUTHORIZED)
	if n, err := e.st.DeleteSessions(ctx, u.ID); err != nil || n != 1 {
		t.Errorf("delete one user's sessions = %d, %v; want 1", n, err)
	}
	e.signIn(t, "many@example.dk", goodPassword)
	n, err := e.svc.FlushSessions(cliContext())
	if err != nil || n != 2 {
		t.Errorf("flush = %d, %v; want 2", n, err)
	}
	if got := e.auditActions(t, pledge.AuditFilter{}); got[len(got)-1] != "sessions.flush" {
		t.Errorf("audit = %v", got)
	}
}

func testDeactivate(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	u := e.newUser(t, "leaver@example.dk", pledge.RoleProvider)
	session := e.signIn(t, "leaver@example.dk", goodPassword)
	token, _, err := e.svc.CreateAPIToken(cliContext(), "leaver@example.dk", "bids", []pledge.Scope{pledge.ScopeBid, pledge.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	off := false
	got, err := e.svc.UpdateUser(cliContext(), u.ID, pledge.UserChange{Active: &off})
	if err != nil || got.Active {
		t.Fatalf("deactivate = %+v, %v", got, err)
	}
	_, err = e.svc.Authenticate(ctx, session)
	wantCode(t, "session of a deactivated user", err, pledge.EUNAUTHORIZED)
	_, err = e.svc.AuthenticateToken(ctx, token)
	wantCode(t, "token of a deactivated user", err, pledge.EUNAUTHORIZED)
	if s, err := e.st.UserSessions(ctx, u.ID); err != nil || len(s) != 0 {
		t.Errorf("sessions kept: %+v, %v", s, err)
	}
	toks, err := e.st.UserAPITokens(ctx, u.ID)
	if err != nil || len(toks) != 1 || toks[0].RevokedAt == nil || !toks[0].RevokedAt.Equal(e.clock.Now()) {
		t.Errorf("tokens after deactivation = %+v, %v", toks, err)
	}
	// Reactivating gives back neither.
	on := true
	if _, err := e.svc.UpdateUser(cliContext(), u.ID, pledge.UserChange{Active: &on}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthenticateToken(ctx, token)
	wantCode(t, "token after reactivation", err, pledge.EUNAUTHORIZED)
	_, err = e.svc.UpdateUser(cliContext(), u.ID+100, pledge.UserChange{Active: &on})
	wantCode(t, "unknown user", err, pledge.ENOTFOUND)
	err = e.st.UpdateUser(ctx, pledge.User{ID: u.ID + 100, Role: pledge.RoleAdmin}, pledge.AuditEntry{At: Now, Action: "user.update"})
	wantCode(t, "store: unknown user", err, pledge.ENOTFOUND)
}

func testAPITokens(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	mustImport(t, e.svc)
	u := e.newUser(t, "script@example.dk", pledge.RoleCoordinator, "A")
	other := e.newUser(t, "other@example.dk", pledge.RoleAdmin)
	me := e.as(t, e.signIn(t, "script@example.dk", goodPassword))
	secret, tok, err := e.svc.CreateAPIToken(me, "", "nightly export", []pledge.Scope{pledge.ScopeRead, pledge.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "kmt_") || tok.ID == 0 || tok.UserID != u.ID || len(tok.Scopes) != 1 || tok.SecretHash != pledge.SecretHash(secret) {
		t.Errorf("token = %+v (%q)", tok, secret)
	}
	stored, err := e.st.APITokenByHash(ctx, pledge.SecretHash(secret))
	if err != nil || stored.Name != "nightly export" || len(stored.Scopes) != 1 || stored.Scopes[0] != pledge.ScopeRead ||
		stored.LastUsedAt != nil || stored.RevokedAt != nil || !stored.CreatedAt.Equal(Now) {
		t.Errorf("stored token = %+v, %v", stored, err)
	}

	byToken, err := e.svc.AuthenticateToken(ctx, secret)
	if err != nil || byToken.ID != u.ID || len(byToken.Scopes) != 1 || byToken.SessionID != 0 {
		t.Fatalf("authenticate token = %+v, %v", byToken, err)
	}
	tctx := pledge.WithUser(ctx, byToken)
	if err := e.svc.Can(tctx, pledge.ActionViewPledges, "A"); err != nil {
		t.Errorf("read scope, own area: %v", err)
	}
	wantCode(t, "read scope editing an area", e.svc.Can(tctx, pledge.ActionEditArea, "A"), pledge.EFORBIDDEN)
	_, _, err = e.svc.CreateAPIToken(tctx, "", "more", nil)
	wantCode(t, "a read token making tokens", err, pledge.EFORBIDDEN)

	// Last use is written at most once a minute.
	used := e.clock.Now()
	if got, _ := e.st.APITokenByHash(ctx, tok.SecretHash); got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
		t.Errorf("last used = %v, want %v", got.LastUsedAt, used)
	}
	e.clock.Add(30 * time.Second)
	e.svc.AuthenticateToken(ctx, secret)
	if got, _ := e.st.APITokenByHash(ctx, tok.SecretHash); !got.LastUsedAt.Equal(used) {
		t.Errorf("last used moved after 30 s: %v", got.LastUsedAt)
	}
	e.clock.Add(time.Minute)
	e.svc.AuthenticateToken(ctx, secret)
	if got, _ := e.st.APITokenByHash(ctx, tok.SecretHash); !got.LastUsedAt.Equal(e.clock.Now()) {
		t.Errorf("last used = %v, want %v", got.LastUsedAt, e.clock.Now())
	}

	e.clock.Add(time.Minute)
	_, second, err := e.svc.CreateAPIToken(me, "", "admin script", []pledge.Scope{pledge.ScopeAdmin, pledge.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.MyAPITokens(me)
	if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != tok.ID {
		t.Fatalf("my tokens (newest first) = %+v, %v", list, err)
	}
	if strings.Join([]string{string(list[0].Scopes[0]), string(list[0].Scopes[1])}, ",") != "admin,read" {
		t.Errorf("scopes = %v", list[0].Scopes)
	}
	otherSecret, otherTok, err := e.svc.CreateAPIToken(cliContext(), other.Email, "theirs", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoking another user's token", e.svc.RevokeAPIToken(me, otherTok.ID), pledge.ENOTFOUND)
	if _, err := e.svc.AuthenticateToken(ctx, otherSecret); err != nil {
		t.Errorf("the other user's token after a refused revocation: %v", err)
	}
	if err := e.svc.RevokeAPIToken(me, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthenticateToken(ctx, secret)
	wantCode(t, "revoked token", err, pledge.EUNAUTHORIZED)
	wantCode(t, "revoking twice", e.svc.RevokeAPIToken(me, tok.ID), pledge.ENOTFOUND)
	if got, _ := e.st.APITokenByHash(ctx, tok.SecretHash); got.RevokedAt == nil || !got.RevokedAt.Equal(e.clock.Now()) {
		t.Errorf("revoked at = %v", got.RevokedAt)
	}
	_, err = e.svc.AuthenticateToken(ctx, "kmt_unknown")
	wantCode(t, "unknown token", err, pledge.EUNAUTHORIZED)
	got := e.auditActions(t, pledge.AuditFilter{})
	if n := strings.Count(strings.Join(got, " "), "token.create"); n != 3 || got[len(got)-1] != "token.revoke" {
		t.Errorf("audit = %v", got)
	}
}

func testPasswordReset(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	u := e.newUser(t, "forgot@example.dk", pledge.RoleAdmin)
	session := e.signIn(t, "forgot@example.dk", goodPassword)
	link, err := e.svc.RequestPasswordReset(ctx, "Forgot@example.dk", "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := strings.CutPrefix(link, "/reset/")
	if !ok {
		t.Fatalf("reset link %q", link)
	}
	r, err := e.st.PasswordResetByHash(ctx, pledge.SecretHash(secret))
	if err != nil || r.UserID != u.ID || r.UsedAt != nil || !r.ExpiresAt.Equal(Now.Add(pledge.PasswordResetTTL)) {
		t.Errorf("reset = %+v, %v", r, err)
	}
	if link, err := e.svc.RequestPasswordReset(ctx, "nobody@example.dk", "192.0.2.9"); err != nil || link != "" {
		t.Errorf("reset for no account = %q, %v; want no link and no error", link, err)
	}
	const newPassword = "Ny adgangskode til Bøgelund"
	e.clock.Add(10 * time.Minute)
	if err := e.svc.ResetPassword(ctx, secret, newPassword); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, session)
	wantCode(t, "session after a reset", err, pledge.EUNAUTHORIZED)
	if _, _, err := e.svc.SignIn(ctx, pledge.SignInRequest{Email: u.Email, Password: goodPassword, Client: "192.0.2.1"}); pledge.ErrorCode(err) != pledge.EUNAUTHORIZED {
		t.Errorf("old password after reset: %v", err)
	}
	e.signIn(t, u.Email, newPassword)
	wantCode(t, "reset link used twice", e.svc.ResetPassword(ctx, secret, "Endnu en ny adgangskode"), pledge.ECONFLICT)
	if r, _ := e.st.PasswordResetByHash(ctx, pledge.SecretHash(secret)); r.UsedAt == nil || !r.UsedAt.Equal(e.clock.Now()) {
		t.Errorf("used at = %v", r.UsedAt)
	}
	// The store refuses a used reset in its transaction, and changes nothing.
	before, _ := e.st.UserByID(ctx, u.ID)
	err = e.st.SetPassword(ctx, u.ID, "other-hash", r.ID, e.clock.Now(), pledge.AuditEntry{At: Now, Action: "user.password_reset"})
	wantCode(t, "store: used reset", err, pledge.ECONFLICT)
	if after, _ := e.st.UserByID(ctx, u.ID); after.PasswordHash != before.PasswordHash {
		t.Error("a used reset changed the password")
	}

	// An hour later a link has expired.
	link, _ = e.svc.RequestPasswordReset(ctx, u.Email, "192.0.2.9")
	e.clock.Add(pledge.PasswordResetTTL)
	wantCode(t, "expired reset", e.svc.ResetPassword(ctx, strings.TrimPrefix(link, "/reset/"), "Endnu en ny adgangskode"), pledge.ENOTFOUND)
	wantCode(t, "unknown reset", e.svc.ResetPassword(ctx, "unknown", "Endnu en ny adgangskode"), pledge.ENOTFOUND)
	got := e.auditActions(t, pledge.AuditFilter{})
	if got[len(got)-1] != "user.password_reset" {
		t.Errorf("audit = %v", got)
	}
}

func testPasswordResetMailed(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	e.svc.Mail = true
	e.svc.PublicURL = "https://kommunity.example"
	e.invite(t, "mailed@example.dk", pledge.RoleAdmin) // with Mail on the link is also e-mailed
	mails, err := e.st.OutboxEvents(ctx, pledge.EventMail)
	if err != nil || len(mails) != 1 || mails[0].AreaCode != "" || !strings.Contains(mails[0].Payload, "mailed@example.dk") ||
		!strings.Contains(mails[0].Payload, "https://kommunity.example/invitations/") {
		t.Fatalf("mail events = %+v, %v", mails, err)
	}
	e.svc.Mail = false
	e.newUser(t, "reset@example.dk", pledge.RoleAdmin)
	e.svc.Mail = true
	link, err := e.svc.RequestPasswordReset(ctx, "reset@example.dk", "192.0.2.9")
	if err != nil || link != "" {
		t.Fatalf("mailed reset = %q, %v; want no link shown", link, err)
	}
	mails, _ = e.st.OutboxEvents(ctx, pledge.EventMail)
	if len(mails) != 2 || !strings.Contains(mails[1].Payload, "https://kommunity.example/reset/") {
		t.Fatalf("mail events = %+v", mails)
	}
	var m pledge.MailMessage
	if err := json.Unmarshal([]byte(mails[1].Payload), &m); err != nil || m.To != "reset@example.dk" {
		t.Errorf("reset mail = %+v, %v", m, err)
	}
	secret := m.Text[strings.Index(m.Text, "/reset/")+len("/reset/"):]
	secret = secret[:strings.IndexAny(secret, "\n ")]
	if err := e.svc.ResetPassword(ctx, secret, "Fra e-mailen til Vesterby"); err != nil {
		t.Errorf("reset with the mailed link: %v", err)
	}
}

func testAuditAreaUpdate(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	mustImport(t, e.svc)
	e.newUser(t, "coord-a@example.dk", pledge.RoleCoordinator, "A")
	e.newUser(t, "coord-b@example.dk", pledge.RoleCoordinator, "B")
	ca := e.as(t, e.signIn(t, "coord-a@example.dk", goodPassword))
	cb := e.as(t, e.signIn(t, "coord-b@example.dk", goodPassword))
	before := areaByCode(t, e.svc, "A")
	pct := 60.0
	a, err := e.svc.UpdateAreaSettings(ca, "A", pledge.AreaSettings{ThresholdPercent: &pct})
	if err != nil || a.ThresholdPercent != 60 {
		t.Fatalf("coordinator of A: %+v, %v", a, err)
	}
	if got := areaByCode(t, e.svc, "A"); got.ThresholdPercent != 60 {
		t.Errorf("stored threshold = %g", got.ThresholdPercent)
	}
	code := "A"
	entries, err := e.st.Audit(ctx, pledge.AuditFilter{AreaCode: &code})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit of A = %+v, %v", entries, err)
	}
	en := entries[0]
	var old, new map[string]any
	if json.Unmarshal([]byte(en.Old), &old) != nil || json.Unmarshal([]byte(en.New), &new) != nil {
		t.Fatalf("old/new are not JSON: %q %q", en.Old, en.New)
	}
	if en.ID == 0 || en.Action != "area.update" || en.AreaCode != "A" || en.Target != "area:A" || en.Actor != "coord-a@example.dk" || en.ActorID == 0 ||
		!en.At.Equal(Now) || old["threshold_percent"] != before.ThresholdPercent || new["threshold_percent"] != 60.0 {
		t.Errorf("entry = %+v", en)
	}

	// A coordinator of another area may not, and nothing is written.
	pct = 10
	_, err = e.svc.UpdateAreaSettings(cb, "A", pledge.AreaSettings{ThresholdPercent: &pct})
	wantCode(t, "coordinator of B editing A", err, pledge.EFORBIDDEN)
	if got := areaByCode(t, e.svc, "A"); got.ThresholdPercent != 60 {
		t.Errorf("threshold after a refused edit = %g", got.ThresholdPercent)
	}
	err = e.svc.SetCostParams(cb, "A", pledge.DefaultCostParams())
	wantCode(t, "coordinator of B setting A's costs", err, pledge.EFORBIDDEN)
	_, err = e.svc.UpdateAreaSettings(context.Background(), "A", pledge.AreaSettings{ThresholdPercent: &pct})
	wantCode(t, "anonymous edit", err, pledge.EUNAUTHORIZED)
	if entries, _ := e.st.Audit(ctx, pledge.AuditFilter{AreaCode: &code}); len(entries) != 1 {
		t.Errorf("refused edits were logged: %+v", entries)
	}

	// Cost parameters are audited in their transaction too.
	p := pledge.DefaultCostParams()
	p.TrenchPerM = 321
	if err := e.svc.SetCostParams(ca, "A", p); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := e.svc.CostParams(ctx, "A"); got.TrenchPerM != 321 {
		t.Errorf("stored trench cost = %d", got.TrenchPerM)
	}
	if got := e.auditActions(t, pledge.AuditFilter{AreaCode: &code}); strings.Join(got, " ") != "area.update area.cost" {
		t.Errorf("audit of A = %v", got)
	}
	// An unknown area: nothing is logged.
	err = e.st.UpdateAreaAudited(ctx, pledge.Area{Code: "NOPE", Status: pledge.StatusDraft}, pledge.AuditEntry{At: Now, Action: "area.update", AreaCode: "NOPE"})
	wantCode(t, "store: unknown area", err, pledge.ENOTFOUND)
	err = e.st.SetCostParamsAudited(ctx, "NOPE", p, pledge.AuditEntry{At: Now, Action: "area.cost", AreaCode: "NOPE"})
	wantCode(t, "store: costs of an unknown area", err, pledge.ENOTFOUND)
	nope := "NOPE"
	if entries, _ := e.st.Audit(ctx, pledge.AuditFilter{AreaCode: &nope}); len(entries) != 0 {
		t.Errorf("failed changes were logged: %+v", entries)
	}

	// The audit log by area: a coordinator sees their own area's only.
	bArea := areaByCode(t, e.svc, "B")
	bArea.ThresholdUnits = 2
	if err := e.st.UpdateAreaAudited(ctx, bArea, pledge.AuditEntry{At: Now.Add(time.Second), Actor: "cli", Action: "area.update", AreaCode: "B", Target: "area:B"}); err != nil {
		t.Fatal(err)
	}
	mine, err := e.svc.Audit(ca, "A", 0)
	if err != nil || len(mine) != 2 || mine[0].Action != "area.cost" {
		t.Errorf("coordinator's audit of A = %+v, %v", mine, err)
	}
	_, err = e.svc.Audit(ca, "B", 0)
	wantCode(t, "coordinator of A reading B's audit", err, pledge.EFORBIDDEN)
	all, err := e.svc.Audit(cliContext(), "", 2)
	if err != nil || len(all) != 2 || all[0].AreaCode != "B" {
		t.Errorf("newest two entries = %+v, %v", all, err)
	}
}

func testAuditUserUpdate(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	mustImport(t, e.svc)
	u := e.newUser(t, "grow@example.dk", pledge.RoleCoordinator, "A")
	areas := []string{"V", "A"}
	name := "Grete Ørum"
	got, err := e.svc.UpdateUser(cliContext(), u.ID, pledge.UserChange{Areas: &areas, Name: &name})
	if err != nil || strings.Join(got.Areas, ",") != "A,V" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	rec, err := e.st.UserByID(ctx, u.ID)
	if err != nil || rec.Name != name || strings.Join(rec.Areas, ",") != "A,V" || rec.Role != pledge.RoleCoordinator || !rec.Active {
		t.Errorf("stored user = %+v, %v", rec, err)
	}
	role := pledge.RoleProvider
	provider := "Fiber A/S"
	if _, err := e.svc.UpdateUser(cliContext(), u.ID, pledge.UserChange{Role: &role, Provider: &provider}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.st.UserByID(ctx, u.ID); rec.Areas != nil || rec.Provider != provider || rec.Role != role {
		t.Errorf("provider = %+v; want no areas", rec)
	}
	entries, err := e.svc.Audit(cliContext(), "", 0)
	if err != nil || len(entries) < 2 {
		t.Fatal(entries, err)
	}
	first := entries[1] // newest first
	if first.Action != "user.update" || first.Target != "user:"+itoa(u.ID) || first.Actor != "cli" || first.ActorID != 0 ||
		!strings.Contains(first.Old, `"areas":["A"]`) || !strings.Contains(first.New, `"areas":["A","V"]`) || !strings.Contains(first.New, "Grete") {
		t.Errorf("user.update entry = %+v", first)
	}
	// Only admins manage users; a refusal is not logged.
	ctxU := e.as(t, e.signIn(t, "grow@example.dk", goodPassword))
	admin := pledge.RoleAdmin
	_, err = e.svc.UpdateUser(ctxU, u.ID, pledge.UserChange{Role: &admin})
	wantCode(t, "provider promoting themselves", err, pledge.EFORBIDDEN)
	if n, _ := e.svc.Audit(cliContext(), "", 0); len(n) != len(entries) {
		t.Errorf("a refused change was logged")
	}
}

func testAreaPledges(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	mustImport(t, e.svc)
	e.newUser(t, "view-a@example.dk", pledge.RoleCoordinator, "A")
	e.newUser(t, "view-b@example.dk", pledge.RoleCoordinator, "B")
	ca := e.as(t, e.signIn(t, "view-a@example.dk", goodPassword))
	cb := e.as(t, e.signIn(t, "view-b@example.dk", goodPassword))
	first, _, err := e.svc.CreatePledge(ctx, req("a2", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	r := req("a1", 0)
	r.Name, r.Email, r.Phone = "Else Berg", "", "+45 20 30 40 50"
	second, _, err := e.svc.CreatePledge(ctx, r, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.WithdrawPledge(ctx, first.Token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreatePledge(ctx, req("b1", 0), ""); err != nil {
		t.Fatal(err)
	}
	ps, err := e.svc.AreaPledges(ca, "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].ID != first.ID || ps[1].ID != second.ID {
		t.Fatalf("pledges of A = %+v", ps)
	}
	if ps[0].Status != pledge.PledgeWithdrawn || ps[0].Name != "" {
		t.Errorf("withdrawn pledge = %+v", ps[0])
	}
	if p := ps[1]; p.Status != pledge.PledgeActive || p.Name != "Else Berg" || p.Phone != "+45 20 30 40 50" || p.AddressID != "a1" || p.AreaCode != "A" {
		t.Errorf("active pledge = %+v", p)
	}
	code := "A"
	entries, err := e.st.Audit(ctx, pledge.AuditFilter{AreaCode: &code})
	if err != nil || len(entries) != 1 || entries[0].Action != "pledges.view" || entries[0].Actor != "view-a@example.dk" || entries[0].Target != "area:A" {
		t.Errorf("audit of A = %+v, %v", entries, err)
	}
	_, err = e.svc.AreaPledges(cb, "A")
	wantCode(t, "coordinator of B reading A's pledges", err, pledge.EFORBIDDEN)
	_, err = e.svc.AreaPledges(cliContext(), "NOPE")
	wantCode(t, "unknown area", err, pledge.ENOTFOUND)
	if got := e.auditActions(t, pledge.AuditFilter{}); strings.Count(strings.Join(got, " "), "pledges.view") != 1 {
		t.Errorf("audit = %v: only the one read that happened", got)
	}
	if ps, err := e.svc.AreaPledges(cliContext(), "V"); err != nil || len(ps) != 0 || ps == nil {
		t.Errorf("pledges of V = %#v, %v; want an empty list", ps, err)
	}
}

// testAccountTimes: times come back as stored, in UTC, to the microsecond
// (PostgreSQL keeps microseconds; SQLite more).
func testAccountTimes(t *testing.T, e *accountEnv) {
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 9, 8, 7, 654321000, time.FixedZone("CET", 3600))
	u := pledge.UserRecord{User: pledge.User{Email: "time@example.dk", Name: "T", Role: pledge.RoleAdmin, Active: true, CreatedAt: at}, PasswordHash: "h"}
	inv := pledge.Invitation{TokenHash: "inv-hash", Email: u.Email, Role: pledge.RoleAdmin, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := e.st.CreateInvitation(ctx, &inv, nil, pledge.AuditEntry{At: at, Actor: "cli", Action: "user.invite"}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AcceptInvitation(ctx, inv.ID, &u, pledge.AuditEntry{At: at, Actor: u.Email, Action: "user.create"}); err != nil {
		t.Fatal(err)
	}
	s := pledge.Session{SecretHash: "s-hash", UserID: u.ID, CreatedAt: at, LastSeenAt: at.Add(time.Microsecond), ExpiresAt: at.Add(time.Hour)}
	if err := e.st.CreateSession(ctx, &s, ""); err != nil {
		t.Fatal(err)
	}
	same := func(what string, got, want time.Time) {
		t.Helper()
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", what, got, want.UTC())
		}
	}
	rec, err := e.st.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	same("user created", rec.CreatedAt, at)
	gotInv, _ := e.st.InvitationByTokenHash(ctx, "inv-hash")
	same("invitation created", gotInv.CreatedAt, at)
	same("invitation expires", gotInv.ExpiresAt, at.Add(time.Hour))
	if gotInv.UsedAt == nil {
		t.Fatal("invitation not used")
	}
	same("invitation used", *gotInv.UsedAt, at)
	gotS, err := e.st.SessionByHash(ctx, "s-hash")
	if err != nil {
		t.Fatal(err)
	}
	same("session created", gotS.CreatedAt, at)
	same("session last seen", gotS.LastSeenAt, at.Add(time.Microsecond))
	same("session expires", gotS.ExpiresAt, at.Add(time.Hour))
	if err := e.st.TouchSession(ctx, s.ID, at.Add(2*time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	gotS, _ = e.st.SessionByHash(ctx, "s-hash")
	same("session touched", gotS.LastSeenAt, at.Add(2*time.Microsecond))
	entries, _ := e.st.Audit(ctx, pledge.AuditFilter{})
	if len(entries) != 2 {
		t.Fatalf("audit = %+v", entries)
	}
	same("audit entry", entries[0].At, at)
	if entries[0].Action != "user.create" || entries[0].Old != "" || entries[0].New != "" {
		t.Errorf("newest entry = %+v", entries[0])
	}
	// The audit log pages newest first.
	for i := range 5 {
		if err := e.st.AddAudit(ctx, pledge.AuditEntry{At: at.Add(time.Duration(i+1) * time.Second), Actor: "cli", Action: "x" + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.auditActions(t, pledge.AuditFilter{Limit: 3}); strings.Join(got, " ") != "x2 x3 x4" {
		t.Errorf("newest three = %v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
