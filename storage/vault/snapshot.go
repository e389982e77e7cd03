package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/keys"
)

const (
	snapExt      = ".snap"
	retainInfix  = ".retain-"
	snapMagic    = "SRSNAP01"
	snapshotIDTS = "20060102T150405.000000Z"
)

// Snapshot is a committed, visible restore point.
type Snapshot struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Created     time.Time         `json:"created"`
	RetainUntil time.Time         `json:"retain_until"`
	Meta        map[string]string `json:"meta,omitempty"`
	Items       int64             `json:"items"`
	Bytes       int64             `json:"bytes"`     // logical bytes of all items
	NewBytes    int64             `json:"new_bytes"` // plaintext bytes this snapshot stored that were not in the vault before
	ItemList    []keys.ID         `json:"item_list"` // chunks of the encoded item list
	Segments    []uint64          `json:"segments"`  // every segment holding a chunk of this snapshot
}

// manifestAD binds a manifest to its vault and its ID.
func (v *Vault) manifestAD(id string) []byte { return []byte("strongroom snapshot " + v.id + " " + id) }

func (v *Vault) encodeManifest(s *Snapshot) ([]byte, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	out := []byte(snapMagic)
	return keys.Seal(v.master.ManifestCipher(), out, plain, v.manifestAD(s.ID)), nil
}

func (v *Vault) decodeManifest(id string, b []byte) (*Snapshot, error) {
	if !bytes.HasPrefix(b, []byte(snapMagic)) {
		return nil, fmt.Errorf("%w: snapshot %s: not a manifest", ErrCorrupt, id)
	}
	plain, err := keys.Open(v.master.ManifestCipher(), nil, b[len(snapMagic):], v.manifestAD(id))
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot %s: %v", ErrCorrupt, id, err)
	}
	var s Snapshot
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, fmt.Errorf("%w: snapshot %s: %v", ErrCorrupt, id, err)
	}
	if s.ID != id {
		return nil, fmt.Errorf("%w: snapshot file %s holds snapshot %s", ErrCorrupt, id, s.ID)
	}
	return &s, nil
}

// snapshotFiles lists manifest IDs and retention extensions on all disks.
func (v *Vault) snapshotFiles() (ids map[string][]string, retain map[string]time.Time, err error) {
	ids = map[string][]string{}
	retain = map[string]time.Time{}
	for _, d := range v.present() {
		ents, err := os.ReadDir(d.snapshotDir())
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, nil, fmt.Errorf("list snapshots on %s: %w", d.Path, err)
		}
		for _, e := range ents {
			name := e.Name()
			if !e.Type().IsRegular() {
				// Only regular files are snapshot records; anything else
				// is junk (a sealed directory keeps what was added).
				continue
			}
			switch {
			case strings.HasSuffix(name, snapExt):
				id := strings.TrimSuffix(name, snapExt)
				ids[id] = append(ids[id], filepath.Join(d.snapshotDir(), name))
			case strings.Contains(name, retainInfix) && !strings.HasSuffix(name, ".tmp"):
				i := strings.Index(name, retainInfix)
				id := name[:i]
				sec, err := strconv.ParseInt(name[i+len(retainInfix):], 10, 64)
				if err == nil {
					if t := time.Unix(sec, 0).UTC(); t.After(retain[id]) {
						retain[id] = t
					}
				}
			}
		}
	}
	return ids, retain, nil
}

// nextSnapshotTime returns the time to name a new snapshot by: now, or
// just after the newest existing snapshot, so that IDs sort in commit
// order even when the trusted clock stands still (a pending jump) or two
// commits fall in the same microsecond.
func (v *Vault) nextSnapshotTime(now time.Time) time.Time {
	ids, _, err := v.snapshotFiles()
	if err != nil {
		return now
	}
	for id := range ids {
		ts, _, _ := strings.Cut(id, "-")
		if t, err := time.Parse(snapshotIDTS, ts); err == nil && !now.After(t) {
			now = t.Add(time.Microsecond)
		}
	}
	return now
}

// Snapshots lists every visible snapshot, oldest first. RetainUntil includes
// any later extension. A snapshot no copy of whose manifest can be read is
// left out (so one damaged or planted file does not hide the others) and
// named by UnreadableSnapshots.
func (v *Vault) Snapshots() ([]Snapshot, error) {
	snaps, _, err := v.snapshots()
	return snaps, err
}

// UnreadableSnapshots lists the snapshot IDs with a manifest file of which
// no copy decodes, with the first error for each.
func (v *Vault) UnreadableSnapshots() (map[string]error, error) {
	_, bad, err := v.snapshots()
	return bad, err
}

func (v *Vault) snapshots() ([]Snapshot, map[string]error, error) {
	if v.remote != nil {
		manifests, retain, err := v.remote.src.Manifests()
		if err != nil {
			return nil, nil, err
		}
		out, bad := collectSnapshots(manifests, retain, v.decodeManifest)
		return out, bad, nil
	}
	files, retain, err := v.snapshotFiles()
	if err != nil {
		return nil, nil, err
	}
	out, bad := collectSnapshots(files, retain, v.readManifest)
	return out, bad, nil
}

// collectSnapshots reads every snapshot's manifest from where it is (files
// on disks, bytes of a remote copy), applies the latest retention
// extension and sorts them oldest first; those that do not read are
// returned apart with their error.
func collectSnapshots[T any](sources map[string]T, retain map[string]time.Time, read func(id string, src T) (*Snapshot, error)) ([]Snapshot, map[string]error) {
	var out []Snapshot
	bad := map[string]error{}
	for id, src := range sources {
		s, err := read(id, src)
		if err != nil {
			bad[id] = err
			continue
		}
		if t := retain[id]; t.After(s.RetainUntil) {
			s.RetainUntil = t
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, bad
}

// readManifest returns the first copy that decodes.
func (v *Vault) readManifest(id string, paths []string) (*Snapshot, error) {
	var firstErr error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil {
			var s *Snapshot
			if s, err = v.decodeManifest(id, b); err == nil {
				return s, nil
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil, firstErr
}

// Snapshot finds one snapshot by ID, or by a unique prefix of its ID, or
// "latest".
func (v *Vault) Snapshot(ref string) (Snapshot, error) {
	if strings.TrimSpace(ref) == "" {
		return Snapshot{}, fmt.Errorf("no snapshot given: name one (see 'strongroom vault snapshots') or say 'latest'")
	}
	snaps, err := v.Snapshots()
	if err != nil {
		return Snapshot{}, err
	}
	if ref == "latest" && len(snaps) > 0 {
		return snaps[len(snaps)-1], nil
	}
	var match []Snapshot
	for _, s := range snaps {
		if s.ID == ref {
			return s, nil
		}
		if strings.HasPrefix(s.ID, ref) {
			match = append(match, s)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return Snapshot{}, fmt.Errorf("snapshot %q: %w (list them with 'strongroom vault snapshots')", ref, ErrNotFound)
	}
	return Snapshot{}, fmt.Errorf("snapshot %q is ambiguous: %d snapshots start with it", ref, len(match))
}

// writeManifest makes a snapshot visible: one durable copy on every disk.
func (v *Vault) writeManifest(s *Snapshot) error {
	b, err := v.encodeManifest(s)
	if err != nil {
		return err
	}
	var written []string
	for _, d := range v.present() {
		p := filepath.Join(d.snapshotDir(), s.ID+snapExt)
		if err := durable.WriteFileVia(d.spool(), p, b, 0o444); err != nil {
			// Take back the copies already written, so that a commit that
			// reports failure leaves no visible snapshot behind.
			for _, w := range written {
				if rerr := os.Remove(w); rerr != nil && !os.IsNotExist(rerr) {
					err = fmt.Errorf("%w; the copy at %s could not be taken back (%v), so the snapshot may still be listed", err, w, rerr)
				}
			}
			return &DiskError{Path: d.Path, Kind: diskErrKind(err), Err: fmt.Errorf("write snapshot %s: %w", s.ID, err),
				Fix: "check the disk at " + d.Path + " (free space, read-only remount); the backup was not committed and the next run starts again"}
		}
		written = append(written, p)
	}
	return nil
}

// ExtendRetention raises a snapshot's retain-until. Retention only ever
// grows: asking for an earlier date is refused.
func (v *Vault) ExtendRetention(id string, until time.Time) error {
	s, err := v.Snapshot(id)
	if err != nil {
		return err
	}
	until = until.UTC().Truncate(time.Second)
	if !until.After(s.RetainUntil) {
		return &LockedError{Snapshot: s.ID, RetainUntil: s.RetainUntil, Now: v.clock.Now(),
			Reason: fmt.Sprintf("retain-until is %s and can only be extended; %s is not later", s.RetainUntil.Format(time.RFC3339), until.Format(time.RFC3339))}
	}
	for _, d := range v.present() {
		p := filepath.Join(d.snapshotDir(), fmt.Sprintf("%s%s%d", s.ID, retainInfix, until.Unix()))
		if err := durable.WriteFileVia(d.spool(), p, nil, 0o444); err != nil {
			return &DiskError{Path: d.Path, Kind: diskErrKind(err), Err: err}
		}
	}
	return nil
}

// DeleteSnapshot is what any caller gets when it asks to delete a snapshot:
// refused while it is retention-locked. After retain-until only the warden
// removes it (its files are immutable).
func (v *Vault) DeleteSnapshot(id string) error {
	s, err := v.Snapshot(id)
	if err != nil {
		return err
	}
	now := v.clock.Now()
	if now.Before(s.RetainUntil) {
		return &LockedError{Snapshot: s.ID, RetainUntil: s.RetainUntil, Now: now}
	}
	return fmt.Errorf("snapshot %s has passed its retain-until; expired snapshots are removed by the warden: run 'strongroom warden expire'", s.ID)
}

func diskErrKind(err error) error {
	switch {
	case errors.Is(err, errNoSpace):
		return ErrDiskFull
	}
	return ErrDiskReadOnly
}
