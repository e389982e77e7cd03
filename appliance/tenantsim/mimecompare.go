package tenantsim

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// CompareMIME checks a restored message against the original as a mail
// client sees them, and describes the first difference, or returns nil:
// the same header fields in order (Content-Type aside, whose boundary is
// the server's to choose), and the same leaf parts in order, each with
// its media type, disposition, file name, Content-ID and decoded bytes.
// Part boundaries, transfer encodings and line lengths may differ: Graph
// renders a message's MIME from its store, so they are not what a
// restore can keep.
func CompareMIME(want, got []byte) error {
	w, err := readMIMEShape(want)
	if err != nil {
		return fmt.Errorf("original: %w", err)
	}
	g, err := readMIMEShape(got)
	if err != nil {
		return fmt.Errorf("restored: %w", err)
	}
	if strings.Join(w.header, "\n") != strings.Join(g.header, "\n") {
		return fmt.Errorf("header differs:\nwant %q\ngot  %q", w.header, g.header)
	}
	if fmt.Sprint(w.leaves) != fmt.Sprint(g.leaves) {
		return fmt.Errorf("parts differ:\nwant %v\ngot  %v", w.leaves, g.leaves)
	}
	return nil
}

// mimeLeaf is one leaf part of a message: what it is and the digest of
// its decoded bytes.
type mimeLeaf struct {
	mediaType, disposition, filename, contentID string
	size                                        int
	sum                                         [32]byte
}

func (l mimeLeaf) String() string {
	return fmt.Sprintf("%s %s %q <%s> %d bytes %x", l.mediaType, l.disposition, l.filename, l.contentID, l.size, l.sum[:6])
}

// mimeShape is what CompareMIME compares.
type mimeShape struct {
	header []string
	leaves []mimeLeaf
}

func readMIMEShape(raw []byte) (mimeShape, error) {
	var s mimeShape
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil {
		return s, err
	}
	for f := e.Header.Fields(); f.Next(); {
		if !strings.EqualFold(f.Key(), "Content-Type") {
			s.header = append(s.header, f.Key()+": "+f.Value())
		}
	}
	err = e.Walk(func(_ []int, part *gomessage.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, _ := part.Header.ContentType()
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		ah := mail.AttachmentHeader{Header: part.Header}
		disp, _, _ := ah.ContentDisposition()
		name, _ := ah.Filename()
		h := sha256.New()
		n, err := io.Copy(h, part.Body)
		if err != nil {
			return err
		}
		leaf := mimeLeaf{mediaType: mt, disposition: disp, filename: name, contentID: strings.Trim(part.Header.Get("Content-ID"), "<>"), size: int(n)}
		copy(leaf.sum[:], h.Sum(nil))
		s.leaves = append(s.leaves, leaf)
		return nil
	})
	return s, err
}
