package report

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
)

// DejaVu Sans covers Latin (æ ø å, ŝ, ł), Greek and Cyrillic; the PDF
// core fonts stop at Latin-1. fpdf embeds only the glyphs used.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

const (
	family           = "DejaVu"
	pageW, pageH     = 210.0, 297.0
	marginL, marginR = 18.0, 18.0
	marginT, marginB = 18.0, 20.0
	contentW         = pageW - marginL - marginR
	bodySize         = 9.5
	smallSize        = 7.5
)

type rgb struct{ r, g, b int }

var (
	colInk       = rgb{33, 37, 41}
	colMuted     = rgb{95, 104, 112}
	colPrimary   = rgb{29, 53, 87}
	colPledged   = rgb{42, 157, 143}
	colUnpledged = rgb{150, 150, 150}
	colRoute     = rgb{231, 111, 81}
	colPOP       = rgb{200, 30, 45}
	colRule      = rgb{206, 212, 218}
	colStripe    = rgb{243, 245, 247}
	colAreaFill  = rgb{234, 244, 236}
	colAreaLine  = rgb{52, 110, 72}
	colThreshold = rgb{214, 40, 40}
	colWhite     = rgb{255, 255, 255}
	// Funding layers, in SplitCost's order, then the shortfall.
	colLayers = []rgb{{69, 123, 157}, {168, 218, 220}, {29, 53, 87}, {244, 162, 97}, {42, 157, 143}, {230, 57, 70}}
)

// pdfDoc draws the PDF of one package.
type pdfDoc struct {
	*renderer
	pdf *fpdf.Fpdf
}

func (r *renderer) writePDF(w io.Writer) error {
	d := &pdfDoc{renderer: r, pdf: fpdf.New("P", "mm", "A4", "")}
	d.setup()
	d.cover()
	d.summary()
	d.mapPage()
	d.costPage()
	d.chartPage()
	d.termsPage()
	d.annex()
	if err := d.pdf.Error(); err != nil {
		return err
	}
	return d.pdf.Output(w)
}

func (d *pdfDoc) setup() {
	p, t, l := d.pdf, d.t, d.l
	// Reproducible bytes: dates from the clock, resources in a fixed
	// order. fpdf writes no document /ID unless encrypting.
	p.SetCreationDate(t.Now)
	p.SetModificationDate(t.Now)
	p.SetCatalogSort(true)
	p.SetCompression(true)
	p.AddUTF8FontFromBytes(family, "", fontRegular)
	p.AddUTF8FontFromBytes(family, "B", fontBold)
	p.SetTitle(l.T("doc.title", t.Area.Name), true)
	p.SetSubject(l.T("doc.subject", t.Area.Code), true)
	author := t.Association
	if author == "" {
		author = "kommunity"
	}
	p.SetAuthor(author, true)
	p.SetCreator("kommunity", true)
	p.SetKeywords(l.T("doc.keywords"), true)
	p.SetLang(l.lang)
	p.AliasNbPages("{nb}")
	p.SetMargins(marginL, marginT, marginR)
	p.SetAutoPageBreak(true, marginB)
	running := l.T("doc.running", t.Area.Name, t.Area.Code)
	p.SetFooterFunc(func() {
		y := pageH - 13
		d.drawColor(colRule)
		p.SetLineWidth(0.2)
		p.Line(marginL, y, pageW-marginR, y)
		d.font("", smallSize, colMuted)
		p.SetXY(marginL, y+1)
		p.CellFormat(contentW*0.7, 4, fit(p, running, contentW*0.7), "", 0, "L", false, 0, "")
		p.CellFormat(contentW*0.3, 4, l.T("doc.page", p.PageNo()), "", 0, "R", false, 0, "")
	})
}

func (d *pdfDoc) font(style string, size float64, c rgb) {
	d.pdf.SetFont(family, style, size)
	d.pdf.SetTextColor(c.r, c.g, c.b)
}

func (d *pdfDoc) fillColor(c rgb) { d.pdf.SetFillColor(c.r, c.g, c.b) }
func (d *pdfDoc) drawColor(c rgb) { d.pdf.SetDrawColor(c.r, c.g, c.b) }

// fit shortens s with an ellipsis until it is at most w wide in the
// current font.
func fit(p *fpdf.Fpdf, s string, w float64) string {
	if p.GetStringWidth(s) <= w-2*p.GetCellMargin() {
		return s
	}
	rs := []rune(s)
	for n := len(rs) - 1; n > 0; n-- {
		t := strings.TrimRight(string(rs[:n]), " ,") + "…"
		if p.GetStringWidth(t) <= w-2*p.GetCellMargin() {
			return t
		}
	}
	return "…"
}

// heading starts a section: a bold title over a rule.
func (d *pdfDoc) heading(s string) {
	p := d.pdf
	d.font("B", 16, colPrimary)
	p.MultiCell(contentW, 8, s, "", "L", false)
	y := p.GetY() + 1
	d.drawColor(colPrimary)
	p.SetLineWidth(0.5)
	p.Line(marginL, y, marginL+contentW, y)
	p.SetY(y + 4)
}

func (d *pdfDoc) subheading(s string) {
	p := d.pdf
	p.Ln(3)
	d.font("B", 11, colPrimary)
	p.MultiCell(contentW, 6, s, "", "L", false)
	p.Ln(1)
}

func (d *pdfDoc) para(s string) {
	d.font("", bodySize, colInk)
	d.pdf.MultiCell(contentW, 4.8, s, "", "L", false)
	d.pdf.Ln(1.5)
}

func (d *pdfDoc) small(s string) {
	d.font("", smallSize, colMuted)
	d.pdf.MultiCell(contentW, 3.6, s, "", "L", false)
}

// keyValues draws two columns, keys muted, on striped rows; a value wider
// than its column wraps.
func (d *pdfDoc) keyValues(rows [][2]string, keyW float64) {
	p := d.pdf
	const h = 6
	for i, row := range rows {
		d.font("", bodySize, colInk)
		lines := p.SplitText(row[1], contentW-keyW-2)
		rowH := h * float64(max(1, len(lines)))
		x, y := marginL, p.GetY()
		if y+rowH > pageH-marginB {
			p.AddPage()
			y = p.GetY()
		}
		if i%2 == 0 {
			d.fillColor(colStripe)
			p.Rect(x, y, contentW, rowH, "F")
		}
		d.font("", bodySize, colMuted)
		p.SetXY(x, y)
		p.CellFormat(keyW, h, row[0], "", 0, "L", false, 0, "")
		d.font("", bodySize, colInk)
		for j, line := range lines {
			p.SetXY(x+keyW, y+float64(j)*h)
			p.CellFormat(contentW-keyW, h, line, "", 0, "L", false, 0, "")
		}
		p.SetXY(x, y+rowH)
	}
}

// column of a table: width, alignment ("L", "R", "C") and title.
type column struct {
	w     float64
	align string
	title string
}

// table draws a header row and rows; rows listed in bold are drawn bold
// over a rule (totals).
func (d *pdfDoc) table(cols []column, rows [][]string, bold map[int]bool) {
	p := d.pdf
	const h = 6
	header := func() {
		d.font("B", 8, colWhite)
		d.fillColor(colPrimary)
		for _, c := range cols {
			p.CellFormat(c.w, h, c.title, "", 0, c.align, true, 0, "")
		}
		p.Ln(h)
	}
	header()
	for i, row := range rows {
		if p.GetY()+h > pageH-marginB {
			p.AddPage()
			header()
		}
		style := ""
		if bold[i] {
			style = "B"
			d.drawColor(colInk)
			p.SetLineWidth(0.3)
			p.Line(marginL, p.GetY(), marginL+tableW(cols), p.GetY())
		}
		d.font(style, bodySize-0.5, colInk)
		d.fillColor(colStripe)
		for j, c := range cols {
			p.CellFormat(c.w, h, fit(p, row[j], c.w), "", 0, c.align, i%2 == 1 && !bold[i], 0, "")
		}
		p.Ln(h)
	}
}

func tableW(cols []column) float64 {
	w := 0.0
	for _, c := range cols {
		w += c.w
	}
	return w
}

func (d *pdfDoc) status() string { return d.l.T("status." + string(d.t.Area.Status)) }

// thresholdText is "50 % of the units[, at least N units]".
func (d *pdfDoc) thresholdText() string {
	a, l := d.t.Area, d.l
	if a.ThresholdUnits > 0 {
		return l.T("summary.threshold_min", l.Percent(a.ThresholdPercent), l.Int(int64(a.ThresholdUnits)))
	}
	return l.T("summary.threshold_val", l.Percent(a.ThresholdPercent))
}

func (d *pdfDoc) cover() {
	p, t, l := d.pdf, d.t, d.l
	a := t.Area
	p.AddPage()
	d.fillColor(colPrimary)
	p.Rect(0, 0, pageW, 66, "F")
	d.font("B", 9, rgb{168, 218, 220})
	p.SetXY(marginL, 20)
	p.CellFormat(contentW, 5, l.T("cover.kicker"), "", 1, "L", false, 0, "")
	p.Ln(4)
	d.font("B", 28, colWhite)
	p.MultiCell(contentW, 12, a.Name, "", "L", false)
	p.Ln(1)
	d.font("", 12, colWhite)
	sub := l.T("cover.subtitle", a.Code)
	if t.Municipality != "" {
		sub += " · " + t.Municipality
	}
	p.MultiCell(contentW, 6, sub, "", "L", false)

	p.SetY(76)
	d.keyValues([][2]string{
		{l.T("cover.area"), a.Name + " (" + a.Code + ")"},
		{l.T("cover.municipality"), dashIfBlank(t.Municipality)},
		{l.T("cover.association"), dashIfBlank(t.Association)},
		{l.T("cover.contact"), dashIfBlank(t.Contact)},
		{l.T("cover.date"), l.Date(t.Now)},
		{l.T("cover.status"), d.status()},
		{l.T("cover.pledge_deadline"), l.DateOr(a.Deadline, "cover.not_set")},
		{l.T("cover.tender_deadline"), l.DateOr(t.TenderDeadline, "cover.to_be_agreed")},
	}, 48)

	d.subheading(l.T("cover.figures"))
	c := t.Cost
	d.figureBoxes([][2]string{
		{l.Int(int64(a.Addresses)), l.T("summary.addresses")},
		{l.Int(int64(a.Units)), l.T("summary.units")},
		{l.Int(int64(a.PledgedUnits)), l.T("summary.pledged")},
		{l.Percent(100 * a.TakeUp()), l.T("summary.takeup") + "\n" + l.T("summary.threshold") + " " + l.Percent(a.ThresholdPercent)},
	})
	d.figureBoxes([][2]string{
		{l.Money(c.BuildCost), l.T("cost.build")},
		{l.Money(c.HouseholdShare()), l.T("cost.share")},
		{l.Metres(c.TrenchM), l.T("summary.trench")},
	})

	d.subheading(l.T("cover.contents"))
	for _, f := range [][2]string{
		{FilePDF, "cover.file.pdf"}, {FileArea, "cover.file.area"}, {FileAddresses, "cover.file.addresses"},
		{FileAddressesCSV, "cover.file.csv"}, {FileRoute, "cover.file.route"}, {FileManifest, "cover.file.manifest"},
	} {
		d.font("B", bodySize-0.5, colInk)
		p.CellFormat(40, 5, f[0], "", 0, "L", false, 0, "")
		d.font("", bodySize-0.5, colInk)
		p.CellFormat(contentW-40, 5, l.T(f[1]), "", 1, "L", false, 0, "")
	}
	p.Ln(3)
	d.small(l.T("cover.privacy"))
}

// figureBoxes draws a row of boxes, each a big figure over its label.
func (d *pdfDoc) figureBoxes(figs [][2]string) {
	p := d.pdf
	const gap, h = 4.0, 19.0
	w := (contentW - gap*float64(len(figs)-1)) / float64(len(figs))
	y := p.GetY()
	for i, f := range figs {
		x := marginL + float64(i)*(w+gap)
		d.fillColor(colStripe)
		p.Rect(x, y, w, h, "F")
		d.fillColor(colPrimary)
		p.Rect(x, y, 1.2, h, "F")
		size := 15.0
		p.SetFont(family, "B", size)
		for size > 8 && p.GetStringWidth(f[0]) > w-6 {
			size--
			p.SetFont(family, "B", size)
		}
		d.font("B", size, colPrimary)
		p.SetXY(x+3, y+2.5)
		p.CellFormat(w-4, 8, f[0], "", 0, "L", false, 0, "")
		d.font("", smallSize, colMuted)
		p.SetXY(x+3, y+11)
		p.MultiCell(w-5, 3.4, f[1], "", "L", false)
	}
	p.SetXY(marginL, y+h+gap)
}

func (d *pdfDoc) summary() {
	p, t, l := d.pdf, d.t, d.l
	a, c, cv := t.Area, t.Cost, t.Curve
	p.AddPage()
	d.heading(l.T("summary.title"))
	d.para(l.T("summary.text", l.Int(int64(a.PledgedUnits)), l.Int(int64(a.Units)), a.Name,
		l.Percent(100*a.TakeUp()), d.thresholdText(), l.Int(int64(cv.ThresholdUnits))))

	pledgedAddr := 0
	for _, ad := range t.Addresses {
		if ad.PledgedUnits > 0 {
			pledgedAddr++
		}
	}
	met := l.T("summary.not_met")
	if a.ThresholdMet() {
		met = l.T("summary.met")
	}
	d.keyValues([][2]string{
		{l.T("summary.addresses"), l.Int(int64(a.Addresses))},
		{l.T("summary.pledged_addr"), l.Int(int64(pledgedAddr))},
		{l.T("summary.units"), l.Int(int64(a.Units))},
		{l.T("summary.pledged"), l.Int(int64(a.PledgedUnits))},
		{l.T("summary.takeup"), l.Percent(100 * a.TakeUp())},
		{l.T("summary.threshold"), d.thresholdText()},
		{l.T("summary.threshold_units"), l.Int(int64(cv.ThresholdUnits))},
		{l.T("summary.missing"), l.Int(int64(max(0, cv.ThresholdUnits-a.PledgedUnits)))},
		{l.T("cover.status"), d.status() + " · " + met},
	}, 70)

	d.subheading(l.T("summary.progress"))
	d.progressBar(a.TakeUp(), thresholdShare(cv), a.ThresholdPercent)
	d.subheading(l.T("timeline.stages"))
	d.lifecycle()

	d.subheading(l.T("summary.area_title"))
	pop := l.LonLat(c.POP[0], c.POP[1])
	if t.Params.POP == nil {
		pop = l.T("summary.pop_default", pop)
	}
	rows := [][2]string{
		{l.T("summary.area_size"), l.T("summary.area_km2", l.Decimal(a.AreaM2/1e6, 2))},
		{l.T("summary.pop"), pop},
		{l.T("summary.method"), d.methodText()},
		{l.T("summary.trench"), l.Metres(c.TrenchM)},
		{l.T("summary.drops"), l.Metres(c.DropM)},
	}
	if c.Method == geo.MethodRoad {
		rows = append(rows, [2]string{l.T("summary.outside"), l.Int(int64(c.Route.Unconnected))})
	}
	d.keyValues(rows, 70)
}

// thresholdShare is the threshold as a share of the units, 0-1.
func thresholdShare(cv pledge.CostCurve) float64 {
	if cv.EligibleUnits == 0 {
		return cv.ThresholdPercent / 100
	}
	return float64(cv.ThresholdUnits) / float64(cv.EligibleUnits)
}

func (d *pdfDoc) methodText() string {
	if d.t.Cost.Method == geo.MethodRoad {
		return d.l.T("method.road")
	}
	detour := d.t.Params.Detour
	if detour == 0 {
		detour = geo.DefaultDetour
	}
	return d.l.T("method.straight", d.l.Decimal(detour, 2))
}

// progressBar draws take-up (0-1) as a bar with the threshold marked
// where it is reached (threshold, 0-1), labelled with the area's percent.
func (d *pdfDoc) progressBar(takeUp, threshold, thresholdPercent float64) {
	p, l := d.pdf, d.l
	const h = 9.0
	x, y := marginL, p.GetY()+5
	d.fillColor(colStripe)
	d.drawColor(colRule)
	p.SetLineWidth(0.2)
	p.Rect(x, y, contentW, h, "FD")
	col := colPrimary
	if takeUp >= threshold && takeUp > 0 {
		col = colPledged
	}
	d.fillColor(col)
	if w := contentW * math.Min(1, takeUp); w > 0 {
		p.Rect(x, y, w, h, "F")
	}
	tx := x + contentW*math.Min(1, threshold)
	d.drawColor(colThreshold)
	p.SetLineWidth(0.6)
	p.Line(tx, y-3, tx, y+h+1)
	d.font("B", smallSize, colThreshold)
	label := l.T("chart.threshold", l.Percent(thresholdPercent))
	lw := p.GetStringWidth(label) + 2
	p.SetXY(math.Max(x, math.Min(tx-lw/2, x+contentW-lw)), y-7)
	p.CellFormat(lw, 4, label, "", 0, "C", false, 0, "")
	d.font("", smallSize, colMuted)
	p.SetXY(x, y+h+1)
	p.CellFormat(20, 4, l.Percent(0), "", 0, "L", false, 0, "")
	p.SetXY(x+contentW-20, y+h+1)
	p.CellFormat(20, 4, l.Percent(100), "", 0, "R", false, 0, "")
	d.font("B", bodySize, colWhite)
	if takeUp < 0.12 {
		d.font("B", bodySize, colInk)
		p.SetXY(x+contentW*takeUp+1, y)
	} else {
		p.SetXY(x+1, y)
	}
	p.CellFormat(40, h, l.Percent(100*takeUp), "", 0, "L", false, 0, "")
	p.SetXY(marginL, y+h+7)
}

func (d *pdfDoc) costPage() {
	p, t, l := d.pdf, d.t, d.l
	c, pr := t.Cost, t.Params
	p.AddPage()
	d.heading(l.T("cost.title"))
	if c.Units == 0 {
		d.para(l.T("cost.intro_none"))
	} else {
		d.para(l.T("cost.intro", l.Int(int64(c.Units)), l.Int(int64(c.Addresses)), l.Percent(c.TakeUpPercent)))
	}
	cols := []column{{78, "L", l.T("cost.part")}, {30, "R", l.T("cost.quantity")}, {32, "R", l.T("cost.rate")}, {34, "R", l.T("cost.amount")}}
	d.table(cols, [][]string{
		{l.T("cost.trench"), l.Metres(c.TrenchM), l.T("cost.per_m", l.Money(pr.TrenchPerM)), l.Money(c.TrenchCost)},
		{l.T("cost.drops"), l.Metres(c.DropM), l.T("cost.per_m", l.Money(pr.DropPerM)), l.Money(c.DropCost)},
		{l.T("cost.connections"), l.T("cost.households_n", l.Int(int64(c.Units))), l.Money(pr.PerConnection), l.Money(c.ConnectionCost)},
		{l.T("cost.fixed"), "", "", l.Money(c.FixedCost)},
		{l.T("cost.build"), "", "", l.Money(c.BuildCost)},
	}, map[int]bool{4: true})

	d.subheading(l.T("cost.funding"))
	layers := []struct {
		key string
		v   int64
	}{
		{"cost.provider", c.ProviderContribution}, {"cost.municipal", c.MunicipalTopUp}, {"cost.state", c.StateSubsidy},
		{"cost.fund", c.CommunityFund}, {"cost.households", c.HouseholdsPay}, {"cost.shortfall", c.Shortfall},
	}
	var rows [][]string
	for _, ly := range layers {
		share := 0.0
		if c.BuildCost > 0 {
			share = 100 * float64(ly.v) / float64(c.BuildCost)
		}
		rows = append(rows, []string{l.T(ly.key), l.Money(ly.v), l.Percent(share)})
	}
	rows = append(rows, []string{l.T("cost.total"), l.Money(c.BuildCost), l.Percent(100)})
	d.table([]column{{108, "L", l.T("cost.layer")}, {40, "R", l.T("cost.amount")}, {26, "R", "%"}}, rows, map[int]bool{len(rows) - 1: true})

	// The layers as one bar, so the balance shows at a glance.
	y := p.GetY() + 4
	x := marginL
	if c.BuildCost > 0 {
		for i, ly := range layers {
			w := contentW * float64(ly.v) / float64(c.BuildCost)
			if w <= 0 {
				continue
			}
			d.fillColor(colLayers[i])
			p.Rect(x, y, w, 6, "F")
			x += w
		}
	}
	d.drawColor(colRule)
	p.SetLineWidth(0.2)
	p.Rect(marginL, y, contentW, 6, "D")
	p.SetXY(marginL, y+8)
	d.font("", smallSize, colInk)
	for i, ly := range layers {
		d.fillColor(colLayers[i])
		lx, ly2 := p.GetX(), p.GetY()
		label := l.T(ly.key)
		lw := p.GetStringWidth(label) + 8
		if lx+lw > marginL+contentW {
			p.SetXY(marginL, ly2+4.5)
			lx, ly2 = marginL, ly2+4.5
		}
		p.Rect(lx, ly2+0.8, 3, 3, "F")
		p.SetXY(lx+4, ly2)
		p.CellFormat(lw-4, 4.5, label, "", 0, "L", false, 0, "")
	}
	p.SetXY(marginL, p.GetY()+6)

	d.subheading(l.T("cost.split"))
	lo, hi := c.ShareRange()
	rows2 := [][2]string{
		{l.T("cost.rule"), l.T("rule." + string(c.Rule))},
		{l.T("cost.share"), l.Money(c.HouseholdShare())},
		{l.T("cost.range"), l.Money(lo) + " – " + l.Money(hi)},
		{l.T("cost.min_own"), l.Money(pr.MinOwnPayment)},
	}
	if c.Rule == pledge.SplitCapped {
		rows2 = append(rows2, [2]string{l.T("cost.cap"), l.Money(pr.HouseholdCap)})
	}
	d.keyValues(rows2, 58)
	p.Ln(2)
	d.small(l.T("cost.param_note", l.Money(pr.ProviderContribution), l.Money(pr.MunicipalTopUp),
		l.Money(pr.StateSubsidyAvgCap), l.Money(pr.CommunityFund)))
}

func (d *pdfDoc) termsPage() {
	p, t, l := d.pdf, d.t, d.l
	p.AddPage()
	d.heading(l.T("terms.title"))
	terms := []string{l.T("terms.1"), l.T("terms.2"), l.T("terms.3"), l.T("terms.4"), l.T("terms.5")}
	if strings.TrimSpace(t.Contact) != "" {
		terms = append(terms, l.T("terms.6", t.Contact))
	} else {
		terms = append(terms, l.T("terms.6none"))
	}
	for i, s := range terms {
		d.font("B", bodySize, colPrimary)
		y := p.GetY()
		p.CellFormat(7, 4.8, fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
		d.font("", bodySize, colInk)
		p.SetXY(marginL+7, y)
		p.MultiCell(contentW-7, 4.8, s, "", "L", false)
		p.Ln(1.5)
	}

	p.Ln(4)
	d.heading(l.T("timeline.title"))
	tender := l.DateOr(t.TenderDeadline, "cover.to_be_agreed")
	d.table([]column{{90, "L", l.T("timeline.step")}, {84, "L", l.T("timeline.date")}}, [][]string{
		{l.T("timeline.created"), l.Date(t.Now)},
		{l.T("timeline.pledges"), l.DateOr(t.Area.Deadline, "cover.not_set")},
		{l.T("timeline.tender"), tender},
		{l.T("timeline.award"), l.T("timeline.after")},
		{l.T("timeline.build"), l.T("timeline.by_award")},
	}, nil)
}

// lifecycle draws the area's stages as a row of boxes, the current one
// filled; a lapsed area shows the lapsed stage filled after collecting.
func (d *pdfDoc) lifecycle() {
	p := d.pdf
	stages := []pledge.AreaStatus{pledge.StatusDraft, pledge.StatusCollecting, pledge.StatusThresholdReached,
		pledge.StatusTenderOpen, pledge.StatusAwarded, pledge.StatusBuilt}
	if d.t.Area.Status == pledge.StatusLapsed {
		stages = []pledge.AreaStatus{pledge.StatusDraft, pledge.StatusCollecting, pledge.StatusLapsed}
	}
	const gap, h = 3.0, 12.0
	w := (contentW - gap*float64(len(stages)-1)) / float64(len(stages))
	y := p.GetY() + 1
	for i, s := range stages {
		x := marginL + float64(i)*(w+gap)
		current := s == d.t.Area.Status
		d.drawColor(colPrimary)
		p.SetLineWidth(0.3)
		if current {
			d.fillColor(colPrimary)
			p.Rect(x, y, w, h, "FD")
			d.font("B", smallSize, colWhite)
		} else {
			p.Rect(x, y, w, h, "D")
			d.font("", smallSize, colPrimary)
		}
		lines := p.SplitText(d.l.T("status."+string(s)), w-2)
		top := y + (h-3.6*float64(len(lines)))/2
		for j, line := range lines {
			p.SetXY(x, top+3.6*float64(j))
			p.CellFormat(w, 3.6, line, "", 0, "C", false, 0, "")
		}
	}
	p.SetXY(marginL, y+h+4)
}
