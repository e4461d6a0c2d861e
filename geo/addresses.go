package geo

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Address file formats.
const (
	FormatCSV     = "csv"     // any delimited file with a header
	FormatDAWA    = "dawa"    // Danish Adgangsadresse.CSV
	FormatGeoJSON = "geojson" // FeatureCollection of Points
)

// AddressReadOptions says how to read an address file. Empty fields take the
// format's defaults.
type AddressReadOptions struct {
	Format    string
	IDCol     string // "" means a column named id, else ids derived from text and position
	XCol      string // longitude or easting
	YCol      string // latitude or northing
	UnitsCol  string
	Text      string // columns joined by spaces ("street,number"), or a template "{street} {number}, {postcode}"
	CRS       *CRS   // coordinates' CRS; nil means EPSG:4326 (dawa: its EPSG:25832 columns)
	Delimiter rune   // 0 means detect from the header line

	// DAWA only: the unit file (Enhedsadresse.CSV) gives unit counts; the
	// street-name file (Vejnavn.CSV) gives street names for the text.
	Units       io.Reader
	UnitsName   string
	Streets     io.Reader
	StreetsName string
}

// AddressReader streams address records from a file.
type AddressReader struct {
	next     func() (AddressRecord, error)
	warnings []Warning
}

// Next returns the next record, io.EOF at the end, an *InputError for a bad
// row (reading may go on), or another error when reading cannot go on.
func (ar *AddressReader) Next() (AddressRecord, error) { return ar.next() }

// Warnings are problems found that do not reject a row (e.g. unit rows that
// point at no address).
func (ar *AddressReader) Warnings() []Warning { return ar.warnings }

// NewAddressReader opens an address file of the given format.
func NewAddressReader(r io.Reader, name string, opt AddressReadOptions) (*AddressReader, error) {
	switch opt.Format {
	case "", FormatCSV:
		return newCSVReader(r, name, opt, nil)
	case FormatDAWA:
		return newDAWAReader(r, name, opt)
	case FormatGeoJSON:
		return newGeoJSONAddressReader(r, name, opt)
	}
	return nil, fmt.Errorf("unknown address format %q: want dawa, csv or geojson", opt.Format)
}

// DeriveID gives an address without a source id a stable id from its text
// and position (rounded to 1e-7 degrees, about 1 cm).
func DeriveID(text string, lon, lat float64) string {
	h := sha256.Sum256([]byte(text + "|" + strconv.FormatFloat(lon, 'f', 7, 64) + "|" + strconv.FormatFloat(lat, 'f', 7, 64)))
	return "h" + hex.EncodeToString(h[:10])
}

// csvLayout is the resolved column layout of a delimited file.
type csvLayout struct {
	header   []string
	id, x, y int // -1 when absent
	units    int
	text     textTemplate
	crs      *CRS
	// DAWA extras: units per address id and a custom text from textCols.
	unitsByID map[string]int
	textFn    func(row []string) string
	textCols  []int
	usedCols  []int // used(), once the layout is resolved
}

// used lists the columns the import reads; only these are checked for
// invisible characters and ambiguous names, so an odd character in a
// column nobody asked for does not reject the file.
func (lay *csvLayout) used() []int {
	cols := []int{lay.id, lay.x, lay.y, lay.units}
	cols = append(cols, lay.textCols...)
	for _, p := range lay.text.parts {
		cols = append(cols, p.col)
	}
	out := cols[:0]
	for _, i := range cols {
		if i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

func newCSVReader(r io.Reader, name string, opt AddressReadOptions, dawa func(*csvLayout) error) (*AddressReader, error) {
	ll := &lineLimitReader{r: r}
	br := bufio.NewReaderSize(ll, 64<<10)
	fail := func(line int, field, reason string) error {
		return &InputError{File: name, Line: line, Field: field, Reason: reason}
	}
	if b, _ := br.Peek(3); string(b) == string(utf8BOM) {
		br.Discard(3)
	}
	delim := opt.Delimiter
	if delim == 0 {
		first, err := br.Peek(br.Size())
		if len(first) == 0 {
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
				return nil, readFailure(name, err)
			}
			return nil, fail(0, "", "empty file")
		}
		delim = detectDelimiter(first)
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fail(0, "", "empty file")
	}
	if err != nil {
		return nil, csvFailure(name, err)
	}
	lay := &csvLayout{header: trimHeader(header), crs: opt.CRS}
	if lay.crs == nil {
		lay.crs = WGS84
	}
	if err := checkUTF8(lay.header); err >= 0 {
		return nil, fail(1, "", fmt.Sprintf("header column %d: invalid UTF-8", err+1))
	}
	for i, h := range lay.header {
		if reason := invisibleIn(h); reason != "" {
			return nil, fail(1, "", fmt.Sprintf("header column %d: %s", i+1, reason))
		}
	}
	col := func(flag, given string, defaults ...string) (int, error) {
		if given != "" {
			if i := findColumn(lay.header, given); i >= 0 {
				return i, nil
			}
			return -1, fail(1, given, fmt.Sprintf("no such column (--%s); the header has: %s", flag, strings.Join(lay.header, ", ")))
		}
		for _, d := range defaults {
			if i := findColumn(lay.header, d); i >= 0 {
				return i, nil
			}
		}
		return -1, nil
	}
	if dawa != nil {
		if err := dawa(lay); err != nil {
			return nil, err
		}
	} else {
		xs, ys := []string{"lon", "longitude", "lng", "x"}, []string{"lat", "latitude", "y"}
		if !lay.crs.Geographic() {
			xs, ys = []string{"x", "easting", "east", "e"}, []string{"y", "northing", "north", "n"}
		}
		if lay.id, err = col("id-col", opt.IDCol, "id"); err != nil {
			return nil, err
		}
		if lay.x, err = col("x-col", opt.XCol, xs...); err != nil {
			return nil, err
		}
		if lay.y, err = col("y-col", opt.YCol, ys...); err != nil {
			return nil, err
		}
		if lay.units, err = col("units-col", opt.UnitsCol, "units"); err != nil {
			return nil, err
		}
		if lay.x < 0 || lay.y < 0 {
			return nil, fail(1, "", fmt.Sprintf("no coordinate columns found (give --x-col and --y-col); the header has: %s", strings.Join(lay.header, ", ")))
		}
		text := opt.Text
		if text == "" {
			for _, d := range []string{"text", "address", "adresse", "betegnelse"} {
				if i := findColumn(lay.header, d); i >= 0 {
					text = lay.header[i]
					break
				}
			}
		}
		if text != "" {
			if lay.text, err = parseTextTemplate(text, lay.header); err != nil {
				return nil, fail(1, "text-col", err.Error())
			}
		}
	}
	lay.usedCols = lay.used()
	for _, i := range lay.usedCols {
		for j, h := range lay.header {
			if j != i && strings.EqualFold(h, lay.header[i]) {
				return nil, fail(1, lay.header[i], fmt.Sprintf("the header names columns %d and %d alike, so which one to read is ambiguous", min(i, j)+1, max(i, j)+1))
			}
		}
	}
	ar := &AddressReader{}
	ar.next = func() (AddressRecord, error) {
		for {
			row, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return AddressRecord{}, io.EOF
			}
			if err != nil {
				var tl errLineTooLong
				if errors.As(err, &tl) {
					return AddressRecord{}, InputErrors{{File: name, Line: tl.line, Reason: fmt.Sprintf("line longer than %d bytes", MaxLineLength)}}
				}
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					return AddressRecord{}, &InputError{File: name, Line: pe.Line, Reason: pe.Err.Error()}
				}
				return AddressRecord{}, readFailure(name, err)
			}
			line, _ := cr.FieldPos(0)
			if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
				continue // a line of blanks
			}
			return lay.record(name, line, row)
		}
	}
	return ar, nil
}

func (lay *csvLayout) record(name string, line int, row []string) (AddressRecord, error) {
	rec := AddressRecord{Line: line, Units: 1}
	bad := func(field, reason string) (AddressRecord, error) {
		return AddressRecord{}, &InputError{File: name, Line: line, Field: field, Reason: reason}
	}
	get := func(i int) (string, bool) {
		if i < 0 {
			return "", true
		}
		if i >= len(row) {
			return "", false
		}
		return strings.TrimSpace(row[i]), true
	}
	for _, i := range []int{lay.id, lay.x, lay.y, lay.units} {
		if i >= len(row) {
			return bad(lay.header[i], fmt.Sprintf("missing: the row has %d fields, the header %d", len(row), len(lay.header)))
		}
	}
	if i := checkUTF8(row); i >= 0 {
		field := fmt.Sprintf("%d", i+1)
		if i < len(lay.header) {
			field = lay.header[i]
		}
		return bad(field, "invalid UTF-8")
	}
	for _, i := range lay.usedCols {
		if s, _ := get(i); invisibleIn(s) != "" {
			return bad(lay.header[i], invisibleIn(s))
		}
	}
	xs, _ := get(lay.x)
	ys, _ := get(lay.y)
	x, err := parseCoordinate(xs)
	if err != nil {
		return bad(lay.header[lay.x], err.Error())
	}
	y, err := parseCoordinate(ys)
	if err != nil {
		return bad(lay.header[lay.y], err.Error())
	}
	if rec.Point, err = ToLonLat(x, y, lay.crs); err != nil {
		return bad(lay.header[lay.x]+","+lay.header[lay.y], err.Error())
	}
	if lay.units >= 0 {
		us, _ := get(lay.units)
		if us != "" {
			n, reason := parseUnits(us)
			if reason != "" {
				return bad(lay.header[lay.units], reason)
			}
			rec.Units = n
		}
	}
	if lay.textFn != nil {
		rec.Text = lay.textFn(row)
	} else {
		rec.Text = lay.text.render(row)
	}
	if lay.id >= 0 {
		rec.ID, _ = get(lay.id)
		if rec.ID == "" {
			return bad(lay.header[lay.id], "empty id")
		}
		if lay.unitsByID != nil {
			if n := lay.unitsByID[rec.ID]; n > 0 {
				rec.Units = n
			}
		}
	} else {
		rec.ID = DeriveID(rec.Text, rec.Point[0], rec.Point[1])
		rec.Derived = true
	}
	if rec.Text == "" {
		rec.Text = rec.ID
	}
	return rec, nil
}

// parseCoordinate accepts a decimal point, or a decimal comma as Danish
// spreadsheets write it (only reachable when the delimiter is not a comma).
func parseCoordinate(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("empty coordinate")
	}
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v != v || v > 1e300 || v < -1e300 {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// textTemplate renders an address text from literal parts and columns.
type textTemplate struct {
	parts []textPart
}

type textPart struct {
	lit string
	col int // -1 for a literal
}

func parseTextTemplate(spec string, header []string) (textTemplate, error) {
	var t textTemplate
	// The literal parts become part of every address text.
	if reason := invisibleIn(spec); reason != "" {
		return t, fmt.Errorf("%q %s", spec, reason)
	}
	if !strings.Contains(spec, "{") {
		for i, c := range strings.Split(spec, ",") {
			c = strings.TrimSpace(c)
			idx := findColumn(header, c)
			if idx < 0 {
				return t, fmt.Errorf("no column %q; the header has: %s", c, strings.Join(header, ", "))
			}
			if i > 0 {
				t.parts = append(t.parts, textPart{lit: " ", col: -1})
			}
			t.parts = append(t.parts, textPart{col: idx})
		}
		return t, nil
	}
	rest := spec
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, textPart{lit: rest, col: -1})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, textPart{lit: rest[:open], col: -1})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return t, fmt.Errorf("unclosed { in %q", spec)
		}
		c := rest[open+1 : open+end]
		idx := findColumn(header, c)
		if idx < 0 {
			return t, fmt.Errorf("no column %q; the header has: %s", c, strings.Join(header, ", "))
		}
		t.parts = append(t.parts, textPart{col: idx})
		rest = rest[open+end+1:]
	}
	return t, nil
}

func (t textTemplate) render(row []string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.col < 0 {
			b.WriteString(p.lit)
		} else if p.col < len(row) {
			b.WriteString(strings.TrimSpace(row[p.col]))
		}
	}
	return collapseSpaces(b.String())
}

// collapseSpaces tidies texts whose empty columns left doubled separators.
func collapseSpaces(s string) string {
	if tidy(s) {
		return s // most texts: no allocation
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, " ,", ",")
	s = strings.Trim(s, " ,")
	return s
}

// tidy reports whether collapseSpaces would return s as it is: no space
// but single ' ' characters between words, none before a comma, and
// neither a space nor a comma at either end.
func tidy(s string) bool {
	if s == "" {
		return true
	}
	if c := s[0]; c == ' ' || c == ',' {
		return false
	}
	if c := s[len(s)-1]; c == ' ' || c == ',' {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				return false
			}
			i += n
			continue
		}
		if c == ' ' {
			if next := s[i+1]; next == ' ' || next == ',' { // s does not end in a space
				return false
			}
		} else if c <= '\r' && c >= '\t' {
			return false
		}
		i++
	}
	return true
}

func findColumn(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	for i, h := range header {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}

// trimHeader trims names and drops empty trailing columns, which a trailing
// delimiter on the header line produces.
func trimHeader(h []string) []string {
	out := make([]string, len(h))
	for i, s := range h {
		out[i] = strings.TrimSpace(s)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func detectDelimiter(b []byte) rune {
	if i := strings.IndexByte(string(b), '\n'); i >= 0 {
		b = b[:i]
	}
	best, n := ',', strings.Count(string(b), ",")
	for _, d := range []rune{';', '\t', '|'} {
		if c := strings.Count(string(b), string(d)); c > n {
			best, n = d, c
		}
	}
	return best
}

// checkUTF8 returns the index of the first field that is not valid UTF-8, or -1.
func checkUTF8(fields []string) int {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return i
		}
	}
	return -1
}

func readFailure(name string, err error) error {
	var tl errLineTooLong
	if errors.As(err, &tl) {
		return InputErrors{{File: name, Line: tl.line, Reason: fmt.Sprintf("line longer than %d bytes", MaxLineLength)}}
	}
	return fmt.Errorf("read %s: %w", name, err)
}

func csvFailure(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{File: name, Line: pe.Line, Reason: pe.Err.Error()}
	}
	return readFailure(name, err)
}
