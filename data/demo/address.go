package demo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/paulmach/orb"

	"github.com/kommunity/kommunity/geo"
)

type kind int

const (
	kindVillage kind = iota
	kindHamlet
	kindFarm
)

// Share of multi-unit addresses (2-12 units) by kind: flats and terraces in
// villages, a second dwelling on some farms; about 5 % overall.
var multiShare = [...]float64{kindVillage: 0.065, kindHamlet: 0.04, kindFarm: 0.03}

// placed is one address before it is numbered and written.
type placed struct {
	p      orb.Point // metres
	street int       // index into areaPlan.streets
	s      float64   // arc length along the street
	side   int       // +1 left (odd numbers), -1 right (even)
	hamlet int       // locality: -1 the area's village, else a hamlet
	units  int
	number int
}

// eachArea makes the addresses of one area at a time, in area order, and
// calls fn with them (reusing the slice) and, when wantTracks, the farm
// tracks laid on the way. Stragglers are the last len(a.stragglerSides)
// records of their area.
func (w *world) eachArea(wantTracks bool, fn func(a *areaPlan, recs []geo.AddressRecord, tracks [][]orb.Point) error) error {
	var (
		buf  []placed
		recs []geo.AddressRecord
		text []byte
		line = 2 // CSV line of the next record; the header is line 1
	)
	for _, a := range w.areas {
		r := newRand(w.cfg.Seed, streamAddr, uint64(a.idx))
		buf = buf[:0]
		var tracks [][]orb.Point
		for i := 0; i < a.addresses; i++ {
			pl, track := w.place(r, a)
			buf = append(buf, pl)
			if wantTracks && track != nil {
				tracks = append(tracks, track)
			}
		}
		// House numbers run outwards along each street, odd on the left and
		// even on the right, as Danish numbering does.
		slices.SortFunc(buf, func(x, y placed) int {
			if c := cmp.Compare(x.street, y.street); c != 0 {
				return c
			}
			if c := cmp.Compare(x.s, y.s); c != 0 {
				return c
			}
			if c := cmp.Compare(x.side, y.side); c != 0 {
				return c
			}
			if c := cmp.Compare(x.p[0], y.p[0]); c != 0 {
				return c
			}
			return cmp.Compare(x.p[1], y.p[1])
		})
		odd := make([]int, len(a.streets))
		even := make([]int, len(a.streets))
		for i := range buf {
			st := buf[i].street
			if buf[i].side > 0 {
				odd[st]++
				buf[i].number = 2*odd[st] - 1
			} else {
				even[st]++
				buf[i].number = 2 * even[st]
			}
		}
		for i, k := range a.stragglerSides {
			buf = append(buf, placed{p: w.straggler(r, a, k), street: -1, hamlet: -1, units: 1, number: 2*i + 1})
		}

		recs = recs[:0]
		town := w.areas[a.postTown].name
		for _, pl := range buf {
			text = text[:0]
			if pl.street < 0 {
				text = append(text, coastStreet...)
			} else {
				text = append(text, a.streets[pl.street].name...)
			}
			text = append(text, ' ')
			text = strconv.AppendInt(text, int64(pl.number), 10)
			text = append(text, ", "...)
			// Danish addresses name the village (supplerende bynavn)
			// unless it is the postal town itself.
			switch {
			case pl.hamlet >= 0:
				text = append(text, a.hamlets[pl.hamlet]...)
				text = append(text, ", "...)
			case !a.isPostTown:
				text = append(text, a.name...)
				text = append(text, ", "...)
			}
			text = strconv.AppendInt(text, int64(a.postcode), 10)
			text = append(text, ' ')
			text = append(text, town...)
			recs = append(recs, geo.AddressRecord{
				ID:    uuid(r.Uint64(), r.Uint64()),
				Text:  string(text),
				Point: w.toLL(pl.p),
				Units: pl.units,
				Line:  line,
			})
			line++
		}
		if err := fn(a, recs, tracks); err != nil {
			return err
		}
	}
	return nil
}

// place draws one address of area a: a village house 15-40 m from a street,
// a hamlet house likewise, or a farm 30-300 m from a road (with a track to
// it when it lies more than 120 m off). It retries until the address lies
// safely inside the area and out of its lake.
func (w *world) place(r *rand.Rand, a *areaPlan) (placed, []orb.Point) {
	k := kindFarm
	switch u := r.Float64(); {
	case u < a.fVillage:
		k = kindVillage
	case u < a.fVillage+a.fHamlet:
		k = kindHamlet
	}
	units := 1
	if r.Float64() < multiShare[k] {
		x := r.Float64()
		units = 2 + int(11*x*x) // mostly small: 2-12
	}
	for try := 0; try < 30; try++ {
		var st int
		var s, off float64
		hamlet := -1
		switch k {
		case kindVillage:
			st, s = pickFrom(r, a.villageCDF)
			off = 15 + 25*r.Float64()
		case kindHamlet:
			hamlet = r.IntN(len(a.hamlets))
			st = a.hamletStreet[hamlet]
			rg := a.streets[st].hamlet
			s = rg[0] + (rg[1]-rg[0])*r.Float64()
			off = 15 + 25*r.Float64()
		case kindFarm:
			if len(a.ruralCDF) == 0 {
				k = kindVillage
				continue
			}
			st, s = pickFrom(r, a.ruralCDF)
			x := r.Float64()
			off = 30 + 270*x*x
		}
		side := 1 - 2*r.IntN(2)
		base, dir := a.streets[st].line.at(s)
		n := leftNormal(dir)
		p := add(base, scale(n, float64(side)*off))
		if !a.holds(p) {
			continue
		}
		var track []orb.Point
		if k == kindFarm && off > 120 {
			end := add(base, scale(n, float64(side)*(off-15-10*r.Float64())))
			mid := add(lerp(base, end, 0.5), scale(dir, 0.3*off*(r.Float64()-0.5)))
			if lk := a.lake; lk != nil && (segDist(lk.c, base, mid) < lk.rmax+10 || segDist(lk.c, mid, end) < lk.rmax+10) {
				continue
			}
			track = []orb.Point{base, mid, end}
		}
		return placed{p: p, street: st, s: s, side: side, hamlet: hamlet, units: units}, track
	}
	// Unlucky draws: a house by the village centre, which lies at least
	// 600 m inside the area and away from any lake, where streets begin.
	th := 2 * math.Pi * r.Float64()
	off := 15 + 25*r.Float64()
	p := add(a.village, orb.Point{off * math.Cos(th), off * math.Sin(th)})
	return placed{p: p, street: a.villageCDF[0].street, side: 1, hamlet: -1, units: units}, nil
}

// pickFrom draws a street range weighted by length and a uniform position
// in it, with one random number.
func pickFrom(r *rand.Rand, cdf []pick) (street int, s float64) {
	x := r.Float64() * cdf[len(cdf)-1].cum
	i, _ := slices.BinarySearchFunc(cdf, x, func(p pick, x float64) int { return cmp.Compare(p.cum, x) })
	i = min(i, len(cdf)-1)
	prev := 0.0
	if i > 0 {
		prev = cdf[i-1].cum
	}
	return cdf[i].street, cdf[i].s0 + (x - prev)
}

// straggler places an address off outer side k of area a, beyond the
// boundary's wiggles: a house on the shore or a mis-geocoded point, as real
// address registers have. It moves further out until clear of every area.
func (w *world) straggler(r *rand.Rand, a *areaPlan, k int) orb.Point {
	sd := a.sides[k]
	q0, q1 := a.quad[k], a.quad[(k+1)%4]
	for try := 0; ; try++ {
		t := 0.3 + 0.4*r.Float64()
		d := sd.dmax + 40 + 300*r.Float64() + 200*float64(try)
		p := sub(lerp(q0, q1, t), scale(sd.n, d))
		if w.outsideAll(p) {
			return p
		}
	}
}

// uuid formats 128 random bits as a version 4 UUID, like the ids of the
// Danish address register (DAR).
func uuid(hi, lo uint64) string {
	hi = hi&^0xF000 | 0x4000       // version 4
	lo = lo&^(0xC0<<56) | 0x80<<56 // RFC 4122 variant
	const hexdigits = "0123456789abcdef"
	var b [36]byte
	j := 0
	put := func(v uint64, shift, n int) {
		for i := 0; i < n; i++ {
			b[j] = hexdigits[(v>>(shift-4*i-4))&0xF]
			j++
		}
	}
	put(hi, 64, 8)
	b[j] = '-'
	j++
	put(hi, 32, 4)
	b[j] = '-'
	j++
	put(hi, 16, 4)
	b[j] = '-'
	j++
	put(lo, 64, 4)
	b[j] = '-'
	j++
	put(lo, 48, 12)
	return string(b[:])
}

// appendPledges gives each unit of the area's (in-area) addresses a pledge
// with the area's share, from its own stream so addresses never move.
func (w *world) appendPledges(out []PledgeSeed, a *areaPlan, recs []geo.AddressRecord, emails map[string]bool) []PledgeSeed {
	r := newRand(w.cfg.Seed, streamPledge, uint64(a.idx))
	for _, rec := range recs {
		for u := 1; u <= rec.Units; u++ {
			if r.Float64() >= a.pledgeShare {
				continue
			}
			first, last := personName(r)
			out = append(out, PledgeSeed{
				AddressID: rec.ID,
				Unit:      u,
				Name:      first + " " + last,
				Email:     email(r, first, last, emails),
				Phone:     phoneNumber(r),
			})
		}
	}
	return out
}

// email makes a unique address at example.dk in one of the usual shapes.
func email(r *rand.Rand, first, last string, taken map[string]bool) string {
	f, l := mailLocal(first), mailLocal(last)
	var local string
	switch r.IntN(3) {
	case 0:
		local = f + "." + l
	case 1:
		local = f + l[:1] + strconv.Itoa(40+r.IntN(60)) // birth year
	default:
		surname := l
		for i := len(l) - 1; i >= 0; i-- {
			if l[i] == '.' {
				surname = l[i+1:]
				break
			}
		}
		local = f[:1] + surname
	}
	addr := local + "@example.dk"
	for n := 2; taken[addr]; n++ {
		addr = local + strconv.Itoa(n) + "@example.dk"
	}
	taken[addr] = true
	return addr
}
