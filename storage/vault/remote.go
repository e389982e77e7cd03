package vault

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/index"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/segment"
)

// Remote is a copy of a vault's files kept away from its disks (an object
// store): segment payloads without parity, manifests and retention records.
// Its methods may be called from several goroutines.
type Remote interface {
	// Manifests returns every manifest's bytes by snapshot ID, and the
	// latest retention extension recorded for each ID.
	Manifests() (map[string][]byte, map[string]time.Time, error)
	// Segments lists the segments held, by ID.
	Segments() ([]RemoteSegment, error)
	// ReadSegment reads payload bytes [off, off+len(p)) of a segment.
	ReadSegment(id uint64, p []byte, off int64) error
	// Checkpoints returns the copy's index checkpoints (EncodeCheckpoint);
	// none is fine.
	Checkpoints() ([][]byte, error)
	// OpenSegment streams a whole payload, checked against what the copy
	// recorded of it by the time the reader returns io.EOF, and says when
	// the segment was first written (unix seconds; 0 when unknown).
	OpenSegment(id uint64) (io.ReadCloser, int64, error)
}

// RemoteSegment describes one segment of a Remote.
type RemoteSegment struct {
	ID  uint64
	Len uint64 // payload bytes
}

// remoteReader finds chunks in a Remote's segments: the tables of the
// segments a snapshot names are read (two ranged reads each) when it is
// first listed, so no index is needed.
type remoteReader struct {
	src Remote

	once   sync.Once
	mu     sync.Mutex
	lens   map[uint64]uint64
	loaded map[uint64]bool
	locs   map[keys.ID]index.Location
}

// OpenRemote opens a vault's copy for reading: its snapshots list and its
// items restore (Snapshots, Snapshot, Items, Restore, WriteItem) straight
// from the copy, every chunk checked against its ID. keyfile is the copy of
// the wrapped master key; key must open it.
func OpenRemote(src Remote, vaultID string, keyfile []byte, key keys.RecoveryKey) (*Vault, error) {
	master, err := keys.Unwrap(keyfile, key, vaultID)
	if err != nil {
		return nil, fmt.Errorf("recovery key does not open vault %s: %w", vaultID, err)
	}
	segs, err := src.Segments()
	if err != nil {
		return nil, err
	}
	r := &remoteReader{src: src, lens: map[uint64]uint64{}, loaded: map[uint64]bool{}, locs: map[keys.ID]index.Location{}}
	for _, s := range segs {
		r.lens[s.ID] = s.Len
	}
	v := &Vault{id: vaultID, master: master, remote: r, shards: map[uint64]int{}, sets: map[uint64]*cachedSet{}}
	v.opts.defaults()
	// No trusted clock travels with a copy: the wall time tells which
	// restore points are still locked.
	v.clock = clock.Follow("", v.opts.Clock)
	return v, nil
}

// fromCheckpoints takes every table the copy's checkpoints hold. A
// checkpoint that cannot be read, or a table in it that does not open, is
// passed over: load reads those segments' tables from the segments.
func (r *remoteReader) fromCheckpoints(v *Vault) {
	blobs, err := r.src.Checkpoints()
	if err != nil {
		return
	}
	for _, b := range blobs {
		recs, err := DecodeCheckpoint(b)
		if err != nil {
			continue
		}
		for _, rec := range recs {
			table, err := v.tableOpener(rec.Segment)(rec.Sealed)
			if err != nil {
				continue
			}
			if entries, err := segment.ParseTable(table, rec.TableOff); err == nil {
				r.add(rec.Segment, entries)
			}
		}
	}
}

func (r *remoteReader) add(id uint64, entries []segment.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		if _, ok := r.locs[e.ID]; !ok {
			r.locs[e.ID] = index.Location{Segment: id, Offset: e.Offset, Length: e.Length, RawLen: e.RawLen, Flags: e.Flags}
		}
	}
	r.loaded[id] = true
}

// load reads the tables of the given segments not read yet.
func (r *remoteReader) load(v *Vault, segs []uint64) error {
	r.once.Do(func() { r.fromCheckpoints(v) })
	for _, id := range segs {
		r.mu.Lock()
		done := r.loaded[id]
		r.mu.Unlock()
		if done {
			continue
		}
		entries, err := r.table(v, id)
		if err != nil {
			return err
		}
		r.add(id, entries)
	}
	return nil
}

func (r *remoteReader) table(v *Vault, id uint64) ([]segment.Entry, error) {
	r.mu.Lock()
	pl, ok := r.lens[id]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: segment %d is not in the offsite copy", ErrCorrupt, id)
	}
	footer := make([]byte, segment.FooterSize)
	if pl < segment.FooterSize {
		return nil, fmt.Errorf("%w: segment %d: payload of %d bytes has no footer", ErrCorrupt, id, pl)
	}
	if err := r.src.ReadSegment(id, footer, int64(pl-segment.FooterSize)); err != nil {
		return nil, err
	}
	off, n, err := segment.ParseFooter(footer, pl)
	if err != nil {
		return nil, fmt.Errorf("%w: segment %d: %v", ErrCorrupt, id, err)
	}
	sealed := make([]byte, n)
	if err := r.src.ReadSegment(id, sealed, int64(off)); err != nil {
		return nil, err
	}
	table, err := v.tableOpener(id)(sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: segment %d table: %v", ErrCorrupt, id, err)
	}
	return segment.ParseTable(table, off)
}

// readSealed returns a chunk's sealed bytes and where they were. A chunk
// not found in the tables read so far makes every table be read once.
func (r *remoteReader) readSealed(v *Vault, id keys.ID) (index.Location, []byte, error) {
	r.mu.Lock()
	loc, ok := r.locs[id]
	r.mu.Unlock()
	if !ok {
		var all []uint64
		r.mu.Lock()
		for sid := range r.lens {
			all = append(all, sid)
		}
		r.mu.Unlock()
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		if err := r.load(v, all); err != nil {
			return loc, nil, err
		}
		r.mu.Lock()
		loc, ok = r.locs[id]
		r.mu.Unlock()
		if !ok {
			return loc, nil, fmt.Errorf("%w: chunk %s is in no segment of the offsite copy", ErrCorrupt, id)
		}
	}
	sealed := make([]byte, loc.Length)
	if err := r.src.ReadSegment(loc.Segment, sealed, int64(loc.Offset)); err != nil {
		return loc, nil, fmt.Errorf("chunk %s: %w", id, err)
	}
	return loc, sealed, nil
}
