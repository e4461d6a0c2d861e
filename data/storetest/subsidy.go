package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// RunSubsidy runs the conformance suite of subsidy rule sets, powers of
// attorney and the annex against stores made by open.
func RunSubsidy(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := newService(st, func() time.Time { return Now })
	mustImport(t, svc)
	ctx := context.Background()
	sys := cliContext()
	coord := coordinatorOf(t, svc, "A")

	// The seeded example applies; a newer set replaces it from its date.
	an, err := svc.SubsidyAnnex(coord, "A", "")
	if err != nil {
		t.Fatal(err)
	}
	if an.Rules.Name != "example-2026" || len(an.Rows) != 0 {
		t.Errorf("annex before pledges: %+v", an)
	}
	if err := svc.SaveSubsidyRules(coord, pledge.SubsidyRules{Name: "x", ValidFrom: Now}); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("a coordinator saves rules: %v", err)
	}
	if err := svc.SaveSubsidyRules(sys, pledge.SubsidyRules{Name: "bad name", ValidFrom: Now}); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("a bad name: %v", err)
	}
	later := pledge.SubsidyRules{Name: "puljen-2027", Title: "Bredbåndspuljen 2027", ValidFrom: Now.AddDate(0, 1, 0), MinOwnPayment: 300000, MaxSubsidyPerAddress: 1500000}
	if err := svc.SaveSubsidyRules(sys, later); err != nil {
		t.Fatal(err)
	}
	now := pledge.SubsidyRules{Name: "puljen-2026b", Title: "Bredbåndspuljen 2026, runde 2", ValidFrom: Now.AddDate(0, 0, -1), MinOwnPayment: 400000, MaxSubsidyPerAddress: 100}
	if err := svc.SaveSubsidyRules(sys, now); err != nil {
		t.Fatal(err)
	}
	rs, err := svc.SubsidyRuleSets(coord)
	if err != nil || len(rs) != 3 || rs[0].Name != "puljen-2027" {
		t.Fatalf("rule sets %+v, %v", rs, err)
	}

	// a2 has 3 units: two pledge, one with a power of attorney from the
	// form; a1 pledges and gives one on paper; giving twice changes nothing.
	p1, _, err := svc.CreatePledge(ctx, req("a2", 1), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreatePledge(ctx, req("a2", 2), ""); err != nil {
		t.Fatal(err)
	}
	p3, _, err := svc.CreatePledge(ctx, req("a1", 1), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ tok, src string }{{p1.Token, pledge.POAForm}, {p1.Token, pledge.POAManage}, {p3.Token, pledge.POAPaper}} {
		if _, err := svc.GivePowerOfAttorney(ctx, g.tok, g.src); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.GivePowerOfAttorney(ctx, "no-such-token", pledge.POAForm); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown token: %v", err)
	}
	if ok, err := svc.HasPowerOfAttorney(ctx, p1.Token); err != nil || !ok {
		t.Errorf("p1 has a power of attorney: %v %v", ok, err)
	}
	poas, err := svc.AreaPowersOfAttorney(coord, "A")
	if err != nil || len(poas) != 2 || poas[0].Source != pledge.POAForm {
		t.Errorf("powers of attorney %+v, %v", poas, err)
	}
	an, err = svc.SubsidyAnnex(coord, "A", "")
	if err != nil {
		t.Fatal(err)
	}
	if an.Rules.Name != "puljen-2026b" || len(an.Rows) != 2 {
		t.Fatalf("annex %+v", an)
	}
	a1, a2 := an.Rows[0], an.Rows[1]
	if a1.AddressID != "a1" || a1.PledgedUnits != 1 || a1.PowerOfAttorney != 1 || !a1.Complete ||
		a2.AddressID != "a2" || a2.Units != 3 || a2.PledgedUnits != 2 || a2.PowerOfAttorney != 1 || a2.Complete || an.Complete != 1 {
		t.Errorf("annex rows %+v %+v", a1, a2)
	}
	if a1.OwnPayment < 400000 || a2.OwnPayment < 800000 || an.OwnPayments != a1.OwnPayment+a2.OwnPayment {
		t.Errorf("own payments %d, %d (min 4,000 kr. each)", a1.OwnPayment, a2.OwnPayment)
	}
	if an.StateSubsidy > 200 {
		t.Errorf("state subsidy %d above the cap of 100 per address", an.StateSubsidy)
	}
	if an2, err := svc.SubsidyAnnex(coord, "A", "puljen-2027"); err != nil || an2.Rules.MinOwnPayment != 300000 {
		t.Errorf("named rules: %+v %v", an2.Rules, err)
	}
	if _, err := svc.SubsidyAnnex(coord, "A", "nope"); pledge.ErrorCode(err) != pledge.EINVALID {
		t.Errorf("unknown rules: %v", err)
	}
	if _, err := svc.SubsidyAnnex(coordinatorOf(t, svc, "B"), "A", ""); pledge.ErrorCode(err) != pledge.EFORBIDDEN {
		t.Errorf("another area's coordinator: %v", err)
	}
	// Withdrawn, a pledge's power of attorney no longer counts.
	if _, err := svc.WithdrawPledge(ctx, p3.Token); err != nil {
		t.Fatal(err)
	}
	if poas, _ := svc.AreaPowersOfAttorney(coord, "A"); len(poas) != 1 {
		t.Errorf("%d powers of attorney after a withdrawal", len(poas))
	}
}
