package vault

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/index"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/segment"
)

// DefaultSegmentSize is the payload size at which a segment is sealed. A
// writer holds one segment's payload in memory (see maxPayloadBufs): at
// 32 MiB a 2+2 vault writes 16 MiB shard files, and the peak RSS of an
// ingest stays under twice borg's (BENCHMARKS.md, "Cost per item: vault
// ingest"); at 64 MiB it was about 40 MiB more.
const DefaultSegmentSize = 32 << 20

// Options says which disks make up a vault and how to open it.
type Options struct {
	// Disks are the disk directories, in any order; each disk's label
	// says which shard it holds.
	Disks []string
	// Key is the recovery key that unwraps the vault's master key.
	Key keys.RecoveryKey
	// StateDir holds derived state: the chunk index. Default: "state" on
	// the first disk present.
	StateDir string
	// WardenDir is the warden's own state directory, where the vault reads
	// (and never writes) the trusted clock. Default: "warden" in StateDir.
	WardenDir string
	// Clock replaces the wall clock (tests only).
	Clock clock.Source
	// SegmentSize is the payload size at which a segment is sealed.
	SegmentSize int
	// Chunking, when set, replaces the chunking the vault's labels record
	// (tests only: small chunks on small data). Changing it for a vault
	// with data costs deduplication against that data, nothing else.
	Chunking chunk.Params
	// Progress, when set, receives human-readable progress lines of long
	// operations (scrub, repair, rebuild).
	Progress func(string)
}

func (o *Options) defaults() {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.Clock == nil {
		o.Clock = clock.Wall
	}
}

// Vault is an open vault. Its methods are safe for concurrent use; only one
// process may have a vault open at a time.
type Vault struct {
	opts    Options
	id      string
	idBytes [16]byte
	layout  Layout
	// chunking is what the labels record; opts.Chunking is what writers
	// use (the same unless a test overrides it).
	chunking chunk.Params
	disks    []*disk  // by shard index; nil when missing
	missing  []string // paths given that are missing or unreadable
	// missingPath maps an empty disk slot to the path that was given for
	// it, when that can be told (paths that did not open, in order).
	missingPath map[int]string
	master      *keys.Master
	index       *index.Index
	clock       *clock.Follower

	mu       sync.Mutex
	nextSeg  uint64
	shards   map[uint64]int // segment -> shard files present
	sets     map[uint64]*cachedSet
	setOrder []uint64
	writing  bool
	// leftovers are segments of interrupted writes that could not be
	// removed at open (already sealed); the warden's expiry removes them.
	leftovers map[uint64]bool
	// remote, when set, is an offsite copy this vault reads instead of
	// disks (OpenRemote).
	remote *remoteReader
}

// InitResult is what Init created.
type InitResult struct {
	VaultID string
	Layout  Layout
	Warning string
	// Placement says how the disks lie on devices; its Warning is set
	// when some share one.
	Placement   Placement
	RecoveryKey keys.RecoveryKey
}

// Init creates a new vault across the given empty disk directories and
// returns its recovery key, which is shown to the operator once.
func Init(disks []string) (InitResult, error) {
	var res InitResult
	layout, warning, err := ChooseLayout(len(disks))
	if err != nil {
		return res, err
	}
	seen := map[string]bool{}
	for _, d := range disks {
		abs, _ := filepath.Abs(d)
		if seen[abs] {
			return res, fmt.Errorf("disk %s is given twice: every shard needs its own disk", d)
		}
		seen[abs] = true
		if err := checkUsable(d); err != nil {
			return res, err
		}
		if l, err := readLabel(d); err == nil {
			return res, &DiskError{Path: d, Kind: ErrForeignDisk, Err: fmt.Errorf("already holds vault %s", l.VaultID),
				Fix: "pick an empty disk; to reuse this one, wipe it first (this destroys its backups)"}
		}
	}
	placed, err := Place(disks, layout)
	if err != nil {
		return res, err
	}
	rk, err := keys.NewRecoveryKey()
	if err != nil {
		return res, err
	}
	master, err := keys.NewMaster()
	if err != nil {
		return res, err
	}
	var idb [16]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return res, err
	}
	id := hex.EncodeToString(idb[:])
	wrapped, err := keys.Wrap(master, rk, id)
	if err != nil {
		return res, err
	}
	created := clock.Wall().Unix()
	for i, d := range disks {
		for _, sub := range []string{segmentsDir, snapshotsDir, spoolDir} {
			if err := os.MkdirAll(filepath.Join(d, sub), 0o750); err != nil {
				return res, &DiskError{Path: d, Kind: ErrDiskReadOnly, Err: err}
			}
		}
		if err := durable.WriteFile(filepath.Join(d, keyFile), wrapped, 0o400); err != nil {
			return res, &DiskError{Path: d, Kind: ErrDiskReadOnly, Err: err}
		}
		// The lock file is made with the vault, so it belongs to whoever the
		// vault is handed to, not to the first of the agent and the warden
		// to open it.
		if err := durable.WriteFile(filepath.Join(d, lockFile), nil, 0o644); err != nil {
			return res, &DiskError{Path: d, Kind: ErrDiskReadOnly, Err: err}
		}
		l := label{Format: formatMajor, VaultID: id, Index: i, K: layout.K, M: layout.M, Created: created,
			Chunking: &labelChunking{Min: chunk.Default.Min, Avg: chunk.Default.Avg, Max: chunk.Default.Max}}
		if err := writeLabel(d, l); err != nil {
			return res, err
		}
	}
	return InitResult{VaultID: id, Layout: layout, Warning: warning, Placement: placed, RecoveryKey: rk}, nil
}

func writeLabel(dir string, l label) error {
	b, _ := jsonIndent(l)
	if err := durable.WriteFile(filepath.Join(dir, labelFile), b, 0o444); err != nil {
		return &DiskError{Path: dir, Kind: ErrDiskReadOnly, Err: err}
	}
	return nil
}

// Open opens a vault from its disks. Up to M disks may be missing; the
// vault then reads in degraded mode and refuses new backups.
func Open(opts Options) (*Vault, error) {
	opts.defaults()
	v, err := assemble(opts)
	if err != nil {
		return nil, err
	}
	if err := v.lockDisks(); err != nil {
		return nil, err
	}
	for _, d := range v.present() {
		if err := prepareSpool(d.Path); err != nil {
			v.unlockDisks()
			return nil, &DiskError{Path: d.Path, Kind: ErrDiskReadOnly, Err: fmt.Errorf("spool directory: %w", err)}
		}
	}
	if err := v.openState(); err != nil {
		v.Close()
		return nil, err
	}
	if err := v.recover(); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// assemble reads the disks' labels, checks they make one vault and
// unwraps its master key. It takes no lock and opens no state.
func assemble(opts Options) (*Vault, error) {
	if len(opts.Disks) == 0 {
		return nil, errors.New("no disks given: name every vault disk with --disk (or use the agent's --config)")
	}
	labels := map[string]label{}
	votes := map[string]int{}
	var missing []string
	for _, d := range opts.Disks {
		l, err := readLabel(d)
		if err != nil {
			if _, serr := os.Stat(d); serr == nil && os.IsNotExist(err) {
				if emptyDir(d) {
					// A new, empty disk mounted where a failed one was:
					// that slot is missing, and replace-disk rebuilds it
					// in place.
					missing = append(missing, d)
					continue
				}
				return nil, &DiskError{Path: d, Kind: ErrNotVault, Err: err,
					Fix: "this directory holds other data and no vault; if it is a new disk replacing a failed one, empty it and run 'strongroom vault replace-disk OLD " + d + "'"}
			}
			if os.IsNotExist(err) {
				missing = append(missing, d)
				continue
			}
			return nil, &DiskError{Path: d, Kind: ErrNotVault, Err: err, Fix: "check the disk at " + d + "; if it is damaged, replace it with 'strongroom vault replace-disk'"}
		}
		labels[d] = l
		votes[l.VaultID]++
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("none of the %d disks holds a vault (missing: %v): check the mounts, or create one with 'strongroom vault init'", len(opts.Disks), missing)
	}
	var vid string
	for id, n := range votes {
		if n > votes[vid] || (n == votes[vid] && id < vid) {
			vid = id
		}
	}
	v := &Vault{opts: opts, id: vid, missing: missing, shards: map[uint64]int{}, sets: map[uint64]*cachedSet{}, leftovers: map[uint64]bool{}}
	for d, l := range labels {
		if l.VaultID != vid {
			return nil, &DiskError{Path: d, Kind: ErrForeignDisk, Err: fmt.Errorf("it holds vault %s, the others hold %s", l.VaultID, vid),
				Fix: "remove " + d + " from the --disk list (or the configuration); it is another vault's disk"}
		}
		if v.disks == nil {
			v.layout = Layout{K: l.K, M: l.M}
			v.disks = make([]*disk, l.K+l.M)
			v.chunking = l.chunking()
		}
		if l.Index < 0 || l.Index >= len(v.disks) || (l.K != v.layout.K || l.M != v.layout.M) {
			return nil, &DiskError{Path: d, Kind: ErrNotVault, Err: fmt.Errorf("label says disk %d of layout %d+%d", l.Index, l.K, l.M)}
		}
		if c := l.chunking(); c != v.chunking {
			return nil, &DiskError{Path: d, Kind: ErrNotVault, Err: fmt.Errorf("label says chunking %+v, another disk's %+v", c, v.chunking)}
		}
		if other := v.disks[l.Index]; other != nil {
			return nil, fmt.Errorf("disks %s and %s both claim to be disk %d of vault %s: remove the stale copy from --disk", other.Path, d, l.Index, vid)
		}
		v.disks[l.Index] = &disk{Path: d, Index: l.Index, label: l}
	}
	v.missingPath = map[int]string{}
	for i, j := 0, 0; i < len(v.disks) && j < len(missing); i++ {
		if v.disks[i] == nil {
			v.missingPath[i] = missing[j]
			j++
		}
	}
	if lost := v.missingCount(); lost > v.layout.M {
		return nil, fmt.Errorf("vault %s: %d of %d disks are missing (%v) and layout %s survives only %d: find and mount the missing disks; no data can be read until then",
			vid, lost, v.layout.Disks(), missing, v.layout, v.layout.M)
	}
	if err := v.chunking.Validate(); err != nil {
		return nil, fmt.Errorf("vault %s: labels record unusable %w", vid, err)
	}
	if v.opts.Chunking == (chunk.Params{}) {
		v.opts.Chunking = v.chunking
	}
	hex.Decode(v.idBytes[:], []byte(vid))
	if err := v.unlock(); err != nil {
		return nil, err
	}
	return v, nil
}

// emptyDir reports whether dir holds nothing but what a fresh filesystem
// has (lost+found).
func emptyDir(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.Name() != "lost+found" {
			return false
		}
	}
	return true
}

func (v *Vault) missingCount() int {
	n := 0
	for _, d := range v.disks {
		if d == nil {
			n++
		}
	}
	return n
}

// unlock reads the wrapped master key from the first disk that has one.
func (v *Vault) unlock() error {
	var lastErr error
	for _, d := range v.present() {
		blob, err := os.ReadFile(filepath.Join(d.Path, keyFile))
		if err != nil {
			lastErr = err
			continue
		}
		m, err := keys.Unwrap(blob, v.opts.Key, v.id)
		if errors.Is(err, keys.ErrWrongKey) {
			return fmt.Errorf("vault %s: %w: give the recovery key printed by 'strongroom vault init' (--key-file or STRONGROOM_KEY_FILE)", v.id, err)
		}
		if err != nil {
			lastErr = fmt.Errorf("keyfile on %s: %w", d.Path, err)
			continue
		}
		v.master = m
		return nil
	}
	return fmt.Errorf("vault %s: no readable keyfile on any disk: %v", v.id, lastErr)
}

func (v *Vault) present() []*disk {
	var out []*disk
	for _, d := range v.disks {
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

func (v *Vault) lockDisks() error {
	for _, d := range v.present() {
		f, err := lockDisk(d.Path, true)
		if err != nil {
			v.unlockDisks()
			return err
		}
		d.lock = f
	}
	return nil
}

func (v *Vault) unlockDisks() {
	for _, d := range v.present() {
		if d.lock != nil {
			d.lock.Close()
			d.lock = nil
		}
	}
}

// DefaultWardenDir is the warden's state directory a configuration names:
// wardenDir when given, else "warden" in the state directory (itself
// "state" on the first disk by default).
func DefaultWardenDir(disks []string, stateDir, wardenDir string) string {
	if wardenDir != "" {
		return wardenDir
	}
	if stateDir == "" && len(disks) > 0 {
		stateDir = filepath.Join(disks[0], "state")
	}
	return filepath.Join(stateDir, "warden")
}

// ClockFile is the name of the trusted clock's state file in the warden's
// state directory.
const ClockFile = "clock.json"

// openState opens the index, rebuilding it from the segments when it cannot
// be opened, and follows the warden's trusted clock.
func (v *Vault) openState() error {
	if v.opts.StateDir == "" {
		v.opts.StateDir = filepath.Join(v.present()[0].Path, "state")
	}
	if err := os.MkdirAll(v.opts.StateDir, 0o750); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if v.opts.WardenDir == "" {
		v.opts.WardenDir = filepath.Join(v.opts.StateDir, "warden")
	}
	// The trusted clock belongs to the warden; the vault only reads it
	// (see storage/FORMAT.md, "Trust boundary").
	v.clock = clock.Follow(filepath.Join(v.opts.WardenDir, ClockFile), v.opts.Clock)
	ixDir := filepath.Join(v.opts.StateDir, "index")
	ix, err := index.Open(ixDir)
	if err != nil {
		v.progress("index at %s cannot be opened (%v); rebuilding it from the segments", ixDir, err)
		aside := ixDir + ".broken-" + time.Now().UTC().Format("20060102T150405")
		if rerr := os.Rename(ixDir, aside); rerr != nil {
			return fmt.Errorf("%w; moving it aside: %v", err, rerr)
		}
		if ix, err = index.Open(ixDir); err != nil {
			return err
		}
	}
	v.index = ix
	return nil
}

func (v *Vault) progress(format string, args ...any) {
	if v.opts.Progress != nil {
		v.opts.Progress(fmt.Sprintf(format, args...))
	}
}

// recover reconciles the index with the segments on disk after a crash:
// complete segments the index does not know are indexed; leftovers of an
// interrupted write that no snapshot references are removed.
func (v *Vault) recover() error {
	var maxSeen uint64
	for _, d := range v.present() {
		ids, err := d.listSegments(true)
		if err != nil {
			return fmt.Errorf("list segments on %s: %w", d.Path, err)
		}
		for _, id := range ids {
			v.shards[id]++
			maxSeen = max(maxSeen, id)
		}
	}
	indexed, err := v.index.Segments()
	if err != nil {
		return err
	}
	known := map[uint64]bool{}
	gone := map[uint64]bool{}
	for _, s := range indexed {
		known[s.ID] = true
		if v.shards[s.ID] == 0 {
			gone[s.ID] = true
		}
	}
	if len(gone) > 0 {
		// Removed by the warden's expiry while the vault was handed over:
		// later backups must not deduplicate against them.
		v.progress("forgetting %d segments the warden expired", len(gone))
		if err := v.index.RemoveSegmentsScan(gone); err != nil {
			return fmt.Errorf("forget expired segments: %w", err)
		}
	}
	var referenced map[uint64]bool
	var unknown []uint64
	for id := range v.shards {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	sort.Slice(unknown, func(i, j int) bool { return unknown[i] < unknown[j] })
	for _, id := range unknown {
		if referenced == nil {
			referenced = map[uint64]bool{}
			snaps, err := v.Snapshots()
			if err != nil {
				return err
			}
			for _, s := range snaps {
				for _, sid := range s.Segments {
					referenced[sid] = true
				}
			}
		}
		// Only a complete segment, or one a snapshot needs, is indexed. An
		// incomplete leftover is removed without ever entering the index:
		// indexing it first would leave it there, degraded, if this
		// recovery were itself interrupted.
		complete := v.shards[id] == v.layout.Disks()
		if complete || referenced[id] {
			err := v.indexSegment(id)
			if err == nil {
				continue
			}
			if referenced[id] {
				// Opening must not fail for the whole vault: other
				// snapshots stay readable, and scrub reports this one.
				v.progress("segment %d is needed by a snapshot but cannot be indexed (%v); run 'strongroom vault scrub'", id, err)
				continue
			}
		}
		v.progress("removing segment %d left over by an interrupted backup", id)
		v.forgetSet(id)
		for _, d := range v.present() {
			if rerr := os.Remove(d.segmentPath(id)); rerr != nil && !os.IsNotExist(rerr) {
				// A leftover the warden already sealed stays; it is harmless
				// and the warden's expiry removes it.
				v.progress("leftover segment %d on %s stays until the warden's expiry: %v", id, d.Path, rerr)
				v.leftovers[id] = true
			}
		}
		delete(v.shards, id)
	}
	// New segments take IDs above every ID ever seen, including leftovers
	// that could not be removed: reusing one would collide with its files.
	v.nextSeg = max(v.index.HighWater(), maxSeen) + 1
	return nil
}

// indexSegment reads a segment's table and adds it to the index.
func (v *Vault) indexSegment(id uint64) error {
	set, release, err := v.openSet(id)
	if err != nil {
		return err
	}
	defer release()
	entries, err := set.ReadTable(v.tableOpener(id))
	if err != nil {
		return err
	}
	var raw uint64
	for _, e := range entries {
		raw += uint64(e.RawLen)
	}
	info := index.SegmentInfo{ID: id, PayloadLen: set.Header.PayloadLen, Chunks: uint32(len(entries)), RawBytes: raw, Created: set.Header.Created}
	return v.index.AddSegment(info, entries)
}

func (v *Vault) segmentTable(id uint64) ([]segment.Entry, error) {
	set, release, err := v.openSet(id)
	if err != nil {
		return nil, err
	}
	defer release()
	return set.ReadTable(v.tableOpener(id))
}

func tableAD(id uint64) []byte { return fmt.Appendf(nil, "strongroom table %d", id) }

func (v *Vault) tableOpener(id uint64) func([]byte) ([]byte, error) {
	aead := v.master.SegmentCipher(id)
	return func(sealed []byte) ([]byte, error) { return keys.Open(aead, nil, sealed, tableAD(id)) }
}

// shardPaths lists where each shard of a segment lives ("" when its disk
// is missing).
func (v *Vault) shardPaths(id uint64) []string {
	paths := make([]string, len(v.disks))
	for i, d := range v.disks {
		if d != nil {
			paths[i] = d.segmentPath(id)
		}
	}
	return paths
}

const maxOpenSets = 64

// cachedSet is an open segment shared by readers. It is closed only when
// it has left the cache and its last reader has released it, so eviction
// or a scrub never closes files under a read in progress.
type cachedSet struct {
	set     *segment.Set
	refs    int
	dropped bool
}

// openSet returns an open segment and the function that releases it.
func (v *Vault) openSet(id uint64) (*segment.Set, func(), error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.sets[id]
	if c == nil {
		s, err := segment.OpenSet(id, v.shardPaths(id))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if len(v.setOrder) >= maxOpenSets {
			v.dropLocked(v.setOrder[0])
		}
		c = &cachedSet{set: s}
		v.sets[id] = c
		v.setOrder = append(v.setOrder, id)
	}
	c.refs++
	var once sync.Once
	return c.set, func() {
		once.Do(func() {
			v.mu.Lock()
			defer v.mu.Unlock()
			c.refs--
			if c.dropped && c.refs == 0 {
				c.set.Close()
			}
		})
	}, nil
}

// dropLocked takes a segment out of the cache, closing it now if nobody
// reads it. v.mu is held.
func (v *Vault) dropLocked(id uint64) {
	c := v.sets[id]
	if c == nil {
		return
	}
	delete(v.sets, id)
	for i, o := range v.setOrder {
		if o == id {
			v.setOrder = append(v.setOrder[:i], v.setOrder[i+1:]...)
			break
		}
	}
	c.dropped = true
	if c.refs == 0 {
		c.set.Close()
	}
}

// forgetSet drops a cached segment (after its files changed).
func (v *Vault) forgetSet(id uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.dropLocked(id)
}

// ID is the vault's identifier.
func (v *Vault) ID() string { return v.id }

// Layout is the vault's erasure-coding layout.
func (v *Vault) Layout() Layout { return v.layout }

// Clock is a read-only view of the warden's trusted compliance clock.
func (v *Vault) Clock() *clock.Follower { return v.clock }

// WardenDir is the warden's state directory this vault reads the trusted
// clock from.
func (v *Vault) WardenDir() string { return v.opts.WardenDir }

// Degraded reports whether any disk is missing.
func (v *Vault) Degraded() bool { return v.missingCount() > 0 }

// Close releases the vault.
func (v *Vault) Close() error {
	v.mu.Lock()
	for id := range v.sets {
		v.dropLocked(id)
	}
	v.mu.Unlock()
	var err error
	if v.index != nil {
		err = v.index.Close()
		v.index = nil
	}
	v.unlockDisks()
	return err
}

// StateDir is where the vault keeps derived state (the index); other
// derived data of the agent (the catalog) lives beside it.
func (v *Vault) StateDir() string { return v.opts.StateDir }
