package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strongroom/strongroom/storage/immutable"
)

// SealReport counts what SealFiles did.
type SealReport struct {
	Sealed        int `json:"sealed"`
	AlreadySealed int `json:"already_sealed"`
}

// SealFiles makes every complete vault file on the given disks immutable:
// shard files, snapshot manifests and retention records, the disk label and
// the keyfile. It needs CAP_LINUX_IMMUTABLE and no key and no vault lock, so
// the warden can run it while the agent writes: files only appear under
// their final names once complete and synced, and never change afterwards.
func SealFiles(disks []string) (SealReport, error) {
	var rep SealReport
	for _, d := range disks {
		if _, err := readLabel(d); err != nil {
			return rep, &DiskError{Path: d, Kind: ErrNotVault, Err: err}
		}
		var paths []string
		paths = append(paths, filepath.Join(d, labelFile), filepath.Join(d, keyFile))
		err := filepath.WalkDir(filepath.Join(d, segmentsDir), func(p string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && strings.HasSuffix(p, shardExt) {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return rep, err
		}
		ents, err := os.ReadDir(filepath.Join(d, snapshotsDir))
		if err != nil && !os.IsNotExist(err) {
			return rep, err
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".tmp") {
				paths = append(paths, filepath.Join(d, snapshotsDir, e.Name()))
			}
		}
		for _, p := range paths {
			set, err := immutable.IsSet(p)
			if err != nil {
				return rep, fmt.Errorf("seal %s: %w", p, err)
			}
			if set {
				rep.AlreadySealed++
				continue
			}
			if err := immutable.Set(p); err != nil {
				return rep, fmt.Errorf("seal %s: %w", p, err)
			}
			rep.Sealed++
		}
	}
	return rep, nil
}

// ExpireReport says what Expire removed.
type ExpireReport struct {
	Snapshots []string `json:"snapshots"`
	Segments  []uint64 `json:"segments"`
	Kept      int      `json:"kept"`
}

// Expire removes snapshots whose retain-until has passed on the trusted
// clock, then segments no remaining snapshot needs. It is the warden's job:
// it unseals immutable files, which needs CAP_LINUX_IMMUTABLE. It refuses to
// do anything while a clock jump awaits an operator's confirmation.
func (v *Vault) Expire() (ExpireReport, error) {
	var rep ExpireReport
	if ok, why := v.clock.ExpiryAllowed(); !ok {
		return rep, fmt.Errorf("expiry is frozen: %s; confirm the time at the console or with 'strongroom vault clock confirm'", why)
	}
	if v.Degraded() {
		// Expiring with a disk away would leave that disk's copies of the
		// expired manifests behind; when it came back they would name
		// segments that are gone.
		return rep, fmt.Errorf("%w: expiry waits until every disk is present (missing: %v); replace or re-attach the disk first", ErrDegradedWrite, v.missing)
	}
	now := v.clock.Now()
	snaps, err := v.Snapshots()
	if err != nil {
		return rep, err
	}
	live := map[uint64]bool{}
	for _, s := range snaps {
		if now.Before(s.RetainUntil) || now.Equal(s.RetainUntil) {
			rep.Kept++
			for _, id := range s.Segments {
				live[id] = true
			}
			continue
		}
		for _, d := range v.present() {
			ents, _ := os.ReadDir(d.snapshotDir())
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), s.ID+".") {
					if err := removeSealed(filepath.Join(d.snapshotDir(), e.Name())); err != nil {
						return rep, err
					}
				}
			}
		}
		rep.Snapshots = append(rep.Snapshots, s.ID)
	}
	for id := range v.leftovers {
		for _, d := range v.present() {
			if err := removeSealed(d.segmentPath(id)); err != nil {
				return rep, err
			}
		}
		delete(v.leftovers, id)
		rep.Segments = append(rep.Segments, id)
	}
	for _, id := range v.allSegments() {
		if live[id] {
			continue
		}
		entries, err := v.segmentTable(id)
		v.forgetSet(id)
		if err != nil {
			// The table is unreadable: find the chunks that point into
			// this segment by scanning the whole index, so that no index
			// entry is left naming a segment that is gone.
			err = v.index.RemoveSegmentScan(id)
		} else {
			err = v.index.RemoveSegment(id, entries)
		}
		if err != nil {
			return rep, fmt.Errorf("expire segment %d: %w", id, err)
		}
		for _, d := range v.present() {
			if err := removeSealed(d.segmentPath(id)); err != nil {
				return rep, err
			}
		}
		v.mu.Lock()
		delete(v.shards, id)
		v.mu.Unlock()
		rep.Segments = append(rep.Segments, id)
	}
	return rep, nil
}

func removeSealed(p string) error {
	if set, err := immutable.IsSet(p); err == nil && set {
		if err := immutable.Clear(p); err != nil {
			return fmt.Errorf("unseal %s: %w", p, err)
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
