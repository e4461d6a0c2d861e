package geo_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo"
)

func FuzzCRSFromWKT(f *testing.F) {
	esri := `PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`
	for _, s := range []string{
		esri,
		`GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]`,
		`PROJCRS["WGS 84 / Pseudo-Mercator",BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]]],CONVERSION["Popular Visualisation Pseudo-Mercator",METHOD["Popular Visualisation Pseudo Mercator"]],ID["EPSG",3857]]`,
		`PROJCS["x",GEOGCS["y",DATUM["D_North_American_1983"]],PROJECTION["Transverse_Mercator"],PARAMETER["Central_Meridian",-75],PARAMETER["Scale_Factor",0.9996],PARAMETER["False_Easting",500000],UNIT["Meter",1]]`,
		`PROJCS["x",AUTHORITY["EPSG","99999999999999999999"]]`, `PROJCS["x",AUTHORITY["EPSG","2154"]]`,
		`PROJCS["x",PARAMETER["Central_Meridian",NaN],PARAMETER["Scale_Factor",1e400]]`,
		"\ufeffGEOGCS[\"\u202e\"]", "GEOGCS[\"\x00\"", strings.Repeat("A[", 10000), "hello", "", `PROJCS("a",(("b")))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, wkt string) {
		c, err := geo.CRSFromWKT(wkt)
		if err != nil {
			if c != nil || err.Error() == "" {
				t.Fatalf("CRSFromWKT = %v, %v", c, err)
			}
			return
		}
		// What it recognises is a CRS the rest of the importer supports.
		again, err := geo.ParseCRS(c.String())
		if err != nil || again.Code() != c.Code() {
			t.Fatalf("CRSFromWKT gave %s, which ParseCRS reads as %v, %v", c, again, err)
		}
	})
}

// shpFile builds a Shapefile's .shp from records of one shape type, each
// its content after the record header (the shape type and coordinates).
func shpFile(shapeType uint32, records ...[]byte) []byte {
	var body bytes.Buffer
	for i, r := range records {
		binary.Write(&body, binary.BigEndian, uint32(i+1))
		binary.Write(&body, binary.BigEndian, uint32(len(r)/2))
		body.Write(r)
	}
	h := make([]byte, 100)
	binary.BigEndian.PutUint32(h[0:], 9994)
	binary.BigEndian.PutUint32(h[24:], uint32((100+body.Len())/2))
	binary.LittleEndian.PutUint32(h[28:], 1000)
	binary.LittleEndian.PutUint32(h[32:], shapeType)
	return append(h, body.Bytes()...)
}

func le(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func shpPoint(x, y float64) []byte { return le(uint32(1), x, y) }

// shpPolygon is one ring.
func shpPolygon(ring ...[2]float64) []byte {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range ring {
		minX, maxX = min(minX, p[0]), max(maxX, p[0])
		minY, maxY = min(minY, p[1]), max(maxY, p[1])
	}
	b := le(uint32(5), minX, minY, maxX, maxY, uint32(1), uint32(len(ring)), uint32(0))
	for _, p := range ring {
		b = append(b, le(p[0], p[1])...)
	}
	return b
}

// dbfFile builds a dBase III file of character fields.
func dbfFile(fields []string, widths []int, rows ...[]string) []byte {
	recSize := 1
	for _, w := range widths {
		recSize += w
	}
	var b bytes.Buffer
	h := make([]byte, 32)
	h[0] = 3
	binary.LittleEndian.PutUint32(h[4:], uint32(len(rows)))
	binary.LittleEndian.PutUint16(h[8:], uint16(32+32*len(fields)+1))
	binary.LittleEndian.PutUint16(h[10:], uint16(recSize))
	h[29] = 0x57
	b.Write(h)
	for i, name := range fields {
		d := make([]byte, 32)
		copy(d, name)
		d[11] = 'C'
		d[16] = byte(widths[i])
		b.Write(d)
	}
	b.WriteByte(0x0d)
	for _, r := range rows {
		b.WriteByte(' ')
		for i, v := range r {
			cell := make([]byte, widths[i])
			for j := range cell {
				cell[j] = ' '
			}
			copy(cell, v)
			b.Write(cell)
		}
	}
	b.WriteByte(0x1a)
	return b.Bytes()
}

func FuzzShapefile(f *testing.F) {
	pts := shpFile(1, shpPoint(10.5, 55.5), shpPoint(600651.48, 6192174.37), shpPoint(math.NaN(), math.Inf(1)))
	adr := dbfFile([]string{"id", "text", "units"}, []int{8, 20, 6},
		[]string{"a1", "N\xf8rregade 1", "2"}, []string{"a2", "Vej\x00 2", "1e9"}, []string{"", "\xe2\x80\xae", "99999"})
	sq := [][2]float64{{10, 55}, {11, 55}, {11, 56}, {10, 56}, {10, 55}}
	polys := shpFile(5, shpPolygon(sq...), shpPolygon(sq[:2]...))
	areas := dbfFile([]string{"code", "name"}, []int{6, 20}, []string{"A", "\xc5by"}, []string{"B", "Bj\xe6rg"})
	f.Add(pts, adr, uint8(0))
	f.Add(polys, areas, uint8(1))
	f.Add(pts[:120], adr[:50], uint8(0))
	f.Add(polys, adr, uint8(3))
	f.Add(shpFile(1), dbfFile([]string{"id"}, []int{1}), uint8(2))
	f.Add([]byte{}, []byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, shp, dbf []byte, mode uint8) {
		// The mode picks the reading (areas or addresses), a .cpg, and
		// whether the CRS comes from --crs or the missing .prj.
		parts := geo.ShapefileParts{
			SHP: bytes.NewReader(shp), DBF: bytes.NewReader(dbf), SHPName: "x.shp", DBFName: "x.dbf",
			SHPSize: int64(len(shp)), DBFSize: int64(len(dbf)),
		}
		if mode&2 != 0 {
			parts.CPG, parts.CPGName = strings.NewReader("UTF-8"), "x.cpg"
		}
		var crs *geo.CRS
		if mode&4 == 0 {
			crs = geo.WGS84
		}
		l, err := geo.OpenShapefile(parts)
		if err != nil {
			checkInputError(t, err, "x.")
			return
		}
		if mode&1 != 0 {
			areas, _, err := geo.ReadVectorAreas(l, geo.AreaReadOptions{CRS: crs})
			if err != nil {
				checkInputError(t, err, "x.")
				return
			}
			checkAreas(t, areas)
			return
		}
		rd, err := geo.NewVectorAddressReader(l, geo.AddressReadOptions{CRS: crs})
		drain(t, len(shp)+len(dbf), rd, err, "x.")
	})
}
