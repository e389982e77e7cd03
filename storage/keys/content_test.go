package keys

import (
	"bytes"
	"fmt"
	"testing"
)

// TestContentHasherMatchesChunkID guards the shortcut that hashes a
// one-chunk item once: every chunk ID and the whole-content ID must be
// exactly what ChunkID gives, for any number of chunks, and a hasher must
// not carry state into the next item through the pool.
func TestContentHasherMatchesChunkID(t *testing.T) {
	m, err := NewMaster()
	if err != nil {
		t.Fatal(err)
	}
	part := func(i, n int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, n) }
	for _, sizes := range [][]int{nil, {0}, {5}, {10000}, {3, 9000}, {9000, 1, 20000, 7, 70000}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			for round := range 2 { // the second round reuses pooled hashers
				c := m.NewContentHasher()
				var whole []byte
				for i, n := range sizes {
					p := part(i, n)
					if got, want := c.Chunk(p), m.ChunkID(p); got != want {
						t.Fatalf("round %d chunk %d: ID %s, want %s", round, i, got, want)
					}
					whole = append(whole, p...)
				}
				if got, want := c.Sum(), m.ChunkID(whole); got != want {
					t.Fatalf("round %d: content ID %s, want %s", round, got, want)
				}
				h := m.IDHasher()
				h.Write(whole)
				if got := c.Sum(); !bytes.Equal(got[:], h.Sum(nil)) {
					t.Fatalf("round %d: content ID differs from IDHasher's", round)
				}
				c.Close()
			}
		})
	}
}
