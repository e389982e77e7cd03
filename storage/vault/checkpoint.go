package vault

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/strongroom/strongroom/storage/segment"
)

// An index checkpoint holds the sealed tables of contents of some segments
// as they are in their payloads, so a remote copy can find its chunks with
// one read per checkpoint instead of two per segment. It needs no sealing
// of its own: each table is sealed under its segment's key, bound to the
// segment ID, so a forged or damaged record fails to open and the reader
// falls back to the segment itself.
//
//	"SRIDX001" | count u32 LE | count x (segment u64 | table offset u64 | sealed length u32 | sealed table)
const checkpointMagic = "SRIDX001"

// maxCheckpointTable bounds one sealed table in a checkpoint (a 64 MiB
// segment of 16 KiB chunks has a table of about 200 KiB).
const maxCheckpointTable = 64 << 20

// TableRecord is one segment's sealed table of contents and where it
// starts in the payload.
type TableRecord struct {
	Segment  uint64
	TableOff uint64
	Sealed   []byte
}

// TableRecord reads the segment's sealed table of contents.
func (g *SealedSegment) TableRecord() (TableRecord, error) {
	id, pl := g.set.Header.Segment, uint64(g.Len())
	if pl < segment.FooterSize {
		return TableRecord{}, fmt.Errorf("%w: segment %d: payload of %d bytes has no footer", ErrCorrupt, id, pl)
	}
	footer := make([]byte, segment.FooterSize)
	if _, err := g.ReadAt(footer, int64(pl-segment.FooterSize)); err != nil {
		return TableRecord{}, err
	}
	off, n, err := segment.ParseFooter(footer, pl)
	if err != nil {
		return TableRecord{}, fmt.Errorf("%w: segment %d: %v", ErrCorrupt, id, err)
	}
	sealed := make([]byte, n)
	if _, err := g.ReadAt(sealed, int64(off)); err != nil {
		return TableRecord{}, err
	}
	return TableRecord{Segment: id, TableOff: off, Sealed: sealed}, nil
}

// EncodeCheckpoint writes records as an index checkpoint.
func EncodeCheckpoint(recs []TableRecord) []byte {
	b := append([]byte(checkpointMagic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[len(checkpointMagic):], uint32(len(recs)))
	for _, r := range recs {
		b = binary.LittleEndian.AppendUint64(b, r.Segment)
		b = binary.LittleEndian.AppendUint64(b, r.TableOff)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Sealed)))
		b = append(b, r.Sealed...)
	}
	return b
}

var errBadCheckpoint = errors.New("not an index checkpoint")

// DecodeCheckpoint reads an index checkpoint. It checks only the framing;
// each table is authenticated when it is opened.
func DecodeCheckpoint(b []byte) ([]TableRecord, error) {
	if len(b) < len(checkpointMagic)+4 || string(b[:len(checkpointMagic)]) != checkpointMagic {
		return nil, errBadCheckpoint
	}
	n := binary.LittleEndian.Uint32(b[len(checkpointMagic):])
	b = b[len(checkpointMagic)+4:]
	var out []TableRecord
	for i := uint32(0); i < n; i++ {
		if len(b) < 20 {
			return nil, fmt.Errorf("%w: record %d of %d cut short", errBadCheckpoint, i, n)
		}
		r := TableRecord{Segment: binary.LittleEndian.Uint64(b), TableOff: binary.LittleEndian.Uint64(b[8:])}
		l := binary.LittleEndian.Uint32(b[16:])
		b = b[20:]
		if l > maxCheckpointTable || uint64(l) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: record %d: table of %d bytes, %d left", errBadCheckpoint, i, l, len(b))
		}
		r.Sealed, b = b[:l:l], b[l:]
		out = append(out, r)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", errBadCheckpoint, len(b))
	}
	return out, nil
}
