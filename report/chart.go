package report

import (
	"math"
	"slices"

	"codeberg.org/go-pdf/fpdf"
	"github.com/kommunity/kommunity/pledge"
)

func (d *pdfDoc) chartPage() {
	p, t, l := d.pdf, d.t, d.l
	cv := t.Curve
	p.AddPage()
	d.heading(l.T("chart.title"))
	if len(cv.Points) == 0 {
		d.para(l.T("chart.empty"))
		return
	}
	d.chart(cv, marginL, p.GetY()+2, contentW, 92)

	d.subheading(l.T("chart.table"))
	cols := []column{
		{24, "R", l.T("chart.col_takeup")}, {22, "R", l.T("chart.col_units")}, {20, "R", l.T("chart.col_addr")},
		{26, "R", l.T("chart.col_trench")}, {36, "R", l.T("chart.col_build")}, {30, "R", l.T("chart.col_share")}, {16, "L", ""},
	}
	var rows [][]string
	for _, pt := range cv.Points {
		mark := ""
		switch {
		case pt.Units == cv.ThresholdUnits:
			mark = " " + l.T("chart.mark_threshold")
		case pt.Units == cv.PledgedUnits:
			mark = " " + l.T("chart.now")
		}
		rows = append(rows, []string{
			l.Percent(pt.TakeUpPercent), l.Int(int64(pt.Units)), l.Int(int64(pt.Addresses)), l.Metres(pt.TrenchM),
			l.Money(pt.BuildCost), l.Money(pt.HouseholdShare), mark,
		})
	}
	d.table(cols, rows, nil)

	if len(cv.IfMoreJoin) > 0 {
		d.subheading(l.T("chart.more"))
		var rows [][]string
		for _, m := range cv.IfMoreJoin {
			reaches := ""
			if m.Units >= cv.ThresholdUnits {
				reaches = l.T("chart.reaches")
			}
			rows = append(rows, []string{l.T("chart.more_row", l.Int(int64(m.More))), l.Int(int64(m.Units)),
				l.Percent(m.TakeUpPercent), l.Money(m.HouseholdShare), reaches})
		}
		d.table([]column{{46, "L", ""}, {28, "R", l.T("chart.col_units")}, {28, "R", l.T("chart.col_takeup")},
			{34, "R", l.T("chart.col_share")}, {38, "L", ""}}, rows, nil)
	}
	p.Ln(3)
	d.small(l.T("chart.assumption"))
}

// chart draws the household share against take-up from 0 to 100 %, the
// threshold as a dashed line and the current take-up as a ring.
func (d *pdfDoc) chart(cv pledge.CostCurve, x, y, w, h float64) {
	p, l := d.pdf, d.l
	const left, bottom, top = 22.0, 12.0, 7.0
	px, py, pw, ph := x+left, y+top, w-left-4, h-top-bottom
	pts := slices.Clone(cv.Points)
	slices.SortFunc(pts, func(a, b pledge.CurvePoint) int { return a.Units - b.Units })
	var maxShare int64
	for _, pt := range pts {
		maxShare = max(maxShare, pt.HouseholdShare)
	}
	if cv.Current != nil {
		maxShare = max(maxShare, cv.Current.HouseholdShare)
	}
	step := niceStep(float64(maxShare)/100, 5) // kroner per tick
	yMax := step * math.Ceil(float64(maxShare)*1.08/100/step)
	if yMax <= 0 {
		yMax, step = 1000, 250
	}
	toX := func(pct float64) float64 { return px + pw*pct/100 }
	toY := func(ore int64) float64 { return py + ph - ph*(float64(ore)/100)/yMax }

	// Grid and axes.
	d.font("", 6.5, colMuted)
	p.SetLineWidth(0.15)
	for v := 0.0; v <= yMax+step/2; v += step {
		yy := py + ph - ph*v/yMax
		d.drawColor(colRule)
		p.Line(px, yy, px+pw, yy)
		label := l.Int(int64(math.Round(v)))
		p.Text(px-1.5-p.GetStringWidth(label), yy+1, label)
	}
	for pct := 0; pct <= 100; pct += 10 {
		xx := toX(float64(pct))
		d.drawColor(colRule)
		p.Line(xx, py, xx, py+ph)
		label := l.Percent(float64(pct))
		p.Text(xx-p.GetStringWidth(label)/2, py+ph+4, label)
	}
	d.drawColor(colInk)
	p.SetLineWidth(0.3)
	p.Line(px, py, px, py+ph)
	p.Line(px, py+ph, px+pw, py+ph)
	d.font("", smallSize, colInk)
	xt := l.T("chart.x")
	p.Text(px+pw/2-p.GetStringWidth(xt)/2, py+ph+9.5, xt)
	p.Text(x, y+3, l.T("chart.y"))

	// Threshold.
	thr := 100 * thresholdShare(cv)
	d.drawColor(colThreshold)
	p.SetLineWidth(0.4)
	p.SetDashPattern([]float64{1.5, 1}, 0)
	p.Line(toX(thr), py, toX(thr), py+ph)
	p.SetDashPattern(nil, 0)
	d.font("B", 6.5, colThreshold)
	label := l.T("chart.threshold", l.Percent(cv.ThresholdPercent))
	lx := toX(thr) + 1
	if lx+p.GetStringWidth(label) > px+pw {
		lx = toX(thr) - 1 - p.GetStringWidth(label)
	}
	p.Text(lx, py+ph-1.5, label)

	// The curve.
	d.drawColor(colPrimary)
	p.SetLineWidth(0.6)
	p.SetLineJoinStyle("round")
	poly := make([]fpdf.PointType, 0, len(pts))
	for _, pt := range pts {
		poly = append(poly, fpdf.PointType{X: toX(pt.TakeUpPercent), Y: toY(pt.HouseholdShare)})
	}
	for i, q := range poly {
		if i == 0 {
			p.MoveTo(q.X, q.Y)
		} else {
			p.LineTo(q.X, q.Y)
		}
	}
	if len(poly) == 1 {
		p.LineTo(poly[0].X, poly[0].Y)
	}
	p.DrawPath("D")
	d.fillColor(colPrimary)
	for _, q := range poly {
		p.Circle(q.X, q.Y, 0.7, "F")
	}

	if c := cv.Current; c != nil {
		cx, cy := toX(c.TakeUpPercent), toY(c.HouseholdShare)
		d.drawColor(colPledged)
		d.fillColor(colWhite)
		p.SetLineWidth(0.6)
		p.Circle(cx, cy, 1.8, "FD")
		d.font("B", 7, colPledged)
		label := l.T("chart.current", l.Money(c.HouseholdShare))
		lx := cx + 3
		if lx+p.GetStringWidth(label) > px+pw {
			lx = cx - 3 - p.GetStringWidth(label)
		}
		ly := cy - 2.5
		if ly < py+6 {
			ly = cy + 5
		}
		p.Text(lx, ly, label)
	}
	p.SetXY(marginL, y+h+2)
}

// niceStep is a round step (1, 2 or 5 × 10^k) giving about n steps over span.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*mag >= raw {
			return f * mag
		}
	}
	return 10 * mag
}
