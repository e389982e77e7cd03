package pst

import (
	"math/rand/v2"
	"testing"
)

// TestCRC guards the CRC of [MS-PST] 5.3 against a bit-by-bit reference:
// reflected polynomial 0xEDB88320, started at zero, not inverted, which is
// not what hash/crc32 computes by itself.
func TestCRC(t *testing.T) {
	ref := func(p []byte) uint32 {
		c := uint32(0)
		for _, b := range p {
			c ^= uint32(b)
			for range 8 {
				if c&1 != 0 {
					c = c>>1 ^ 0xEDB88320
				} else {
					c >>= 1
				}
			}
		}
		return c
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		p := make([]byte, n*7)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		if got, want := crc(p), ref(p); got != want {
			t.Fatalf("crc of %d bytes = %#x, want %#x", len(p), got, want)
		}
	}
	if crc(nil) != 0 {
		t.Errorf("crc of nothing = %#x, want 0", crc(nil))
	}
}
