package exchange

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

// b64 is data as base64 lines of 76 characters ending in nl.
func b64(data []byte, nl string) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + nl)
		enc = enc[76:]
	}
	return b.String() + enc + nl
}

// TestSplitLarge guards how a message too large for one request is cut:
// only top-level attachments leave, the largest first and no more than
// needed, every remaining byte is the original's, each part taken out
// decodes to its attachment, and a message with nothing to take out is
// refused.
func TestSplitLarge(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // 4.8 MB
	mid := bytes.Repeat([]byte{7, 8, 9}, 1_000_000)          // 3 MB
	small := []byte("small attachment")
	csv := []byte(strings.Repeat("a;b;c\r\n", 500_000) + strings.Repeat("x", 200_000))
	part := func(nl, name, disp string, data []byte, extra string) string {
		return "--B" + nl + "Content-Type: application/octet-stream; name=\"" + name + "\"" + nl + extra +
			"Content-Disposition: " + disp + "; filename=\"" + name + "\"" + nl + "Content-Transfer-Encoding: base64" + nl + nl + b64(data, nl)
	}
	msg := func(nl string, parts ...string) string {
		return "From: a@b" + nl + "Subject: s" + nl + "Content-Type: multipart/mixed; boundary=\"B\"" + nl + nl + "preamble" + nl +
			"--B" + nl + "Content-Type: text/plain" + nl + nl + "body" + nl + strings.Join(parts, "") + "--B--" + nl + "epilogue" + nl
	}
	cases := []struct {
		name    string
		mime    string
		reduced string
		out     []string // names taken out, in message order
		data    [][]byte
		err     error
	}{
		{name: "one big attachment among small ones",
			mime:    msg("\r\n", part("\r\n", "a.bin", "attachment", small, ""), part("\r\n", "big.bin", "attachment", big, ""), part("\r\n", "c.bin", "attachment", small, "")),
			reduced: msg("\r\n", part("\r\n", "a.bin", "attachment", small, ""), part("\r\n", "c.bin", "attachment", small, "")),
			out:     []string{"big.bin"}, data: [][]byte{big}},
		{name: "two must go, inline keeps its Content-ID, LF line ends",
			mime:    msg("\n", part("\n", "mid.bin", "inline", mid, "Content-ID: <m@x>\n"), part("\n", "big.bin", "attachment", big, "")),
			reduced: msg("\n"),
			out:     []string{"mid.bin", "big.bin"}, data: [][]byte{mid, big}},
		{name: "an unencoded attachment with a line longer than the scanner's buffer",
			mime: msg("\r\n", "--B\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=t.csv\r\n\r\n"+
				string(csv)+"\r\n", part("\r\n", "a.bin", "attachment", small, "")),
			reduced: msg("\r\n", part("\r\n", "a.bin", "attachment", small, "")),
			out:     []string{"t.csv"}, data: [][]byte{csv}},
		{name: "a big body alone", mime: "Subject: s\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat("x", 5<<20), err: errNoParts},
		{name: "a big nested part stays", err: errNoParts,
			mime: "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: multipart/related; boundary=\"C\"\r\n\r\n" +
				"--C\r\n" + strings.TrimPrefix(part("\r\n", "big.bin", "inline", big, ""), "--B\r\n") + "--C--\r\n--B--\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(c.mime)), nil }
			reduced, parts, err := splitLarge(open)
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if c.err != nil {
				return
			}
			if string(reduced) != c.reduced {
				t.Errorf("reduced MIME:\n%q\nwant\n%q", reduced, c.reduced)
			}
			if len(parts) != len(c.out) {
				t.Fatalf("%d parts taken out, want %v", len(parts), c.out)
			}
			for i, p := range parts {
				rc, err := p.content(open)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if p.size < 0 {
					p.size, err = p.count(open)
				}
				if err != nil || p.name != c.out[i] || p.size != int64(len(c.data[i])) || !bytes.Equal(got, c.data[i]) {
					t.Errorf("part %d: %q, %d bytes (read %d, equal %v, %v), want %q", i, p.name, p.size, len(got), bytes.Equal(got, c.data[i]), err, c.out[i])
				}
			}
			if len(parts) == 2 && (!parts[0].inline || parts[0].contentID != "m@x" || parts[0].contentType != "application/octet-stream") {
				t.Errorf("inline part: %+v", parts[0])
			}
		})
	}
}
