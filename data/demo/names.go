package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Place names are composed the way Danish village names are: a stem and a
// typical ending (-rup, -lev, -by, -sted, -løse ...), sometimes with a
// prefix (Nørre, Sønder, Store ...).
var (
	namePrefixes = []string{"Nørre", "Sønder", "Øster", "Vester", "Store", "Lille", "Ny", "Gammel", "Over", "Neder"}
	nameStems    = []string{
		"Ø", "Sø", "Å", "Års", "Ørs", "Tomme", "Bro", "Glam", "Hår", "Vis", "Kerte", "Fle",
		"Ebbe", "Gum", "Ver", "Ring", "Kvær", "Fjel", "Hol", "Skå", "Tor", "Frø", "Gud",
		"Væ", "Ull", "Bår", "Sæd", "Rø", "Næs", "Kølle", "Rold", "Hel", "Ger", "Stens",
		"Mes", "Lun", "Dal", "Bred", "Ved", "Ting", "Brænde", "Hag", "Ejl", "Em", "Hov",
		"Kra", "Løv", "Mør", "Nyr", "Hjort", "Bøj", "Sol", "Gel", "Tål", "Øl", "Ryslin",
	}
	nameEndings = []string{
		"rup", "strup", "lev", "by", "sted", "bølle", "løse", "bjerg", "torp", "holm", "lund",
		"skov", "høj", "inge", "um", "ved", "bæk", "ager", "gård", "bo", "toft", "sø", "næs",
		"ballegård", "ladegård",
	}
	// Rural parts named after their village: "Årslev Mark", "Østrup Mose".
	hamletSuffixes = []string{"Mark", "Mose", "Skov", "Huse", "Overdrev", "Enge", "Vang"}

	streetPool = []string{
		"Kirkevej", "Skolevej", "Møllevej", "Bygaden", "Præstevænget", "Engvej", "Mosevej",
		"Skovvej", "Stationsvej", "Kærvej", "Bakkevej", "Lindevej", "Birkevej", "Egevej",
		"Bøgevej", "Ahornvej", "Toftevej", "Hybenvej", "Smedevej", "Gadekæret", "Markvej",
		"Østergade", "Vestergade", "Nørregade", "Søndergade", "Åvej", "Søvej", "Bækkevej",
		"Højvangen", "Vængevej", "Mejerivej", "Brugsvej", "Kirkestræde", "Præstegårdsvej",
		"Degnevej", "Hestehaven", "Kohavevej", "Lykkegårdsvej", "Elmelundvej", "Fælledvej",
		"Grønnegade", "Tværvej", "Hyldevej", "Kastanievej", "Rønnebærvej", "Slåenvej",
		"Tjørnevej", "Pilevej", "Granvej", "Fyrrevej", "Lærkevej", "Vibevej", "Svalevej",
		"Storkevej", "Agervej", "Havrevej", "Bygvej", "Rugvej", "Hvedevej", "Kløvervej",
		"Enghavevej", "Nyvej", "Langgade", "Tingvej", "Vandværksvej", "Idrætsvej",
		"Gammel Landevej", "Bredgade", "Holmevej", "Lundevej", "Ørnevej", "Sønderskovvej",
	}
	// Coastal stragglers are numbered on their own street.
	coastStreet = "Strandvejen"

	firstNames = []string{
		"Anne", "Mette", "Kirsten", "Hanne", "Helle", "Susanne", "Lene", "Maria", "Marianne",
		"Inge", "Camilla", "Louise", "Pia", "Charlotte", "Bente", "Tina", "Karen", "Lone",
		"Ida", "Freja", "Sofie", "Emma", "Astrid", "Signe", "Birgitte", "Gitte", "Jytte",
		"Åse", "Lærke", "Søs", "Lars", "Jens", "Peter", "Michael", "Henrik", "Søren",
		"Thomas", "Jan", "Niels", "Morten", "Jesper", "Anders", "Rasmus", "Mads", "Martin",
		"Christian", "Kim", "Ole", "Hans", "Poul", "Bjørn", "Jørgen", "Torben", "Frederik",
		"Mikkel", "Jakob", "Kasper", "Bo", "Carsten", "Steen", "Aage", "Æbbe", "Øjvind",
	}
	lastNames = []string{
		"Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
		"Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
		"Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen",
		"Østergaard", "Højgaard", "Søgaard", "Kjær", "Dalgaard", "Bækgaard", "Lund", "Holm",
		"Skov", "Frandsen", "Bøgh", "Brøndum", "Kjærsgaard", "Nørgaard", "Damgaard",
		"Vestergaard", "Mølgaard", "Bach", "Friis", "Ærenlund",
	}
	mobilePrefixes = []string{"20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "40", "41", "42", "50", "51", "52", "53", "60", "61", "71", "81", "91", "93"}
)

// placeName composes one village name; ending letters that repeat the
// stem's last letter are dropped ("Års" + "strup" = "Årstrup").
func placeName(r *rand.Rand, compound bool) string {
	stem := nameStems[r.IntN(len(nameStems))]
	if compound {
		stem += strings.ToLower(nameStems[r.IntN(len(nameStems))])
	}
	end := nameEndings[r.IntN(len(nameEndings))]
	last, _ := utf8.DecodeLastRuneInString(stem)
	first, size := utf8.DecodeRuneInString(end)
	if last == first {
		end = end[size:]
	}
	name := stem + end
	if r.Float64() < 0.15 {
		name = namePrefixes[r.IntN(len(namePrefixes))] + " " + name
	}
	return name
}

// uniquePlaceName draws names until one is not taken: village names must be
// unique because address texts name their village.
func uniquePlaceName(r *rand.Rand, taken map[string]bool) string {
	for i := 0; i < 400; i++ {
		// simple names first; compound ones only when they run out (thousands of areas)
		name := placeName(r, i >= 40)
		if !taken[name] {
			taken[name] = true
			return name
		}
	}
	base := placeName(r, true)
	for k := 2; ; k++ {
		name := base + " " + strconv.Itoa(k)
		if !taken[name] {
			taken[name] = true
			return name
		}
	}
}

// roadTo names a road after the place it leads to, as Danish roads are:
// "Årslevvej", "Nørre Søbyvej", "Østrup Markvej".
func roadTo(place string) string { return place + "vej" }

// personName gives a plausible Danish name, sometimes with a middle name.
func personName(r *rand.Rand) (first, last string) {
	first = firstNames[r.IntN(len(firstNames))]
	last = lastNames[r.IntN(len(lastNames))]
	if r.Float64() < 0.2 {
		last = lastNames[r.IntN(len(lastNames))] + " " + last
	}
	return first, last
}

// mailLocal turns a name into an e-mail local part: lower case ASCII with
// æ ø å written ae oe aa, as Danes do in addresses.
func mailLocal(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch c {
		case 'æ':
			b.WriteString("ae")
		case 'ø':
			b.WriteString("oe")
		case 'å':
			b.WriteString("aa")
		case ' ':
			b.WriteByte('.')
		default:
			if c < utf8.RuneSelf {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

func phoneNumber(r *rand.Rand) string {
	p := mobilePrefixes[r.IntN(len(mobilePrefixes))]
	n := r.IntN(1000000)
	d := strconv.Itoa(1000000 + n)[1:] // six digits with leading zeros
	return "+45 " + p + " " + d[0:2] + " " + d[2:4] + " " + d[4:6]
}
