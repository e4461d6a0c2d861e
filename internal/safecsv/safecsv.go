// Package safecsv writes CSV that spreadsheets cannot run: every CSV the
// project writes (tender packages, exports) goes through it. Following
// OWASP's advice on CSV injection, a cell that begins with '=', '+', '-',
// '@', a tab or a carriage return is prefixed with a single quote, which
// spreadsheets show as text rather than evaluate as a formula. Plain
// numbers ("-12.5", "+45") are the one exception: they are data, not
// formulas, and a GIS engineer's negative longitude must stay a number.
package safecsv

import (
	"encoding/csv"
	"io"
)

// Cell returns s made safe to open in a spreadsheet.
func Cell(s string) string {
	if s == "" || isNumber(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// isNumber reports whether s is a plain decimal number: an optional sign,
// digits, and an optional fraction.
func isNumber(s string) bool {
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}

// Writer is a csv.Writer whose cells pass through Cell.
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell made safe.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, s := range record {
		w.rec = append(w.rec, Cell(s))
	}
	return w.w.Write(w.rec)
}

// Flush writes buffered data and returns any error of this or an earlier
// write.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
