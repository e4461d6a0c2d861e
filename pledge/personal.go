package pledge

import (
	"context"
	"strconv"
	"time"
)

// DefaultRetention is how long contact details stay after an area is
// built or lapsed: a year.
const DefaultRetention = 365 * 24 * time.Hour

// DeleteMyData erases the resident's contact details, found by the manage
// token. While pledges may be withdrawn (until the tender opens) the
// pledge is withdrawn too; once binding it stays, anonymous, so the
// area's count (and the provider's plan) does not change. Returns the
// pledge as it is after, withdrawn true if it was withdrawn, and
// ENOTFOUND for an unknown token.
func (s *Service) DeleteMyData(ctx context.Context, token string) (p Pledge, withdrawn bool, err error) {
	p, err = s.Pledge(ctx, token)
	if err != nil {
		return Pledge{}, false, err
	}
	if p.Status == PledgeActive {
		a, err := s.store.Area(ctx, p.AreaCode)
		if err != nil {
			return Pledge{}, false, err
		}
		if Withdrawable(a) {
			p, err = s.WithdrawPledge(ctx, token)
			if ErrorCode(err) != ECONFLICT { // a tender opened meanwhile: keep it anonymously
				return p, err == nil, err
			}
		}
	}
	p, err = s.store.ErasePledgeContact(ctx, token, s.now())
	return p, false, err
}

// ErasePledgeContact erases the contact details of pledge id in area code
// on the resident's request (by phone, by letter), keeping the pledge
// anonymously. Needs pledges.erase (EUNAUTHORIZED, EFORBIDDEN); the
// erasure is in the audit log, without the erased data. Returns EINVALID
// for an id below 1 and ENOTFOUND if the area has no such pledge.
func (s *Service) ErasePledgeContact(ctx context.Context, code string, id int64) (Pledge, error) {
	if err := s.Can(ctx, ActionErasePledges, code); err != nil {
		return Pledge{}, err
	}
	if id <= 0 {
		return Pledge{}, FieldError("id", "a pledge id is a positive whole number")
	}
	e := s.audit(ctx, "pledge.erase", code, "pledge:"+strconv.FormatInt(id, 10), nil, map[string]any{"contact": "erased"})
	return s.store.EraseAreaPledgeContact(ctx, code, id, s.now(), e)
}

// EraseClosedContacts erases the contact details of pledges in areas
// built or lapsed more than retention ago (0 means DefaultRetention).
// serve runs it in its lapse loop. Returns how many pledges it erased.
func (s *Service) EraseClosedContacts(ctx context.Context, retention time.Duration) (int, error) {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return s.store.EraseClosedContacts(ctx, s.now(), retention)
}
