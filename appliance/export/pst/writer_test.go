package pst_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/export/pst"
	"github.com/strongroom/strongroom/appliance/export/pst/psttest"
)

// sample is what a test writes into a PST, by folder path.
type sample struct {
	messages     map[string][]*pst.Message
	contacts     map[string][]*pst.Contact
	appointments map[string][]*pst.Appointment
	order        []string // folder paths, parents first
}

func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// richSample has nested folders, a contents table too large for its heap,
// a body larger than a heap allocation, attachments of every size class
// up to one that needs an XXBLOCK and a file past the first FMap (32 MB),
// contacts and appointments.
func richSample() *sample {
	s := &sample{messages: map[string][]*pst.Message{}, contacts: map[string][]*pst.Contact{},
		appointments: map[string][]*pst.Appointment{},
		order:        []string{"Inbox", "Inbox/Signed Contracts", "Sent Items", "Contacts", "Calendar"}}
	when := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	for i := range 60 {
		m := &pst.Message{Subject: fmt.Sprintf("Quarterly report %d – Grüße", i),
			From: pst.Address{Name: "Erin Legal", Address: "erin@contoso.test"},
			To:   []pst.Address{{Name: "Alice", Address: "alice@contoso.test"}},
			Cc:   []pst.Address{{Address: "bob@contoso.test"}},
			Sent: when.Add(time.Duration(i) * time.Hour), MessageID: fmt.Sprintf("<%d@contoso.test>", i),
			Body: fmt.Sprintf("Hello Alice,\r\nnumber %d.\r\n", i), HTML: []byte(fmt.Sprintf("<p>Hello <b>Alice</b> %d</p>", i)),
			Read: i%2 == 0}
		s.messages["Inbox"] = append(s.messages["Inbox"], m)
	}
	long := strings.Repeat("A long body line that goes on and on. ", 400)
	s.messages["Inbox/Signed Contracts"] = []*pst.Message{
		{Subject: "Signed contract", From: pst.Address{Name: "Erin", Address: "erin@contoso.test"}, Sent: when,
			Body: long, Attachments: []pst.Attachment{
				{Name: "contract.pdf", MIMEType: "application/pdf", Data: noise(1, 200_000)},
				{Name: "small.txt", MIMEType: "text/plain", Data: []byte("tiny")},
				{Name: "logo.png", MIMEType: "image/png", ContentID: "logo1", Inline: true, Data: noise(2, 3000)},
			}},
		{Subject: "Large scans", From: pst.Address{Address: "scanner@contoso.test"}, Sent: when,
			Body: "see attached", Attachments: []pst.Attachment{{Name: "scan.tiff", Data: noise(3, 9_000_000)}}},
		{Subject: "Archive", From: pst.Address{Address: "backup@contoso.test"}, Sent: when,
			Body: "the archive", Attachments: []pst.Attachment{{Name: "archive.zip", Data: noise(4, 25_000_000)}}},
	}
	s.messages["Sent Items"] = []*pst.Message{{Subject: "Re: lunch", From: pst.Address{Address: "alice@contoso.test"},
		To: []pst.Address{{Address: "bob@contoso.test"}}, Sent: when, Body: "Sure.", Read: true, Priority: 1}}
	// 400 attachments need an SIBLOCK over two SLBLOCKs and put the
	// attachment table's rows in a subnode.
	many := &pst.Message{Subject: "Many receipts", From: pst.Address{Address: "shop@contoso.test"}, Sent: when, Body: "all of them"}
	for i := range 400 {
		many.Attachments = append(many.Attachments, pst.Attachment{Name: fmt.Sprintf("receipt-%03d.txt", i), Data: noise(uint64(100+i), 40+i)})
	}
	s.messages["Sent Items"] = append(s.messages["Sent Items"], many)
	// 500 rows need a row index of two levels; the node B-tree gets three.
	for i := range 345 {
		s.messages["Bulk"] = append(s.messages["Bulk"], &pst.Message{Subject: fmt.Sprintf("Newsletter %d", i),
			From: pst.Address{Address: "news@fabrikam.test"}, Sent: when, Body: fmt.Sprintf("issue %d", i)})
	}
	s.order = append(s.order, "Bulk")
	s.contacts["Contacts"] = []*pst.Contact{
		{DisplayName: "Carol Jones", GivenName: "Carol", Surname: "Jones", Company: "Contoso", Emails: []string{"carol@contoso.test"},
			MobilePhone: "+41 79 000 00 00"},
		{DisplayName: "Dragan Petrović", GivenName: "Dragan", Surname: "Petrović", Emails: []string{"dragan@fabrikam.test", "d@home.test"}},
	}
	s.appointments["Calendar"] = []*pst.Appointment{
		{Subject: "Board meeting", Location: "Room 4", Start: when, End: when.Add(90 * time.Minute), Body: "Agenda attached", BusyStatus: 2},
		{Subject: "Holiday", Start: when.AddDate(0, 1, 0), End: when.AddDate(0, 1, 1), AllDay: true},
	}
	return s
}

// write writes a sample to a new file and returns its path.
func (s *sample) write(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alice.pst")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pst.NewWriter(f, "alice@contoso.test")
	ids := map[string]pst.Folder{"": w.Root()}
	for _, p := range s.order {
		parent, name := "", p
		if i := strings.LastIndex(p, "/"); i >= 0 {
			parent, name = p[:i], p[i+1:]
		}
		kind := pst.MailFolder
		if len(s.contacts[p]) > 0 {
			kind = pst.ContactFolder
		} else if len(s.appointments[p]) > 0 {
			kind = pst.CalendarFolder
		}
		id, err := w.AddFolder(ids[parent], name, kind)
		if err != nil {
			t.Fatal(err)
		}
		ids[p] = id
		for _, m := range s.messages[p] {
			if err := w.AddMessage(id, m); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range s.contacts[p] {
			if err := w.AddContact(id, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range s.appointments[p] {
			if err := w.AddAppointment(id, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func (s *sample) count() int {
	n := 0
	for _, p := range s.order {
		n += len(s.messages[p]) + len(s.contacts[p]) + len(s.appointments[p])
	}
	return n
}

// libpstMaxAttachments is the most attachments readpst extracts from one
// message: 340 subnodes in one SLBLOCK, less the recipient and
// attachment tables.
const libpstMaxAttachments = 338

func normalize(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// checkMessages compares the messages a reader found in one folder with
// those written: subject, plain and HTML bodies, attachments byte for
// byte.
func checkMessages(t *testing.T, reader, folder string, got []psttest.Item, want []*pst.Message) {
	t.Helper()
	bySubject := map[string]psttest.Item{}
	for _, it := range got {
		if it.Kind == "message" {
			bySubject[it.Subject] = it
		}
	}
	for _, m := range want {
		it, ok := bySubject[m.Subject]
		if !ok {
			t.Errorf("%s: %s: no message with subject %q", reader, folder, m.Subject)
			continue
		}
		if normalize(it.Text) != normalize(m.Body) {
			t.Errorf("%s: %s: %q: body %.80q, want %.80q", reader, folder, m.Subject, it.Text, m.Body)
		}
		if m.HTML != nil && normalize(it.HTML) != normalize(string(m.HTML)) {
			t.Errorf("%s: %s: %q: HTML %q, want %q", reader, folder, m.Subject, it.HTML, m.HTML)
		}
		if reader == "readpst" && len(m.Attachments) > libpstMaxAttachments {
			// libpst reads only one SLBLOCK of subnodes: it refuses the
			// SIBLOCK ([MS-PST] 2.2.2.8.3.3.2) that a message with more
			// subnodes than one SLBLOCK holds needs. pffexport reads it.
			continue
		}
		if len(it.Attachments) != len(m.Attachments) {
			t.Errorf("%s: %s: %q: %d attachments, want %d", reader, folder, m.Subject, len(it.Attachments), len(m.Attachments))
		}
		for _, a := range m.Attachments {
			if b, ok := it.Attachments[a.Name]; !ok || !bytes.Equal(b, a.Data) {
				t.Errorf("%s: %s: %q: attachment %s differs (%d bytes read, %d written)", reader, folder, m.Subject, a.Name, len(b), len(a.Data))
			}
		}
	}
}

func folders(s psttest.Store) []string {
	var out []string
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestWriterReadpst guards that libpst's readpst extracts every item of
// a written file with its content.
func TestWriterReadpst(t *testing.T) {
	s := richSample()
	got := psttest.Readpst(t, s.write(t))
	if got.Count() != s.count() {
		t.Fatalf("readpst found %d items in %v, want %d", got.Count(), folders(got), s.count())
	}
	for folder, want := range s.messages {
		checkMessages(t, "readpst", folder, got[folder], want)
	}
	cards := ""
	for _, it := range got["Contacts"] {
		cards += it.Card
	}
	for _, c := range s.contacts["Contacts"] {
		for _, want := range []string{"FN:" + c.DisplayName, "EMAIL:" + c.Emails[0], "N:" + c.Surname + ";" + c.GivenName} {
			if !strings.Contains(cards, want) {
				t.Errorf("readpst: no %q in the vCards:\n%s", want, cards)
			}
		}
	}
	events := ""
	for _, it := range got["Calendar"] {
		events += it.Event
	}
	for _, want := range []string{"SUMMARY:Board meeting", "DTSTART;VALUE=DATE-TIME:20260304T090000Z",
		"DTEND;VALUE=DATE-TIME:20260304T103000Z", "LOCATION:Room 4", "SUMMARY:Holiday", "DESCRIPTION:Agenda attached"} {
		if !strings.Contains(events, want) {
			t.Errorf("readpst: no %q in the calendar:\n%s", want, events)
		}
	}
}

// TestWriterPffexport guards that libpff, a second independent reader,
// agrees: every folder, item, body and attachment, contacts' and
// appointments' named properties.
func TestWriterPffexport(t *testing.T) {
	s := richSample()
	got := psttest.Pffexport(t, s.write(t))
	if got.Count() != s.count() {
		t.Fatalf("pffexport found %d items in %v, want %d", got.Count(), folders(got), s.count())
	}
	for folder, want := range s.messages {
		checkMessages(t, "pffexport", folder, got[folder], want)
	}
	for _, it := range got["Sent Items"] {
		if it.Subject == "Re: lunch" && !strings.Contains(it.Details, "Importance:\t\t\t\tHigh") {
			t.Errorf("pffexport: Re: lunch is not of high importance:\n%s", it.Details)
		}
	}
	details := ""
	for _, f := range []string{"Contacts", "Calendar"} {
		for _, it := range got[f] {
			details += it.Details
		}
	}
	for _, want := range []string{"Email address 1:\t\t\tcarol@contoso.test", "Email address 2:\t\t\td@home.test",
		"Surname:\t\t\t\tPetrović", "Subject:\t\t\t\tBoard meeting", "Location:\t\t\t\tRoom 4",
		"Start time:\t\t\t\tMar 04, 2026 09:00:00", "Duration:\t\t\t\t90 minutes"} {
		if !strings.Contains(details, want) {
			t.Errorf("pffexport: no %q in:\n%s", want, details)
		}
	}
}

// TestWriterFolderNames guards Outlook's rule of one name per parent: the
// same folder comes back for the same name and kind (the mailbox's
// "Deleted Items" is the store's own), another kind gets "name (2)", and
// readpst finds each item where it was put.
func TestWriterFolderNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "names.pst")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pst.NewWriter(f, "names")
	add := func(name string, kind pst.FolderKind) pst.Folder {
		id, err := w.AddFolder(w.Root(), name, kind)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	deleted, again, mail, contacts := add("deleted items", pst.MailFolder), add("Deleted Items", pst.MailFolder),
		add("Contacts", pst.MailFolder), add("Contacts", pst.ContactFolder)
	if deleted != again || mail == contacts {
		t.Fatalf("folders %v %v %v %v: want the first two equal, the last two apart", deleted, again, mail, contacts)
	}
	when := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	w.AddMessage(deleted, &pst.Message{Subject: "gone", Sent: when, Body: "x"})
	w.AddMessage(mail, &pst.Message{Subject: "filed", Sent: when, Body: "y"})
	w.AddContact(contacts, &pst.Contact{DisplayName: "Carol"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := psttest.Readpst(t, path)
	for folder, n := range map[string]int{"Deleted Items": 1, "Contacts": 1, "Contacts (2)": 1} {
		if len(got[folder]) != n {
			t.Errorf("readpst: %s holds %d items, want %d (folders %v)", folder, len(got[folder]), n, folders(got))
		}
	}
	if len(got) != 3 {
		t.Errorf("readpst: folders %v, want Deleted Items, Contacts, Contacts (2)", folders(got))
	}
}
