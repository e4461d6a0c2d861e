package report

import (
	"bufio"
	"encoding/json"
	"github.com/kommunity/kommunity/internal/safecsv"
	"io"
	"math"
	"strconv"

	"github.com/paulmach/orb/geojson"
)

// writeAreaGeoJSON writes the area as a FeatureCollection of one
// MultiPolygon feature with its settings and counters.
func (r *renderer) writeAreaGeoJSON(w io.Writer) error {
	a := r.t.Area
	f := geojson.NewFeature(a.Geometry)
	f.ID = a.Code
	var deadline, tenderDeadline any
	if a.Deadline != nil {
		deadline = a.Deadline.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	if d := r.t.TenderDeadline; d != nil {
		tenderDeadline = d.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	f.Properties = geojson.Properties{
		"code": a.Code, "name": a.Name, "status": string(a.Status),
		"municipality": r.t.Municipality, "association": r.t.Association,
		"threshold_percent": a.ThresholdPercent, "threshold_units": a.ThresholdUnits,
		"addresses": a.Addresses, "units": a.Units, "pledged_units": a.PledgedUnits,
		"take_up":  math.Round(a.TakeUp()*1e4) / 1e4,
		"deadline": deadline, "tender_deadline": tenderDeadline,
		"area_m2": math.Round(a.AreaM2),
	}
	fc := geojson.NewFeatureCollection().Append(f)
	b, err := fc.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeAddressesGeoJSON writes one Point feature per address, one to a
// line. It is written by hand: a generic encoder spends most of its time
// on property maps, and this file can hold a million addresses.
func (r *renderer) writeAddressesGeoJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	var b []byte
	for i, a := range r.t.Addresses {
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+`{"type":"Feature","id":`...)
		b = appendJSONString(b, a.ID)
		b = append(b, `,"geometry":{"type":"Point","coordinates":[`...)
		b = strconv.AppendFloat(b, a.Point[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, a.Point[1], 'f', -1, 64)
		b = append(b, `]},"properties":{"address_id":`...)
		b = appendJSONString(b, a.ID)
		b = append(b, `,"text":`...)
		b = appendJSONString(b, a.Text)
		b = append(b, `,"units":`...)
		b = strconv.AppendInt(b, int64(a.Units), 10)
		b = append(b, `,"pledged_units":`...)
		b = strconv.AppendInt(b, int64(a.PledgedUnits), 10)
		b = append(b, `,"drop_m":`...)
		if d := r.dropM[i]; d >= 0 {
			b = strconv.AppendFloat(b, roundCM(d), 'f', -1, 64)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, "}}"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// writeAddressesCSV writes the addresses with the columns of CSVHeader;
// drop_m is empty for an address not on the route.
func (r *renderer) writeAddressesCSV(w io.Writer) error {
	// Address texts come from imported files: a cell such as
	// "=HYPERLINK(...)" must not run in the provider's spreadsheet.
	cw := safecsv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rec := make([]string, len(CSVHeader))
	for i, a := range r.t.Addresses {
		rec[0] = a.ID
		rec[1] = a.Text
		rec[2] = strconv.FormatFloat(a.Point[0], 'f', -1, 64)
		rec[3] = strconv.FormatFloat(a.Point[1], 'f', -1, 64)
		rec[4] = strconv.Itoa(a.Units)
		rec[5] = strconv.Itoa(a.PledgedUnits)
		rec[6] = ""
		if d := r.dropM[i]; d >= 0 {
			rec[6] = strconv.FormatFloat(roundCM(d), 'f', 2, 64)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// writeRouteGeoJSON writes the route estimate as the API's route.geojson
// does: the POP, the trench with its totals, and one drop per address.
func (r *renderer) writeRouteGeoJSON(w io.Writer) error {
	b, err := r.t.Route.GeoJSON()
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// roundCM rounds metres to the centimetre.
func roundCM(m float64) float64 { return math.Round(m*100) / 100 }
