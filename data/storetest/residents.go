package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunResidents runs the residents' suite (confirmation, notices, their
// lapse) against stores made by open.
func RunResidents(t *testing.T, open Opener) {
	runSuite(t, open, []suiteCase{
		{"ConfirmationCounts", testConfirmationCounts},
		{"ConfirmationReachesThreshold", testConfirmationThreshold},
		{"UnconfirmedLapse", testUnconfirmedLapse},
		{"DeadlineExtendedEvent", testDeadlineExtended},
		{"NotifyPledgersOnce", testNotifyPledgers},
		{"AreaLapseNotice", testAreaLapseNotice},
		{"TenderNotice", testTenderNotice},
		{"ConcurrentMixedPledges", testConcurrentMixed},
		{"DeleteMyData", testDeleteMyData},
		{"CoordinatorErasesContact", testCoordinatorErase},
		{"RetentionErasesClosedAreas", testRetention},
	})
}

// mailed returns the queued e-mails (their payloads) whose key contains
// part, in the order queued.
func mailed(t *testing.T, svc *pledge.Service, part string) []pledge.MailMessage {
	t.Helper()
	evs, err := storeOf(svc).OutboxEvents(context.Background(), pledge.EventMail)
	if err != nil {
		t.Fatal(err)
	}
	var out []pledge.MailMessage
	for _, e := range evs {
		if !strings.Contains(e.Key, part) {
			continue
		}
		var m pledge.MailMessage
		if err := json.Unmarshal([]byte(e.Payload), &m); err != nil {
			t.Fatalf("mail %s: %v", e.Key, err)
		}
		out = append(out, m)
	}
	return out
}

var confirmLink = regexp.MustCompile(`https://k\.example/confirm/([A-Za-z0-9_-]+)`)

// confirmSecret is the secret of the confirmation link mailed to to.
func confirmSecret(t *testing.T, svc *pledge.Service, to string) string {
	t.Helper()
	for _, m := range mailed(t, svc, ":confirm:") {
		if m.To == to {
			if s := confirmLink.FindStringSubmatch(m.Text); s != nil {
				return s[1]
			}
			t.Fatalf("confirmation e-mail to %s has no link: %q", to, m.Text)
		}
	}
	t.Fatalf("no confirmation e-mail to %s", to)
	return ""
}

func wantUnits(t *testing.T, svc *pledge.Service, code string, pledged, unconfirmed int) {
	t.Helper()
	a := areaByCode(t, svc, code)
	if a.PledgedUnits != pledged || a.UnconfirmedUnits != unconfirmed {
		t.Errorf("area %s: %d pledged, %d unconfirmed; want %d, %d", code, a.PledgedUnits, a.UnconfirmedUnits, pledged, unconfirmed)
	}
}

func mailOn(svc *pledge.Service) {
	svc.Mail, svc.PublicURL = true, "https://k.example"
}

func testConfirmationCounts(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)

	r := req("a1", 0)
	r.Language, r.Email = "en", "ane@example.dk"
	p, _, err := svc.CreatePledge(ctx, r, "")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Unconfirmed || p.Language != "en" {
		t.Fatalf("pledge: unconfirmed %v, language %q; want unconfirmed, en", p.Unconfirmed, p.Language)
	}
	wantUnits(t, svc, "A", 0, 1)

	// With a mail server an online pledge needs an e-mail address.
	phoneOnly := req("a2", 0)
	phoneOnly.Email, phoneOnly.Phone = "", "+45 12 34 56 78"
	if _, _, err := svc.CreatePledge(ctx, phoneOnly, ""); pledge.ErrorCode(err) != pledge.EINVALID || errorField(err) != "email" {
		t.Errorf("phone-only pledge with mail on: %v; want EINVALID on email", err)
	}

	ms := mailed(t, svc, ":confirm:")
	if len(ms) != 1 || ms[0].To != "ane@example.dk" || ms[0].Subject != "Confirm your fibre pledge" {
		t.Fatalf("confirmation e-mails %+v; want one in English to ane@example.dk", ms)
	}
	secret := confirmSecret(t, svc, "ane@example.dk")
	stored, err := svc.Pledge(ctx, p.Token)
	if err != nil {
		t.Fatal(err)
	}
	if stored.ConfirmHash != pledge.SecretHash(secret) || strings.Contains(stored.ConfirmHash, secret) {
		t.Errorf("stored confirm hash %q; want the SHA-256 of the link's secret only", stored.ConfirmHash)
	}
	if !strings.Contains(ms[0].Text, "https://k.example/p/"+p.Token) {
		t.Errorf("confirmation e-mail lacks the manage link: %q", ms[0].Text)
	}

	if _, err := svc.ConfirmPledge(ctx, "not-a-secret"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown link: %v; want ENOTFOUND", err)
	}
	wantUnits(t, svc, "A", 0, 1)
	c, err := svc.ConfirmPledge(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unconfirmed || c.ConfirmedAt == nil || !c.ConfirmedAt.Equal(Now) {
		t.Errorf("confirmed pledge: unconfirmed %v at %v; want confirmed at %v", c.Unconfirmed, c.ConfirmedAt, Now)
	}
	wantUnits(t, svc, "A", 1, 0)
	// A second click changes nothing.
	if _, err := svc.ConfirmPledge(ctx, secret); err != nil {
		t.Errorf("second confirmation: %v", err)
	}
	wantUnits(t, svc, "A", 1, 0)
	if a, err := svc.Address(ctx, "a1"); err != nil || a.PledgedUnits != 1 {
		t.Errorf("address a1: %d pledged (%v); want 1", a.PledgedUnits, err)
	}

	// Withdrawing an unconfirmed pledge moves the unconfirmed count.
	r2 := req("a2", 0)
	r2.Email = "bo@example.dk"
	p2, _, err := svc.CreatePledge(ctx, r2, "")
	if err != nil {
		t.Fatal(err)
	}
	if m := mailed(t, svc, ":confirm:"); len(m) != 2 || m[1].Subject != "Bekræft din tilmelding til fibernet" {
		t.Errorf("second confirmation e-mail %+v; want one in Danish (the default)", m)
	}
	if a, err := svc.Address(ctx, "a2"); err != nil || a.PledgedUnits != 0 {
		t.Errorf("address a2 with an unconfirmed pledge: %d pledged (%v); want 0", a.PledgedUnits, err)
	}
	wantUnits(t, svc, "A", 1, 1)
	if _, err := svc.WithdrawPledge(ctx, p2.Token); err != nil {
		t.Fatal(err)
	}
	wantUnits(t, svc, "A", 1, 0)
	if _, err := svc.ConfirmPledge(ctx, confirmSecret(t, svc, "bo@example.dk")); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("confirming a withdrawn pledge: %v; want ENOTFOUND", err)
	}
	wantUnits(t, svc, "A", 1, 0)

	// A coordinator's entry counts at once and is not mailed.
	entered := req("a2", 0)
	entered.Email, entered.Confirmed = "cy@example.dk", true
	p3, _, err := svc.CreatePledge(ctx, entered, "")
	if err != nil {
		t.Fatal(err)
	}
	if p3.Unconfirmed {
		t.Error("a coordinator's entry is unconfirmed")
	}
	wantUnits(t, svc, "A", 2, 0)
	if m := mailed(t, svc, ":confirm:"); len(m) != 2 {
		t.Errorf("%d confirmation e-mails after a coordinator's entry; want still 2", len(m))
	}

	// Without a mail server pledges count at once.
	svc.Mail = false
	if p4, _, err := svc.CreatePledge(ctx, req("a2", 0), ""); err != nil || p4.Unconfirmed {
		t.Fatalf("pledge without mail: unconfirmed %v, %v; want counted", p4.Unconfirmed, err)
	}
	wantUnits(t, svc, "A", 3, 0)
}

func testConfirmationThreshold(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)
	// V has 2 units at 50 %: one confirmed pledge reaches it.
	if _, _, err := svc.CreatePledge(ctx, req("v1", 0), ""); err != nil {
		t.Fatal(err)
	}
	if a := areaByCode(t, svc, "V"); a.Status != pledge.StatusCollecting {
		t.Fatalf("V with an unconfirmed pledge is %s; want collecting", a.Status)
	}
	if evs, _ := storeOf(svc).Events(ctx); countKind(evs, pledge.EventThresholdReached) != 0 {
		t.Fatal("an unconfirmed pledge recorded the threshold crossing")
	}
	if _, err := svc.ConfirmPledge(ctx, confirmSecret(t, svc, "soren@example.dk")); err != nil {
		t.Fatal(err)
	}
	if a := areaByCode(t, svc, "V"); a.Status != pledge.StatusThresholdReached || a.PledgedUnits != 1 {
		t.Errorf("V after the confirmation: %s with %d pledged; want threshold_reached with 1", a.Status, a.PledgedUnits)
	}
	evs, err := storeOf(svc).Events(ctx)
	if err != nil || countKind(evs, pledge.EventThresholdReached) != 1 {
		t.Errorf("threshold events %d (%v); want 1", countKind(evs, pledge.EventThresholdReached), err)
	}
}

func countKind(evs []pledge.Event, kind string) int {
	n := 0
	for _, e := range evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func testUnconfirmedLapse(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)
	days := 3
	if _, err := svc.UpdateAreaSettings(cliContext(), "A", pledge.AreaSettings{ConfirmDays: &days}); err != nil {
		t.Fatal(err)
	}
	if a := areaByCode(t, svc, "A"); a.ConfirmDays != 3 {
		t.Fatalf("A's confirm days %d; want 3", a.ConfirmDays)
	}
	if b := areaByCode(t, svc, "B"); b.ConfirmDays != pledge.DefaultConfirmDays {
		t.Errorf("B's confirm days %d; want the default %d", b.ConfirmDays, pledge.DefaultConfirmDays)
	}
	bad := 0
	if _, err := svc.UpdateAreaSettings(cliContext(), "A", pledge.AreaSettings{ConfirmDays: &bad}); errorField(err) != "confirm_days" {
		t.Errorf("confirm days 0: %v; want EINVALID on confirm_days", err)
	}
	waiting, _, err := svc.CreatePledge(ctx, req("a1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	confirmed := req("a2", 0)
	confirmed.Email = "bo@example.dk"
	if _, _, err := svc.CreatePledge(ctx, confirmed, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmPledge(ctx, confirmSecret(t, svc, "bo@example.dk")); err != nil {
		t.Fatal(err)
	}
	inB, _, err := svc.CreatePledge(ctx, req("b1", 0), "") // B waits 14 days
	if err != nil {
		t.Fatal(err)
	}
	wantUnits(t, svc, "A", 1, 1)

	svc.Now = func() time.Time { return Now.Add(3*24*time.Hour - time.Minute) }
	if n, err := svc.LapseUnconfirmed(ctx); err != nil || n != 0 {
		t.Fatalf("before 3 days: %d lapsed (%v); want 0", n, err)
	}
	svc.Now = func() time.Time { return Now.Add(3*24*time.Hour + time.Minute) }
	if n, err := svc.LapseUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("after 3 days: %d lapsed (%v); want 1", n, err)
	}
	got, err := svc.Pledge(ctx, waiting.Token)
	if err != nil || got.Status != pledge.PledgeLapsed || got.Name != "" || got.Email != "" {
		t.Errorf("lapsed unconfirmed pledge %+v (%v); want lapsed with contact erased", got, err)
	}
	wantUnits(t, svc, "A", 1, 0)
	if p, err := svc.Pledge(ctx, inB.Token); err != nil || p.Status != pledge.PledgeActive {
		t.Errorf("B's pledge after 3 days: %v (%v); want active", p.Status, err)
	}
	ms := mailed(t, svc, "unconfirmed_lapsed")
	if len(ms) != 1 || ms[0].To != "soren@example.dk" || !strings.Contains(ms[0].Subject, "bortfaldet") {
		t.Errorf("lapse e-mails %+v; want one in Danish to soren@example.dk", ms)
	}
	if n, err := svc.LapseUnconfirmed(ctx); err != nil || n != 0 {
		t.Errorf("again: %d lapsed (%v); want 0", n, err)
	}
	if ms := mailed(t, svc, "unconfirmed_lapsed"); len(ms) != 1 {
		t.Errorf("%d lapse e-mails after a second run; want 1", len(ms))
	}
}

func testDeadlineExtended(t *testing.T, svc *pledge.Service) {
	mustImport(t, svc)
	ctx := cliContext()
	d1, d2 := pledge.DeadlineOn(Now.AddDate(0, 1, 0)), pledge.DeadlineOn(Now.AddDate(0, 2, 0))
	extended := func() []pledge.Event {
		evs, err := storeOf(svc).Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []pledge.Event
		for _, e := range evs {
			if e.Kind == pledge.EventDeadlineExtended {
				out = append(out, e)
			}
		}
		return out
	}
	for _, step := range []struct {
		name string
		to   time.Time
		want int
	}{{"FirstDeadline", d1, 0}, {"Later", d2, 1}, {"Same", d2, 1}, {"Earlier", d1, 1}, {"LaterAgain", d2, 2}} {
		to := step.to
		at := Now.Add(time.Duration(len(extended())+1) * time.Minute)
		svc.Now = func() time.Time { return at }
		if _, err := svc.UpdateAreaSettings(ctx, "A", pledge.AreaSettings{Deadline: &to}); err != nil {
			t.Fatal(err)
		}
		if got := extended(); len(got) != step.want {
			t.Errorf("%s: %d extension events; want %d", step.name, len(got), step.want)
		}
	}
	e := extended()[0]
	var d map[string]any
	if err := json.Unmarshal([]byte(e.Payload), &d); err != nil || d["old_deadline"] != d1.Format(time.DateOnly) ||
		d["new_deadline"] != d2.Format(time.DateOnly) || e.AreaCode != "A" {
		t.Errorf("extension event %+v; want A from %s to %s", e, d1.Format(time.DateOnly), d2.Format(time.DateOnly))
	}
}

func testNotifyPledgers(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)
	entered := func(address, email, phone, lang string) pledge.Pledge {
		t.Helper()
		r := req(address, 0)
		r.Email, r.Phone, r.Language, r.Confirmed = email, phone, lang, true
		p, _, err := svc.CreatePledge(ctx, r, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	en := entered("a1", "en@example.dk", "", "en")
	da := entered("a2", "da@example.dk", "", "da")
	off := entered("a2", "off@example.dk", "", "da")
	entered("a2", "", "+45 12 34 56 78", "da") // no e-mail address
	entered("b1", "b@example.dk", "", "da")    // another area
	r := req("v1", 0)
	r.Email = "waiting@example.dk" // in V: not A
	if _, _, err := svc.CreatePledge(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	r = req("a-edge", 0)
	r.Email = "unconfirmed@example.dk"
	if _, _, err := svc.CreatePledge(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	if p, err := svc.SetPledgeNotices(ctx, off.Token, false); err != nil || !p.NoticesOff {
		t.Fatalf("notices off: %+v, %v", p, err)
	}
	if _, err := svc.SetPledgeNotices(ctx, "nope", false); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("notices of an unknown pledge: %v; want ENOTFOUND", err)
	}

	ev := pledge.OutboxEvent{ID: 1, Event: pledge.Event{Kind: pledge.EventDeadlineExtended, AreaCode: "A",
		Key: "area.deadline_extended:A:x", Payload: `{"old_deadline":"2026-12-31","new_deadline":"2027-02-28"}`}}
	for range 2 { // a retried fan-out queues nothing twice
		if err := svc.NotifyPledgers(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	ms := mailed(t, svc, "area.deadline_extended:A:x:")
	to := map[string]pledge.MailMessage{}
	for _, m := range ms {
		to[m.To] = m
	}
	if len(ms) != 2 || len(to) != 2 {
		t.Fatalf("notices %+v; want one each to en@ and da@", ms)
	}
	if m := to["en@example.dk"]; m.Subject != "The deadline for Åby Sogn is extended to 28 February 2027: tell your neighbours" ||
		!strings.Contains(m.Text, "31 December 2026") || !strings.Contains(m.Text, "https://k.example/p/"+en.Token) {
		t.Errorf("English notice %+v", m)
	}
	if m := to["da@example.dk"]; m.Subject != "Fristen for Åby Sogn er forlænget til 28. februar 2027: fortæl det til naboerne" ||
		!strings.Contains(m.Text, "https://k.example/p/"+da.Token) {
		t.Errorf("Danish notice %+v", m)
	}
	if err := svc.NotifyPledgers(ctx, pledge.OutboxEvent{Event: pledge.Event{Kind: pledge.EventThresholdReached, AreaCode: "A", Key: "k", Payload: "not json"}}); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("payload not JSON: %v; want EINVALID", err)
	}
	svc.Mail = false
	if err := svc.NotifyPledgers(ctx, pledge.OutboxEvent{Event: pledge.Event{Kind: pledge.EventThresholdReached, AreaCode: "A", Key: "off", Payload: "{}"}}); err != nil {
		t.Fatal(err)
	}
	if ms := mailed(t, svc, ":off:"); len(ms) != 0 {
		t.Errorf("%d notices without a mail server; want 0", len(ms))
	}
}

func testAreaLapseNotice(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)
	r := req("a1", 0)
	r.Language, r.Confirmed = "en", true
	p, _, err := svc.CreatePledge(ctx, r, "")
	if err != nil {
		t.Fatal(err)
	}
	a := areaByCode(t, svc, "A")
	past := Now.AddDate(0, 0, -1)
	a.Deadline = &past
	if err := storeOf(svc).UpdateArea(ctx, a); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := svc.LapseOverdue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ms := mailed(t, svc, "area_lapsed:A:")
	if len(ms) != 1 || ms[0].To != "soren@example.dk" || ms[0].Subject != "Åby Sogn did not reach its target: your pledge has lapsed" {
		t.Errorf("lapse notices %+v; want one in English to soren@example.dk", ms)
	}
	if got, err := svc.Pledge(ctx, p.Token); err != nil || got.Email != "" {
		t.Errorf("lapsed pledge's e-mail %q (%v); want erased", got.Email, err)
	}
}

// errorField is the field of an *Error in err's chain, or "".
func errorField(err error) string {
	var e *pledge.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func setStatus(t *testing.T, svc *pledge.Service, code string, st pledge.AreaStatus) {
	t.Helper()
	a := areaByCode(t, svc, code)
	a.Status = st
	if err := storeOf(svc).UpdateArea(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

func testDeleteMyData(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	inA, _, err := svc.CreatePledge(ctx, req("a1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	inB, _, err := svc.CreatePledge(ctx, req("b1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, svc, "B", pledge.StatusTenderOpen)

	// Collecting: the pledge is withdrawn with its contact details.
	p, withdrawn, err := svc.DeleteMyData(ctx, inA.Token)
	if err != nil || !withdrawn || p.Status != pledge.PledgeWithdrawn || p.Name != "" || p.Email != "" {
		t.Errorf("delete in a collecting area: %+v withdrawn %v (%v); want withdrawn and erased", p, withdrawn, err)
	}
	wantUnits(t, svc, "A", 0, 0)
	// Binding: the pledge stays, anonymous, and still counts.
	p, withdrawn, err = svc.DeleteMyData(ctx, inB.Token)
	if err != nil || withdrawn || p.Status != pledge.PledgeActive || p.Name != "" || p.Email != "" || p.Phone != "" || !p.NoticesOff {
		t.Errorf("delete in a tendered area: %+v withdrawn %v (%v); want active, anonymous, no notices", p, withdrawn, err)
	}
	wantUnits(t, svc, "B", 1, 0)
	if got, err := svc.Pledge(ctx, inB.Token); err != nil || got.Name != "" || got.Email != "" || got.RequestHash != "" {
		t.Errorf("stored after deletion: %+v (%v); want no contact and no fingerprint", got, err)
	}
	if ps, err := storeOf(svc).NoticePledges(ctx, "B"); err != nil || len(ps) != 0 {
		t.Errorf("notice pledges of B after deletion: %d (%v); want 0", len(ps), err)
	}
	// Again: nothing left to erase, no error.
	if _, _, err := svc.DeleteMyData(ctx, inB.Token); err != nil {
		t.Errorf("second deletion: %v", err)
	}
	if _, _, err := svc.DeleteMyData(ctx, "no-such-token"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown token: %v; want ENOTFOUND", err)
	}
}

func testCoordinatorErase(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	p, _, err := svc.CreatePledge(ctx, req("a1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ErasePledgeContact(ctx, "A", p.ID); pledge.ErrorCode(err) != pledge.EUNAUTHORIZED {
		t.Errorf("anonymous erase: %v; want EUNAUTHORIZED", err)
	}
	if _, err := svc.ErasePledgeContact(cliContext(), "B", p.ID); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("erase of a pledge in another area: %v; want ENOTFOUND", err)
	}
	if got, _ := svc.Pledge(ctx, p.Token); got.Email == "" {
		t.Fatal("a refused erase erased")
	}
	got, err := svc.ErasePledgeContact(cliContext(), "A", p.ID)
	if err != nil || got.Name != "" || got.Email != "" || got.Status != pledge.PledgeActive {
		t.Fatalf("erase: %+v (%v); want active and anonymous", got, err)
	}
	wantUnits(t, svc, "A", 1, 0)
	entries, err := svc.Audit(cliContext(), "A", 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Action == "pledge.erase" {
			found = true
			if strings.Contains(e.Old+e.New, "soren") || e.Target != fmt.Sprintf("pledge:%d", p.ID) {
				t.Errorf("audit entry %+v holds the erased data or the wrong target", e)
			}
		}
	}
	if !found {
		t.Error("no audit entry of the erasure")
	}
}

func testRetention(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	built, _, err := svc.CreatePledge(ctx, req("a1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	open, _, err := svc.CreatePledge(ctx, req("b1", 0), "")
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, svc, "A", pledge.StatusBuilt)
	at := func(d time.Duration) {
		svc.Now = func() time.Time { return Now.Add(d) }
	}
	const day = 24 * time.Hour
	for _, step := range []struct {
		name string
		at   time.Duration
		want int
	}{{"NotedBuilt", 0, 0}, {"AfterAYearLess", 365*day - time.Minute, 0}, {"AfterAYear", 365*day + time.Minute, 1}, {"Again", 366 * day, 0}} {
		at(step.at)
		if n, err := svc.EraseClosedContacts(ctx, 0); err != nil || n != step.want {
			t.Errorf("%s: %d erased (%v); want %d", step.name, n, err, step.want)
		}
	}
	if p, err := svc.Pledge(ctx, built.Token); err != nil || p.Name != "" || p.Email != "" || p.Status != pledge.PledgeActive {
		t.Errorf("pledge in the built area: %+v (%v); want anonymous", p, err)
	}
	if p, err := svc.Pledge(ctx, open.Token); err != nil || p.Email != "soren@example.dk" {
		t.Errorf("pledge in the open area: %q (%v); want its e-mail kept", p.Email, err)
	}
	// A shorter retention, and an area moved back loses its note.
	at(366 * day)
	setStatus(t, svc, "B", pledge.StatusLapsed)
	if n, err := svc.EraseClosedContacts(ctx, day); err != nil || n != 0 {
		t.Errorf("B just noted: %d (%v)", n, err)
	}
	setStatus(t, svc, "B", pledge.StatusCollecting)
	at(368 * day)
	if n, err := svc.EraseClosedContacts(ctx, day); err != nil || n != 0 {
		t.Errorf("B moved back: %d erased (%v); want 0", n, err)
	}
}

// Confirmed and unconfirmed pledges made at once (on PostgreSQL, in one
// batch) each move their own counter, and the threshold counts the
// confirmed ones only.
func testConcurrentMixed(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)
	// As many first-free pledges at a block as it has flats (a2 has 3,
	// b2 4): a batch of the PostgreSQL store gives each its own unit.
	addrs := []string{"a1", "a2", "a2", "a2", "a-edge", "b1", "b2", "b2", "b2", "v1", "v1", "b2"}
	var wg sync.WaitGroup
	errs := make([]error, len(addrs))
	entered := make([]bool, len(addrs))
	for i, id := range addrs {
		entered[i] = i%3 == 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := req(id, 0)
			r.Email, r.Confirmed = fmt.Sprintf("p%d@example.dk", i), entered[i]
			_, _, errs[i] = svc.CreatePledge(ctx, r, "")
		}()
	}
	wg.Wait()
	want := map[string][2]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pledge %d at %s: %v", i, addrs[i], err)
		}
		code := map[byte]string{'a': "A", 'b': "B", 'v': "V"}[addrs[i][0]]
		w := want[code]
		if entered[i] {
			w[0]++
		} else {
			w[1]++
		}
		want[code] = w
	}
	for code, w := range want {
		wantUnits(t, svc, code, w[0], w[1])
	}
	// V (2 units, 50 %) has one entered pledge: reached, recorded once.
	if a := areaByCode(t, svc, "V"); a.Status != pledge.StatusThresholdReached {
		t.Errorf("V is %s; want threshold_reached", a.Status)
	}
	if ms := mailed(t, svc, ":confirm:"); len(ms) != 8 {
		t.Errorf("%d confirmation e-mails; want 8", len(ms))
	}
}

// A tender opened by the real lifecycle is told to the area's pledgers
// with its bid deadline, in their language.
func testTenderNotice(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	mailOn(svc)
	r := req("v1", 0)
	r.Language, r.Confirmed = "en", true
	if _, _, err := svc.CreatePledge(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	deadline := pledge.DeadlineOn(Now.AddDate(0, 0, 30))
	if _, _, err := svc.OpenTender(cliContext(), "V", pledge.TenderRequest{Deadline: deadline}); err != nil {
		t.Fatal(err)
	}
	evs, err := storeOf(svc).OutboxEvents(ctx, pledge.EventTenderOpened)
	if err != nil || len(evs) != 1 {
		t.Fatalf("tender events %d (%v)", len(evs), err)
	}
	if err := svc.NotifyPledgers(ctx, evs[0]); err != nil {
		t.Fatal(err)
	}
	ms := mailed(t, svc, evs[0].Key+":")
	if len(ms) != 1 || ms[0].Subject != "Tender opened for Vesterby: nothing to do now" ||
		!strings.Contains(ms[0].Text, deadline.Format("2 January 2006")) {
		t.Errorf("tender notices %+v; want one in English with the bid deadline %s", ms, deadline.Format("2 January 2006"))
	}
}
