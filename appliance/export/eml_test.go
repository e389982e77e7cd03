package export

import (
	"bytes"
	"testing"
)

func TestWriteEML(t *testing.T) {
	for _, tc := range testMessages {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteEML(&buf, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.raw {
				t.Fatalf("EML is not the message verbatim")
			}
			pm := parseMIME(t, buf.Bytes())
			if pm.subject != tc.subject || pm.from != tc.from {
				t.Errorf("parsed subject %q from %q, want %q %q", pm.subject, pm.from, tc.subject, tc.from)
			}
		})
	}
	if err := WriteEML(&bytes.Buffer{}, nil); err == nil {
		t.Error("empty message accepted")
	}
}
