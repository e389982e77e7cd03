// Package quickxor computes QuickXorHash, the content hash OneDrive for
// Business and SharePoint report for every file (file.hashes.quickXorHash,
// base64 of the 20-byte sum).
//
// The hash is a 160-bit circular bit vector: the byte at position k of the
// input is XORed into the vector at bit offset 11·k mod 160, and the input's
// length as a little-endian 64-bit number is XORed into the last eight
// bytes at the end. Since the offset depends only on k mod 160, Write folds
// the input into 160 bytes (a byte XOR per input byte, whole blocks at a
// time) and Sum spreads those 160 bytes over the vector once.
package quickxor

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// Size is the length of a sum in bytes.
const Size = 20

const (
	width = 160 // bits in the vector, and bytes in the fold
	shift = 11
)

type digest struct {
	fold [width]byte // fold[i]: XOR of the input bytes at positions ≡ i (mod 160)
	n    uint64      // bytes written
}

// New returns a QuickXorHash.
func New() hash.Hash { return &digest{} }

func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return width }
func (d *digest) Reset()         { *d = digest{} }

func (d *digest) Write(p []byte) (int, error) {
	n := len(p)
	pos := int(d.n % width)
	d.n += uint64(n)
	if pos > 0 {
		k := subtle.XORBytes(d.fold[pos:], d.fold[pos:], p)
		p = p[k:]
	}
	for len(p) >= width {
		subtle.XORBytes(d.fold[:], d.fold[:], p[:width])
		p = p[width:]
	}
	subtle.XORBytes(d.fold[:len(p)], d.fold[:len(p)], p)
	return n, nil
}

// Sum appends the hash of what was written to b.
func (d *digest) Sum(b []byte) []byte {
	var v [Size]byte
	for i, x := range d.fold {
		if x == 0 {
			continue
		}
		off := i * shift % width
		at, bit := off/8, off%8
		w := uint16(x) << bit
		v[at] ^= byte(w)
		v[(at+1)%Size] ^= byte(w >> 8)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], d.n)
	subtle.XORBytes(v[Size-8:], v[Size-8:], n[:])
	return append(b, v[:]...)
}

// Base64 is the sum of h in the form Graph reports it.
func Base64(h hash.Hash) string { return base64.StdEncoding.EncodeToString(h.Sum(nil)) }
