package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The addresses' R-tree (addresses_rtree, an SQLite R*Tree module table)
// is filled on a first import by packing it here and writing its three
// shadow tables, instead of inserting 4 million points one at a time
// through the module (54 of 115 s of such an import, each insert choosing
// a leaf by area enlargement and splitting nodes). The layout is SQLite's
// documented R-tree file format (ext/rtree/rtree.c):
//
//   - NAME_node(nodeno, data): node 1 is the root; a node is a blob of
//     nodeSize bytes: the tree depth (root only, big-endian uint16), the
//     cell count (uint16), then cells of an 8-byte id (a child node or the
//     row's id) and min_lon, max_lon, min_lat, max_lat as big-endian
//     float32, rounded outwards as the module rounds them;
//   - NAME_parent(nodeno, parentnode) for every node but the root;
//   - NAME_rowid(rowid, nodeno): the leaf of every row.
//
// The packing is Sort-Tile-Recursive: sorted by longitude into vertical
// slices, each by latitude, cut into full nodes; the same again a level
// up, until one node, the root, is left. Full nodes make a shallow tree
// that the module then maintains as usual (later inserts, the trigger's
// moves). rtreecheck() verifies the result in the tests.

// rtreeCell is one cell: an id and its float32 box.
type rtreeCell struct {
	id                             int64
	minLon, maxLon, minLat, maxLat float32
}

// rtreeDown and rtreeUp round a coordinate to float32 outwards as the
// module does: to the nearest float32, then one step out if that lies on
// the wrong side (TestPackedRtree compares with the module's own boxes).
func rtreeDown(d float64) float32 {
	f := float32(d)
	if float64(f) > d {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func rtreeUp(d float64) float32 {
	f := float32(d)
	if float64(f) < d {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// packRtree builds the R-tree of table (empty, 2-D) from points whose ids
// are ids[i]; lon and lat are parallel to ids.
func packRtree(ctx context.Context, tx *sql.Tx, table string, ids []int64, lon, lat []float64) error {
	nodeSize, err := rtreeNodeSize(ctx, tx, table)
	if err != nil {
		return err
	}
	return writeRtree(ctx, tx, table, planRtree(nodeSize, ids, lon, lat))
}

// rtreeNodeSize reads the size of table's nodes from its root.
func rtreeNodeSize(ctx context.Context, tx *sql.Tx, table string) (int, error) {
	var nodeSize int
	if err := tx.QueryRowContext(ctx, `SELECT length(data) FROM "`+table+`_node" WHERE nodeno = 1`).Scan(&nodeSize); err != nil {
		return 0, fmt.Errorf("%s: root node: %w", table, err)
	}
	if (nodeSize-4)/24 < 4 {
		return 0, fmt.Errorf("%s: node size %d", table, nodeSize)
	}
	return nodeSize, nil
}

// rtreePlan is a packed R-tree ready to write: its encoded nodes, and the
// (id, node) pairs of its rowid and parent tables.
type rtreePlan struct {
	nodes           [][2]any // nodeno, data
	rowids, parents []int64
}

// planRtree packs the points without touching the database, so that it
// can run beside other work of the same transaction.
func planRtree(nodeSize int, ids []int64, lon, lat []float64) rtreePlan {
	perNode := (nodeSize - 4) / 24
	cells := make([]rtreeCell, len(ids))
	for i, id := range ids {
		cells[i] = rtreeCell{id, rtreeDown(lon[i]), rtreeUp(lon[i]), rtreeDown(lat[i]), rtreeUp(lat[i])}
	}
	var p rtreePlan
	// leaves pairs every id with its leaf; sorted by id at the end, so
	// that the rowid table is written in ascending rowids (appends).
	leaves := make([][2]int64, 0, len(ids))
	next := int64(2) // node 1 is the root, written last
	var nodes []rtreeNode
	depth := 0
	for len(cells) > perNode {
		groups := strTiles(cells, perNode)
		up := make([]rtreeCell, 0, len(groups))
		for _, g := range groups {
			n := rtreeNode{no: next, cells: g}
			next++
			for _, c := range g {
				if depth == 0 {
					leaves = append(leaves, [2]int64{c.id, n.no})
				} else {
					p.parents = append(p.parents, c.id, n.no)
				}
			}
			nodes = append(nodes, n)
			up = append(up, n.box())
		}
		cells = up
		depth++
	}
	for _, c := range cells {
		if depth == 0 {
			leaves = append(leaves, [2]int64{c.id, 1})
		} else {
			p.parents = append(p.parents, c.id, 1)
		}
	}
	nodes = append(nodes, rtreeNode{no: 1, cells: cells})
	for _, n := range nodes {
		d := 0
		if n.no == 1 {
			d = depth
		}
		p.nodes = append(p.nodes, [2]any{n.no, n.encode(nodeSize, d)})
	}
	slices.SortFunc(leaves, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	p.rowids = make([]int64, 0, 2*len(leaves))
	for _, l := range leaves {
		p.rowids = append(p.rowids, l[0], l[1])
	}
	return p
}

// writeRtree replaces the content of table's shadow tables with p.
func writeRtree(ctx context.Context, tx *sql.Tx, table string, p rtreePlan) error {
	for _, q := range []string{`DELETE FROM "` + table + `_node"`, `DELETE FROM "` + table + `_parent"`, `DELETE FROM "` + table + `_rowid"`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	const nodesPerInsert = 64
	for lo := 0; lo < len(p.nodes); lo += nodesPerInsert {
		hi := min(lo+nodesPerInsert, len(p.nodes))
		args := make([]any, 0, 2*(hi-lo))
		for _, n := range p.nodes[lo:hi] {
			args = append(args, n[0], n[1])
		}
		q := `INSERT INTO "` + table + `_node" (nodeno, data) VALUES (?,?)` + strings.Repeat(`,(?,?)`, hi-lo-1)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	if err := insertPairs(ctx, tx, `INSERT INTO "`+table+`_rowid" (rowid, nodeno)`, p.rowids); err != nil {
		return err
	}
	return insertPairs(ctx, tx, `INSERT INTO "`+table+`_parent" (nodeno, parentnode)`, p.parents)
}

// insertPairs inserts the pairs (a, b) of a flat list with multi-row
// INSERTs of one prepared statement.
func insertPairs(ctx context.Context, tx *sql.Tx, insert string, pairs []int64) error {
	const perInsert = 1000
	full, err := tx.PrepareContext(ctx, insert+` VALUES (?,?)`+strings.Repeat(`,(?,?)`, perInsert-1))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, 2*perInsert)
	for lo := 0; lo < len(pairs); lo += 2 * perInsert {
		hi := min(lo+2*perInsert, len(pairs))
		args = args[:0]
		for _, v := range pairs[lo:hi] {
			args = append(args, v)
		}
		if hi-lo == 2*perInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert+` VALUES (?,?)`+strings.Repeat(`,(?,?)`, (hi-lo)/2-1), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type rtreeNode struct {
	no    int64
	cells []rtreeCell
}

// box is the node's cell in its parent: its id and the union of its boxes.
func (n rtreeNode) box() rtreeCell {
	b := rtreeCell{id: n.no, minLon: n.cells[0].minLon, maxLon: n.cells[0].maxLon, minLat: n.cells[0].minLat, maxLat: n.cells[0].maxLat}
	for _, c := range n.cells[1:] {
		b.minLon, b.maxLon = min(b.minLon, c.minLon), max(b.maxLon, c.maxLon)
		b.minLat, b.maxLat = min(b.minLat, c.minLat), max(b.maxLat, c.maxLat)
	}
	return b
}

// decodeRtreeNode reads the cells of an encoded node.
func decodeRtreeNode(b []byte) ([]rtreeCell, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("r-tree node of %d bytes", len(b))
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if 4+24*n > len(b) {
		return nil, fmt.Errorf("r-tree node of %d bytes with %d cells", len(b), n)
	}
	cells := make([]rtreeCell, n)
	for i := range cells {
		c := b[4+24*i:]
		f := func(k int) float32 { return math.Float32frombits(binary.BigEndian.Uint32(c[8+4*k:])) }
		cells[i] = rtreeCell{int64(binary.BigEndian.Uint64(c)), f(0), f(1), f(2), f(3)}
	}
	return cells, nil
}

func (n rtreeNode) encode(size, depth int) []byte {
	b := make([]byte, 4, size)
	binary.BigEndian.PutUint16(b, uint16(depth))
	binary.BigEndian.PutUint16(b[2:], uint16(len(n.cells)))
	for _, c := range n.cells {
		b = binary.BigEndian.AppendUint64(b, uint64(c.id))
		for _, v := range [4]float32{c.minLon, c.maxLon, c.minLat, c.maxLat} {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b[:size]
}

// strTiles cuts cells into groups of at most perNode: sorted by the centre's
// longitude into vertical slices of about sqrt(nodes) nodes each, each slice
// sorted by latitude. It reorders cells; the groups share its memory.
func strTiles(cells []rtreeCell, perNode int) [][]rtreeCell {
	nodes := (len(cells) + perNode - 1) / perNode
	slices_ := int(math.Ceil(math.Sqrt(float64(nodes))))
	perSlice := slices_ * perNode
	byLon := func(a, b rtreeCell) int { return cmpF(a.minLon+a.maxLon, b.minLon+b.maxLon) }
	byLat := func(a, b rtreeCell) int { return cmpF(a.minLat+a.maxLat, b.minLat+b.maxLat) }
	slices.SortFunc(cells, byLon)
	groups := make([][]rtreeCell, 0, nodes)
	for lo := 0; lo < len(cells); lo += perSlice {
		s := cells[lo:min(lo+perSlice, len(cells))]
		slices.SortFunc(s, byLat)
		for g := 0; g < len(s); g += perNode {
			groups = append(groups, s[g:min(g+perNode, len(s)):min(g+perNode, len(s))])
		}
	}
	return groups
}

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
