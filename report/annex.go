package report

import (
	"strconv"
)

// annex lists every address over as many pages as needed, repeating the
// column header on each page. Breaks are made here rather than by fpdf's
// automatic page break so a row is never split from its header.
func (d *pdfDoc) annex() {
	p, t, l := d.pdf, d.t, d.l
	p.AddPage()
	d.heading(l.T("annex.title"))
	if len(t.Addresses) == 0 {
		d.para(l.T("annex.none"))
		return
	}
	d.para(l.T("annex.intro", l.Int(int64(len(t.Addresses)))))

	const size, h = 7.0, 4.2
	p.SetFont(family, "", size)
	// The id column fits the longest id (a DAWA UUID needs about 50 mm),
	// within bounds that leave the address text most of the width.
	idW := p.GetStringWidth(l.T("annex.id"))
	for _, a := range t.Addresses {
		idW = max(idW, p.GetStringWidth(a.ID))
	}
	idW = min(max(idW+2*p.GetCellMargin()+1, 18), 56)
	noW := max(10, p.GetStringWidth(l.Int(int64(len(t.Addresses))))+4)
	cols := []column{
		{noW, "R", l.T("annex.no")},
		{idW, "L", l.T("annex.id")},
		{0, "L", l.T("annex.text")},
		{11, "R", l.T("annex.units")},
		{13, "R", l.T("annex.pledged")},
		{15, "R", l.T("annex.drop")},
	}
	cols[2].w = contentW - tableW(cols)

	header := func() {
		d.font("B", size, colWhite)
		d.fillColor(colPrimary)
		for _, c := range cols {
			p.CellFormat(c.w, h+0.8, c.title, "", 0, c.align, true, 0, "")
		}
		p.Ln(h + 0.8)
		d.font("", size, colInk)
		d.fillColor(colStripe)
	}
	header()
	bottom := pageH - marginB
	var buf []byte
	for i, a := range t.Addresses {
		if p.GetY()+h > bottom {
			p.AddPage()
			header()
		}
		if i%2 == 1 {
			p.Rect(marginL, p.GetY(), contentW, h, "F")
		}
		buf = strconv.AppendInt(buf[:0], int64(i+1), 10)
		p.CellFormat(cols[0].w, h, string(buf), "", 0, "R", false, 0, "")
		p.CellFormat(cols[1].w, h, fit(p, a.ID, cols[1].w), "", 0, "L", false, 0, "")
		p.CellFormat(cols[2].w, h, fit(p, a.Text, cols[2].w), "", 0, "L", false, 0, "")
		p.CellFormat(cols[3].w, h, strconv.Itoa(a.Units), "", 0, "R", false, 0, "")
		// Most rows have no pledge: their empty cells are skipped, not drawn.
		if a.PledgedUnits > 0 {
			p.CellFormat(cols[4].w, h, strconv.Itoa(a.PledgedUnits), "", 0, "R", false, 0, "")
			if dm := d.dropM[i]; dm >= 0 {
				p.CellFormat(cols[5].w, h, l.Decimal(dm, 0), "", 0, "R", false, 0, "")
			}
		}
		p.Ln(h)
	}
}
