package pledge

import (
	"context"
	"time"
)

// ContactUpdater changes a pledge's contact details. Both stores implement
// it; it is part of Store.
type ContactUpdater interface {
	// UpdatePledgeContact sets the name, e-mail and phone of the active
	// pledge with token and its updated time to at, and returns the pledge.
	// ENOTFOUND if no active pledge has the token.
	UpdatePledgeContact(ctx context.Context, token, name, email, phone string, at time.Time) (Pledge, error)
}

// UpdatePledgeContact changes the contact details of the resident's own
// pledge, found by its manage token. The same rules as for a new pledge
// apply (a name, and an e-mail address or a phone number). Contact details
// may change for as long as the pledge is active, also once it is binding:
// the builder must still reach the household. Returns EINVALID naming the
// field at fault and ENOTFOUND for an unknown or withdrawn pledge.
func (s *Service) UpdatePledgeContact(ctx context.Context, token, name, email, phone string) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, Errorf(ENOTFOUND, "no pledge with this link")
	}
	// Validate checks the address, unit and consent too; those do not
	// change here, so they are given values that pass.
	req := PledgeRequest{AddressID: "-", Name: name, Email: email, Phone: phone, Consent: true}
	req.normalise()
	if err := req.Validate(); err != nil {
		return Pledge{}, err
	}
	return s.store.UpdatePledgeContact(ctx, token, req.Name, req.Email, req.Phone, s.now())
}

// PledgesOpen reports whether area a takes new pledges at time now: it is
// collecting (or has reached its threshold and still collects) and its
// deadline has not passed. CreatePledge applies the same rule inside the
// store transaction; pages use this to decide whether to show the form.
func PledgesOpen(a Area, now time.Time) bool {
	if a.Status != StatusCollecting && a.Status != StatusThresholdReached {
		return false
	}
	return a.Deadline == nil || !now.After(*a.Deadline)
}

// Withdrawable reports whether pledges in area a may still be withdrawn:
// until the tender opens they are not binding. WithdrawPledge applies the
// same rule inside the store transaction; pages use this to decide whether
// to offer the button.
func Withdrawable(a Area) bool {
	return a.Status == StatusCollecting || a.Status == StatusThresholdReached
}
