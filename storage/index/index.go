package index

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/strongroom/strongroom/storage/segment"
)

// Location is where one chunk is stored.
type Location struct {
	Segment uint64
	Offset  uint64
	Length  uint32
	RawLen  uint32
	Flags   uint8
}

// SegmentInfo is the index's record of one sealed segment.
type SegmentInfo struct {
	ID         uint64
	PayloadLen uint64
	Chunks     uint32
	RawBytes   uint64 // plaintext bytes of the chunks it holds
	Created    int64
}

// Index is an open chunk index. It is safe for concurrent use.
type Index struct {
	db *badger.DB
	// addMu makes each AddSegment's read-modify-write one step: which
	// chunks are new, and whether the high-water mark moves up. The
	// vault seals up to two segments at once; without it both read the
	// old mark, and the lower ID, flushed last, wins: the mark goes
	// backwards. badger cannot do it for us, as the index runs with
	// conflict detection off.
	addMu sync.Mutex
}

// Open opens (creating if needed) the index in dir.
func Open(dir string) (*Index, error) {
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithSyncWrites(false).
		// 8 MiB memtables: each is an arena allocated whole, live for
		// the life of the vault; the index's records are small (a
		// segment of 1,000 chunks is under 100 KiB of them).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(8 << 20).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(1 << 10).
		WithNumCompactors(2).
		WithCompression(options.None).
		WithDetectConflicts(false)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	return &Index{db: db}, nil
}

// Close flushes and closes the index.
func (ix *Index) Close() error { return ix.db.Close() }

func chunkKey(id [32]byte) []byte { return append([]byte{'c'}, id[:]...) }

func segKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{'g'}, id) }

var highKey = []byte("mhighwater")

func (l Location) marshal() []byte {
	b := make([]byte, 0, 25)
	b = binary.BigEndian.AppendUint64(b, l.Segment)
	b = binary.BigEndian.AppendUint64(b, l.Offset)
	b = binary.BigEndian.AppendUint32(b, l.Length)
	b = binary.BigEndian.AppendUint32(b, l.RawLen)
	return append(b, l.Flags)
}

func parseLocation(b []byte) (Location, error) {
	if len(b) != 25 {
		return Location{}, fmt.Errorf("index: location record of %d bytes", len(b))
	}
	return Location{
		Segment: binary.BigEndian.Uint64(b),
		Offset:  binary.BigEndian.Uint64(b[8:]),
		Length:  binary.BigEndian.Uint32(b[16:]),
		RawLen:  binary.BigEndian.Uint32(b[20:]),
		Flags:   b[24],
	}, nil
}

func (s SegmentInfo) marshal() []byte {
	b := make([]byte, 0, 28)
	b = binary.BigEndian.AppendUint64(b, s.PayloadLen)
	b = binary.BigEndian.AppendUint32(b, s.Chunks)
	b = binary.BigEndian.AppendUint64(b, s.RawBytes)
	return binary.BigEndian.AppendUint64(b, uint64(s.Created))
}

func parseSegmentInfo(id uint64, b []byte) (SegmentInfo, error) {
	if len(b) != 28 {
		return SegmentInfo{}, fmt.Errorf("index: segment record of %d bytes", len(b))
	}
	return SegmentInfo{ID: id, PayloadLen: binary.BigEndian.Uint64(b), Chunks: binary.BigEndian.Uint32(b[8:]),
		RawBytes: binary.BigEndian.Uint64(b[12:]), Created: int64(binary.BigEndian.Uint64(b[20:]))}, nil
}

// Lookup finds a chunk.
func (ix *Index) Lookup(id [32]byte) (loc Location, ok bool, err error) {
	err = ix.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(chunkKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			loc, err = parseLocation(v)
			ok = err == nil
			return err
		})
	})
	return loc, ok, err
}

// AddSegment records a sealed segment and its chunks in one durable batch.
// Chunks already indexed keep their earlier location, and the high-water
// mark only ever moves up to info.ID. Concurrent calls are applied one
// after the other; only the final sync overlaps.
func (ix *Index) AddSegment(info SegmentInfo, entries []segment.Entry) error {
	if err := ix.addSegment(info, entries); err != nil {
		return err
	}
	if err := ix.db.Sync(); err != nil {
		return fmt.Errorf("sync index: %w", err)
	}
	return nil
}

// addSegment writes the segment's records, under addMu, without syncing.
func (ix *Index) addSegment(info SegmentInfo, entries []segment.Entry) error {
	ix.addMu.Lock()
	defer ix.addMu.Unlock()
	fresh := make([]bool, len(entries))
	err := ix.db.View(func(txn *badger.Txn) error {
		for i, e := range entries {
			_, err := txn.Get(chunkKey(e.ID))
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				fresh[i] = true
			case err != nil:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index segment %d: %w", info.ID, err)
	}
	wb := ix.db.NewWriteBatch()
	defer wb.Cancel()
	for i, e := range entries {
		if !fresh[i] {
			continue
		}
		loc := Location{Segment: info.ID, Offset: e.Offset, Length: e.Length, RawLen: e.RawLen, Flags: e.Flags}
		if err := wb.Set(chunkKey(e.ID), loc.marshal()); err != nil {
			return fmt.Errorf("index segment %d: %w", info.ID, err)
		}
	}
	if err := wb.Set(segKey(info.ID), info.marshal()); err != nil {
		return fmt.Errorf("index segment %d: %w", info.ID, err)
	}
	// max(mark, info.ID): under addMu, no other add can move the mark
	// between this read and the flush.
	if info.ID > ix.HighWater() {
		if err := wb.Set(highKey, binary.BigEndian.AppendUint64(nil, info.ID)); err != nil {
			return fmt.Errorf("index segment %d: %w", info.ID, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("index segment %d: %w", info.ID, err)
	}
	return nil
}

// RemoveSegment forgets a segment and every chunk location pointing into it.
func (ix *Index) RemoveSegment(id uint64, entries []segment.Entry) error {
	wb := ix.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range entries {
		loc, ok, err := ix.Lookup(e.ID)
		if err != nil {
			return err
		}
		if ok && loc.Segment == id {
			if err := wb.Delete(chunkKey(e.ID)); err != nil {
				return err
			}
		}
	}
	if err := wb.Delete(segKey(id)); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("unindex segment %d: %w", id, err)
	}
	return ix.db.Sync()
}

// RemoveSegmentScan forgets a segment by scanning every chunk record, for
// when the segment's own table can no longer be read.
func (ix *Index) RemoveSegmentScan(id uint64) error {
	return ix.RemoveSegmentsScan(map[uint64]bool{id: true})
}

// RemoveSegmentsScan forgets several segments in one scan of every chunk
// record: the segments the warden expired while the vault was closed.
func (ix *Index) RemoveSegmentsScan(ids map[uint64]bool) error {
	if len(ids) == 0 {
		return nil
	}
	var keys [][]byte
	err := ix.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{'c'}, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				if loc, err := parseLocation(v); err == nil && ids[loc.Segment] {
					keys = append(keys, item.KeyCopy(nil))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	wb := ix.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	for id := range ids {
		if err := wb.Delete(segKey(id)); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("unindex %d segments: %w", len(ids), err)
	}
	return ix.db.Sync()
}

// HighWater is the highest segment ID ever indexed (0 when none).
func (ix *Index) HighWater() uint64 {
	var hw uint64
	ix.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(highKey)
		if err != nil {
			return nil
		}
		return it.Value(func(v []byte) error {
			if len(v) == 8 {
				hw = binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	return hw
}

// Segments lists every indexed segment in ascending ID order.
func (ix *Index) Segments() ([]SegmentInfo, error) {
	var out []SegmentInfo
	err := ix.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{'g'}, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			id := binary.BigEndian.Uint64(item.Key()[1:])
			err := item.Value(func(v []byte) error {
				s, err := parseSegmentInfo(id, v)
				out = append(out, s)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Dump writes every record, in key order, one "key value" hex line each. Two
// indexes that answer every question the same way dump the same text.
func (ix *Index) Dump(w io.Writer) error {
	return ix.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "%s %s\n", hex.EncodeToString(item.Key()), hex.EncodeToString(v)); err != nil {
				return err
			}
		}
		return nil
	})
}
