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
	p.SetTitle(l.T("subsidy.title", a.Area.Name), true)
	p.SetAuthor(orKommunity(a.Association), true)
	p.SetCreator("kommunity", true)
	p.SetLang(l.lang)
	p.SetMargins(marginL, marginT, marginR)
	p.SetAutoPageBreak(true, marginB)
	running := l.T("subsidy.running", a.Area.Name, a.Area.Code, a.Rules.Name)
	p.SetFooterFunc(func() {
		d.font("", smallSize, colMuted)
		p.SetXY(marginL, pageH-12)
		p.CellFormat(contentW*0.7, 4, fit(p, running, contentW*0.7), "", 0, "L", false, 0, "")
		p.CellFormat(contentW*0.3, 4, l.T("doc.page", p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()
	d.heading(l.T("subsidy.title", a.Area.Name))
	d.keyValues([][2]string{
		{l.T("subsidy.area"), a.Area.Name + " (" + a.Area.Code + ")"},
		{l.T("cover.association"), dashIfBlank(a.Association)},
		{l.T("subsidy.rules"), a.Rules.Title + " (" + a.Rules.Name + ", " + l.T("subsidy.valid_from", l.Date(a.Rules.ValidFrom)) + ")"},
		{l.T("subsidy.min_own_payment"), l.Money(a.Rules.MinOwnPayment)},
		{l.T("subsidy.max_subsidy"), l.Money(a.Rules.MaxSubsidyPerAddress)},
		{l.T("cover.date"), l.Date(date)},
		{l.T("subsidy.addresses"), l.Int(int64(len(a.Rows))) + " (" + l.T("subsidy.complete_n", l.Int(int64(a.Complete))) + ")"},
		{l.T("subsidy.own_payments"), l.Money(a.OwnPayments)},
		{l.T("subsidy.state_subsidy"), l.Money(a.StateSubsidy)},
	}, 55)
	p.Ln(3)
	cols := []column{{w: 62, align: "L", title: l.T("subsidy.col.address")}, {w: 20, align: "R", title: l.T("subsidy.col.units")},
		{w: 22, align: "R", title: l.T("subsidy.col.pledged")}, {w: 32, align: "R", title: l.T("subsidy.col.own_payment")},
		{w: 20, align: "R", title: l.T("subsidy.col.poa")}, {w: 18, align: "C", title: l.T("subsidy.col.complete")}}
	rows := make([][]string, len(a.Rows))
	for i, r := range a.Rows {
		done := l.T("subsidy.no")
		if r.Complete {
			done = l.T("subsidy.yes")
		}
		rows[i] = []string{r.Text, l.Int(int64(r.Units)), l.Int(int64(r.PledgedUnits)), l.Money(r.OwnPayment),
			l.Int(int64(r.PowerOfAttorney)) + "/" + l.Int(int64(r.PledgedUnits)), done}
	}
	d.table(cols, rows, nil)
	p.Ln(2)
	d.small(l.T("subsidy.note"))
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
			"subsidy.title":           "Bilag til ansøgning om tilskud: %s",
			"subsidy.running":         "Tilskudsbilag %s (%s), regler %s",
			"subsidy.area":            "Område",
			"subsidy.rules":           "Regelsæt",
			"subsidy.valid_from":      "gælder fra %s",
			"subsidy.min_own_payment": "Mindste egenbetaling pr. husstand",
			"subsidy.max_subsidy":     "Største tilskud pr. adresse",
			"subsidy.addresses":       "Adresser med tilmeldte husstande",
			"subsidy.complete_n":      "%s med fuldmagt for alle",
			"subsidy.own_payments":    "Egenbetaling i alt",
			"subsidy.state_subsidy":   "Ansøgt statstilskud (højst loftet pr. adresse)",
			"subsidy.col.address":     "Adresse",
			"subsidy.col.units":       "Husstande",
			"subsidy.col.pledged":     "Tilmeldte",
			"subsidy.col.own_payment": "Egenbetaling",
			"subsidy.col.poa":         "Fuldmagt",
			"subsidy.col.complete":    "Komplet",
			"subsidy.yes":             "ja",
			"subsidy.no":              "nej",
			"subsidy.note":            "Egenbetalingen er den enkelte husstands andel efter områdets fordeling ved de nuværende tilmeldinger, mindst regelsættets mindste egenbetaling. Bilaget indeholder kun antal, ingen navne.",
		},
		"en": {
			"subsidy.title":           "Subsidy application annex: %s",
			"subsidy.running":         "Subsidy annex %s (%s), rules %s",
			"subsidy.area":            "Area",
			"subsidy.rules":           "Rule set",
			"subsidy.valid_from":      "in force from %s",
			"subsidy.min_own_payment": "Minimum own payment per household",
			"subsidy.max_subsidy":     "Maximum subsidy per address",
			"subsidy.addresses":       "Addresses with pledged households",
			"subsidy.complete_n":      "%s with a power of attorney for all",
			"subsidy.own_payments":    "Own payments in all",
			"subsidy.state_subsidy":   "State subsidy applied for (at most the cap per address)",
			"subsidy.col.address":     "Address",
			"subsidy.col.units":       "Households",
			"subsidy.col.pledged":     "Pledged",
			"subsidy.col.own_payment": "Own payment",
			"subsidy.col.poa":         "Power of att.",
			"subsidy.col.complete":    "Complete",
			"subsidy.yes":             "yes",
			"subsidy.no":              "no",
			"subsidy.note":            "The own payment is each household's share under the area's split at the current pledges, at least the rule set's minimum. The annex holds counts only, no names.",
		},
	} {
		for k, v := range m {
			catalogues[lang][k] = v
		}
	}
}
