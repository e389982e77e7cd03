package export

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/export/pst"
)

// TestMessageToPST guards what a PST message takes from MIME: subject
// (decoded), sender, date, Message-ID, the header section, the text body
// and attachments with their decoded bytes.
func TestMessageToPST(t *testing.T) {
	for _, tc := range testMessages {
		t.Run(tc.name, func(t *testing.T) {
			m, err := MessageToPST([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tc.subject || m.From.Address != tc.from {
				t.Errorf("subject %q from %q, want %q from %q", m.Subject, m.From.Address, tc.subject, tc.from)
			}
			if !strings.Contains(m.Body, tc.text) {
				t.Errorf("body %q does not hold %q", m.Body, tc.text)
			}
			if !strings.HasPrefix(tc.raw, m.Headers) || !strings.Contains(m.Headers, "Subject:") || strings.HasSuffix(m.Headers, "\r\n\r\n") {
				t.Errorf("headers %q are not the message's header section", m.Headers)
			}
			if tc.file != "" {
				if len(m.Attachments) != 1 || m.Attachments[0].Name != tc.file || string(m.Attachments[0].Data) != tc.content {
					t.Errorf("attachments %+v, want %s with %q", m.Attachments, tc.file, tc.content)
				}
			} else if len(m.Attachments) != 0 {
				t.Errorf("attachments %+v, want none", m.Attachments)
			}
		})
	}
	m, _ := MessageToPST([]byte(testMessages[0].raw))
	if want := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC); !m.Sent.Equal(want) || m.MessageID != "<1@contoso.test>" {
		t.Errorf("sent %v id %q, want %v and <1@contoso.test>", m.Sent, m.MessageID, want)
	}
}

// TestMessageToPSTParts guards the split of a multipart/alternative with
// an inline image: text and HTML become the bodies, the image an inline
// attachment with its Content-ID.
func TestMessageToPSTParts(t *testing.T) {
	raw := "From: a@contoso.test\r\nTo: B <b@contoso.test>, c@contoso.test\r\nCc: d@contoso.test\r\nSubject: Parts\r\n" +
		"X-Priority: 5 (Lowest)\r\nReferences: <1@contoso.test>\r\n <2@contoso.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n" +
		"--a\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n" +
		"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Gr\xc3\xbc\xc3\x9fe <img src=\"cid:img1\"></p>\r\n--a--\r\n" +
		"--r\r\nContent-Type: image/png; name=dot.png\r\nContent-ID: <img1>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--r--\r\n"
	m, err := MessageToPST([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(m.Body) != "Grüße" || !bytes.Contains(m.HTML, []byte("Grüße")) {
		t.Errorf("body %q HTML %q, want both in UTF-8", m.Body, m.HTML)
	}
	if m.Priority != -1 || m.References != "<1@contoso.test> <2@contoso.test>" {
		t.Errorf("priority %d references %q, want -1 and both IDs", m.Priority, m.References)
	}
	if len(m.To) != 2 || m.To[0].Name != "B" || len(m.Cc) != 1 {
		t.Errorf("to %+v cc %+v", m.To, m.Cc)
	}
	want := pst.Attachment{Name: "dot.png", MIMEType: "image/png", ContentID: "img1", Inline: true, Data: []byte("\x89PNG\r\n")}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != want.Name || m.Attachments[0].ContentID != want.ContentID ||
		!m.Attachments[0].Inline || !bytes.Equal(m.Attachments[0].Data, want.Data) {
		t.Errorf("attachments %+v, want %+v", m.Attachments, want)
	}
}

// TestContactAndEventToPST guards the Graph JSON fields a PST contact and
// appointment carry.
func TestContactAndEventToPST(t *testing.T) {
	c, err := ContactToPST([]byte(`{"displayName":"Carol Jones","givenName":"Carol","surname":"Jones",
		"emailAddresses":[{"address":"carol@contoso.test"},{"address":" "}],"businessPhones":["+41 1"],
		"businessAddress":{"street":"Main 1","city":"Bern","postalCode":"3000","countryOrRegion":"CH"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DisplayName != "Carol Jones" || len(c.Emails) != 1 || c.BusinessAddress != "Main 1\r\n3000 Bern\r\nCH" {
		t.Errorf("contact %+v", c)
	}
	e, err := EventToPST([]byte(`{"subject":"Board","showAs":"tentative","isAllDay":false,
		"start":{"dateTime":"2026-03-04T10:00:00.0000000","timeZone":"W. Europe Standard Time"},
		"end":{"dateTime":"2026-03-04T11:30:00.0000000","timeZone":"W. Europe Standard Time"},
		"body":{"contentType":"html","content":"<p>Agenda</p>"},"location":{"displayName":"Room 4"}}`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	if !e.Start.Equal(start) || !e.End.Equal(start.Add(90*time.Minute)) || e.BusyStatus != 1 || e.Body != "Agenda" || e.Location != "Room 4" {
		t.Errorf("event %+v, want 09:00-10:30 UTC, tentative, body Agenda, Room 4", e)
	}
	if _, err := EventToPST([]byte(`{"subject":"no start"}`)); err == nil {
		t.Error("an event without a start was accepted")
	}
}

// FuzzMessageToPST: any bytes either fail to parse or give a message the
// PST writer takes, without a panic.
func FuzzMessageToPST(f *testing.F) {
	for _, tc := range testMessages {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 1<<16 {
			return
		}
		m, err := MessageToPST(raw)
		if err != nil {
			return
		}
		w := pst.NewWriter(&memFile{}, "fuzz")
		if err := w.AddMessage(w.Root(), m); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// memFile is an in-memory file for the writer.
type memFile struct{ b []byte }

func (m *memFile) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// TestUnreadableToPST guards the fallback for MIME that cannot be read:
// the message keeps the recorded subject and date, says why, and carries
// the original bytes, and the writer takes it.
func TestUnreadableToPST(t *testing.T) {
	raw := []byte("Subject: a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--b--\r\n")
	_, err := MessageToPST(raw)
	if err == nil {
		t.Fatal("broken base64 was read")
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := UnreadableToPST(raw, "Recorded subject", when, err)
	if m.Subject != "Recorded subject" || !m.Sent.Equal(when) || !strings.Contains(m.Body, "illegal base64") ||
		len(m.Attachments) != 1 || !bytes.Equal(m.Attachments[0].Data, raw) {
		t.Errorf("fallback message %+v", m)
	}
	w := pst.NewWriter(&memFile{}, "fallback")
	if err := w.AddMessage(w.Root(), m); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
