package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	_ "github.com/emersion/go-message/charset" // decode text in every charset Go knows
	"github.com/emersion/go-message/mail"

	"github.com/strongroom/strongroom/appliance/export/pst"
)

// MessageToPST reads a MIME message (RFC 5322) into the properties a PST
// message carries: subject, sender and recipients, date, Message-ID,
// In-Reply-To, the header section as Internet headers, the first plain
// text and HTML bodies (decoded to UTF-8) and every other part as an
// attachment with its decoded bytes.
func MessageToPST(raw []byte) (*pst.Message, error) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && mr == nil {
		return nil, fmt.Errorf("export: message: %w", err)
	}
	defer mr.Close()
	h := mr.Header
	m := &pst.Message{Read: true, Headers: headerSection(raw)}
	m.Subject, _ = h.Subject()
	if from, _ := h.AddressList("From"); len(from) > 0 {
		m.From = pst.Address{Name: from[0].Name, Address: from[0].Address}
	}
	m.To, m.Cc, m.Bcc = addresses(h, "To"), addresses(h, "Cc"), addresses(h, "Bcc")
	m.Sent, _ = h.Date()
	m.Received = m.Sent
	m.MessageID = strings.TrimSpace(h.Get("Message-Id"))
	m.InReplyTo = strings.TrimSpace(h.Get("In-Reply-To"))
	m.References = strings.Join(strings.Fields(h.Get("References")), " ")
	m.Priority = priority(h)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("export: message %s: %w", m.MessageID, err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			return nil, fmt.Errorf("export: message %s: part: %w", m.MessageID, err)
		}
		addPart(m, p.Header, body)
	}
	return m, nil
}

// addPart puts one leaf part where it belongs: the first inline text and
// HTML parts become the bodies, everything else an attachment; one with a
// Content-ID and no "attachment" disposition is inline (an HTML body
// shows it).
func addPart(m *pst.Message, h mail.PartHeader, body []byte) {
	hdr := h.(interface {
		ContentType() (string, map[string]string, error)
		Get(string) string
	})
	ct, params, _ := hdr.ContentType()
	var name string
	switch ph := h.(type) {
	case *mail.InlineHeader:
		switch {
		case ct == "text/plain" && m.Body == "" || ct == "" && m.Body == "":
			m.Body = string(body)
			return
		case ct == "text/html" && m.HTML == nil:
			m.HTML = body
			return
		}
		name = params["name"]
	case *mail.AttachmentHeader:
		name, _ = ph.Filename()
	}
	if name == "" {
		name = "part" + extension(ct)
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	cid := strings.Trim(hdr.Get("Content-Id"), "<> ")
	disp, _, _ := mime.ParseMediaType(hdr.Get("Content-Disposition"))
	m.Attachments = append(m.Attachments, pst.Attachment{Name: name, MIMEType: ct, ContentID: cid,
		Inline: cid != "" && disp != "attachment", Data: body})
}

// priority reads Importance (RFC 2156) or, without it, X-Priority: 1 and
// 2 are high, 4 and 5 low.
func priority(h mail.Header) int {
	switch strings.ToLower(strings.TrimSpace(h.Get("Importance"))) {
	case "high":
		return 1
	case "low":
		return -1
	}
	p := strings.TrimSpace(h.Get("X-Priority"))
	switch {
	case strings.HasPrefix(p, "1"), strings.HasPrefix(p, "2"):
		return 1
	case strings.HasPrefix(p, "4"), strings.HasPrefix(p, "5"):
		return -1
	}
	return 0
}

func extension(ct string) string {
	switch {
	case ct == "message/rfc822":
		return ".eml"
	case strings.HasPrefix(ct, "text/"):
		return ".txt"
	}
	return ".bin"
}

func addresses(h mail.Header, key string) []pst.Address {
	list, _ := h.AddressList(key)
	out := make([]pst.Address, 0, len(list))
	for _, a := range list {
		out = append(out, pst.Address{Name: a.Name, Address: a.Address})
	}
	return out
}

// headerSection is the message's header section as it was sent, without
// the blank line that ends it.
func headerSection(raw []byte) string {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(raw, []byte(sep)); i >= 0 {
			return string(raw[:i+len(sep)/2])
		}
	}
	return string(raw)
}

// ContactToPST reads a Microsoft Graph contact (JSON) into a PST contact.
func ContactToPST(graphJSON []byte) (*pst.Contact, error) {
	var c graphContact
	if err := json.Unmarshal(graphJSON, &c); err != nil {
		return nil, fmt.Errorf("export: contact: %w", err)
	}
	out := &pst.Contact{DisplayName: formattedName(&c), GivenName: c.GivenName, MiddleName: c.MiddleName,
		Surname: c.Surname, Nickname: c.NickName, Company: c.CompanyName, Department: c.Department,
		JobTitle: c.JobTitle, BusinessPhones: c.BusinessPhones, HomePhones: c.HomePhones,
		MobilePhone: c.MobilePhone, Notes: c.PersonalNotes,
		BusinessAddress: postal(c.BusinessAddress), HomeAddress: postal(c.HomeAddress)}
	for _, e := range c.EmailAddresses {
		if a := strings.TrimSpace(e.Address); a != "" {
			out.Emails = append(out.Emails, a)
		}
	}
	out.Birthday, _ = time.Parse(time.RFC3339, c.Birthday)
	out.Modified, _ = time.Parse(time.RFC3339, c.LastModifiedDateTime)
	return out, nil
}

// postal writes an address as lines: street, city with state and postal
// code, country.
func postal(a *graphAddress) string {
	if a.empty() {
		return ""
	}
	var lines []string
	for _, l := range []string{a.Street, strings.TrimSpace(strings.Join([]string{a.PostalCode, a.City, a.State}, " ")), a.CountryOrRegion} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\r\n")
}

// EventToPST reads a Microsoft Graph event (JSON) into a PST appointment.
// Times in zones the package cannot identify are taken as UTC.
func EventToPST(graphJSON []byte) (*pst.Appointment, error) {
	var e graphEvent
	if err := json.Unmarshal(graphJSON, &e); err != nil {
		return nil, fmt.Errorf("export: event: %w", err)
	}
	start, end, err := eventTimes(&e)
	if err != nil {
		return nil, fmt.Errorf("export: event %q: %w", e.Subject, err)
	}
	a := &pst.Appointment{Subject: e.Subject, Start: start.t.UTC(), End: end.t.UTC(), AllDay: e.IsAllDay,
		BusyStatus: map[string]int32{"free": 0, "tentative": 1, "busy": 2, "oof": 3, "workingElsewhere": 4}[e.ShowAs]}
	if e.ShowAs == "" {
		a.BusyStatus = 2
	}
	if e.Location != nil {
		a.Location = e.Location.DisplayName
	}
	if e.Body != nil {
		a.Body = e.Body.Content
		if strings.EqualFold(e.Body.ContentType, "html") {
			a.Body = htmlToText(e.Body.Content)
		}
	}
	if e.Organizer != nil {
		a.Organizer = pst.Address{Name: e.Organizer.EmailAddress.Name, Address: e.Organizer.EmailAddress.Address}
	}
	for _, at := range e.Attendees {
		a.Attendees = append(a.Attendees, pst.Address{Name: at.EmailAddress.Name, Address: at.EmailAddress.Address})
	}
	a.Modified, _ = time.Parse(time.RFC3339, e.LastModifiedDateTime)
	return a, nil
}

// UnreadableToPST makes a PST message of MIME that MessageToPST could not
// read (a part with broken base64, a multipart without a boundary): the
// subject and date the backup recorded, a body that says what happened,
// and the original bytes attached as message.eml, so the export loses
// nothing and goes on.
func UnreadableToPST(raw []byte, subject string, date time.Time, cause error) *pst.Message {
	return &pst.Message{Subject: subject, Sent: date, Received: date, Read: true,
		Body:        fmt.Sprintf("Strongroom could not read this message's MIME (%v); the message as it was backed up is attached as message.eml.", cause),
		Attachments: []pst.Attachment{{Name: "message.eml", MIMEType: "message/rfc822", Data: raw}}}
}
