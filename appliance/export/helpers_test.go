package export

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
)

// parsedMessage is what go-message makes of a message.
type parsedMessage struct {
	subject string
	from    string
	texts   []string // decoded inline text parts
	files   map[string][]byte
}

// parseMIME parses a message with emersion/go-message and reads every part.
func parseMIME(t *testing.T, raw []byte) parsedMessage {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message: %v\n%s", err, raw)
	}
	defer mr.Close()
	var pm parsedMessage
	pm.files = map[string][]byte{}
	if pm.subject, err = mr.Header.Subject(); err != nil {
		t.Fatalf("subject: %v", err)
	}
	if addrs, err := mr.Header.AddressList("From"); err == nil && len(addrs) > 0 {
		pm.from = addrs[0].Address
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("part body: %v", err)
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			pm.texts = append(pm.texts, string(body))
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			pm.files[name] = body
		}
	}
	return pm
}

// testMessages are MIME messages as Graph's $value returns them (CRLF).
var testMessages = []struct {
	name    string
	raw     string
	subject string
	from    string
	text    string // a substring of the first text part
	file    string // an attachment's name, if any
	content string // and its decoded content
}{
	{
		name:    "plain",
		raw:     "From: Alice <alice@contoso.test>\r\nTo: bob@contoso.test\r\nSubject: Hello\r\nDate: Mon, 04 Mar 2024 09:00:00 +0000\r\nMessage-ID: <1@contoso.test>\r\n\r\nHi Bob,\r\nsee you.\r\n",
		subject: "Hello", from: "alice@contoso.test", text: "see you.",
	},
	{
		name: "from lines in body",
		raw: "From: carol@contoso.test\r\nSubject: Quoting\r\n\r\n" +
			"From here on\r\n>From a quote\r\n>>From deeper\r\nFrom\r\nFromage\r\n From indented\r\n>>>From \r\nend\r\n",
		subject: "Quoting", from: "carol@contoso.test", text: ">>From deeper",
	},
	{
		name:    "no trailing newline",
		raw:     "From: dave@contoso.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\nlast line without newline",
		subject: "Grüße", from: "dave@contoso.test", text: "without newline",
	},
	{
		name: "multipart with attachment",
		raw: "From: erin@contoso.test\r\nSubject: Signed contract\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
			"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find attached.\r\nFrom the legal team\r\n" +
			"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"contract.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			"JVBERi0xLjQKRnJvbSB0aGUgc3RhcnQK\r\n--b1--\r\n",
		subject: "Signed contract", from: "erin@contoso.test", text: "From the legal team",
		file: "contract.pdf", content: "%PDF-1.4\nFrom the start\n",
	},
}

// lf is what a message becomes in mbox and Maildir: CRLF turned into LF and
// a final newline.
func lf(raw string) string {
	s := strings.ReplaceAll(raw, "\r\n", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// physicalLines splits a CRLF content-line stream and checks the rules
// every line must keep: CRLF endings, at most 75 octets, whole UTF-8
// sequences on every line.
func physicalLines(t *testing.T, data []byte) []string {
	t.Helper()
	s := string(data)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("output does not end in CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
		}
	}
	return lines
}

// unfold joins continuation lines (RFC 5545 3.1) into logical lines.
func unfold(lines []string) []string {
	var out []string
	for _, l := range lines {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1] += l[1:]
			continue
		}
		out = append(out, l)
	}
	return out
}
