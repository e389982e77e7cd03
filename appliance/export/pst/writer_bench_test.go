package pst_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/export/pst"
)

// BenchmarkWriter measures the writer alone: messages with a 2 KiB text
// body, an HTML body and one attachment of the given size, into a file
// on disk. Creating the file is setup; Close is timed (it writes the
// folder tables, B-trees and maps).
func BenchmarkWriter(b *testing.B) {
	for _, size := range []int{16 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("attachment=%dKiB", size>>10), func(b *testing.B) {
			body := strings.Repeat("Quarterly figures attached. ", 73)
			m := &pst.Message{Subject: "Quarterly report", From: pst.Address{Name: "Erin", Address: "erin@contoso.test"},
				To: []pst.Address{{Address: "alice@contoso.test"}}, Sent: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC),
				Body: body, HTML: []byte("<p>" + body + "</p>"),
				Attachments: []pst.Attachment{{Name: "report.pdf", Data: noise(6, size)}}}
			per := int64(len(m.Body) + len(m.HTML) + size)
			const messages = 200
			b.SetBytes(per * messages)
			for range b.N {
				b.StopTimer()
				f, err := os.Create(filepath.Join(b.TempDir(), "bench.pst"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				w := pst.NewWriter(f, "bench")
				inbox, _ := w.AddFolder(w.Root(), "Inbox", pst.MailFolder)
				for range messages {
					if err := w.AddMessage(inbox, m); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				f.Close()
				b.StartTimer()
			}
		})
	}
}
