package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/pledge"
)

// TestBrowserInviteCoordinator: an admin signs in and invites a
// coordinator of one area from /admin/users; the coordinator opens the
// link in their own browser, chooses a password, signs in, and sees their
// area's pledges with contact details, but not another area's.
func TestBrowserInviteCoordinator(t *testing.T) {
	srv, svc, _ := startServer(t, nil)
	admin := mustUser(t, svc, pledge.InviteRequest{Email: "admin@kommune.example", Name: "Ada Admin", Role: pledge.RoleAdmin})
	// A pledge in each area, so there is contact data to see or not.
	ctx := context.Background()
	names := map[string]string{}
	for _, code := range []string{"D002", "D003"} {
		as, err := svc.AreaAddresses(ctx, code, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.PledgedUnits < a.Units {
				name := "Resident of " + code
				if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: a.ID, Name: name, Email: strings.ToLower(code) + "@example.dk", Consent: true}, ""); err != nil {
					t.Fatal(err)
				}
				names[code] = name
				break
			}
		}
	}

	// The admin's browser, phone-sized.
	b := newBrowser(t, srv.URL, 390, 844)
	b.open("/login")
	b.waitPage("login page", "#login-form")
	b.do("sign in as admin",
		chromedp.SendKeys("#email", admin.Email), chromedp.SendKeys("#password", authzPassword),
		chromedp.Click("#login-submit"))
	b.waitPage("account", "#me-email")
	if got := b.text("#me-email"); got != admin.Email {
		t.Fatalf("signed in as %q", got)
	}
	b.open("/admin/users")
	b.waitPage("users", "#invite-user-form")
	b.do("invite a coordinator of D002",
		chromedp.SendKeys("#invite-email", "bo@forening.example"), chromedp.SendKeys("#invite-name", "Bo Bestyrelse"),
		chromedp.SetValue("#invite-role", "coordinator"), chromedp.SendKeys("#invite-areas", "D002"),
		chromedp.Click("#invite-user-submit"))
	b.waitPage("invited", "#invite-link")
	link := b.eval(`document.querySelector("#invite-link").getAttribute("href")`)
	if !strings.Contains(link, "/invitations/") {
		t.Fatalf("invitation link %q", link)
	}
	b.screenshot("admin-invited")
	if body := b.eval(`document.body.innerText`); strings.Contains(body, "\u27e6") {
		t.Errorf("the users page has a text missing from the catalogue: %q", body)
	}

	// The coordinator's own browser.
	c := newBrowser(t, srv.URL, 390, 844)
	c.open(strings.TrimPrefix(link, srv.URL))
	c.waitPage("invitation", "#invite-form")
	if txt := c.text("#invite-text"); !strings.Contains(txt, "bo@forening.example") {
		t.Errorf("invitation text %q", txt)
	}
	const pw = "en lang og god adgangskode"
	c.do("choose a password", chromedp.SendKeys("#password", pw), chromedp.SendKeys("#password2", pw), chromedp.Click("#invite-submit"))
	c.waitPage("login after invitation", "#login-form")
	c.do("sign in", chromedp.SendKeys("#email", "bo@forening.example"), chromedp.SendKeys("#password", pw), chromedp.Click("#login-submit"))
	c.waitPage("account", "#my-areas")
	c.do("open the area's pledges", chromedp.Click(`#my-areas a`))
	c.waitPage("pledges", "#pledges")
	c.screenshot("coordinator-pledges")
	if body := c.eval(`document.body.innerText`); strings.Contains(body, "\u27e6") {
		t.Errorf("the pledges page has a text missing from the catalogue: %q", body)
	}
	if body := c.text("#pledges"); !strings.Contains(body, names["D002"]) || !strings.Contains(body, "d002@example.dk") {
		t.Errorf("the coordinator does not see D002's pledge: %q", body)
	}
	// Another area's pledges are refused, and show no contact data.
	c.open("/coordinator/areas/D003/pledges")
	c.waitPage("another area", "#error-text")
	if body := c.eval(`document.body.innerText`); strings.Contains(body, names["D003"]) || strings.Contains(body, "d003@example.dk") {
		t.Errorf("the coordinator of D002 sees D003's pledges")
	}
	// Each view of contact data is in the audit log.
	es, err := svc.Audit(pledge.WithUser(ctx, pledge.SystemUser()), "D002", 10)
	if err != nil {
		t.Fatal(err)
	}
	viewed := false
	for _, e := range es {
		viewed = viewed || e.Action == "pledges.view" && e.Actor == "bo@forening.example"
	}
	if !viewed {
		t.Errorf("no audit entry of the coordinator's view: %+v", es)
	}
}
