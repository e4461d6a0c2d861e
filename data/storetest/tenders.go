package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunTenders runs the conformance suite of the tender lifecycle and bids
// (pledge.TenderStore, through the Service) against stores made by open.
func RunTenders(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *tenderEnv)
	}{
		{"Lifecycle", testTenderLifecycle},
		{"DeadlineRules", testTenderDeadlines},
		{"Permissions", testTenderPermissions},
		{"BidsPrivateToCompany", testBidsPrivate},
		{"AttachmentIsPDF", testBidAttachment},
		{"OneStandingBidPerCompany", testConcurrentBids},
		{"MoveBack", testMoveBack},
		{"BidPrices", testBidPrices},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			clk := &clock{t: Now}
			e := &tenderEnv{accountEnv: accountEnv{st: st, clock: clk, svc: newService(st, clk.Now)}}
			e.setup(t)
			tc.fn(t, e)
		})
	}
}

type tenderEnv struct {
	accountEnv
	coord, other, admin, provA, provA2, provB context.Context
	pledged                                   pledge.Pledge
}

// user makes an account through an invitation and returns its context.
func (e *tenderEnv) user(t *testing.T, email string, role pledge.Role, company string, areas ...string) context.Context {
	t.Helper()
	_, link, err := e.svc.Invite(cliContext(), pledge.InviteRequest{Email: email, Name: "T", Role: role, Areas: areas, Provider: company})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := strings.Cut(link, "/invitations/")
	u, err := e.svc.AcceptInvitation(context.Background(), secret, goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	return pledge.WithUser(context.Background(), &u)
}

// setup imports the fixture and makes V reach its threshold with one
// pledge (one address of 2 units, threshold 50 %).
func (e *tenderEnv) setup(t *testing.T) {
	mustImport(t, e.svc)
	p, _, err := e.svc.CreatePledge(context.Background(), req("v1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	e.pledged = p
	if v := areaByCode(t, e.svc, "V"); v.Status != pledge.StatusThresholdReached {
		t.Fatalf("V is %s, want threshold_reached", v.Status)
	}
	e.coord = e.user(t, "coord@example.org", pledge.RoleCoordinator, "", "V")
	e.other = e.user(t, "other@example.org", pledge.RoleCoordinator, "", "A")
	e.admin = e.user(t, "admin@example.org", pledge.RoleAdmin, "")
	e.provA = e.user(t, "a@fiber-a.example", pledge.RoleProvider, "Fiber A/S")
	e.provA2 = e.user(t, "a2@fiber-a.example", pledge.RoleProvider, "Fiber A/S")
	e.provB = e.user(t, "b@net-b.example", pledge.RoleProvider, "Net B ApS")
}

func (e *tenderEnv) open(t *testing.T, days int) pledge.Tender {
	t.Helper()
	a, tn, err := e.svc.OpenTender(e.coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, days), Association: "Vesterby Borgerforening", Contact: "Bo, 12 34 56 78"})
	if err != nil {
		t.Fatalf("open tender: %v", err)
	}
	if a.Status != pledge.StatusTenderOpen {
		t.Fatalf("status = %s", a.Status)
	}
	return tn
}

func bidReq(price int64) pledge.BidRequest {
	return pledge.BidRequest{PricePerConnection: price, HouseholdContribution: 500000, TimelineMonths: 18, OpenAccess: true, Notes: "Plov og rør"}
}

func (e *tenderEnv) bid(t *testing.T, ctx context.Context, price int64) pledge.Bid {
	t.Helper()
	b, err := e.svc.SubmitBid(ctx, "V", bidReq(price))
	if err != nil {
		t.Fatalf("bid: %v", err)
	}
	return b
}

func (e *tenderEnv) kinds(t *testing.T) []string {
	t.Helper()
	evs, err := e.st.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind)
	}
	return out
}

func (e *tenderEnv) lastEvent(t *testing.T, kind string) map[string]any {
	t.Helper()
	evs, _ := e.st.Events(context.Background())
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == kind {
			var m map[string]any
			if err := json.Unmarshal([]byte(evs[i].Payload), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s event", kind)
	return nil
}

func testTenderLifecycle(t *testing.T, e *tenderEnv) {
	e.svc.Mail = true
	tn := e.open(t, 21)
	if tn.Round != 1 || tn.Association != "Vesterby Borgerforening" || !tn.Deadline.Equal(time.Date(2026, 12, 18, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("tender = %+v", tn)
	}
	if p := e.lastEvent(t, pledge.EventTenderOpened); p["area_code"] != "V" || p["deadline"] != "2026-12-18" || p["status"] != "tender_open" {
		t.Errorf("tender.opened payload = %v", p)
	}
	a := e.bid(t, e.provA, 3000000)
	b := e.bid(t, e.provB, 2800000)
	if _, err := e.svc.ChangeBid(e.provA, a.ID, bidReq(2700000)); err != nil {
		t.Fatal(err)
	}
	revs, err := e.svc.BidRevisions(e.provA, a.ID)
	if err != nil || len(revs) != 2 || revs[0].PricePerConnection != 3000000 || revs[1].PricePerConnection != 2700000 {
		t.Fatalf("revisions = %+v, %v", revs, err)
	}
	// Pledges are binding from tender_open on.
	if _, err := e.svc.WithdrawPledge(context.Background(), e.pledged.Token); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("withdraw in a tender: %v, want ECONFLICT", err)
	}
	// Not before the deadline.
	if _, _, err := e.svc.AwardTender(e.coord, "V", b.ID, "lowest price"); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("award before the deadline: %v", err)
	}
	// The deadline day is the last day of bids.
	e.clock.Add(21*24*time.Hour + 11*time.Hour)
	if _, err := e.svc.ChangeBid(e.provB, b.ID, bidReq(2600000)); err != nil {
		t.Errorf("change on the deadline day: %v", err)
	}
	e.clock.Add(time.Hour)
	if _, err := e.svc.ChangeBid(e.provB, b.ID, bidReq(2500000)); pledge.ErrorReason(err) != pledge.ReasonBidsClosed {
		t.Errorf("change after the deadline: %v", err)
	}
	if _, err := e.svc.SubmitBid(e.provA2, "V", bidReq(1)); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("bid after the deadline: %v", err)
	}
	if _, _, err := e.svc.AwardTender(e.coord, "V", b.ID, " "); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("award without a reason: %v", err)
	}
	area, tn, err := e.svc.AwardTender(e.coord, "V", b.ID, "lowest price, open access")
	if err != nil {
		t.Fatal(err)
	}
	if area.Status != pledge.StatusAwarded || tn.AwardedBid != b.ID || tn.AwardReason != "lowest price, open access" {
		t.Errorf("after award: %s %+v", area.Status, tn)
	}
	if v := areaByCode(t, e.svc, "V"); v.PledgedUnits != 1 || v.Status != pledge.StatusAwarded {
		t.Errorf("V after award: %+v", v)
	}
	mine, err := e.svc.Bids(e.provA, "V")
	if err != nil || len(mine.Bids) != 1 || mine.Bids[0].Status != pledge.BidLost || mine.Prices != nil {
		t.Errorf("provider A's view after award: %+v %v", mine, err)
	}
	won, _ := e.svc.Bid(e.provB, b.ID)
	if won.Status != pledge.BidWon {
		t.Errorf("winner's bid is %s", won.Status)
	}
	if p := e.lastEvent(t, pledge.EventTenderAwarded); p["provider"] != "Net B ApS" || p["status"] != "awarded" {
		t.Errorf("tender.awarded payload = %v", p)
	}
	// Every bidder is told: one mail each.
	mails, _ := e.st.OutboxEvents(context.Background(), pledge.EventMail)
	var to []string
	for _, m := range mails {
		var msg pledge.MailMessage
		json.Unmarshal([]byte(m.Payload), &msg)
		if strings.Contains(msg.Subject, "Tender Vesterby") {
			to = append(to, msg.To)
		}
	}
	if strings.Join(to, " ") != "a@fiber-a.example b@net-b.example" && strings.Join(to, " ") != "b@net-b.example a@fiber-a.example" {
		t.Errorf("award mails to %v", to)
	}
	entries, _ := e.st.Audit(context.Background(), pledge.AuditFilter{})
	var actions []string
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "tender.") || strings.HasPrefix(en.Action, "bid.") {
			actions = append(actions, en.Action)
		}
	}
	if got := strings.Join(actions, " "); got != "tender.award bid.change bid.change bid.submit bid.submit tender.open" {
		t.Errorf("audit = %s", got)
	}
	// Awarded: no second award, then built.
	if _, _, err := e.svc.AwardTender(e.coord, "V", b.ID, "again"); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("second award: %v", err)
	}
	if a, err := e.svc.MarkBuilt(e.coord, "V"); err != nil || a.Status != pledge.StatusBuilt {
		t.Errorf("built: %v %v", a.Status, err)
	}
}

func testTenderDeadlines(t *testing.T, e *tenderEnv) {
	if _, _, err := e.svc.OpenTender(e.coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 20)}); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("20 days: %v, want EINVALID", err)
	}
	if v := areaByCode(t, e.svc, "V"); v.Status != pledge.StatusThresholdReached {
		t.Errorf("a refused opening changed the status to %s", v.Status)
	}
	if _, err := e.st.Tender(context.Background(), "V"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("a refused opening stored a tender: %v", err)
	}
	if _, _, err := e.svc.OpenTender(e.coord, "A", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 30)}); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("another area's coordinator: %v", err)
	}
	if _, _, err := e.svc.OpenTender(e.other, "A", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 30)}); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("an area below its threshold: %v", err)
	}
	e.open(t, 25)
	if _, _, err := e.svc.OpenTender(e.coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 24)}); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("shortened: %v", err)
	}
	before := len(e.kinds(t))
	if _, tn, err := e.svc.OpenTender(e.coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 25)}); err != nil || tn.Round != 1 {
		t.Errorf("the same deadline again: %v %+v", err, tn)
	}
	if len(e.kinds(t)) != before {
		t.Error("an unchanged deadline recorded an event")
	}
	_, tn, err := e.svc.OpenTender(e.coord, "V", pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 40)})
	if err != nil || !tn.Deadline.Equal(time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC)) || tn.Association != "Vesterby Borgerforening" {
		t.Fatalf("extended: %+v %v", tn, err)
	}
	if p := e.lastEvent(t, pledge.EventTenderDeadlineChanged); p["old_deadline"] != "2026-12-22" || p["deadline"] != "2027-01-06" {
		t.Errorf("deadline_changed payload = %v", p)
	}
	// The status cannot be set around the lifecycle by a coordinator.
	for _, st := range []pledge.AreaStatus{pledge.StatusAwarded, pledge.StatusCollecting, pledge.StatusBuilt} {
		st := st
		if _, err := e.svc.UpdateAreaSettings(e.coord, "V", pledge.AreaSettings{Status: &st}); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Errorf("settings status %s: %v, want EINVALID", st, err)
		}
	}
}

func testTenderPermissions(t *testing.T, e *tenderEnv) {
	d := pledge.TenderRequest{Deadline: Now.AddDate(0, 0, 30)}
	for name, ctx := range map[string]context.Context{"provider": e.provA, "anonymous": context.Background(), "other coordinator": e.other} {
		if _, _, err := e.svc.OpenTender(ctx, "V", d); err == nil {
			t.Errorf("%s opened a tender", name)
		}
	}
	e.open(t, 30)
	if _, err := e.svc.SubmitBid(e.coord, "V", bidReq(1000)); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("coordinator bids: %v", err)
	}
	if _, err := e.svc.SubmitBid(context.Background(), "V", bidReq(1000)); pledge.ErrorCode(err) != pledge.EUNAUTHORIZED {
		t.Errorf("anonymous bids: %v", err)
	}
	if _, err := e.svc.Bids(e.other, "V"); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("another area's coordinator lists bids: %v", err)
	}
	if _, err := e.svc.MoveAreaBack(e.coord, "V", pledge.StatusThresholdReached, "why"); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("coordinator moves back: %v", err)
	}
	list, err := e.svc.Tenders(e.provA)
	if err != nil || len(list) != 1 || list[0].Area.Code != "V" || list[0].Tender == nil {
		t.Errorf("tenders for a provider: %+v %v", list, err)
	}
	if _, err := e.svc.Tenders(e.coord); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("tenders for a coordinator: %v", err)
	}
}

func testBidsPrivate(t *testing.T, e *tenderEnv) {
	e.open(t, 30)
	a := e.bid(t, e.provA, 3000000)
	b := e.bid(t, e.provB, 2800000)
	// A colleague of the same company sees and changes it.
	if _, err := e.svc.ChangeBid(e.provA2, a.ID, bidReq(2900000)); err != nil {
		t.Errorf("colleague changes: %v", err)
	}
	if _, err := e.svc.Bid(e.provA, b.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("another company's bid: %v, want ENOTFOUND", err)
	}
	if _, err := e.svc.BidRevisions(e.provA, b.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("another company's revisions: %v", err)
	}
	if _, err := e.svc.ChangeBid(e.provA, b.ID, bidReq(1)); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("change another company's bid: %v", err)
	}
	if _, err := e.svc.WithdrawBid(e.provA, b.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("withdraw another company's bid: %v", err)
	}
	v, err := e.svc.Bids(e.provA, "V")
	if err != nil || len(v.Bids) != 1 || v.Bids[0].ID != a.ID {
		t.Errorf("provider A lists %+v, %v", v.Bids, err)
	}
	all, err := e.svc.Bids(e.coord, "V")
	if err != nil || len(all.Bids) != 2 || len(all.Prices) != 2 {
		t.Errorf("coordinator lists %d bids, %d prices: %v", len(all.Bids), len(all.Prices), err)
	}
	if w, err := e.svc.WithdrawBid(e.provA, a.ID); err != nil || w.Status != pledge.BidWithdrawn {
		t.Errorf("withdraw: %+v %v", w, err)
	}
	// Withdrawn, the company may bid again.
	e.bid(t, e.provA, 3100000)
}

// minimalPDF is a tiny valid PDF.
var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func testBidAttachment(t *testing.T, e *tenderEnv) {
	e.open(t, 30)
	r := bidReq(3000000)
	r.Attachment, r.AttachmentName = []byte("MZ\x90\x00 this is an executable %%EOF"), "offer.pdf"
	if _, err := e.svc.SubmitBid(e.provA, "V", r); pledge.ErrorReason(err) != pledge.ReasonNotPDF {
		t.Fatalf("a disguised non-PDF: %v", err)
	}
	if v, _ := e.svc.Bids(e.coord, "V"); len(v.Bids) != 0 {
		t.Errorf("a refused bid stored %d bids", len(v.Bids))
	}
	r.Attachment = append([]byte(nil), minimalPDF...)
	b, err := e.svc.SubmitBid(e.provA, "V", r)
	if err != nil || b.Attachment == nil || b.Attachment.Name != "offer.pdf" {
		t.Fatalf("PDF bid: %+v %v", b, err)
	}
	info, data, err := e.svc.BidAttachment(e.coord, b.ID)
	if err != nil || !bytes.Equal(data, minimalPDF) || info.Size != len(minimalPDF) {
		t.Fatalf("attachment read back: %v, %d bytes", err, len(data))
	}
	// A change without a file keeps it; the provider of another company
	// cannot read it.
	if c, err := e.svc.ChangeBid(e.provA, b.ID, bidReq(2900000)); err != nil || c.Attachment == nil || c.Attachment.SHA256 != info.SHA256 {
		t.Errorf("change keeps the attachment: %+v %v", c.Attachment, err)
	}
	if _, data, _ := e.svc.BidAttachment(e.provA, b.ID); !bytes.Equal(data, minimalPDF) {
		t.Error("the bidder cannot read its attachment after a change")
	}
	if _, _, err := e.svc.BidAttachment(e.provB, b.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("another company reads the attachment: %v", err)
	}
	big := bidReq(1)
	big.Attachment = append(append([]byte(nil), minimalPDF...), make([]byte, pledge.MaxBidAttachment)...)
	if _, err := e.svc.ChangeBid(e.provA, b.ID, big); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("an 10 MB+ attachment: %v", err)
	}
	if cur, _ := e.svc.Bid(e.provA, b.ID); cur.Revision != 2 || cur.PricePerConnection != 2900000 {
		t.Errorf("a refused change changed the bid: %+v", cur)
	}
}

func testConcurrentBids(t *testing.T, e *tenderEnv) {
	e.open(t, 30)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx := e.provA
			if i%2 == 1 {
				ctx = e.provA2
			}
			_, errs[i] = e.svc.SubmitBid(ctx, "V", bidReq(int64(1000000+i)))
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case pledge.ErrorCode(err) != pledge.ECONFLICT && pledge.ErrorCode(err) != pledge.EUNAVAILABLE:
			t.Errorf("concurrent bid: %v", err)
		}
	}
	if v, _ := e.svc.Bids(e.coord, "V"); ok != 1 || len(v.Bids) != 1 {
		t.Errorf("%d bids succeeded, %d stored; want 1", ok, len(v.Bids))
	}
}

func testMoveBack(t *testing.T, e *tenderEnv) {
	e.open(t, 21)
	a := e.bid(t, e.provA, 3000000)
	b := e.bid(t, e.provB, 2800000)
	e.clock.Add(23 * 24 * time.Hour)
	if _, _, err := e.svc.AwardTender(e.coord, "V", a.ID, "best timeline"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MoveAreaBack(e.admin, "V", pledge.StatusTenderOpen, ""); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("no reason: %v", err)
	}
	if _, err := e.svc.MoveAreaBack(e.admin, "V", pledge.StatusBuilt, "x"); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("forward: %v", err)
	}
	area, err := e.svc.MoveAreaBack(e.admin, "V", pledge.StatusTenderOpen, "the winner withdrew")
	if err != nil || area.Status != pledge.StatusTenderOpen {
		t.Fatalf("back to tender_open: %v %v", area.Status, err)
	}
	for _, id := range []int64{a.ID, b.ID} {
		if x, _ := e.svc.Bid(e.coord, id); x.Status != pledge.BidSubmitted {
			t.Errorf("bid %d is %s after the award was undone", id, x.Status)
		}
	}
	if tn, _ := e.svc.Tender(e.coord, "V"); tn.AwardedBid != 0 {
		t.Errorf("award kept: %+v", tn)
	}
	if _, _, err := e.svc.AwardTender(e.coord, "V", b.ID, "second best"); err != nil {
		t.Fatalf("award again: %v", err)
	}
	if _, err := e.svc.MoveAreaBack(e.admin, "V", pledge.StatusThresholdReached, "re-tender with a new design"); err != nil {
		t.Fatal(err)
	}
	if x, _ := e.svc.Bid(e.coord, a.ID); x.Status != pledge.BidCancelled {
		t.Errorf("bid after the tender closed: %s", x.Status)
	}
	tn := e.open(t, 60)
	if tn.Round != 2 {
		t.Errorf("round = %d, want 2", tn.Round)
	}
	if v, _ := e.svc.Bids(e.coord, "V"); len(v.Bids) != 0 {
		t.Errorf("a new round shows %d old bids", len(v.Bids))
	}
	e.bid(t, e.provA, 2900000)
	if v := areaByCode(t, e.svc, "V"); v.PledgedUnits != 1 {
		t.Errorf("pledges moved: %+v", v)
	}
	if p := e.lastEvent(t, pledge.EventAreaMovedBack); p["from"] != "awarded" || p["to"] != "threshold_reached" {
		t.Errorf("moved_back payload = %v", p)
	}
}

func testBidPrices(t *testing.T, e *tenderEnv) {
	e.open(t, 30)
	cheap := e.bid(t, e.provA, 2000000)
	dear := e.bid(t, e.provB, 4000000)
	v, err := e.svc.Bids(e.admin, "V")
	if err != nil {
		t.Fatal(err)
	}
	pc, pd := v.Prices[cheap.ID], v.Prices[dear.ID]
	if pc.Units != 1 || pc.BuildCost != 2000000 || pd.BuildCost != 4000000 {
		t.Errorf("prices = %+v / %+v", pc, pd)
	}
	// The same funding layers apply to both: the dearer bid costs the
	// household more, never less than the bid's own contribution.
	if pc.HouseholdShare < 500000 || pd.HouseholdShare <= pc.HouseholdShare {
		t.Errorf("household shares %d, %d", pc.HouseholdShare, pd.HouseholdShare)
	}
	s := pd.Split
	if s.ProviderContribution+s.MunicipalTopUp+s.StateSubsidy+s.CommunityFund+s.HouseholdsPay+s.Shortfall != s.BuildCost {
		t.Errorf("split does not add up: %+v", s)
	}
}
