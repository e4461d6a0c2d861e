package web_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// The authorization matrix: every route of the router (gin's own list) is
// tried as each kind of caller, and must answer the status in the table.
// A route missing from the table fails the test, so no new route can be
// added without deciding who may use it.

// The callers, in the order of the statuses in authzTable.
var callers = []string{"anonymous", "resident", "provider", "coordinatorA", "coordinatorB", "admin"}

// authzCase is how one route is called and what each caller must get.
type authzCase struct {
	path   string // the concrete path (and query), with {token} for a manage token
	body   string // a JSON body, or a form (form is true)
	form   bool
	status [6]int
}

// The area codes: coordinatorA coordinates areaA, coordinatorB areaB.
const (
	areaA = "D001" // threshold reached: providers may download its package
	areaB = "D002"
)

var (
	all200  = [6]int{200, 200, 200, 200, 200, 200}
	signed  = [6]int{401, 401, 200, 200, 200, 200}
	page303 = [6]int{303, 303, 200, 200, 200, 200}
)

func same(n int) [6]int { return [6]int{n, n, n, n, n, n} }

var authzTable = map[string]authzCase{
	"GET /healthz":                                {path: "/healthz", status: all200},
	"GET /livez":                                  {path: "/livez", status: all200},
	"GET /api/areas":                              {path: "/api/areas", status: all200},
	"GET /api/areas.geojson":                      {path: "/api/areas.geojson", status: all200},
	"GET /api/areas/:code":                        {path: "/api/areas/" + areaA, status: all200},
	"PATCH /api/areas/:code":                      {path: "/api/areas/" + areaA, body: `{}`, status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/areas/:code/addresses":              {path: "/api/areas/" + areaA + "/addresses", status: all200},
	"GET /api/areas/:code/cost":                   {path: "/api/areas/" + areaA + "/cost", status: all200},
	"GET /api/areas/:code/cost/curve":             {path: "/api/areas/" + areaA + "/cost/curve", status: all200},
	"GET /api/areas/:code/route.geojson":          {path: "/api/areas/" + areaA + "/route.geojson", status: all200},
	"GET /api/areas/:code/tender.zip":             {path: "/api/areas/" + areaA + "/tender.zip", status: [6]int{401, 401, 200, 200, 403, 200}},
	"GET /api/tenders":                            {path: "/api/tenders", status: [6]int{401, 401, 200, 403, 403, 200}},
	"POST /api/areas/:code/tender":                {path: "/api/areas/" + areaA + "/tender", body: `{"deadline":"2020-01-01"}`, status: [6]int{401, 401, 403, 400, 403, 400}},
	"POST /api/areas/:code/award":                 {path: "/api/areas/" + areaA + "/award", body: `{"bid_id":1,"reason":"x"}`, status: [6]int{401, 401, 403, 409, 403, 409}},
	"POST /api/areas/:code/move-back":             {path: "/api/areas/" + areaA + "/move-back", body: `{"to":"built","reason":"x"}`, status: [6]int{401, 401, 403, 403, 403, 400}},
	"POST /api/areas/:code/built":                 {path: "/api/areas/" + areaA + "/built", status: [6]int{401, 401, 403, 409, 403, 409}},
	"GET /api/areas/:code/bids":                   {path: "/api/areas/" + areaA + "/bids", status: [6]int{401, 401, 200, 200, 403, 200}},
	"POST /api/areas/:code/bids":                  {path: "/api/areas/" + areaA + "/bids", body: `{}`, status: [6]int{401, 401, 400, 403, 403, 403}},
	"GET /api/bids/:id":                           {path: "/api/bids/999999", status: [6]int{401, 401, 404, 404, 404, 404}},
	"PUT /api/bids/:id":                           {path: "/api/bids/999999", body: `{}`, status: [6]int{401, 401, 404, 403, 403, 403}},
	"DELETE /api/bids/:id":                        {path: "/api/bids/999999", status: [6]int{401, 401, 404, 403, 403, 403}},
	"GET /api/bids/:id/attachment":                {path: "/api/bids/999999/attachment", status: [6]int{401, 401, 404, 404, 404, 404}},
	"GET /api/areas/:code/export/pledges.csv":     {path: "/api/areas/" + areaA + "/export/pledges.csv", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/areas/:code/export/subsidy.csv":     {path: "/api/areas/" + areaA + "/export/subsidy.csv", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/areas/:code/export/subsidy.pdf":     {path: "/api/areas/" + areaA + "/export/subsidy.pdf", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/areas/:code/export/area.geojson":    {path: "/api/areas/" + areaA + "/export/area.geojson", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/subsidy-rules":                      {path: "/api/subsidy-rules", status: [6]int{401, 401, 403, 200, 200, 200}},
	"POST /api/subsidy-rules":                     {path: "/api/subsidy-rules", body: `{"name":"x"}`, status: [6]int{401, 401, 403, 403, 403, 400}},
	"GET /api/areas/:code/pledges":                {path: "/api/areas/" + areaA + "/pledges", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/audit":                              {path: "/api/audit?area=" + areaA, status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/addresses":                          {path: "/api/addresses?q=ba", status: all200},
	"GET /api/addresses/nearest":                  {path: "/api/addresses/nearest?{near}", status: all200},
	"POST /api/pledges":                           {path: "/api/pledges", body: `{}`, status: same(400)},
	"GET /api/pledges/:token":                     {path: "/api/pledges/{token}", status: [6]int{404, 200, 404, 404, 404, 404}},
	"DELETE /api/pledges/:token":                  {path: "/api/pledges/{token}", status: [6]int{404, 200, 404, 404, 404, 404}},
	"POST /api/invitations":                       {path: "/api/invitations", body: `{}`, status: [6]int{401, 401, 403, 403, 403, 400}},
	"GET /api/invitations/:token":                 {path: "/api/invitations/unknownsecret", status: same(404)},
	"POST /api/invitations/:token":                {path: "/api/invitations/unknownsecret", body: `{"password":"x"}`, status: same(404)},
	"GET /api/session":                            {path: "/api/session", status: signed},
	"POST /api/session":                           {path: "/api/session", body: `{"email":"nobody-api@example.dk","password":"wrong"}`, status: same(401)},
	"DELETE /api/session":                         {path: "/api/session", status: same(204)},
	"GET /api/sessions":                           {path: "/api/sessions", status: signed},
	"DELETE /api/sessions/:id":                    {path: "/api/sessions/999999", status: [6]int{401, 401, 404, 404, 404, 404}},
	"GET /api/tokens":                             {path: "/api/tokens", status: signed},
	"POST /api/tokens":                            {path: "/api/tokens", body: `{"name":""}`, status: [6]int{401, 401, 400, 400, 400, 400}},
	"DELETE /api/tokens/:id":                      {path: "/api/tokens/999999", status: [6]int{401, 401, 404, 404, 404, 404}},
	"POST /api/password-resets":                   {path: "/api/password-resets", body: `{"email":"nobody@example.dk"}`, status: same(202)},
	"POST /api/password-resets/:token":            {path: "/api/password-resets/unknownsecret", body: `{"password":"long enough password"}`, status: same(404)},
	"GET /api/users":                              {path: "/api/users", status: [6]int{401, 401, 403, 403, 403, 200}},
	"PATCH /api/users/:id":                        {path: "/api/users/{userB}", body: `{}`, status: [6]int{401, 401, 403, 403, 403, 200}},
	"GET /ogc":                                    {path: "/ogc", status: all200},
	"GET /ogc/api":                                {path: "/ogc/api", status: all200},
	"GET /ogc/conformance":                        {path: "/ogc/conformance", status: all200},
	"GET /ogc/collections":                        {path: "/ogc/collections", status: all200},
	"GET /ogc/collections/:collection":            {path: "/ogc/collections/areas", status: all200},
	"GET /ogc/collections/:collection/items":      {path: "/ogc/collections/areas/items", status: all200},
	"GET /ogc/collections/:collection/items/:fid": {path: "/ogc/collections/areas/items/" + areaA, status: all200},
	"GET /tiles/:layer/:z/:x/:y":                  {path: "/tiles/areas/{tile}.mvt", status: all200},
	"GET /":                                       {path: "/", status: all200},
	"GET /search":                                 {path: "/search?q=ba", status: all200},
	"GET /address":                                {path: "/address?id={address}", status: all200},
	"POST /pledge":                                {path: "/pledge", form: true, status: same(400)},
	"GET /p/:token":                               {path: "/p/{token}", status: [6]int{404, 200, 404, 404, 404, 404}},
	"GET /p/:token/receipt":                       {path: "/p/{token}/receipt", status: [6]int{404, 200, 404, 404, 404, 404}},
	"POST /p/:token/contact":                      {path: "/p/{token}/contact", form: true, status: [6]int{404, 400, 404, 404, 404, 404}},
	"POST /p/:token/power-of-attorney":            {path: "/p/{token}/power-of-attorney", form: true, status: [6]int{404, 303, 404, 404, 404, 404}},
	"POST /p/:token/withdraw":                     {path: "/p/{token}/withdraw", form: true, status: [6]int{404, 303, 404, 404, 404, 404}},
	"GET /static/*filepath":                       {path: "/static/app.js", status: all200},
	"GET /login":                                  {path: "/login", status: all200},
	"POST /login":                                 {path: "/login", form: true, body: "email=nobody-form%40example.dk&password=wrong", status: same(401)},
	"GET /logout":                                 {path: "/logout", status: all200},
	"POST /logout":                                {path: "/logout", form: true, status: same(303)},
	"GET /account":                                {path: "/account", status: page303},
	"POST /account/password":                      {path: "/account/password", form: true, status: [6]int{303, 303, 400, 400, 400, 400}},
	"POST /account/tokens":                        {path: "/account/tokens", form: true, status: [6]int{303, 303, 400, 400, 400, 400}},
	"POST /account/tokens/:id/revoke":             {path: "/account/tokens/999999/revoke", form: true, status: [6]int{303, 303, 404, 404, 404, 404}},
	"POST /account/sessions/:id/revoke":           {path: "/account/sessions/999999/revoke", form: true, status: [6]int{303, 303, 404, 404, 404, 404}},
	"GET /invitations/:token":                     {path: "/invitations/unknownsecret", status: same(404)},
	"POST /invitations/:token":                    {path: "/invitations/unknownsecret", form: true, status: same(404)},
	"GET /reset":                                  {path: "/reset", status: all200},
	"POST /reset":                                 {path: "/reset", form: true, body: "email=nobody%40example.dk", status: all200},
	"GET /reset/:token":                           {path: "/reset/unknownsecret", status: all200},
	"POST /reset/:token":                          {path: "/reset/unknownsecret", form: true, body: "password=long+enough+password&password2=long+enough+password", status: same(404)},
	"GET /admin/users":                            {path: "/admin/users", status: [6]int{303, 303, 403, 403, 403, 200}},
	"POST /admin/users/invite":                    {path: "/admin/users/invite", form: true, status: [6]int{303, 303, 403, 403, 403, 400}},
	"POST /admin/users/:id":                       {path: "/admin/users/{userB}", form: true, body: "role=coordinator&areas=" + areaB + "&active=yes", status: [6]int{303, 303, 403, 403, 403, 303}},
	"GET /provider":                               {path: "/provider", status: [6]int{303, 303, 200, 403, 403, 200}},
	"GET /provider/areas/:code":                   {path: "/provider/areas/" + areaA, status: [6]int{303, 303, 200, 403, 403, 200}},
	"POST /provider/areas/:code/bid":              {path: "/provider/areas/" + areaA + "/bid", form: true, status: [6]int{303, 303, 400, 403, 403, 403}},
	"POST /provider/areas/:code/bid/withdraw":     {path: "/provider/areas/" + areaA + "/bid/withdraw", form: true, status: [6]int{303, 303, 404, 403, 403, 403}},
	"GET /coordinator/areas/:code":                {path: "/coordinator/areas/" + areaA, status: [6]int{303, 303, 403, 200, 403, 200}},
	"GET /coordinator/areas/:code/entry":          {path: "/coordinator/areas/" + areaA + "/entry", status: [6]int{303, 303, 403, 200, 403, 200}},
	"POST /coordinator/areas/:code/entry":         {path: "/coordinator/areas/" + areaA + "/entry", form: true, status: [6]int{303, 303, 403, 400, 403, 400}},
	"POST /api/areas/:code/pledges":               {path: "/api/areas/" + areaA + "/pledges", body: `{}`, status: [6]int{401, 401, 403, 400, 403, 400}},
	"GET /coordinator/areas/:code/tender":         {path: "/coordinator/areas/" + areaA + "/tender", status: [6]int{303, 303, 403, 200, 403, 200}},
	"POST /coordinator/areas/:code/tender":        {path: "/coordinator/areas/" + areaA + "/tender", form: true, status: [6]int{303, 303, 403, 400, 403, 400}},
	"POST /coordinator/areas/:code/award":         {path: "/coordinator/areas/" + areaA + "/award", form: true, status: [6]int{303, 303, 403, 400, 403, 400}},
	"POST /coordinator/areas/:code/built":         {path: "/coordinator/areas/" + areaA + "/built", form: true, status: [6]int{303, 303, 403, 409, 403, 409}},
	"GET /coordinator/areas/:code/pledges":        {path: "/coordinator/areas/" + areaA + "/pledges", status: [6]int{303, 303, 403, 200, 403, 200}},
	// Walk lists: the area's coordinators and admins.
	"GET /api/areas/:code/walks":                  {path: "/api/areas/" + areaA + "/walks?size=40", status: [6]int{401, 401, 403, 200, 403, 200}},
	"POST /api/areas/:code/walks":                 {path: "/api/areas/" + areaA + "/walks", body: `{"size":40}`, status: [6]int{401, 401, 403, 201, 403, 201}},
	"GET /api/areas/:code/walks.pdf":              {path: "/api/areas/" + areaA + "/walks.pdf?size=40", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/areas/:code/walks.csv":              {path: "/api/areas/" + areaA + "/walks.csv", status: [6]int{401, 401, 403, 200, 403, 200}},
	"GET /api/areas/:code/walks/outcomes":         {path: "/api/areas/" + areaA + "/walks/outcomes", status: [6]int{401, 401, 403, 200, 403, 200}},
	"POST /api/areas/:code/walks/outcomes":        {path: "/api/areas/" + areaA + "/walks/outcomes", body: `{"code":"1W1-01","outcome":"maybe"}`, status: [6]int{401, 401, 403, 400, 403, 400}},
	"POST /api/walks/:id/assign":                  {path: "/api/walks/999999/assign", body: `{"volunteer":"Bo"}`, status: [6]int{401, 401, 403, 404, 404, 404}},
	"POST /api/walks/:id/return":                  {path: "/api/walks/999999/return", status: [6]int{401, 401, 403, 404, 404, 404}},
	"GET /coordinator/areas/:code/walks":          {path: "/coordinator/areas/" + areaA + "/walks", status: [6]int{303, 303, 403, 200, 403, 200}},
	"POST /coordinator/areas/:code/walks":         {path: "/coordinator/areas/" + areaA + "/walks", form: true, body: "size=1", status: [6]int{303, 303, 403, 400, 403, 400}},
	"POST /coordinator/areas/:code/walks/outcome": {path: "/coordinator/areas/" + areaA + "/walks/outcome", form: true, body: "code=bad&outcome=visited", status: [6]int{303, 303, 403, 400, 403, 400}},
	"POST /coordinator/walks/:id/assign":          {path: "/coordinator/walks/999999/assign", form: true, body: "volunteer=Bo", status: [6]int{303, 303, 403, 404, 404, 404}},
	"POST /coordinator/walks/:id/return":          {path: "/coordinator/walks/999999/return", form: true, status: [6]int{303, 303, 403, 404, 404, 404}},
	// Webhooks: providers (their company's endpoints; {webhook} is the
	// provider's) and admins. Deleting and replaying name ones that do
	// not exist, so the table can run in any order.
	"POST /api/webhooks":                               {path: "/api/webhooks", body: `{}`, status: [6]int{401, 401, 400, 403, 403, 400}},
	"GET /api/webhooks":                                {path: "/api/webhooks", status: [6]int{401, 401, 200, 403, 403, 200}},
	"DELETE /api/webhooks/:id":                         {path: "/api/webhooks/999999", status: [6]int{401, 401, 404, 403, 403, 404}},
	"POST /api/webhooks/:id/rotate":                    {path: "/api/webhooks/{webhook}/rotate", status: [6]int{401, 401, 200, 403, 403, 200}},
	"GET /api/webhooks/:id/deliveries":                 {path: "/api/webhooks/{webhook}/deliveries", status: [6]int{401, 401, 200, 403, 403, 200}},
	"POST /api/webhooks/:id/deliveries/:n/replay":      {path: "/api/webhooks/{webhook}/deliveries/999999/replay", status: [6]int{401, 401, 404, 403, 403, 404}},
	"GET /provider/webhooks":                           {path: "/provider/webhooks", status: [6]int{303, 303, 200, 403, 403, 200}},
	"POST /provider/webhooks":                          {path: "/provider/webhooks", form: true, status: [6]int{303, 303, 400, 403, 403, 400}},
	"POST /provider/webhooks/:id/delete":               {path: "/provider/webhooks/999999/delete", form: true, status: [6]int{303, 303, 404, 403, 403, 404}},
	"POST /provider/webhooks/:id/rotate":               {path: "/provider/webhooks/{webhook}/rotate", form: true, status: [6]int{303, 303, 200, 403, 403, 200}},
	"POST /provider/webhooks/:id/deliveries/:n/replay": {path: "/provider/webhooks/{webhook}/deliveries/999999/replay", form: true, status: [6]int{303, 303, 404, 403, 403, 404}},
}

// authzFixture is a demo store with one user of each role, each signed in
// from their own client address.
type authzFixture struct {
	t       *testing.T
	svc     *pledge.Service
	srv     *web.Server
	users   map[string]pledge.User
	cookies map[string]string
	addr    pledge.Address
	webhook int64 // the provider's endpoint
}

const authzPassword = "a long enough password for tests"

// mustUser invites and creates a user through the service's own rules.
func mustUser(t *testing.T, svc *pledge.Service, r pledge.InviteRequest) pledge.User {
	t.Helper()
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	_, link, err := svc.Invite(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.AcceptInvitation(ctx, link[strings.LastIndex(link, "/")+1:], authzPassword, r.Name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newAuthzFixture(t *testing.T) *authzFixture {
	svc, m := MustOpenDemoService(t, func() time.Time { return catalogueNow })
	f := &authzFixture{t: t, svc: svc, users: map[string]pledge.User{}, cookies: map[string]string{}}
	f.srv = web.NewServer(svc, web.Config{PledgeRateLimit: -1, TenderPackage: tenderPackageFor(svc), WalkPDF: walkPDF, WalkCSV: walkCSV}, quietLog())
	f.users["provider"] = mustUser(t, svc, pledge.InviteRequest{Email: "bid@fiber.example", Name: "Pia Provider", Role: pledge.RoleProvider, Provider: "Fiber A/S"})
	f.users["coordinatorA"] = mustUser(t, svc, pledge.InviteRequest{Email: "a@forening.example", Name: "Anne A", Role: pledge.RoleCoordinator, Areas: []string{areaA}})
	f.users["coordinatorB"] = mustUser(t, svc, pledge.InviteRequest{Email: "b@forening.example", Name: "Bo B", Role: pledge.RoleCoordinator, Areas: []string{areaB}})
	f.users["admin"] = mustUser(t, svc, pledge.InviteRequest{Email: "admin@kommune.example", Name: "Ada Admin", Role: pledge.RoleAdmin})
	f.addr = addressWith(t, svc, m, 1, 0)
	provider := f.users["provider"]
	w, _, err := svc.RegisterWebhook(pledge.WithUser(context.Background(), &provider), pledge.WebhookRequest{URL: "https://hooks.fiber.example/kommunity", Events: pledge.WebhookEvents})
	if err != nil {
		t.Fatal(err)
	}
	f.webhook = w.ID
	return f
}

// ip is each caller's client address, so rate limits do not mix them.
func callerIP(i int) string { return fmt.Sprintf("198.51.100.%d", 100+i) }

// signIn gives caller a session through the real API, unless the one it
// has still works (a route before may have signed it out). Signing in
// anew for every route would lock the accounts: sign-in is throttled.
func (f *authzFixture) signIn(caller string, i int) {
	f.t.Helper()
	u, ok := f.users[caller]
	if !ok {
		return
	}
	cl := newClient(f.t, f.srv, callerIP(i))
	if v := f.cookies[caller]; v != "" {
		cl.cookies["kommunity_session"] = &http.Cookie{Name: "kommunity_session", Value: v}
		if cl.get("/api/session").Code == http.StatusOK {
			return
		}
		delete(cl.cookies, "kommunity_session")
	}
	w := cl.postJSON("/api/session", `{"email":"`+u.Email+`","password":"`+authzPassword+`"}`)
	if w.Code != 200 {
		f.t.Fatalf("sign in %s: %d %s", caller, w.Code, w.Body)
	}
	f.cookies[caller] = cl.cookies["kommunity_session"].Value
}

// residentToken makes a fresh pledge in an area that takes them and
// returns its manage token.
func (f *authzFixture) residentToken() string {
	f.t.Helper()
	as, _ := f.svc.AreaAddresses(context.Background(), "D003", nil, 0)
	for _, a := range as {
		if a.PledgedUnits < a.Units {
			p, _, err := f.svc.CreatePledge(context.Background(), pledge.PledgeRequest{AddressID: a.ID, Name: "Rita Resident",
				Email: "rita@example.dk", Consent: true}, "")
			if err != nil {
				f.t.Fatal(err)
			}
			return p.Token
		}
	}
	f.t.Fatal("no free unit in D003")
	return ""
}

func (f *authzFixture) call(method string, c authzCase, caller string, i int) *httptest.ResponseRecorder {
	f.t.Helper()
	cl := newClient(f.t, f.srv, callerIP(i))
	if v := f.cookies[caller]; v != "" {
		cl.cookies["kommunity_session"] = &http.Cookie{Name: "kommunity_session", Value: v}
	}
	path := c.path
	token := "notamanagetoken0123456789abcdefghijklmnopq"
	if caller == "resident" && strings.Contains(path, "{token}") {
		token = f.residentToken()
	}
	path = strings.ReplaceAll(path, "{token}", token)
	path = strings.ReplaceAll(path, "{userB}", fmt.Sprint(f.users["coordinatorB"].ID))
	path = strings.ReplaceAll(path, "{webhook}", fmt.Sprint(f.webhook))
	path = strings.ReplaceAll(path, "{address}", url.QueryEscape(f.addr.ID))
	path = strings.ReplaceAll(path, "{near}", fmt.Sprintf("lon=%f&lat=%f", f.addr.Point[0], f.addr.Point[1]))
	path = strings.ReplaceAll(path, "{tile}", tileOf(f.addr.Point[0], f.addr.Point[1], 12))
	var req *http.Request
	switch {
	case c.form:
		// A real browser's form: the CSRF cookie and field from a page.
		page := cl.get("/reset")
		form, _ := url.ParseQuery(c.body)
		form.Set("csrf_token", hidden(page.Body.String()).Get("csrf_token"))
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case c.body != "":
		req = httptest.NewRequest(method, path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
	default:
		req = httptest.NewRequest(method, path, nil)
	}
	return cl.do(req)
}

func TestAuthorizationMatrix(t *testing.T) {
	f := newAuthzFixture(t)
	var routes []string
	for _, r := range f.srv.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	slices.Sort(routes)
	for _, key := range routes {
		c, ok := authzTable[key]
		if !ok {
			t.Errorf("route %s is not in the authorization table: decide who may use it", key)
			continue
		}
		method, _, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			for i, caller := range callers {
				f.t = t
				f.signIn(caller, i)
				w := f.call(method, c, caller, i)
				if w.Code != c.status[i] {
					t.Errorf("%s: %d, want %d: %.200s", caller, w.Code, c.status[i], w.Body)
				}
			}
		})
	}
	for key := range authzTable {
		if !slices.Contains(routes, key) {
			t.Errorf("the table has %s, which the router does not", key)
		}
	}
}

// tileOf is the z/x/y of the web-mercator tile holding lon, lat.
func tileOf(lon, lat float64, z int) string {
	n := math.Exp2(float64(z))
	x := int((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return fmt.Sprintf("%d/%d/%d", z, x, y)
}
