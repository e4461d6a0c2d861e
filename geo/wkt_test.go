package geo_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/internal/testenv"
)

// Every supported family, written by GDAL in the WKT flavours that .prj
// files and GeoPackages hold: ESRI (no authority codes, so the datum and
// projection parameters decide), OGC WKT 1 and WKT 2.
func TestCRSFromWKTMatchesGDAL(t *testing.T) {
	gdalsrsinfo := testenv.Tool(t, "gdalsrsinfo", "gdal-bin")
	codes := []int{4326, 3857, 32601, 32632, 32660, 32733, 25828, 25832, 25838, 26901, 26917, 26923, 28348, 28356, 28358, 7846, 7856, 7859}
	for _, code := range codes {
		for _, flavour := range []string{"wkt_esri", "wkt1", "wkt2"} {
			t.Run(fmt.Sprintf("EPSG%d_%s", code, flavour), func(t *testing.T) {
				out, err := exec.Command(gdalsrsinfo, "-o", flavour, fmt.Sprintf("EPSG:%d", code)).Output()
				if err != nil {
					t.Fatalf("gdalsrsinfo: %v", err)
				}
				crs, err := geo.CRSFromWKT(string(out))
				if err != nil {
					t.Fatalf("CRSFromWKT: %v\n%s", err, out)
				}
				if crs.Code() != code {
					t.Fatalf("got %s, want EPSG:%d\n%s", crs, code, out)
				}
			})
		}
	}
}

func TestCRSFromWKTRefuses(t *testing.T) {
	for _, tc := range []struct{ name, wkt, want string }{
		{"Garbage", "hello", "unsupported CRS kind hello"},
		{"Trailing", `GEOGCS["x"] junk`, "not WKT"},
		{"Unclosed", `PROJCS["x",GEOGCS["y"`, "not WKT"},
		{"Lambert", `PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]`, `unsupported CRS "RGF93_Lambert_93"`},
		{"UTMFeet", `PROJCS["NAD_1983_UTM_Zone_17N_ftUS",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",1640416.667],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-81.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Foot_US",0.3048006096012192]]`, "units are not metres"},
		{"ETRS89South", `PROJCS["x",GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",10000000.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, `UTM zone 32 on datum "D_ETRS_1989"`},
		{"GeographicETRS89", `GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, "unsupported CRS"},
		{"Deep", strings.Repeat("A[", 100) + strings.Repeat("]", 100), "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crs, err := geo.CRSFromWKT(tc.wkt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error with %q", crs, err, tc.want)
			}
		})
	}
}
