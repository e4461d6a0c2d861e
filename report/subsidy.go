package report

import (
	"io"
	"strconv"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/kommunity/kommunity/internal/safecsv"
	"github.com/kommunity/kommunity/pledge"
)

// Annex is a subsidy application annex to write: per address, the units,
// the pledged units, the own payment and whether a power of attorney is
// on file, under a named, dated rule set. It holds counts only.
type Annex struct {
	pledge.SubsidyAnnex
	Association string
	Lang        string
}

// AnnexCSVHeader is the first line of WriteAnnexCSV.
var AnnexCSVHeader = []string{"address_id", "address", "units", "pledged_units", "own_payment_dkk", "power_of_attorney", "complete", "rules"}

// WriteAnnexCSV writes the annex as CSV, one address a line, amounts in
// kroner with two decimals, every cell guarded against formula injection.
func WriteAnnexCSV(w io.Writer, a Annex) error {
	cw := safecsv.NewWriter(w)
	if err := cw.Write(AnnexCSVHeader); err != nil {
		return err
	}
	for _, r := range a.Rows {
		rec := []string{r.AddressID, r.Text, strconv.Itoa(r.Units), strconv.Itoa(r.PledgedUnits), kroner(r.OwnPayment),
			strconv.Itoa(r.PowerOfAttorney), strconv.FormatBool(r.Complete), a.Rules.Name}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return cw.Flush()
}

func kroner(ore int64) string {
	return strconv.FormatInt(ore/100, 10) + "." + strconv.FormatInt(100+ore%100, 10)[1:]
}

// WriteAnnexPDF writes the annex as a PDF list in a.Lang, dated a.Date.
func WriteAnnexPDF(w io.Writer, a Annex) error {
	l, err := newLocale(a.Lang)
	if err != nil {
		return err
	}
	d := &pdfDoc{renderer: &renderer{l: l, t: &Tender{}}, pdf: fpdf.New("P", "mm", "A4", "")}
	p := d.pdf
	date := a.Date.UTC()
	p.SetCreationDate(date)
	p.SetModificationDate(date)
	p.SetCatalogSort(true)
	p.SetCompression(true)
	p.AddUTF8FontFromBytes(family, "", fontRegular)
	p.AddUTF8FontFromBytes(family, "B", fontBold)
	p.SetTitle(l.T("annex.title", a.Area.Name), true)
	p.SetAuthor(orKommunity(a.Association), true)
	p.SetCreator("kommunity", true)
	p.SetLang(l.lang)
	p.SetMargins(marginL, marginT, marginR)
	p.SetAutoPageBreak(true, marginB)
	running := l.T("annex.running", a.Area.Name, a.Area.Code, a.Rules.Name)
	p.SetFooterFunc(func() {
		d.font("", smallSize, colMuted)
		p.SetXY(marginL, pageH-12)
		p.CellFormat(contentW*0.7, 4, fit(p, running, contentW*0.7), "", 0, "L", false, 0, "")
		p.CellFormat(contentW*0.3, 4, l.T("doc.page", p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()
	d.heading(l.T("annex.title", a.Area.Name))
	d.keyValues([][2]string{
		{l.T("annex.area"), a.Area.Name + " (" + a.Area.Code + ")"},
		{l.T("cover.association"), dashIfBlank(a.Association)},
		{l.T("annex.rules"), a.Rules.Title + " (" + a.Rules.Name + ", " + l.T("annex.valid_from", l.Date(a.Rules.ValidFrom)) + ")"},
		{l.T("annex.min_own_payment"), l.Money(a.Rules.MinOwnPayment)},
		{l.T("annex.max_subsidy"), l.Money(a.Rules.MaxSubsidyPerAddress)},
		{l.T("cover.date"), l.Date(date)},
		{l.T("annex.addresses"), l.Int(int64(len(a.Rows))) + " (" + l.T("annex.complete_n", l.Int(int64(a.Complete))) + ")"},
		{l.T("annex.own_payments"), l.Money(a.OwnPayments)},
		{l.T("annex.state_subsidy"), l.Money(a.StateSubsidy)},
	}, 55)
	p.Ln(3)
	cols := []column{{w: 62, align: "L", title: l.T("annex.col.address")}, {w: 20, align: "R", title: l.T("annex.col.units")},
		{w: 22, align: "R", title: l.T("annex.col.pledged")}, {w: 32, align: "R", title: l.T("annex.col.own_payment")},
		{w: 20, align: "R", title: l.T("annex.col.poa")}, {w: 18, align: "C", title: l.T("annex.col.complete")}}
	rows := make([][]string, len(a.Rows))
	for i, r := range a.Rows {
		done := l.T("annex.no")
		if r.Complete {
			done = l.T("annex.yes")
		}
		rows[i] = []string{r.Text, l.Int(int64(r.Units)), l.Int(int64(r.PledgedUnits)), l.Money(r.OwnPayment),
			l.Int(int64(r.PowerOfAttorney)) + "/" + l.Int(int64(r.PledgedUnits)), done}
	}
	d.table(cols, rows, nil)
	p.Ln(2)
	d.small(l.T("annex.note"))
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

func dashIfBlank(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return s
}

func orKommunity(s string) string {
	if s == "" {
		return "kommunity"
	}
	return s
}

func init() {
	for lang, m := range map[string]map[string]string{
		"da": {
			"annex.title":           "Bilag til ansøgning om tilskud: %s",
			"annex.running":         "Tilskudsbilag %s (%s), regler %s",
			"annex.area":            "Område",
			"annex.rules":           "Regelsæt",
			"annex.valid_from":      "gælder fra %s",
			"annex.min_own_payment": "Mindste egenbetaling pr. husstand",
			"annex.max_subsidy":     "Største tilskud pr. adresse",
			"annex.addresses":       "Adresser med tilmeldte husstande",
			"annex.complete_n":      "%s med fuldmagt for alle",
			"annex.own_payments":    "Egenbetaling i alt",
			"annex.state_subsidy":   "Ansøgt statstilskud (højst loftet pr. adresse)",
			"annex.col.address":     "Adresse",
			"annex.col.units":       "Husstande",
			"annex.col.pledged":     "Tilmeldte",
			"annex.col.own_payment": "Egenbetaling",
			"annex.col.poa":         "Fuldmagt",
			"annex.col.complete":    "Komplet",
			"annex.yes":             "ja",
			"annex.no":              "nej",
			"annex.note":            "Egenbetalingen er den enkelte husstands andel efter områdets fordeling ved de nuværende tilmeldinger, mindst regelsættets mindste egenbetaling. Bilaget indeholder kun antal, ingen navne.",
		},
		"en": {
			"annex.title":           "Subsidy application annex: %s",
			"annex.running":         "Subsidy annex %s (%s), rules %s",
			"annex.area":            "Area",
			"annex.rules":           "Rule set",
			"annex.valid_from":      "in force from %s",
			"annex.min_own_payment": "Minimum own payment per household",
			"annex.max_subsidy":     "Maximum subsidy per address",
			"annex.addresses":       "Addresses with pledged households",
			"annex.complete_n":      "%s with a power of attorney for all",
			"annex.own_payments":    "Own payments in all",
			"annex.state_subsidy":   "State subsidy applied for (at most the cap per address)",
			"annex.col.address":     "Address",
			"annex.col.units":       "Households",
			"annex.col.pledged":     "Pledged",
			"annex.col.own_payment": "Own payment",
			"annex.col.poa":         "Power of att.",
			"annex.col.complete":    "Complete",
			"annex.yes":             "yes",
			"annex.no":              "no",
			"annex.note":            "The own payment is each household's share under the area's split at the current pledges, at least the rule set's minimum. The annex holds counts only, no names.",
		},
	} {
		for k, v := range m {
			catalogues[lang][k] = v
		}
	}
}
