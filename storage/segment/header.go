package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Format constants of a shard file. Changing any of them is a format change
// that must be recorded in storage/FORMAT.md.
const (
	// Magic opens every shard file.
	Magic = "SRSHARD1"
	// Version is the shard format version written by this code.
	Version = 1
	// HeaderSize is the fixed size of the shard header in bytes.
	HeaderSize = 128
	// BlockSize is the number of shard bytes covered by one checksum.
	BlockSize = 64 << 10
	// sumSize is the size of the CRC-32C that follows every block.
	sumSize = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header describes one shard file; every shard of a segment carries the
// same header except for Index, so any one shard tells how to decode the
// whole segment.
type Header struct {
	Version    uint16
	K, M       uint8
	Index      uint8 // shard number: 0..K-1 data, K..K+M-1 parity
	VaultID    [16]byte
	Segment    uint64
	PayloadLen uint64 // bytes of payload before padding
	ShardLen   uint64 // bytes of shard data in this file (without checksums)
	Created    int64  // unix seconds, from the trusted clock
}

// Blocks is the number of checksummed blocks in each shard.
func (h Header) Blocks() int {
	return int((h.ShardLen + BlockSize - 1) / BlockSize)
}

// FileSize is the exact size of a complete shard file with this header.
func (h Header) FileSize() int64 {
	return HeaderSize + int64(h.ShardLen) + int64(h.Blocks())*sumSize
}

// blockLen is the number of data bytes in block b.
func (h Header) blockLen(b int) int {
	start := uint64(b) * BlockSize
	if rest := h.ShardLen - start; rest < BlockSize {
		return int(rest)
	}
	return BlockSize
}

// blockOffset is where block b starts in the shard file.
func (h Header) blockOffset(b int) int64 {
	return HeaderSize + int64(b)*(BlockSize+sumSize)
}

// Marshal encodes the header into its fixed 128-byte form.
//
//	0   8  magic "SRSHARD1"
//	8   2  version (little endian)
//	10  1  K
//	11  1  M
//	12  1  shard index
//	13  3  zero
//	16 16  vault id
//	32  8  segment id
//	40  8  payload length
//	48  8  shard length
//	56  8  created (unix seconds)
//	64 60  zero
//	124 4  CRC-32C (Castagnoli) of bytes 0..123
func (h Header) Marshal() []byte {
	b := make([]byte, HeaderSize)
	copy(b, Magic)
	binary.LittleEndian.PutUint16(b[8:], h.Version)
	b[10], b[11], b[12] = h.K, h.M, h.Index
	copy(b[16:32], h.VaultID[:])
	binary.LittleEndian.PutUint64(b[32:], h.Segment)
	binary.LittleEndian.PutUint64(b[40:], h.PayloadLen)
	binary.LittleEndian.PutUint64(b[48:], h.ShardLen)
	binary.LittleEndian.PutUint64(b[56:], uint64(h.Created))
	binary.LittleEndian.PutUint32(b[124:], crc32.Checksum(b[:124], castagnoli))
	return b
}

// ErrBadHeader is wrapped by every header decoding error.
var ErrBadHeader = errors.New("bad shard header")

// ParseHeader decodes and checks a shard header.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("%w: %d bytes, want %d", ErrBadHeader, len(b), HeaderSize)
	}
	if string(b[:8]) != Magic {
		return h, fmt.Errorf("%w: not a strongroom shard (magic %q)", ErrBadHeader, b[:8])
	}
	if got, want := crc32.Checksum(b[:124], castagnoli), binary.LittleEndian.Uint32(b[124:]); got != want {
		return h, fmt.Errorf("%w: checksum %08x, stored %08x", ErrBadHeader, got, want)
	}
	h.Version = binary.LittleEndian.Uint16(b[8:])
	if h.Version != Version {
		return h, fmt.Errorf("%w: format version %d is not supported by this build (it reads %d)", ErrBadHeader, h.Version, Version)
	}
	h.K, h.M, h.Index = b[10], b[11], b[12]
	copy(h.VaultID[:], b[16:32])
	h.Segment = binary.LittleEndian.Uint64(b[32:])
	h.PayloadLen = binary.LittleEndian.Uint64(b[40:])
	h.ShardLen = binary.LittleEndian.Uint64(b[48:])
	h.Created = int64(binary.LittleEndian.Uint64(b[56:]))
	switch {
	case h.K == 0 || int(h.K)+int(h.M) > 255:
		return h, fmt.Errorf("%w: layout %d+%d", ErrBadHeader, h.K, h.M)
	case h.Index >= h.K+h.M:
		return h, fmt.Errorf("%w: shard index %d outside layout %d+%d", ErrBadHeader, h.Index, h.K, h.M)
	case h.ShardLen*uint64(h.K) < h.PayloadLen || h.ShardLen > 1<<40:
		return h, fmt.Errorf("%w: shard length %d cannot hold payload %d", ErrBadHeader, h.ShardLen, h.PayloadLen)
	}
	return h, nil
}
