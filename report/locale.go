package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// Languages returns the languages a package can be written in; the first
// is the default.
func Languages() []string { return []string{"da", "en"} }

// locale formats texts, numbers, dates and money in one language, with the
// conventions of the web pages ("4.250 kr." / "DKK 4,250"). It is built
// once per document.
type locale struct {
	lang     string
	msgs     map[string]string
	thousand string
	decimal  string
}

func newLocale(lang string) (*locale, error) {
	if lang == "" {
		lang = Languages()[0]
	}
	m, ok := catalogues[lang]
	if !ok {
		return nil, pledge.FieldError("lang", "language must be %s, not %q", strings.Join(Languages(), " or "), lang)
	}
	return &locale{lang: lang, msgs: m, thousand: m["num.thousands"], decimal: m["num.decimal"]}, nil
}

// T returns the text of key, formatted with args if any. A missing key
// shows as ⟦key⟧ so tests find it.
func (l *locale) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		return "\u27e6" + key + "\u27e7"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Int formats a whole number with the thousands separator.
func (l *locale) Int(n int64) string {
	var buf [24]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(l.thousand)
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Decimal formats f with digits decimals and the thousands separator.
func (l *locale) Decimal(f float64, digits int) string {
	s := strconv.FormatFloat(f, 'f', digits, 64)
	if v, _ := strconv.ParseFloat(s, 64); v == 0 {
		s = strings.TrimPrefix(s, "-") // no "-0" for a tiny negative
	}
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := l.Int(n)
	if n == 0 && strings.HasPrefix(whole, "-") {
		out = "-0" // e.g. -0.4 with one digit: "-0,4"
	}
	if frac != "" {
		out += l.decimal + frac
	}
	return out
}

// Percent formats a percent (0-100) with at most one decimal, as the web
// pages do: "21,2 %", "50 %" in Danish, "21.2%" in English.
func (l *locale) Percent(p float64) string {
	s := l.Decimal(p, 1)
	s = strings.TrimSuffix(s, l.decimal+"0")
	return l.T("num.percent", s)
}

// Metres formats a length rounded to the metre: "13.702 m".
func (l *locale) Metres(m float64) string {
	return l.T("num.metres", l.Decimal(m, 0))
}

// Money formats øre as whole kroner when whole, else with two decimals.
func (l *locale) Money(ore int64) string {
	neg := ore < 0
	if neg {
		ore = -ore
	}
	s := l.Int(ore / 100)
	if frac := ore % 100; frac != 0 {
		s += l.decimal + fmt.Sprintf("%02d", frac)
	}
	if neg {
		s = "-" + s
	}
	return l.T("num.money", s)
}

// Date formats a calendar date: "27. januar 2027", "27 January 2027".
func (l *locale) Date(t time.Time) string {
	return l.T("date.format", t.Day(), l.T("month."+strconv.Itoa(int(t.Month()))), t.Year())
}

// LonLat formats a point as latitude and longitude with hemispheres,
// "55,269034° N, 10,148404° Ø": with decimal commas, bare "lon, lat"
// would be ambiguous.
func (l *locale) LonLat(lon, lat float64) string {
	ns, ew := l.T("geo.n"), l.T("geo.e")
	if lat < 0 {
		ns, lat = l.T("geo.s"), -lat
	}
	if lon < 0 {
		ew, lon = l.T("geo.w"), -lon
	}
	return l.T("geo.lonlat", l.Decimal(lat, 6), ns, l.Decimal(lon, 6), ew)
}

// DateOr formats *t, or the text of key when t is nil.
func (l *locale) DateOr(t *time.Time, key string) string {
	if t == nil {
		return l.T(key)
	}
	return l.Date(*t)
}

// catalogues holds every text of the PDF, by language.
var catalogues = map[string]map[string]string{
	"da": {
		"num.thousands": ".", "num.decimal": ",", "num.percent": "%s %%", "num.metres": "%s m", "num.money": "%s kr.",
		"date.format": "%d. %s %d",
		"geo.lonlat":  "%s° %s, %s° %s", "geo.n": "N", "geo.s": "S", "geo.e": "Ø", "geo.w": "V",
		"month.1": "januar", "month.2": "februar", "month.3": "marts", "month.4": "april", "month.5": "maj", "month.6": "juni",
		"month.7": "juli", "month.8": "august", "month.9": "september", "month.10": "oktober", "month.11": "november", "month.12": "december",

		"doc.title":    "Udbudsmateriale: fibernet i %s",
		"doc.subject":  "Udbudsmateriale for område %s: adresser, tilsagn, ruteoverslag og omkostningsoverslag",
		"doc.keywords": "fibernet udbud bredbånd tilsagn",
		"doc.running":  "Udbudsmateriale · %s (%s)",
		"doc.page":     "Side %d af {nb}",

		"status.draft": "Kladde", "status.collecting": "Indsamler tilsagn", "status.threshold_reached": "Tærskel nået",
		"status.tender_open": "Udbud åbent", "status.awarded": "Tildelt", "status.built": "Bygget", "status.lapsed": "Bortfaldet",

		"cover.kicker":          "UDBUDSMATERIALE · FIBERNET",
		"cover.subtitle":        "Område %s",
		"cover.area":            "Område",
		"cover.municipality":    "Kommune",
		"cover.association":     "Forening",
		"cover.contact":         "Kontakt",
		"cover.date":            "Dato",
		"cover.status":          "Status",
		"cover.pledge_deadline": "Frist for tilsagn",
		"cover.tender_deadline": "Tilbudsfrist",
		"cover.not_set":         "ikke fastsat",
		"cover.to_be_agreed":    "aftales med foreningen",
		"cover.figures":         "Nøgletal",
		"cover.contents":        "Pakken indeholder",
		"cover.file.pdf":        "dette dokument",
		"cover.file.area":       "områdets polygon (EPSG:4326)",
		"cover.file.addresses":  "adressepunkter med enheder, tilsagn og stiklængde",
		"cover.file.csv":        "de samme adresser som CSV (UTF-8)",
		"cover.file.route":      "det estimerede tracé: POP, gravetracé og stik",
		"cover.file.manifest":   "SHA-256 af hver fil (sha256sum -c manifest.txt)",
		"cover.privacy":         "Pakken indeholder ingen personoplysninger: kun adresser, antal enheder og antal tilsagn pr. adresse.",

		"summary.title":           "Resumé",
		"summary.addresses":       "Adresser",
		"summary.units":           "Enheder (husstande)",
		"summary.pledged":         "Enheder med tilsagn",
		"summary.pledged_addr":    "Adresser med tilsagn",
		"summary.takeup":          "Tilslutning",
		"summary.threshold":       "Tærskel",
		"summary.threshold_val":   "%s af enhederne",
		"summary.threshold_min":   "%s af enhederne, mindst %s enheder",
		"summary.threshold_units": "Enheder der skal til",
		"summary.missing":         "Mangler til tærsklen",
		"summary.met":             "Tærsklen er nået",
		"summary.not_met":         "Tærsklen er ikke nået",
		"summary.progress":        "Tilslutning i forhold til tærsklen",
		"summary.text":            "%s af %s husstande i %s har givet tilsagn om fibernet (%s). Tærsklen er %s, svarende til %s husstande.",
		"summary.area_title":      "Området",
		"summary.area_size":       "Areal",
		"summary.area_km2":        "%s km²",
		"summary.pop":             "POP (tilslutningspunkt)",
		"summary.pop_default":     "%s (områdets midtpunkt; ikke fastsat)",
		"summary.method":          "Ruteoverslag",
		"summary.trench":          "Gravetracé",
		"summary.drops":           "Stik i alt",
		"summary.outside":         "Adresser uden for vejnettet",

		"method.straight": "Luftlinje: minimalt udspændende træ × omvejsfaktor %s",
		"method.road":     "Langs vejnettet (Steiner-tilnærmelse over vejgrafen)",

		"map.title":       "Kort",
		"map.area":        "Områdets grænse",
		"map.pledged":     "Adresse med tilsagn",
		"map.unpledged":   "Adresse uden tilsagn",
		"map.trench":      "Estimeret gravetracé",
		"map.drop":        "Stik",
		"map.pop":         "POP",
		"map.north":       "N",
		"map.projection":  "Projektion: WGS 84 / UTM zone %d%s (EPSG:%d). Nord er geografisk nord.",
		"map.attribution": "Kortet er tegnet af kommunity ud fra pakkens data. Adresser og områder: danske offentlige geodata.",
		"map.attr_roads":  " Veje: © OpenStreetMap-bidragydere.",
		"map.no_route":    "Ingen tilsagn endnu: der er intet tracé at vise.",

		"cost.title":        "Omkostningsoverslag",
		"cost.intro":        "Overslaget gælder de %s husstande på %s adresser, der har givet tilsagn (tilslutning %s). Beløb i DKK.",
		"cost.intro_none":   "Ingen husstande har givet tilsagn endnu; overslaget viser kun de faste omkostninger.",
		"cost.part":         "Post",
		"cost.quantity":     "Mængde",
		"cost.rate":         "Sats",
		"cost.amount":       "Beløb",
		"cost.trench":       "Gravetracé",
		"cost.drops":        "Stik",
		"cost.connections":  "Tilslutninger",
		"cost.fixed":        "Faste (POP, projektering, ledelse)",
		"cost.build":        "Anlægssum",
		"cost.per_m":        "%s pr. m",
		"cost.per_unit":     "%s pr. husstand",
		"cost.households_n": "%s husstande",
		"cost.funding":      "Finansiering (i denne rækkefølge)",
		"cost.layer":        "Lag",
		"cost.provider":     "1. Operatørens bidrag",
		"cost.municipal":    "2. Kommunalt tilskud",
		"cost.state":        "3. Statsligt tilskud (bredbåndspuljen)",
		"cost.fund":         "4. Lokal fond",
		"cost.households":   "5. Husstandene",
		"cost.shortfall":    "Ikke finansieret",
		"cost.total":        "I alt",
		"cost.split":        "Fordeling mellem husstandene",
		"cost.rule":         "Fordelingsregel",
		"cost.share":        "Typisk betaling pr. husstand",
		"cost.range":        "Laveste – højeste betaling",
		"cost.min_own":      "Mindste egenbetaling",
		"cost.cap":          "Loft pr. husstand",
		"cost.state_cap":    "Statstilskud, gennemsnitligt loft",
		"cost.param_note":   "Satser pr. husstand: operatør %s, kommune %s, statsligt loft %s i gennemsnit. Lokal fond: %s.",

		"rule.equal":  "Lige deling: alle husstande betaler det samme (til øren).",
		"rule.drop":   "Efter stiklængde: alle betaler mindst egenbetalingen; resten fordeles efter de omkostninger, den enkelte tilslutning giver (lige del af tracé og faste omkostninger, tilslutning og stik).",
		"rule.capped": "Med loft: som efter stiklængde, men ingen husstand betaler over loftet; den lokale fond dækker det, loftet skærer fra, og resten vises som ikke finansieret.",

		"chart.title":          "Pris pr. husstand efter tilslutning",
		"chart.x":              "Tilslutning (% af husstandene)",
		"chart.y":              "Betaling pr. husstand (kr.)",
		"chart.threshold":      "Tærskel %s",
		"chart.current":        "Nu: %s",
		"chart.now":            "nu",
		"chart.mark_threshold": "tærskel",
		"chart.table":          "Overslag ved forskellig tilslutning",
		"chart.col_takeup":     "Tilslutning",
		"chart.col_units":      "Husstande",
		"chart.col_addr":       "Adresser",
		"chart.col_trench":     "Tracé",
		"chart.col_build":      "Anlægssum",
		"chart.col_share":      "Pr. husstand",
		"chart.more":           "Hvis flere tilslutter sig",
		"chart.more_row":       "%s flere husstande",
		"chart.reaches":        "når tærsklen",
		"chart.assumption":     "Antagelse: Husstande med tilsagn tilsluttes først. Derefter de øvrige husstande på deres adresser, derefter de resterende adresser én ad gangen, altid den adresse, der i luftlinje ligger nærmest POP eller en allerede tilsluttet adresse (lige afstande afgøres af adresse-id); alle husstande på en adresse tilsluttes samtidig. Under den nuværende tilslutning bevares de adresser med tilsagn, der ligger nærmest POP. Ved hvert niveau estimeres tracéet igen for de tilsluttede adresser.",
		"chart.empty":          "Området har ingen husstande; der er ingen kurve at vise.",

		"terms.title": "Vilkår",
		"terms.1":     "Tallene er overslag fra kommunitys omkostningsmodel med de viste satser. De er ikke tilbud; operatøren byder på grundlag af sin egen projektering.",
		"terms.2":     "Enheder er husstande (boliger) bag hver adgangsadresse. Tilsagn er betingede: de bliver bindende, når udbuddet åbnes, og bortfalder uden betaling, hvis området ikke når tærsklen inden fristen.",
		"terms.3":     "Pakken indeholder ingen personoplysninger. Operatøren ser adresser, enheder og antal tilsagn, aldrig hvem der har givet tilsagn.",
		"terms.4":     "Tracé og stik er estimater til budgettering; de er ikke opmålt og siger intet om ledningsejerforhold eller gravetilladelser.",
		"terms.5":     "Filerne bruger EPSG:4326 (længde, bredde). Manifestet giver SHA-256 for hver fil, så to pakker kan sammenlignes.",
		"terms.6":     "Spørgsmål til udbuddet rettes til foreningens kontaktperson: %s.",
		"terms.6none": "Spørgsmål til udbuddet rettes til foreningen.",

		"timeline.title":    "Tidsplan",
		"timeline.step":     "Trin",
		"timeline.date":     "Dato",
		"timeline.created":  "Pakken er dannet",
		"timeline.pledges":  "Frist for tilsagn",
		"timeline.tender":   "Tilbudsfrist",
		"timeline.award":    "Tildeling",
		"timeline.build":    "Anlæg",
		"timeline.after":    "efter tilbudsfristen",
		"timeline.by_award": "efter aftale med den valgte operatør",
		"timeline.stages":   "Områdets forløb",

		"annex.title":   "Bilag: adresser",
		"annex.intro":   "Alle %s adresser i området, sorteret efter adresse-id. Stik er længden fra adressen til tracéet for adresser med tilsagn.",
		"annex.no":      "Nr.",
		"annex.id":      "Adresse-id",
		"annex.text":    "Adresse",
		"annex.units":   "Enh.",
		"annex.pledged": "Tilsagn",
		"annex.drop":    "Stik (m)",
		"annex.none":    "Området har ingen adresser.",

		"yes": "ja", "no": "nej",
	},
	"en": {
		"num.thousands": ",", "num.decimal": ".", "num.percent": "%s%%", "num.metres": "%s m", "num.money": "DKK %s",
		"date.format": "%d %s %d",
		"geo.lonlat":  "%s° %s, %s° %s", "geo.n": "N", "geo.s": "S", "geo.e": "E", "geo.w": "W",
		"month.1": "January", "month.2": "February", "month.3": "March", "month.4": "April", "month.5": "May", "month.6": "June",
		"month.7": "July", "month.8": "August", "month.9": "September", "month.10": "October", "month.11": "November", "month.12": "December",

		"doc.title":    "Tender package: fibre network in %s",
		"doc.subject":  "Tender package for area %s: addresses, pledges, route estimate and cost estimate",
		"doc.keywords": "fibre tender broadband pledges",
		"doc.running":  "Tender package · %s (%s)",
		"doc.page":     "Page %d of {nb}",

		"status.draft": "Draft", "status.collecting": "Collecting pledges", "status.threshold_reached": "Threshold reached",
		"status.tender_open": "Tender open", "status.awarded": "Awarded", "status.built": "Built", "status.lapsed": "Lapsed",

		"cover.kicker":          "TENDER PACKAGE · FIBRE NETWORK",
		"cover.subtitle":        "Area %s",
		"cover.area":            "Area",
		"cover.municipality":    "Municipality",
		"cover.association":     "Association",
		"cover.contact":         "Contact",
		"cover.date":            "Date",
		"cover.status":          "Status",
		"cover.pledge_deadline": "Pledge deadline",
		"cover.tender_deadline": "Tender deadline",
		"cover.not_set":         "not set",
		"cover.to_be_agreed":    "to be agreed with the association",
		"cover.figures":         "Key figures",
		"cover.contents":        "This package contains",
		"cover.file.pdf":        "this document",
		"cover.file.area":       "the area's polygon (EPSG:4326)",
		"cover.file.addresses":  "address points with units, pledges and drop length",
		"cover.file.csv":        "the same addresses as CSV (UTF-8)",
		"cover.file.route":      "the estimated route: POP, trench and drops",
		"cover.file.manifest":   "SHA-256 of every file (sha256sum -c manifest.txt)",
		"cover.privacy":         "The package holds no personal data: only addresses, unit counts and pledge counts per address.",

		"summary.title":           "Summary",
		"summary.addresses":       "Addresses",
		"summary.units":           "Units (households)",
		"summary.pledged":         "Pledged units",
		"summary.pledged_addr":    "Addresses with pledges",
		"summary.takeup":          "Take-up",
		"summary.threshold":       "Threshold",
		"summary.threshold_val":   "%s of the units",
		"summary.threshold_min":   "%s of the units, at least %s units",
		"summary.threshold_units": "Units needed",
		"summary.missing":         "Still needed for the threshold",
		"summary.met":             "The threshold is met",
		"summary.not_met":         "The threshold is not met",
		"summary.progress":        "Take-up against the threshold",
		"summary.text":            "%s of %s households in %s have pledged to take fibre (%s). The threshold is %s, that is %s households.",
		"summary.area_title":      "The area",
		"summary.area_size":       "Size",
		"summary.area_km2":        "%s km²",
		"summary.pop":             "POP (point of presence)",
		"summary.pop_default":     "%s (the area's centre; not set)",
		"summary.method":          "Route estimate",
		"summary.trench":          "Trench",
		"summary.drops":           "Drops in total",
		"summary.outside":         "Addresses off the road network",

		"method.straight": "Straight line: minimum spanning tree × detour factor %s",
		"method.road":     "Along the road network (Steiner approximation over the road graph)",

		"map.title":       "Map",
		"map.area":        "Area boundary",
		"map.pledged":     "Address with pledge",
		"map.unpledged":   "Address without pledge",
		"map.trench":      "Estimated trench",
		"map.drop":        "Drop",
		"map.pop":         "POP",
		"map.north":       "N",
		"map.projection":  "Projection: WGS 84 / UTM zone %d%s (EPSG:%d). North is true north.",
		"map.attribution": "Map drawn by kommunity from the package's data. Addresses and areas: Danish public geodata.",
		"map.attr_roads":  " Roads: © OpenStreetMap contributors.",
		"map.no_route":    "No pledges yet: there is no route to show.",

		"cost.title":        "Cost estimate",
		"cost.intro":        "The estimate covers the %s households at %s addresses that have pledged (take-up %s). Amounts in DKK.",
		"cost.intro_none":   "No household has pledged yet; the estimate shows the fixed costs only.",
		"cost.part":         "Item",
		"cost.quantity":     "Quantity",
		"cost.rate":         "Rate",
		"cost.amount":       "Amount",
		"cost.trench":       "Trench",
		"cost.drops":        "Drops",
		"cost.connections":  "Connections",
		"cost.fixed":        "Fixed (POP, design, management)",
		"cost.build":        "Build cost",
		"cost.per_m":        "%s per m",
		"cost.per_unit":     "%s per household",
		"cost.households_n": "%s households",
		"cost.funding":      "Funding (in this order)",
		"cost.layer":        "Layer",
		"cost.provider":     "1. Provider contribution",
		"cost.municipal":    "2. Municipal top-up",
		"cost.state":        "3. State subsidy (broadband pool)",
		"cost.fund":         "4. Community fund",
		"cost.households":   "5. Households",
		"cost.shortfall":    "Not funded",
		"cost.total":        "Total",
		"cost.split":        "Split among the households",
		"cost.rule":         "Split rule",
		"cost.share":        "Typical payment per household",
		"cost.range":        "Lowest – highest payment",
		"cost.min_own":      "Minimum own payment",
		"cost.cap":          "Cap per household",
		"cost.state_cap":    "State subsidy, average cap",
		"cost.param_note":   "Rates per household: provider %s, municipality %s, state cap %s on average. Community fund: %s.",

		"rule.equal":  "Equal: every household pays the same (to the øre).",
		"rule.drop":   "By drop: everyone pays at least the minimum own payment; the rest is divided by the cost each connection causes (an equal part of the trench and fixed costs, its connection and its drop).",
		"rule.capped": "Capped: as by drop, but no household pays more than the cap; the community fund covers what the cap cuts off and the rest shows as not funded.",

		"chart.title":          "Price per household by take-up",
		"chart.x":              "Take-up (% of households)",
		"chart.y":              "Payment per household (DKK)",
		"chart.threshold":      "Threshold %s",
		"chart.current":        "Now: %s",
		"chart.now":            "now",
		"chart.mark_threshold": "threshold",
		"chart.table":          "Estimates at different take-up",
		"chart.col_takeup":     "Take-up",
		"chart.col_units":      "Households",
		"chart.col_addr":       "Addresses",
		"chart.col_trench":     "Trench",
		"chart.col_build":      "Build cost",
		"chart.col_share":      "Per household",
		"chart.more":           "If more households join",
		"chart.more_row":       "%s more households",
		"chart.reaches":        "reaches the threshold",
		"chart.assumption":     "Assumption: " + pledge.JoinAssumption,
		"chart.empty":          "The area has no households; there is no curve to show.",

		"terms.title": "Terms",
		"terms.1":     "The figures are estimates from kommunity's cost model with the rates shown. They are not quotes; the provider bids on its own design.",
		"terms.2":     "Units are the households (dwellings) behind each access address. Pledges are conditional: they become binding when the tender opens and lapse without charge if the area does not reach its threshold by the deadline.",
		"terms.3":     "The package holds no personal data. The provider sees addresses, units and pledge counts, never who pledged.",
		"terms.4":     "Trench and drops are estimates for budgeting; they are not surveyed and say nothing of utility ownership or digging permits.",
		"terms.5":     "The files use EPSG:4326 (longitude, latitude). The manifest gives the SHA-256 of every file, so two packages can be compared.",
		"terms.6":     "Questions about the tender go to the association's contact: %s.",
		"terms.6none": "Questions about the tender go to the association.",

		"timeline.title":    "Timeline",
		"timeline.step":     "Step",
		"timeline.date":     "Date",
		"timeline.created":  "Package made",
		"timeline.pledges":  "Pledge deadline",
		"timeline.tender":   "Tender deadline",
		"timeline.award":    "Award",
		"timeline.build":    "Build",
		"timeline.after":    "after the tender deadline",
		"timeline.by_award": "as agreed with the chosen provider",
		"timeline.stages":   "The area's lifecycle",

		"annex.title":   "Annex: addresses",
		"annex.intro":   "All %s addresses of the area, by address id. Drop is the length from the address to the route, for addresses with pledges.",
		"annex.no":      "No.",
		"annex.id":      "Address id",
		"annex.text":    "Address",
		"annex.units":   "Units",
		"annex.pledged": "Pledged",
		"annex.drop":    "Drop (m)",
		"annex.none":    "The area has no addresses.",

		"yes": "yes", "no": "no",
	},
}
