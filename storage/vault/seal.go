package vault

import (
	"crypto/cipher"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/index"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/segment"
)

// Memory of a writer is bounded by bytes, not by a count of chunks: it
// holds at most maxPayloadBufs payload buffers of about SegmentSize each
// and reuses them from segment to segment (a fresh buffer per segment
// cost a page fault per 4 KiB and most of the ingest's system time). A buffer is busy only while its segment fills and while its
// shards are coded and written to the page cache; the fsyncs, which wait
// for the disks, run after it is handed back, for up to maxSealing
// segments at a time, while the next segment fills.
const (
	maxPayloadBufs = 1
	maxSealing     = 2
)

// packBufs holds scratch buffers for compressing one chunk before it is
// sealed into a segment.
var packBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// openSegmentLocked starts a new segment in a free payload buffer, waiting
// for one when all are busy; w.mu is held, and released while it waits
// (another goroutine may have opened a segment meanwhile).
func (w *Writer) openSegmentLocked() {
	for w.builder == nil && len(w.free) == 0 && w.nbufs >= maxPayloadBufs {
		w.bufFree.Wait()
	}
	if w.builder != nil {
		return
	}
	var buf []byte
	if n := len(w.free); n > 0 {
		buf, w.free = w.free[n-1], w.free[:n-1]
	} else {
		// Room for a full segment and the sealed table of contents of
		// a segment of small items.
		w.nbufs++
		buf = w.newPayloadBuf(w.v.opts.SegmentSize + (1 << 20))
	}
	w.builder = segment.NewBuilderBuf(buf)
	w.segID = w.v.allocSegment()
	w.aead = w.v.master.SegmentCipher(w.segID)
}

// newPayloadBuf returns an empty buffer of capacity n, mapped outside the
// Go heap when it can be. On the heap, a buffer this size, live for the
// whole backup, would let the collector's target (twice the live heap)
// grow by as much again in garbage: about 100 MiB more peak RSS on a 5 GB
// ingest. A mapped buffer is returned to the system by unmapBufs. w.mu is
// held.
func (w *Writer) newPayloadBuf(n int) []byte {
	m, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, 0, n)
	}
	w.mapped = append(w.mapped, m)
	return m[:0]
}

// unmapBufs unmaps the mapped payload buffers once the writer has ended:
// every segment is sealed by then (flush waits for them), so nothing
// refers to the buffers any more.
func (w *Writer) unmapBufs() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.mapped {
		unix.Munmap(m)
	}
	w.mapped, w.free, w.builder = nil, nil, nil
}

// releaseBuf hands a payload buffer back for the next segment.
func (w *Writer) releaseBuf(buf []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.free = append(w.free, buf[:0])
	w.bufFree.Broadcast()
}

// rotateLocked hands the open segment to a sealing goroutine. w.mu is held.
func (w *Writer) rotateLocked() {
	b, id, aead := w.builder, w.segID, w.aead
	w.builder = nil
	if b == nil || b.Count() == 0 {
		if b != nil {
			w.free = append(w.free, b.Buffer())
			w.bufFree.Broadcast()
		}
		return
	}
	w.sealing.Add(1)
	w.mu.Unlock()
	w.sealSem <- struct{}{}
	w.mu.Lock()
	go func() {
		defer w.sealing.Done()
		defer func() { <-w.sealSem }()
		err := w.v.sealSegment(id, aead, b, w.releaseBuf)
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
// indexes the segment. Only then may anything refer to its chunks. It
// calls release with the payload buffer, exactly once, as soon as the
// shards are written and before they are synced.
func (v *Vault) sealSegment(id uint64, aead cipher.AEAD, b *segment.Builder, release func([]byte)) error {
	payload := b.Finish(func(p []byte) []byte { return keys.Seal(aead, nil, p, tableAD(id)) })
	ws, err := v.writeSegment(id, payload)
	release(payload)
	if err != nil {
		return err
	}
	return v.syncSegment(ws, b.Entries())
}

// writtenSegment is a segment whose shards are written but not yet synced.
type writtenSegment struct {
	id, payloadLen uint64
	created        int64
	files          *segment.ShardFiles
	newDir         []bool // per disk: the segment's group directory was created
}

// writeSegment writes the shards of segment id to their temporaries on
// every disk.
func (v *Vault) writeSegment(id uint64, payload []byte) (writtenSegment, error) {
	ws := writtenSegment{id: id, payloadLen: uint64(len(payload)), created: v.clock.Now().Unix(), newDir: make([]bool, len(v.disks))}
	shardLen := segment.ShardLen(v.layout.K, len(payload))
	targets := make([]segment.ShardTarget, len(v.disks))
	errs := make([]error, len(v.disks))
	for i, d := range v.disks {
		h := segment.Header{Version: segment.Version, K: uint8(v.layout.K), M: uint8(v.layout.M), Index: uint8(i),
			VaultID: v.idBytes, Segment: id, PayloadLen: ws.payloadLen, ShardLen: uint64(shardLen), Created: ws.created}
		targets[i] = segment.ShardTarget{Path: d.segmentPath(id), Tmp: d.shardTmp(id), Header: h}
		ws.newDir[i], errs[i] = d.prepareShard(h)
	}
	if err := v.firstShardError(id, errs); err != nil {
		return ws, err
	}
	files, werrs := segment.WriteShards(v.layout.K, payload, targets)
	for i, err := range werrs {
		errs[i] = v.disks[i].shardWriteError(err)
	}
	ws.files = files
	return ws, v.firstShardError(id, errs)
}

// syncSegment makes the written shards durable and in place on every
// disk, then indexes the segment.
func (v *Vault) syncSegment(ws writtenSegment, entries []segment.Entry) error {
	errs := ws.files.Sync()
	for i, err := range errs {
		errs[i] = v.disks[i].shardWriteError(err)
	}
	if err := v.firstShardError(ws.id, errs); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i, d := range v.disks {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = d.syncShardDirs(ws.id, ws.newDir[i]) }()
	}
	wg.Wait()
	if err := v.firstShardError(ws.id, errs); err != nil {
		return err
	}
	var raw uint64
	for _, e := range entries {
		raw += uint64(e.RawLen)
	}
	info := index.SegmentInfo{ID: ws.id, PayloadLen: ws.payloadLen, Chunks: uint32(len(entries)), RawBytes: raw, Created: ws.created}
	if err := v.index.AddSegment(info, entries); err != nil {
		return err
	}
	v.mu.Lock()
	v.shards[ws.id] = v.layout.Disks()
	v.mu.Unlock()
	return nil
}

// firstShardError returns the first of errs and, when there is one, takes
// the segment's shards back from every disk: nothing refers to it yet.
func (v *Vault) firstShardError(id uint64, errs []error) error {
	for _, err := range errs {
		if err != nil {
			for _, d := range v.disks {
				os.Remove(d.segmentPath(id))
			}
			return err
		}
	}
	return nil
}

// writeShard writes one shard durably, with a clear error when the disk is
// full or has gone read-only.
func (d *disk) writeShard(h segment.Header, data []byte) error {
	created, err := d.prepareShard(h)
	if err != nil {
		return err
	}
	if err := d.shardWriteError(segment.WriteShard(d.segmentPath(h.Segment), d.shardTmp(h.Segment), h, data)); err != nil {
		return err
	}
	return d.syncShardDirs(h.Segment, created)
}

// shardTmp is where the shard of segment id is written before its rename.
func (d *disk) shardTmp(id uint64) string {
	return filepath.Join(d.spool(), filepath.Base(d.segmentPath(id))+".tmp")
}

// prepareShard checks that the disk has room for the shard h describes and
// creates its segment group directory, reporting whether it had to.
func (d *disk) prepareShard(h segment.Header) (created bool, err error) {
	dir := filepath.Dir(d.segmentPath(h.Segment))
	if free, _, err := freeBytes(d.Path); err == nil && free < uint64(h.FileSize())+(16<<20) {
		return false, &DiskError{Path: d.Path, Kind: ErrDiskFull, Err: fmt.Errorf("%d KiB free; segment %d needs %d KiB on it plus 16 MiB kept in reserve", free>>10, h.Segment, h.FileSize()>>10),
			Fix: "add disks or larger disks, or shorten retention of future backups; nothing stored so far is affected"}
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return false, &DiskError{Path: d.Path, Kind: diskErrKind(err), Err: err}
		}
		return true, nil
	}
	return false, nil
}

// shardWriteError turns an error of writing a shard to this disk into a
// DiskError that names the fix.
func (d *disk) shardWriteError(err error) error {
	if err == nil {
		return nil
	}
	kind := diskErrKind(err)
	fix := "remount " + d.Path + " read-write or replace the disk; nothing stored so far is affected"
	if kind == ErrDiskFull {
		fix = "free space on " + d.Path + " or add capacity; nothing stored so far is affected"
	}
	return &DiskError{Path: d.Path, Kind: kind, Err: err, Fix: fix}
}

// syncShardDirs makes the rename of segment id's shard durable: its group
// directory, the spool, and the segments directory when the group
// directory is new.
func (d *disk) syncShardDirs(id uint64, created bool) error {
	dir := filepath.Dir(d.segmentPath(id))
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
