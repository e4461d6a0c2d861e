package geo

import (
	"bytes"
	"fmt"
	"io"
)

// MaxLineLength bounds one line of a delimited file, so a corrupt or hostile
// file cannot make the reader buffer unbounded memory.
const MaxLineLength = 1 << 20

// errLineTooLong is returned by lineLimitReader; line is 1-based.
type errLineTooLong struct{ line int }

func (e errLineTooLong) Error() string {
	return fmt.Sprintf("line %d is longer than %d bytes", e.line, MaxLineLength)
}

// lineLimitReader fails as soon as a line grows past MaxLineLength.
type lineLimitReader struct {
	r       io.Reader
	line    int // lines started so far
	current int // bytes in the current line
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.current += len(b)
			break
		}
		l.current += i
		if l.current > MaxLineLength {
			return 0, errLineTooLong{l.line + 1}
		}
		l.line++
		l.current = 0
		b = b[i+1:]
	}
	if l.current > MaxLineLength {
		return 0, errLineTooLong{l.line + 1}
	}
	return n, err
}
