package export

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// mboxrdMessage is one message read back from an mboxrd file.
type mboxrdMessage struct {
	sender string
	date   time.Time
	body   string
}

// readMboxrd splits an mboxrd file by the format's rules, independently of
// the writer: a message starts at a line beginning with "From " (which,
// because such lines in bodies are quoted, only separators do), runs to the
// next one, loses the blank line that ends it, and has one '>' taken off
// every line matching ^>+From .
func readMboxrd(t *testing.T, data string) []mboxrdMessage {
	t.Helper()
	if data == "" {
		return nil
	}
	if !strings.HasPrefix(data, "From ") {
		t.Fatalf("mbox does not start with a From line: %q", data[:min(40, len(data))])
	}
	if !strings.HasSuffix(data, "\n\n") {
		t.Fatalf("mbox does not end with a blank line")
	}
	var msgs []mboxrdMessage
	var cur *mboxrdMessage
	var body []string
	finish := func() {
		if cur == nil {
			return
		}
		if len(body) == 0 || body[len(body)-1] != "" {
			t.Fatalf("message from %s not followed by a blank line", cur.sender)
		}
		body = body[:len(body)-1]
		cur.body = strings.Join(body, "\n") + "\n"
		msgs = append(msgs, *cur)
	}
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	for _, line := range lines {
		if strings.HasPrefix(line, "From ") {
			finish()
			fields := strings.SplitN(line[len("From "):], " ", 2)
			if len(fields) != 2 {
				t.Fatalf("bad separator %q", line)
			}
			d, err := time.Parse(time.ANSIC, fields[1])
			if err != nil {
				t.Fatalf("separator date %q: %v", fields[1], err)
			}
			cur = &mboxrdMessage{sender: fields[0], date: d}
			body = nil
			continue
		}
		if q := strings.TrimLeft(line, ">"); len(q) < len(line) && strings.HasPrefix(q, "From ") {
			line = line[1:]
		}
		body = append(body, line)
	}
	finish()
	return msgs
}

func TestMboxRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	mb := NewMbox(&buf)
	base := time.Date(2024, 3, 4, 9, 5, 7, 0, time.FixedZone("CET", 3600))
	senders := []string{"alice@contoso.test", "Carol Example <carol@contoso.test>", "", "dave @contoso.test"}
	wantSenders := []string{"alice@contoso.test", "carol@contoso.test", "MAILER-DAEMON", "dave@contoso.test"}
	for i, tc := range testMessages {
		if err := mb.Add([]byte(tc.raw), senders[i], base.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mb.Add([]byte(testMessages[0].raw), "x", base); err == nil {
		t.Error("Add after Close succeeded")
	}
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Error("mbox has CR characters; want LF line endings")
	}
	for _, quoted := range []string{"\n>From here on\n", "\n>>From a quote\n", "\n>>>From deeper\n", "\n>>>>From \n", "\n>From the legal team\n"} {
		if !strings.Contains(out, quoted) {
			t.Errorf("mbox lacks quoted line %q", quoted)
		}
	}
	for _, plain := range []string{"\nFrom\n", "\nFromage\n", "\n From indented\n"} {
		if !strings.Contains(out, plain) {
			t.Errorf("mbox changed a line that needs no quoting: %q", plain)
		}
	}

	msgs := readMboxrd(t, out)
	if len(msgs) != len(testMessages) {
		t.Fatalf("read %d messages, want %d", len(msgs), len(testMessages))
	}
	for i, tc := range testMessages {
		t.Run(tc.name, func(t *testing.T) {
			m := msgs[i]
			if m.sender != wantSenders[i] {
				t.Errorf("sender %q, want %q", m.sender, wantSenders[i])
			}
			if want := base.Add(time.Duration(i) * time.Hour).UTC(); !m.date.Equal(want) {
				t.Errorf("date %v, want %v", m.date, want)
			}
			if m.body != lf(tc.raw) {
				t.Errorf("body after unquoting differs:\n got %q\nwant %q", m.body, lf(tc.raw))
			}
			pm := parseMIME(t, []byte(m.body))
			if pm.subject != tc.subject || pm.from != tc.from {
				t.Errorf("parsed subject %q from %q", pm.subject, pm.from)
			}
			if len(pm.texts) == 0 || !strings.Contains(pm.texts[0], tc.text) {
				t.Errorf("text parts %q lack %q", pm.texts, tc.text)
			}
			if tc.file != "" && string(pm.files[tc.file]) != tc.content {
				t.Errorf("attachment %q = %q, want %q", tc.file, pm.files[tc.file], tc.content)
			}
		})
	}
}

func TestMboxEmpty(t *testing.T) {
	var buf bytes.Buffer
	mb := NewMbox(&buf)
	if err := mb.Add(nil, "a@b", time.Now()); err == nil {
		t.Error("empty message accepted")
	}
	if err := mb.Close(); err != nil || buf.Len() != 0 {
		t.Errorf("empty mbox: err %v, %d bytes", err, buf.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMboxWriteError(t *testing.T) {
	mb := NewMbox(failWriter{})
	big := []byte("Subject: x\r\n\r\n" + strings.Repeat("y", 10000) + "\r\n")
	err := mb.Add(big, "a@b", time.Now())
	if err == nil {
		err = mb.Close()
	}
	if err == nil {
		t.Fatal("write error not reported")
	}
}
