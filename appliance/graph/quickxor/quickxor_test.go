package quickxor_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/strongroom/strongroom/appliance/graph/quickxor"
)

// The expected sums were computed with a separate implementation written
// in Python from the cell-based description of the algorithm (three 64-bit
// cells, the last one 32 bits wide, a byte split across cells at their
// edges), which shares no code or structure with this package's fold. The
// inputs are the leading bytes of a seeded generator's stream below.
func TestKnownSums(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"hello", "aCgDG9jwBgAAAAAABQAAAAAAAAA="},
		{"The quick brown fox jumps over the lazy dog", "bMSlbysmxJL6S75XwfMcQZOpcr4="},
	}
	for _, c := range cases {
		h := quickxor.New()
		h.Write([]byte(c.in))
		if got := quickxor.Base64(h); got != c.want {
			t.Errorf("QuickXorHash(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestLengths checks sums of lengths around the 160-byte period against
// the same Python implementation, for bytes both sides derive from their
// position (i²·7 + i·3 + 1 mod 256).
func TestLengths(t *testing.T) {
	want := map[int]string{
		1:      "AQAAAAAAAAAAAAAAAQAAAAAAAAA=",
		20:     "o1Lx0FLUtV88oA3ZjMI24lCBYxw=",
		159:    "G8aG6udo81VTctINbbMgdpgv42E=",
		160:    "G8aG6udo81VTctINUrMgdpgvQ2U=",
		161:    "+saG6udo81VTctINU7MgdpgvQ2U=",
		321:    "h0nIMMm0QsVS2zVH7SzMas2SHVQ=",
		1000:   "NS++qt0WKtMsLzQmFv9tpzgaFlE=",
		100000: "G8aG6udo81VTctINUjUhdpgvQ2U=",
	}
	for n, w := range want {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*i*7 + i*3 + 1)
		}
		h := quickxor.New()
		h.Write(data)
		if got := quickxor.Base64(h); got != w {
			t.Errorf("length %d: %s, want %s", n, got, w)
		}
	}
}

// TestSplitWrites checks that a sum does not depend on how the input is cut
// into writes: every cut of a 1,000-byte input at up to three points,
// sampled, and byte-at-a-time writes.
func TestSplitWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	whole := quickxor.New()
	whole.Write(data)
	want := whole.Sum(nil)
	one := quickxor.New()
	for i := range data {
		one.Write(data[i : i+1])
	}
	if got := one.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("byte-at-a-time sum %x, whole %x", got, want)
	}
	for range 500 {
		a, b := r.IntN(len(data)+1), r.IntN(len(data)+1)
		if a > b {
			a, b = b, a
		}
		h := quickxor.New()
		h.Write(data[:a])
		h.Write(data[a:b])
		h.Write(data[b:])
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			t.Fatalf("cut at %d,%d: %x, want %x", a, b, got, want)
		}
	}
}
