package vault

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/compress"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/index"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/segment"
)

var errNoSpace = syscall.ENOSPC

// Item is one stored object of a snapshot: a message, a file version, a
// contact. Path is slash-separated and unique within the snapshot.
type Item struct {
	Path    string            `json:"p"`
	Size    int64             `json:"s"`
	ModTime int64             `json:"t,omitempty"` // unix nanoseconds
	Mode    uint32            `json:"m,omitempty"`
	Meta    map[string]string `json:"x,omitempty"`
	Chunks  []keys.ID         `json:"c"`
	Hash    keys.ID           `json:"h"` // keyed BLAKE3 of the whole content
}

// Writer builds one snapshot. Put and Add may be called from several
// goroutines at once; Commit or Abort ends it. Nothing it writes is visible
// as a snapshot until Commit returns.
type Writer struct {
	v    *Vault
	name string
	meta map[string]string

	mu       sync.Mutex
	items    []Item
	builder  *segment.Builder
	segID    uint64
	aead     cipher.AEAD
	pending  map[keys.ID]uint64 // chunks written this run, not yet indexed
	segs     map[uint64]bool
	newBytes int64
	sealing  sync.WaitGroup
	sealSem  chan struct{}
	sealErr  error
	done     bool
}

// NewWriter starts a snapshot. Only one writer may be open at a time, and
// only when every disk is present and writable.
func (v *Vault) NewWriter(name string, meta map[string]string) (*Writer, error) {
	if v.Degraded() {
		return nil, fmt.Errorf("%w: disks missing: %v", ErrDegradedWrite, v.missing)
	}
	for _, d := range v.present() {
		if err := checkUsable(d.Path); err != nil {
			return nil, err
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.writing {
		return nil, errors.New("another backup is writing to this vault; wait for it to finish")
	}
	v.writing = true
	return &Writer{v: v, name: name, meta: meta, pending: map[keys.ID]uint64{}, segs: map[uint64]bool{},
		sealSem: make(chan struct{}, 2)}, nil
}

// SetMeta sets a metadata field of the snapshot being written, such as the
// outcome of the run, which is known only at the end.
func (w *Writer) SetMeta(key, value string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.meta == nil {
		w.meta = map[string]string{}
	}
	w.meta[key] = value
}

// Put stores an item's content read from r and records the item in the
// snapshot. Size, Chunks and Hash are filled in from the content.
func (w *Writer) Put(it Item, r io.Reader) (Item, error) {
	c := chunk.New(r, w.v.opts.Chunking)
	defer c.Close()
	h := w.v.master.IDHasher()
	it.Chunks = it.Chunks[:0]
	it.Size = 0
	for {
		data, err := c.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return it, fmt.Errorf("read %s: %w", it.Path, err)
		}
		h.Write(data)
		id, err := w.store(data)
		if err != nil {
			return it, err
		}
		it.Chunks = append(it.Chunks, id)
		it.Size += int64(len(data))
	}
	copy(it.Hash[:], h.Sum(nil))
	w.mu.Lock()
	w.items = append(w.items, it)
	w.mu.Unlock()
	return it, nil
}

// Add records an item whose chunks are already in the vault (an unchanged
// file or message from an earlier snapshot) without reading its content.
func (w *Writer) Add(it Item) error {
	for _, id := range it.Chunks {
		w.mu.Lock()
		seg, ok := w.pending[id]
		w.mu.Unlock()
		if !ok {
			loc, found, err := w.v.index.Lookup(id)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: item %s refers to chunk %s that the vault does not hold", ErrNotFound, it.Path, id)
			}
			seg = loc.Segment
		}
		w.mu.Lock()
		w.segs[seg] = true
		w.mu.Unlock()
	}
	w.mu.Lock()
	w.items = append(w.items, it)
	w.mu.Unlock()
	return nil
}

// store makes sure one chunk is in the vault and returns its ID.
func (w *Writer) store(data []byte) (keys.ID, error) {
	id := w.v.master.ChunkID(data)
	w.mu.Lock()
	if err := w.sealErr; err != nil {
		w.mu.Unlock()
		return id, err
	}
	if seg, ok := w.pending[id]; ok {
		w.segs[seg] = true
		w.mu.Unlock()
		return id, nil
	}
	w.mu.Unlock()
	if loc, ok, err := w.v.index.Lookup(id); err != nil {
		return id, err
	} else if ok {
		w.mu.Lock()
		w.segs[loc.Segment] = true
		w.mu.Unlock()
		return id, nil
	}
	packed, compressed := compress.Compress(nil, data)
	var flags uint8
	if compressed {
		flags = segment.FlagCompressed
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pending[id]; ok { // another goroutine stored it meanwhile
		w.segs[w.pending[id]] = true
		return id, nil
	}
	if w.builder == nil {
		w.builder = segment.NewBuilder(w.v.opts.SegmentSize + w.v.opts.Chunking.Max)
		w.segID = w.v.allocSegment()
		w.aead = w.v.master.SegmentCipher(w.segID)
	}
	sealed := keys.Seal(w.aead, nil, packed, id[:])
	w.builder.Add(id, sealed, len(data), flags)
	w.pending[id] = w.segID
	w.segs[w.segID] = true
	w.newBytes += int64(len(data))
	if w.builder.Len() >= w.v.opts.SegmentSize {
		w.rotateLocked()
	}
	return id, nil
}

// rotateLocked hands the open segment to a sealing goroutine. w.mu is held.
func (w *Writer) rotateLocked() {
	b, id, aead := w.builder, w.segID, w.aead
	w.builder = nil
	if b == nil || b.Count() == 0 {
		return
	}
	w.sealing.Add(1)
	w.mu.Unlock()
	w.sealSem <- struct{}{} // bounds memory: at most two segments sealing
	w.mu.Lock()
	go func() {
		defer w.sealing.Done()
		defer func() { <-w.sealSem }()
		err := w.v.sealSegment(id, aead, b)
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			if w.sealErr == nil {
				w.sealErr = err
			}
			return
		}
		for _, e := range b.Entries() {
			delete(w.pending, e.ID)
		}
	}()
}

// flush seals the open segment and waits until every segment is durable
// and indexed.
func (w *Writer) flush() error {
	w.mu.Lock()
	w.rotateLocked()
	w.mu.Unlock()
	w.sealing.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sealErr
}

func (v *Vault) allocSegment() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := v.nextSeg
	v.nextSeg++
	return id
}

// sealSegment writes a segment's shards to every disk, syncs them, and
// indexes the segment. Only then may anything refer to its chunks.
func (v *Vault) sealSegment(id uint64, aead cipher.AEAD, b *segment.Builder) error {
	entries := append([]segment.Entry(nil), b.Entries()...)
	payload := b.Finish(func(p []byte) []byte { return keys.Seal(aead, nil, p, tableAD(id)) })
	shards, err := segment.Encode(v.layout.K, v.layout.M, payload)
	if err != nil {
		return err
	}
	created := v.clock.Now().Unix()
	errs := make([]error, len(v.disks))
	var wg sync.WaitGroup
	for i, d := range v.disks {
		h := segment.Header{Version: segment.Version, K: uint8(v.layout.K), M: uint8(v.layout.M), Index: uint8(i),
			VaultID: v.idBytes, Segment: id, PayloadLen: uint64(len(payload)), ShardLen: uint64(len(shards[i])), Created: created}
		wg.Add(1)
		go func(i int, d *disk) {
			defer wg.Done()
			errs[i] = d.writeShard(h, shards[i])
		}(i, d)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, d := range v.disks { // nothing refers to it yet: take it back
				os.Remove(d.segmentPath(id))
			}
			return err
		}
	}
	var raw uint64
	for _, e := range entries {
		raw += uint64(e.RawLen)
	}
	info := index.SegmentInfo{ID: id, PayloadLen: uint64(len(payload)), Chunks: uint32(len(entries)), RawBytes: raw, Created: created}
	if err := v.index.AddSegment(info, entries); err != nil {
		return err
	}
	v.mu.Lock()
	v.shards[id] = v.layout.Disks()
	v.mu.Unlock()
	return nil
}

// writeShard writes one shard durably, with a clear error when the disk is
// full or has gone read-only.
func (d *disk) writeShard(h segment.Header, data []byte) error {
	path := d.segmentPath(h.Segment)
	dir := filepath.Dir(path)
	if free, _, err := freeBytes(d.Path); err == nil && free < uint64(h.FileSize())+(16<<20) {
		return &DiskError{Path: d.Path, Kind: ErrDiskFull, Err: fmt.Errorf("%d KiB free; segment %d needs %d KiB on it plus 16 MiB kept in reserve", free>>10, h.Segment, h.FileSize()>>10),
			Fix: "add disks or larger disks, or shorten retention of future backups; nothing stored so far is affected"}
	}
	created := false
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return &DiskError{Path: d.Path, Kind: diskErrKind(err), Err: err}
		}
		created = true
	}
	tmp := filepath.Join(d.spool(), filepath.Base(path)+".tmp")
	if err := segment.WriteShard(path, tmp, h, data); err != nil {
		kind := diskErrKind(err)
		fix := "remount " + d.Path + " read-write or replace the disk; nothing stored so far is affected"
		if kind == ErrDiskFull {
			fix = "free space on " + d.Path + " or add capacity; nothing stored so far is affected"
		}
		return &DiskError{Path: d.Path, Kind: kind, Err: err, Fix: fix}
	}
	if err := durable.SyncDir(dir); err != nil {
		return &DiskError{Path: d.Path, Kind: ErrDiskReadOnly, Err: err}
	}
	if err := durable.SyncDir(d.spool()); err != nil {
		return &DiskError{Path: d.Path, Kind: ErrDiskReadOnly, Err: err}
	}
	if created {
		if err := durable.SyncDir(filepath.Dir(dir)); err != nil {
			return &DiskError{Path: d.Path, Kind: ErrDiskReadOnly, Err: err}
		}
	}
	return nil
}

// Commit makes the snapshot durable and visible: segments are sealed and
// synced, the index is synced, the item list is stored, and only then is
// the manifest written. retainUntil is when the snapshot may expire at the
// earliest (zero: no lock).
func (w *Writer) Commit(retainUntil time.Time) (Snapshot, error) {
	defer w.release()
	if err := w.flush(); err != nil {
		return Snapshot{}, err
	}
	w.mu.Lock()
	items := w.items
	w.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	var list bytes.Buffer
	enc := json.NewEncoder(&list)
	var total int64
	for i := range items {
		if err := enc.Encode(&items[i]); err != nil {
			return Snapshot{}, err
		}
		total += items[i].Size
	}
	var listIDs []keys.ID
	c := chunk.New(&list, w.v.opts.Chunking)
	for {
		data, err := c.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Snapshot{}, err
		}
		id, err := w.store(data)
		if err != nil {
			return Snapshot{}, err
		}
		listIDs = append(listIDs, id)
	}
	if err := w.flush(); err != nil {
		return Snapshot{}, err
	}
	now := w.v.clock.Now().UTC()
	var rnd [4]byte
	rand.Read(rnd[:])
	s := Snapshot{
		ID: w.v.nextSnapshotTime(now).Format(snapshotIDTS) + "-" + hex.EncodeToString(rnd[:]), Name: w.name, Created: now,
		RetainUntil: retainUntil.UTC().Truncate(time.Second), Meta: w.meta,
		Items: int64(len(items)), Bytes: total, NewBytes: w.newBytes, ItemList: listIDs,
	}
	if s.RetainUntil.Before(now) {
		s.RetainUntil = now.Truncate(time.Second)
	}
	w.mu.Lock()
	for id := range w.segs {
		s.Segments = append(s.Segments, id)
	}
	w.mu.Unlock()
	sort.Slice(s.Segments, func(i, j int) bool { return s.Segments[i] < s.Segments[j] })
	if err := w.v.writeManifest(&s); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

// Abort ends the writer without making a snapshot. Segments it sealed stay
// (their chunks serve later backups); nothing becomes visible.
func (w *Writer) Abort() {
	w.flush()
	w.release()
}

func (w *Writer) release() {
	w.mu.Lock()
	done := w.done
	w.done = true
	w.mu.Unlock()
	if !done {
		w.v.mu.Lock()
		w.v.writing = false
		w.v.mu.Unlock()
	}
}
