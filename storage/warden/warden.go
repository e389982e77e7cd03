package warden

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// DefaultOrphanGrace is how long a sealed segment that no snapshot names
// (left by an interrupted backup, or written and never committed) is kept
// after the warden first saw it.
const DefaultOrphanGrace = 7 * 24 * time.Hour

// Options configure a Warden.
type Options struct {
	// Disks are the vault's disk directories.
	Disks []string
	// Key is the recovery key: the warden reads manifests with it.
	Key keys.RecoveryKey
	// Dir is the warden's own state directory: the trusted clock, the
	// ledger and the published status. Only the warden may write it.
	Dir string
	// Wall replaces the wall clock and Elapsed the monotonic witness
	// (tests only).
	Wall    clock.Source
	Elapsed clock.Elapsed
	// OrphanGrace overrides DefaultOrphanGrace.
	OrphanGrace time.Duration
	// HandoverWait bounds how long expiry waits for the agent to hand the
	// vault over (default 10 minutes).
	HandoverWait time.Duration
	// RequestOwners are the user IDs whose requests (confirm.request) the
	// warden accepts: root's only by default.
	RequestOwners []int
}

// Warden seals the vault's files, keeps its own ledger of them, owns the
// trusted clock and expires what its ledger says has expired. Its methods
// are safe for concurrent use.
type Warden struct {
	opts    Options
	custody *vault.Custody
	clock   *clock.Clock

	mu      sync.Mutex
	ledger  *ledger
	rebuilt string // why the ledger was started over; expiry waits for a confirmation
	status  Status
	// verified lists, per snapshot, the disks whose manifest copy was
	// checked against the ledger since the warden started.
	verified map[string]map[string]bool
	// notes are lasting alerts: unreadable or disagreeing copies.
	notes []string
	// problems are the last seal round's signs of tampering or damage.
	problems []string
}

// Status is what the warden publishes in its state directory for the agent
// (metrics) and the console to read.
type Status struct {
	Updated   time.Time    `json:"updated"`
	PID       int          `json:"pid"` // the warden's process
	Clock     clock.Status `json:"clock"`
	Snapshots int          `json:"snapshots"`      // recorded and not expired
	Segments  int          `json:"segments"`       // recorded and not expired
	Records   uint64       `json:"ledger_records"` // lines in the ledger
	Rebuilt   string       `json:"ledger_rebuilt"` // non-empty while a rebuilt ledger awaits confirmation
	Alerts    []string     `json:"alerts"`         // what needs a person now
	LastSeal  time.Time    `json:"last_seal"`      // last complete seal round
	LastSealN int          `json:"last_sealed"`    // files sealed in that round
	LastExp   time.Time    `json:"last_expire"`    // last expiry round that ran
	Expired   int          `json:"expired_total"`  // snapshots expired since start
	LastError string       `json:"last_error"`     // of the last round, empty when it succeeded
	Frozen    string       `json:"expiry_frozen"`  // why expiry does not run, empty when it may
}

// StatusFile is the name of the published status in the warden's directory.
const StatusFile = "status.json"

// Open starts the warden: it opens the trusted clock (strict: a missing or
// unreadable state freezes expiry until confirmed, unless the vault holds
// no snapshot yet) and the ledger (a damaged one is kept aside and
// rebuilt from the sealed manifests, and expiry waits for a confirmation).
func Open(opts Options) (*Warden, error) {
	if opts.Dir == "" {
		return nil, errors.New("warden: no state directory given")
	}
	if opts.OrphanGrace <= 0 {
		opts.OrphanGrace = DefaultOrphanGrace
	}
	if opts.HandoverWait <= 0 {
		opts.HandoverWait = 10 * time.Minute
	}
	if opts.Elapsed == nil {
		opts.Elapsed = clock.SystemElapsed
	}
	if opts.RequestOwners == nil {
		// Root only: the console's operator. Not the warden's own user: a
		// file it writes could be steered where a request is looked for.
		opts.RequestOwners = []int{0}
	}
	if boot, _ := opts.Elapsed(); boot == "" {
		return nil, errors.New("warden: the boot ID (/proc/sys/kernel/random/boot_id) cannot be read, and without it the monotonic clock cannot witness elapsed time; give the warden's unit a full /proc/sys (no ProcSubset=pid)")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("warden state directory: %w", err)
	}
	cust, err := vault.OpenCustody(opts.Disks, opts.Key)
	if err != nil {
		return nil, err
	}
	// A hand-over request left by a warden that was stopped while waiting
	// would keep the agent waiting for a vault nobody takes.
	vault.EndHandover(opts.Disks)
	w := &Warden{opts: opts, custody: cust}
	clockPath := filepath.Join(opts.Dir, vault.ClockFile)
	_, statErr := os.Stat(clockPath)
	_, ledgerErr := os.Stat(filepath.Join(opts.Dir, ledgerFile))
	holds := w.holdsSnapshots()
	fresh := os.IsNotExist(statErr) && os.IsNotExist(ledgerErr) && !holds
	copts := []clock.Option{clock.Monotonic(opts.Elapsed)}
	if !fresh {
		copts = append(copts, clock.Strict())
	}
	c, err := clock.Open(clockPath, opts.Wall, copts...)
	if err != nil {
		return nil, err
	}
	w.clock = c
	l, err := openLedger(opts.Dir)
	if errors.Is(err, errLedgerDamaged) || (err == nil && os.IsNotExist(ledgerErr) && holds) {
		why := "the ledger was missing while the vault holds snapshots"
		if err != nil {
			why = err.Error()
			if merr := moveAside(opts.Dir, c.Now()); merr != nil {
				c.Close()
				return nil, fmt.Errorf("%v; moving it aside: %w", err, merr)
			}
		} else {
			l.close()
		}
		l, err = openLedger(opts.Dir)
		w.rebuilt = why + "; it was rebuilt from the sealed manifests, and expiry waits until an operator confirms"
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	w.ledger = l
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rebuilt != "" {
		// Record what the disks hold now, so that nothing locked can look
		// unreferenced; the seal round's problems become alerts.
		rep, err := w.sealLocked()
		if err != nil {
			w.status.LastError = "rebuild the ledger: " + err.Error()
		}
		w.problems = rep.Problems
	}
	w.publishLocked()
	return w, nil
}

// holdsSnapshots reports whether any disk holds a snapshot file.
func (w *Warden) holdsSnapshots() bool {
	for _, d := range w.opts.Disks {
		ents, _ := os.ReadDir(filepath.Join(d, "snapshots"))
		if len(ents) > 0 {
			return true
		}
	}
	return false
}

// Close releases the clock and the ledger.
func (w *Warden) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.ledger.close()
	if cerr := w.clock.Close(); err == nil {
		err = cerr
	}
	return err
}

// Clock is the warden's trusted clock.
func (w *Warden) Clock() *clock.Clock { return w.clock }

// SealReport is what a seal round did.
type SealReport struct {
	vault.SealReport
	NewSnapshots []string `json:"new_snapshots,omitempty"`
	NewSegments  int      `json:"new_segments"`
}

// Seal seals every complete file and the vault's directories, and records
// in the ledger every snapshot and segment it has not recorded before,
// with the retain-until its manifest and extensions give. Copies of a
// manifest that disagree are recorded too (the ledger keeps the union of
// their segments and the latest retain-until) and raise an alert.
func (w *Warden) Seal() (SealReport, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rep, err := w.sealLocked()
	w.status.LastError = ""
	if err != nil {
		w.status.LastError = "seal: " + err.Error()
	} else {
		w.status.LastSeal, w.status.LastSealN = w.clock.Now(), rep.Sealed
	}
	w.problems = rep.Problems
	w.publishLocked()
	return rep, err
}

func (w *Warden) sealLocked() (SealReport, error) {
	var rep SealReport
	sr, err := w.custody.Seal()
	rep.SealReport = sr
	if err != nil {
		return rep, err
	}
	now := w.clock.Now()
	var recs []record
	seenSeg := map[uint64]bool{}
	manifests := map[string]map[string]bool{} // snapshot -> disks holding a sealed copy
	retains := map[string]time.Time{}
	for _, d := range sr.Disks {
		for _, id := range d.Segments {
			if w.ledger.segs[id] == nil && !seenSeg[id] {
				seenSeg[id] = true
				recs = append(recs, record{At: now, Kind: kindSegment, Segment: id})
				rep.NewSegments++
			}
		}
		for _, id := range d.Manifests {
			if manifests[id] == nil {
				manifests[id] = map[string]bool{}
			}
			manifests[id][d.Path] = true
		}
		for id, t := range d.Retains {
			if t.After(retains[id]) {
				retains[id] = t
			}
		}
	}
	ids := make([]string, 0, len(manifests))
	for id := range manifests {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var checked []func()
	recorded := map[string]bool{}
	for _, id := range ids {
		if s := w.ledger.snaps[id]; s != nil && s.Expired {
			rep.Problems = append(rep.Problems, fmt.Sprintf("snapshot %s was expired and removed, yet a sealed manifest of that ID is back: nothing more expires until a person looks", id))
			continue
		}
		r, done := w.readManifests(id, manifests[id], now)
		recs = append(recs, r...)
		checked = append(checked, done)
		if w.ledger.snaps[id] != nil || len(r) > 0 {
			recorded[id] = true
		}
	}
	for id, t := range retains {
		s := w.ledger.snaps[id]
		switch {
		case s != nil && s.Expired:
			rep.Problems = append(rep.Problems, fmt.Sprintf("a retention record for snapshot %s appeared after it was expired", id))
			continue
		case s == nil && !recorded[id]:
			// No manifest recorded for this ID (yet): a retention record
			// alone makes no snapshot; it counts once the manifest does.
			continue
		case s != nil && !t.After(s.RetainUntil):
			continue
		}
		recs = append(recs, record{At: now, Kind: kindRetain, Snapshot: id, RetainUntil: t})
	}
	if err := w.ledger.append(recs...); err != nil {
		return rep, err
	}
	// Only what is in the ledger counts as checked.
	for _, done := range checked {
		done()
	}
	for _, r := range recs {
		if r.Kind == kindSnapshot {
			rep.NewSnapshots = append(rep.NewSnapshots, r.Snapshot)
		}
	}
	return rep, nil
}

// readManifests decodes the sealed copies (on disks) of a snapshot's
// manifest that the warden has not checked yet and returns the records to
// add: the snapshot when it is new, the union of a disagreeing copy, or
// "unreadable" when no copy decodes; and a function that marks those
// copies checked, to call once the records are in the ledger. Every copy
// is checked once per warden start.
func (w *Warden) readManifests(id string, disks map[string]bool, now time.Time) ([]record, func()) {
	if w.verified == nil {
		w.verified = map[string]map[string]bool{}
	}
	done := w.verified[id]
	todo := map[string]bool{}
	for d := range disks {
		if !done[d] {
			todo[d] = true
		}
	}
	mark := func() {
		if w.verified[id] == nil {
			w.verified[id] = map[string]bool{}
		}
		for d := range todo {
			w.verified[id][d] = true
		}
	}
	if len(todo) == 0 {
		return nil, mark
	}
	known := w.ledger.snaps[id]
	var recs []record
	var ref *vault.Snapshot
	if known != nil && !known.Unreadable {
		ref = &vault.Snapshot{ID: id, Created: known.Created, RetainUntil: known.RetainUntil, Segments: known.SegmentList()}
	}
	decoded := false
	for _, c := range w.custody.Manifests(id, todo) {
		if c.Err != nil {
			w.noteLocked(fmt.Sprintf("snapshot %s: the copy on %s cannot be read (%v); scrub repairs it from another disk", id, c.Disk, c.Err))
			continue
		}
		decoded = true
		s := c.Snapshot
		if ref == nil {
			ref = s
			recs = append(recs, record{At: now, Kind: kindSnapshot, Snapshot: id, Created: s.Created, RetainUntil: s.RetainUntil, Segments: slices.Clone(s.Segments)})
			continue
		}
		if !s.RetainUntil.Equal(ref.RetainUntil) || !sameSegments(s.Segments, ref.Segments) {
			w.noteLocked(fmt.Sprintf("snapshot %s: the copy on %s disagrees with the others (retain-until %s, %d segments); the warden keeps the union and the latest date",
				id, c.Disk, s.RetainUntil.Format(time.RFC3339), len(s.Segments)))
			recs = append(recs, record{At: now, Kind: kindRetain, Snapshot: id, RetainUntil: s.RetainUntil, Segments: slices.Clone(s.Segments)})
		}
	}
	if known == nil && !decoded {
		recs = append(recs, record{At: now, Kind: kindUnreadable, Snapshot: id})
	}
	return recs, mark
}

func sameSegments(a, b []uint64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// noteLocked keeps an alert until the warden restarts. w.mu is held.
func (w *Warden) noteLocked(msg string) {
	if !slices.Contains(w.notes, msg) {
		w.notes = append(w.notes, msg)
	}
}
