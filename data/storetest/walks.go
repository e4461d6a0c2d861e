package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/walk"
)

// RunWalks runs the conformance suite of walk lists and address outcomes
// (pledge.WalkStore, through the Service) against stores made by open.
func RunWalks(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *walkEnv)
	}{
		{"GenerateAndList", testWalksGenerate},
		{"CodesUniquePerArea", testWalkCodesUnique},
		{"DoNotKnockRespected", testWalksDoNotKnock},
		{"OutcomeErrorsChangeNothing", testWalkOutcomeErrors},
		{"AssignReturnExpire", testWalkAssign},
		{"Permissions", testWalkPermissions},
		{"AlongRoads", testWalksAlongRoads},
		{"ConcurrentBatches", testWalksConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			clk := &clock{t: Now}
			e := &walkEnv{tenderEnv: tenderEnv{accountEnv: accountEnv{st: st, clock: clk, svc: newService(st, clk.Now)}}}
			mustImport(t, e.svc)
			if _, err := e.svc.ImportAddresses(context.Background(), src(villageAddresses()...), pledge.AddressImportOptions{}); err != nil {
				t.Fatal(err)
			}
			e.coord = e.user(t, "coord@example.org", pledge.RoleCoordinator, "", "V")
			e.other = e.user(t, "other@example.org", pledge.RoleCoordinator, "", "A")
			e.admin = e.user(t, "admin@example.org", pledge.RoleAdmin, "")
			e.provA = e.user(t, "a@fiber-a.example", pledge.RoleProvider, "Fiber A/S")
			tc.fn(t, e)
		})
	}
}

type walkEnv struct{ tenderEnv }

func (e *walkEnv) generate(t *testing.T, size int) []pledge.Walk {
	t.Helper()
	ws, err := e.svc.GenerateWalks(e.coord, "V", size)
	if err != nil {
		t.Fatalf("generate walks of %d: %v", size, err)
	}
	return ws
}

func stopIDs(ws []pledge.Walk) []string {
	var ids []string
	for _, w := range ws {
		for _, s := range w.Stops {
			ids = append(ids, s.Address.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func testWalksGenerate(t *testing.T, e *walkEnv) {
	// v-02 (2 units) fully pledged: not walked; v-05 (3 units) with one
	// pledge still has households to ask.
	for range 2 {
		if _, _, err := e.svc.CreatePledge(context.Background(), req("v-02", 0), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.svc.CreatePledge(context.Background(), req("v-05", 0), ""); err != nil {
		t.Fatal(err)
	}
	ws := e.generate(t, 3)
	want := []string{"v-01", "v-03", "v-04", "v-05", "v-06", "v1"}
	if got := stopIDs(ws); !slices.Equal(got, want) {
		t.Fatalf("walked addresses %v, want %v", got, want)
	}
	if len(ws) != 2 {
		t.Fatalf("%d walks of at most 3 for 6 addresses, want 2", len(ws))
	}
	for i, w := range ws {
		if w.ID == 0 || w.Batch != 1 || w.Number != i+1 || w.Size != 3 || len(w.Stops) != 3 || w.CreatedBy != "coord@example.org" || !w.CreatedAt.Equal(Now) {
			t.Errorf("walk %d = %+v", i, w)
		}
		var sum float64
		for j, s := range w.Stops {
			if s.Seq != j+1 || s.Code != pledge.WalkCode(1, i+1, j+1) {
				t.Errorf("walk %d stop %d: seq %d code %s", i, j, s.Seq, s.Code)
			}
			sum += s.LegM
		}
		if w.LengthM <= 0 || sum < w.LengthM-0.01 || sum > w.LengthM+0.01 {
			t.Errorf("walk %d: length %.1f m, legs sum to %.1f m", i, w.LengthM, sum)
		}
	}
	if ws[0].Stops[0].Code != "1W1-01" {
		t.Errorf("first code %s, want 1W1-01", ws[0].Stops[0].Code)
	}
	// Listed as stored: same walks, stops in order, addresses filled in.
	got, err := e.svc.Walks(e.coord, "V")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("listed %d walks, want 2", len(got))
	}
	for i := range got {
		if got[i].ID != ws[i].ID || got[i].LengthM != ws[i].LengthM || len(got[i].Stops) != len(ws[i].Stops) {
			t.Fatalf("listed walk %d = %+v, generated %+v", i, got[i], ws[i])
		}
		for j, s := range got[i].Stops {
			g := ws[i].Stops[j]
			if s.Code != g.Code || s.Address.ID != g.Address.ID || s.Address.Text == "" || s.Address.Point != g.Address.Point ||
				s.Address.Units != g.Address.Units || s.Drive != g.Drive || s.Address.AreaCode != "V" {
				t.Errorf("listed stop %+v, generated %+v", s, g)
			}
		}
	}
	if v5 := findStop(got, "v-05"); v5.Address.PledgedUnits != 1 || v5.Address.Units != 3 {
		t.Errorf("v-05 on the walk: %+v, want 1 of 3 units pledged", v5.Address)
	}
	w, err := e.svc.Walk(e.coord, ws[1].ID)
	if err != nil || w.Number != 2 || len(w.Stops) != 3 {
		t.Errorf("walk by id = %+v, %v", w, err)
	}
	if _, err := e.svc.Walk(e.coord, 999999); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("unknown walk: %v", err)
	}
	ad, err := e.svc.AddressByWalkCode(e.coord, "V", strings.ToLower(ws[0].Stops[1].Code))
	if err != nil || ad.ID != ws[0].Stops[1].Address.ID {
		t.Errorf("address by code = %+v, %v", ad, err)
	}
	if !slices.Contains(e.auditActions(t, pledge.AuditFilter{}), "walks.generate") {
		t.Error("no walks.generate audit entry")
	}
	// An area without walks lists none; an unknown area is not found.
	if ws, err := e.svc.Walks(e.admin, "A"); err != nil || len(ws) != 0 {
		t.Errorf("walks of A = %v, %v", ws, err)
	}
	if _, err := e.svc.Walks(e.admin, "NOPE"); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("walks of an unknown area: %v", err)
	}
	for _, size := range []int{0, 1, pledge.MaxWalkSize + 1} {
		if _, err := e.svc.GenerateWalks(e.coord, "V", size); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Errorf("size %d: %v, want EINVALID", size, err)
		}
	}
}

func findStop(ws []pledge.Walk, id string) pledge.WalkStop {
	for _, w := range ws {
		for _, s := range w.Stops {
			if s.Address.ID == id {
				return s
			}
		}
	}
	return pledge.WalkStop{}
}

func testWalkCodesUnique(t *testing.T, e *walkEnv) {
	first := e.generate(t, 4)
	// WalksOfSize answers the stored batch of that size, and makes one
	// only when there is none.
	again, err := e.svc.WalksOfSize(e.coord, "V", 4)
	if err != nil || len(again) != len(first) || again[0].ID != first[0].ID {
		t.Fatalf("walks of size 4 again = %v, %v", again, err)
	}
	second, err := e.svc.WalksOfSize(e.coord, "V", 2)
	if err != nil {
		t.Fatal(err)
	}
	if second[0].Batch != 2 || second[0].Stops[0].Code != "2W1-01" {
		t.Errorf("second batch %d, first code %s", second[0].Batch, second[0].Stops[0].Code)
	}
	seen := map[string]bool{}
	for _, ws := range [][]pledge.Walk{first, second} {
		for _, w := range ws {
			for _, s := range w.Stops {
				if seen[s.Code] {
					t.Errorf("code %s twice", s.Code)
				}
				seen[s.Code] = true
			}
		}
	}
	// The latest batch is what Walks lists; either batch's codes resolve.
	if ws, _ := e.svc.Walks(e.coord, "V"); len(ws) == 0 || ws[0].Batch != 2 {
		t.Errorf("Walks lists batch %v, want 2", ws)
	}
	if ad, err := e.svc.AddressByWalkCode(e.coord, "V", first[0].Stops[0].Code); err != nil || ad.ID != first[0].Stops[0].Address.ID {
		t.Errorf("first batch's code: %+v, %v", ad, err)
	}
	// A code of V means nothing in A.
	if _, err := e.svc.AddressByWalkCode(e.admin, "A", first[0].Stops[0].Code); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("V's code in A: %v", err)
	}
}

func testWalksDoNotKnock(t *testing.T, e *walkEnv) {
	ws := e.generate(t, 10)
	var stop pledge.WalkStop
	for _, s := range ws[0].Stops {
		if s.Address.ID != "v-01" && s.Address.ID != "v-04" {
			stop = s
		}
	}
	o, err := e.svc.RecordOutcome(e.coord, "V", pledge.OutcomeRequest{Code: " " + strings.ToLower(stop.Code), Outcome: pledge.OutcomeDoNotKnock})
	if err != nil {
		t.Fatal(err)
	}
	if o.AddressID != stop.Address.ID || !o.DoNotKnock || o.Code != stop.Code || o.By != "coord@example.org" || !o.At.Equal(Now) {
		t.Errorf("outcome = %+v", o)
	}
	if _, err := e.svc.RecordOutcome(e.coord, "V", pledge.OutcomeRequest{AddressID: "v-01", Outcome: pledge.OutcomeNotHome}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordOutcome(e.coord, "V", pledge.OutcomeRequest{AddressID: "v-04", Outcome: pledge.OutcomePledgedPaper}); err != nil {
		t.Fatal(err)
	}
	// A later outcome does not lift do-not-knock.
	e.clock.Add(time.Hour)
	o, err = e.svc.RecordOutcome(e.coord, "V", pledge.OutcomeRequest{AddressID: stop.Address.ID, Outcome: pledge.OutcomeVisited})
	if err != nil || !o.DoNotKnock || o.Outcome != pledge.OutcomeVisited {
		t.Errorf("visited after do-not-knock = %+v, %v", o, err)
	}
	all, err := e.svc.AddressOutcomes(e.coord, "V")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || !all[stop.Address.ID].DoNotKnock || all["v-01"].Outcome != pledge.OutcomeNotHome || all["v-01"].DoNotKnock ||
		!all[stop.Address.ID].At.Equal(Now.Add(time.Hour)) || all[stop.Address.ID].Code != "" {
		t.Errorf("outcomes = %+v", all)
	}
	next := e.generate(t, 10)
	ids := stopIDs(next)
	if slices.Contains(ids, stop.Address.ID) {
		t.Errorf("do-not-knock address %s on the next batch: %v", stop.Address.ID, ids)
	}
	if slices.Contains(ids, "v-04") {
		t.Errorf("address with a paper pledge to enter on the next batch: %v", ids)
	}
	if !slices.Contains(ids, "v-01") {
		t.Errorf("not-home address v-01 missing from the next batch: %v", ids)
	}
	n := 0
	for _, a := range e.auditActions(t, pledge.AuditFilter{}) {
		if a == "address.outcome" {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d address.outcome audit entries, want 4", n)
	}
}

func testWalkOutcomeErrors(t *testing.T, e *walkEnv) {
	ws := e.generate(t, 10)
	code := ws[0].Stops[0].Code
	for name, tc := range map[string]struct {
		req   pledge.OutcomeRequest
		code  string
		field string
	}{
		"BadOutcome":    {pledge.OutcomeRequest{Code: code, Outcome: "maybe"}, pledge.EINVALID, "outcome"},
		"NoOutcome":     {pledge.OutcomeRequest{Code: code}, pledge.EINVALID, "outcome"},
		"MalformedCode": {pledge.OutcomeRequest{Code: "1W1-01'; DROP TABLE walks", Outcome: pledge.OutcomeVisited}, pledge.EINVALID, "code"},
		"UnknownCode":   {pledge.OutcomeRequest{Code: "99W1-01", Outcome: pledge.OutcomeVisited}, pledge.ENOTFOUND, ""},
		"Both":          {pledge.OutcomeRequest{Code: code, AddressID: "v-01", Outcome: pledge.OutcomeVisited}, pledge.EINVALID, "code"},
		"Neither":       {pledge.OutcomeRequest{Outcome: pledge.OutcomeVisited}, pledge.EINVALID, "code"},
		"OtherArea":     {pledge.OutcomeRequest{AddressID: "a1", Outcome: pledge.OutcomeVisited}, pledge.EINVALID, "address_id"},
		"NoAddress":     {pledge.OutcomeRequest{AddressID: "nope", Outcome: pledge.OutcomeVisited}, pledge.ENOTFOUND, ""},
	} {
		_, err := e.svc.RecordOutcome(e.coord, "V", tc.req)
		var pe *pledge.Error
		if pledge.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		} else if tc.field != "" && (!errors.As(err, &pe) || pe.Field != tc.field) {
			t.Errorf("%s: %v, want field %s", name, err, tc.field)
		}
	}
	if all, err := e.svc.AddressOutcomes(e.coord, "V"); err != nil || len(all) != 0 {
		t.Errorf("outcomes after rejected requests: %v, %v", all, err)
	}
}

func testWalkAssign(t *testing.T, e *walkEnv) {
	ws := e.generate(t, 3)
	id := ws[0].ID
	w, err := e.svc.AssignWalk(e.coord, id, "  Kirsten   Ødegaard ", 7)
	if err != nil {
		t.Fatal(err)
	}
	if w.AssignedTo != "Kirsten Ødegaard" || !w.AssignedAt.Equal(Now) || !w.ExpiresAt.Equal(Now.AddDate(0, 0, 7)) || w.ReturnedAt != nil || !w.Taken(Now) {
		t.Errorf("assigned walk = %+v", w)
	}
	stored, _ := e.svc.Walk(e.coord, id)
	if stored.AssignedTo != "Kirsten Ødegaard" || stored.ExpiresAt == nil || !stored.ExpiresAt.Equal(Now.AddDate(0, 0, 7)) {
		t.Errorf("stored walk = %+v", stored)
	}
	if _, err := e.svc.AssignWalk(e.coord, id, "Bo", 7); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("assign a taken walk: %v", err)
	}
	for name, tc := range map[string]struct {
		name string
		days int
	}{"NoName": {" ", 7}, "LongName": {strings.Repeat("x", 101), 7}, "Invisible": {"Bo\u200b", 7}, "Days": {"Bo", pledge.MaxWalkDays + 1}, "NegativeDays": {"Bo", -1}} {
		if _, err := e.svc.AssignWalk(e.coord, ws[1].ID, tc.name, tc.days); pledge.ErrorCode(err) != pledge.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if w, _ := e.svc.Walk(e.coord, ws[1].ID); w.AssignedTo != "" {
		t.Errorf("rejected assignment stored: %+v", w)
	}
	// Expired: free again, and may go to someone else.
	e.clock.Add(8 * 24 * time.Hour)
	w, err = e.svc.AssignWalk(e.coord, id, "Bo", 0)
	if err != nil || w.AssignedTo != "Bo" || !w.ExpiresAt.Equal(e.clock.Now().AddDate(0, 0, pledge.DefaultWalkDays)) {
		t.Fatalf("assign an expired walk = %+v, %v", w, err)
	}
	w, err = e.svc.ReturnWalk(e.coord, id)
	if err != nil || w.ReturnedAt == nil || w.Taken(e.clock.Now()) {
		t.Fatalf("return = %+v, %v", w, err)
	}
	if _, err := e.svc.ReturnWalk(e.coord, id); pledge.ErrorCode(err) != pledge.ECONFLICT {
		t.Errorf("return a returned walk: %v", err)
	}
	if _, err := e.svc.AssignWalk(e.coord, id, "Bo", 3); err != nil {
		t.Errorf("assign a returned walk: %v", err)
	}
	if _, err := e.svc.AssignWalk(e.coord, 999999, "Bo", 3); pledge.ErrorCode(err) != pledge.ENOTFOUND {
		t.Errorf("assign an unknown walk: %v", err)
	}
	acts := e.auditActions(t, pledge.AuditFilter{})
	var assigns, returns int
	for _, a := range acts {
		switch a {
		case "walk.assign":
			assigns++
		case "walk.return":
			returns++
		}
	}
	if assigns != 3 || returns != 1 {
		t.Errorf("audit: %d walk.assign, %d walk.return; want 3 and 1", assigns, returns)
	}
}

func testWalkPermissions(t *testing.T, e *walkEnv) {
	ws := e.generate(t, 3)
	anon := context.Background()
	for name, ctx := range map[string]context.Context{"Anonymous": anon, "OtherCoordinator": e.other, "Provider": e.provA} {
		want := pledge.EFORBIDDEN
		if ctx == anon {
			want = pledge.EUNAUTHORIZED
		}
		check := func(what string, err error) {
			if pledge.ErrorCode(err) != want {
				t.Errorf("%s %s: %v, want %s", name, what, err, want)
			}
		}
		_, err := e.svc.GenerateWalks(ctx, "V", 3)
		check("generate", err)
		_, err = e.svc.Walks(ctx, "V")
		check("list", err)
		_, err = e.svc.WalksOfSize(ctx, "V", 3)
		check("list of size", err)
		_, err = e.svc.Walk(ctx, ws[0].ID)
		check("walk", err)
		_, err = e.svc.AssignWalk(ctx, ws[0].ID, "Bo", 3)
		check("assign", err)
		_, err = e.svc.ReturnWalk(ctx, ws[0].ID)
		check("return", err)
		_, err = e.svc.RecordOutcome(ctx, "V", pledge.OutcomeRequest{Code: ws[0].Stops[0].Code, Outcome: pledge.OutcomeVisited})
		check("outcome", err)
		_, err = e.svc.AddressOutcomes(ctx, "V")
		check("outcomes", err)
		_, err = e.svc.AddressByWalkCode(ctx, "V", ws[0].Stops[0].Code)
		check("by code", err)
	}
	if _, err := e.svc.AssignWalk(e.admin, ws[0].ID, "Bo", 3); err != nil {
		t.Errorf("admin assigns: %v", err)
	}
	if w, _ := e.svc.Walk(e.coord, ws[0].ID); w.AssignedTo != "Bo" {
		t.Errorf("after refused requests and the admin's: %+v", w)
	}
}

func testWalksAlongRoads(t *testing.T, e *walkEnv) {
	straight := e.generate(t, 10)
	// A road grid around V, 0.005° (about 330 m by 550 m) apart: road
	// distances are longer than straight ones.
	if _, err := e.svc.ImportRoads(cliContext(), grid(9.48, 54.48, 0.005, 8)); err != nil {
		t.Fatal(err)
	}
	roads := e.generate(t, 10)
	if len(straight) != 1 || len(roads) != 1 {
		t.Fatalf("%d and %d walks, want 1 each", len(straight), len(roads))
	}
	var direct float64
	for i := 1; i < len(roads[0].Stops); i++ {
		direct += walk.Haversine(roads[0].Stops[i-1].Address.Point, roads[0].Stops[i].Address.Point)
	}
	if roads[0].LengthM < direct*1.05 {
		t.Errorf("along the roads %.0f m, straight along the same order %.0f m: roads not used", roads[0].LengthM, direct)
	}
	if straight[0].LengthM > roads[0].LengthM {
		t.Errorf("straight walk %.0f m longer than the road walk %.0f m", straight[0].LengthM, roads[0].LengthM)
	}
}

func testWalksConcurrent(t *testing.T, e *walkEnv) {
	var wg sync.WaitGroup
	batches := make([]int, 4)
	errs := make([]error, 4)
	for i := range batches {
		wg.Go(func() {
			ws, err := e.svc.GenerateWalks(e.coord, "V", 3)
			errs[i] = err
			if err == nil {
				batches[i] = ws[0].Batch
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(batches)
	if !slices.Equal(batches, []int{1, 2, 3, 4}) {
		t.Errorf("concurrent batches numbered %v, want 1-4", batches)
	}
}
