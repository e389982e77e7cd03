package offsite

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/blake3"

	"github.com/strongroom/strongroom/storage/vault"
)

// Copier copies one vault's sealed files to a Store (Sync) and checks the
// copy (Verify). One Copier runs at a time per vault.
type Copier struct {
	Store *Store
	Vault *vault.Sealed
	// Now is the trusted clock (the warden's, read through a follower):
	// snapshots whose retain-until has passed on it are not copied.
	Now func() time.Time
	// Parallel is how many segments are copied at once (default 4).
	Parallel int
	// Progress, when set, is called after each object with the report so
	// far. It must not block.
	Progress func(Report)
}

// Report is what one Sync or Verify did and found.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Snapshots is how many sealed snapshots are within retention;
	// SnapshotsOffsite how many of them are complete in the store, every
	// object present under a COMPLIANCE lock long enough.
	Snapshots        int `json:"snapshots"`
	SnapshotsOffsite int `json:"snapshots_offsite"`
	// NewestLocal and NewestOffsite are snapshot IDs ("" for none).
	NewestLocal   string `json:"newest_local,omitempty"`
	NewestOffsite string `json:"newest_offsite,omitempty"`
	// LagSeconds is how long the oldest snapshot not yet offsite has been
	// waiting on the trusted clock (0 when every snapshot is offsite).
	LagSeconds     float64  `json:"lag_seconds"`
	ObjectsCopied  int64    `json:"objects_copied"`
	BytesCopied    int64    `json:"bytes_copied"`
	LocksExtended  int64    `json:"locks_extended"`
	ObjectsChecked int64    `json:"objects_checked"`
	Errors         []string `json:"errors,omitempty"`
}

// maxReportErrors bounds the errors a report lists; the rest are counted.
const maxReportErrors = 20

// run is one pass over the plan; write false only checks (Verify).
type run struct {
	c      *Copier
	ctx    context.Context
	write  bool
	vp     string // the vault's prefix in the bucket
	listed map[string][]Version

	// until is when each segment the live snapshots need may go; fresh
	// lists the segments this run uploaded (for the index checkpoint).
	until map[uint64]time.Time
	fresh []uint64

	mu      sync.Mutex
	rep     Report
	nErrors int
}

// Sync copies what is missing, extends locks that are too short, and checks
// every object it relies on with HEAD. A manifest goes up only after every
// segment it names and the keyfile are in place and locked, so the copy
// never names data it lacks. It returns an error when anything failed;
// the report then says what did.
func (c *Copier) Sync(ctx context.Context) (Report, error) { return c.pass(ctx, true) }

// Verify checks with HEAD that every object the sealed snapshots within
// retention need is in the store, in its original version, under a
// COMPLIANCE lock until at least their retain-until. It changes nothing.
func (c *Copier) Verify(ctx context.Context) (Report, error) { return c.pass(ctx, false) }

func (c *Copier) pass(ctx context.Context, write bool) (Report, error) {
	r := &run{c: c, ctx: ctx, write: write, vp: c.Store.vaultPrefix(c.Vault.ID())}
	r.rep.Started = c.Now()
	if err := c.Store.Check(ctx); err != nil {
		return r.rep, err
	}
	snaps, err := c.Vault.Snapshots()
	if err != nil {
		return r.rep, err
	}
	now := c.Now()
	live := snaps[:0]
	for _, s := range snaps {
		if s.RetainUntil.After(now) {
			live = append(live, s)
		}
	}
	if r.listed, err = c.Store.List(ctx, c.Vault.ID()+"/"); err != nil {
		return r.rep, err
	}
	r.rep.Snapshots = len(live)
	segOK := r.segments(live)
	r.checkpoints()
	keyOK := r.keyfile(live)
	r.snapshots(live, segOK, keyOK, now)
	r.rep.Finished = c.Now()
	if r.nErrors > 0 {
		return r.rep, fmt.Errorf("offsite %s: %d objects failed, first: %s", map[bool]string{true: "sync", false: "verify"}[write], r.nErrors, r.rep.Errors[0])
	}
	return r.rep, nil
}

func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nErrors++
	if len(r.rep.Errors) < maxReportErrors {
		r.rep.Errors = append(r.rep.Errors, err.Error())
	}
}

func (r *run) count(f func(*Report)) {
	r.mu.Lock()
	f(&r.rep)
	rep := r.rep
	r.mu.Unlock()
	if r.c.Progress != nil {
		rep.Errors = append([]string(nil), rep.Errors...)
		r.c.Progress(rep)
	}
}

// segments brings every segment the live snapshots name into the store,
// locked until the latest retain-until among them. It returns the segments
// that are in place; a missing entry is pending or failed.
func (r *run) segments(live []vault.SealedSnapshot) map[uint64]bool {
	until := map[uint64]time.Time{}
	r.until = until
	for _, s := range live {
		for _, id := range s.Segments {
			if s.RetainUntil.After(until[id]) {
				until[id] = s.RetainUntil
			}
		}
	}
	byID := map[uint64]string{}
	for name := range r.listed {
		if id, _, ok := parseSegmentName(strings.TrimPrefix(name, r.vp)); ok {
			if _, held := Original(r.listed[name]); held {
				byID[id] = name
			}
		}
	}
	ids := make([]uint64, 0, len(until))
	for id := range until {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	ok := map[uint64]bool{}
	var mu sync.Mutex
	work := make(chan uint64)
	var wg sync.WaitGroup
	workers := r.c.Parallel
	if workers <= 0 {
		workers = 4
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if r.segment(id, byID[id], until[id]) {
					mu.Lock()
					ok[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		if r.ctx.Err() != nil {
			break
		}
		work <- id
	}
	close(work)
	wg.Wait()
	return ok
}

func (r *run) segment(id uint64, name string, until time.Time) bool {
	if name != "" {
		return r.ensureLock(name, until)
	}
	if !r.write {
		r.fail(fmt.Errorf("segment %d is missing from the store: run 'strongroom offsite sync'", id))
		return false
	}
	n, err := r.uploadSegment(id, until)
	if errors.Is(err, vault.ErrNotSealed) {
		return false // the warden seals it within a minute; the next run copies it
	}
	if err != nil {
		r.fail(err)
		return false
	}
	r.count(func(rep *Report) {
		rep.ObjectsCopied++
		rep.BytesCopied += n
		rep.ObjectsChecked++
		r.fresh = append(r.fresh, id)
	})
	return true
}

// uploadSegment reads a sealed segment's payload once into memory (a
// segment is at most a few tens of MiB), names it by its hash and PUTs
// it from there. BLAKE3 names it: half the CPU of SHA-256 here, and CPU
// is what the copy competes for.
func (r *run) uploadSegment(id uint64, until time.Time) (int64, error) {
	g, err := r.c.Vault.Segment(id)
	if err != nil {
		return 0, err
	}
	defer g.Close()
	bp := payloadBuffers.Get().(*[]byte)
	defer payloadBuffers.Put(bp)
	if int64(cap(*bp)) < g.Len() {
		*bp = make([]byte, g.Len())
	}
	p := (*bp)[:g.Len()]
	if _, err := g.ReadAt(p, 0); err != nil && err != io.EOF {
		return 0, fmt.Errorf("read segment %d: %w", id, err)
	}
	sum := blake3.Sum256(p)
	name := r.vp + segmentName(id, hex.EncodeToString(sum[:]))
	meta := map[string]string{createdMeta: strconv.FormatInt(g.Created(), 10)}
	if _, err := r.c.Store.Put(r.ctx, name, bytes.NewReader(p), g.Len(), until, meta); err != nil {
		return 0, err
	}
	return g.Len(), nil
}

// payloadBuffers keeps one payload buffer per copying worker between
// segments.
var payloadBuffers = sync.Pool{New: func() any { return new([]byte) }}

// ensureLock checks an object's original version with HEAD and, when
// writing, extends a lock that is too short.
func (r *run) ensureLock(name string, until time.Time) bool {
	v, _ := Original(r.listed[name])
	tampered := len(r.listed[name]) > 1
	if tampered {
		r.fail(fmt.Errorf("%s has %d versions or delete markers written after the copy's own: someone holding the bucket's credentials tried to overwrite or delete it. "+
			"The original version is kept and is what recovery reads; rotate the offsite credentials and find who used them", name, len(r.listed[name])-1))
	}
	l, err := r.c.Store.Head(r.ctx, name, v.ID)
	if err != nil {
		r.fail(err)
		return false
	}
	if l.Covers(until) {
		r.count(func(rep *Report) { rep.ObjectsChecked++ })
		return true
	}
	if tampered {
		// Some servers (versitygw 1.8) leave the lock headers off a HEAD
		// of a version that is no longer the newest; the lock still holds,
		// but it cannot be checked or safely extended from here.
		return false
	}
	if !r.write {
		r.fail(fmt.Errorf("%s is locked %q until %s but must stay COMPLIANCE-locked until %s: run 'strongroom offsite sync'",
			name, l.Mode, l.Until.Format(time.RFC3339), until.UTC().Format(time.RFC3339)))
		return false
	}
	if _, err := r.c.Store.Extend(r.ctx, name, v.ID, until); err != nil {
		r.fail(err)
		return false
	}
	r.count(func(rep *Report) { rep.LocksExtended++; rep.ObjectsChecked++ })
	return true
}

// small brings a small object (keyfile, manifest, retention record) into
// the store under its fixed name.
func (r *run) small(rel string, data []byte, until time.Time) bool {
	name := r.vp + rel
	if _, held := Original(r.listed[name]); held {
		return r.ensureLock(name, until)
	}
	if !r.write {
		r.fail(fmt.Errorf("%s is missing from the store: run 'strongroom offsite sync'", name))
		return false
	}
	if _, err := r.c.Store.Put(r.ctx, name, bytes.NewReader(data), int64(len(data)), until, nil); err != nil {
		r.fail(err)
		return false
	}
	r.count(func(rep *Report) { rep.ObjectsCopied++; rep.BytesCopied += int64(len(data)); rep.ObjectsChecked++ })
	return true
}

// checkpointSegments is how many segments' tables one index checkpoint
// holds at most (a few MiB).
const checkpointSegments = 512

// checkpoints keeps the locks of the index checkpoints already in the
// store as long as the segments they cover, and writes new ones for the
// segments this run uploaded. A missing checkpoint costs recovery two
// ranged reads per segment, nothing else, so failures here are reported
// but hold nothing back.
func (r *run) checkpoints() {
	for name := range r.listed {
		first, last, ok := parseCheckpointName(strings.TrimPrefix(name, r.vp))
		if !ok {
			continue
		}
		if until := r.latest(first, last); !until.IsZero() {
			r.ensureLock(name, until)
		}
	}
	sort.Slice(r.fresh, func(i, j int) bool { return r.fresh[i] < r.fresh[j] })
	for i := 0; r.write && i < len(r.fresh); i += checkpointSegments {
		if err := r.writeCheckpoint(r.fresh[i:min(i+checkpointSegments, len(r.fresh))]); err != nil {
			r.fail(err)
		}
	}
}

// latest is the latest retain-until of the live segments in [first, last].
func (r *run) latest(first, last uint64) time.Time {
	var t time.Time
	for id, u := range r.until {
		if id >= first && id <= last && u.After(t) {
			t = u
		}
	}
	return t
}

func (r *run) writeCheckpoint(ids []uint64) error {
	recs := make([]vault.TableRecord, 0, len(ids))
	for _, id := range ids {
		g, err := r.c.Vault.Segment(id)
		if err != nil {
			return err
		}
		rec, err := g.TableRecord()
		g.Close()
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	b := vault.EncodeCheckpoint(recs)
	sum := blake3.Sum256(b)
	name := r.vp + checkpointName(ids[0], ids[len(ids)-1], hex.EncodeToString(sum[:]))
	if _, err := r.c.Store.Put(r.ctx, name, bytes.NewReader(b), int64(len(b)), r.latest(ids[0], ids[len(ids)-1]), nil); err != nil {
		return err
	}
	r.count(func(rep *Report) { rep.ObjectsCopied++; rep.BytesCopied += int64(len(b)); rep.ObjectsChecked++ })
	return nil
}

func (r *run) keyfile(live []vault.SealedSnapshot) bool {
	var until time.Time
	for _, s := range live {
		if s.RetainUntil.After(until) {
			until = s.RetainUntil
		}
	}
	if until.IsZero() {
		return false
	}
	kf, err := r.c.Vault.Keyfile()
	if err != nil {
		r.fail(err)
		return false
	}
	return r.small(keyfileName, kf, until)
}

// snapshots copies the manifest and retention record of each snapshot
// whose segments are all in place, and works out the lag.
func (r *run) snapshots(live []vault.SealedSnapshot, segOK map[uint64]bool, keyOK bool, now time.Time) {
	var waiting time.Time
	for _, s := range live {
		ready := keyOK
		for _, id := range s.Segments {
			ready = ready && segOK[id]
		}
		if ready && r.ctx.Err() == nil {
			ready = r.small(manifestName(s.ID), s.Manifest, s.RetainUntil) &&
				r.small(retainName(s.ID, ceilSecond(s.RetainUntil).Unix()), nil, s.RetainUntil)
		}
		r.rep.NewestLocal = s.ID
		if ready {
			r.rep.SnapshotsOffsite++
			r.rep.NewestOffsite = s.ID
			continue
		}
		if waiting.IsZero() {
			waiting = s.Created
		}
	}
	if !waiting.IsZero() && now.After(waiting) {
		r.rep.LagSeconds = now.Sub(waiting).Seconds()
	}
}
