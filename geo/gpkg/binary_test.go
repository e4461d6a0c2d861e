package gpkg_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo/gpkg"
	"github.com/paulmach/orb"
)

func TestGeometryRoundTrip(t *testing.T) {
	for _, g := range []orb.Geometry{
		orb.Point{10.5, 55.25},
		orb.MultiLineString{{{10, 55}, {10.1, 55.1}}, {{11, 56}, {11.5, 56}}},
		orb.MultiLineString{},
		orb.MultiPolygon{{{{10, 55}, {11, 55}, {11, 56}, {10, 55}}}},
	} {
		gg, err := gpkg.FromOrb(g)
		if err != nil {
			t.Fatal(err)
		}
		b, err := gpkg.EncodeGeometry(gg, 4326)
		if err != nil {
			t.Fatal(err)
		}
		back, srs, err := gpkg.DecodeGeometry(b)
		if err != nil || srs != 4326 {
			t.Fatalf("%T: %v, srs %d", g, err, srs)
		}
		if gg.Empty() {
			if back != nil {
				t.Errorf("empty %T decoded as %v", g, back)
			}
			continue
		}
		if got, want := back.FlatCoords(), gg.FlatCoords(); len(got) != len(want) {
			t.Fatalf("%T: %v, want %v", g, got, want)
		} else {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%T: %v, want %v", g, got, want)
				}
			}
		}
	}
}

// A hostile element count is refused before anything is allocated for it.
func TestDecodeGeometryRefuses(t *testing.T) {
	header := []byte{'G', 'P', 0, 1, 0xE6, 0x10, 0, 0} // little-endian, no envelope, srs 4326
	line := func(n uint32) []byte {
		b := append([]byte{}, header...)
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint32(b, 2)
		return binary.LittleEndian.AppendUint32(b, n)
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want string
	}{
		{"NoMagic", []byte("XX\x00\x01\x00\x00\x00\x00"), `no "GP" header`},
		{"Version", []byte("GP\x01\x01\x00\x00\x00\x00"), "version 1"},
		{"BadEnvelope", []byte("GP\x00\x0b\x00\x00\x00\x00"), "invalid envelope kind 5"},
		{"ShortEnvelope", []byte("GP\x00\x03\x00\x00\x00\x00\x00"), "truncated geometry header"},
		{"HugeCount", line(1 << 30), "truncated"},
		{"TrailingBytes", append(append(line(0), 0), 0), "bytes after the geometry"},
		{"Deep", append(append([]byte{}, header...), strings.Repeat("\x01\x07\x00\x00\x00\x01\x00\x00\x00", 10)...), "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, _, err := gpkg.DecodeGeometry(tc.blob)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error with %q", g, err, tc.want)
			}
		})
	}
}
