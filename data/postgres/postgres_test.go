package postgres_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/storetest"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/pledge"
)

// MustOpenStore opens a store on a new database of its own.
func MustOpenStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	st, err := postgres.Open(context.Background(), pgtest.URL(tb), postgres.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestRateCounter(t *testing.T) {
	storetest.RunRateCounter(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestContactUpdater(t *testing.T) {
	storetest.RunContactUpdater(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestLimitedPledger(t *testing.T) {
	storetest.RunLimitedPledger(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestFeatureConformance(t *testing.T) {
	storetest.RunFeatures(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

// schema lists the definitions of the addresses and pledges indexes and
// constraints, and the addresses table's columns and options.
func schema(t *testing.T, st *postgres.Store, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `
		SELECT indexdef FROM pg_indexes WHERE tablename IN ('addresses', 'pledges')
		UNION ALL
		SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid IN ('addresses'::regclass, 'pledges'::regclass)
		UNION ALL
		SELECT 'column ' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
			|| ' ' || coalesce((SELECT collname FROM pg_collation WHERE oid = a.attcollation), '')
		FROM pg_attribute a WHERE a.attrelid = 'addresses'::regclass AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT 'table ' || coalesce(array_to_string(reloptions, ','), '') || ' ' || relpersistence::text FROM pg_class WHERE oid = 'addresses'::regclass
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// A first load drops the indexes and constraints of the empty table and
// makes them again; they must come back exactly as the migrations made them.
// A pool of one connection (--db-max-conns 1) is enough: the load's own
// connections come from outside it.
func TestFirstLoadRemakesSchema(t *testing.T) {
	url := pgtest.URL(t)
	st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := schema(t, st, url)
	if len(before) < 8 {
		t.Fatalf("schema = %q, want the migrations' indexes and constraints", before)
	}
	ctx := context.Background()
	imp, err := st.BeginAddressImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addrs := []pledge.Address{
		{ID: "x1", Text: "Vej 1", Point: orb.Point{10, 55}, Units: 1},
		{ID: "x2", Text: "Vej 2", Point: orb.Point{10.1, 55}, Units: 2},
		{ID: "x1", Text: "Vej 1", Point: orb.Point{10, 55}, Units: 1},
	}
	if err := imp.Add(ctx, addrs); err != nil {
		t.Fatal(err)
	}
	c, err := imp.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Inserted != 2 {
		t.Errorf("counts = %+v, want 2 inserted", c)
	}
	if a, err := st.Address(ctx, "x1"); err != nil || a.Units != 2 {
		t.Errorf("x1 = %+v, %v; want 2 units (repeated id)", a, err)
	}
	after := schema(t, st, url)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("schema after a first load differs:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

func TestStatementTimeoutIsUnavailable(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{StatementTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = postgres.Exec(st, context.Background(), `SELECT pg_sleep(2)`)
	if pledge.ErrorCode(err) != pledge.EUNAVAILABLE {
		t.Errorf("slow statement: %v, want EUNAVAILABLE", err)
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	// A loopback port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = postgres.Open(context.Background(), "postgres://postgres@"+addr+"/x?sslmode=disable", postgres.Options{})
	if pledge.ErrorCode(err) != pledge.EUNAVAILABLE || time.Since(start) > time.Second {
		t.Errorf("open without a server: %v after %v, want EUNAVAILABLE within a second", err, time.Since(start))
	}
	if strings.Contains(fmt.Sprint(err), "sslmode") {
		t.Errorf("error shows the URL: %v", err)
	}
}

func TestAccountConformance(t *testing.T) {
	storetest.RunAccounts(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestWebhookConformance(t *testing.T) {
	storetest.RunWebhooks(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestResidentConformance(t *testing.T) {
	storetest.RunResidents(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestChallengeConformance(t *testing.T) {
	storetest.RunChallenges(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

// An area import that moves many addresses writes the table again and
// makes its indexes and constraints anew; they must come back exactly as
// the migrations made them, with every row as it was but for its area. It
// too works on a pool of one connection.
func TestMassReassignRemakesSchema(t *testing.T) {
	url := pgtest.URL(t)
	st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := schema(t, st, url)
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	svc := pledge.NewService(st)
	importGrid(t, svc, 20000)
	res, err := svc.ImportAreas(ctx, areaA, pledge.AreaImport{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reassigned != 20000 {
		t.Errorf("reassigned %d, want 20000", res.Reassigned)
	}
	a, err := st.Address(ctx, "r12345")
	if err != nil || a.Text != "Vej 12345" || a.Units != 1 || a.AreaCode != "A" || a.Point != (orb.Point{10 + float64(45)/100, 55 + float64(123)/400}) {
		t.Errorf("r12345 = %+v, %v; want Vej 12345 at 10.45 55.3075, 1 unit, in A", a, err)
	}
	if got, err := st.SearchAddresses(ctx, "vej 1999", 5); err != nil || len(got) == 0 || got[0].ID != "r1999" {
		t.Errorf("search after the rewrite: %+v, %v; want r1999 first", got, err)
	}
	var left bool
	if err := postgres.QueryRow(st, ctx, `SELECT to_regclass('addresses_load') IS NOT NULL`, &left); err != nil || left {
		t.Errorf("addresses_load left behind: %v, %v", left, err)
	}
	after := schema(t, st, url)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("schema after a mass re-assignment differs:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

// importGrid imports n addresses r0, r1, ... ("Vej i", one unit each)
// on a grid inside areaA, without areas.
func importGrid(t *testing.T, svc *pledge.Service, n int) {
	t.Helper()
	recs := make(pledge.Records, 0, n)
	for i := 0; i < n; i++ {
		recs = append(recs, geo.AddressRecord{ID: fmt.Sprintf("r%d", i), Text: fmt.Sprintf("Vej %d", i),
			Point: orb.Point{10 + float64(i%100)/100, 55 + float64(i/100)/400}, Units: 1})
	}
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	if _, err := svc.ImportAddresses(ctx, &recs, pledge.AddressImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// openGrid opens a store on a new database holding importGrid's 20,000
// addresses, and a Service on it.
func openGrid(t *testing.T) (string, *postgres.Store, *pledge.Service) {
	t.Helper()
	url := pgtest.URL(t)
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := pledge.NewService(st)
	importGrid(t, svc, 20000)
	return url, st, svc
}

var areaA = []geo.AreaFeature{{Code: "A", Name: "A", Polygon: orb.MultiPolygon{{{{9, 54}, {12, 54}, {12, 57}, {9, 57}, {9, 54}}}}}}

// An address change in flight when an area import starts (a challenge
// decision: its row locked, then written) is kept: the import waits for it
// before it reads a row, instead of copying the old row and putting the
// copy in the table's place after the change committed.
func TestMassReassignKeepsChangeInFlight(t *testing.T) {
	url, st, svc := openGrid(t)
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())

	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	var units int
	if err := tx.QueryRow(ctx, `SELECT units FROM addresses WHERE id = 'r5' FOR UPDATE`).Scan(&units); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE addresses SET units = 3 WHERE id = 'r5'`); err != nil {
		t.Fatal(err)
	}

	type result struct {
		res pledge.AreaImportResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := svc.ImportAreas(ctx, areaA, pledge.AreaImport{})
		done <- result{res, err}
	}()
	// The import must wait for the change (the result tells whether it
	// waited before reading the rows or only before replacing them).
	waiting := false
	for deadline := time.Now().Add(10 * time.Second); !waiting && time.Now().Before(deadline); {
		select {
		case r := <-done:
			t.Fatalf("the import ended (%+v, %v) while an address change was uncommitted", r.res, r.err)
		case <-time.After(20 * time.Millisecond):
		}
		if err := other.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if !waiting {
		t.Fatal("the area import never waited for the uncommitted address change")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.res.Reassigned != 20000 {
		t.Fatalf("import areas: %+v, %v; want 20000 re-assigned", r.res, r.err)
	}
	if a, err := st.Address(ctx, "r5"); err != nil || a.Units != 3 || a.AreaCode != "A" {
		t.Errorf("r5 = %+v, %v; want the 3 units committed during the import, in A", a, err)
	}
	if a, err := st.Area(ctx, "A"); err != nil || a.Units != 20002 {
		t.Errorf("area A = %d units, %v; want 20002", a.Units, err)
	}
}

// A mass re-assignment that fails after its new table is filled (here an
// index name is taken) changes nothing and leaves no table behind.
func TestMassReassignFailureChangesNothing(t *testing.T) {
	_, st, svc := openGrid(t)
	ctx := pledge.WithUser(context.Background(), pledge.SystemUser())
	if err := postgres.Exec(st, ctx, `CREATE TABLE addresses_load_geom (x int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportAreas(ctx, areaA, pledge.AreaImport{}); err == nil {
		t.Fatal("import areas succeeded with an index name taken")
	}
	var areas, assigned int
	var left bool
	if err := postgres.QueryRow(st, ctx, `SELECT (SELECT count(*) FROM areas), (SELECT count(area_id) FROM addresses),
		to_regclass('addresses_load') IS NOT NULL`, &areas, &assigned, &left); err != nil {
		t.Fatal(err)
	}
	if areas != 0 || assigned != 0 || left {
		t.Errorf("after the failed import: %d areas, %d addresses assigned, load table left %v; want 0, 0, false", areas, assigned, left)
	}
	if err := postgres.Exec(st, ctx, `DROP TABLE addresses_load_geom`); err != nil {
		t.Fatal(err)
	}
	if res, err := svc.ImportAreas(ctx, areaA, pledge.AreaImport{}); err != nil || res.Reassigned != 20000 {
		t.Errorf("import areas again: %+v, %v; want 20000 re-assigned", res, err)
	}
}

func TestTenderConformance(t *testing.T) {
	storetest.RunTenders(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestWalkConformance(t *testing.T) {
	storetest.RunWalks(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestDashboardConformance(t *testing.T) {
	storetest.RunDashboard(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func BenchmarkWebhookDelivery(b *testing.B) {
	storetest.BenchWebhookDelivery(b, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestSubsidyConformance(t *testing.T) {
	storetest.RunSubsidy(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

func TestEntryConformance(t *testing.T) {
	storetest.RunEntry(t, func(tb testing.TB) pledge.Store { return MustOpenStore(tb) })
}

// DataVersion moves with another process's commit (a second pool on the
// database), also one that was in progress when the version was read.
func TestDataVersionFollowsOtherPool(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	serve, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	version := func() string {
		t.Helper()
		v, err := serve.DataVersion(ctx)
		if err != nil || v == "" {
			t.Fatalf("DataVersion: %q, %v", v, err)
		}
		return v
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE version_probe (n int); INSERT INTO version_probe VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	v0 := version() // the insert is in progress, not visible
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v0 {
		t.Errorf("a commit left DataVersion at %s", v0)
	}
}
