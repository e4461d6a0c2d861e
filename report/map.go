package report

import (
	"math"
	"strconv"

	"codeberg.org/go-pdf/fpdf"
	"github.com/kommunity/kommunity/geo"
	"github.com/paulmach/orb"
)

// mapView projects lon/lat into the area's UTM zone (metres, so the scale
// bar is true) and fits the result into a box on the page (millimetres,
// y down).
type mapView struct {
	crs          *geo.CRS
	x, y, w, h   float64 // box on the page
	minX, minY   float64 // projected origin
	scale        float64 // mm per metre
	offX, offY   float64 // centring inside the box
	metresAcross float64
}

// project returns the point in metres; a point the projection rejects
// (not a longitude/latitude) is dropped by the caller.
func (v *mapView) project(pt orb.Point) (orb.Point, bool) {
	x, y, err := v.crs.FromWGS84(pt[0], pt[1])
	if err != nil || math.IsNaN(x) || math.IsNaN(y) {
		return orb.Point{}, false
	}
	return orb.Point{x, y}, true
}

// page maps projected metres to page millimetres.
func (v *mapView) page(m orb.Point) (float64, float64) {
	return v.x + v.offX + (m[0]-v.minX)*v.scale, v.y + v.h - v.offY - (m[1]-v.minY)*v.scale
}

// newMapView fits bound (lon/lat) into the box with a margin; an extent
// below 400 m is widened so a single address still gets a sensible scale.
func newMapView(bound orb.Bound, x, y, w, h float64) *mapView {
	v := &mapView{crs: geo.UTMFor(bound.Center()), x: x, y: y, w: w, h: h}
	var pb orb.Bound
	first := true
	for _, c := range []orb.Point{bound.Min, {bound.Min[0], bound.Max[1]}, bound.Max, {bound.Max[0], bound.Min[1]}, {bound.Center()[0], bound.Min[1]}, {bound.Center()[0], bound.Max[1]}} {
		m, ok := v.project(c)
		if !ok {
			continue
		}
		if first {
			pb, first = m.Bound(), false
		} else {
			pb = pb.Extend(m)
		}
	}
	const minExtent = 400.0
	if dx := pb.Max[0] - pb.Min[0]; dx < minExtent {
		pb.Min[0], pb.Max[0] = pb.Min[0]-(minExtent-dx)/2, pb.Max[0]+(minExtent-dx)/2
	}
	if dy := pb.Max[1] - pb.Min[1]; dy < minExtent {
		pb.Min[1], pb.Max[1] = pb.Min[1]-(minExtent-dy)/2, pb.Max[1]+(minExtent-dy)/2
	}
	const pad = 6.0
	dx, dy := pb.Max[0]-pb.Min[0], pb.Max[1]-pb.Min[1]
	v.scale = math.Min((w-2*pad)/dx, (h-2*pad)/dy)
	v.minX, v.minY = pb.Min[0], pb.Min[1]
	v.offX = (w - dx*v.scale) / 2
	v.offY = (h - dy*v.scale) / 2
	v.metresAcross = w / v.scale
	return v
}

func (d *pdfDoc) mapPage() {
	p, t, l := d.pdf, d.t, d.l
	p.AddPage()
	d.heading(l.T("map.title"))
	route := t.Route.Estimate
	pop := t.Route.POP
	if t.Route.AreaCode == "" {
		pop = t.Cost.POP
	}

	var bound orb.Bound
	switch {
	case len(t.Area.Geometry) > 0:
		bound = t.Area.Geometry.Bound()
	case len(t.Addresses) > 0:
		bound = t.Addresses[0].Point.Bound()
	default:
		bound = pop.Bound()
	}
	bound = bound.Extend(pop)
	for _, a := range t.Addresses {
		bound = bound.Extend(a.Point)
	}

	bx, by, bw, bh := marginL, p.GetY(), contentW, 206.0
	v := newMapView(bound, bx, by, bw, bh)
	d.fillColor(rgb{250, 251, 252})
	d.drawColor(colRule)
	p.SetLineWidth(0.3)
	p.Rect(bx, by, bw, bh, "FD")
	p.ClipRect(bx, by, bw, bh, false)

	path := &rawPath{k: p.GetConversionRatio(), h: pageH}
	// Area: every ring of a polygon in one path, filled even-odd so lakes
	// (holes) stay empty.
	d.fillColor(colAreaFill)
	d.drawColor(colAreaLine)
	p.SetLineWidth(0.45)
	for _, poly := range t.Area.Geometry {
		for _, ring := range poly {
			path.line(v, orb.LineString(ring), true)
		}
	}
	path.flush(p, "B*")

	// Drops under the trench, the trench under the addresses.
	d.drawColor(colRoute)
	p.SetLineWidth(0.15)
	for _, dl := range route.Drops {
		path.line(v, dl, false)
	}
	path.flush(p, "S")
	p.SetLineWidth(0.6)
	p.SetLineCapStyle("round")
	p.SetLineJoinStyle("round")
	for _, ls := range route.Route {
		path.line(v, ls, false)
	}
	path.flush(p, "S")

	// Many addresses need small dots to stay apart. Each colour is one
	// path: fill, then white outlines that keep close dots apart; dots too
	// small for an outline are only filled, or white would drown them.
	r := math.Min(1.0, math.Max(0.3, 16/math.Sqrt(float64(len(t.Addresses)+1))))
	paint := "B"
	if r < 0.6 {
		paint = "f"
	}
	p.SetLineWidth(0.1)
	d.drawColor(colWhite)
	for pass := range 2 {
		if pass == 0 {
			d.fillColor(colUnpledged)
		} else {
			d.fillColor(colPledged)
		}
		for _, a := range t.Addresses {
			if (a.PledgedUnits > 0) != (pass == 1) {
				continue
			}
			if m, ok := v.project(a.Point); ok {
				x, y := v.page(m)
				path.circle(x, y, r)
			}
		}
		path.flush(p, paint)
	}

	if m, ok := v.project(pop); ok {
		x, y := v.page(m)
		d.popSymbol(x, y, 2.2)
		d.font("B", smallSize, colPOP)
		// A white backing keeps the label legible over dense dots.
		label := l.T("map.pop")
		d.fillColor(colWhite)
		p.Rect(x+2.6, y-1.9, p.GetStringWidth(label)+0.8, 3.6, "F")
		p.Text(x+3, y+1, label)
	}
	p.ClipEnd()

	d.northArrow(v, bound.Center(), bx+bw-11, by+13)
	d.scaleBar(v, bx+6, by+bh-9)

	// Legend under the map.
	p.SetXY(marginL, by+bh+3)
	d.font("", smallSize+0.5, colInk)
	type entry struct {
		key  string
		draw func(x, y float64)
	}
	dot := func(c rgb) func(x, y float64) {
		return func(x, y float64) {
			d.fillColor(c)
			d.drawColor(colWhite)
			p.SetLineWidth(0.1)
			p.Circle(x+2, y, 1.1, "FD")
		}
	}
	line := func(w float64) func(x, y float64) {
		return func(x, y float64) {
			d.drawColor(colRoute)
			p.SetLineWidth(w)
			p.Line(x, y, x+5, y)
		}
	}
	entries := []entry{
		{"map.area", func(x, y float64) {
			d.fillColor(colAreaFill)
			d.drawColor(colAreaLine)
			p.SetLineWidth(0.45)
			p.Rect(x, y-1.5, 5, 3, "FD")
		}},
		{"map.pledged", dot(colPledged)},
		{"map.unpledged", dot(colUnpledged)},
		{"map.trench", line(0.6)},
		{"map.drop", line(0.15)},
		{"map.pop", func(x, y float64) { d.popSymbol(x+2, y, 1.6) }},
	}
	colW := contentW / 3
	ly := p.GetY()
	for i, e := range entries {
		x := marginL + float64(i%3)*colW
		y := ly + float64(i/3)*5.5
		e.draw(x, y+2.2)
		d.font("", smallSize+0.5, colInk)
		p.SetXY(x+7, y)
		p.CellFormat(colW-8, 4.4, l.T(e.key), "", 0, "L", false, 0, "")
	}
	p.SetXY(marginL, ly+12)
	if len(route.Route) == 0 && len(route.Drops) == 0 {
		d.small(l.T("map.no_route"))
	}
	zone, hemi := v.crs.Code()%100, "N"
	if v.crs.Code() >= 32700 {
		hemi = "S"
	}
	d.small(l.T("map.projection", zone, hemi, v.crs.Code()))
	d.small(d.attribution())
}

// attribution names the sources of what the map shows.
func (d *pdfDoc) attribution() string {
	if d.t.Attribution != "" {
		return d.t.Attribution
	}
	s := d.l.T("map.attribution")
	if d.t.Cost.Method == geo.MethodRoad {
		s += d.l.T("map.attr_roads")
	}
	return s
}

// rawPath collects PDF path operators (in points, y up) for one
// RawWriteStr. A map has tens of thousands of segments and dots, and
// fpdf's MoveTo, LineTo and Circle format each number through fmt; this
// is several times faster and gives the same drawing.
type rawPath struct {
	b []byte
	k float64 // points per millimetre
	h float64 // page height, millimetres
}

func (r *rawPath) point(x, y float64, op string) {
	r.b = strconv.AppendFloat(r.b, x*r.k, 'f', 2, 64)
	r.b = append(r.b, ' ')
	r.b = strconv.AppendFloat(r.b, (r.h-y)*r.k, 'f', 2, 64)
	r.b = append(r.b, op...)
}

// line adds ls (lon/lat) as a subpath, closed if closed.
func (r *rawPath) line(v *mapView, ls orb.LineString, closed bool) {
	n := 0
	for _, pt := range ls {
		m, ok := v.project(pt)
		if !ok {
			continue
		}
		x, y := v.page(m)
		if n == 0 {
			r.point(x, y, " m\n")
		} else {
			r.point(x, y, " l\n")
		}
		n++
	}
	if n > 0 && closed {
		r.b = append(r.b, "h\n"...)
	}
}

// circle adds a circle of radius rad around (x, y) (page millimetres) as
// four Bézier curves.
func (r *rawPath) circle(x, y, rad float64) {
	const kappa = 0.5522847498
	c := rad * kappa
	r.point(x+rad, y, " m\n")
	for _, q := range [4][6]float64{
		{x + rad, y - c, x + c, y - rad, x, y - rad},
		{x - c, y - rad, x - rad, y - c, x - rad, y},
		{x - rad, y + c, x - c, y + rad, x, y + rad},
		{x + c, y + rad, x + rad, y + c, x + rad, y},
	} {
		r.point(q[0], q[1], " ")
		r.point(q[2], q[3], " ")
		r.point(q[4], q[5], " c\n")
	}
	r.b = append(r.b, "h\n"...)
}

// flush paints the collected path with the operator op ("S", "B", "B*")
// and empties it.
func (r *rawPath) flush(p *fpdf.Fpdf, op string) {
	if len(r.b) == 0 {
		return
	}
	r.b = append(r.b, op...)
	p.RawWriteStr(string(r.b))
	r.b = r.b[:0]
}

// popSymbol is a red diamond.
func (d *pdfDoc) popSymbol(x, y, r float64) {
	d.fillColor(colPOP)
	d.drawColor(colWhite)
	d.pdf.SetLineWidth(0.3)
	d.pdf.Polygon([]fpdf.PointType{{X: x, Y: y - r}, {X: x + r, Y: y}, {X: x, Y: y + r}, {X: x - r, Y: y}}, "FD")
}

// northArrow points to true north at c, which differs from the UTM grid's
// north by the meridian convergence (up to about 3° at a zone's edge).
func (d *pdfDoc) northArrow(v *mapView, c orb.Point, x, y float64) {
	p := d.pdf
	angle := 0.0
	a, ok1 := v.project(c)
	b, ok2 := v.project(orb.Point{c[0], c[1] + 0.01})
	if ok1 && ok2 {
		angle = math.Atan2(b[0]-a[0], b[1]-a[1]) // clockwise from grid north
	}
	const r = 6.0
	rot := func(dx, dy float64) fpdf.PointType {
		s, co := math.Sin(angle), math.Cos(angle)
		return fpdf.PointType{X: x + dx*co - dy*s, Y: y + dx*s + dy*co}
	}
	d.fillColor(colWhite)
	d.drawColor(colRule)
	p.SetLineWidth(0.2)
	p.Circle(x, y, r+1.5, "FD")
	d.drawColor(colInk)
	p.SetLineWidth(0.2)
	d.fillColor(colInk)
	p.Polygon([]fpdf.PointType{rot(0, -r), rot(2.2, r*0.55), rot(0, r*0.25)}, "FD")
	d.fillColor(colWhite)
	p.Polygon([]fpdf.PointType{rot(0, -r), rot(-2.2, r*0.55), rot(0, r*0.25)}, "FD")
	d.font("B", 7, colInk)
	n := rot(0, -r-3.4)
	w := p.GetStringWidth(d.l.T("map.north"))
	p.Text(n.X-w/2, n.Y+1.2, d.l.T("map.north"))
}

// scaleBar draws a bar of a round length near a quarter of the map's
// width, in four black and white parts.
func (d *pdfDoc) scaleBar(v *mapView, x, y float64) {
	p, l := d.pdf, d.l
	target := v.metresAcross / 4
	length := math.Pow(10, math.Floor(math.Log10(target)))
	for _, f := range []float64{5, 2} {
		if length*f <= target {
			length *= f
			break
		}
	}
	w := length * v.scale
	label := l.Decimal(length, 0) + " m"
	if length >= 1000 {
		label = l.Decimal(length/1000, 0) + " km"
	}
	d.font("", 6.5, colInk)
	lw := p.GetStringWidth(label)
	d.fillColor(colWhite)
	p.Rect(x-2, y-4.5, w+lw/2+4, 7.5, "F")
	d.drawColor(colInk)
	p.SetLineWidth(0.2)
	for i := range 4 {
		if i%2 == 0 {
			d.fillColor(colInk)
		} else {
			d.fillColor(colWhite)
		}
		p.Rect(x+float64(i)*w/4, y, w/4, 1.6, "FD")
	}
	d.font("", 6.5, colInk)
	p.Text(x-0.8, y-1, "0")
	p.Text(x+w-lw/2, y-1, label)
}
