package report

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/kommunity/kommunity/internal/safecsv"
	"github.com/kommunity/kommunity/pledge"
)

// WalkOptions controls WalkPDF.
type WalkOptions struct {
	Lang string    // "da" (default) or "en"
	Now  time.Time // the document's date
}

var (
	colWalk  = rgb{29, 53, 87}
	colDrive = rgb{231, 111, 81}
)

// WalkPDF writes one page per walk: a small map with the numbered stops,
// the walked legs and, dashed, the legs to drive, then a table of the
// stops with their codes, addresses, units and a tick box per outcome.
// It carries no personal data: the volunteer's name is left blank for
// the coordinator to write in. EINVALID (field lang) for an unknown
// language.
func WalkPDF(w io.Writer, a pledge.Area, walks []pledge.Walk, opt WalkOptions) error {
	l, err := newLocale(opt.Lang)
	if err != nil {
		return err
	}
	d := &pdfDoc{renderer: &renderer{l: l}, pdf: fpdf.New("P", "mm", "A4", "")}
	p := d.pdf
	p.SetCreationDate(opt.Now)
	p.SetModificationDate(opt.Now)
	p.SetCatalogSort(true)
	p.SetCompression(true)
	p.AddUTF8FontFromBytes(family, "", fontRegular)
	p.AddUTF8FontFromBytes(family, "B", fontBold)
	p.SetTitle(l.T("walk.title", a.Name), true)
	p.SetCreator("kommunity", true)
	p.SetLang(l.lang)
	p.SetMargins(marginL, marginT, marginR)
	p.SetAutoPageBreak(true, marginB)
	running := l.T("walk.running", a.Name, a.Code)
	p.SetFooterFunc(func() {
		y := pageH - 13
		d.drawColor(colRule)
		p.SetLineWidth(0.2)
		p.Line(marginL, y, pageW-marginR, y)
		d.font("", smallSize, colMuted)
		p.SetXY(marginL, y+1)
		p.CellFormat(contentW*0.7, 4, fit(p, running, contentW*0.7), "", 0, "L", false, 0, "")
		p.CellFormat(contentW*0.3, 4, l.Date(opt.Now), "", 0, "R", false, 0, "")
	})
	if len(walks) == 0 {
		p.AddPage()
		d.heading(l.T("walk.title", a.Name))
		d.para(l.T("walk.none"))
	}
	for _, wk := range walks {
		d.walkPage(wk)
	}
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

const maxRowH = 4.6

func (d *pdfDoc) walkPage(wk pledge.Walk) {
	p, l := d.pdf, d.l
	p.AddPage()
	d.font("B", 14, colPrimary)
	p.CellFormat(contentW*0.6, 7, l.T("walk.heading", wk.Batch, wk.Number), "", 0, "L", false, 0, "")
	d.font("", bodySize, colInk)
	p.CellFormat(contentW*0.4, 7, l.T("walk.volunteer")+" ____________________", "", 1, "R", false, 0, "")
	units, drives := 0, 0
	for _, s := range wk.Stops {
		units += s.Address.Units
		if s.Drive {
			drives++
		}
	}
	d.font("", bodySize, colMuted)
	p.CellFormat(contentW, 5, l.T("walk.summary", len(wk.Stops), units, l.Metres(wk.LengthM), drives), "", 1, "L", false, 0, "")
	p.Ln(1)

	// The map takes what the table and legend leave of the page, within
	// limits; rows shrink a little so that 40 stops fit on one page.
	const minMap, legendH = 55.0, 16.0
	rows := float64(len(wk.Stops) + 1)
	free := pageH - marginB - p.GetY() - legendH
	walkRowH := max(3.8, min(maxRowH, (free-minMap)/rows))
	mapH := max(minMap, min(free-rows*walkRowH, 110))
	d.walkMap(wk, marginL, p.GetY(), contentW, mapH)
	p.SetXY(marginL, p.GetY()+mapH+3)

	cols := []column{
		{8, "R", l.T("walk.col.seq")}, {19, "L", l.T("walk.col.code")}, {60, "L", l.T("walk.col.address")},
		{10, "R", l.T("walk.col.units")}, {25, "R", l.T("walk.col.leg")},
	}
	const box = 10.4
	outcomes := make([]column, len(pledge.Outcomes))
	for i, o := range pledge.Outcomes {
		outcomes[i] = column{box, "C", l.T("walk.outcome.short." + string(o))}
	}
	header := func() {
		d.font("B", 7, colWhite)
		d.fillColor(colPrimary)
		for _, c := range cols {
			p.CellFormat(c.w, walkRowH+0.6, c.title, "", 0, c.align, true, 0, "")
		}
		d.font("B", 5.6, colWhite)
		for _, c := range outcomes {
			p.CellFormat(c.w, walkRowH+0.6, c.title, "", 0, c.align, true, 0, "")
		}
		p.Ln(walkRowH + 0.6)
	}
	header()
	for i, s := range wk.Stops {
		if p.GetY()+walkRowH > pageH-marginB {
			p.AddPage()
			header()
		}
		leg := ""
		if i > 0 {
			leg = l.Metres(s.LegM)
			if s.Drive {
				leg = l.T("walk.drive") + " " + leg
			}
		}
		cells := []string{strconv.Itoa(s.Seq), s.Code, s.Address.Text, strconv.Itoa(s.Address.Units), leg}
		d.fillColor(colStripe)
		for j, c := range cols {
			style := ""
			if j == 1 || (j == 4 && s.Drive) {
				style = "B"
			}
			d.font(style, 7.5, colInk)
			p.CellFormat(c.w, walkRowH, fit(p, cells[j], c.w), "", 0, c.align, i%2 == 1, 0, "")
		}
		y := p.GetY()
		for range outcomes {
			x := p.GetX()
			if i%2 == 1 {
				p.Rect(x, y, box, walkRowH, "F")
			}
			d.drawColor(colInk)
			p.SetLineWidth(0.25)
			p.Rect(x+box/2-1.6, y+walkRowH/2-1.6, 3.2, 3.2, "D")
			p.SetX(x + box)
		}
		p.Ln(walkRowH)
	}
	p.Ln(2)
	d.font("", smallSize, colMuted)
	legend := ""
	for i, o := range pledge.Outcomes {
		if i > 0 {
			legend += " · "
		}
		legend += l.T("walk.outcome.short."+string(o)) + " = " + l.T("walk.outcome."+string(o))
	}
	p.MultiCell(contentW, 3.5, legend, "", "L", false)
}

// walkMap draws the walk's legs and numbered stops in the box.
func (d *pdfDoc) walkMap(wk pledge.Walk, x, y, w, h float64) {
	p := d.pdf
	d.fillColor(colAreaFill)
	d.drawColor(colRule)
	p.SetLineWidth(0.2)
	p.Rect(x, y, w, h, "FD")
	if len(wk.Stops) == 0 {
		return
	}
	b := wk.Stops[0].Address.Point.Bound()
	for _, s := range wk.Stops {
		b = b.Extend(s.Address.Point)
	}
	v := newMapView(b, x, y, w, h)
	pos := make([]fpdf.PointType, len(wk.Stops))
	ok := make([]bool, len(wk.Stops))
	for i, s := range wk.Stops {
		if m, good := v.project(s.Address.Point); good {
			px, py := v.page(m)
			pos[i], ok[i] = fpdf.PointType{X: px, Y: py}, true
		}
	}
	for i := 1; i < len(wk.Stops); i++ {
		if !ok[i] || !ok[i-1] {
			continue
		}
		if wk.Stops[i].Drive {
			d.drawColor(colDrive)
			p.SetLineWidth(0.5)
			p.SetDashPattern([]float64{1.6, 1.2}, 0)
		} else {
			d.drawColor(colWalk)
			p.SetLineWidth(0.4)
			p.SetDashPattern(nil, 0)
		}
		p.Line(pos[i-1].X, pos[i-1].Y, pos[i].X, pos[i].Y)
	}
	p.SetDashPattern(nil, 0)
	// Numbers from the last, so the first stop is drawn on top.
	for i := len(wk.Stops) - 1; i >= 0; i-- {
		if !ok[i] {
			continue
		}
		label := strconv.Itoa(wk.Stops[i].Seq)
		r := 1.9
		if len(label) > 1 {
			r = 2.3
		}
		c := colWalk
		if i == 0 {
			c = colPledged
		}
		d.fillColor(c)
		d.drawColor(colWhite)
		p.SetLineWidth(0.3)
		p.Circle(pos[i].X, pos[i].Y, r, "FD")
		d.font("B", 5.5, colWhite)
		tw := p.GetStringWidth(label)
		p.Text(pos[i].X-tw/2, pos[i].Y+0.9, label)
	}
	d.scaleBar(v, x+4, y+h-4)
}

// WalkCSVHeader names WalkCSV's columns.
var WalkCSVHeader = []string{"walk", "seq", "code", "address_id", "address", "units", "lon", "lat", "leg_m", "drive", "outcome"}

// WalkCSV writes the rows of WalkPDF, one per stop, with an empty outcome
// column to fill in. Address texts come from imported files, so every
// cell goes through safecsv.
func WalkCSV(w io.Writer, walks []pledge.Walk) error {
	cw := safecsv.NewWriter(w)
	if err := cw.Write(WalkCSVHeader); err != nil {
		return err
	}
	for _, wk := range walks {
		for _, s := range wk.Stops {
			rec := []string{fmt.Sprintf("%dW%d", wk.Batch, wk.Number), strconv.Itoa(s.Seq), s.Code, s.Address.ID, s.Address.Text,
				strconv.Itoa(s.Address.Units), strconv.FormatFloat(s.Address.Point[0], 'f', -1, 64), strconv.FormatFloat(s.Address.Point[1], 'f', -1, 64),
				strconv.FormatFloat(roundCM(s.LegM), 'f', 2, 64), strconv.FormatBool(s.Drive), ""}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	return cw.Flush()
}

// The walk list's texts, merged into the catalogues so one completeness
// test covers them.
func init() {
	for lang, m := range walkTexts {
		for k, v := range m {
			catalogues[lang][k] = v
		}
	}
}

var walkTexts = map[string]map[string]string{
	"da": {
		"walk.title":     "Ruteliste: %s",
		"walk.running":   "Ruteliste · %s (%s)",
		"walk.none":      "Der er ingen adresser at besøge: alle har givet tilsagn eller ønsker ikke besøg.",
		"walk.heading":   "Rute %dW%d",
		"walk.volunteer": "Frivillig:",
		"walk.summary":   "%d adresser · %d husstande · %s · %d strækninger i bil",
		"walk.col.seq":   "Nr.", "walk.col.code": "Kode", "walk.col.address": "Adresse", "walk.col.units": "Enh.", "walk.col.leg": "Afstand",
		"walk.drive":                       "bil",
		"walk.outcome.short.visited":       "Besøgt",
		"walk.outcome.short.not_home":      "Ikke hj.",
		"walk.outcome.short.declined":      "Nej tak",
		"walk.outcome.short.pledged_paper": "Papir",
		"walk.outcome.short.do_not_knock":  "Aldrig",
		"walk.outcome.visited":             "besøgt",
		"walk.outcome.not_home":            "ikke hjemme",
		"walk.outcome.declined":            "sagde nej tak",
		"walk.outcome.pledged_paper":       "gav tilsagn på papir",
		"walk.outcome.do_not_knock":        "bank ikke på igen",
	},
	"en": {
		"walk.title":     "Walk list: %s",
		"walk.running":   "Walk list · %s (%s)",
		"walk.none":      "There are no addresses to visit: all have pledged or asked not to be visited.",
		"walk.heading":   "Walk %dW%d",
		"walk.volunteer": "Volunteer:",
		"walk.summary":   "%d addresses · %d households · %s · %d legs to drive",
		"walk.col.seq":   "No.", "walk.col.code": "Code", "walk.col.address": "Address", "walk.col.units": "Units", "walk.col.leg": "Leg",
		"walk.drive":                       "drive",
		"walk.outcome.short.visited":       "Visited",
		"walk.outcome.short.not_home":      "Not home",
		"walk.outcome.short.declined":      "Declined",
		"walk.outcome.short.pledged_paper": "Paper",
		"walk.outcome.short.do_not_knock":  "Never",
		"walk.outcome.visited":             "visited",
		"walk.outcome.not_home":            "not home",
		"walk.outcome.declined":            "declined",
		"walk.outcome.pledged_paper":       "pledged on paper",
		"walk.outcome.do_not_knock":        "do not knock again",
	},
}
