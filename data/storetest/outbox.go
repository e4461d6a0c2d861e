package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kommunity/kommunity/pledge"
)

// RunOutbox runs the conformance suite of pledge.OutboxStore, the
// dispatcher's view of the outbox, against stores made by open.
func RunOutbox(t *testing.T, open Opener) {
	tests := []suiteCase{
		{"QueueOncePerKey", testQueueOnce},
		{"ClaimLeases", testClaimLeases},
		{"ConcurrentClaimsNeverShare", testConcurrentClaims},
		{"CompleteErasesMail", testCompleteErasesMail},
		{"RetryThenGiveUp", testRetryGiveUp},
		{"RecordedEventsAreDue", testRecordedEventsDue},
	}
	runSuite(t, open, tests)
}

const webhookKind = "webhook_test"

func mailEvent(key, to string, at time.Time) pledge.Event {
	return pledge.Event{Kind: pledge.EventMail, Key: pledge.EventMail + ":" + key,
		Payload: `{"to":"` + to + `","subject":"s","text":"https://kommunity.example/reset/secret"}`, At: at}
}

func queue(t testing.TB, st pledge.Store, events ...pledge.Event) {
	t.Helper()
	for _, e := range events {
		if err := st.QueueEvent(context.Background(), e); err != nil {
			t.Fatalf("queue %s: %v", e.Key, err)
		}
	}
}

func claim(t *testing.T, st pledge.Store, kinds []string, now time.Time, lease time.Duration, limit int) []pledge.OutboxEvent {
	t.Helper()
	got, err := st.ClaimEvents(context.Background(), kinds, now, lease, limit)
	if err != nil {
		t.Fatalf("claim at %v: %v", now, err)
	}
	return got
}

func eventKeys(es []pledge.OutboxEvent) string {
	var keys []string
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	return strings.Join(keys, " ")
}

func testQueueOnce(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	st := storeOf(svc)
	first := mailEvent("one", "a@example.dk", Now)
	second := first
	second.Payload, second.At = `{"to":"b@example.dk"}`, Now.Add(time.Hour)
	queue(t, st, first, second, pledge.Event{Kind: webhookKind, AreaCode: "A", Key: "hook:1", Payload: `{}`, At: Now.Add(time.Second)})
	all, err := st.OutboxEvents(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Key != first.Key || all[1].Key != "hook:1" {
		t.Fatalf("events = %+v", all)
	}
	e := all[0]
	if e.ID == 0 || e.Kind != pledge.EventMail || e.AreaCode != "" || e.Payload != first.Payload || !e.At.Equal(Now) ||
		e.Attempts != 0 || !e.NextAttemptAt.Equal(Now) || e.DeliveredAt != nil || e.LastError != "" || e.Dead {
		t.Errorf("queued event = %+v", e)
	}
	if mails, _ := st.OutboxEvents(ctx, pledge.EventMail); eventKeys(mails) != first.Key {
		t.Errorf("mail events = %s", eventKeys(mails))
	}
	if none, err := st.OutboxEvents(ctx, "nothing"); err != nil || len(none) != 0 {
		t.Errorf("events of an unknown kind = %+v, %v", none, err)
	}
	// Events, the older view, lists them too.
	events, err := st.Events(ctx)
	if err != nil || len(events) != 2 || events[1].AreaCode != "A" || events[1].Kind != webhookKind {
		t.Errorf("Events = %+v, %v", events, err)
	}
}

func testClaimLeases(t *testing.T, svc *pledge.Service) {
	st := storeOf(svc)
	mail := []string{pledge.EventMail}
	queue(t, st, mailEvent("1", "a@example.dk", Now), mailEvent("2", "b@example.dk", Now),
		pledge.Event{Kind: webhookKind, Key: "hook:1", Payload: `{}`, At: Now},
		mailEvent("3", "c@example.dk", Now), mailEvent("later", "d@example.dk", Now.Add(time.Hour)))
	if got := claim(t, st, mail, Now.Add(-time.Second), time.Minute, 10); len(got) != 0 {
		t.Errorf("claimed before due: %s", eventKeys(got))
	}
	got := claim(t, st, mail, Now, time.Minute, 2)
	if eventKeys(got) != "mail:1 mail:2" {
		t.Fatalf("first claim = %s, want the two oldest mails", eventKeys(got))
	}
	if got = claim(t, st, mail, Now, time.Minute, 10); eventKeys(got) != "mail:3" {
		t.Errorf("second claim = %s, want the one not leased", eventKeys(got))
	}
	if got = claim(t, st, mail, Now.Add(59*time.Second), time.Minute, 10); len(got) != 0 {
		t.Errorf("claim within the lease = %s", eventKeys(got))
	}
	if got = claim(t, st, []string{webhookKind, "other"}, Now, time.Minute, 10); eventKeys(got) != "hook:1" {
		t.Errorf("webhook claim = %s", eventKeys(got))
	}
	if got = claim(t, st, nil, Now, time.Minute, 10); len(got) != 0 {
		t.Errorf("claim of no kinds = %s", eventKeys(got))
	}
	// After the lease (the dispatcher died) they are due again.
	got = claim(t, st, mail, Now.Add(time.Minute), 2*time.Hour, 10)
	if eventKeys(got) != "mail:1 mail:2 mail:3" {
		t.Errorf("claim after the lease = %s", eventKeys(got))
	}
	if got = claim(t, st, mail, Now.Add(time.Hour), time.Minute, 10); eventKeys(got) != "mail:later" {
		t.Errorf("claim an hour on = %s; the others are leased again", eventKeys(got))
	}
	for _, e := range got {
		if e.Payload == "" || e.Attempts != 0 || e.DeliveredAt != nil {
			t.Errorf("claimed event = %+v", e)
		}
	}
}

func testConcurrentClaims(t *testing.T, svc *pledge.Service) {
	st := storeOf(svc)
	const n = 40
	for i := range n {
		queue(t, st, mailEvent(fmt.Sprintf("%02d", i), "x@example.dk", Now))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded, so a store that hands out leased events fails
			// here instead of looping.
			for range n {
				got, err := st.ClaimEvents(context.Background(), []string{pledge.EventMail}, Now, time.Hour, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					seen[e.Key]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != n {
		t.Errorf("claimed %d distinct events, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", k, c)
		}
	}
}

func testCompleteErasesMail(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	st := storeOf(svc)
	queue(t, st, mailEvent("m", "secret@example.dk", Now), pledge.Event{Kind: webhookKind, Key: "hook:1", Payload: `{"area":"A"}`, At: Now})
	got := claim(t, st, []string{pledge.EventMail, webhookKind}, Now, time.Minute, 10)
	if len(got) != 2 {
		t.Fatalf("claimed %s", eventKeys(got))
	}
	done := Now.Add(3 * time.Second)
	for _, e := range got {
		if err := st.CompleteEvent(ctx, e.ID, done); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := st.OutboxEvents(ctx, "")
	for _, e := range all {
		if e.DeliveredAt == nil || !e.DeliveredAt.Equal(done) {
			t.Errorf("%s delivered at %v, want %v", e.Key, e.DeliveredAt, done)
		}
	}
	if all[0].Payload != "{}" {
		t.Errorf("delivered mail keeps its payload %q", all[0].Payload)
	}
	if all[1].Payload != `{"area":"A"}` {
		t.Errorf("delivered webhook payload = %q, want it kept", all[1].Payload)
	}
	if again := claim(t, st, []string{pledge.EventMail, webhookKind}, Now.Add(time.Hour), time.Minute, 10); len(again) != 0 {
		t.Errorf("delivered events claimed again: %s", eventKeys(again))
	}
	wantCode(t, "complete an unknown event", st.CompleteEvent(ctx, all[1].ID+100, done), pledge.ENOTFOUND)
}

func testRetryGiveUp(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	st := storeOf(svc)
	mail := []string{pledge.EventMail}
	queue(t, st, mailEvent("r", "r@example.dk", Now))
	e := claim(t, st, mail, Now, 10*time.Minute, 1)[0]
	next := Now.Add(5 * time.Minute)
	if err := st.RetryEvent(ctx, e.ID, next, "smtp: 451 try again later"); err != nil {
		t.Fatal(err)
	}
	got, _ := st.OutboxEvents(ctx, pledge.EventMail)
	if g := got[0]; g.Attempts != 1 || g.LastError != "smtp: 451 try again later" || !g.NextAttemptAt.Equal(next) || g.Dead || g.DeliveredAt != nil {
		t.Errorf("after a failed attempt = %+v", g)
	}
	if c := claim(t, st, mail, Now.Add(4*time.Minute), time.Minute, 1); len(c) != 0 {
		t.Errorf("claimed before its next attempt: %s", eventKeys(c))
	}
	// The lease was released: it is due at next, not only after the lease.
	c := claim(t, st, mail, next, time.Minute, 1)
	if len(c) != 1 || c[0].Attempts != 1 {
		t.Fatalf("claim at the next attempt = %+v", c)
	}
	long := strings.Repeat("ø", 400) + "\xff" // 801 bytes, one not UTF-8
	if err := st.RetryEvent(ctx, e.ID, time.Time{}, long); err != nil {
		t.Fatal(err)
	}
	got, _ = st.OutboxEvents(ctx, pledge.EventMail)
	if g := got[0]; !g.Dead || g.Attempts != 2 || len(g.LastError) > 500 || !utf8.ValidString(g.LastError) || !strings.HasPrefix(long, g.LastError) || len(g.LastError) < 490 {
		t.Errorf("given up = %+v (%d bytes of error)", g, len(g.LastError))
	}
	if c := claim(t, st, mail, Now.Add(24*time.Hour), time.Minute, 1); len(c) != 0 {
		t.Errorf("a dead event was claimed: %s", eventKeys(c))
	}
	wantCode(t, "retry an unknown event", st.RetryEvent(ctx, e.ID+100, next, "x"), pledge.ENOTFOUND)
}

// testRecordedEventsAreDue: events recorded with a change (a threshold
// crossing, an invitation's e-mail) are due at once for the dispatcher.
func testRecordedEventsDue(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	if _, _, err := svc.CreatePledge(ctx, req("v1", 0), ""); err != nil {
		t.Fatal(err)
	}
	svc.Mail = true
	if _, _, err := svc.Invite(cliContext(), pledge.InviteRequest{Email: "new@example.dk", Role: pledge.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	got := claim(t, storeOf(svc), []string{pledge.EventThresholdReached, pledge.EventMail}, Now, time.Minute, 10)
	if len(got) != 2 || got[0].Kind != pledge.EventThresholdReached || got[0].AreaCode != "V" || got[1].Kind != pledge.EventMail ||
		!strings.Contains(got[1].Payload, "new@example.dk") || got[1].AreaCode != "" {
		t.Errorf("claimed = %+v", got)
	}
}
