package tenantsim

import (
	"bytes"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"time"
)

// LargeMail describes what the large-mail scenario delivers: a message
// of about 35 MB whose largest attachment is 30 MiB, and one with an
// attachment of 140 MB. Both are bigger than the 4 MB a Graph request
// may carry, so restoring them needs attachment upload sessions.
var LargeMail = []LargeMessage{
	{Subject: "Quartalszahlen – Anhänge", Attachments: []LargeAttachment{
		{Name: "logo.png", ContentType: "image/png", Size: 200 << 10, Inline: true},
		{Name: "Übersicht.pdf", ContentType: "application/pdf", Size: 1 << 20},
		{Name: "Archiv 2026.zip", ContentType: "application/zip", Size: 30 << 20},
		{Name: "Präsentation.pptx", ContentType: "application/vnd.openxmlformats-officedocument.presentationml.presentation", Size: 4 << 20},
	}},
	{Subject: "Aufzeichnung der Schulung", Attachments: []LargeAttachment{
		{Name: "Schulung.mp4", ContentType: "video/mp4", Size: 140_000_000},
	}},
}

// LargeMessage is one message of LargeMail.
type LargeMessage struct {
	Subject     string
	Attachments []LargeAttachment
}

// LargeAttachment is one attachment of a LargeMessage; an inline one is
// referred to from the HTML body by its Content-ID.
type LargeAttachment struct {
	Name        string
	ContentType string
	Size        int
	Inline      bool
}

// largeMail delivers LargeMail into u's folder (default Inbox), making
// the folder below the mailbox's root when it is missing. The messages
// arrive as MIME, as mail delivery hands them over: no request limit
// applies. The caller holds s.mu.
func (s *Sim) largeMail(u *user, folder string, res *ScenarioResult) error {
	c := u.findFolder(firstNonEmpty(folder, "Inbox"))
	if c == nil {
		c = &collection{id: itemID("AAMkF", s.cfg.Seed, u.id, "large", s.nextSeq()), parentID: u.mailRoot.id, name: folder, kind: kindMessage}
		s.addCollection(u, c)
	}
	for i, lm := range LargeMail {
		seq := s.nextSeq()
		id := itemID("AAMkAGI", s.cfg.Seed, u.id, "large", seq)
		raw := s.largeMIME(u, id, lm, s.logicalNow(seq))
		msg, err := parseMIME(raw)
		if err != nil {
			return fmt.Errorf("scenario large-mail: message %d: %w", i, err)
		}
		for n, a := range msg.attachments {
			a.id = itemID("AAMkAtt", id, n)
		}
		it := &item{id: id, kind: kindMessage, msg: msg, created: s.logicalNow(seq), modified: s.logicalNow(seq)}
		s.addItem(c, it)
		res.ItemsCreated++
		res.IDs = append(res.IDs, id)
	}
	return nil
}

// largeMIME renders lm for u as a sender's mail client would: a text and
// an HTML body as multipart/alternative, then the attachments in base64,
// inline ones with a Content-ID the HTML refers to. Attachment bytes are
// a function of the seed, the message and the attachment's name.
func (s *Sim) largeMIME(u *user, id string, lm LargeMessage, date time.Time) []byte {
	var buf bytes.Buffer
	hdr := func(k, v string) { buf.WriteString(k + ": " + v + crlf) }
	boundary := "----=_Large_" + shortHash(id, 0)
	hdr("From", `"Ana Müller" <ana.mueller@fabrikam.example>`)
	to := mailAddress(u)
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", lm.Subject))
	hdr("Date", date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+shortHash(id, 1)+"@fabrikam.example>")
	hdr("References", "<"+shortHash(id, 2)+"@fabrikam.example>")
	hdr("X-Mailer", "Strongroom tenant simulator")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	buf.WriteString(crlf + "This is a multi-part message in MIME format." + crlf)
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary(boundary)
	alt := "----=_Alt_" + shortHash(id, 3)
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + alt + `"`}})
	var body bytes.Buffer
	aw := multipart.NewWriter(&body)
	_ = aw.SetBoundary(alt)
	text := "Hallo,\n\nanbei die Unterlagen (" + lm.Subject + ").\n\nGrüße\nAna"
	tw, _ := aw.CreatePart(textproto.MIMEHeader{"Content-Type": {`text/plain; charset="utf-8"`}, "Content-Transfer-Encoding": {"quoted-printable"}})
	var qp bytes.Buffer
	writeQP(&qp, text)
	_, _ = tw.Write(qp.Bytes())
	html := "<html><body><p>" + strings.ReplaceAll(text, "\n", "<br>") + "</p>"
	for _, a := range lm.Attachments {
		if a.Inline {
			html += `<img src="cid:` + a.Name + "@" + shortHash(id, 4) + `">`
		}
	}
	hw, _ := aw.CreatePart(textproto.MIMEHeader{"Content-Type": {`text/html; charset="utf-8"`}, "Content-Transfer-Encoding": {"quoted-printable"}})
	qp.Reset()
	writeQP(&qp, html+"</body></html>")
	_, _ = hw.Write(qp.Bytes())
	_ = aw.Close()
	_, _ = pw.Write(body.Bytes())
	for _, la := range lm.Attachments {
		a := &attachment{name: la.Name, contentType: la.ContentType, size: la.Size, seed: seedOf(id, la.Name), inline: la.Inline}
		disp := "attachment"
		h := textproto.MIMEHeader{"Content-Type": {mime.FormatMediaType(a.contentType, map[string]string{"name": a.name})}, "Content-Transfer-Encoding": {"base64"}}
		if a.inline {
			disp = "inline"
			h.Set("Content-ID", "<"+a.name+"@"+shortHash(id, 4)+">")
		}
		h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.name}))
		pw, _ := mw.CreatePart(h)
		writeBase64Lines(pw, a.content())
	}
	_ = mw.Close()
	return buf.Bytes()
}
