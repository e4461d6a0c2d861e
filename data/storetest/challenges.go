package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/pledge"
)

// RunChallenges runs the challenge suite against stores made by open.
func RunChallenges(t *testing.T, open Opener) {
	runSuite(t, open, []suiteCase{
		{"ReportValidates", testChallengeReport},
		{"DecisionChangesEligibleUnits", testChallengeDecision},
	})
}

func testChallengeReport(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	for _, tc := range []struct {
		name  string
		req   pledge.ChallengeRequest
		field string
	}{
		{"ErrKind", pledge.ChallengeRequest{AddressID: "a1", Kind: "haunted"}, "kind"},
		{"ErrNoAddress", pledge.ChallengeRequest{Kind: pledge.ChallengeRuin}, "address_id"},
		{"ErrUnknownAddress", pledge.ChallengeRequest{AddressID: "nope", Kind: pledge.ChallengeRuin}, "address_id"},
		{"ErrMissingWithoutNote", pledge.ChallengeRequest{Kind: pledge.ChallengeMissing}, "note"},
		{"ErrWrongUnitsWithoutCount", pledge.ChallengeRequest{AddressID: "a2", Kind: pledge.ChallengeWrongUnits}, "proposed_units"},
		{"ErrWrongUnitsSameCount", pledge.ChallengeRequest{AddressID: "a2", Kind: pledge.ChallengeWrongUnits, ProposedUnits: 3}, "proposed_units"},
		{"ErrCountOnRuin", pledge.ChallengeRequest{AddressID: "a2", Kind: pledge.ChallengeRuin, ProposedUnits: 2}, "proposed_units"},
		{"ErrNoteInvisible", pledge.ChallengeRequest{AddressID: "a1", Kind: pledge.ChallengeRuin, Note: "tom\u202e"}, "note"},
		{"ErrNoteLong", pledge.ChallengeRequest{AddressID: "a1", Kind: pledge.ChallengeRuin, Note: strings.Repeat("ø", 1001)}, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := svc.ReportChallenge(ctx, tc.req); pledge.ErrorCode(err) != pledge.EINVALID || errorField(err) != tc.field {
				t.Errorf("%v; want EINVALID on %s", err, tc.field)
			}
		})
	}
	if cs, err := storeOf(svc).AreaChallenges(ctx, "A"); err != nil || len(cs) != 0 {
		t.Fatalf("refused reports stored %d challenges (%v)", len(cs), err)
	}
	c, link, err := svc.ReportChallenge(ctx, pledge.ChallengeRequest{Kind: pledge.ChallengeMissing, Note: "Skovvej 3 mangler\nved siden af nr. 1"})
	if err != nil || c.AreaCode != "" || c.Status != pledge.ChallengeOpen || c.ReportedBy != "" {
		t.Fatalf("missing address: %+v (%v)", c, err)
	}
	secret := link[strings.LastIndex(link, "/")+1:]
	if c.SecretHash != pledge.SecretHash(secret) || !strings.HasPrefix(link, "/challenges/") {
		t.Errorf("link %q, stored hash %q; want /challenges/SECRET with its SHA-256 stored", link, c.SecretHash)
	}
	got, err := svc.ChallengeOutcome(ctx, secret)
	if err != nil || got.ID != c.ID || got.Note != "Skovvej 3 mangler\nved siden af nr. 1" {
		t.Errorf("outcome: %+v (%v)", got, err)
	}
	if _, err := svc.ChallengeOutcome(ctx, "nope"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown link: %v; want ENOTFOUND", err)
	}
	by, _, err := svc.ReportChallenge(cliContext(), pledge.ChallengeRequest{AddressID: "a1", Kind: pledge.ChallengeEmpty})
	if err != nil || by.AreaCode != "A" || by.ReportedBy != "cli" {
		t.Errorf("a coordinator's report: %+v (%v)", by, err)
	}
}

func testChallengeDecision(t *testing.T, svc *pledge.Service) {
	ctx := context.Background()
	mustImport(t, svc)
	report := func(r pledge.ChallengeRequest) (pledge.Challenge, string) {
		t.Helper()
		c, link, err := svc.ReportChallenge(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return c, link[strings.LastIndex(link, "/")+1:]
	}
	ruin, ruinSecret := report(pledge.ChallengeRequest{AddressID: "a1", Kind: pledge.ChallengeRuin, Note: "brændt ned i 2019"})
	if _, err := svc.DecideChallenge(ctx, "A", ruin.ID, true, "set on site"); pledge.ErrorCode(err) != pledge.EUNAUTHORIZED {
		t.Errorf("anonymous decision: %v; want EUNAUTHORIZED", err)
	}
	if _, err := svc.DecideChallenge(cliContext(), "A", ruin.ID, true, " "); errorField(err) != "reason" {
		t.Errorf("decision without a reason: %v; want EINVALID on reason", err)
	}
	if _, err := svc.DecideChallenge(cliContext(), "B", ruin.ID, true, "x"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("decision in another area: %v; want ENOTFOUND", err)
	}
	before := areaByCode(t, svc, "A")
	got, err := svc.DecideChallenge(cliContext(), "A", ruin.ID, true, "Set on site: the house is gone")
	if err != nil || got.Status != pledge.ChallengeAccepted || got.UnitsBefore == nil || *got.UnitsBefore != 1 || *got.UnitsAfter != 0 {
		t.Fatalf("accept ruin: %+v (%v)", got, err)
	}
	after := areaByCode(t, svc, "A")
	if after.Units != before.Units-1 || after.Addresses != before.Addresses-1 {
		t.Errorf("A after the ruin: %d units, %d addresses; want %d, %d", after.Units, after.Addresses, before.Units-1, before.Addresses-1)
	}
	if a, err := svc.Address(ctx, "a1"); err != nil || a.AreaCode != "" {
		t.Errorf("the ruin is still in area %q (%v)", a.AreaCode, err)
	}
	if _, _, err := svc.CreatePledge(ctx, req("a1", 0), ""); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("pledge at the ruin: %v; want EINVALID (outside every area)", err)
	}
	if o, err := svc.ChallengeOutcome(ctx, ruinSecret); err != nil || o.Status != pledge.ChallengeAccepted || o.Reason != "Set on site: the house is gone" {
		t.Errorf("the reporter sees %+v (%v)", o, err)
	}
	if _, err := svc.DecideChallenge(cliContext(), "A", ruin.ID, false, "again"); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("second decision: %v; want ECONFLICT", err)
	}

	// Fewer units than active pledges is refused, and changes nothing.
	for range 2 {
		if _, _, err := svc.CreatePledge(ctx, req("a2", 0), ""); err != nil {
			t.Fatal(err)
		}
	}
	fewer, _ := report(pledge.ChallengeRequest{AddressID: "a2", Kind: pledge.ChallengeWrongUnits, ProposedUnits: 1})
	if _, err := svc.DecideChallenge(cliContext(), "A", fewer.ID, true, "ok"); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("accept below the pledges: %v; want ECONFLICT", err)
	}
	if a := areaByCode(t, svc, "A"); a.Units != after.Units {
		t.Errorf("a refused acceptance moved A's units %d -> %d", after.Units, a.Units)
	}
	if c, err := storeOf(svc).ChallengeByID(ctx, fewer.ID); err != nil || c.Status != pledge.ChallengeOpen {
		t.Errorf("the refused challenge is %s (%v); want open", c.Status, err)
	}
	if got, err := svc.DecideChallenge(cliContext(), "A", fewer.ID, false, "Tre lejligheder, set i BBR"); err != nil || got.Status != pledge.ChallengeRejected || got.UnitsBefore != nil {
		t.Errorf("reject: %+v (%v)", got, err)
	}
	// More units raise the denominator.
	more, _ := report(pledge.ChallengeRequest{AddressID: "b2", Kind: pledge.ChallengeWrongUnits, ProposedUnits: 6})
	b := areaByCode(t, svc, "B")
	if _, err := svc.DecideChallenge(cliContext(), "B", more.ID, true, "Two flats added"); err != nil {
		t.Fatal(err)
	}
	if a := areaByCode(t, svc, "B"); a.Units != b.Units+2 {
		t.Errorf("B's units %d -> %d; want +2", b.Units, a.Units)
	}
	if a, _ := svc.Address(ctx, "b2"); a.Units != 6 {
		t.Errorf("b2 has %d units; want 6", a.Units)
	}
	// V (v1, 2 units, 50 %): one pledge reaches it; 4 units undo that,
	// and going back to 2 reaches it again, in the decision's transaction.
	if _, _, err := svc.CreatePledge(ctx, pledge.PledgeRequest{AddressID: "v1", Name: "Vera", Email: "vera@example.dk", Consent: true}, ""); err != nil {
		t.Fatal(err)
	}
	if v := areaByCode(t, svc, "V"); v.Status != pledge.StatusThresholdReached {
		t.Fatalf("V is %s; want threshold_reached", v.Status)
	}
	up, _ := report(pledge.ChallengeRequest{AddressID: "v1", Kind: pledge.ChallengeWrongUnits, ProposedUnits: 4})
	if _, err := svc.DecideChallenge(cliContext(), "V", up.ID, true, "Four flats"); err != nil {
		t.Fatal(err)
	}
	if v := areaByCode(t, svc, "V"); v.Status != pledge.StatusCollecting || v.Units != 4 {
		t.Errorf("V after more units: %s with %d units; want collecting with 4", v.Status, v.Units)
	}
	down, _ := report(pledge.ChallengeRequest{AddressID: "v1", Kind: pledge.ChallengeWrongUnits, ProposedUnits: 2})
	if _, err := svc.DecideChallenge(cliContext(), "V", down.ID, true, "Two flats after all"); err != nil {
		t.Fatal(err)
	}
	if v := areaByCode(t, svc, "V"); v.Status != pledge.StatusThresholdReached {
		t.Errorf("V after fewer units: %s; want threshold_reached", v.Status)
	}

	cs, err := svc.AreaChallenges(cliContext(), "A")
	if err != nil || len(cs) != 2 || cs[0].ID != fewer.ID {
		t.Errorf("A's challenges: %d (%v); want 2, newest first", len(cs), err)
	}
	entries, err := svc.Audit(cliContext(), "A", 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if !strings.Contains(strings.Join(actions, " "), "challenge.accepted") || !strings.Contains(strings.Join(actions, " "), "challenge.rejected") {
		t.Errorf("audit actions %v; want the acceptance and the rejection", actions)
	}
}
