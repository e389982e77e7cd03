package pst

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// recipient is one row of a message's recipient table.
type recipient struct {
	Address
	kind int32 // 1 to, 2 cc, 3 bcc
}

// item is what every kind of item has in common when it is written.
type item struct {
	class       string
	ps          props
	recipients  []recipient
	attachments []Attachment
	read        bool
	modified    time.Time
	importance  int32 // 0 low, 1 normal, 2 high
}

// AddMessage writes an e-mail message into folder f.
func (w *Writer) AddMessage(f Folder, m *Message) error {
	var ps props
	ps.str(0x0037001F, m.Subject)
	ps.str(0x0070001F, m.Subject)      // PidTagConversationTopic
	ps.str(0x0C1A001F, m.From.Name)    // PidTagSenderName
	ps.str(0x0C1E001F, smtp(m.From))   // PidTagSenderAddressType
	ps.str(0x0C1F001F, m.From.Address) // PidTagSenderEmailAddress
	ps.str(0x5D01001F, m.From.Address) // PidTagSenderSmtpAddress
	ps.str(0x0042001F, m.From.Name)    // PidTagSentRepresentingName
	ps.str(0x0064001F, smtp(m.From))   // PidTagSentRepresentingAddressType
	ps.str(0x0065001F, m.From.Address) // PidTagSentRepresentingEmailAddress
	ps.str(0x5D02001F, m.From.Address) // PidTagSentRepresentingSmtpAddress
	ps.time(0x00390040, m.Sent)
	received := m.Received
	if received.IsZero() {
		received = m.Sent
	}
	ps.time(0x0E060040, received)
	ps.str(0x1035001F, m.MessageID)
	ps.str(0x1042001F, m.InReplyTo)
	ps.str(0x1039001F, m.References)
	prefix, normalized := splitSubject(m.Subject)
	ps.str(0x003D001F, prefix)     // PidTagSubjectPrefix
	ps.str(0x0E1D001F, normalized) // PidTagNormalizedSubject
	ps.str(0x007D001F, m.Headers)
	ps.str(0x1000001F, m.Body)
	ps.bin(0x10130102, m.HTML)
	ps.long(0x3FDE0003, 65001) // PidTagInternetCodepage: UTF-8
	ps.str(0x0E04001F, displayList(m.To))
	ps.str(0x0E03001F, displayList(m.Cc))
	ps.str(0x0E02001F, displayList(m.Bcc))
	var rs []recipient
	for kind, list := range [][]Address{m.To, m.Cc, m.Bcc} {
		for _, a := range list {
			rs = append(rs, recipient{a, int32(kind + 1)})
		}
	}
	key := sha256.Sum256([]byte(m.MessageID + m.Subject + m.Sent.String()))
	ps.bin(0x300B0102, key[:16]) // PidTagSearchKey
	return w.addItem(f, &item{class: "IPM.Note", ps: ps, recipients: rs, attachments: m.Attachments,
		read: m.Read, modified: received, importance: int32(max(-1, min(1, m.Priority)) + 1)})
}

// splitSubject splits a subject into the prefix Outlook keeps apart ("RE: ",
// "AW: ": one to three letters, a colon and a space) and the rest.
func splitSubject(s string) (prefix, normalized string) {
	head, rest, ok := strings.Cut(s, ": ")
	if !ok || len([]rune(head)) > 3 || head == "" {
		return "", s
	}
	for _, r := range head {
		if !unicode.IsLetter(r) {
			return "", s
		}
	}
	return head + ": ", rest
}

func smtp(a Address) string {
	if a.Address == "" {
		return ""
	}
	return "SMTP"
}

// displayList is the "; "-separated names of a recipient list, as
// PidTagDisplayTo and its kin hold them.
func displayList(as []Address) string {
	names := make([]string, 0, len(as))
	for _, a := range as {
		n := a.Name
		if n == "" {
			n = a.Address
		}
		names = append(names, n)
	}
	return strings.Join(names, "; ")
}

// AddContact writes a contact into folder f.
func (w *Writer) AddContact(f Folder, c *Contact) error {
	var ps props
	ps.str(0x0037001F, c.DisplayName)
	ps.str(0x3001001F, c.DisplayName)
	ps.str(0x3A06001F, c.GivenName)
	ps.str(0x3A44001F, c.MiddleName)
	ps.str(0x3A11001F, c.Surname)
	ps.str(0x3A4F001F, c.Nickname)
	ps.str(0x3A16001F, c.Company)
	ps.str(0x3A18001F, c.Department)
	ps.str(0x3A17001F, c.JobTitle)
	ps.str(0x3A1C001F, c.MobilePhone)
	ps.str(0x1000001F, c.Notes)
	ps.time(0x3A420040, c.Birthday)
	ps.str(namedTag(0x8005), c.DisplayName)
	for i, tel := range c.BusinessPhones {
		ps.str([]uint32{0x3A08001F, 0x3A1B001F}[min(i, 1)], tel)
		if i == 1 {
			break
		}
	}
	for i, tel := range c.HomePhones {
		ps.str([]uint32{0x3A09001F, 0x3A2F001F}[min(i, 1)], tel)
		if i == 1 {
			break
		}
	}
	ps.str(0x3A29001F, c.BusinessAddress) // PidTagBusinessAddressStreet... as one text
	ps.str(0x3A5D001F, c.HomeAddress)
	for i, lid := range []uint32{0x8083, 0x8093, 0x80A3} {
		if i < len(c.Emails) {
			ps.str(namedTag(lid), c.Emails[i])
		}
	}
	if len(c.Emails) > 0 {
		ps.str(namedTag(0x8080), c.DisplayName)
		ps.str(namedTag(0x8082), "SMTP")
		ps.str(namedTag(0x8084), c.Emails[0])
	}
	return w.addItem(f, &item{class: "IPM.Contact", ps: ps, read: true, modified: c.Modified, importance: 1})
}

// AddAppointment writes a calendar item into folder f.
func (w *Writer) AddAppointment(f Folder, a *Appointment) error {
	var ps props
	ps.str(0x0037001F, a.Subject)
	ps.str(0x1000001F, a.Body)
	ps.time(namedTag(0x820D), a.Start)
	ps.time(namedTag(0x820E), a.End)
	ps.time(namedTag(0x8516), a.Start)
	ps.time(namedTag(0x8517), a.End)
	ps.time(0x00600040, a.Start) // PidTagStartDate
	ps.time(0x00610040, a.End)   // PidTagEndDate
	ps.str(namedTag(0x8208), a.Location)
	ps.long(namedTag(0x8205), a.BusyStatus)
	ps.boolean(namedTag(0x8215), a.AllDay)
	ps.long(namedTag(0x8213), int32(a.End.Sub(a.Start)/time.Minute))
	ps.str(0x0042001F, a.Organizer.Name)
	ps.str(0x0065001F, a.Organizer.Address)
	ps.str(0x0C1A001F, a.Organizer.Name)
	ps.str(0x0C1F001F, a.Organizer.Address)
	var rs []recipient
	for _, at := range a.Attendees {
		rs = append(rs, recipient{at, 1})
	}
	ps.str(0x0E04001F, displayList(a.Attendees))
	return w.addItem(f, &item{class: "IPM.Appointment", ps: ps, recipients: rs, read: true, modified: a.Modified, importance: 1})
}

// addItem writes an item's node with its recipient and attachment tables
// and attachments as subnodes, and adds its row to the folder.
func (w *Writer) addItem(f Folder, it *item) error {
	if w.closed {
		return ErrClosed
	}
	w.start()
	fo := w.folders[uint32(f)]
	if fo == nil || f == nidRootFolder {
		return fmt.Errorf("pst: add item: unknown folder %#x", uint32(f))
	}
	nid := w.newNID(typeMessage)
	b := &nodeBuilder{n: w.n}
	size := int32(0)
	for _, p := range it.ps {
		size += int32(len(p.val))
	}
	b.recipientTable(it.recipients)
	if len(it.attachments) > 0 {
		size += b.attachments(it.attachments)
	}
	flags := int32(0)
	if it.read {
		flags |= 0x01
	}
	if len(it.attachments) > 0 {
		flags |= 0x10
	}
	ps := append(props(nil), it.ps...)
	ps.str(0x001A001F, it.class)
	ps.long(0x0E070003, flags)
	ps.long(0x0E080003, size)
	ps.long(0x0E170003, 0)
	ps.long(0x00170003, it.importance)
	ps.long(0x00360003, 0) // sensitivity normal
	ps.boolean(0x0E1B000B, len(it.attachments) > 0)
	ps.time(0x30070040, it.modified)
	ps.time(0x30080040, it.modified)
	data := w.n.dataTree(b.propContext(ps))
	w.n.node(nid, data, w.n.subTree(b.subs), uint32(f))
	var vals props
	for _, c := range contentsColumns {
		if v := ps.get(c); v != nil {
			vals = append(vals, prop{c, v})
		}
	}
	fo.contents = append(fo.contents, row{id: nid, vals: vals})
	fo.count++
	if !it.read {
		fo.unread++
	}
	w.items++
	return w.n.err
}

// recipientTable adds the recipient table subnode.
func (b *nodeBuilder) recipientTable(rs []recipient) {
	rows := make([]row, len(rs))
	for i, r := range rs {
		var vals props
		vals.long(0x0C150003, r.kind)
		vals.long(0x0FFE0003, 6) // MAPI_MAILUSER
		name := r.Name
		if name == "" {
			name = r.Address.Address
		}
		vals.str(0x3001001F, name)
		vals.str(0x3002001F, smtp(r.Address))
		vals.str(0x3003001F, r.Address.Address)
		vals.long(0x39000003, 0) // DT_MAILUSER
		vals.str(0x39FE001F, r.Address.Address)
		vals.str(0x5FF6001F, name)
		rows[i] = row{id: uint32(i), vals: vals}
	}
	sub := &nodeBuilder{n: b.n}
	data := b.n.dataTree(sub.tableContext(recipientColumns, rows))
	b.subs = append(b.subs, subnode{nid: nidRecipTable, data: data, sub: b.n.subTree(sub.subs)})
}

// attachments adds the attachment table and one subnode per attachment,
// and returns the bytes they hold.
func (b *nodeBuilder) attachments(as []Attachment) int32 {
	var rows []row
	total := int32(0)
	for i, a := range as {
		nid := uint32(0x400+i)<<5 | typeAttachment
		var ps props
		ps.long(0x0E200003, int32(len(a.Data)))
		ps.str(0x3001001F, a.Name)
		ps.str(0x3704001F, a.Name)
		ps.str(0x3707001F, a.Name)
		ps.long(0x37050003, 1) // ATTACH_BY_VALUE
		ps.long(0x370B0003, -1)
		ps.str(0x370E001F, a.MIMEType)
		ps.str(0x3712001F, a.ContentID)
		if a.Inline {
			ps.long(0x37140003, 4) // ATT_MHTML_REF
			ps.boolean(0x7FFE000B, true)
		}
		ps = append(ps, prop{0x37010102, a.Data})
		sub := &nodeBuilder{n: b.n}
		data := b.n.dataTree(sub.propContext(ps))
		b.subs = append(b.subs, subnode{nid: nid, data: data, sub: b.n.subTree(sub.subs)})
		var vals props
		for _, c := range attachmentColumns {
			if v := ps.get(c); v != nil {
				vals = append(vals, prop{c, v})
			}
		}
		rows = append(rows, row{id: nid, vals: vals})
		total += int32(len(a.Data))
	}
	sub := &nodeBuilder{n: b.n}
	data := b.n.dataTree(sub.tableContext(attachmentColumns, rows))
	b.subs = append(b.subs, subnode{nid: nidAttachTable, data: data, sub: b.n.subTree(sub.subs)})
	return total
}
