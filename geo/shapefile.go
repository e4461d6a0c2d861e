package geo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	shapefile "github.com/twpayne/go-shapefile"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
)

// ShapefileParts are the files of one Shapefile. SHP and DBF are required;
// PRJ (the CRS as WKT) and CPG (the DBF's code page) are nil when absent.
// The names are the files' names in messages.
type ShapefileParts struct {
	SHP, DBF, PRJ, CPG                 io.Reader
	SHPName, DBFName, PRJName, CPGName string
	SHPSize, DBFSize                   int64 // the files' sizes in bytes
}

// Limits that keep a corrupt or hostile Shapefile from making the reader
// allocate more than the file could hold.
const (
	maxSHPRecord = 256 << 20
	maxSideFile  = 1 << 20 // .prj, .cpg
)

// OpenShapefile reads a Shapefile's headers and returns its records as a
// VectorLayer, streamed one at a time from SHP and DBF together. The CRS
// comes from the .prj (see CRSFromWKT); the DBF's text is decoded by the
// .cpg's code page (UTF-8, ISO-8859-1, Windows-1252 and the other ISO-8859
// and Windows code pages), else by the DBF's language driver byte, else as
// ISO-8859-1, dBase's default. A deleted DBF record is skipped with its
// shape. A .shp shorter or longer than its header says, or a .dbf whose
// record count differs from the .shp's, is an error.
func OpenShapefile(p ShapefileParts) (*VectorLayer, error) {
	fail := func(file, reason string) error { return InputErrors{{File: file, Reason: reason}} }
	l := &VectorLayer{File: p.SHPName}
	if p.PRJ == nil {
		l.CRSErr = fmt.Errorf("no .prj beside it to give the CRS: give it with --crs, e.g. --crs EPSG:25832")
	} else {
		wkt, err := io.ReadAll(io.LimitReader(p.PRJ, maxSideFile))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p.PRJName, err)
		}
		if l.CRS, err = CRSFromWKT(string(wkt)); err != nil {
			l.CRSErr = fmt.Errorf("%s: %v; give the CRS with --crs", p.PRJName, err)
		}
	}

	dbf := bufio.NewReaderSize(p.DBF, 64<<10)
	hdr := make([]byte, 32)
	if _, err := io.ReadFull(dbf, hdr); err != nil {
		return nil, fail(p.DBFName, "not a dBase file: shorter than its header")
	}
	dh, err := shapefile.ParseDBFHeader(hdr, nil)
	if err != nil {
		return nil, fail(p.DBFName, "not a dBase III file: "+err.Error())
	}
	if dh.RecordSize < 1 || int64(dh.HeaderSize)+int64(dh.Records)*int64(dh.RecordSize) > p.DBFSize {
		return nil, fail(p.DBFName, fmt.Sprintf("the header declares %d records of %d bytes, more than the file's %d bytes hold: the file is truncated", dh.Records, dh.RecordSize, p.DBFSize))
	}
	var fields []*shapefile.DBFFieldDescriptor
	read := 32
	for {
		b, err := dbf.ReadByte()
		if err != nil {
			return nil, fail(p.DBFName, "truncated field descriptors")
		}
		read++
		if b == 0x0d {
			break
		}
		d := make([]byte, 32)
		d[0] = b
		if _, err := io.ReadFull(dbf, d[1:]); err != nil {
			return nil, fail(p.DBFName, "truncated field descriptors")
		}
		read += 31
		fields = append(fields, &shapefile.DBFFieldDescriptor{
			Name:   strings.TrimSpace(string(shapefile.TrimTrailingZeros(d[:11]))),
			Type:   d[11],
			Length: int(d[16]),
		})
	}
	total := 1
	for _, f := range fields {
		total += f.Length
		l.Fields = append(l.Fields, f.Name)
	}
	if total != dh.RecordSize {
		return nil, fail(p.DBFName, fmt.Sprintf("fields take %d bytes, the header says records have %d", total, dh.RecordSize))
	}
	if read > dh.HeaderSize {
		return nil, fail(p.DBFName, "header longer than it declares")
	}
	if _, err := dbf.Discard(dh.HeaderSize - read); err != nil {
		return nil, fail(p.DBFName, "truncated header")
	}
	dec, err := dbfDecoder(p, hdr[29])
	if err != nil {
		return nil, err
	}

	shp := bufio.NewReaderSize(p.SHP, 64<<10)
	sh := make([]byte, 100)
	if _, err := io.ReadFull(shp, sh); err != nil {
		return nil, fail(p.SHPName, "not a Shapefile: shorter than its 100-byte header")
	}
	if binary.BigEndian.Uint32(sh[0:4]) != 9994 || binary.LittleEndian.Uint32(sh[28:32]) != 1000 {
		return nil, fail(p.SHPName, "not a Shapefile (wrong file code or version)")
	}
	shpLen := 2 * int64(binary.BigEndian.Uint32(sh[24:28]))
	if shpLen != p.SHPSize {
		return nil, fail(p.SHPName, fmt.Sprintf("the header says %d bytes, the file has %d: it is truncated or damaged", shpLen, p.SHPSize))
	}
	shpOpt := &shapefile.ReadSHPOptions{MaxRecordSize: int(min(shpLen, maxSHPRecord))}

	rec := make([]byte, dh.RecordSize)
	n, offset := 0, int64(100)
	l.Next = func() (VectorFeature, error) {
		for {
			if offset >= shpLen {
				if n != dh.Records {
					return VectorFeature{}, fail(p.DBFName, fmt.Sprintf("has %d records, %s has %d: the files do not belong together", dh.Records, p.SHPName, n))
				}
				return VectorFeature{}, io.EOF
			}
			n++
			sr, err := shapefile.ReadSHPRecord(shp, shpOpt)
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = errors.New("truncated")
				}
				return VectorFeature{}, InputErrors{{File: p.SHPName, Record: n, Reason: "damaged shape record: " + err.Error()}}
			}
			if sr.Number != n {
				return VectorFeature{}, InputErrors{{File: p.SHPName, Record: n, Reason: fmt.Sprintf("record numbered %d, want %d", sr.Number, n)}}
			}
			offset += 8 + int64(sr.ContentLength)
			if n > dh.Records {
				return VectorFeature{}, fail(p.DBFName, fmt.Sprintf("has %d records, fewer than %s: the files do not belong together", dh.Records, p.SHPName))
			}
			if _, err := io.ReadFull(dbf, rec); err != nil {
				return VectorFeature{}, InputErrors{{File: p.DBFName, Record: n, Reason: "truncated record"}}
			}
			switch rec[0] {
			case '*':
				continue // deleted: GIS tools do not show it either
			case ' ':
			default:
				return VectorFeature{}, InputErrors{{File: p.DBFName, Record: n, Reason: fmt.Sprintf("bad deletion flag %q", rec[0])}}
			}
			f := VectorFeature{Record: n, Attrs: make([]any, len(fields)), Geom: sr.Geom}
			at := 1
			for i, fd := range fields {
				data := rec[at : at+fd.Length]
				at += fd.Length
				v, err := dbfValue(fd, data, dec)
				if err != nil {
					return VectorFeature{}, &InputError{File: p.DBFName, Record: n, Field: fd.Name, Reason: err.Error()}
				}
				f.Attrs[i] = v
			}
			return f, nil
		}
	}
	return l, nil
}

// dbfValue parses one field with go-shapefile's parsers; a field type it
// does not know (e.g. Visual FoxPro's) reads as its trimmed text.
func dbfValue(fd *shapefile.DBFFieldDescriptor, data []byte, dec *encoding.Decoder) (any, error) {
	switch fd.Type {
	case 'C', 'D', 'F', 'L', 'N':
		if fd.Type == 'D' && strings.TrimSpace(string(data)) == "" {
			return nil, nil
		}
		if fd.Type == 'L' && len(data) == 1 && data[0] == ' ' {
			return nil, nil
		}
		return fd.ParseRecord(data, dec)
	}
	return dec.String(strings.TrimSpace(string(shapefile.TrimTrailingZeros(data))))
}

// dbfDecoder picks the DBF's code page: the .cpg, else the language
// driver id in header byte 29, else ISO-8859-1.
func dbfDecoder(p ShapefileParts, ldid byte) (*encoding.Decoder, error) {
	label := "iso-8859-1"
	if p.CPG != nil {
		b, err := io.ReadAll(io.LimitReader(p.CPG, maxSideFile))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p.CPGName, err)
		}
		if label = codePageLabel(string(b)); label == "" {
			return nil, InputErrors{{File: p.CPGName, Reason: fmt.Sprintf("unknown code page %q: want e.g. UTF-8, ISO-8859-1 or 1252", strings.TrimSpace(string(b)))}}
		}
	} else if l, ok := ldidLabels[ldid]; ok {
		label = l
	}
	enc, _ := charset.Lookup(label)
	if enc == nil {
		return nil, InputErrors{{File: p.CPGName, Reason: fmt.Sprintf("unsupported code page %q", label)}}
	}
	return enc.NewDecoder(), nil
}

// ldidLabels are the dBase language driver ids GIS tools write.
var ldidLabels = map[byte]string{
	0x57: "windows-1252", // ANSI (ESRI's default)
	0x03: "windows-1252",
	0x01: "ibm437",
	0x02: "ibm850",
	0x64: "ibm852",
	0xc8: "windows-1250",
	0x65: "ibm866",
}

// codePageLabel maps what .cpg files say ("UTF-8", "ISO-8859-1", "88591",
// "1252", "ANSI 1252", "CP1252", ...) to a WHATWG encoding label, or "".
func codePageLabel(s string) string {
	u := strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(s, "\uFEFF")))
	compact := strings.NewReplacer("-", "", "_", "", " ", "").Replace(u)
	switch {
	case compact == "UTF8" || compact == "65001":
		return "utf-8"
	case compact == "LATIN1":
		return "iso-8859-1"
	case strings.HasPrefix(compact, "ISO8859"):
		return "iso-8859-" + compact[len("ISO8859"):]
	case strings.HasPrefix(compact, "8859"):
		return "iso-8859-" + compact[len("8859"):]
	case len(compact) == 4 && strings.HasPrefix(compact, "125"):
		return "windows-" + compact
	case strings.HasPrefix(compact, "ANSI125") || strings.HasPrefix(compact, "CP125"):
		return "windows-" + compact[len(compact)-4:]
	case strings.HasPrefix(compact, "WINDOWS125"):
		return "windows-" + compact[len("WINDOWS"):]
	}
	if _, name := charset.Lookup(strings.ToLower(u)); name != "" {
		return name
	}
	return ""
}
