package export

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
)

// MboxWriter writes messages to an mbox file in the mboxrd variant. It is
// not safe for concurrent use.
type MboxWriter struct {
	w      *bufio.Writer
	closed bool
	err    error
}

// NewMbox returns a writer of an mboxrd file onto w. Close flushes it; it
// does not close w.
func NewMbox(w io.Writer) *MboxWriter {
	return &MboxWriter{w: bufio.NewWriter(w)}
}

// asctime is the date format of the "From " separator line.
const asctime = "Mon Jan _2 15:04:05 2006"

// Add appends one message. from is the envelope sender written in the
// separator line (MAILER-DAEMON when empty); date is written in UTC.
func (m *MboxWriter) Add(mime []byte, from string, date time.Time) error {
	if m.closed {
		return errors.New("export: mbox writer is closed")
	}
	if m.err != nil {
		return m.err
	}
	if len(mime) == 0 {
		return errors.New("export: empty message")
	}
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	w := m.w
	w.WriteString("From ")
	w.WriteString(mboxSender(from))
	w.WriteByte(' ')
	w.WriteString(date.UTC().Format(asctime))
	w.WriteByte('\n')

	rest := mime
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if isFromLine(line) {
			w.WriteByte('>')
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	// The blank line that separates this message from the next one.
	_, m.err = w.Write([]byte{'\n'})
	return m.err
}

// Close flushes the buffered output. Add fails after Close.
func (m *MboxWriter) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if m.err != nil {
		return m.err
	}
	return m.w.Flush()
}

// isFromLine reports whether line matches ^>*From , the lines that mboxrd
// quotes with one more '>'.
func isFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// mboxSender makes from usable as the single word of the separator line.
func mboxSender(from string) string {
	from = strings.TrimSpace(from)
	if i := strings.LastIndexByte(from, '<'); i >= 0 {
		if j := strings.IndexByte(from[i:], '>'); j > 0 {
			from = from[i+1 : i+j]
		}
	}
	from = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, from)
	if from == "" {
		return "MAILER-DAEMON"
	}
	return from
}
