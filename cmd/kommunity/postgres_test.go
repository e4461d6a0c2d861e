package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/data/postgres"
	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/internal/pgtest"
	"github.com/kommunity/kommunity/internal/shareddata"
	"github.com/kommunity/kommunity/internal/testenv"
	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// seconds strips the run time from an import summary.
var seconds = regexp.MustCompile(` \([0-9.]+s\)`)

// The same files imported into SQLite and into PostgreSQL give the same
// areas, counters, unassigned addresses and per-area address lists; a
// second import of the same file changes nothing in either.
func TestPostgresMatchesSQLite(t *testing.T) {
	cases := []struct {
		name       string
		areas      []string
		addresses  []string
		want       map[string]int // addresses per area name, from SOURCE.txt
		units      int            // all units, unassigned included
		unassigned int
	}{
		{
			name:       "SamsoeParishes",
			areas:      []string{"--id-prop", "SOGNEKODE", "--name-prop", "SOGNENAVN", shareddata.Path(t, "dk_dagi_polygons/derived/sogne_samsoe.geojson")},
			addresses:  []string{"--id-col", "osm_node_id", shareddata.Path(t, "samsoe_osm/derived/addresses.csv")},
			want:       map[string]int{"Tranebjerg": 1816, "Nordby": 1056, "Onsbjerg": 781, "Besser": 516, "Kolby": 419},
			units:      4596,
			unassigned: 8,
		},
		{
			name:  "DAWAPostcodes",
			areas: []string{"--id-prop", "POSTNR_TXT", "--name-prop", "POSTBYNAVN", shareddata.Path(t, "dk_dagi_polygons/postnumre.geojson")},
			addresses: []string{"--format", "dawa", "--units", shareddata.Path(t, "dawa_testdata/Enhedsadresse.CSV"),
				shareddata.Path(t, "dawa_testdata/Adgangsadresse.CSV")},
			units: 2802,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := filepath.Join(t.TempDir(), "k.db")
			url := pgtest.URL(t)
			stores := [][]string{{"--db", db}, {"--database-url", url}}
			var summaries [2][]string
			for i, store := range stores {
				summaries[i] = append(summaries[i], mustRun(t, append(append([]string{"import", "areas"}, store...), tc.areas...)...))
				for range 2 { // the second import changes nothing
					out := mustRun(t, append(append([]string{"import", "addresses"}, store...), tc.addresses...)...)
					summaries[i] = append(summaries[i], seconds.ReplaceAllString(out, ""))
				}
			}
			if !reflect.DeepEqual(summaries[0], summaries[1]) {
				t.Errorf("import summaries differ:\nsqlite:   %q\npostgres: %q", summaries[0], summaries[1])
			}
			if !strings.Contains(summaries[1][2], "imported 0, updated 0") {
				t.Errorf("second import changed something: %q", summaries[1][2])
			}

			var got [2]web.AreasJSON
			for i, store := range stores {
				if err := json.Unmarshal([]byte(mustRun(t, append([]string{"areas", "--json"}, store...)...)), &got[i]); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("areas differ:\nsqlite:   %+v\npostgres: %+v", got[0], got[1])
			}
			units := 0
			for _, a := range got[1].Areas {
				units += a.Units
				if w, ok := tc.want[a.Name]; ok && a.Addresses != w {
					t.Errorf("%s: %d addresses, want %d", a.Name, a.Addresses, w)
				}
			}
			if units+got[1].Unassigned.Units != tc.units || got[1].Unassigned.Addresses != tc.unassigned {
				t.Errorf("units %d + %d unassigned, unassigned addresses %d; want %d units, %d unassigned",
					units, got[1].Unassigned.Units, got[1].Unassigned.Addresses, tc.units, tc.unassigned)
			}

			// Address by address, area by area.
			sq, err := sqlite.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer sq.Close()
			pg, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer pg.Close()
			total := 0
			for _, a := range got[1].Areas {
				as, err := sq.AreaAddresses(ctx, a.Code, nil, pledge.MaxAddressesPerPage)
				if err != nil {
					t.Fatal(err)
				}
				ap, err := pg.AreaAddresses(ctx, a.Code, nil, pledge.MaxAddressesPerPage)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(as, ap) {
					t.Errorf("area %s: addresses differ (sqlite %d, postgres %d)", a.Code, len(as), len(ap))
				}
				total += len(ap)
			}
			if total == 0 {
				t.Errorf("no addresses compared")
			}
		})
	}
}

// buildKommunity builds the command into a temporary directory.
func buildKommunity(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kommunity")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess runs `kommunity serve` as a process on a free loopback port
// and returns its base URL; it is stopped when the test ends.
func serveProcess(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("serve did not stop on SIGINT")
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", logs.String())
		}
	})
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, url, ok := strings.Cut(sc.Text(), "listening on "); ok {
				base <- url
			}
		}
		io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	select {
	case u := <-base:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	return ""
}

// importDemo writes a small generated municipality and imports it into the
// database at url.
func importDemo(t *testing.T, url string, areas, addresses int) {
	t.Helper()
	dir := t.TempDir()
	mustRun(t, "demo", "--seed", "7", "--areas", strconv.Itoa(areas), "--addresses", strconv.Itoa(addresses), "--out", dir)
	mustRun(t, "import", "areas", "--database-url", url, filepath.Join(dir, "areas.geojson"))
	mustRun(t, "import", "addresses", "--database-url", url, filepath.Join(dir, "addresses.csv"))
}

type pledgeResult struct {
	status  int
	token   string
	unit    int
	address string
}

func postPledge(client *http.Client, base, addressID string, unit int, who string) (pledgeResult, error) {
	body, _ := json.Marshal(map[string]any{"address_id": addressID, "unit": unit, "name": "Beboer " + who,
		"email": "beboer" + who + "@example.dk", "consent": true})
	resp, err := client.Post(base+"/api/pledges", "application/json", bytes.NewReader(body))
	if err != nil {
		return pledgeResult{}, err
	}
	defer resp.Body.Close()
	var p struct {
		Token string `json:"token"`
		Unit  int    `json:"unit"`
	}
	json.NewDecoder(resp.Body).Decode(&p)
	return pledgeResult{status: resp.StatusCode, token: p.Token, unit: p.Unit, address: addressID}, nil
}

// areaAddresses lists every address of the areas through the API.
func areaAddresses(t *testing.T, base string) []struct {
	ID    string `json:"address_id"`
	Units int    `json:"units"`
} {
	t.Helper()
	var areas web.AreasJSON
	if code := getJSON(t, base+"/api/areas", &areas); code != 200 {
		t.Fatalf("GET /api/areas: %d", code)
	}
	var all []struct {
		ID    string `json:"address_id"`
		Units int    `json:"units"`
	}
	for _, a := range areas.Areas {
		var page struct {
			Addresses []struct {
				ID    string `json:"address_id"`
				Units int    `json:"units"`
			} `json:"addresses"`
		}
		if code := getJSON(t, base+"/api/areas/"+a.Code+"/addresses", &page); code != 200 {
			t.Fatalf("GET addresses of %s: %d", a.Code, code)
		}
		all = append(all, page.Addresses...)
	}
	return all
}

// Two server processes on one database under concurrent pledging: of the
// pledges for one unit exactly one wins (the rest get 409), every area
// counter equals its active pledges, and exactly the 201s exist.
func TestTwoServersOnePostgres(t *testing.T) {
	url := pgtest.URL(t)
	bin := buildKommunity(t)
	importDemo(t, url, 4, 600)
	flags := []string{"--database-url", url, "--pledge-rate-limit", "-1", "--db-max-conns", "4"}
	bases := []string{serveProcess(t, bin, flags...), serveProcess(t, bin, flags...)}

	addrs := areaAddresses(t, bases[0])
	if len(addrs) < 200 {
		t.Fatalf("%d addresses in areas, want 200 or more", len(addrs))
	}
	type job struct {
		address string
		unit    int
	}
	var jobs []job
	contested := map[string]bool{}
	multi := 0
	for i, a := range addrs {
		switch {
		case i < 30: // one unit, asked for 6 times: exactly one wins
			contested[a.ID] = true
			for range 6 {
				jobs = append(jobs, job{a.ID, 1})
			}
		case a.Units > 1 && multi < 20: // the first free unit, more often than there are units
			multi++
			for range a.Units + 2 {
				jobs = append(jobs, job{a.ID, 0})
			}
		case i < 200: // different units, once each
			jobs = append(jobs, job{a.ID, 1})
		}
	}

	// A bounded load: a fixed list of requests, 16 at a time, one deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 15 * time.Second}
	results := make([]pledgeResult, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := postPledge(client, bases[(i+w)%2], jobs[i].address, jobs[i].unit, strconv.Itoa(i))
				if err != nil {
					t.Errorf("POST %d: %v", i, err)
				}
				results[i] = r
			}
		}()
	}
	start := time.Now()
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("load did not finish within its deadline")
	}
	t.Logf("%d pledge requests to 2 servers in %v", len(jobs), time.Since(start).Round(time.Millisecond))

	won := map[string]int{}
	tokens := map[string]bool{}
	unitsTaken := map[string]bool{}
	for i, r := range results {
		switch r.status {
		case http.StatusCreated:
			won[r.address]++
			tokens[r.token] = true
			k := fmt.Sprintf("%s/%d", r.address, r.unit)
			if unitsTaken[k] {
				t.Errorf("unit %s given twice", k)
			}
			unitsTaken[k] = true
		case http.StatusConflict:
			if jobs[i].unit != 0 && !contested[r.address] {
				t.Errorf("uncontested pledge %d for %s got 409", i, r.address)
			}
		default:
			t.Errorf("pledge %d for %s: status %d, want 201 or 409", i, r.address, r.status)
		}
	}
	for id := range contested {
		if won[id] != 1 {
			t.Errorf("address %s: %d pledges for unit 1 succeeded, want exactly 1", id, won[id])
		}
	}

	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT token FROM pledges WHERE status = 'active'`)
	if err != nil {
		t.Fatal(err)
	}
	active, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != len(tokens) {
		t.Errorf("%d active pledges stored, %d answered 201", len(active), len(tokens))
	}
	for _, tok := range active {
		if !tokens[tok] {
			t.Errorf("a stored pledge was never answered 201")
			break
		}
	}
	var wrong, twice, events, reached int
	err = conn.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM areas ar WHERE ar.pledged_units <> (SELECT count(*) FROM pledges p JOIN addresses ad ON ad.id = p.address_id
			WHERE ad.area_id = ar.id AND p.status = 'active')),
		(SELECT count(*) FROM (SELECT 1 FROM pledges WHERE status = 'active' GROUP BY address_id, unit HAVING count(*) > 1) d),
		(SELECT count(*) FROM outbox),
		(SELECT count(*) FROM areas WHERE status = 'threshold_reached')`).Scan(&wrong, &twice, &events, &reached)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || twice != 0 {
		t.Errorf("%d areas with a wrong counter, %d units pledged twice", wrong, twice)
	}
	if events != reached {
		t.Errorf("%d threshold events for %d areas that reached their threshold", events, reached)
	}
	// Both servers show the same, exact counts.
	var a0, a1 web.AreasJSON
	getJSON(t, bases[0]+"/api/areas", &a0)
	getJSON(t, bases[1]+"/api/areas", &a1)
	pledged := 0
	for _, a := range a0.Areas {
		pledged += a.PledgedUnits
	}
	if !reflect.DeepEqual(a0, a1) || pledged != len(tokens) {
		t.Errorf("servers disagree or miscount: %d pledged units shown, %d pledges made", pledged, len(tokens))
	}
}

// startCluster starts a PostgreSQL cluster of this test's own with
// scripts/postgres.sh, so stopping it never disturbs the shared test
// cluster. It skips (fails when CI=true) when the script cannot run.
func startCluster(t *testing.T) (dir string, port int, admin string) {
	t.Helper()
	pgtest.AdminURL(t) // PostgreSQL tests are enabled at all
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir = filepath.Join(t.TempDir(), "pg")
	admin, err = postgresScript("start", dir, port)
	if err != nil {
		testenv.Missing(t, "scripts/postgres.sh start: "+err.Error())
	}
	t.Cleanup(func() { postgresScript("stop", dir, port) })
	return dir, port, admin
}

func postgresScript(cmd, dir string, port int) (string, error) {
	var out, errOut bytes.Buffer
	c := exec.Command("bash", "../../scripts/postgres.sh", cmd, dir, strconv.Itoa(port))
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// timedRequest sends one request and returns its status and duration.
func timedRequest(t *testing.T, method, url, body string) (int, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// With the database down, requests answer 503 within a second instead of
// hanging, /healthz says the store is unreachable, and when the database is
// back the service recovers by itself.
func TestPostgresDownAndBack(t *testing.T) {
	dir, port, admin := startCluster(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE kommunity`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	url := strings.Replace(admin, "/postgres?", "/kommunity?", 1)
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE EXTENSION postgis`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	importDemo(t, url, 2, 200)
	bin := buildKommunity(t)
	base := serveProcess(t, bin, "--database-url", url, "--pledge-rate-limit", "-1", "--db-statement-timeout", "2s")

	addrs := areaAddresses(t, base)
	body := func(i int) string {
		return fmt.Sprintf(`{"address_id":%q,"unit":1,"name":"Beboer","email":"b@example.dk","consent":true}`, addrs[i].ID)
	}
	if code, _ := timedRequest(t, "POST", base+"/api/pledges", body(0)); code != http.StatusCreated {
		t.Fatalf("pledge with the database up: %d", code)
	}

	if _, err := postgresScript("stop", dir, port); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/areas", ""},
		{"POST", "/api/pledges", body(1)},
		{"GET", "/api/addresses?q=" + "ve", ""},
		{"GET", "/api/areas", ""},
	} {
		code, took := timedRequest(t, r.method, base+r.path, r.body)
		if code != http.StatusServiceUnavailable || took > time.Second {
			t.Errorf("%s %s with the database down: %d after %v, want 503 within 1s", r.method, r.path, code, took)
		}
	}
	var health map[string]string
	start := time.Now()
	if code := getJSON(t, base+"/healthz", &health); code != http.StatusServiceUnavailable || health["store"] != "unreachable" || time.Since(start) > time.Second {
		t.Errorf("/healthz with the database down: %d %v after %v", code, health, time.Since(start))
	}

	if _, err := postgresScript("start", dir, port); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := timedRequest(t, "GET", base+"/api/areas", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 15s after the database came back: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := timedRequest(t, "POST", base+"/api/pledges", body(1)); code != http.StatusCreated {
		t.Errorf("pledge after recovery: %d", code)
	}
	if code := getJSON(t, base+"/healthz", &health); code != http.StatusOK || health["store"] != "ok" {
		t.Errorf("/healthz after recovery: %d %v", code, health)
	}
}

// The rate limit on PostgreSQL, where the store counts each API pledge's
// hit in the pledge's own statement: two servers on one database share one
// client's count, concurrent attempts never let more than the limit in, a
// refused pledge is a 429 with Retry-After that stores nothing, and
// malformed requests count like any other attempt.
func TestRateLimitTwoServersPostgres(t *testing.T) {
	url := pgtest.URL(t)
	bin := buildKommunity(t)
	importDemo(t, url, 2, 200)
	flags := []string{"--database-url", url, "--pledge-rate-limit", "5", "--pledge-rate-window", "1h"}
	bases := []string{serveProcess(t, bin, flags...), serveProcess(t, bin, flags...)}
	addrs := areaAddresses(t, bases[0])
	client := &http.Client{Timeout: 15 * time.Second}

	// Mistakes count: 3 requests without a name.
	for i := range 3 {
		body := `{"address_id":"` + addrs[i].ID + `","email":"a@example.dk","consent":true}`
		resp, err := client.Post(bases[i%2]+"/api/pledges", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("pledge without a name: %d", resp.StatusCode)
		}
	}
	// 12 concurrent attempts from this client over both servers.
	statuses := make([]int, 12)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := postPledge(client, bases[i%2], addrs[i].ID, 1, strconv.Itoa(i))
			if err != nil {
				t.Error(err)
			}
			statuses[i] = r.status
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 2 || count[http.StatusTooManyRequests] != 10 {
		t.Fatalf("statuses %v, want 2 × 201 and 10 × 429 (the 3 mistakes count)", count)
	}
	resp, err := client.Post(bases[1]+"/api/pledges", "application/json",
		strings.NewReader(`{"address_id":"`+addrs[20].ID+`","name":"Bo","email":"bo@example.dk","consent":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || ra < 1 || ra > 3600 {
		t.Errorf("16th attempt: %d, Retry-After %q; want 429 with 1 to 3600 s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var areas web.AreasJSON
	getJSON(t, bases[0]+"/api/areas", &areas)
	pledged := 0
	for _, a := range areas.Areas {
		pledged += a.PledgedUnits
	}
	if pledged != 2 {
		t.Errorf("%d units pledged in all areas, want 2: a refused pledge stores nothing", pledged)
	}
}
