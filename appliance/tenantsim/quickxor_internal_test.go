package tenantsim

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

func quickXorB64(data []byte) string { return QuickXorHash(data) }

// TestQuickXorKnownValue guards the hash against the value published for
// "hello world" (the quickxorhash package on PyPI and the quickxorhash
// crate give the same 20 bytes).
func TestQuickXorKnownValue(t *testing.T) {
	if got := quickXorB64([]byte("hello world")); got != "aCgDG9jwBhDc4Q1yawMZAAAAAAA=" {
		t.Errorf("QuickXorHash(hello world) = %s, want aCgDG9jwBhDc4Q1yawMZAAAAAAA=", got)
	}
	if got := quickXorB64(nil); got != base64.StdEncoding.EncodeToString(make([]byte, 20)) {
		t.Errorf("QuickXorHash of nothing = %s, want 20 zero bytes", got)
	}
}

// quickXorPython is the algorithm as Microsoft's description states it,
// on a 160-bit Python integer: a different construction from the Go one
// (no lanes, no words), so agreement checks the folding and the word
// boundaries. Input: one base64 line per case; output likewise.
const quickXorPython = `
import base64, sys
MASK = (1 << 160) - 1
for line in sys.stdin:
    data = base64.b64decode(line.strip())
    block = 0
    for i, b in enumerate(data):
        v = b << ((i * 11) % 160)
        block ^= (v | (v >> 160)) & MASK
    out = bytearray(block.to_bytes(20, "little"))
    for k, x in enumerate(len(data).to_bytes(8, "little")):
        out[12 + k] ^= x
    print(base64.b64encode(bytes(out)).decode())
`

// TestQuickXorAgainstPython guards the hash against an independent
// implementation run by python3, on lengths around every boundary of the
// 160-bit block and on data written in uneven pieces.
func TestQuickXorAgainstPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	r := rand.New(rand.NewPCG(7, 11))
	var cases [][]byte
	for _, n := range []int{0, 1, 2, 7, 8, 11, 19, 20, 21, 63, 64, 65, 127, 128, 129, 159, 160, 161, 319, 320, 321, 1000, 4096, 70_001} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		cases = append(cases, b)
	}
	cases = append(cases, bytes.Repeat([]byte{0xff}, 333), []byte("hello world"))
	var in strings.Builder
	for _, c := range cases {
		in.WriteString(base64.StdEncoding.EncodeToString(c) + "\n")
	}
	cmd := exec.Command(py, "-c", quickXorPython)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(cases) {
		t.Fatalf("python3 gave %d digests for %d cases", len(want), len(cases))
	}
	for i, c := range cases {
		if got := quickXorB64(c); got != want[i] {
			t.Errorf("%d bytes: Go %s, Python %s", len(c), got, want[i])
		}
		// The same bytes written in pieces of varying size.
		q := newQuickXor()
		for rest := c; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(200))
			q.Write(rest[:k])
			rest = rest[k:]
		}
		if got := base64.StdEncoding.EncodeToString(q.Sum(nil)); got != want[i] {
			t.Errorf("%d bytes written in pieces: %s, want %s", len(c), got, want[i])
		}
	}
}
