package pledge

import (
	"errors"
	"fmt"
)

// Error codes. web maps them to HTTP statuses in one place.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	ETOOMANY      = "too_many_requests"
	EUNSUPPORTED  = "unsupported_media_type"
)

// Error is an error meant for the user: Message is safe to show, Field names
// the input field at fault, if any, and Reason is a stable code of what
// went wrong, which web maps to a message in the reader's language. Never
// match on Message: it is English for logs and API clients, and may change.
type Error struct {
	Code    string
	Reason  string
	Message string
	Field   string
}

// Reasons: stable, finer than the codes. web maps each to a catalogue key.
const (
	ReasonAddressRequired = "address_required"
	ReasonAddressUnknown  = "address_unknown"
	ReasonAddressOutside  = "address_outside"
	ReasonUnitRange       = "unit_range"
	ReasonUnitTaken       = "unit_taken"
	ReasonNameRequired    = "name_required"
	ReasonNameTooLong     = "name_too_long"
	ReasonContactRequired = "contact_required"
	ReasonEmailInvalid    = "email_invalid"
	ReasonPhoneInvalid    = "phone_invalid"
	ReasonConsentRequired = "consent_required"
	ReasonInvisible       = "invisible_characters"
	ReasonIdempotencyKey  = "idempotency_key"
	ReasonKeyReused       = "idempotency_key_reused"
	ReasonAreaClosed      = "area_closed"
	ReasonPledgeBinding   = "pledge_binding"
	ReasonPledgeNotFound  = "pledge_not_found"
	ReasonRateLimited     = "rate_limited"
	ReasonSignInRequired  = "sign_in_required"
	ReasonForbidden       = "forbidden"
	ReasonBadCredentials  = "bad_credentials"
	ReasonWeakPassword    = "weak_password"
	ReasonLinkExpired     = "link_expired"
	ReasonLinkUsed        = "link_used"
	ReasonAccountExists   = "account_exists"
	ReasonInvalid         = "invalid"
	ReasonTenderState     = "tender_state"   // the area's tender is not in a state that allows this
	ReasonBidsClosed      = "bids_closed"    // the bid deadline has passed
	ReasonNotPDF          = "attachment_pdf" // a bid's attachment is not a PDF
	ReasonWalkTaken       = "walk_taken"     // a walk is with a volunteer (or, to return it, is not)
)

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about field with a reason.
func Invalid(field, reason, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}
}

// UnitTakenError is the ECONFLICT error of a unit (or every unit of an
// address) that already has an active pledge. Stores return it.
func UnitTakenError(format string, args ...any) *Error {
	return &Error{Code: ECONFLICT, Reason: ReasonUnitTaken, Field: "unit", Message: fmt.Sprintf(format, args...)}
}

// ErrorReason returns the reason of an *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// UnitRangeError is the EINVALID error for a unit number beyond an
// address's units. Stores return it from CreatePledge, which checks the
// unit against the address it reads in its transaction.
func UnitRangeError(units int) *Error {
	return Invalid("unit", ReasonUnitRange, "this address has %d unit(s)", units)
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of an *Error in err's chain, or
// "internal error" for anything else, so raw internal text never leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
