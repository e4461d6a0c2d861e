// Command points writes N random address points over the land of an area
// file (uniform in its bounds, kept when inside an area) as the CSV that
// `kommunity import addresses` and ogr2ogr both read, for benchmarks
// against real polygons such as the Danish parishes. The same seed gives
// the same file.
//
//	go run ./bench/points -areas sogne.geojson -n 1000000 -seed 1 >points.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
)

func main() {
	areasPath := flag.String("areas", "", "GeoJSON area `file` whose land the points cover")
	idProp := flag.String("id-prop", "", "feature property holding the area code (as for kommunity import areas)")
	n := flag.Int("n", 1000000, "number of points")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *areasPath == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: points -areas FILE.geojson [-id-prop P] [-n N] [-seed S] >points.csv")
		os.Exit(2)
	}
	f, err := os.Open(*areasPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "points:", err)
		os.Exit(1)
	}
	areas, _, err := geo.ReadAreas(bufio.NewReader(f), *areasPath, geo.AreaReadOptions{IDProp: *idProp})
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "points:", err)
		os.Exit(1)
	}
	polys := make([]orb.MultiPolygon, len(areas))
	var b orb.Bound
	for i, a := range areas {
		polys[i] = a.Polygon
		if i == 0 {
			b = a.Polygon.Bound()
		} else {
			b = b.Union(a.Polygon.Bound())
		}
	}
	ix := geo.NewAreaIndex(polys)
	rng := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	fmt.Fprintln(w, "id,text,lon,lat")
	for i := 0; i < *n; {
		p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		if ix.Locate(p) < 0 {
			continue
		}
		i++
		// 7 decimals (about 1 cm), the precision kommunity's demo writes.
		fmt.Fprintf(w, "p%d,Punkt %d,%.7f,%.7f\n", i, i, p[0], p[1])
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "points:", err)
		os.Exit(1)
	}
}
