package web_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// A resident in chromium with a mail server configured: the pledge waits
// for its e-mailed link and shows apart from the counted ones; the link's
// page confirms on its button and the count moves; the manage page stops
// the e-mails and deletes the resident's data.
func TestBrowserConfirmAndDelete(t *testing.T) {
	chromePath(t)
	st, svc, m := MustOpenDemoStore(t, time.Now)
	svc.Mail = true
	srv := httptest.NewServer(web.NewServer(svc, web.Config{PledgeRateLimit: -1, TileURL: ""}, quietLog()))
	t.Cleanup(srv.Close)
	addr := addressWith(t, svc, m, 1, 0)
	ctx := context.Background()
	before, _ := svc.Area(ctx, addr.AreaCode)

	b := newBrowser(t, srv.URL, 1280, 900)
	b.open("/address?id=" + addr.ID)
	b.do("fill the form",
		chromedp.SendKeys(chromedp.CSS("#name"), "Test Beboer"),
		chromedp.SendKeys(chromedp.CSS("#email"), "test.beboer@example.dk"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS("#pledge-submit")))
	b.waitPage("send the pledge", "#unconfirmed")
	if got := b.text("#unconfirmed"); !strings.Contains(got, "ikke bekræftet") {
		t.Errorf("receipt says %q; want that the pledge is not confirmed", got)
	}
	if got := b.pledged(addr.AreaCode); got != before.PledgedUnits {
		t.Errorf("receipt counts %d pledged; want %d (the pledge waits)", got, before.PledgedUnits)
	}
	if got := b.text("#area-" + addr.AreaCode + " .unconfirmed"); !strings.Contains(got, "afventer bekræftelse") {
		t.Errorf("progress shows %q; want the unconfirmed pledge apart", got)
	}

	evs, err := st.OutboxEvents(ctx, pledge.EventMail)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d e-mails (%v)", len(evs), err)
	}
	var msg pledge.MailMessage
	json.Unmarshal([]byte(evs[0].Payload), &msg)
	link := regexp.MustCompile(`/confirm/[A-Za-z0-9_-]+`).FindString(msg.Text)
	if link == "" || msg.Subject != "Bekræft din tilmelding til fibernet" {
		t.Fatalf("confirmation e-mail %q: %q", msg.Subject, msg.Text)
	}
	b.open(link)
	b.waitPage("open the link", "#confirm-submit")
	b.do("confirm", chromedp.Click(chromedp.CSS("#confirm-submit")))
	b.waitPage("confirm", "#notice")
	if got := b.text("#notice"); !strings.Contains(got, "bekræftet") {
		t.Errorf("after confirming: %q", got)
	}
	if got := b.pledged(addr.AreaCode); got != before.PledgedUnits+1 {
		t.Errorf("after confirming %d pledged; want %d", got, before.PledgedUnits+1)
	}
	if got := b.text("#lapse-rules"); !strings.Contains(got, "14 dage") {
		t.Errorf("lapse rules %q; want the 14 days", got)
	}

	b.do("stop the e-mails", chromedp.Click(chromedp.CSS("#notices-submit")))
	// The page before had a notice too: wait for what only the next has.
	b.waitPage("stop the e-mails", `#notices-form input[value="on"]`)
	if got := b.text("#notices-state"); !strings.Contains(got, "slået e-mails om området fra") {
		t.Errorf("notices state %q", got)
	}
	b.do("delete my data", chromedp.Click(chromedp.CSS("#delete-submit")))
	b.waitPage("delete my data", "#withdrawn")
	if got := b.text("#notice"); !strings.Contains(got, "slettet") {
		t.Errorf("after deleting: %q", got)
	}
	if got := b.pledged(addr.AreaCode); got != before.PledgedUnits {
		t.Errorf("after deleting %d pledged; want %d", got, before.PledgedUnits)
	}
}
