package tenantsim

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// quickXorSize is the length of a QuickXorHash in bytes.
const quickXorSize = 20

// quickXor computes the QuickXorHash that OneDrive for Business and
// SharePoint report in file.hashes.quickXorHash, following Microsoft's
// description of the algorithm: a 160-bit block starts at zero; byte i of
// the input, as a 160-bit number, is rotated left by 11·i bits and XORed
// into the block; the block's bytes are then taken least significant
// first, and the input length, as a little-endian 64-bit number, is
// XORed into the last eight of them. The digest is sent base64-encoded.
//
// Since 11·160 is a multiple of 160, bytes 160 apart land on the same
// bits. Write therefore only folds the input into 160 byte lanes by XOR;
// Sum rotates each lane into place once.
type quickXor struct {
	lanes [160]byte
	pos   int // lane of the next input byte
	n     uint64
}

var _ hash.Hash = (*quickXor)(nil)

func newQuickXor() *quickXor { return &quickXor{} }

// QuickXorHash returns the base64 QuickXorHash of data, as the simulator
// reports it in file.hashes.quickXorHash.
func QuickXorHash(data []byte) string {
	q := newQuickXor()
	q.Write(data)
	return base64.StdEncoding.EncodeToString(q.Sum(nil))
}

func (q *quickXor) Write(p []byte) (int, error) {
	q.n += uint64(len(p))
	pos := q.pos
	for _, b := range p {
		q.lanes[pos] ^= b
		pos++
		if pos == len(q.lanes) {
			pos = 0
		}
	}
	q.pos = pos
	return len(p), nil
}

// Sum appends the 20-byte digest to b.
func (q *quickXor) Sum(b []byte) []byte {
	// The block as bits 0-63, 64-127 and 128-159 (the low half of w[2]).
	var w [3]uint64
	for lane, v := range q.lanes {
		if v == 0 {
			continue
		}
		x := uint64(v)
		off := lane * 11 % 160
		word, bit := off/64, off%64
		switch {
		case word < 2:
			w[word] ^= x << bit
			if bit > 56 {
				w[word+1] ^= x >> (64 - bit)
			}
		case bit <= 24:
			w[2] ^= x << bit
		default:
			// Crosses bit 159: the high part wraps around to bit 0.
			w[2] ^= (x << bit) & 0xffffffff
			w[0] ^= x >> (32 - bit)
		}
	}
	var out [quickXorSize]byte
	binary.LittleEndian.PutUint64(out[0:], w[0])
	binary.LittleEndian.PutUint64(out[8:], w[1])
	binary.LittleEndian.PutUint32(out[16:], uint32(w[2]))
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], q.n)
	for i, v := range n {
		out[quickXorSize-8+i] ^= v
	}
	return append(b, out[:]...)
}

func (q *quickXor) Reset()         { *q = quickXor{} }
func (q *quickXor) Size() int      { return quickXorSize }
func (q *quickXor) BlockSize() int { return len(q.lanes) }
