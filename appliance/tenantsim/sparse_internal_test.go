package tenantsim

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestSparseContentReadAt guards the sparse generator: reads of any size
// at any offset give the bytes of the content laid out in full (each
// stride's data block, zeros after it, a short last stride), and the
// streamed hashes are those of that layout.
func TestSparseContentReadAt(t *testing.T) {
	size := int64(2*sparseStride + sparseData/2 + 12345)
	c := &sparseContent{size: size, seed: 5}
	want := make([]byte, size)
	for b := int64(0); b*sparseStride < size; b++ {
		copy(want[b*sparseStride:], c.block(b)[:min(sparseData, size-b*sparseStride)])
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := r.Int64N(size + 10)
		p := make([]byte, 1+r.IntN(3*sparseData))
		n, err := c.ReadAt(p, off)
		end := min(off+int64(len(p)), size)
		if off >= size {
			if n != 0 || err != io.EOF {
				t.Fatalf("read at %d past the end: %d, %v", off, n, err)
			}
			continue
		}
		if int64(n) != end-off || !bytes.Equal(p[:n], want[off:end]) || (end < off+int64(len(p))) != (err == io.EOF) {
			t.Fatalf("read %d at %d: %d bytes, %v; content differs: %v", len(p), off, n, err, !bytes.Equal(p[:n], want[off:end]))
		}
	}
	h := newStreamHash()
	if _, err := io.Copy(h, io.NewSectionReader(c, 0, size)); err != nil {
		t.Fatal(err)
	}
	_, qx := h.sums()
	if qx != QuickXorHash(want) {
		t.Fatal("streamed quickXorHash differs from the hash of the whole content")
	}
}
