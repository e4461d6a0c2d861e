package pledge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Account rules. The durations are Service fields with these defaults.
const (
	DefaultSessionIdle   = 8 * time.Hour      // signed out after this long without a request
	DefaultSessionMaxAge = 7 * 24 * time.Hour // signed out after this long, whatever the activity
	InvitationTTL        = 7 * 24 * time.Hour
	PasswordResetTTL     = time.Hour
	MinPasswordLength    = 12

	// Sign-in attempts, counted over a sliding window like pledges: per
	// client (every attempt) and per e-mail address (whether or not it has
	// an account, so the answer tells nothing). From the slowAfter-th
	// attempt of an account each answer waits longer; past the limit
	// sign-in is locked until the window has passed.
	signInWindow        = 15 * time.Minute
	signInPerClient     = 30
	signInPerAccount    = 10
	signInSlowAfter     = 3
	signInMaxDelay      = 4 * time.Second
	defaultSignInDelay  = 200 * time.Millisecond // the 4th attempt's wait; it doubles with each after
	sessionTouchEvery   = time.Minute            // last-seen is written at most this often
	tokenPrefix         = "kmt_"                 // API tokens are recognisable in logs and secret scanners
	argonTime, argonMem = 2, 19 * 1024           // OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 thread
)

// EventMail is the outbox kind of an e-mail; its payload is a MailMessage.
const EventMail = "mail"

// MailMessage is an e-mail queued in the outbox for the dispatcher.
type MailMessage struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

//go:embed common_passwords.txt
var commonPasswordList string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// CheckPassword returns EINVALID (field password) for a password that is
// too short, too long, or common.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return Invalid("password", ReasonWeakPassword, "a password has at least %d characters", MinPasswordLength)
	case len(pw) > 1024:
		return Invalid("password", ReasonWeakPassword, "a password has at most 1024 bytes")
	case commonPasswords[strings.ToLower(pw)]:
		return Invalid("password", ReasonWeakPassword, "this password is too common; choose another")
	}
	if _, bad := InvisibleRuneOf(pw); bad {
		return Invalid("password", ReasonInvisible, "must not contain invisible or control characters")
	}
	return nil
}

// InvisibleRuneOf is geo.InvisibleRune, or invalid UTF-8.
func InvisibleRuneOf(s string) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	return invisibleRune(s)
}

// HashPassword returns the argon2id hash of pw in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMem, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=1$%s$%s", argon2.Version, argonMem, argonTime, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword reports whether pw matches a hash from HashPassword, in
// time that does not depend on where they differ.
func verifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var mem, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem > 1<<20 || t > 10 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when an e-mail has no account, so that
// sign-in takes as long either way.
var dummyHash = HashPassword("no account has this password")

// newSecret returns 32 random bytes, base64url, and its SHA-256 in hex.
func newSecret(prefix string) (secret, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, SecretHash(secret)
}

// SecretHash is what the store keeps of a session cookie, an API token,
// an invitation or a reset link: its SHA-256 in hex. The secrets are 256
// random bits, so a fast hash is enough; a leaked table gives no secret.
func SecretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// validSecret bounds what is looked up: secrets are short base64url.
func validSecret(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func normaliseEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// audit is an entry by the user in ctx.
func (s *Service) audit(ctx context.Context, action, area, target string, old, new any) AuditEntry {
	e := AuditEntry{At: s.now(), Action: action, AreaCode: area, Target: target, Actor: "cli"}
	if u := UserFrom(ctx); u != nil && !u.system {
		e.ActorID, e.Actor = u.ID, u.Email
	}
	if old != nil {
		b, _ := json.Marshal(old)
		e.Old = string(b)
	}
	if new != nil {
		b, _ := json.Marshal(new)
		e.New = string(b)
	}
	return e
}

func (s *Service) accounts() AccountStore { return s.store }

// link is path under the public URL.
func (s *Service) link(path string) string { return s.PublicURL + path }

// InviteRequest is who to invite, with what role.
type InviteRequest struct {
	Email    string
	Name     string
	Role     Role
	Areas    []string // a coordinator's area codes
	Provider string   // a provider user's company
}

func (r *InviteRequest) check(ctx context.Context, s *Service) error {
	r.Email, r.Name, r.Provider = normaliseEmail(r.Email), strings.Join(strings.Fields(r.Name), " "), strings.TrimSpace(r.Provider)
	if !validEmail(r.Email) {
		return Invalid("email", ReasonEmailInvalid, "this is not an e-mail address")
	}
	if hasInvisible(r.Name) || hasInvisible(r.Provider) {
		return invisibleError("name")
	}
	if !slices.Contains(Roles, r.Role) {
		return Invalid("role", ReasonInvalid, "the role must be admin, coordinator or provider")
	}
	if r.Role == RoleProvider && r.Provider == "" {
		return Invalid("provider", ReasonInvalid, "a provider user needs the provider's name (--provider)")
	}
	if r.Role != RoleCoordinator && len(r.Areas) > 0 {
		return Invalid("areas", ReasonInvalid, "only coordinators have areas")
	}
	if r.Role != RoleProvider {
		r.Provider = ""
	}
	slices.Sort(r.Areas)
	r.Areas = slices.Compact(r.Areas)
	for _, code := range r.Areas {
		if _, err := s.store.Area(ctx, code); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return Invalid("areas", ReasonInvalid, "there is no area %q", code)
			}
			return err
		}
	}
	return nil
}

// Invite creates a single-use invitation that expires after 7 days and
// returns it with its link. With Mail on, the link is also e-mailed.
// Needs users.manage. Returns EINVALID for a bad request and ECONFLICT
// when the e-mail already has an account.
func (s *Service) Invite(ctx context.Context, r InviteRequest) (Invitation, string, error) {
	if err := s.Can(ctx, ActionManageUsers, ""); err != nil {
		return Invitation{}, "", err
	}
	if err := r.check(ctx, s); err != nil {
		return Invitation{}, "", err
	}
	if _, err := s.accounts().UserByEmail(ctx, r.Email); err == nil {
		return Invitation{}, "", &Error{Code: ECONFLICT, Reason: ReasonAccountExists, Field: "email", Message: "this e-mail address has an account already"}
	} else if ErrorCode(err) != ENOTFOUND {
		return Invitation{}, "", err
	}
	secret, hash := newSecret("")
	now := s.now()
	inv := Invitation{TokenHash: hash, Email: r.Email, Name: r.Name, Role: r.Role, Areas: r.Areas, Provider: r.Provider,
		CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	if u := UserFrom(ctx); !u.system {
		inv.CreatedBy = u.ID
	}
	link := s.link("/invitations/" + secret)
	var mail *Event
	if s.Mail {
		mail = s.mailEvent("invite:"+hash[:16], r.Email, "Invitation to kommunity / Invitation til kommunity",
			fmt.Sprintf("Du er inviteret til kommunity som %s. Opret din konto her (linket virker i 7 dage og kun én gang):\n\n%s\n\n"+
				"You are invited to kommunity as %s. Create your account here (the link works for 7 days, once):\n\n%s\n", r.Role, link, r.Role, link))
	}
	e := s.audit(ctx, "user.invite", "", "invitation:"+r.Email, nil, map[string]any{"email": r.Email, "role": r.Role, "areas": r.Areas, "provider": r.Provider})
	if err := s.accounts().CreateInvitation(ctx, &inv, mail, e); err != nil {
		return Invitation{}, "", err
	}
	return inv, link, nil
}

// mailEvent is an outbox event that e-mails text to to, recorded once per
// key.
func (s *Service) mailEvent(key, to, subject, text string) *Event {
	b, _ := json.Marshal(MailMessage{To: to, Subject: subject, Text: text})
	return &Event{Kind: EventMail, Key: EventMail + ":" + key, Payload: string(b), At: s.now()}
}

var (
	errLinkExpired = &Error{Code: ENOTFOUND, Reason: ReasonLinkExpired, Message: "this link has expired or does not exist; ask for a new one"}
	errLinkUsed    = &Error{Code: ECONFLICT, Reason: ReasonLinkUsed, Message: "this link was used already; ask for a new one"}
)

// Invitation returns the open invitation of a link's secret. Returns
// ENOTFOUND for an unknown or expired link and ECONFLICT for a used one.
func (s *Service) Invitation(ctx context.Context, secret string) (Invitation, error) {
	if !validSecret(secret) {
		return Invitation{}, errLinkExpired
	}
	inv, err := s.accounts().InvitationByTokenHash(ctx, SecretHash(secret))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Invitation{}, errLinkExpired
	case err != nil:
		return Invitation{}, err
	case inv.UsedAt != nil:
		return Invitation{}, errLinkUsed
	case !s.now().Before(inv.ExpiresAt):
		return Invitation{}, errLinkExpired
	}
	return inv, nil
}

// AcceptInvitation creates the invited account with password and name (the
// invitation's name when empty) and returns the user. Returns EINVALID for
// a weak password, ENOTFOUND for an unknown or expired invitation and
// ECONFLICT for a used one.
func (s *Service) AcceptInvitation(ctx context.Context, secret, password, name string) (User, error) {
	inv, err := s.Invitation(ctx, secret)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	if name = strings.Join(strings.Fields(name), " "); name == "" {
		name = inv.Name
	}
	if hasInvisible(name) || utf8.RuneCountInString(name) > 200 {
		return User{}, invisibleError("name")
	}
	u := UserRecord{User: User{Email: inv.Email, Name: name, Role: inv.Role, Areas: inv.Areas, Provider: inv.Provider,
		Active: true, CreatedAt: s.now()}, PasswordHash: HashPassword(password)}
	e := AuditEntry{At: s.now(), ActorID: 0, Actor: inv.Email, Action: "user.create", Target: "user:" + inv.Email,
		New: mustJSON(map[string]any{"email": inv.Email, "role": inv.Role, "areas": inv.Areas, "provider": inv.Provider})}
	if err := s.accounts().AcceptInvitation(ctx, inv.ID, &u, e); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return User{}, errLinkUsed
		}
		return User{}, err
	}
	return u.User, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// SignInRequest is a sign-in attempt.
type SignInRequest struct {
	Email, Password string
	// Client identifies the client for rate limits (an IP address or
	// network), never stored as such.
	Client string
	// Replaces is the secret of the session the browser already had, if
	// any: signing in always makes a new session and ends that one, so a
	// session an attacker planted never becomes signed in (fixation).
	Replaces string
}

var errBadCredentials = &Error{Code: EUNAUTHORIZED, Reason: ReasonBadCredentials, Message: "the e-mail address or the password is wrong"}

// SignIn checks an e-mail and password and starts a session; it returns
// the session's secret (for the cookie) and the user. It answers the same
// EUNAUTHORIZED whether the e-mail has no account, the password is wrong
// or the account is deactivated. Repeated attempts slow down, then lock
// sign-in (ETOOMANY), per account and per client.
func (s *Service) SignIn(ctx context.Context, r SignInRequest) (string, User, error) {
	email := normaliseEmail(r.Email)
	now := s.now()
	for _, l := range []RateLimit{
		{Key: "", Window: signInWindow, Max: signInPerClient, Now: now},
		{Key: "", Window: signInWindow, Max: signInPerAccount, Now: now},
	} {
		scope, who := "signin-client", r.Client
		if l.Max == signInPerAccount {
			scope, who = "signin-account", email
		}
		key, err := s.ClientKey(ctx, scope, who)
		if err != nil {
			return "", User{}, err
		}
		l.Key = key
		n, err := s.store.CountHit(ctx, l)
		if err != nil {
			return "", User{}, err
		}
		if !l.Allows(n) {
			return "", User{}, ErrTooMany()
		}
		if scope == "signin-account" && n.Hits > signInSlowAfter && s.SignInDelay >= 0 {
			base := s.SignInDelay
			if base == 0 {
				base = defaultSignInDelay
			}
			d := min(base<<min(n.Hits-signInSlowAfter-1, 10), signInMaxDelay)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return "", User{}, ctx.Err()
			}
		}
	}
	u, err := s.accounts().UserByEmail(ctx, email)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return "", User{}, err
	}
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash
	}
	if ok := verifyPassword(hash, r.Password); !ok || err != nil || !u.Active {
		return "", User{}, errBadCredentials
	}
	secret, sh := newSecret("")
	sess := Session{SecretHash: sh, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.sessionMaxAge())}
	replaces := ""
	if validSecret(r.Replaces) {
		replaces = SecretHash(r.Replaces)
	}
	if err := s.accounts().CreateSession(ctx, &sess, replaces); err != nil {
		return "", User{}, err
	}
	u.SessionID = sess.ID
	return secret, u.User, nil
}

func (s *Service) sessionIdle() time.Duration {
	if s.SessionIdle > 0 {
		return s.SessionIdle
	}
	return DefaultSessionIdle
}

func (s *Service) sessionMaxAge() time.Duration {
	if s.SessionMaxAge > 0 {
		return s.SessionMaxAge
	}
	return DefaultSessionMaxAge
}

var errNoSession = &Error{Code: EUNAUTHORIZED, Reason: ReasonSignInRequired, Message: "sign in first: the session is unknown or has ended"}

// Authenticate returns the user of a session cookie's secret. A session
// ends after SessionIdle without a request and after SessionMaxAge in any
// case, and at once when its user is deactivated. Returns EUNAUTHORIZED
// for an unknown or ended session.
func (s *Service) Authenticate(ctx context.Context, secret string) (*User, error) {
	if !validSecret(secret) {
		return nil, errNoSession
	}
	sess, err := s.accounts().SessionByHash(ctx, SecretHash(secret))
	if ErrorCode(err) == ENOTFOUND {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.sessionIdle() {
		_ = s.accounts().DeleteSession(ctx, sess.SecretHash)
		return nil, errNoSession
	}
	u, err := s.accounts().UserByID(ctx, sess.UserID)
	if ErrorCode(err) == ENOTFOUND || err == nil && !u.Active {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.accounts().TouchSession(ctx, sess.ID, now); err != nil {
			return nil, err
		}
	}
	user := u.User
	user.SessionID = sess.ID
	return &user, nil
}

var errBadToken = &Error{Code: EUNAUTHORIZED, Reason: ReasonSignInRequired, Message: "this API token is unknown or revoked"}

// AuthenticateToken returns the user of an API token, limited to its
// scopes. Returns EUNAUTHORIZED for an unknown or revoked token, or one
// whose user is deactivated.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (*User, error) {
	raw, ok := strings.CutPrefix(secret, tokenPrefix)
	if !ok || !validSecret(raw) {
		return nil, errBadToken
	}
	t, err := s.accounts().APITokenByHash(ctx, SecretHash(secret))
	if ErrorCode(err) == ENOTFOUND {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return nil, errBadToken
	}
	u, err := s.accounts().UserByID(ctx, t.UserID)
	if ErrorCode(err) == ENOTFOUND || err == nil && !u.Active {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= sessionTouchEvery {
		if err := s.accounts().TouchAPIToken(ctx, t.ID, now); err != nil {
			return nil, err
		}
	}
	user := u.User
	user.Scopes = t.Scopes
	if user.Scopes == nil {
		user.Scopes = []Scope{}
	}
	return &user, nil
}

// SignOut ends the session of a cookie's secret; an unknown one is no
// error.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	if !validSecret(secret) {
		return nil
	}
	return s.accounts().DeleteSession(ctx, SecretHash(secret))
}

// signedIn is the user in ctx who may manage their own account.
func (s *Service) signedIn(ctx context.Context) (*User, error) {
	if err := s.Can(ctx, ActionOwnAccount, ""); err != nil {
		return nil, err
	}
	u := UserFrom(ctx)
	if u.system {
		return nil, Errorf(EINVALID, "the CLI has no account of its own")
	}
	return u, nil
}

// MySessions lists the signed-in user's sessions.
func (s *Service) MySessions(ctx context.Context) ([]Session, error) {
	u, err := s.signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return s.accounts().UserSessions(ctx, u.ID)
}

// RevokeMySession ends one of the signed-in user's sessions. ENOTFOUND if
// it is not theirs.
func (s *Service) RevokeMySession(ctx context.Context, id int64) error {
	u, err := s.signedIn(ctx)
	if err != nil {
		return err
	}
	return s.accounts().RevokeSession(ctx, u.ID, id)
}

// FlushSessions ends every session of every user (for the CLI after a
// suspected leak). Needs users.manage.
func (s *Service) FlushSessions(ctx context.Context) (int, error) {
	if err := s.Can(ctx, ActionManageUsers, ""); err != nil {
		return 0, err
	}
	n, err := s.accounts().DeleteSessions(ctx, 0)
	if err == nil {
		err = s.accounts().AddAudit(ctx, s.audit(ctx, "sessions.flush", "", "sessions", nil, map[string]int{"ended": n}))
	}
	return n, err
}

// CreateAPIToken makes an API token for the signed-in user (or, from the
// CLI, for the user with e-mail forEmail) and returns its secret, shown
// once. A token's scopes are a subset of read, bid and admin; it never
// exceeds its user's role. Returns EINVALID for a bad name or scope.
func (s *Service) CreateAPIToken(ctx context.Context, forEmail, name string, scopes []Scope) (string, APIToken, error) {
	var userID int64
	if u := UserFrom(ctx); u != nil && u.system {
		rec, err := s.accounts().UserByEmail(ctx, normaliseEmail(forEmail))
		if ErrorCode(err) == ENOTFOUND {
			return "", APIToken{}, Invalid("email", ReasonInvalid, "no user has the e-mail address %q", forEmail)
		}
		if err != nil {
			return "", APIToken{}, err
		}
		userID = rec.ID
	} else {
		u, err := s.signedIn(ctx)
		if err != nil {
			return "", APIToken{}, err
		}
		if u.Scopes != nil && !slices.Contains(u.Scopes, ScopeAdmin) {
			return "", APIToken{}, &Error{Code: EFORBIDDEN, Reason: ReasonForbidden, Message: "making tokens needs a session or a token with the admin scope"}
		}
		userID = u.ID
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || utf8.RuneCountInString(name) > 100 || hasInvisible(name) {
		return "", APIToken{}, Invalid("name", ReasonInvalid, "give the token a name of 1 to 100 characters of text")
	}
	if len(scopes) == 0 {
		scopes = []Scope{ScopeRead}
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return "", APIToken{}, Invalid("scopes", ReasonInvalid, "unknown scope %q: use read, bid or admin", sc)
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	secret, hash := newSecret(tokenPrefix)
	t := APIToken{SecretHash: hash, UserID: userID, Name: name, Scopes: scopes, CreatedAt: s.now()}
	e := s.audit(ctx, "token.create", "", "user:"+strconv.FormatInt(userID, 10), nil, map[string]any{"name": name, "scopes": scopes})
	if err := s.accounts().CreateAPIToken(ctx, &t, e); err != nil {
		return "", APIToken{}, err
	}
	return secret, t, nil
}

// MyAPITokens lists the signed-in user's tokens (never their secrets).
func (s *Service) MyAPITokens(ctx context.Context) ([]APIToken, error) {
	u, err := s.signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return s.accounts().UserAPITokens(ctx, u.ID)
}

// RevokeAPIToken revokes one of the signed-in user's tokens at once.
// ENOTFOUND if it is not theirs or is revoked already.
func (s *Service) RevokeAPIToken(ctx context.Context, id int64) error {
	u, err := s.signedIn(ctx)
	if err != nil {
		return err
	}
	e := s.audit(ctx, "token.revoke", "", "token:"+strconv.FormatInt(id, 10), nil, nil)
	return s.accounts().RevokeAPIToken(ctx, u.ID, id, s.now(), e)
}

// RequestPasswordReset makes a single-use reset link for the account of
// email, valid for an hour, and returns it. With Mail on it is e-mailed
// and the returned link is "" (the caller must not show it: whoever asks
// need not own the address). An e-mail without an account, or a
// deactivated one, gets no link and no error, so the answer does not tell
// whether an account exists. Counts against the client's sign-in limit.
func (s *Service) RequestPasswordReset(ctx context.Context, email, client string) (string, error) {
	email = normaliseEmail(email)
	if client != "" {
		key, err := s.ClientKey(ctx, "reset", client)
		if err != nil {
			return "", err
		}
		if refused, _ := s.Throttle(ctx, RateLimit{Key: key, Window: signInWindow, Max: signInPerAccount, Now: s.now()}); refused != nil {
			return "", refused
		}
	}
	u, err := s.accounts().UserByEmail(ctx, email)
	if ErrorCode(err) == ENOTFOUND || err == nil && !u.Active {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	secret, hash := newSecret("")
	now := s.now()
	r := PasswordReset{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(PasswordResetTTL)}
	link := s.link("/reset/" + secret)
	var mail *Event
	if s.Mail {
		mail = s.mailEvent("reset:"+hash[:16], u.Email, "Ny adgangskode til kommunity / New password for kommunity",
			fmt.Sprintf("Vælg en ny adgangskode her (linket virker i en time og kun én gang):\n\n%s\n\n"+
				"Choose a new password here (the link works for an hour, once):\n\n%s\n\n"+
				"Har du ikke bedt om det, kan du se bort fra denne e-mail. / If you did not ask for this, ignore this e-mail.\n", link, link))
	}
	if err := s.accounts().CreatePasswordReset(ctx, &r, mail); err != nil {
		return "", err
	}
	if s.Mail {
		return "", nil
	}
	return link, nil
}

// ResetPassword sets a new password with a reset link's secret; the link
// is used up and every session of the user ends. Returns EINVALID for a
// weak password, ENOTFOUND for an unknown or expired link and ECONFLICT
// for a used one.
func (s *Service) ResetPassword(ctx context.Context, secret, password string) error {
	if !validSecret(secret) {
		return errLinkExpired
	}
	r, err := s.accounts().PasswordResetByHash(ctx, SecretHash(secret))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return errLinkExpired
	case err != nil:
		return err
	case r.UsedAt != nil:
		return errLinkUsed
	case !s.now().Before(r.ExpiresAt):
		return errLinkExpired
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	e := AuditEntry{At: s.now(), ActorID: r.UserID, Action: "user.password_reset", Target: "user:" + strconv.FormatInt(r.UserID, 10)}
	if u, err := s.accounts().UserByID(ctx, r.UserID); err == nil {
		e.Actor = u.Email
	}
	err = s.accounts().SetPassword(ctx, r.UserID, HashPassword(password), r.ID, s.now(), e)
	if ErrorCode(err) == ECONFLICT {
		return errLinkUsed
	}
	return err
}

// ChangePassword sets the signed-in user's password after checking the
// current one; every other session ends.
func (s *Service) ChangePassword(ctx context.Context, current, password string) error {
	u, err := s.signedIn(ctx)
	if err != nil {
		return err
	}
	rec, err := s.accounts().UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	if !verifyPassword(rec.PasswordHash, current) {
		return &Error{Code: EINVALID, Reason: ReasonBadCredentials, Field: "current_password", Message: "the current password is wrong"}
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	e := s.audit(ctx, "user.password_change", "", "user:"+strconv.FormatInt(u.ID, 10), nil, nil)
	return s.accounts().SetPassword(ctx, u.ID, HashPassword(password), 0, s.now(), e)
}

// Users lists every user. Needs users.manage.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	if err := s.Can(ctx, ActionManageUsers, ""); err != nil {
		return nil, err
	}
	return s.accounts().Users(ctx)
}

// UserChange is what an admin changes about a user; nil stays.
type UserChange struct {
	Name     *string
	Role     *Role
	Areas    *[]string
	Provider *string
	Active   *bool
}

// UpdateUser changes a user's role, areas, provider, name or active flag,
// with the old and new values in the audit log. Deactivating ends the
// user's sessions and revokes their tokens at once. Needs users.manage;
// an admin cannot deactivate or demote themselves (there must stay one
// who can undo it). Returns ENOTFOUND for an unknown user.
func (s *Service) UpdateUser(ctx context.Context, id int64, c UserChange) (User, error) {
	if err := s.Can(ctx, ActionManageUsers, ""); err != nil {
		return User{}, err
	}
	rec, err := s.accounts().UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	old := rec.User
	u := rec.User
	if c.Name != nil {
		u.Name = *c.Name
	}
	if c.Role != nil {
		u.Role = *c.Role
	}
	if c.Areas != nil {
		u.Areas = *c.Areas
	}
	if c.Provider != nil {
		u.Provider = *c.Provider
	}
	if c.Active != nil {
		u.Active = *c.Active
	}
	if u.Role != RoleCoordinator && c.Areas == nil {
		u.Areas = nil
	}
	r := InviteRequest{Email: u.Email, Name: u.Name, Role: u.Role, Areas: u.Areas, Provider: u.Provider}
	if err := r.check(ctx, s); err != nil {
		return User{}, err
	}
	u.Name, u.Areas, u.Provider = r.Name, r.Areas, r.Provider
	if me := UserFrom(ctx); me.ID == id && !me.system && (!u.Active || u.Role != RoleAdmin) {
		return User{}, Invalid("role", ReasonInvalid, "you cannot deactivate or demote yourself; ask another admin")
	}
	view := func(u User) map[string]any {
		return map[string]any{"name": u.Name, "role": u.Role, "areas": u.Areas, "provider": u.Provider, "active": u.Active}
	}
	e := s.audit(ctx, "user.update", "", "user:"+strconv.FormatInt(id, 10), view(old), view(u))
	if err := s.accounts().UpdateUser(ctx, u, e); err != nil {
		return User{}, err
	}
	return u, nil
}

// AreaPledges returns an area's pledges with contact details, for its
// coordinators and admins; the read is written to the audit log in the
// same transaction. Returns EUNAUTHORIZED, EFORBIDDEN or ENOTFOUND.
func (s *Service) AreaPledges(ctx context.Context, code string) ([]Pledge, error) {
	if err := s.Can(ctx, ActionViewPledges, code); err != nil {
		return nil, err
	}
	return s.accounts().AreaPledges(ctx, code, s.audit(ctx, "pledges.view", code, "area:"+code, nil, nil))
}

// Audit returns audit entries: an admin's of anything, a coordinator's of
// their own areas (areaCode must then be one of them). Needs audit.view.
func (s *Service) Audit(ctx context.Context, areaCode string, limit int) ([]AuditEntry, error) {
	if err := s.Can(ctx, ActionViewAudit, areaCode); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	f := AuditFilter{Limit: limit}
	if areaCode != "" {
		f.AreaCode = &areaCode
	}
	return s.accounts().Audit(ctx, f)
}
