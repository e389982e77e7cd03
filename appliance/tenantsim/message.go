package tenantsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// message is a mail. A generated message keeps only its parts and renders
// its MIME on demand, deterministically; a message created from MIME (a
// restore) keeps the bytes it was given in raw and serves them unchanged.
type message struct {
	subject     string
	from        mail.Address
	to, cc      []mail.Address
	date        time.Time
	messageID   string
	body        string
	attachments []*attachment
	importance  string
	isRead      bool
	isDraft     bool
	// categories and isRead are the properties a user changes in place
	// (modify-messages); they are not part of the MIME.
	categories []string
	raw        []byte
	// bodyPreview is computed once, when the message enters the store:
	// scanning a non-ASCII body for every listing dominated delta cost.
	bodyPreview string
}

// attachment is a file attached to a message. Generated content is a
// function of seed, so the same seed in two mailboxes is the same bytes:
// that is how duplicate attachments across mailboxes arise.
type attachment struct {
	id          string
	name        string
	contentType string
	size        int
	seed        uint64
	inline      bool
	// contentID is the Content-ID an uploaded attachment was given;
	// generated inline attachments use their id.
	contentID string
	data      []byte
}

// content returns the attachment's bytes.
func (a *attachment) content() []byte { return seeded(a.data, a.seed, a.size, a.draw) }

// seeded is data when there is any (uploaded or imported bytes), else
// what draw makes with a generator seeded by seed and size: the same seed
// and size always give the same bytes.
func seeded(data []byte, seed uint64, size int, draw func(r *rand.Rand) []byte) []byte {
	if data != nil {
		return data
	}
	return draw(rand.New(rand.NewPCG(seed, uint64(size))))
}

// draw generates the attachment's bytes: text for a text type, random
// bytes behind the type's magic number otherwise.
func (a *attachment) draw(r *rand.Rand) []byte {
	b := make([]byte, a.size)
	switch {
	case strings.HasPrefix(a.contentType, "text/"):
		const alphabet = "abcdefghijklmnopqrstuvwxyz      ,.;\n0123456789"
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	default:
		for i := 0; i+8 <= len(b); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		magic := map[string]string{"application/pdf": "%PDF-1.7\n", "image/png": "\x89PNG\r\n\x1a\n", "image/jpeg": "\xff\xd8\xff\xe0"}[a.contentType]
		if strings.Contains(a.contentType, "officedocument") || a.contentType == "application/zip" {
			magic = "PK\x03\x04"
		}
		copy(b, magic)
	}
	return b
}

const crlf = "\r\n"

// mimeBytes returns the RFC 5322 form of m: the stored bytes of a restored
// message, else a rendering that is the same on every call. Headers are
// 7-bit (RFC 2047 encoded words), bodies quoted-printable or base64.
func (m *message) mimeBytes() []byte {
	if m.raw != nil {
		return m.raw
	}
	var buf bytes.Buffer
	hdr := func(k, v string) { buf.WriteString(k + ": " + v + crlf) }
	hdr("From", m.from.String())
	hdr("To", addrList(m.to))
	if len(m.cc) > 0 {
		hdr("Cc", addrList(m.cc))
	}
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.subject))
	hdr("Date", m.date.Format(time.RFC1123Z))
	hdr("Message-ID", m.messageID)
	hdr("MIME-Version", "1.0")
	if m.importance == "high" {
		hdr("Importance", "high")
	}
	if len(m.attachments) == 0 {
		hdr("Content-Type", `text/plain; charset="utf-8"`)
		hdr("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString(crlf)
		writeQP(&buf, m.body)
		return buf.Bytes()
	}
	mw := multipart.NewWriter(&buf)
	boundary := "----=_Part_" + shortHash(m.messageID, 0)
	_ = mw.SetBoundary(boundary)
	hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	buf.WriteString(crlf)
	pw, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {`text/plain; charset="utf-8"`},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	var body bytes.Buffer
	writeQP(&body, m.body)
	_, _ = pw.Write(body.Bytes())
	for _, a := range m.attachments {
		disp := "attachment"
		if a.inline {
			disp = "inline"
		}
		h := textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(a.contentType, map[string]string{"name": a.name})},
			"Content-Disposition":       {mime.FormatMediaType(disp, map[string]string{"filename": a.name})},
			"Content-Transfer-Encoding": {"base64"},
		}
		if a.inline {
			h.Set("Content-ID", "<"+firstNonEmpty(a.contentID, a.id)+">")
		}
		pw, _ := mw.CreatePart(h)
		writeBase64Lines(pw, a.content())
	}
	_ = mw.Close()
	return buf.Bytes()
}

func addrList(as []mail.Address) string {
	s := make([]string, len(as))
	for i := range as {
		s[i] = as[i].String()
	}
	return strings.Join(s, ", ")
}

func writeQP(w *bytes.Buffer, text string) {
	q := quotedprintable.NewWriter(w)
	_, _ = q.Write([]byte(strings.ReplaceAll(text, "\n", crlf)))
	_ = q.Close()
}

func writeBase64Lines(w io.Writer, b []byte) {
	enc := base64.StdEncoding.EncodeToString(b)
	for len(enc) > 76 {
		_, _ = io.WriteString(w, enc[:76]+crlf)
		enc = enc[76:]
	}
	_, _ = io.WriteString(w, enc+crlf)
}

// parseMIME reads a message a client wants to create. The bytes are kept
// as they are; the parse only fills the fields the JSON shapes show.
func parseMIME(raw []byte) (*message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read MIME header: %w", err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	m := &message{raw: raw, messageID: h.Get("Message-ID"), importance: "normal"}
	if m.subject, err = dec.DecodeHeader(h.Get("Subject")); err != nil {
		m.subject = h.Get("Subject")
	}
	if l, err := h.AddressList("From"); err == nil && len(l) > 0 {
		m.from = *l[0]
	}
	for _, f := range []struct {
		name string
		dst  *[]mail.Address
	}{{"To", &m.to}, {"Cc", &m.cc}} {
		if l, err := h.AddressList(f.name); err == nil {
			for _, a := range l {
				*f.dst = append(*f.dst, *a)
			}
		}
	}
	if d, err := h.Date(); err == nil {
		m.date = d.UTC()
	}
	if strings.EqualFold(h.Get("Importance"), "high") {
		m.importance = "high"
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(decodeCTE(msg.Body, h.Get("Content-Transfer-Encoding")))
		m.body = string(b)
		return m, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read MIME part %d: %w", i, err)
		}
		data, err := io.ReadAll(decodeCTE(p, p.Header.Get("Content-Transfer-Encoding")))
		if err != nil {
			return nil, fmt.Errorf("decode MIME part %d: %w", i, err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if name := p.FileName(); name != "" || (ct != "text/plain" && ct != "text/html") {
			if name == "" {
				name = fmt.Sprintf("part%d", i)
			}
			if ct == "" {
				ct = "application/octet-stream"
			}
			m.attachments = append(m.attachments, &attachment{
				name: name, contentType: ct, size: len(data), data: data,
				inline: strings.HasPrefix(p.Header.Get("Content-Disposition"), "inline"),
			})
			continue
		}
		if m.body == "" {
			m.body = string(data)
		}
	}
	return m, nil
}

func decodeCTE(r io.Reader, cte string) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripCRLF{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// stripCRLF drops line breaks so base64 lines decode as one stream.
type stripCRLF struct{ r io.Reader }

func (s *stripCRLF) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
