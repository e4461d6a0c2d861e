package geo_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/shareddata"
)

func readAreasString(s string, opt geo.AreaReadOptions) ([]geo.AreaFeature, []geo.Warning, error) {
	return geo.ReadAreas(strings.NewReader(s), "areas.geojson", opt)
}

const sq = `[[10,55],[11,55],[11,56],[10,56],[10,55]]`

func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func feature(props, geomType, coords string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":{"type":"` + geomType + `","coordinates":` + coords + `}}`
}

func TestReadAreasMergesPartsAndIgnoresZ(t *testing.T) {
	in := fc(
		feature(`{"code":"7244","name":"Nordby"}`, "Polygon", `[[[10,55,-999],[11,55,-999],[11,56,-999],[10,56,-999],[10,55,-999]]]`),
		feature(`{"code":"7240","name":"Tranebjerg"}`, "MultiPolygon", `[[`+sq+`]]`),
		feature(`{"code":"7244","name":"Nordby"}`, "Polygon", `[[[12,55],[13,55],[13,56],[12,55]]]`),
	)
	areas, warns, err := readAreasString(in, geo.AreaReadOptions{})
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	if len(areas) != 2 || areas[0].Code != "7244" || len(areas[0].Polygon) != 2 || areas[1].Name != "Tranebjerg" {
		t.Fatalf("areas = %+v", areas)
	}
	if p := areas[0].Polygon[0][0][1]; p[0] != 11 || p[1] != 55 {
		t.Errorf("3-D position read as %v", p)
	}
}

func TestReadAreasRealParishes(t *testing.T) {
	f, err := os.Open(shareddata.Path(t, "dk_dagi_polygons/derived/sogne_samsoe.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	areas, _, err := geo.ReadAreas(f, "sogne_samsoe.geojson", geo.AreaReadOptions{IDProp: "SOGNEKODE", NameProp: "SOGNENAVN"})
	if err != nil {
		t.Fatal(err)
	}
	// SOURCE.txt: 20 parts of the 5 Samsø parishes.
	parts := 0
	for _, a := range areas {
		parts += len(a.Polygon)
	}
	if len(areas) != 5 || parts != 20 {
		t.Errorf("%d areas of %d parts, want 5 of 20", len(areas), parts)
	}
}

func TestReadAreasErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		opt            geo.AreaReadOptions
	}{
		{"Empty", "", "areas.geojson: empty file", geo.AreaReadOptions{}},
		{"NotJSON", "{\n\"type\": \"FeatureCollection\",\n\"features\": [x]}", "areas.geojson:3: not valid GeoJSON", geo.AreaReadOptions{}},
		{"NotCollection", `{"type":"Feature"}`, `type is "Feature", want FeatureCollection`, geo.AreaReadOptions{}},
		{"NoFeatures", fc(), "no features", geo.AreaReadOptions{}},
		{"InvalidUTF8", "{\"type\":\"FeatureCollection\",\n\"features\":[" + feature("{\"code\":\"A\",\"name\":\"\xff\"}", "Polygon", "["+sq+"]") + "]}", "areas.geojson:2: invalid UTF-8", geo.AreaReadOptions{}},
		{"Unclosed", fc(feature(`{"code":"A"}`, "Polygon", `[[[10,55],[11,55],[11,56],[10,56],[10,55.5]]]`)), "feature 1: field geometry.coordinates: outer ring is not closed", geo.AreaReadOptions{}},
		{"TooFewPositions", fc(feature(`{"code":"A"}`, "Polygon", `[[[10,55],[11,55],[10,55]]]`)), "outer ring has 3 positions, a ring needs at least 4", geo.AreaReadOptions{}},
		{"HoleTooShort", fc(feature(`{"code":"A"}`, "Polygon", `[`+sq+`,[[10.2,55.2],[10.3,55.2],[10.2,55.2]]]`)), "hole 1 has 3 positions", geo.AreaReadOptions{}},
		{"PointGeometry", fc(feature(`{"code":"A"}`, "Point", `[10,55]`)), `feature 1: field geometry.type: is "Point", want Polygon or MultiPolygon`, geo.AreaReadOptions{}},
		{"NoCode", fc(feature(`{"name":"A"}`, "Polygon", "["+sq+"]")), "feature 1: field id: no area code", geo.AreaReadOptions{}},
		{"WrongIDProp", fc(feature(`{"code":"A"}`, "Polygon", "["+sq+"]")), "feature 1: field SOGNEKODE: no area code", geo.AreaReadOptions{IDProp: "SOGNEKODE"}},
		{"OutOfRange", fc(feature(`{"code":"A"}`, "Polygon", `[[[600000,6200000],[600100,6200000],[600100,6200100],[600000,6200000]]]`)), "out of range (projected coordinates? give the CRS)", geo.AreaReadOptions{}},
		{"UnknownCRS", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:2154"}},"features":[]}`, "crs: unsupported CRS EPSG:2154", geo.AreaReadOptions{}},
		{"SecondFeatureBad", fc(feature(`{"code":"A"}`, "Polygon", "["+sq+"]"), feature(`{"code":"B"}`, "Polygon", `"x"`)), "feature 2: field geometry.coordinates: not a Polygon's coordinates", geo.AreaReadOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			areas, _, err := readAreasString(tc.in, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if areas != nil {
				t.Errorf("areas returned with an error: %v", areas)
			}
			if !geo.IsInputError(err) {
				t.Errorf("%T is not an input error", err)
			}
		})
	}
}

func TestReadAreasAllErrorsAtOnce(t *testing.T) {
	in := fc(feature(`{}`, "Polygon", "["+sq+"]"), feature(`{"code":"B"}`, "Polygon", `[[[1,1],[2,2],[1,1]]]`))
	_, _, err := readAreasString(in, geo.AreaReadOptions{})
	var ies geo.InputErrors
	if !errors.As(err, &ies) || len(ies) != 2 || ies[0].Feature != 1 || ies[1].Feature != 2 {
		t.Fatalf("err = %v, want two errors for features 1 and 2", err)
	}
}

func TestReadAreasWarnsOfSelfIntersection(t *testing.T) {
	bowtie := `[[[10,55],[11,56],[11,55],[10,56],[10,55]]]`
	areas, warns, err := readAreasString(fc(feature(`{"code":"X9","name":"Sløjfe"}`, "Polygon", bowtie)), geo.AreaReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(areas) != 1 || len(warns) != 1 || warns[0].Feature != 1 || warns[0].Code != "X9" ||
		!strings.Contains(warns[0].String(), "feature 1 (X9): outer ring intersects itself") {
		t.Fatalf("warnings = %v", warns)
	}
	// The even-odd rule: the bow-tie's two triangles are inside, its
	// notches outside.
	ix := geo.NewAreaIndex([]orbMP{areas[0].Polygon})
	if ix.Locate(pt(10.1, 55.5)) != 0 || ix.Locate(pt(10.5, 55.1)) != -1 {
		t.Errorf("even-odd assignment of a bow-tie is wrong")
	}
}

func TestReadAreasCRSMember(t *testing.T) {
	in := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25832"}},"features":[` +
		feature(`{"code":"U"}`, "Polygon", `[[[600000,6200000],[600100,6200000],[600100,6200100],[600000,6200000]]]`) + `]}`
	areas, _, err := readAreasString(in, geo.AreaReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := areas[0].Polygon[0][0][0]; p[0] < 10.5 || p[0] > 10.7 || p[1] < 55.9 || p[1] > 56 {
		t.Errorf("UTM32 600000,6200000 converted to %v", p)
	}
}
