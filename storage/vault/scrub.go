package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/segment"
)

// ShardProblem is one damaged or missing shard found by a scrub.
type ShardProblem struct {
	Segment  uint64 `json:"segment"`
	Shard    int    `json:"shard"`
	Disk     string `json:"disk"`
	Problem  string `json:"problem"`
	Repaired bool   `json:"repaired"`
}

// ScrubReport is the outcome of a scrub.
type ScrubReport struct {
	Segments         int            `json:"segments"`
	ShardsChecked    int            `json:"shards_checked"`
	BytesRead        int64          `json:"bytes_read"`
	Problems         []ShardProblem `json:"problems"`
	Repaired         int            `json:"repaired"`
	Unrecoverable    []uint64       `json:"unrecoverable"`
	ManifestsCopied  int            `json:"manifests_copied"`
	Seconds          float64        `json:"seconds"`
	Healthy          bool           `json:"healthy"` // no problems left after this run
	MissingDiskSlots []int          `json:"missing_disk_slots,omitempty"`
}

// Work is how far a scrub or a disk replacement has got: segments done
// of all, bytes read, problems found.
type Work struct {
	Segments    int   `json:"segments"`
	SegmentsAll int   `json:"segments_all"`
	BytesRead   int64 `json:"bytes_read"`
	Problems    int   `json:"problems"`
}

// Scrub reads and checks every shard of every segment. With repair, it
// rebuilds missing or corrupt shards from the others and writes them back
// (replacing an immutable damaged file needs the warden's privilege), and
// copies snapshot manifests to disks that lack them.
func (v *Vault) Scrub(repair bool) (ScrubReport, error) { return v.ScrubWatched(repair, nil) }

// ScrubWatched is Scrub telling watch, when not nil, how far it has got
// after each segment (from the calling goroutine).
func (v *Vault) ScrubWatched(repair bool, watch func(Work)) (ScrubReport, error) {
	start := time.Now()
	var rep ScrubReport
	ids := v.allSegments()
	rep.Segments = len(ids)
	for n, id := range ids {
		v.forgetSet(id)
		set, err := segment.OpenSet(id, v.shardPaths(id))
		if err != nil {
			rep.Unrecoverable = append(rep.Unrecoverable, id)
			rep.Problems = append(rep.Problems, ShardProblem{Segment: id, Shard: -1, Problem: err.Error()})
			continue
		}
		var targets []int
		for _, st := range set.Verify() {
			rep.ShardsChecked++
			if st.Err == nil {
				rep.BytesRead += set.Header.FileSize()
				continue
			}
			disk := st.Path
			if d := v.disks[st.Index]; d != nil {
				disk = d.Path
			} else if p, ok := v.missingPath[st.Index]; ok {
				disk = p + " (missing)"
			}
			rep.Problems = append(rep.Problems, ShardProblem{Segment: id, Shard: st.Index, Disk: disk, Problem: problemText(st.Err)})
			if v.disks[st.Index] != nil {
				targets = append(targets, st.Index)
			}
		}
		if repair && len(targets) > 0 {
			err := set.Rebuild(targets, func(i int, h segment.Header, data []byte) error {
				return v.disks[i].replaceShard(h, data)
			})
			if err != nil {
				if errors.Is(err, segment.ErrUnrecoverable) {
					rep.Unrecoverable = append(rep.Unrecoverable, id)
				}
				set.Close()
				return rep, fmt.Errorf("repair segment %d: %w", id, err)
			}
			for i := range rep.Problems {
				p := &rep.Problems[i]
				if p.Segment == id && containsInt(targets, p.Shard) {
					p.Repaired = true
					rep.Repaired++
				}
			}
			v.mu.Lock()
			v.shards[id] = v.layout.Disks() - v.missingCount()
			v.mu.Unlock()
		}
		set.Close()
		if watch != nil {
			watch(Work{Segments: n + 1, SegmentsAll: len(ids), BytesRead: rep.BytesRead, Problems: len(rep.Problems)})
		}
	}
	copied, err := v.syncManifests(repair)
	if err != nil {
		return rep, err
	}
	rep.ManifestsCopied = copied
	for i, d := range v.disks {
		if d == nil {
			rep.MissingDiskSlots = append(rep.MissingDiskSlots, i)
		}
	}
	rep.Healthy = len(rep.MissingDiskSlots) == 0
	for _, p := range rep.Problems {
		if !p.Repaired {
			rep.Healthy = false
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func problemText(err error) string {
	var ce *segment.CorruptError
	if errors.As(err, &ce) {
		if ce.Block >= 0 {
			return fmt.Sprintf("block %d at offset %d: %s", ce.Block, ce.Offset, ce.Reason)
		}
		return ce.Reason
	}
	if os.IsNotExist(errors.Unwrap(err)) || os.IsNotExist(err) {
		return "shard file missing"
	}
	return err.Error()
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// allSegments lists every segment known from the index or from the disks.
func (v *Vault) allSegments() []uint64 {
	seen := map[uint64]bool{}
	if segs, err := v.index.Segments(); err == nil {
		for _, s := range segs {
			seen[s.ID] = true
		}
	}
	v.mu.Lock()
	for id := range v.shards {
		seen[id] = true
	}
	v.mu.Unlock()
	ids := make([]uint64, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// replaceShard writes a rebuilt shard over a damaged or missing one. A
// damaged file that was sealed immutable is unsealed first and the new one
// sealed again, and its append-only directory opened for the rename and
// closed again; that needs CAP_LINUX_IMMUTABLE, which the warden and the
// console's repair action hold and the agent does not.
func (d *disk) replaceShard(h segment.Header, data []byte) error {
	path := d.segmentPath(h.Segment)
	dir := filepath.Dir(path)
	_, statErr := os.Lstat(path)
	dirSealed, _ := immutable.IsAppendOnly(dir)
	if dirSealed && statErr == nil {
		if err := immutable.ClearAppendOnly(dir); err != nil {
			return fmt.Errorf("open sealed directory %s to replace a damaged shard: %w", dir, err)
		}
		defer immutable.SetAppendOnly(dir)
	}
	wasSealed, _ := immutable.IsSet(path)
	if wasSealed {
		if err := immutable.Clear(path); err != nil {
			return fmt.Errorf("unseal damaged shard %s: %w", path, err)
		}
	}
	// The damaged file stays until the rebuilt one is renamed over it:
	// if writing fails (disk full), the mostly-good old shard is not lost.
	if err := d.writeShard(h, data); err != nil {
		if wasSealed {
			immutable.Set(path)
		}
		return err
	}
	if wasSealed {
		return immutable.Set(path)
	}
	return nil
}

// syncManifests makes sure every disk holds every snapshot manifest and
// retention record; with repair it copies missing ones over.
func (v *Vault) syncManifests(repair bool) (int, error) {
	names := map[string]string{} // file name -> a path holding it
	has := map[string]map[int]bool{}
	for _, d := range v.present() {
		ents, err := os.ReadDir(d.snapshotDir())
		if err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		for _, e := range ents {
			if filepath.Ext(e.Name()) == ".tmp" {
				continue
			}
			names[e.Name()] = filepath.Join(d.snapshotDir(), e.Name())
			if has[e.Name()] == nil {
				has[e.Name()] = map[int]bool{}
			}
			has[e.Name()][d.Index] = true
		}
	}
	copied := 0
	for name, src := range names {
		for _, d := range v.present() {
			if has[name][d.Index] {
				continue
			}
			if !repair {
				copied++
				continue
			}
			b, err := os.ReadFile(src)
			if err != nil {
				return copied, err
			}
			if err := os.MkdirAll(d.snapshotDir(), 0o750); err != nil {
				return copied, err
			}
			if err := durable.WriteFileVia(d.spool(), filepath.Join(d.snapshotDir(), name), b, 0o444); err != nil {
				return copied, &DiskError{Path: d.Path, Kind: diskErrKind(err), Err: err}
			}
			copied++
		}
	}
	return copied, nil
}

// ReplaceDisk puts an empty directory in the place of a lost disk and
// rebuilds every shard onto it. old is the path the lost disk had (as given
// to Open) or its slot number; newDir must be empty.
func (v *Vault) ReplaceDisk(old, newDir string) (ScrubReport, error) {
	return v.ReplaceDiskWatched(old, newDir, nil)
}

// ReplaceDiskWatched is ReplaceDisk telling watch, when not nil, how far
// the rebuild has got after each segment written (from one goroutine at a
// time, not the calling one).
func (v *Vault) ReplaceDiskWatched(old, newDir string, watch func(Work)) (ScrubReport, error) {
	slot := -1
	for i, p := range v.missingPath {
		if p == old {
			slot = i
		}
	}
	if n, err := strconv.Atoi(old); err == nil && slot < 0 && n >= 0 && n < len(v.disks) && v.disks[n] == nil {
		slot = n
	}
	for _, d := range v.present() {
		if d.Path == old {
			return ScrubReport{}, fmt.Errorf("disk %s is still present and readable; to retire a working disk, remove it from --disk first, then replace it", old)
		}
	}
	if slot < 0 {
		return ScrubReport{}, fmt.Errorf("%s is not one of the missing disks of this vault (missing: %v); name it as a --disk as well, or give its slot number", old, v.missing)
	}
	if err := checkUsable(newDir); err != nil {
		return ScrubReport{}, err
	}
	if !emptyDir(newDir) {
		if _, err := readLabel(newDir); err == nil {
			return ScrubReport{}, &DiskError{Path: newDir, Kind: ErrForeignDisk, Err: errors.New("it already holds a vault"), Fix: "use an empty disk as the replacement"}
		}
		return ScrubReport{}, &DiskError{Path: newDir, Kind: ErrNotVault, Err: errors.New("it is not empty"), Fix: "use an empty disk as the replacement"}
	}
	ref := v.present()[0]
	l := ref.label
	l.Index = slot
	for _, sub := range []string{segmentsDir, snapshotsDir, spoolDir} {
		if err := os.MkdirAll(filepath.Join(newDir, sub), 0o750); err != nil {
			return ScrubReport{}, err
		}
	}
	key, err := os.ReadFile(filepath.Join(ref.Path, keyFile))
	if err != nil {
		return ScrubReport{}, err
	}
	if err := durable.WriteFile(filepath.Join(newDir, keyFile), key, 0o400); err != nil {
		return ScrubReport{}, err
	}
	if err := writeLabel(newDir, l); err != nil {
		return ScrubReport{}, err
	}
	lock, err := lockDisk(newDir, true)
	if err != nil {
		return ScrubReport{}, err
	}
	v.mu.Lock()
	v.disks[slot] = &disk{Path: newDir, Index: slot, label: l, lock: lock}
	delete(v.missingPath, slot)
	var still []string
	for _, p := range v.missing {
		if p != old {
			still = append(still, p)
		}
	}
	v.missing = still
	v.mu.Unlock()
	v.progress("disk %s takes slot %d; rebuilding its shards", newDir, slot)
	return v.rebuildSlot(slot, watch)
}

// rebuildSlot writes every segment's shard for one (empty, replaced) disk
// slot from K of the others, without first verifying every shard as a
// scrub would: a replacement reads K shards per segment and writes one.
func (v *Vault) rebuildSlot(slot int, watch func(Work)) (ScrubReport, error) {
	start := time.Now()
	var rep ScrubReport
	ids := v.allSegments()
	rep.Segments = len(ids)
	d := v.disks[slot]

	// Two stages: the next segment is read and reconstructed while the
	// previous one is written and synced to the new disk.
	type rebuilt struct {
		id   uint64
		h    segment.Header
		data []byte
		read int64
		n    int
	}
	var repMu sync.Mutex
	writes := make(chan rebuilt, 1)
	writeErr := make(chan error, 1)
	go func() {
		defer close(writeErr)
		for r := range writes {
			if err := d.writeShard(r.h, r.data); err != nil {
				writeErr <- fmt.Errorf("rebuild segment %d onto %s: %w", r.id, d.Path, err)
				for range writes {
				}
				return
			}
			repMu.Lock()
			rep.Problems = append(rep.Problems, ShardProblem{Segment: r.id, Shard: slot, Disk: d.Path, Problem: "shard file missing", Repaired: true})
			rep.Repaired++
			rep.BytesRead += r.read
			rep.ShardsChecked += int(r.h.K)
			w := Work{Segments: r.n, SegmentsAll: len(ids), BytesRead: rep.BytesRead, Problems: len(rep.Problems)}
			repMu.Unlock()
			if watch != nil {
				watch(w)
			}
			v.mu.Lock()
			v.shards[r.id]++
			v.mu.Unlock()
		}
	}()
	var readErr error
	for n, id := range ids {
		v.forgetSet(id)
		if _, err := os.Stat(d.segmentPath(id)); err == nil {
			continue
		}
		set, err := segment.OpenSet(id, v.shardPaths(id))
		if err != nil {
			repMu.Lock()
			rep.Unrecoverable = append(rep.Unrecoverable, id)
			rep.Problems = append(rep.Problems, ShardProblem{Segment: id, Shard: -1, Problem: err.Error()})
			repMu.Unlock()
			continue
		}
		var out rebuilt
		err = set.Rebuild([]int{slot}, func(_ int, h segment.Header, data []byte) error {
			out = rebuilt{id: id, h: h, data: data, read: int64(set.Header.ShardLen) * int64(set.Header.K), n: n + 1}
			return nil
		})
		set.Close()
		if err != nil {
			readErr = fmt.Errorf("rebuild segment %d onto %s: %w", id, d.Path, err)
			break
		}
		select {
		case writes <- out:
		case err := <-writeErr:
			readErr = err
		}
		if readErr != nil {
			break
		}
	}
	close(writes)
	if err := <-writeErr; err != nil && readErr == nil {
		readErr = err
	}
	if readErr != nil {
		return rep, readErr
	}
	copied, err := v.syncManifests(true)
	if err != nil {
		return rep, err
	}
	rep.ManifestsCopied = copied
	for i, dd := range v.disks {
		if dd == nil {
			rep.MissingDiskSlots = append(rep.MissingDiskSlots, i)
		}
	}
	rep.Healthy = len(rep.MissingDiskSlots) == 0 && len(rep.Unrecoverable) == 0
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}
