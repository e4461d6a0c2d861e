package demo

import (
	"bufio"
	"fmt"
	"github.com/kommunity/kommunity/internal/safecsv"
	"io"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/kommunity/kommunity/geo"
)

// WriteAddressesCSV streams the addresses of cfg as CSV with the header
// id,text,lon,lat,units (comma-separated, RFC 4180 quoting, lon/lat with 7
// decimals), in EachAddress order, in O(areas) memory.
func WriteAddressesCSV(w io.Writer, cfg Config) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := safecsv.NewWriter(bw)
	if err := cw.Write([]string{"id", "text", "lon", "lat", "units"}); err != nil {
		return fmt.Errorf("write addresses csv: %w", err)
	}
	rec := make([]string, 5)
	var num []byte
	err := EachAddress(cfg, func(a geo.AddressRecord) error {
		rec[0] = a.ID
		rec[1] = a.Text
		num = strconv.AppendFloat(num[:0], a.Point[0], 'f', 7, 64)
		rec[2] = string(num)
		num = strconv.AppendFloat(num[:0], a.Point[1], 'f', 7, 64)
		rec[3] = string(num)
		rec[4] = strconv.Itoa(a.Units)
		return cw.Write(rec)
	})
	if err == nil {
		err = cw.Flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write addresses csv: %w", err)
	}
	return nil
}

// WriteAreasGeoJSON writes areas as a GeoJSON FeatureCollection with
// MultiPolygon geometries and properties {"code", "name"}.
func WriteAreasGeoJSON(w io.Writer, areas []geo.AreaFeature) error {
	fc := geojson.NewFeatureCollection()
	for _, a := range areas {
		f := geojson.NewFeature(a.Polygon)
		f.Properties["code"] = a.Code
		f.Properties["name"] = a.Name
		fc.Append(f)
	}
	return writeJSON(w, fc, "areas")
}

// WriteRoadsGeoJSON writes roads as a GeoJSON FeatureCollection of
// LineStrings with empty properties.
func WriteRoadsGeoJSON(w io.Writer, roads []orb.LineString) error {
	fc := geojson.NewFeatureCollection()
	for _, r := range roads {
		fc.Append(geojson.NewFeature(r))
	}
	return writeJSON(w, fc, "roads")
}

func writeJSON(w io.Writer, fc *geojson.FeatureCollection, what string) error {
	data, err := fc.MarshalJSON()
	if err != nil {
		return fmt.Errorf("write %s geojson: %w", what, err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write %s geojson: %w", what, err)
	}
	return nil
}
