package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// newGeoJSONAddressReader streams Point features one at a time, so a file of
// millions of addresses is never held in memory. A "crs" member must come
// before "features" to apply (as GDAL writes it); --crs overrides it.
func newGeoJSONAddressReader(r io.Reader, name string, opt AddressReadOptions) (*AddressReader, error) {
	dec := json.NewDecoder(r)
	fail := func(feature int, field, reason string) error {
		return &InputError{File: name, Feature: feature, Field: field, Reason: reason}
	}
	syntax := func(err error) error {
		if errors.Is(err, io.EOF) {
			return InputErrors{{File: name, Reason: "empty or truncated file"}}
		}
		return InputErrors{{File: name, Reason: fmt.Sprintf("not valid GeoJSON near byte %d: %s", dec.InputOffset(), jsonErrorText(err))}}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, InputErrors{{File: name, Reason: "not a GeoJSON object"}}
	}
	crs := opt.CRS
	var typ string
	// Walk top-level members up to "features".
	for {
		if !dec.More() {
			return nil, InputErrors{{File: name, Reason: "no features member: want a FeatureCollection"}}
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key, _ := tok.(string)
		if key == "features" {
			break
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, syntax(err)
		}
		switch key {
		case "type":
			_ = json.Unmarshal(v, &typ)
		case "crs":
			var m geojsonCRS
			if json.Unmarshal(v, &m) == nil && opt.CRS == nil {
				if crs, err = fileCRS(nil, &m); err != nil {
					return nil, InputErrors{{File: name, Field: "crs", Reason: err.Error()}}
				}
			}
		}
	}
	if typ != "" && typ != "FeatureCollection" {
		return nil, InputErrors{{File: name, Reason: fmt.Sprintf("type is %q, want FeatureCollection", typ)}}
	}
	if crs == nil {
		crs = WGS84
	}
	if tok, err := dec.Token(); err != nil {
		return nil, syntax(err)
	} else if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, InputErrors{{File: name, Field: "features", Reason: "not an array"}}
	}
	n := 0
	done := false
	ar := &AddressReader{}
	ar.next = func() (AddressRecord, error) {
		if done || !dec.More() {
			done = true
			return AddressRecord{}, io.EOF
		}
		n++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			done = true
			return AddressRecord{}, syntax(err)
		}
		if !utf8.Valid(raw) {
			return AddressRecord{}, fail(n, "", "invalid UTF-8")
		}
		var f struct {
			ID         json.RawMessage `json:"id"`
			Properties map[string]any  `json:"properties"`
			Geometry   *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return AddressRecord{}, fail(n, "", "not a Point feature: "+jsonErrorText(err))
		}
		if f.Geometry == nil {
			return AddressRecord{}, fail(n, "geometry", "missing")
		}
		if f.Geometry.Type != "Point" {
			return AddressRecord{}, fail(n, "geometry.type", fmt.Sprintf("is %q, want Point", f.Geometry.Type))
		}
		var pos []float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &pos); err != nil || len(pos) < 2 {
			return AddressRecord{}, fail(n, "geometry.coordinates", "want a position of at least 2 numbers")
		}
		p, err := ToLonLat(pos[0], pos[1], crs)
		if err != nil {
			return AddressRecord{}, fail(n, "geometry.coordinates", err.Error())
		}
		rec := AddressRecord{Point: p, Units: 1, Line: n}
		prop := func(k string) (string, bool) {
			v, ok := f.Properties[k]
			return strings.TrimSpace(propString(v)), ok && v != nil
		}
		textKey := opt.Text
		if textKey == "" {
			textKey = "text"
		}
		rec.Text, _ = prop(textKey)
		if reason := invisibleIn(rec.Text); reason != "" {
			return AddressRecord{}, fail(n, "properties."+textKey, reason)
		}
		if opt.UnitsCol != "" || f.Properties["units"] != nil {
			key := opt.UnitsCol
			if key == "" {
				key = "units"
			}
			if s, ok := prop(key); ok {
				u, reason := parseUnits(s)
				if reason != "" {
					return AddressRecord{}, fail(n, "properties."+key, reason)
				}
				rec.Units = u
			}
		}
		idField := "id"
		switch {
		case opt.IDCol != "":
			idField = "properties." + opt.IDCol
			id, ok := prop(opt.IDCol)
			if !ok || id == "" {
				return AddressRecord{}, fail(n, idField, "missing id")
			}
			rec.ID = id
		case len(f.ID) > 0 && string(f.ID) != "null":
			var v any
			_ = json.Unmarshal(f.ID, &v)
			rec.ID = strings.TrimSpace(propString(v))
		default:
			if id, ok := prop("id"); ok && id != "" {
				idField, rec.ID = "properties.id", id
			}
		}
		if reason := invisibleIn(rec.ID); reason != "" {
			return AddressRecord{}, fail(n, idField, reason)
		}
		if rec.ID == "" {
			rec.ID = DeriveID(rec.Text, p[0], p[1])
			rec.Derived = true
		}
		if rec.Text == "" {
			rec.Text = rec.ID
		}
		return rec, nil
	}
	return ar, nil
}
