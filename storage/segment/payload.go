package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Entry locates one blob in a segment payload.
type Entry struct {
	ID     [32]byte
	Offset uint64 // where the sealed blob starts in the payload
	Length uint32 // sealed blob length
	RawLen uint32 // length of the plaintext chunk
	Flags  uint8  // FlagCompressed, ...
}

// Blob flags.
const (
	// FlagCompressed marks a blob whose plaintext is zstd-compressed.
	FlagCompressed = 1 << 0
)

const (
	entrySize   = 32 + 8 + 4 + 4 + 1
	footerSize  = FooterSize
	footerMagic = "SRTB"
)

// FooterSize is the length of the fixed footer that ends every payload.
const FooterSize = 16

// Builder assembles a payload in memory. It is not safe for concurrent use.
type Builder struct {
	buf     []byte
	entries []Entry
}

// NewBuilder returns a builder with room for sizeHint bytes.
func NewBuilder(sizeHint int) *Builder {
	return &Builder{buf: make([]byte, 0, sizeHint)}
}

// NewBuilderBuf returns a builder that assembles its payload in buf's
// capacity (growing it only when that runs out), so a writer can reuse
// one large buffer for segment after segment instead of faulting in a
// fresh one each time.
func NewBuilderBuf(buf []byte) *Builder {
	return &Builder{buf: buf[:0]}
}

// Add appends a sealed blob and returns its entry.
func (b *Builder) Add(id [32]byte, sealed []byte, rawLen int, flags uint8) Entry {
	return b.AddSealed(id, rawLen, flags, func(dst []byte) []byte { return append(dst, sealed...) })
}

// AddSealed appends a blob that seal writes in place: seal appends the
// sealed bytes to dst (the payload so far) and returns the result, which
// spares a copy of every blob.
func (b *Builder) AddSealed(id [32]byte, rawLen int, flags uint8, seal func(dst []byte) []byte) Entry {
	off := len(b.buf)
	b.buf = seal(b.buf)
	e := Entry{ID: id, Offset: uint64(off), Length: uint32(len(b.buf) - off), RawLen: uint32(rawLen), Flags: flags}
	b.entries = append(b.entries, e)
	return e
}

// Buffer returns the builder's buffer, emptied, for reuse by another
// builder; b must not be used afterwards.
func (b *Builder) Buffer() []byte { return b.buf[:0] }

// Len is the number of payload bytes so far.
func (b *Builder) Len() int { return len(b.buf) }

// Count is the number of blobs so far.
func (b *Builder) Count() int { return len(b.entries) }

// Entries returns the blobs added so far (shared, do not modify).
func (b *Builder) Entries() []Entry { return b.entries }

// Blob returns the sealed bytes of a blob added earlier.
func (b *Builder) Blob(e Entry) []byte { return b.buf[e.Offset : e.Offset+uint64(e.Length)] }

// Finish appends the table of contents, sealed by seal, and the footer, and
// returns the complete payload. The builder must not be used afterwards.
//
// Footer (16 bytes, the payload's last): table offset (uint64 LE), sealed
// table length (uint32 LE), "SRTB".
func (b *Builder) Finish(seal func(plain []byte) []byte) []byte {
	table := make([]byte, 0, 4+len(b.entries)*entrySize)
	table = binary.LittleEndian.AppendUint32(table, uint32(len(b.entries)))
	for _, e := range b.entries {
		table = append(table, e.ID[:]...)
		table = binary.LittleEndian.AppendUint64(table, e.Offset)
		table = binary.LittleEndian.AppendUint32(table, e.Length)
		table = binary.LittleEndian.AppendUint32(table, e.RawLen)
		table = append(table, e.Flags)
	}
	sealed := seal(table)
	off := uint64(len(b.buf))
	b.buf = append(b.buf, sealed...)
	b.buf = binary.LittleEndian.AppendUint64(b.buf, off)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(sealed)))
	b.buf = append(b.buf, footerMagic...)
	return b.buf
}

// ErrBadTable is wrapped by errors decoding a table of contents.
var ErrBadTable = errors.New("bad segment table")

// ParseFooter decodes the footer and returns where the sealed table is.
func ParseFooter(footer []byte, payloadLen uint64) (off uint64, n uint32, err error) {
	if len(footer) != footerSize || string(footer[12:]) != footerMagic {
		return 0, 0, fmt.Errorf("%w: footer magic missing", ErrBadTable)
	}
	off = binary.LittleEndian.Uint64(footer)
	n = binary.LittleEndian.Uint32(footer[8:])
	if off+uint64(n)+footerSize != payloadLen {
		return 0, 0, fmt.Errorf("%w: table [%d,+%d) does not end at the footer (payload %d)", ErrBadTable, off, n, payloadLen)
	}
	return off, n, nil
}

// ParseTable decodes an opened (decrypted) table of contents.
func ParseTable(table []byte, tableOffset uint64) ([]Entry, error) {
	if len(table) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadTable, len(table))
	}
	n := binary.LittleEndian.Uint32(table)
	if uint64(len(table)-4) != uint64(n)*entrySize {
		return nil, fmt.Errorf("%w: %d entries do not fit %d bytes", ErrBadTable, n, len(table)-4)
	}
	entries := make([]Entry, n)
	p := table[4:]
	for i := range entries {
		e := &entries[i]
		copy(e.ID[:], p)
		e.Offset = binary.LittleEndian.Uint64(p[32:])
		e.Length = binary.LittleEndian.Uint32(p[40:])
		e.RawLen = binary.LittleEndian.Uint32(p[44:])
		e.Flags = p[48]
		if e.Offset+uint64(e.Length) > tableOffset {
			return nil, fmt.Errorf("%w: entry %d [%d,+%d) overlaps the table at %d", ErrBadTable, i, e.Offset, e.Length, tableOffset)
		}
		p = p[entrySize:]
	}
	return entries, nil
}

// ReadTable reads and decodes the table of contents of an open segment.
func (s *Set) ReadTable(open func(sealed []byte) ([]byte, error)) ([]Entry, error) {
	pl := s.Header.PayloadLen
	if pl < footerSize {
		return nil, fmt.Errorf("segment %d: %w: payload of %d bytes has no footer", s.Header.Segment, ErrBadTable, pl)
	}
	footer := make([]byte, footerSize)
	if _, err := s.ReadAt(footer, int64(pl-footerSize)); err != nil {
		return nil, err
	}
	off, n, err := ParseFooter(footer, pl)
	if err != nil {
		return nil, fmt.Errorf("segment %d: %w", s.Header.Segment, err)
	}
	sealed := make([]byte, n)
	if _, err := s.ReadAt(sealed, int64(off)); err != nil {
		return nil, err
	}
	table, err := open(sealed)
	if err != nil {
		return nil, fmt.Errorf("segment %d table: %w", s.Header.Segment, err)
	}
	entries, err := ParseTable(table, off)
	if err != nil {
		return nil, fmt.Errorf("segment %d: %w", s.Header.Segment, err)
	}
	return entries, nil
}
