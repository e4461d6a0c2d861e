// Package gpkg reads and writes OGC GeoPackage files (version 1.3): the
// layers a municipality's GIS staff hand over for import, and the layers of
// a tender package. It reads and writes the GeoPackage binary geometry
// encoding itself (the "GP" header with envelope and srs_id, then WKB
// through go-geom's encoding/wkb), and keeps SQL to modernc.org/sqlite.
//
// It lives beside geo rather than in it so that geo, and pledge above it,
// stay free of database/sql. It must not import pledge, web or a store.
package gpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"
	"github.com/twpayne/go-geom/encoding/wkbcommon"
)

// Header flags of the GeoPackage binary encoding (spec 2.1.3).
const (
	flagLittleEndian = 1 << 0
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
	envelopeShift    = 1
	envelopeMask     = 0x7 << envelopeShift
)

// envelopeDoubles is the number of doubles in each envelope kind.
var envelopeDoubles = [8]int{0, 4, 6, 6, 8, -1, -1, -1}

// DecodeGeometry decodes a GeoPackage geometry BLOB: the header (magic
// "GP", version 0, flags with the header's byte order, the envelope kind
// and the empty bit, srs_id) and the WKB after it. It returns the
// geometry (nil for an empty one) and its srs_id.
func DecodeGeometry(b []byte) (geom.T, int32, error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, 0, errors.New(`not a GeoPackage geometry (no "GP" header)`)
	}
	if b[2] != 0 {
		return nil, 0, fmt.Errorf("GeoPackage geometry version %d, want 0 (1.x)", b[2])
	}
	flags := b[3]
	if flags&flagExtended != 0 {
		return nil, 0, errors.New("extended GeoPackage geometry types are not supported")
	}
	var order binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	srsID := int32(order.Uint32(b[4:8]))
	n := envelopeDoubles[(flags&envelopeMask)>>envelopeShift]
	if n < 0 {
		return nil, srsID, fmt.Errorf("invalid envelope kind %d", (flags&envelopeMask)>>envelopeShift)
	}
	body := 8 + 8*n
	if len(b) < body {
		return nil, srsID, errors.New("truncated geometry header")
	}
	if flags&flagEmpty != 0 {
		return nil, srsID, nil
	}
	w := b[body:]
	if err := checkWKB(w); err != nil {
		return nil, srsID, err
	}
	g, err := wkb.Unmarshal(w, wkbcommon.WKBOptionEmptyPointHandling(wkbcommon.EmptyPointHandlingNaN))
	if err != nil {
		return nil, srsID, fmt.Errorf("bad WKB: %w", err)
	}
	if p, ok := g.(*geom.Point); ok && p.Empty() {
		return nil, srsID, nil
	}
	return g, srsID, nil
}

// checkWKB walks WKB and checks that every count fits in the bytes that
// follow, before go-geom allocates for it: a hostile count must not make
// the reader allocate gigabytes.
func checkWKB(b []byte) error {
	rest, err := walkWKB(b, 0)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("bad WKB: %d bytes after the geometry", len(rest))
	}
	return nil
}

func walkWKB(b []byte, depth int) ([]byte, error) {
	short := errors.New("bad WKB: truncated")
	if depth > 4 || len(b) < 5 {
		if depth > 4 {
			return nil, errors.New("bad WKB: nested too deeply")
		}
		return nil, short
	}
	var order binary.ByteOrder
	switch b[0] {
	case 0:
		order = binary.BigEndian
	case 1:
		order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("bad WKB: byte order %d", b[0])
	}
	t := order.Uint32(b[1:5])
	b = b[5:]
	dims := 2
	switch t / 1000 {
	case 1, 2:
		dims = 3
	case 3:
		dims = 4
	case 0:
	default:
		return nil, fmt.Errorf("bad WKB: geometry type %d", t)
	}
	coord := 8 * dims
	count := func(size int) (int, error) {
		if len(b) < 4 {
			return 0, short
		}
		n := int(order.Uint32(b))
		b = b[4:]
		if size > 0 && n > len(b)/size {
			return 0, short
		}
		return n, nil
	}
	switch t % 1000 {
	case 1: // point
		if len(b) < coord {
			return nil, short
		}
		return b[coord:], nil
	case 2: // line string
		n, err := count(coord)
		if err != nil {
			return nil, err
		}
		return b[n*coord:], nil
	case 3: // polygon
		rings, err := count(4)
		if err != nil {
			return nil, err
		}
		for range rings {
			n, err := count(coord)
			if err != nil {
				return nil, err
			}
			b = b[n*coord:]
		}
		return b, nil
	case 4, 5, 6, 7: // multi-point, -line string, -polygon, collection
		parts, err := count(5)
		if err != nil {
			return nil, err
		}
		for range parts {
			if b, err = walkWKB(b, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("bad WKB: unsupported geometry type %d", t)
}

// EncodeGeometry encodes g as a GeoPackage geometry BLOB, little-endian,
// with an XY envelope (none for a point, as the spec recommends), or the
// empty flag when g has no coordinates.
func EncodeGeometry(g geom.T, srsID int32) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("GP")
	buf.WriteByte(0)
	flags := byte(flagLittleEndian)
	_, isPoint := g.(*geom.Point)
	empty := g.Empty()
	switch {
	case empty:
		flags |= flagEmpty
	case !isPoint:
		flags |= 1 << envelopeShift
	}
	buf.WriteByte(flags)
	binary.Write(&buf, binary.LittleEndian, srsID)
	if !empty && !isPoint {
		bd := g.Bounds()
		for _, v := range []float64{bd.Min(0), bd.Max(0), bd.Min(1), bd.Max(1)} {
			binary.Write(&buf, binary.LittleEndian, v)
		}
	}
	if empty {
		if _, ok := g.(*geom.Point); ok {
			// An empty point is NaN coordinates in WKB (spec 2.1.3.1.1).
			buf.WriteByte(1)
			binary.Write(&buf, binary.LittleEndian, uint32(1))
			binary.Write(&buf, binary.LittleEndian, [2]float64{math.NaN(), math.NaN()})
			return buf.Bytes(), nil
		}
	}
	if err := wkb.Write(&buf, wkb.NDR, g); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
