package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
)

// A first import packs the addresses' R-tree by writing its shadow tables.
// SQLite's own check must pass, every box must be the one the module
// stores for the point, box queries must find exactly the points a scan
// finds, and the module must go on maintaining the tree (moves by trigger,
// inserts by a later import).
func TestPackedRtree(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	var addrs []pledge.Address
	for i := 0; i < 30000; i++ {
		p := orb.Point{8 + 7*rng.Float64(), 54.5 + 3*rng.Float64()}
		if i%10 == 0 { // negative coordinates round the other way
			p = orb.Point{-p[0], -p[1]}
		}
		addrs = append(addrs, pledge.Address{ID: fmt.Sprintf("r%d", i), Text: fmt.Sprintf("Vej %d", i), Point: p, Units: 1})
	}
	importAll := func(addrs []pledge.Address) {
		t.Helper()
		im, err := st.BeginAddressImport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Add(ctx, addrs); err != nil {
			t.Fatal(err)
		}
		if _, err := im.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		var ok string
		if err := st.db.QueryRowContext(ctx, `SELECT rtreecheck('addresses_rtree')`).Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("%s: rtreecheck = %q, %v", when, ok, err)
		}
		// The module's own boxes for the same points.
		if _, err := st.db.ExecContext(ctx, `DROP TABLE IF EXISTS temp.check_rtree;
			CREATE VIRTUAL TABLE temp.check_rtree USING rtree(seq, min_lon, max_lon, min_lat, max_lat);
			INSERT INTO temp.check_rtree SELECT seq, lon, lon, lat, lat FROM addresses`); err != nil {
			t.Fatal(err)
		}
		var differ, n int
		if err := st.db.QueryRowContext(ctx, `SELECT count(*), (SELECT count(*) FROM addresses_rtree) FROM addresses_rtree a JOIN temp.check_rtree b USING (seq)
			WHERE a.min_lon <> b.min_lon OR a.max_lon <> b.max_lon OR a.min_lat <> b.min_lat OR a.max_lat <> b.max_lat`).Scan(&differ, &n); err != nil {
			t.Fatal(err)
		}
		var rows int
		st.db.QueryRowContext(ctx, `SELECT count(*) FROM addresses`).Scan(&rows)
		if differ != 0 || n != rows {
			t.Fatalf("%s: %d of %d boxes differ from the module's; %d rows", when, differ, n, rows)
		}
		for i := 0; i < 200; i++ {
			x, y := 8+7*rng.Float64(), 54.5+3*rng.Float64()
			if i%10 == 0 {
				x, y = -x, -y
			}
			w, h := rng.Float64()*0.5, rng.Float64()*0.3
			var viaTree, viaScan int
			if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM addresses_rtree t JOIN addresses a ON a.seq = t.seq
				WHERE t.max_lon >= ?1 AND t.min_lon <= ?2 AND t.max_lat >= ?3 AND t.min_lat <= ?4
				AND a.lon BETWEEN ?1 AND ?2 AND a.lat BETWEEN ?3 AND ?4`, x, x+w, y, y+h).Scan(&viaTree); err != nil {
				t.Fatal(err)
			}
			if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM addresses WHERE lon BETWEEN ?1 AND ?2 AND lat BETWEEN ?3 AND ?4`,
				x, x+w, y, y+h).Scan(&viaScan); err != nil {
				t.Fatal(err)
			}
			if viaTree != viaScan {
				t.Fatalf("%s: box %g,%g +%g,%g: %d through the R-tree, %d by scan", when, x, y, w, h, viaTree, viaScan)
			}
		}
	}
	// The extent from the R-tree's root is the one a scan of every row
	// gives, exactly.
	checkExtent := func(when string) {
		t.Helper()
		want, err := st.bound(ctx, `SELECT min(lon), min(lat), max(lon), max(lat) FROM addresses`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.addressExtent(ctx)
		if err != nil || got == nil || *got != *want {
			t.Fatalf("%s: extent %v (%v), want %v", when, got, err, want)
		}
	}
	if b, err := st.addressExtent(ctx); err != nil || b != nil {
		t.Fatalf("extent of no addresses: %v, %v", b, err)
	}
	importAll(addrs)
	checkExtent("after the first import")
	var depth int
	if err := st.db.QueryRowContext(ctx, `SELECT unicode(substr(data, 2, 1)) FROM addresses_rtree_node WHERE nodeno = 1`).Scan(&depth); err != nil || depth < 2 {
		t.Fatalf("root depth %d, %v; want a tree of at least three levels", depth, err)
	}
	check("after the first import")
	// Move a thousand addresses and add a thousand: the module's turn.
	moved := append([]pledge.Address(nil), addrs[:1000]...)
	for i := range moved {
		moved[i].Point = orb.Point{8 + 7*rng.Float64(), 54.5 + 3*rng.Float64()}
	}
	for i := 0; i < 1000; i++ {
		moved = append(moved, pledge.Address{ID: fmt.Sprintf("new%d", i), Text: "Ny vej", Point: orb.Point{8 + 7*rng.Float64(), 54.5 + 3*rng.Float64()}, Units: 1})
	}
	importAll(moved)
	check("after moves and inserts")
	checkExtent("after moves and inserts")
	// The westmost and northmost addresses move to the middle: the root
	// may now bound more than the points.
	var west, north string
	st.db.QueryRowContext(ctx, `SELECT id FROM addresses ORDER BY lon LIMIT 1`).Scan(&west)
	st.db.QueryRowContext(ctx, `SELECT id FROM addresses ORDER BY lat DESC LIMIT 1`).Scan(&north)
	if _, err := st.db.ExecContext(ctx, `UPDATE addresses SET lon = 10, lat = 55 WHERE id IN (?, ?)`, west, north); err != nil {
		t.Fatal(err)
	}
	checkExtent("after moving the westmost and northmost in")
}
