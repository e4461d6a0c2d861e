package geo

import (
	"errors"
	"fmt"
	"strings"
)

// InputError is a problem with one place in an input file. Line is a line
// number (CSV), Feature a 1-based feature number (GeoJSON) and Record a
// 1-based record number (Shapefile) or feature id (GeoPackage); any may be
// zero when it does not apply. Line and Record print alike, "adr.shp:17:",
// as GIS tools number records.
type InputError struct {
	File    string
	Line    int
	Feature int
	Record  int
	Field   string
	Reason  string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	} else if e.Record > 0 {
		fmt.Fprintf(&b, ":%d", e.Record)
	}
	b.WriteString(": ")
	if e.Feature > 0 {
		fmt.Fprintf(&b, "feature %d: ", e.Feature)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %s: ", e.Field)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// InputErrors is every row error of one file.
type InputErrors []*InputError

// MaxListed is how many errors InputErrors.Error spells out.
const MaxListed = 20

func (es InputErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == MaxListed {
			fmt.Fprintf(&b, "\n... and %d more", len(es)-MaxListed)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// IsInputError reports whether err is about the input (a row or feature),
// rather than a failure to read it.
func IsInputError(err error) bool {
	var ie *InputError
	var ies InputErrors
	return errors.As(err, &ie) || errors.As(err, &ies)
}

// Warning is a problem that does not stop an import, e.g. a self-intersecting
// boundary ring.
type Warning struct {
	File    string
	Feature int
	Code    string // area code, when known
	Message string
}

func (w Warning) String() string {
	s := w.File + ": "
	if w.Feature > 0 {
		s += fmt.Sprintf("feature %d", w.Feature)
		if w.Code != "" {
			s += fmt.Sprintf(" (%s)", w.Code)
		}
		s += ": "
	}
	return s + w.Message
}
