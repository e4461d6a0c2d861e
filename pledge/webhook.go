package pledge

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Webhooks: a provider registers endpoints for events; every domain event
// of a subscribed kind fans out into one outbox event per endpoint
// (EventWebhookDelivery), which a dispatcher signs and posts (package
// webhook). Secrets are shown once and kept sealed.

// ActionManageWebhooks is registering, listing, rotating, deleting and
// replaying webhook endpoints: a provider its own company's, an admin all.
const ActionManageWebhooks Action = "webhooks.manage"

// EventWebhookDelivery is the outbox kind of one event to one endpoint;
// its payload is a WebhookDelivery.
const EventWebhookDelivery = "webhook.delivery"

// Webhook event names, as receivers see them in "type".
const (
	WebhookAreaThresholdReached  = "area.threshold_reached"
	WebhookTenderOpened          = "tender.opened"
	WebhookTenderDeadlineChanged = "tender.deadline_changed"
	WebhookTenderAwarded         = "tender.awarded"
)

// WebhookEvents lists the event names an endpoint may subscribe to.
var WebhookEvents = []string{WebhookAreaThresholdReached, WebhookTenderOpened, WebhookTenderDeadlineChanged, WebhookTenderAwarded}

// WebhookKinds are the domain event kinds that fan out to webhooks, with
// the webhook event name of each.
var WebhookKinds = map[string]string{
	EventThresholdReached:      WebhookAreaThresholdReached,
	EventTenderOpened:          WebhookTenderOpened,
	EventTenderDeadlineChanged: WebhookTenderDeadlineChanged,
	EventTenderAwarded:         WebhookTenderAwarded,
}

// Webhook limits and periods.
const (
	MaxWebhooksPerCompany = 20
	MaxWebhookURLBytes    = 2000
	// WebhookSecretOverlap is how long the previous secret still signs
	// after a rotation, so a receiver can switch without losing events.
	WebhookSecretOverlap = 24 * time.Hour
	// WebhookDisableAfter is how long an endpoint may fail without a
	// success in between before it is disabled.
	WebhookDisableAfter = 5 * 24 * time.Hour
	// SecretWebhookSeal names the key that seals webhook secrets.
	SecretWebhookSeal   = "webhook-seal"
	webhookSecretPrefix = "whsec_"
)

// Webhook is a registered endpoint. The secrets are sealed (AES-GCM under
// the store's webhook-seal secret) and never leave the service in clear
// except once, when made.
type Webhook struct {
	ID        int64
	Company   string // the provider's company; "" for an admin's endpoint
	CreatedBy int64  // user id; 0 for the CLI
	URL       string
	Events    []string // sorted
	Active    bool
	CreatedAt time.Time
	// DisabledAt is when it was disabled after failing for too long.
	DisabledAt *time.Time
	// FailingSince is the first failed attempt since the last success.
	FailingSince *time.Time
	// SealedSecret signs every delivery; SealedPreviousSecret also signs
	// until PreviousSecretUntil (the overlap after a rotation).
	SealedSecret         string
	SealedPreviousSecret string
	PreviousSecretUntil  *time.Time
}

// WebhookAttempt is one line of an endpoint's delivery log.
type WebhookAttempt struct {
	ID         int64 // the n of .../deliveries/{n}/replay
	WebhookID  int64
	EventID    int64  // the outbox event (EventWebhookDelivery) attempted
	MessageID  string // webhook-id
	Type       string // webhook event name
	Attempt    int    // 1 for the first attempt of the event
	At         time.Time
	StatusCode int // 0 when no response came
	DurationMS int
	Excerpt    string // the response's first bytes, printable
	// ErrorClass is "" for a success, else a word: "status", "timeout",
	// "refused", "network", "redirect", "disabled".
	ErrorClass string
}

// OK reports whether the attempt succeeded.
func (a WebhookAttempt) OK() bool { return a.ErrorClass == "" }

// WebhookDelivery is the payload of an EventWebhookDelivery event: what
// to post to which endpoint. The body's bytes are the same on every
// attempt and replay.
type WebhookDelivery struct {
	Webhook   int64           `json:"webhook"`
	MessageID string          `json:"msg_id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// WebhookStore keeps endpoints and their delivery logs. Both stores
// implement it. Changes by a user carry an audit entry written in their
// transaction.
type WebhookStore interface {
	// CreateWebhook stores w, setting its ID.
	CreateWebhook(ctx context.Context, w *Webhook, audit AuditEntry) error
	// Webhook returns one endpoint, or ENOTFOUND.
	Webhook(ctx context.Context, id int64) (Webhook, error)
	// Webhooks lists endpoints by id: company's, or every one when
	// company is nil.
	Webhooks(ctx context.Context, company *string) ([]Webhook, error)
	// SubscribedWebhooks lists the active endpoints subscribed to event.
	SubscribedWebhooks(ctx context.Context, event string) ([]Webhook, error)
	// DeleteWebhook deletes an endpoint and its log; ENOTFOUND if none.
	DeleteWebhook(ctx context.Context, id int64, audit AuditEntry) error
	// SetWebhookSecrets stores w's sealed secrets and overlap end and
	// makes it active again (DisabledAt, FailingSince cleared): a new
	// secret is how an owner enables a disabled endpoint. ENOTFOUND if
	// there is no such endpoint.
	SetWebhookSecrets(ctx context.Context, w Webhook, audit AuditEntry) error
	// RecordWebhookAttempt logs a (setting its ID) and, in the same
	// transaction, clears the endpoint's FailingSince on a success or
	// sets it (if unset) to a.At on a failure. It returns the endpoint as
	// it is afterwards; ENOTFOUND if it is gone.
	RecordWebhookAttempt(ctx context.Context, a *WebhookAttempt) (Webhook, error)
	// DisableWebhook marks an active endpoint disabled at at and queues
	// mail (if not nil) in one transaction; it reports false, and queues
	// nothing, when the endpoint was not active.
	DisableWebhook(ctx context.Context, id int64, at time.Time, mail *Event) (bool, error)
	// WebhookAttempts lists an endpoint's log, newest first, at most
	// limit.
	WebhookAttempts(ctx context.Context, webhookID int64, limit int) ([]WebhookAttempt, error)
	// ReplayWebhookAttempt queues, under key at at, a copy of the outbox
	// event that attempt attemptID of endpoint webhookID delivered (so
	// the same webhook-id and body), with the audit entry. ENOTFOUND if
	// the endpoint has no such attempt.
	ReplayWebhookAttempt(ctx context.Context, webhookID, attemptID int64, key string, at time.Time, audit AuditEntry) error
}

// Reasons of webhook input errors (see Error.Reason).
const (
	ReasonWebhookURL     = "webhook_url"     // not an http(s) URL of a host
	ReasonWebhookPrivate = "webhook_private" // a loopback, private or link-local host
	ReasonWebhookEvents  = "webhook_events"  // no event, or an unknown one
)

// WebhookRequest is what a provider registers.
type WebhookRequest struct {
	URL    string
	Events []string
}

// PublicAddr reports whether a may receive webhooks: not loopback,
// private, link-local, unspecified, multicast, shared (CGNAT) or reserved,
// IPv4-mapped and IPv4-embedding IPv6 forms included. It is the SSRF
// guard's one rule, used at registration and at every connection.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	if a.Is6() {
		// NAT64 and 6to4 addresses carry an IPv4 address that may be a
		// private one.
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return PublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return PublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	return true
}

var (
	nonPublic = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
		netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
		netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
		netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
		netip.MustParsePrefix("240.0.0.0/4"),   // reserved, broadcast
		netip.MustParsePrefix("::/96"),         // IPv4-compatible (deprecated)
		netip.MustParsePrefix("100::/64"),      // discard
	}
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// checkWebhookURL returns the URL to store, or EINVALID (field url).
func (s *Service) checkWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := func(format string, args ...any) error { return Invalid("url", ReasonWebhookURL, format, args...) }
	if raw == "" {
		return "", bad("give the endpoint's URL, e.g. https://hooks.example.com/kommunity")
	}
	if len(raw) > MaxWebhookURLBytes {
		return "", bad("the URL is longer than %d bytes", MaxWebhookURLBytes)
	}
	if r, ok := InvisibleRuneOf(raw); ok {
		return "", &Error{Code: EINVALID, Reason: ReasonInvisible, Field: "url", Message: "the URL holds an invisible character " + strconv.QuoteRune(r)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", bad("this is not a URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", bad("the URL must start with https:// (or http://)")
	case u.Host == "" || u.Hostname() == "":
		return "", bad("the URL has no host")
	case u.User != nil:
		return "", bad("the URL must not hold a user name or password; sign-in is by the signature")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", bad("the URL must not have a #fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", bad("the URL's port %q is not a number from 1 to 65535", p)
		}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if !s.WebhookAllowPrivate {
		private := func(format string, args ...any) error { return Invalid("url", ReasonWebhookPrivate, format, args...) }
		if a, err := netip.ParseAddr(host); err == nil && !PublicAddr(a.WithZone("")) {
			return "", private("%s is a loopback, private or link-local address: webhooks go to public hosts only", host)
		}
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return "", private("localhost is not a public host: webhooks go to public hosts only")
		}
	}
	return u.String(), nil
}

func checkWebhookEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, Invalid("events", ReasonWebhookEvents, "choose at least one event: %s", strings.Join(WebhookEvents, ", "))
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		e = strings.TrimSpace(e)
		if !slices.Contains(WebhookEvents, e) {
			if len(e) > 40 {
				e = e[:40] + "…"
			}
			return nil, Invalid("events", ReasonWebhookEvents, "unknown event %q: use %s", strings.ToValidUTF8(e, "?"), strings.Join(WebhookEvents, ", "))
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// webhookUser is the user in ctx if they may manage webhooks.
func (s *Service) webhookUser(ctx context.Context) (*User, error) {
	if err := s.Can(ctx, ActionManageWebhooks, ""); err != nil {
		return nil, err
	}
	return UserFrom(ctx), nil
}

// seesAll reports whether u manages every company's endpoints.
func seesAll(u *User) bool { return u.system || u.Role == RoleAdmin }

var errNoWebhook = Errorf(ENOTFOUND, "no such webhook")

// ownWebhook returns endpoint id if the user in ctx may manage it; one of
// another company is ENOTFOUND, as if it did not exist.
func (s *Service) ownWebhook(ctx context.Context, id int64) (*User, Webhook, error) {
	u, err := s.webhookUser(ctx)
	if err != nil {
		return nil, Webhook{}, err
	}
	w, err := s.store.Webhook(ctx, id)
	if err != nil {
		return nil, Webhook{}, err
	}
	if !seesAll(u) && (u.Provider == "" || w.Company != u.Provider) {
		return nil, Webhook{}, errNoWebhook
	}
	return u, w, nil
}

func newWebhookSecret() (string, []byte) {
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(key), key
}

// WebhookSigningKey is the HMAC key of a whsec_ secret (its base64 part
// decoded).
func WebhookSigningKey(secret string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
}

const sealAAD = "kommunity webhook secret"

func (s *Service) sealer(ctx context.Context) (cipher.AEAD, error) {
	key, err := s.Secret(ctx, SecretWebhookSeal)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (s *Service) seal(ctx context.Context, secret string) (string, error) {
	g, err := s.sealer(ctx)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, []byte(secret), []byte(sealAAD))), nil
}

func (s *Service) unseal(ctx context.Context, sealed string) (string, error) {
	g, err := s.sealer(ctx)
	if err != nil {
		return "", err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < g.NonceSize() {
		return "", errors.New("webhook secret: not a sealed value")
	}
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(sealAAD))
	if err != nil {
		return "", errors.New("webhook secret: does not open with the webhook-seal key")
	}
	return string(plain), nil
}

// RegisterWebhook registers an endpoint of the signed-in provider's
// company (an admin's belongs to no company) and returns it with its
// secret, which is shown this once. Returns EINVALID (field url or
// events), ECONFLICT past MaxWebhooksPerCompany, EUNAUTHORIZED or
// EFORBIDDEN.
func (s *Service) RegisterWebhook(ctx context.Context, r WebhookRequest) (Webhook, string, error) {
	u, err := s.webhookUser(ctx)
	if err != nil {
		return Webhook{}, "", err
	}
	if !seesAll(u) && u.Provider == "" {
		return Webhook{}, "", &Error{Code: EFORBIDDEN, Reason: ReasonForbidden, Message: "your account belongs to no company"}
	}
	link, err := s.checkWebhookURL(r.URL)
	if err != nil {
		return Webhook{}, "", err
	}
	events, err := checkWebhookEvents(r.Events)
	if err != nil {
		return Webhook{}, "", err
	}
	company := u.Provider
	if seesAll(u) {
		company = ""
	}
	existing, err := s.store.Webhooks(ctx, &company)
	if err != nil {
		return Webhook{}, "", err
	}
	if len(existing) >= MaxWebhooksPerCompany {
		return Webhook{}, "", Errorf(ECONFLICT, "at most %d endpoints per company: delete one first", MaxWebhooksPerCompany)
	}
	secret, _ := newWebhookSecret()
	sealed, err := s.seal(ctx, secret)
	if err != nil {
		return Webhook{}, "", err
	}
	w := Webhook{Company: company, CreatedBy: u.ID, URL: link, Events: events, Active: true, CreatedAt: s.now(), SealedSecret: sealed}
	e := s.audit(ctx, "webhook.register", "", "company:"+company, nil, map[string]any{"url": link, "events": events})
	if err := s.store.CreateWebhook(ctx, &w, e); err != nil {
		return Webhook{}, "", err
	}
	return w, secret, nil
}

// Webhooks lists the endpoints the signed-in user manages: their
// company's, or all for an admin.
func (s *Service) Webhooks(ctx context.Context) ([]Webhook, error) {
	u, err := s.webhookUser(ctx)
	if err != nil {
		return nil, err
	}
	if seesAll(u) {
		return s.store.Webhooks(ctx, nil)
	}
	if u.Provider == "" {
		return []Webhook{}, nil
	}
	return s.store.Webhooks(ctx, &u.Provider)
}

// Webhook returns one endpoint the signed-in user manages; ENOTFOUND for
// one of another company.
func (s *Service) Webhook(ctx context.Context, id int64) (Webhook, error) {
	_, w, err := s.ownWebhook(ctx, id)
	return w, err
}

// DeleteWebhook deletes an endpoint and its log; its pending deliveries
// are given up. ENOTFOUND for one of another company.
func (s *Service) DeleteWebhook(ctx context.Context, id int64) error {
	_, w, err := s.ownWebhook(ctx, id)
	if err != nil {
		return err
	}
	e := s.audit(ctx, "webhook.delete", "", webhookTarget(id), map[string]any{"url": w.URL, "events": w.Events}, nil)
	return s.store.DeleteWebhook(ctx, id, e)
}

func webhookTarget(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

// RotateWebhookSecret gives an endpoint a new secret, returned this once;
// the current one goes on signing beside it for WebhookSecretOverlap. A
// disabled endpoint is enabled again. ENOTFOUND for one of another
// company.
func (s *Service) RotateWebhookSecret(ctx context.Context, id int64) (Webhook, string, error) {
	_, w, err := s.ownWebhook(ctx, id)
	if err != nil {
		return Webhook{}, "", err
	}
	secret, _ := newWebhookSecret()
	sealed, err := s.seal(ctx, secret)
	if err != nil {
		return Webhook{}, "", err
	}
	until := s.now().Add(WebhookSecretOverlap)
	w.SealedPreviousSecret, w.SealedSecret, w.PreviousSecretUntil = w.SealedSecret, sealed, &until
	e := s.audit(ctx, "webhook.rotate", "", webhookTarget(id), nil, map[string]any{"previous_until": until})
	if err := s.store.SetWebhookSecrets(ctx, w, e); err != nil {
		return Webhook{}, "", err
	}
	return w, secret, nil
}

// MaxWebhookAttempts bounds the delivery log a page or API answer shows.
const MaxWebhookAttempts = 200

// WebhookDeliveries returns an endpoint's delivery log, newest first.
// ENOTFOUND for one of another company.
func (s *Service) WebhookDeliveries(ctx context.Context, id int64) ([]WebhookAttempt, error) {
	if _, _, err := s.ownWebhook(ctx, id); err != nil {
		return nil, err
	}
	return s.store.WebhookAttempts(ctx, id, MaxWebhookAttempts)
}

// ReplayDelivery queues a fresh delivery of what attempt n of endpoint id
// delivered: the same webhook-id and body, attempts counted from 1 again.
// ENOTFOUND for an unknown attempt or another company's endpoint;
// ECONFLICT for a disabled endpoint (rotate its secret to enable it).
func (s *Service) ReplayDelivery(ctx context.Context, id, n int64) error {
	_, w, err := s.ownWebhook(ctx, id)
	if err != nil {
		return err
	}
	if !w.Active {
		return Errorf(ECONFLICT, "this endpoint is disabled: rotate its secret to enable it again")
	}
	at := s.now()
	key := EventWebhookDelivery + ":replay:" + strconv.FormatInt(n, 10) + ":" + strconv.FormatInt(at.UnixNano(), 10)
	e := s.audit(ctx, "webhook.replay", "", webhookTarget(id), nil, map[string]any{"attempt": n})
	err = s.store.ReplayWebhookAttempt(ctx, id, n, key, at, e)
	if ErrorCode(err) == ENOTFOUND {
		return Errorf(ENOTFOUND, "endpoint %d has no delivery %d", id, n)
	}
	return err
}

// WebhookMessageID is the webhook-id of domain event key to endpoint id:
// the same event always carries the same one, on every retry and replay.
func WebhookMessageID(eventKey string, webhookID int64) string {
	h := sha256.Sum256([]byte(eventKey + "\x00" + strconv.FormatInt(webhookID, 10)))
	return "msg_" + hex.EncodeToString(h[:16])
}

// FanOutWebhooks queues one EventWebhookDelivery per active endpoint
// subscribed to e's kind, keyed by endpoint and e's key, so a retried
// fan-out queues nothing twice. It is the dispatcher's handler of the
// domain kinds in WebhookKinds; the payload goes out unchanged as data.
func (s *Service) FanOutWebhooks(ctx context.Context, e OutboxEvent) error {
	name, ok := WebhookKinds[e.Kind]
	if !ok {
		return Errorf(EINVALID, "event kind %q has no webhook", e.Kind)
	}
	if !json.Valid([]byte(e.Payload)) {
		return Errorf(EINVALID, "event %d: payload is not JSON", e.ID)
	}
	hooks, err := s.store.SubscribedWebhooks(ctx, name)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		d := WebhookDelivery{Webhook: w.ID, MessageID: WebhookMessageID(e.Key, w.ID), Type: name,
			Timestamp: e.At.UTC().Format(time.RFC3339), Data: json.RawMessage(e.Payload)}
		b, _ := json.Marshal(d)
		ev := Event{Kind: EventWebhookDelivery, AreaCode: e.AreaCode, Key: EventWebhookDelivery + ":" + strconv.FormatInt(w.ID, 10) + ":" + e.Key,
			Payload: string(b), At: s.now()}
		if err := s.store.QueueEvent(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// WebhookTarget is what the deliverer needs for one attempt.
type WebhookTarget struct {
	Webhook  Webhook
	Delivery WebhookDelivery
	// Keys are the HMAC keys to sign with: the current secret's, then
	// the previous one's during the overlap.
	Keys [][]byte
}

// ErrWebhookGone is returned by WebhookTarget for an endpoint deleted or
// disabled since the event was queued: the delivery is given up.
var ErrWebhookGone = Errorf(ENOTFOUND, "the endpoint is deleted or disabled")

// WebhookTarget decodes a delivery event and opens its endpoint's
// secrets, for the dispatcher. Returns ErrWebhookGone for an endpoint
// deleted or disabled, EINVALID for a payload that does not decode.
func (s *Service) WebhookTarget(ctx context.Context, e OutboxEvent) (WebhookTarget, error) {
	var d WebhookDelivery
	if err := json.Unmarshal([]byte(e.Payload), &d); err != nil || d.Webhook == 0 || d.MessageID == "" {
		return WebhookTarget{}, Errorf(EINVALID, "delivery event %d: payload does not decode", e.ID)
	}
	w, err := s.store.Webhook(ctx, d.Webhook)
	if ErrorCode(err) == ENOTFOUND || (err == nil && !w.Active) {
		return WebhookTarget{Webhook: w, Delivery: d}, ErrWebhookGone
	}
	if err != nil {
		return WebhookTarget{}, err
	}
	t := WebhookTarget{Webhook: w, Delivery: d}
	sealed := []string{w.SealedSecret}
	if w.SealedPreviousSecret != "" && w.PreviousSecretUntil != nil && s.now().Before(*w.PreviousSecretUntil) {
		sealed = append(sealed, w.SealedPreviousSecret)
	}
	for _, sv := range sealed {
		secret, err := s.unseal(ctx, sv)
		if err != nil {
			return WebhookTarget{}, err
		}
		key, err := WebhookSigningKey(secret)
		if err != nil {
			return WebhookTarget{}, err
		}
		t.Keys = append(t.Keys, key)
	}
	return t, nil
}

// RecordWebhookAttempt logs an attempt and applies the rule of failing
// endpoints: one that has failed for WebhookDisableAfter without a
// success is disabled, and (with Mail on) its owner is e-mailed, once.
// It reports whether this attempt disabled the endpoint.
func (s *Service) RecordWebhookAttempt(ctx context.Context, a *WebhookAttempt) (bool, error) {
	w, err := s.store.RecordWebhookAttempt(ctx, a)
	if err != nil {
		return false, err
	}
	if a.OK() || !w.Active || w.FailingSince == nil || a.At.Sub(*w.FailingSince) < WebhookDisableAfter {
		return false, nil
	}
	var mail *Event
	if s.Mail && w.CreatedBy != 0 {
		if owner, err := s.accounts().UserByID(ctx, w.CreatedBy); err == nil && owner.Active {
			host := w.URL
			if u, err := url.Parse(w.URL); err == nil {
				host = u.Host
			}
			mail = s.mailEvent("webhook-disabled:"+strconv.FormatInt(w.ID, 10)+":"+w.FailingSince.Format(time.RFC3339), owner.Email,
				"Webhook slået fra / Webhook disabled",
				"Dit webhook-endepunkt hos "+host+" har fejlet i 5 dage og er slået fra. Skift dets hemmelighed under "+s.link("/provider/webhooks")+" for at slå det til igen.\n\n"+
					"Your webhook endpoint at "+host+" has failed for 5 days and is disabled. Rotate its secret at "+s.link("/provider/webhooks")+" to enable it again.\n")
		}
	}
	return s.store.DisableWebhook(ctx, w.ID, a.At, mail)
}
