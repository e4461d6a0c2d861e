package geo_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo"
)

// readErr reads an address file to the end and returns the first error,
// row or fatal, or nil when every record was accepted.
func readErr(t *testing.T, name, in string, opt geo.AddressReadOptions) error {
	t.Helper()
	rd, err := geo.NewAddressReader(strings.NewReader(in), name, opt)
	if err != nil {
		return err
	}
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Invisible and control characters (Unicode Cc, Cf) in any imported text
// are refused with the file, line and field; a BOM at the very start of a
// file is the encoding marker and stays accepted.
func TestCSVRefusesInvisibleCharacters(t *testing.T) {
	const header = "id,street,no,lon,lat,units\n"
	for _, tc := range []struct {
		name, in, want string
		opt            geo.AddressReadOptions
	}{
		{"NULInText", header + "a1,Nørre\x00gade,1,10,55,1\n", "a.csv:2: field street: contains the invisible or control character U+0000", geo.AddressReadOptions{Text: "street,no"}},
		{"RLOInText", header + "a1,Nørregade,1\u202e2,10,55,1\n", "a.csv:2: field no: contains the invisible or control character U+202E", geo.AddressReadOptions{Text: "{street} {no}"}},
		{"ZWSPInID", header + "a\u200b1,Nørregade,1,10,55,1\n", "a.csv:2: field id: contains the invisible or control character U+200B", geo.AddressReadOptions{}},
		{"WordJoinerInID", header + "a1\u2060,Nørregade,1,10,55,1\n", "a.csv:2: field id: contains the invisible or control character U+2060", geo.AddressReadOptions{}},
		{"BOMInsideValue", header + "a1,\ufeffNørregade,1,10,55,1\n", "a.csv:2: field street: contains the invisible or control character U+FEFF", geo.AddressReadOptions{Text: "street"}},
		{"ESCInQuotedText", header + "a1,\"Vej \x1b[31m\",1,10,55,1\n", "a.csv:2: field street: contains the invisible or control character U+001B", geo.AddressReadOptions{Text: "street"}},
		{"NewlineInQuotedText", header + "a1,\"Vej\n1\",1,10,55,1\n", "a.csv:2: field street: contains the invisible or control character U+000A", geo.AddressReadOptions{Text: "street"}},
		{"InTemplateLiteral", header + "a1,Vej,1,10,55,1\n", "a.csv:1: field text-col: \"{street} \\u202e{no}\" contains the invisible or control character U+202E", geo.AddressReadOptions{Text: "{street} \u202e{no}"}},
		{"InHeader", "id,str\u200beet,lon,lat\na1,Vej,10,55\n", "a.csv:1: header column 2: contains the invisible or control character U+200B", geo.AddressReadOptions{}},
		{"DuplicateColumn", "id,lon,lat,ID\na1,10,55,a2\n", "a.csv:1: field id: the header names columns 1 and 4 alike", geo.AddressReadOptions{}},
		{"UnitsOverflow", header + "a1,Vej,1,10,55,99999999999999999999\n", "a.csv:2: field units: \"99999999999999999999\" is more than 100000 units", geo.AddressReadOptions{}},
		{"UnitsExponent", header + "a1,Vej,1,10,55,1e9\n", "a.csv:2: field units: \"1e9\" is more than 100000 units", geo.AddressReadOptions{}},
		{"UnitsNegative", header + "a1,Vej,1,10,55,-1\n", "a.csv:2: field units: \"-1\" is not a whole number of at least 1", geo.AddressReadOptions{}},
		{"UnitsAboveMax", header + "a1,Vej,1,10,55,100001\n", "a.csv:2: field units: 100001 is more than 100000 units", geo.AddressReadOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readErr(t, "a.csv", tc.in, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if !geo.IsInputError(err) {
				t.Errorf("%v is not an input error", err)
			}
		})
	}
	t.Run("LeadingBOMAndUnusedColumn", func(t *testing.T) {
		// An odd character in a column the import does not read is not its
		// business; the BOM before the header is the usual UTF-8 marker.
		in := "\ufeffid,lon,lat,note,units\na1,10,55,x\u200by,100000\n"
		if err := readErr(t, "a.csv", in, geo.AddressReadOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

const dawaHeader = "id;vejkode;husnummer;kommunekode;postnummer;postdistrikt;supplerendebynavn;adgangspunkt_etrs89koordinat_oest;adgangspunkt_etrs89koordinat_nord\n"

func TestDAWARefusesInvisibleCharacters(t *testing.T) {
	row := func(id, husnr, suppl string) string {
		return id + ";1234;" + husnr + ";0741;8305;Samsø;" + suppl + ";600651.48;6192174.37\n"
	}
	for _, tc := range []struct {
		name, in, streets, units, want string
	}{
		{"NULInHouseNumber", dawaHeader + row("a1", "1\x00", ""), "", "", "adr.csv:2: field husnummer: contains the invisible or control character U+0000"},
		{"RLOInSupplement", dawaHeader + row("a1", "1", "Ny\u202eby"), "", "", "adr.csv:2: field supplerendebynavn: contains the invisible or control character U+202E"},
		{"ZWSPInID", dawaHeader + row("a\u200b1", "1", ""), "", "", "adr.csv:2: field id: contains the invisible or control character U+200B"},
		{"StreetName", dawaHeader + row("a1", "1", ""), "kommunekode;kode;navn\n741;1234;Nørre\u2060gade\n", "", "vej.csv:2: field navn: contains the invisible or control character U+2060"},
		{"StreetNameInvalidUTF8", dawaHeader + row("a1", "1", ""), "kommunekode;kode;navn\n741;1234;N\xf8rregade\n", "", "vej.csv:2: field navn: invalid UTF-8"},
		{"UnitFileID", dawaHeader + row("a1", "1", ""), "", "id;adgangsadresseid\nu1;a\ufeff1\n", "enh.csv:2: field adgangsadresseid: contains the invisible or control character U+FEFF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := geo.AddressReadOptions{Format: geo.FormatDAWA}
			if tc.streets != "" {
				opt.Streets, opt.StreetsName = strings.NewReader(tc.streets), "vej.csv"
			}
			if tc.units != "" {
				opt.Units, opt.UnitsName = strings.NewReader(tc.units), "enh.csv"
			}
			err := readErr(t, "adr.csv", tc.in, opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("TooManyUnits", func(t *testing.T) {
		units := "id;adgangsadresseid\n" + strings.Repeat("u;a1\n", geo.MaxUnits+1)
		opt := geo.AddressReadOptions{Format: geo.FormatDAWA, Units: strings.NewReader(units), UnitsName: "enh.csv"}
		err := readErr(t, "adr.csv", dawaHeader+row("a1", "1", ""), opt)
		want := "enh.csv:100002: field adgangsadresseid: more than 100000 units point at access address \"a1\""
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("LeadingBOM", func(t *testing.T) {
		if err := readErr(t, "adr.csv", "\ufeff"+dawaHeader+row("a1", "1", ""), geo.AddressReadOptions{Format: geo.FormatDAWA}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestGeoJSONAddressesRefuseInvisibleCharacters(t *testing.T) {
	feature := func(id, props string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature"` + id + `,"properties":{` + props + `},"geometry":{"type":"Point","coordinates":[10.5,55.5]}}]}`
	}
	for _, tc := range []struct {
		name, in, want string
		opt            geo.AddressReadOptions
	}{
		{"NULEscapeInText", feature("", `"text":"Vej\u00001"`), "a.geojson: feature 1: field properties.text: contains the invisible or control character U+0000", geo.AddressReadOptions{}},
		{"RLOInText", feature("", `"adresse":"Vej 1`+"\u202e"+`"`), "a.geojson: feature 1: field properties.adresse: contains the invisible or control character U+202E", geo.AddressReadOptions{Text: "adresse"}},
		{"ZWSPInFeatureID", feature(`,"id":"a`+"\u200b"+`1"`, `"text":"Vej 1"`), "a.geojson: feature 1: field id: contains the invisible or control character U+200B", geo.AddressReadOptions{}},
		{"ZWSPInIDProperty", feature("", `"id":"a\u200b1"`), "a.geojson: feature 1: field properties.id: contains the invisible or control character U+200B", geo.AddressReadOptions{}},
		{"BOMInIDCol", feature("", `"nr":"\ufeffa1"`), "a.geojson: feature 1: field properties.nr: contains the invisible or control character U+FEFF", geo.AddressReadOptions{IDCol: "nr"}},
		{"UnitsTooMany", feature("", `"units":1e9`), "a.geojson: feature 1: field properties.units: 1000000000 is more than 100000 units", geo.AddressReadOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Format = geo.FormatGeoJSON
			err := readErr(t, "a.geojson", tc.in, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadAreasRefusesInvisibleCharacters(t *testing.T) {
	area := func(id, props string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature"` + id + `,"properties":{` + props + `},"geometry":{"type":"Polygon","coordinates":[[[10,55],[11,55],[11,56],[10,56],[10,55]]]}}]}`
	}
	for _, tc := range []struct {
		name, in, want string
		opt            geo.AreaReadOptions
	}{
		{"NULInName", area("", `"code":"A","name":"Å\u0000by"`), "a.geojson: feature 1: field name: contains the invisible or control character U+0000", geo.AreaReadOptions{}},
		{"RLOInNameProp", area("", `"SOGNEKODE":"7240","SOGNENAVN":"Trane`+"\u202e"+`bjerg"`), "a.geojson: feature 1: field SOGNENAVN: contains the invisible or control character U+202E", geo.AreaReadOptions{IDProp: "SOGNEKODE", NameProp: "SOGNENAVN"}},
		{"ZWSPInCode", area("", `"code":"7\u200b240"`), "a.geojson: feature 1: field code: contains the invisible or control character U+200B", geo.AreaReadOptions{}},
		{"WordJoinerInFeatureID", area(`,"id":"A`+"\u2060"+`"`, ``), "a.geojson: feature 1: field id: contains the invisible or control character U+2060", geo.AreaReadOptions{}},
		{"BOMInIDProp", area("", `"kode":"\ufeffA"`), "a.geojson: feature 1: field kode: contains the invisible or control character U+FEFF", geo.AreaReadOptions{IDProp: "kode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := geo.ReadAreas(strings.NewReader(tc.in), "a.geojson", tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("LeadingBOM", func(t *testing.T) {
		if _, _, err := geo.ReadAreas(strings.NewReader("\ufeff"+area("", `"code":"A","name":"Åby"`)), "a.geojson", geo.AreaReadOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}
