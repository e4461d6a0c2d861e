package geo

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DAWA column names (Danmarks Adressers Web API, Adgangsadresse.CSV).
const (
	dawaID       = "id"
	dawaEast     = "adgangspunkt_etrs89koordinat_oest"
	dawaNorth    = "adgangspunkt_etrs89koordinat_nord"
	dawaLat      = "adgangspunkt_wgs84koordinat_bredde"
	dawaLon      = "adgangspunkt_wgs84koordinat_laengde"
	dawaKommune  = "kommunekode"
	dawaVejkode  = "vejkode"
	dawaHusnr    = "husnummer"
	dawaPostnr   = "postnummer"
	dawaPostdist = "postdistrikt"
	dawaSuppl    = "supplerendebynavn"
)

// newDAWAReader reads the semicolon-separated Danish access-address file. It
// uses the ETRS89/UTM32 columns (the authoritative ones) unless a geographic
// CRS is asked for, when it uses the WGS84 columns.
func newDAWAReader(r io.Reader, name string, opt AddressReadOptions) (*AddressReader, error) {

	var units map[string]int
	if opt.Units != nil {
		var err error
		units, err = readDAWAUnits(opt.Units, opt.UnitsName)
		if err != nil {
			return nil, err
		}
	}
	var streets map[string]string
	if opt.Streets != nil {
		var err error
		streets, err = readDAWAStreets(opt.Streets, opt.StreetsName)
		if err != nil {
			return nil, err
		}
	}
	opt.Delimiter = ';'
	ar, err := newCSVReader(r, name, opt, func(lay *csvLayout) error {
		need := func(c string) (int, error) {
			i := findColumn(lay.header, c)
			if i < 0 {
				return -1, &InputError{File: name, Line: 1, Field: c, Reason: "missing column: is this a DAWA Adgangsadresse.CSV file?"}
			}
			return i, nil
		}
		var err error
		xc, yc := dawaEast, dawaNorth
		if opt.CRS == nil {
			lay.crs, _ = CRSFromEPSG(25832)
		} else if opt.CRS.Geographic() {
			xc, yc = dawaLon, dawaLat
		}
		if lay.id, err = need(dawaID); err != nil {
			return err
		}
		if lay.x, err = need(xc); err != nil {
			return err
		}
		if lay.y, err = need(yc); err != nil {
			return err
		}
		lay.units = -1
		lay.unitsByID = units
		cols := map[string]int{}
		for _, c := range []string{dawaKommune, dawaVejkode, dawaHusnr, dawaPostnr, dawaPostdist, dawaSuppl} {
			if cols[c], err = need(c); err != nil {
				return err
			}
			lay.textCols = append(lay.textCols, cols[c])
		}
		lay.textFn = func(row []string) string {
			f := func(c string) string {
				if i := cols[c]; i < len(row) {
					return strings.TrimSpace(row[i])
				}
				return ""
			}
			street := streets[streetKey(f(dawaKommune), f(dawaVejkode))]
			if street == "" {
				street = "vejkode " + f(dawaVejkode)
			}
			s := street + " " + f(dawaHusnr)
			if sup := f(dawaSuppl); sup != "" {
				s += ", " + sup
			}
			return collapseSpaces(s + ", " + f(dawaPostnr) + " " + f(dawaPostdist))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	return ar, nil
}

// streetKey joins a municipality and road code; leading zeros vary between
// DAWA files ("0155" vs "155").
func streetKey(kommune, vejkode string) string {
	return strings.TrimLeft(kommune, "0") + "/" + strings.TrimLeft(vejkode, "0")
}

// readDAWAUnits counts unit addresses (Enhedsadresse.CSV) per access address.
func readDAWAUnits(r io.Reader, name string) (map[string]int, error) {
	cr, header, err := openSemicolon(r, name)
	if err != nil {
		return nil, err
	}
	ref := findColumn(header, "adgangsadresseid")
	if ref < 0 {
		return nil, &InputError{File: name, Line: 1, Field: "adgangsadresseid", Reason: "missing column: is this a DAWA Enhedsadresse.CSV file?"}
	}
	units := map[string]int{}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return units, nil
		}
		if err != nil {
			return nil, csvFailure(name, err)
		}
		line, _ := cr.FieldPos(0)
		if ref >= len(row) || strings.TrimSpace(row[ref]) == "" {
			return nil, &InputError{File: name, Line: line, Field: "adgangsadresseid", Reason: "empty"}
		}
		id := strings.TrimSpace(row[ref])
		if reason := textReason(id); reason != "" {
			return nil, &InputError{File: name, Line: line, Field: "adgangsadresseid", Reason: reason}
		}
		if units[id]++; units[id] > MaxUnits {
			return nil, &InputError{File: name, Line: line, Field: "adgangsadresseid",
				Reason: fmt.Sprintf("more than %d units point at access address %q, more than one address may have", MaxUnits, id)}
		}
	}
}

// readDAWAStreets reads street names (Vejnavn.CSV: kommunekode;kode;navn).
func readDAWAStreets(r io.Reader, name string) (map[string]string, error) {
	cr, header, err := openSemicolon(r, name)
	if err != nil {
		return nil, err
	}
	k, c, n := findColumn(header, "kommunekode"), findColumn(header, "kode"), findColumn(header, "navn")
	if k < 0 || c < 0 || n < 0 {
		return nil, &InputError{File: name, Line: 1, Reason: "want columns kommunekode;kode;navn (DAWA Vejnavn.CSV)"}
	}
	streets := map[string]string{}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return streets, nil
		}
		if err != nil {
			return nil, csvFailure(name, err)
		}
		if max(k, c, n) < len(row) {
			// A street name becomes part of every address text on it.
			street := strings.TrimSpace(row[n])
			if reason := textReason(street); reason != "" {
				line, _ := cr.FieldPos(n)
				return nil, &InputError{File: name, Line: line, Field: header[n], Reason: reason}
			}
			streets[streetKey(strings.TrimSpace(row[k]), strings.TrimSpace(row[c]))] = street
		}
	}
}

func openSemicolon(r io.Reader, name string) (*csv.Reader, []string, error) {
	br := bufio.NewReader(&lineLimitReader{r: r})
	if b, _ := br.Peek(3); string(b) == string(utf8BOM) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &InputError{File: name, Reason: "empty file"}
	}
	if err != nil {
		return nil, nil, csvFailure(name, err)
	}
	return cr, trimHeader(header), nil
}
