package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kommunity/kommunity/data/sqlite"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// firstLoadRecords are n addresses on a grid over Funen.
func firstLoadRecords(n int) pledge.Records {
	recs := make(pledge.Records, n)
	for i := range recs {
		recs[i] = geo.AddressRecord{ID: fmt.Sprintf("a%d", i), Text: fmt.Sprintf("Skovvej %d, 5000 Odense", i),
			Point: orb.Point{10 + float64(i%300)*0.001, 55 + float64(i/300)*0.001}, Units: 1 + i%3, Line: i + 2}
	}
	return recs
}

// fileState reads what another program sees in the file: its journal
// mode, its addresses, and SQLite's own checks.
func fileState(t *testing.T, path string) (mode string, addresses int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity, rtree string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM addresses`).Scan(&addresses); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	if err := db.QueryRow(`SELECT rtreecheck('addresses_rtree')`).Scan(&rtree); err != nil || rtree != "ok" {
		t.Fatalf("rtreecheck: %q, %v", rtree, err)
	}
	var points int
	if err := db.QueryRow(`SELECT count(*) FROM addresses_rtree`).Scan(&points); err != nil || points != addresses {
		t.Fatalf("%d points in the R-tree, %d addresses (%v)", points, addresses, err)
	}
	return mode, addresses
}

func walSize(path string) int64 {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// A first load from the CLI takes the file for itself when nothing else
// has it open: its pages go to the file once, not to the WAL and again at
// the checkpoint, and the file is back in WAL mode after. Beside a
// serving store it goes through the WAL as before, and the server sees
// the rows. A failed first load leaves no addresses and WAL mode.
func TestExclusiveFirstLoad(t *testing.T) {
	ctx := context.Background()
	const n = 20000
	load := func(st *sqlite.Store, recs pledge.Records) error {
		_, err := pledge.NewService(st).ImportAddresses(ctx, &recs, pledge.AddressImportOptions{File: "a.csv"})
		return err
	}

	alone := filepath.Join(t.TempDir(), "k.db")
	st, err := sqlite.Open(ctx, alone)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetExclusiveFirstLoad(true)
	bad := firstLoadRecords(n)
	bad[n-1].Units = 0
	if err := load(st, bad); err == nil {
		t.Fatal("a load with a bad row was accepted")
	}
	if mode, got := fileState(t, alone); mode != "wal" || got != 0 {
		t.Fatalf("after a failed first load: journal %s, %d addresses; want wal, 0", mode, got)
	}
	// Repeats of one derived id, merged when the unique index finds them.
	recs := firstLoadRecords(n)
	for _, i := range []int{7, 9000, n - 1} {
		recs[i].ID, recs[i].Text, recs[i].Point, recs[i].Derived = "d", "Blokken 1", orb.Point{10.5, 55.5}, true
	}
	if err := load(st, recs); err != nil {
		t.Fatal(err)
	}
	walAlone := walSize(alone)
	if a, err := st.Address(ctx, "d"); err != nil || a.Units != recs[7].Units+recs[9000].Units+recs[n-1].Units {
		t.Fatalf("merged address: %+v, %v", a, err)
	}
	if mode, got := fileState(t, alone); mode != "wal" || got != n-2 {
		t.Fatalf("after a first load alone: journal %s, %d addresses; want wal, %d", mode, got, n-2)
	}
	// The store goes on as usual: a second import merges through the WAL.
	again := firstLoadRecords(n + 10)
	if err := load(st, again); err != nil {
		t.Fatal(err)
	}
	if a, err := st.Address(ctx, "a20005"); err != nil || a.Units != 1+20005%3 {
		t.Fatalf("address of the second import: %+v, %v", a, err)
	}

	beside := filepath.Join(t.TempDir(), "k.db")
	var serve, cli *sqlite.Store
	for _, s := range []**sqlite.Store{&serve, &cli} {
		if *s, err = sqlite.Open(ctx, beside); err != nil {
			t.Fatal(err)
		}
		defer (*s).Close()
	}
	if _, err := serve.DataVersion(ctx); err != nil { // a serving store's connection
		t.Fatal(err)
	}
	cli.SetExclusiveFirstLoad(true)
	if err := load(cli, firstLoadRecords(n)); err != nil {
		t.Fatal(err)
	}
	if a, err := serve.Address(ctx, "a123"); err != nil || a.Text != "Skovvej 123, 5000 Odense" {
		t.Fatalf("the server reads %+v, %v", a, err)
	}
	walBeside := walSize(beside)
	if walBeside < 1<<20 || walAlone*10 > walBeside {
		t.Errorf("WAL after a first load: %d bytes alone, %d beside a server; want the pages written once alone", walAlone, walBeside)
	}
}

// A first load killed while it commits leaves the file as before it, or
// with all of the load: never part of it, never a damaged file, and always
// in WAL mode once a store opens it again.
func TestExclusiveFirstLoadSurvivesKill(t *testing.T) {
	if path := os.Getenv("KOMMUNITY_FIRST_LOAD_CHILD"); path != "" {
		firstLoadChild(path)
		return
	}
	const n = 300000
	// The commit of 300,000 rows takes about 1.4 s here, the file growing
	// from about 0.5 s on: kills before, during and after it.
	for _, delay := range []time.Duration{0, 600 * time.Millisecond, 900 * time.Millisecond, 1200 * time.Millisecond, 4 * time.Second} {
		path := filepath.Join(t.TempDir(), "k.db")
		cmd := exec.Command(os.Args[0], "-test.run=^TestExclusiveFirstLoadSurvivesKill$")
		cmd.Env = append(os.Environ(), "KOMMUNITY_FIRST_LOAD_CHILD="+path, "KOMMUNITY_FIRST_LOAD_N="+strconv.Itoa(n))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() && sc.Text() != "committing" {
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		_, err = os.Stat(path + "-journal")
		hot := err == nil
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("kill %v into the commit: open: %v", delay, err)
		}
		st.Close()
		mode, got := fileState(t, path)
		if mode != "wal" || (got != 0 && got != n) {
			t.Fatalf("kill %v into the commit: journal %s, %d addresses; want wal, 0 or %d", delay, mode, got, n)
		}
		t.Logf("kill %v into the commit: %d addresses (journal left: %v)", delay, got, hot)
	}
}

// firstLoadChild loads addresses into path alone, saying "committing" just
// before the commit, for the parent to kill it.
func firstLoadChild(path string) {
	ctx := context.Background()
	n, _ := strconv.Atoi(os.Getenv("KOMMUNITY_FIRST_LOAD_N"))
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st.SetExclusiveFirstLoad(true)
	im, err := st.BeginAddressImport(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	recs := firstLoadRecords(n)
	addrs := make([]pledge.Address, len(recs))
	for i, r := range recs {
		addrs[i] = pledge.Address{ID: r.ID, Text: r.Text, Point: r.Point, Units: r.Units}
	}
	if err := im.Add(ctx, addrs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("committing")
	if _, err := im.Commit(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("committed")
	time.Sleep(time.Minute)
}
