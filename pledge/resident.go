package pledge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ResidentStore confirms pledges and keeps what residents receive and
// ask for. Both stores implement it; it is part of Store.
type ResidentStore interface {
	// ConfirmPledge confirms the active pledge whose ConfirmHash is hash,
	// at at: its unit moves from the area's unconfirmed units to its
	// pledged units and decide runs on the area, in one transaction. A
	// pledge confirmed already comes back unchanged with changed false.
	// ENOTFOUND if no active pledge has the hash.
	ConfirmPledge(ctx context.Context, hash string, at time.Time, decide Decider) (p Pledge, changed bool, err error)
	// LapseUnconfirmed lapses every active, unconfirmed pledge made before
	// at less its area's ConfirmDays: status lapsed, contact details
	// erased, the area's unconfirmed units moved, and notice's event for
	// each (read before the erasure) recorded, in one transaction.
	// Returns how many lapsed.
	LapseUnconfirmed(ctx context.Context, at time.Time, notice func(Pledge) *Event) (int, error)
	// NoticePledges lists the active, confirmed pledges of area code that
	// have an e-mail address, consent and notices on, by id.
	NoticePledges(ctx context.Context, code string) ([]Pledge, error)
	// SetPledgeNotices turns the notices of the active pledge with token
	// on or off. ENOTFOUND if no active pledge has the token.
	SetPledgeNotices(ctx context.Context, token string, on bool, at time.Time) (Pledge, error)

	// ErasePledgeContact erases the name, e-mail, phone and request
	// fingerprint of the pledge with token, and stops its notices; its
	// status and unit stay, so an anonymous pledge still counts.
	// ENOTFOUND if no pledge has the token.
	ErasePledgeContact(ctx context.Context, token string, at time.Time) (Pledge, error)
	// EraseAreaPledgeContact is ErasePledgeContact by pledge id, for a
	// pledge in area code, with audit written in the same transaction.
	// ENOTFOUND if area code has no pledge id.
	EraseAreaPledgeContact(ctx context.Context, code string, id int64, at time.Time, audit AuditEntry) (Pledge, error)
	// EraseClosedContacts notes when each area became built or lapsed
	// (the first run that finds it so, at at; an area moved back loses
	// the note) and erases the contact details of every pledge in an
	// area noted before at less retention. Returns how many pledges it
	// erased.
	EraseClosedContacts(ctx context.Context, at time.Time, retention time.Duration) (int, error)
}

// Languages of residents' e-mails; the first is the default.
var residentLanguages = []string{"da", "en"}

// ResidentLanguage returns lang if residents' e-mails are written in it,
// else the default (Danish).
func ResidentLanguage(lang string) string {
	for _, l := range residentLanguages {
		if l == lang {
			return l
		}
	}
	return residentLanguages[0]
}

// confirmDays is a's ConfirmDays, defaulted.
func confirmDays(a Area) int {
	if a.ConfirmDays <= 0 {
		return DefaultConfirmDays
	}
	return a.ConfirmDays
}

// MaxConfirmDays bounds an area's ConfirmDays.
const MaxConfirmDays = 365

// confirmationMail is the e-mail that asks the resident to confirm p.
func (s *Service) confirmationMail(p Pledge, secret string, days int) Event {
	t := noticeTexts[ResidentLanguage(p.Language)]
	body := fmt.Sprintf(t.confirmBody, s.link("/confirm/"+secret), days, s.link("/p/"+p.Token))
	return *s.mailEvent("confirm:"+p.ConfirmHash[:16], p.Email, t.confirmSubject, body)
}

// ConfirmPledge confirms a pledge with the secret of its confirmation
// link: from then on it counts towards the threshold, and the first
// pledge that meets it moves the area to threshold_reached. Confirming
// twice is harmless (the pledge comes back as it is). Returns ENOTFOUND
// (ReasonLinkExpired) for an unknown link or a pledge no longer active,
// and ECONFLICT when the area's deadline has passed.
func (s *Service) ConfirmPledge(ctx context.Context, secret string) (Pledge, error) {
	if !validSecret(secret) {
		return Pledge{}, errLinkExpired
	}
	now := s.now()
	p, changed, err := s.store.ConfirmPledge(ctx, SecretHash(secret), now, func(a Area) (Transition, error) {
		if a.Status == StatusCollecting && a.Deadline != nil && now.After(*a.Deadline) {
			return Transition{}, &Error{Code: ECONFLICT, Reason: ReasonAreaClosed, Message: fmt.Sprintf("the deadline of area %s has passed", a.Code)}
		}
		return thresholdCrossing(a, now), nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return Pledge{}, errLinkExpired
	}
	if err == nil && changed {
		s.dropArea(ctx, p.AreaCode)
	}
	return p, err
}

// thresholdCrossing is the transition of a collecting area that has just
// met its threshold, with its event recorded once; else none.
func thresholdCrossing(a Area, now time.Time) Transition {
	if a.Status != StatusCollecting || !a.ThresholdMet() {
		return Transition{}
	}
	return Transition{Status: StatusThresholdReached, Event: &Event{
		Kind: EventThresholdReached, AreaCode: a.Code, At: now,
		Key:     EventThresholdReached + ":" + a.Code,
		Payload: thresholdPayload(a),
	}}
}

// LapseUnconfirmed lapses the pledges whose confirmation link was not
// used within their area's ConfirmDays; each resident with an e-mail
// address is told once, in their language. Returns how many lapsed.
func (s *Service) LapseUnconfirmed(ctx context.Context) (int, error) {
	now := s.now()
	n, err := s.store.LapseUnconfirmed(ctx, now, func(p Pledge) *Event {
		if p.Email == "" || !s.Mail {
			return nil
		}
		t := noticeTexts[ResidentLanguage(p.Language)]
		return s.mailEvent("unconfirmed_lapsed:"+strconv.FormatInt(p.ID, 10), p.Email, t.unconfirmedSubject,
			fmt.Sprintf(t.unconfirmedBody, p.AddressID))
	})
	if n > 0 {
		s.dropArea(ctx, "")
	}
	return n, err
}

// SetPledgeNotices turns the e-mails about the area's progress on or off
// for the resident's pledge, found by its manage token. Returns ENOTFOUND
// for an unknown or inactive pledge.
func (s *Service) SetPledgeNotices(ctx context.Context, token string, on bool) (Pledge, error) {
	if token == "" || len(token) > 200 {
		return Pledge{}, &Error{Code: ENOTFOUND, Reason: ReasonPledgeNotFound, Message: "no pledge with this link"}
	}
	return s.store.SetPledgeNotices(ctx, token, on, s.now())
}

// NoticeKinds are the domain event kinds that NotifyPledgers turns into
// e-mails to the area's pledgers. An area's lapse is told in its own
// transaction (see LapseOverdue), since its pledges' contact details are
// erased in it.
var NoticeKinds = []string{EventThresholdReached, EventTenderOpened, EventTenderAwarded, EventDeadlineExtended}

// NotifyPledgers fans a domain event out into one e-mail per pledger of
// its area: confirmed, with an e-mail address and consent, notices not
// stopped. Each e-mail's outbox key is the event's key and the pledge's
// id, so a retried or repeated fan-out queues nothing twice. Without a
// mail server it does nothing. Returns EINVALID for a kind it does not
// tell or a payload that is not JSON.
func (s *Service) NotifyPledgers(ctx context.Context, e OutboxEvent) error {
	if !s.Mail {
		return nil
	}
	var d struct {
		Provider    string `json:"provider"`
		Deadline    string `json:"deadline"`
		OldDeadline string `json:"old_deadline"`
		NewDeadline string `json:"new_deadline"`
	}
	if err := json.Unmarshal([]byte(e.Payload), &d); err != nil {
		return Errorf(EINVALID, "event %d: payload is not JSON", e.ID)
	}
	a, err := s.store.Area(ctx, e.AreaCode)
	if ErrorCode(err) == ENOTFOUND {
		return nil // the area is gone, and its pledgers with it
	} else if err != nil {
		return err
	}
	pledges, err := s.store.NoticePledges(ctx, e.AreaCode)
	if err != nil {
		return err
	}
	for _, p := range pledges {
		lang := ResidentLanguage(p.Language)
		t := noticeTexts[lang]
		manage := s.link("/p/" + p.Token)
		var subject, body string
		switch e.Kind {
		case EventThresholdReached:
			subject, body = fmt.Sprintf(t.thresholdSubject, a.Name), fmt.Sprintf(t.thresholdBody, a.Name)
		case EventTenderOpened:
			subject, body = fmt.Sprintf(t.tenderSubject, a.Name), fmt.Sprintf(t.tenderBody, a.Name, noticeDate(lang, d.Deadline))
		case EventTenderAwarded:
			subject, body = fmt.Sprintf(t.awardSubject, a.Name), fmt.Sprintf(t.awardBody, d.Provider, a.Name)
		case EventDeadlineExtended:
			subject, body = fmt.Sprintf(t.extendSubject, a.Name, noticeDate(lang, d.NewDeadline)),
				fmt.Sprintf(t.extendBody, a.Name, noticeDate(lang, d.OldDeadline), noticeDate(lang, d.NewDeadline))
		default:
			return Errorf(EINVALID, "event kind %q has no notice to pledgers", e.Kind)
		}
		m := s.mailEvent(e.Key+":"+strconv.FormatInt(p.ID, 10), p.Email, subject, body+fmt.Sprintf(t.footer, manage))
		m.AreaCode = e.AreaCode
		if err := s.store.QueueEvent(ctx, *m); err != nil {
			return err
		}
	}
	return nil
}

// lapseNotice is the e-mail to a pledger of an area that lapsed, or nil.
func (s *Service) lapseNotice(a Area) func(Pledge) *Event {
	if !s.Mail {
		return nil
	}
	return func(p Pledge) *Event {
		if p.Unconfirmed || !p.Consent || p.NoticesOff || p.Email == "" {
			return nil
		}
		lang := ResidentLanguage(p.Language)
		t := noticeTexts[lang]
		m := s.mailEvent(EventAreaLapsed+":"+a.Code+":"+strconv.FormatInt(p.ID, 10), p.Email,
			fmt.Sprintf(t.lapseSubject, a.Name), fmt.Sprintf(t.lapseBody, a.Name))
		m.AreaCode = a.Code
		return m
	}
}

// noticeDate writes a YYYY-MM-DD (or RFC 3339) date for a reader of lang.
func noticeDate(lang, s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return s
		}
	}
	if lang == "en" {
		return t.Format("2 January 2006")
	}
	return fmt.Sprintf("%d. %s %d", t.Day(), danishMonths[t.Month()-1], t.Year())
}

var danishMonths = [...]string{"januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"}

// LapseRules are the lapse rules in words for the manage page, in lang:
// the area's confirmation days (only when e-mail is sent: without it
// pledges count at once), the deadline, and when a pledge binds.
func (s *Service) LapseRules(lang string, a Area) []string {
	t := noticeTexts[ResidentLanguage(lang)]
	rules := []string{t.ruleDeadline, t.ruleBinding}
	if s.Mail {
		rules = append([]string{fmt.Sprintf(t.ruleConfirm, confirmDays(a))}, rules...)
	}
	return rules
}

// noticeText is one language's residents' e-mails. Subjects say what
// happened and what to do, if anything.
type noticeText struct {
	confirmSubject, confirmBody         string
	unconfirmedSubject, unconfirmedBody string
	thresholdSubject, thresholdBody     string
	tenderSubject, tenderBody           string
	awardSubject, awardBody             string
	extendSubject, extendBody           string
	lapseSubject, lapseBody             string
	footer                              string
	ruleConfirm, ruleDeadline           string
	ruleBinding                         string
}

var noticeTexts = map[string]noticeText{
	"da": {
		confirmSubject: "Bekræft din tilmelding til fibernet",
		confirmBody: "Tak for din tilmelding. Bekræft den her, så tæller den med:\n\n%s\n\n" +
			"Bekræfter du ikke inden %d dage, bortfalder tilmeldingen, og dine kontaktoplysninger slettes.\n\n" +
			"Se, ret eller træk din tilmelding tilbage her:\n%s\n",
		unconfirmedSubject: "Din tilmelding er bortfaldet: den blev ikke bekræftet",
		unconfirmedBody:    "Din tilmelding for adressen %s blev ikke bekræftet i tide, så den er bortfaldet, og dine kontaktoplysninger er slettet. Du kan tilmelde dig igen, hvis du vil.\n",
		thresholdSubject:   "%s har nået målet: du skal ikke gøre noget nu",
		thresholdBody:      "Nok husstande i %s har tilmeldt sig. Foreningen indhenter nu tilbud fra udbydere. Du skal ikke gøre noget; vi skriver igen, når der er nyt.\n",
		tenderSubject:      "Udbud åbnet for %s: du skal ikke gøre noget nu",
		tenderBody:         "Udbydere kan nu give tilbud på fibernet i %s, indtil %s. Din tilmelding er nu bindende. Du skal ikke gøre noget nu.\n",
		awardSubject:       "Udbyder valgt for %s: de kontakter dig",
		awardBody:          "%s er valgt til at bygge fibernet i %s. Udbyderen kontakter dig om tilslutningen.\n",
		extendSubject:      "Fristen for %s er forlænget til %s: fortæl det til naboerne",
		extendBody:         "Fristen for tilmeldinger i %s er flyttet fra %s til %s. Din tilmelding gælder stadig. Få gerne naboerne med.\n",
		lapseSubject:       "%s nåede ikke målet: din tilmelding er bortfaldet",
		lapseBody:          "Fristen for %s er udløbet, uden at nok husstande tilmeldte sig. Din tilmelding er bortfaldet, intet opkræves, og dine kontaktoplysninger er slettet.\n",
		footer:             "\nDu kan se din tilmelding, hente eller slette dine data og stoppe disse e-mails her:\n%s\n",
		ruleConfirm:        "En tilmelding, der ikke er bekræftet via linket i e-mailen inden %d dage, bortfalder.",
		ruleDeadline:       "Når området ikke når målet inden fristen, bortfalder alle tilmeldinger: intet opkræves, og kontaktoplysningerne slettes.",
		ruleBinding:        "Du kan trække din tilmelding tilbage, indtil udbuddet åbner; derefter er den bindende.",
	},
	"en": {
		confirmSubject: "Confirm your fibre pledge",
		confirmBody: "Thank you for your pledge. Confirm it here so that it counts:\n\n%s\n\n" +
			"If you do not confirm it within %d days, the pledge lapses and your contact details are erased.\n\n" +
			"See, change or withdraw your pledge here:\n%s\n",
		unconfirmedSubject: "Your pledge has lapsed: it was not confirmed",
		unconfirmedBody:    "Your pledge for the address %s was not confirmed in time, so it has lapsed and your contact details are erased. You may pledge again if you wish.\n",
		thresholdSubject:   "%s has reached its target: nothing to do now",
		thresholdBody:      "Enough households in %s have pledged. The association now asks providers for offers. You need not do anything; we will write when there is news.\n",
		tenderSubject:      "Tender opened for %s: nothing to do now",
		tenderBody:         "Providers may now bid to build fibre in %s until %s. Your pledge is binding now. You need not do anything now.\n",
		awardSubject:       "Provider chosen for %s: they will contact you",
		awardBody:          "%s has been chosen to build fibre in %s. The provider will contact you about your connection.\n",
		extendSubject:      "The deadline for %s is extended to %s: tell your neighbours",
		extendBody:         "The deadline for pledges in %s moved from %s to %s. Your pledge still stands. Ask your neighbours to join.\n",
		lapseSubject:       "%s did not reach its target: your pledge has lapsed",
		lapseBody:          "The deadline of %s passed without enough households pledging. Your pledge has lapsed, nothing will be charged, and your contact details are erased.\n",
		footer:             "\nSee your pledge, download or delete your data, and stop these e-mails here:\n%s\n",
		ruleConfirm:        "A pledge not confirmed through the link in its e-mail within %d days lapses.",
		ruleDeadline:       "If the area does not reach its target by the deadline, every pledge lapses: nothing is charged and contact details are erased.",
		ruleBinding:        "You may withdraw your pledge until the tender opens; after that it is binding.",
	},
}
