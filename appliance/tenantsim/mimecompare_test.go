package tenantsim_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestCompareMIME guards the restore checks' notion of "the same
// message": another boundary and other base64 line lengths are the same
// message; one changed byte of an attachment, a changed header or a
// renamed file are not.
func TestCompareMIME(t *testing.T) {
	data := []byte(strings.Repeat("Anhang mit Inhalt ", 40))
	msg := func(subject, boundary, name string, data []byte, line int) []byte {
		enc := base64.StdEncoding.EncodeToString(data)
		var lines []string
		for len(enc) > line {
			lines, enc = append(lines, enc[:line]), enc[line:]
		}
		lines = append(lines, enc)
		return []byte("Subject: " + subject + "\r\nContent-Type: multipart/mixed; boundary=" + boundary + "\r\n\r\n--" + boundary +
			"\r\nContent-Type: text/plain\r\n\r\nHallo\r\n--" + boundary + "\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=" + name +
			"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + strings.Join(lines, "\r\n") + "\r\n--" + boundary + "--\r\n")
	}
	orig := msg("Vertrag", "b1", "v.pdf", data, 76)
	flipped := append([]byte(nil), data...)
	flipped[100] ^= 1
	cases := []struct {
		name string
		got  []byte
		same bool
	}{
		{name: "other boundary and line length", got: msg("Vertrag", "other", "v.pdf", data, 64), same: true},
		{name: "one attachment byte changed", got: msg("Vertrag", "b1", "v.pdf", flipped, 76)},
		{name: "subject changed", got: msg("Vertrag 2", "b1", "v.pdf", data, 76)},
		{name: "file renamed", got: msg("Vertrag", "b1", "w.pdf", data, 76)},
	}
	for _, c := range cases {
		if err := tenantsim.CompareMIME(orig, c.got); (err == nil) != c.same {
			t.Errorf("%s: CompareMIME says %v, want same=%v", c.name, err, c.same)
		}
	}
}
