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
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/compress"
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
	free     [][]byte   // payload buffers of written segments, for reuse
	nbufs    int        // payload buffers allocated
	mapped   [][]byte   // payload buffers mapped outside the Go heap
	bufFree  *sync.Cond // on mu: a payload buffer came back
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
	w := &Writer{v: v, name: name, meta: meta, pending: map[keys.ID]uint64{}, segs: map[uint64]bool{},
		sealSem: make(chan struct{}, maxSealing)}
	w.bufFree = sync.NewCond(&w.mu)
	return w, nil
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
	h := w.v.master.NewContentHasher()
	defer h.Close()
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
		id := h.Chunk(data)
		if err := w.store(id, data); err != nil {
			return it, err
		}
		it.Chunks = append(it.Chunks, id)
		it.Size += int64(len(data))
	}
	it.Hash = h.Sum()
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

// store makes sure the chunk data, whose ID is id, is in the vault.
func (w *Writer) store(id keys.ID, data []byte) error {
	w.mu.Lock()
	if err := w.sealErr; err != nil {
		w.mu.Unlock()
		return err
	}
	if seg, ok := w.pending[id]; ok {
		w.segs[seg] = true
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	if loc, ok, err := w.v.index.Lookup(id); err != nil {
		return err
	} else if ok {
		w.mu.Lock()
		w.segs[loc.Segment] = true
		w.mu.Unlock()
		return nil
	}
	scratch := packBufs.Get().(*[]byte)
	defer packBufs.Put(scratch)
	plain, flags := data, uint8(0)
	if packed, compressed := compress.Compress((*scratch)[:0], data); compressed {
		*scratch = packed
		plain, flags = packed, segment.FlagCompressed
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addBlobLocked(id, len(data), flags, plain)
	return nil
}

// addBlobLocked seals plain, the stored form of a chunk of rawLen bytes,
// into the open segment, which it rotates when full. w.mu is held.
func (w *Writer) addBlobLocked(id keys.ID, rawLen int, flags uint8, plain []byte) {
	for {
		if _, ok := w.pending[id]; ok { // another goroutine stored it meanwhile
			w.segs[w.pending[id]] = true
			return
		}
		if w.builder != nil && w.builder.Count() > 0 && w.builder.Len()+len(plain)+keys.Overhead > w.v.opts.SegmentSize {
			// Seal before the blob would take the payload past the
			// segment size: the payload buffer then never grows.
			w.rotateLocked()
			continue
		}
		if w.builder == nil {
			w.openSegmentLocked()
			continue // the lock was released while waiting for a buffer
		}
		break
	}
	// Sealed straight into the segment's payload: no copy per blob.
	w.builder.AddSealed(id, rawLen, flags, func(dst []byte) []byte { return keys.Seal(w.aead, dst, plain, id[:]) })
	w.pending[id] = w.segID
	w.segs[w.segID] = true
	w.newBytes += int64(rawLen)
	if w.builder.Len() >= w.v.opts.SegmentSize {
		w.rotateLocked()
	}
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
	defer c.Close()
	for {
		data, err := c.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Snapshot{}, err
		}
		id := w.v.master.ChunkID(data)
		if err := w.store(id, data); err != nil {
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
		w.unmapBufs()
		w.v.mu.Lock()
		w.v.writing = false
		w.v.mu.Unlock()
	}
}
