package pledge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"time"
)

// BidRequest is a provider's bid as submitted or changed. Amounts are øre.
type BidRequest struct {
	PricePerConnection    int64
	HouseholdContribution int64
	TimelineMonths        int
	OpenAccess            bool
	Notes                 string
	// Attachment is an optional PDF (at most MaxBidAttachment bytes);
	// nil keeps a changed bid's attachment.
	Attachment     []byte
	AttachmentName string
	// RemoveAttachment drops a changed bid's attachment.
	RemoveAttachment bool
}

// maxBidAmount bounds amounts (100 million kr per connection) so sums of
// them cannot overflow.
const maxBidAmount = 100_000_000_00

func (r *BidRequest) check() error {
	if r.PricePerConnection <= 0 || r.PricePerConnection > maxBidAmount {
		return FieldError("price_per_connection", "the price per connection is a positive amount in kroner")
	}
	if r.HouseholdContribution < 0 || r.HouseholdContribution > maxBidAmount {
		return FieldError("household_contribution", "the household contribution is an amount in kroner, 0 or more")
	}
	if r.TimelineMonths < 1 || r.TimelineMonths > 120 {
		return FieldError("timeline_months", "the build timeline is 1 to 120 months")
	}
	notes, err := tenderText("notes", r.Notes, 5000)
	if err != nil {
		return err
	}
	r.Notes = notes
	if r.Attachment != nil {
		if len(r.Attachment) > MaxBidAttachment {
			return Invalid("attachment", ReasonNotPDF, "the attachment is %d bytes; at most 10 MB", len(r.Attachment))
		}
		if !isPDF(r.Attachment) {
			return Invalid("attachment", ReasonNotPDF, "the attachment is not a PDF (whatever its name says)")
		}
		name := path.Base(strings.ReplaceAll(r.AttachmentName, `\`, "/"))
		if name == "." || name == "/" || hasInvisible(name) || len(name) > 200 {
			name = "bid.pdf"
		}
		r.AttachmentName = name
	}
	return nil
}

// isPDF checks a file's bytes: a PDF starts with "%PDF-" (within the first
// KB, as readers allow) and ends with an "%%EOF" marker near its end.
func isPDF(b []byte) bool {
	head := b[:min(len(b), 1024)]
	i := bytes.Index(head, []byte("%PDF-1."))
	if i < 0 {
		i = bytes.Index(head, []byte("%PDF-2."))
	}
	if i < 0 {
		return false
	}
	tail := b[max(0, len(b)-1024):]
	return bytes.Contains(tail, []byte("%%EOF"))
}

// provider is the user in ctx's company, for a provider.
func providerOf(ctx context.Context) (*User, error) {
	u := UserFrom(ctx)
	if u == nil || u.Role != RoleProvider || u.Provider == "" {
		return nil, &Error{Code: EFORBIDDEN, Reason: ReasonForbidden, Message: "only a provider's user bids"}
	}
	return u, nil
}

// bidsOpen is the check a bid change runs on the locked area and tender.
func bidsOpen(code string, now time.Time) func(Area, Tender) error {
	return func(a Area, t Tender) error {
		if a.Status != StatusTenderOpen || t.Round == 0 {
			return &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("area %s is not open for tender (status %s)", code, a.Status)}
		}
		if !t.BidsOpen(now) {
			return &Error{Code: ECONFLICT, Reason: ReasonBidsClosed, Message: fmt.Sprintf("the bid deadline (%s) has passed", t.Deadline.Format(time.DateOnly))}
		}
		return nil
	}
}

// bidView is what the audit log keeps of a bid: no attachment bytes.
func bidView(b Bid) map[string]any {
	m := map[string]any{"status": b.Status, "price_per_connection": b.PricePerConnection, "household_contribution": b.HouseholdContribution,
		"timeline_months": b.TimelineMonths, "open_access": b.OpenAccess, "revision": b.Revision}
	if b.Attachment != nil {
		m["attachment_sha256"] = b.Attachment.SHA256
	}
	return m
}

func (r BidRequest) apply(b *Bid) {
	b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths = r.PricePerConnection, r.HouseholdContribution, r.TimelineMonths
	b.OpenAccess, b.Notes = r.OpenAccess, r.Notes
	if r.Attachment != nil {
		h := sha256.Sum256(r.Attachment)
		b.Attachment = &BidAttachmentInfo{Name: r.AttachmentName, Size: len(r.Attachment), SHA256: hex.EncodeToString(h[:])}
	} else if r.RemoveAttachment {
		b.Attachment = nil
	}
}

// SubmitBid stores the provider's bid for area code's open tender. A
// company has one standing bid per tender: a second is ECONFLICT (change
// the first). Returns ECONFLICT after the deadline, EINVALID for bad
// fields or an attachment that is not a PDF. Needs bids.submit.
func (s *Service) SubmitBid(ctx context.Context, code string, r BidRequest) (Bid, error) {
	if err := s.Can(ctx, ActionBid, code); err != nil {
		return Bid{}, err
	}
	u, err := providerOf(ctx)
	if err != nil {
		return Bid{}, err
	}
	if err := r.check(); err != nil {
		return Bid{}, err
	}
	now := s.now()
	b := Bid{AreaCode: code, Company: u.Provider, UserID: u.ID, Status: BidSubmitted, UpdatedAt: now}
	r.apply(&b)
	open := bidsOpen(code, now)
	e := s.audit(ctx, "bid.submit", code, "bid:new", nil, bidView(b))
	err = s.store.SaveBid(ctx, &b, r.Attachment, func(a Area, t Tender, standing Bid) error {
		if err := open(a, t); err != nil {
			return err
		}
		if standing.ID != 0 {
			return &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("your company has bid already (bid %d): change it with PUT /api/bids/%d", standing.ID, standing.ID)}
		}
		return nil
	}, e)
	return b, err
}

// ChangeBid makes a new revision of the provider's own bid id, before the
// deadline. ENOTFOUND for another company's bid (it is not theirs to
// know of). Needs bids.submit.
func (s *Service) ChangeBid(ctx context.Context, id int64, r BidRequest) (Bid, error) {
	return s.reviseBid(ctx, id, "bid.change", func(b *Bid) error {
		if err := r.check(); err != nil {
			return err
		}
		if b.Status != BidSubmitted {
			return &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("bid %d is %s", b.ID, b.Status)}
		}
		r.apply(b)
		return nil
	}, r.Attachment)
}

// WithdrawBid withdraws the provider's own bid id before the deadline.
// Needs bids.submit.
func (s *Service) WithdrawBid(ctx context.Context, id int64) (Bid, error) {
	return s.reviseBid(ctx, id, "bid.withdraw", func(b *Bid) error {
		if b.Status != BidSubmitted {
			return &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("bid %d is %s", b.ID, b.Status)}
		}
		b.Status = BidWithdrawn
		return nil
	}, nil)
}

func (s *Service) reviseBid(ctx context.Context, id int64, action string, change func(*Bid) error, att []byte) (Bid, error) {
	b, err := s.ownBid(ctx, id)
	if err != nil {
		return Bid{}, err
	}
	if err := s.Can(ctx, ActionBid, b.AreaCode); err != nil {
		return Bid{}, err
	}
	now := s.now()
	old := b
	if err := change(&b); err != nil {
		return Bid{}, err
	}
	b.UserID, b.UpdatedAt = UserFrom(ctx).ID, now
	open := bidsOpen(b.AreaCode, now)
	e := s.audit(ctx, action, b.AreaCode, fmt.Sprintf("bid:%d", id), bidView(old), bidView(b))
	err = s.store.SaveBid(ctx, &b, att, func(a Area, t Tender, cur Bid) error {
		if err := open(a, t); err != nil {
			return err
		}
		if cur.Round != t.Round || cur.Revision != old.Revision || cur.Status != old.Status {
			return &Error{Code: ECONFLICT, Reason: ReasonTenderState, Message: fmt.Sprintf("bid %d changed meanwhile; read it again", id)}
		}
		return nil
	}, e)
	return b, err
}

// ownBid returns bid id if the provider in ctx's company made it;
// ENOTFOUND otherwise, so a provider learns nothing of others' bids.
func (s *Service) ownBid(ctx context.Context, id int64) (Bid, error) {
	u, err := providerOf(ctx)
	if err != nil {
		if err2 := s.Can(ctx, ActionBid, ""); err2 != nil {
			return Bid{}, err2
		}
		return Bid{}, err
	}
	b, err := s.store.Bid(ctx, id)
	if err != nil || b.Company != u.Provider {
		return Bid{}, &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no bid %d of yours", id)}
	}
	return b, nil
}

// BidsView is an area's bids as the user in ctx may see them.
type BidsView struct {
	Tender Tender
	Bids   []Bid
	// Prices is, per bid id, the household price the bid implies under
	// the area's cost rules; only for coordinators and admins.
	Prices map[int64]BidPrice
}

// Bids lists area code's bids of the current tender: all of them, with
// their implied household prices, for the area's coordinators and admins
// (bids.view); a provider's own company's only (tenders.view).
func (s *Service) Bids(ctx context.Context, code string) (BidsView, error) {
	all := s.Can(ctx, ActionViewBids, code) == nil
	company := ""
	if !all {
		if err := s.Can(ctx, ActionViewTenders, code); err != nil {
			return BidsView{}, err
		}
		u, err := providerOf(ctx)
		if err != nil {
			return BidsView{}, err
		}
		company = u.Provider
	}
	t, err := s.store.Tender(ctx, code)
	if ErrorCode(err) == ENOTFOUND {
		if _, err := s.store.Area(ctx, code); err != nil {
			return BidsView{}, err
		}
		return BidsView{Bids: []Bid{}}, nil
	}
	if err != nil {
		return BidsView{}, err
	}
	bids, err := s.store.Bids(ctx, code, t.Round, company)
	if err != nil {
		return BidsView{}, err
	}
	v := BidsView{Tender: t, Bids: bids}
	if all {
		if v.Prices, err = s.bidPrices(ctx, code, bids); err != nil {
			return BidsView{}, err
		}
	}
	return v, nil
}

// Bid returns one bid: to its own company, or to whoever may see all of
// its area's bids. ENOTFOUND otherwise.
func (s *Service) Bid(ctx context.Context, id int64) (Bid, error) {
	if u := UserFrom(ctx); u == nil || !u.Active {
		return Bid{}, &Error{Code: EUNAUTHORIZED, Reason: ReasonSignInRequired, Message: "sign in first"}
	}
	if UserFrom(ctx).Role == RoleProvider {
		return s.ownBid(ctx, id)
	}
	b, err := s.store.Bid(ctx, id)
	if err != nil {
		return Bid{}, err
	}
	if err := s.Can(ctx, ActionViewBids, b.AreaCode); err != nil {
		if ErrorCode(err) == EFORBIDDEN {
			return Bid{}, &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no bid %d", id)}
		}
		return Bid{}, err
	}
	return b, nil
}

// BidRevisions lists every revision of bid id, for whoever may see it.
func (s *Service) BidRevisions(ctx context.Context, id int64) ([]Bid, error) {
	if _, err := s.Bid(ctx, id); err != nil {
		return nil, err
	}
	return s.store.BidRevisions(ctx, id)
}

// BidAttachment returns bid id's PDF and its details, for whoever may see
// the bid. ENOTFOUND when it has none.
func (s *Service) BidAttachment(ctx context.Context, id int64) (BidAttachmentInfo, []byte, error) {
	b, err := s.Bid(ctx, id)
	if err != nil {
		return BidAttachmentInfo{}, nil, err
	}
	if b.Attachment == nil {
		return BidAttachmentInfo{}, nil, &Error{Code: ENOTFOUND, Message: fmt.Sprintf("bid %d has no attachment", id)}
	}
	data, err := s.store.BidAttachment(ctx, id)
	return *b.Attachment, data, err
}

// BidPrice is what a bid means for the households under the area's cost
// rules: the bid's price for the pledged connections, less the same
// funding layers (municipal top-up, state subsidy, community fund) as the
// area's estimate, split by the area's rule, with the bid's household
// contribution as the minimum own payment when it is higher.
type BidPrice struct {
	Units          int   // connections priced: the pledged units
	BuildCost      int64 // price per connection times units
	HouseholdShare int64 // what a typical household pays
	Split          CostSplit
}

func (s *Service) bidPrices(ctx context.Context, code string, bids []Bid) (map[int64]BidPrice, error) {
	out := map[int64]BidPrice{}
	if len(bids) == 0 {
		return out, nil
	}
	m, err := s.costModel(ctx, code, nil, 0)
	if err != nil {
		return nil, err
	}
	units := m.pledged
	if units == 0 {
		// Nothing pledged (an area moved back and forth): price the
		// threshold's households.
		if units, err = m.ThresholdUnits(); err != nil || units == 0 {
			units = max(1, m.units)
		}
	}
	for _, b := range bids {
		p := m.params
		p.TrenchPerM, p.DropPerM, p.Fixed = 0, 0, 0
		p.PerConnection = b.PricePerConnection
		p.ProviderContribution = 0
		p.MinOwnPayment = max(p.MinOwnPayment, b.HouseholdContribution)
		if p.Split == SplitCapped && p.HouseholdCap < p.MinOwnPayment {
			p.HouseholdCap = p.MinOwnPayment
		}
		split, err := SplitCost(p, 0, []Connection{{AddressID: "all", Units: units}})
		if err != nil {
			return nil, err
		}
		out[b.ID] = BidPrice{Units: units, BuildCost: split.BuildCost, HouseholdShare: split.HouseholdShare(), Split: split}
	}
	return out, nil
}
