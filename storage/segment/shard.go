package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// CorruptError reports a shard whose bytes cannot be trusted. Repair code
// finds the shard to rebuild with errors.As.
type CorruptError struct {
	Path    string
	Segment uint64
	Shard   int
	Block   int   // -1 for the header or the whole file
	Offset  int64 // byte offset in the file where the damage was found
	Reason  string
}

func (e *CorruptError) Error() string {
	if e.Block < 0 {
		return fmt.Sprintf("segment %d shard %d (%s): %s", e.Segment, e.Shard, e.Path, e.Reason)
	}
	return fmt.Sprintf("segment %d shard %d (%s) block %d at offset %d: %s", e.Segment, e.Shard, e.Path, e.Block, e.Offset, e.Reason)
}

// Shard is one open shard file. It is safe for concurrent reads.
type Shard struct {
	Path   string
	Header Header
	f      *os.File
	size   int64
	dev    uint64 // device the file lives on
}

// OpenShard opens a shard file and checks its header. A damaged header is
// reported as a *CorruptError.
func OpenShard(path string) (*Shard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	buf := make([]byte, HeaderSize)
	if _, err := io.ReadFull(f, buf); err != nil {
		f.Close()
		return nil, &CorruptError{Path: path, Block: -1, Reason: "truncated header: " + err.Error()}
	}
	h, err := ParseHeader(buf)
	if err != nil {
		f.Close()
		return nil, &CorruptError{Path: path, Block: -1, Reason: err.Error()}
	}
	// Shards are read front to back by scrub and rebuild: ask for the
	// larger sequential readahead window.
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_SEQUENTIAL)
	var dev uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		dev = uint64(sys.Dev)
	}
	return &Shard{Path: path, Header: h, f: f, size: st.Size(), dev: dev}, nil
}

// Close closes the file.
func (s *Shard) Close() error { return s.f.Close() }

// Truncated reports whether the file is shorter than its header promises.
func (s *Shard) Truncated() bool { return s.size < s.Header.FileSize() }

// ReadBlock reads block b into buf (which must hold BlockSize+4 bytes) and
// returns the verified block data, a sub-slice of buf.
func (s *Shard) ReadBlock(b int, buf []byte) ([]byte, error) {
	h := s.Header
	n := h.blockLen(b)
	off := h.blockOffset(b)
	if _, err := s.f.ReadAt(buf[:n+sumSize], off); err != nil {
		reason := "read: " + err.Error()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			reason = "truncated: file ends before this block"
		}
		return nil, &CorruptError{Path: s.Path, Segment: h.Segment, Shard: int(h.Index), Block: b, Offset: off, Reason: reason}
	}
	want := binary.LittleEndian.Uint32(buf[n:])
	if got := crc32.Checksum(buf[:n], castagnoli); got != want {
		return nil, &CorruptError{Path: s.Path, Segment: h.Segment, Shard: int(h.Index), Block: b, Offset: off,
			Reason: fmt.Sprintf("checksum mismatch (crc32c %08x, stored %08x)", got, want)}
	}
	return buf[:n], nil
}

// readRun reads blocks [b0, b0+n) in one call into buf (which must hold
// n×(BlockSize+4) bytes), checks each block, and appends the data of the
// blocks to dst. It stops at the first bad block and reports it.
func (s *Shard) readRun(b0, n int, buf, dst []byte) ([]byte, error) {
	h := s.Header
	start := h.blockOffset(b0)
	end := h.blockOffset(b0+n-1) + int64(h.blockLen(b0+n-1)) + sumSize
	buf = buf[:end-start]
	if _, err := s.f.ReadAt(buf, start); err != nil {
		// Find which block it was, block by block.
		for b := b0; b < b0+n; b++ {
			blk, err := s.ReadBlock(b, make([]byte, BlockSize+sumSize))
			if err != nil {
				return dst, err
			}
			dst = append(dst, blk...)
		}
		return dst, nil
	}
	for b := b0; b < b0+n; b++ {
		off := h.blockOffset(b) - start
		l := int64(h.blockLen(b))
		data := buf[off : off+l]
		want := binary.LittleEndian.Uint32(buf[off+l:])
		if got := crc32.Checksum(data, castagnoli); got != want {
			return dst, &CorruptError{Path: s.Path, Segment: h.Segment, Shard: int(h.Index), Block: b, Offset: h.blockOffset(b),
				Reason: fmt.Sprintf("checksum mismatch (crc32c %08x, stored %08x)", got, want)}
		}
		dst = append(dst, data...)
	}
	return dst, nil
}
