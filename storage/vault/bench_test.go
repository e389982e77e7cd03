package vault_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/vault"
)

// BenchmarkWriterPut measures the ingest path of one item end to end:
// chunking, chunk IDs, index lookups, compression, encryption into the
// segment, and, as segments fill, erasure coding, shard writes, fsyncs
// and indexing, on a 2+2 vault of four temporary directories (one disk,
// whose speed is part of the figure). Every op stores a new item that
// shares no chunk with the others; creating the vault and the final
// commit are outside the timing.
func BenchmarkWriterPut(b *testing.B) {
	for _, tc := range []struct {
		name string
		size int
		text bool // compressible text; else half random, half text
	}{
		{"item=mail-8KiB", 8 << 10, true},
		{"item=file-2MiB", 2 << 20, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			disks := benchDisks(b, 4)
			res, err := vault.Init(disks)
			if err != nil {
				b.Fatal(err)
			}
			v, err := vault.Open(vault.Options{Disks: disks, Key: res.RecoveryKey, SegmentSize: 16 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			w, err := v.NewWriter("bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			base := benchContent(tc.size, tc.text)
			item := make([]byte, len(base))
			b.SetBytes(int64(len(base)))
			var n uint64
			for b.Loop() {
				n++
				uniqueCopy(item, base, n)
				if _, err := w.Put(vault.Item{Path: fmt.Sprint(n)}, bytes.NewReader(item)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if _, err := w.Commit(time.Time{}); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func benchDisks(b *testing.B, n int) []string {
	root := b.TempDir()
	var disks []string
	for i := range n {
		d := fmt.Sprintf("%s/disk%d", root, i)
		if err := mkdir(d); err != nil {
			b.Fatal(err)
		}
		disks = append(disks, d)
	}
	return disks
}

// benchContent is n bytes of mail-like text, or half random bytes and half
// text like an office file with an embedded image.
func benchContent(n int, text bool) []byte {
	var t bytes.Buffer
	for i := 0; t.Len() < n; i++ {
		fmt.Fprintf(&t, "Subject: status %d\r\nPlease review the attached budget for quarter %d.\r\n", i, i%4)
	}
	out := t.Bytes()[:n]
	if !text {
		copy(out, randomBytes(9, n/2))
	}
	return out
}

// uniqueCopy copies base into dst and stamps n into every 4 KiB, so that
// no chunk of one item equals a chunk of another.
func uniqueCopy(dst, base []byte, n uint64) {
	copy(dst, base)
	for off := 0; off+8 <= len(dst); off += 4 << 10 {
		binary.LittleEndian.PutUint64(dst[off:], n)
	}
}
