package warden

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrFrozen is wrapped by Expire's error when expiry must not run: the
// clock awaits a confirmation, the ledger was rebuilt, a disk is missing,
// or the disks show signs of tampering. Nothing is removed then.
var ErrFrozen = errors.New("expiry is frozen")

// ExpireReport says what an expiry round removed.
type ExpireReport struct {
	Snapshots []string `json:"snapshots"`
	Segments  []uint64 `json:"segments"`
	Kept      int      `json:"kept"`
}

// Expire removes the snapshots whose retain-until, in the warden's own
// ledger, has passed on the warden's own clock, then the segments that no
// snapshot the ledger keeps names and that were once named by an expired
// one, or that no snapshot ever named and the warden first saw more than
// the orphan grace ago. Before anything is removed it seals and records
// what is on the disks, takes the vault from the agent, and checks the
// disks: a missing disk, a missing or replaced directory, a missing copy
// of a manifest the ledger keeps, or an unreadable manifest stops it with
// an error wrapping ErrFrozen.
func (w *Warden) Expire() (ExpireReport, error) {
	rep, err := w.expire()
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		w.status.LastExp = w.clock.Now()
		w.status.Expired += len(rep.Snapshots)
		w.status.Frozen = ""
	case errors.Is(err, ErrFrozen):
		w.status.Frozen = err.Error()
	default:
		w.status.LastError = "expire: " + err.Error()
	}
	w.publishLocked()
	return rep, err
}

func (w *Warden) frozen() error {
	if ok, why := w.clock.ExpiryAllowed(); !ok {
		return fmt.Errorf("%w: %s; confirm the time at the console (key c) or with 'strongroom warden confirm'", ErrFrozen, why)
	}
	if w.rebuilt != "" {
		return fmt.Errorf("%w: %s", ErrFrozen, w.rebuilt)
	}
	if m := w.custody.Missing(); len(m) > 0 {
		// Expiring with a disk away would leave that disk's copies of the
		// expired manifests behind, naming segments that are gone.
		return fmt.Errorf("%w: a disk is missing (%s); replace or re-attach it first", ErrFrozen, strings.Join(m, ", "))
	}
	return nil
}

// expire is Expire without the status: it takes the vault from the agent,
// seals and checks the disks, then removes what the ledger lets go.
func (w *Warden) expire() (ExpireReport, error) {
	var rep ExpireReport
	w.mu.Lock()
	if err := w.frozen(); err != nil {
		w.mu.Unlock()
		return rep, err
	}
	w.mu.Unlock()
	release, err := w.custody.TakeVault(w.opts.HandoverWait)
	if err != nil {
		return rep, fmt.Errorf("%w (the agent hands the vault over between jobs; a long backup may hold it past %s, and the next round tries again)", err, w.opts.HandoverWait)
	}
	defer release()

	w.mu.Lock()
	defer w.mu.Unlock()
	sr, err := w.sealForExpiryLocked()
	if err != nil {
		return rep, err
	}
	now := w.clock.Now()
	if err := w.checkManifestsLocked(sr, now); err != nil {
		return rep, err
	}
	if err := w.expireSnapshotsLocked(&rep, now); err != nil {
		return rep, err
	}
	return rep, w.expireSegmentsLocked(&rep, now)
}

// sealForExpiryLocked seals and records what the agent committed up to the
// hand-over, before anything is judged, and fails wrapping ErrFrozen when
// the disks show problems or expiry is frozen.
func (w *Warden) sealForExpiryLocked() (SealReport, error) {
	sr, err := w.sealLocked()
	if err != nil {
		return sr, err
	}
	w.problems = sr.Problems
	if len(sr.Problems) > 0 {
		return sr, fmt.Errorf("%w: %s", ErrFrozen, strings.Join(sr.Problems, "; "))
	}
	return sr, w.frozen()
}

// checkManifestsLocked fails wrapping ErrFrozen unless every snapshot the
// ledger keeps still has its manifest on every disk (a copy gone means
// someone removed or hid it) and every one has a readable manifest.
func (w *Warden) checkManifestsLocked(sr SealReport, now time.Time) error {
	onDisk := map[string]int{}
	for _, d := range sr.Disks {
		for _, id := range d.Manifests {
			onDisk[id]++
		}
	}
	var lost []string
	for id, s := range w.ledger.snaps {
		if s.Expired {
			continue
		}
		if s.Unreadable {
			// Its retain-until and segments are unknown: never expired,
			// and nothing else is while it stands.
			return fmt.Errorf("%w: snapshot %s has no readable manifest, so its retention and the segments it needs are unknown; run 'strongroom vault scrub --repair'", ErrFrozen, id)
		}
		if now.After(s.RetainUntil) {
			// Due for removal anyway: copies already gone are those of
			// an earlier round that stopped half way.
			continue
		}
		if onDisk[id] < len(sr.Disks) {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		return fmt.Errorf("%w: %d snapshots the warden recorded are missing from a disk (%s); nothing is removed until they are back (scrub copies them)",
			ErrFrozen, len(lost), strings.Join(lost, ", "))
	}
	return nil
}

// expireSnapshotsLocked removes, in order of id, the snapshots whose
// retain-until has passed and records them in the ledger, also when a
// removal fails; it counts the snapshots kept.
func (w *Warden) expireSnapshotsLocked(rep *ExpireReport, now time.Time) error {
	var recs []record
	ids := make([]string, 0, len(w.ledger.snaps))
	for id := range w.ledger.snaps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := w.ledger.snaps[id]
		if s.Expired {
			continue
		}
		if s.Unreadable || !now.After(s.RetainUntil) {
			rep.Kept++
			continue
		}
		if err := w.custody.RemoveSnapshot(id); err != nil {
			w.ledger.append(recs...)
			return err
		}
		recs = append(recs, record{At: now, Kind: kindExpiredSnap, Snapshot: id})
		rep.Snapshots = append(rep.Snapshots, id)
	}
	return w.ledger.append(recs...)
}

// expireSegmentsLocked removes, in order, the segments the ledger lets go
// (see removable) and records them in the ledger, also when a removal
// fails.
func (w *Warden) expireSegmentsLocked(rep *ExpireReport, now time.Time) error {
	var recs []record
	segs := make([]uint64, 0, len(w.ledger.segs))
	for id, s := range w.ledger.segs {
		if !s.Expired {
			segs = append(segs, id)
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i] < segs[j] })
	for _, id := range segs {
		if !w.removable(id, now) {
			continue
		}
		if err := w.custody.RemoveSegment(id); err != nil {
			w.ledger.append(recs...)
			return err
		}
		recs = append(recs, record{At: now, Kind: kindExpiredSegment, Segment: id})
		rep.Segments = append(rep.Segments, id)
	}
	return w.ledger.append(recs...)
}

// removable reports whether the ledger lets segment id go: no snapshot it
// keeps names it, and either an expired snapshot named it or none ever did
// and it is older than the orphan grace.
func (w *Warden) removable(id uint64, now time.Time) bool {
	names := w.ledger.refs[id]
	for _, sid := range names {
		if !w.ledger.snaps[sid].Expired {
			return false
		}
	}
	if len(names) > 0 {
		return true
	}
	return now.Sub(w.ledger.segs[id].FirstSeen) > w.opts.OrphanGrace
}
