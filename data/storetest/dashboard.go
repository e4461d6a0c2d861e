package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunDashboard runs the dashboard's conformance suite (the pledge history
// behind take-up over time) against stores made by open.
func RunDashboard(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: Now}
	svc := newService(st, clk.Now)
	mustImport(t, svc)
	ctx := context.Background()
	coord := coordinatorOf(t, svc, "A")
	deadline := Now.AddDate(0, 0, 10)
	if _, err := svc.UpdateAreaSettings(coord, "A", pledge.AreaSettings{Deadline: &deadline}); err != nil {
		t.Fatal(err)
	}
	// A has a1 (1 unit), a2 (3), a-edge (1): 5 units, threshold 50 %: 3.
	// Day 0: two pledges; day 2: one more; day 3: one withdrawn.
	var tokens []string
	for _, r := range []pledge.PledgeRequest{req("a2", 1), req("a2", 2)} {
		p, _, err := svc.CreatePledge(ctx, r, "")
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, p.Token)
	}
	clk.Add(48 * time.Hour)
	if _, _, err := svc.CreatePledge(ctx, req("a1", 1), ""); err != nil {
		t.Fatal(err)
	}
	clk.Add(24 * time.Hour)
	if _, err := svc.WithdrawPledge(ctx, tokens[0]); err != nil {
		t.Fatal(err)
	}
	clk.Add(24 * time.Hour)
	d, err := svc.Dashboard(coord, "A")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, day := range d.Days {
		got = append(got, day.Units)
	}
	want := []int{2, 2, 3, 2, 2} // days 0-4
	if len(got) != len(want) || !d.Start.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("days %v from %v, want %v from 2026-11-27", got, d.Start, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("days %v, want %v", got, want)
		}
	}
	if d.ThresholdUnits != 3 || d.DaysLeft == nil || *d.DaysLeft != 6 {
		t.Errorf("threshold units %d, days left %v", d.ThresholdUnits, d.DaysLeft)
	}
	// Day 4 of 10 on the straight line to 3 units: 1.2, rounded 1.
	if d.Target == nil || *d.Target != 1 {
		t.Errorf("target %v, want 1", d.Target)
	}
	if _, err := svc.Dashboard(coordinatorOf(t, svc, "B"), "A"); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("another area's coordinator: %v", err)
	}
	if _, err := st.PledgeHistory(ctx, "NOPE"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown area: %v", err)
	}
}

// coordinatorOf makes a coordinator of code and returns their context.
func coordinatorOf(t *testing.T, svc *pledge.Service, code string) context.Context {
	t.Helper()
	email := "coord-" + code + "@example.org"
	_, link, err := svc.Invite(cliContext(), pledge.InviteRequest{Email: email, Name: "C", Role: pledge.RoleCoordinator, Areas: []string{code}})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := strings.Cut(link, "/invitations/")
	u, err := svc.AcceptInvitation(context.Background(), secret, goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	return pledge.WithUser(context.Background(), &u)
}
