package gpkg_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo/gpkg"
	"github.com/twpayne/go-geom"
)

// FuzzDecodeGeometry: DecodeGeometry never panics and refuses what it
// cannot read with a message; what it accepts encodes back to a blob that
// decodes to the same geometry and srs_id, byte for byte on re-encoding.
func FuzzDecodeGeometry(f *testing.F) {
	for _, g := range []geom.T{
		geom.NewPointFlat(geom.XY, []float64{10.5, 55.5}),
		geom.NewPointFlat(geom.XYZM, []float64{1, 2, 3, 4}),
		geom.NewLineStringFlat(geom.XY, []float64{0, 0, 1, 1, 2, 0}),
		geom.NewPolygonFlat(geom.XY, []float64{10, 55, 11, 55, 11, 56, 10, 55}, []int{8}),
		geom.NewMultiPolygonFlat(geom.XYZ, []float64{10, 55, 0, 11, 55, 0, 11, 56, 0, 10, 55, 0}, [][]int{{12}}),
		geom.NewMultiPointFlat(geom.XY, []float64{1, 2}),
		geom.NewPointEmpty(geom.XY),
	} {
		b, err := gpkg.EncodeGeometry(g, 4326)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	header := []byte{'G', 'P', 0, 1, 0xE6, 0x10, 0, 0}
	for _, tail := range [][]byte{
		{1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f},       // a line string of 2^31 points
		{1, 3, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff}, // a polygon whose ring count is cut
		[]byte(strings.Repeat("\x01\x07\x00\x00\x00\x01\x00\x00\x00", 10)),
		append([]byte{1, 1, 0, 0, 0}, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN())), math.Float64bits(math.Inf(1)))...),
		{0, 0, 0, 0x0b, 0xb9}, // big-endian 3001
		{},
	} {
		f.Add(append(append([]byte{}, header...), tail...))
	}
	f.Add([]byte("GP\x00\x0b\x00\x00\x00\x00"))
	f.Add([]byte("GP\x00\x21\x00\x00\x00\x00"))
	f.Add([]byte("XX"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		g, srs, err := gpkg.DecodeGeometry(blob)
		if err != nil {
			if g != nil || err.Error() == "" {
				t.Fatalf("DecodeGeometry = %v, %v", g, err)
			}
			return
		}
		if g == nil {
			return // empty geometry
		}
		b1, err := gpkg.EncodeGeometry(g, srs)
		if err != nil {
			return // a geometry the writer refuses (e.g. a collection) is the writer's business
		}
		g2, srs2, err := gpkg.DecodeGeometry(b1)
		if err != nil || srs2 != srs {
			t.Fatalf("re-encoded %x decodes to %v, %d, %v", b1, g2, srs2, err)
		}
		if g2 == nil {
			if !g.Empty() {
				t.Fatalf("non-empty %T re-decodes as empty", g)
			}
			return
		}
		b2, err := gpkg.EncodeGeometry(g2, srs2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable: %x then %x (%v)", b1, b2, err)
		}
	})
}
