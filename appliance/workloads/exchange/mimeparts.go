package exchange

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// opener opens a message's MIME from its start; every call reads it anew.
type opener func() (io.ReadCloser, error)

// largePart is a part of a message's MIME that can be sent through an
// upload session: where it is in the MIME (from its delimiter line to the
// next) and what the attachment is.
type largePart struct {
	start, end int64 // the part with its delimiter line
	bodyAt     int64 // where its encoded content starts
	bodyEnd    int64 // where it ends, before the next delimiter's line break
	cte        string
	name       string
	// contentType is the media type without parameters.
	contentType string
	contentID   string
	inline      bool
	// body marks a message body (text, HTML, a nested multipart): it
	// stays in the MIME.
	body bool
	// size is the decoded size, -1 until counted (only base64 is
	// counted while scanning).
	size int64
}

// content streams the part's decoded bytes, reading the MIME anew.
func (p largePart) content(open opener) (io.ReadCloser, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("read from vault: %w", err)
	}
	if _, err := io.CopyN(io.Discard, rc, p.bodyAt); err != nil {
		rc.Close()
		return nil, fmt.Errorf("read from vault: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{decodedBody(p.cte, io.LimitReader(rc, p.bodyEnd-p.bodyAt)), rc}, nil
}

// count returns the part's decoded size.
func (p largePart) count(open opener) (int64, error) {
	rc, err := p.content(open)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err == nil && n == 0 {
		err = errors.New("the attachment is empty")
	}
	return n, err
}

// decodedBody undoes a Content-Transfer-Encoding and nothing else (no
// charset conversion: attachment bytes are sent as they were). An
// encoding go-message does not know leaves the bytes as they are.
func decodedBody(cte string, body io.Reader) io.Reader {
	var h message.Header
	if cte != "" {
		h.Set("Content-Transfer-Encoding", cte)
	}
	e, err := message.New(h, body)
	if err != nil && !message.IsUnknownEncoding(err) {
		return body
	}
	return e.Body
}

// lineScanner reads MIME a line at a time and knows each line's offset.
// A line longer than its buffer comes in pieces; only the first piece
// starts a line.
type lineScanner struct {
	br        *bufio.Reader
	off       int64 // offset of the next byte
	lineStart bool  // the next piece starts a line
}

// next returns the next piece, its offset and whether it starts a line.
// The piece is valid until the following call.
func (s *lineScanner) next() ([]byte, int64, bool, error) {
	b, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		err = nil
	}
	if len(b) == 0 && err != nil {
		return nil, s.off, false, err
	}
	at, start := s.off, s.lineStart
	s.off += int64(len(b))
	s.lineStart = b[len(b)-1] == '\n'
	return b, at, start, nil
}

// header reads header lines up to and with the empty line that ends
// them, and parses them.
func (s *lineScanner) header() (textproto.Header, error) {
	var raw []byte
	for {
		b, _, start, err := s.next()
		if err != nil {
			return textproto.Header{}, fmt.Errorf("read a MIME header: %w", err)
		}
		raw = append(raw, b...)
		if len(raw) > 1<<20 {
			return textproto.Header{}, errors.New("a MIME header longer than 1 MB")
		}
		if start && (string(b) == "\r\n" || string(b) == "\n") {
			return textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
		}
	}
}

// delimiter says whether a line is a delimiter of boundary (RFC 2046
// 5.1.1: "--" boundary, optional white space), and whether it closes the
// body.
func delimiter(line []byte, dash string) (is, closing bool) {
	if !bytes.HasPrefix(line, []byte(dash)) {
		return false, false
	}
	rest := strings.TrimRight(string(line[len(dash):]), " \t\r\n")
	return rest == "" || rest == "--", rest == "--"
}

// lineBreak is the length of the line break ending b.
func lineBreak(b []byte) int64 {
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		return 2
	case bytes.HasSuffix(b, []byte("\n")):
		return 1
	}
	return 0
}

// scanParts reads a message's MIME once and lists the parts of its
// top-level multipart body that can be uploaded as file attachments
// (every part that is not itself multipart and not a text or HTML body),
// with the MIME's total size.
func scanParts(r io.Reader) ([]largePart, int64, error) {
	s := &lineScanner{br: bufio.NewReaderSize(r, 64<<10), lineStart: true}
	th, err := s.header()
	if err != nil {
		return nil, s.off, err
	}
	h := message.Header{Header: th}
	mt, params, err := h.ContentType()
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		n, _ := io.Copy(io.Discard, s.br)
		return nil, s.off + n, errNoParts
	}
	dash := "--" + params["boundary"]
	var out []largePart
	var cur *largePart
	var chars, lastBreak int64
	for {
		b, at, start, err := s.next()
		if err != nil {
			return nil, s.off, fmt.Errorf("the multipart body has no closing boundary (%w)", err)
		}
		is, closing := false, false
		if start {
			is, closing = delimiter(b, dash)
		}
		if !is {
			if cur != nil {
				chars += base64Chars(b)
			}
			lastBreak = lineBreak(b)
			continue
		}
		if cur != nil {
			cur.end, cur.bodyEnd = at, at-lastBreak
			if p, ok := finishPart(*cur, chars); ok {
				out = append(out, p)
			}
		}
		if closing {
			n, err := io.Copy(io.Discard, s.br)
			return out, s.off + n, err
		}
		th, err := s.header()
		if err != nil {
			return nil, s.off, err
		}
		cur, chars = &largePart{start: at, bodyAt: s.off}, 0
		describePart(cur, th)
	}
}

// describePart fills in what p's header says.
func describePart(p *largePart, th textproto.Header) {
	ah := mail.AttachmentHeader{Header: message.Header{Header: th}}
	mt, _, _ := ah.ContentType()
	disp, _, _ := ah.ContentDisposition()
	name, _ := ah.Filename()
	p.cte = strings.ToLower(strings.TrimSpace(th.Get("Content-Transfer-Encoding")))
	p.contentType, p.name, p.inline = mt, name, disp == "inline"
	p.contentID = strings.Trim(strings.TrimSpace(th.Get("Content-ID")), "<>")
	p.body = disp == "" && name == "" && (mt == "" || mt == "text/plain" || mt == "text/html") || strings.HasPrefix(mt, "multipart/")
}

// finishPart completes a part that has been read through, chars being
// the base64 characters of its body, and reports whether it can be
// uploaded.
func finishPart(p largePart, chars int64) (largePart, bool) {
	if p.body || p.bodyEnd <= p.bodyAt {
		return p, false
	}
	if p.contentType == "" {
		p.contentType = "application/octet-stream"
	}
	p.size = -1
	if p.cte == "base64" {
		p.size = chars * 3 / 4
	}
	if p.name == "" {
		p.name = "attachment"
	}
	return p, p.size != 0
}

// base64Chars counts the base64 data characters of a line (padding and
// line breaks aside).
func base64Chars(b []byte) int64 {
	var n int64
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			n++
		}
	}
	return n
}
