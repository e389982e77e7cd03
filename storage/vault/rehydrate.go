package vault

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/segment"
)

// RehydrateStats counts what Rehydrate wrote and what it found in place.
type RehydrateStats struct {
	Segments      int   `json:"segments"`
	SegmentsTotal int   `json:"segments_total"`
	Skipped       int   `json:"skipped"` // already complete on every disk (a resumed run)
	Bytes         int64 `json:"bytes"`   // payload bytes read from the copy
	Snapshots     int   `json:"snapshots"`
}

// Rehydrate rebuilds a vault on new, empty disks from an offsite copy: the
// same vault ID and master key (so backups carry on with the same history
// and deduplicate against it), a layout chosen for the new disk count, every
// segment erasure-coded again, every manifest and retention record written
// back. It may be interrupted and run again: disks already labelled for
// this vault are resumed and complete segments kept. The index is built by
// the first Open afterwards, from the segments.
func Rehydrate(disks []string, src Remote, vaultID string, keyfile []byte, key keys.RecoveryKey, progress func(RehydrateStats)) (RehydrateStats, error) {
	var st RehydrateStats
	if _, err := keys.Unwrap(keyfile, key, vaultID); err != nil {
		return st, fmt.Errorf("recovery key does not open vault %s of the offsite copy: %w", vaultID, err)
	}
	if err := prepareRehydrate(disks, vaultID, keyfile); err != nil {
		return st, err
	}
	v, err := assembleDisks(disks, key)
	if err != nil {
		return st, err
	}
	if v.missingCount() > 0 {
		return st, fmt.Errorf("rehydrate needs every new disk present; missing: %v", v.missing)
	}
	segs, err := src.Segments()
	if err != nil {
		return st, err
	}
	st.SegmentsTotal = len(segs)
	for _, rs := range segs {
		if v.segmentComplete(rs.ID) {
			st.Skipped++
		} else if err := v.rehydrateSegment(src, rs); err != nil {
			return st, err
		} else {
			st.Segments++
			st.Bytes += int64(rs.Len)
		}
		if progress != nil {
			progress(st)
		}
	}
	n, err := v.rehydrateSnapshots(src)
	st.Snapshots = n
	return st, err
}

// prepareRehydrate labels each disk for the vault, or checks a label a
// run before wrote.
func prepareRehydrate(disks []string, vaultID string, keyfile []byte) error {
	layout, _, err := ChooseLayout(len(disks))
	if err != nil {
		return err
	}
	created := clock.Wall().Unix()
	for i, d := range disks {
		if l, err := readLabel(d); err == nil {
			if l.VaultID != vaultID || l.Index != i || l.K != layout.K || l.M != layout.M {
				return &DiskError{Path: d, Kind: ErrForeignDisk, Err: fmt.Errorf("already holds disk %d of vault %s (%d+%d)", l.Index, l.VaultID, l.K, l.M),
					Fix: "give the same disks in the same order as the interrupted recovery, or empty disks"}
			}
			continue
		}
		if err := checkUsable(d); err != nil {
			return err
		}
		if !emptyDir(d) {
			return &DiskError{Path: d, Kind: ErrNotVault, Err: fmt.Errorf("not empty"), Fix: "recover onto empty disks; nothing was written to " + d}
		}
		for _, sub := range []string{segmentsDir, snapshotsDir, spoolDir} {
			if err := os.MkdirAll(filepath.Join(d, sub), 0o750); err != nil {
				return &DiskError{Path: d, Kind: ErrDiskReadOnly, Err: err}
			}
		}
		if err := durable.WriteFile(filepath.Join(d, keyFile), keyfile, 0o400); err != nil {
			return &DiskError{Path: d, Kind: ErrDiskReadOnly, Err: err}
		}
		if err := writeLabel(d, label{Format: formatMajor, VaultID: vaultID, Index: i, K: layout.K, M: layout.M, Created: created}); err != nil {
			return err
		}
	}
	return nil
}

func (v *Vault) segmentComplete(id uint64) bool {
	for _, d := range v.disks {
		if _, err := os.Stat(d.segmentPath(id)); err != nil {
			return false
		}
	}
	return true
}

// rehydrateSegment reads one payload from the copy and writes its shards.
func (v *Vault) rehydrateSegment(src Remote, rs RemoteSegment) error {
	rc, created, err := src.OpenSegment(rs.ID)
	if err != nil {
		return err
	}
	payload, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("read segment %d from the offsite copy: %w", rs.ID, err)
	}
	if uint64(len(payload)) != rs.Len {
		return fmt.Errorf("%w: segment %d: offsite copy holds %d bytes, expected %d", ErrCorrupt, rs.ID, len(payload), rs.Len)
	}
	shards, err := segment.Encode(v.layout.K, v.layout.M, payload)
	if err != nil {
		return err
	}
	for i, d := range v.disks {
		h := segment.Header{Version: segment.Version, K: uint8(v.layout.K), M: uint8(v.layout.M), Index: uint8(i),
			VaultID: v.idBytes, Segment: rs.ID, PayloadLen: rs.Len, ShardLen: uint64(len(shards[i])), Created: created}
		if _, err := os.Stat(d.segmentPath(rs.ID)); err == nil {
			os.Remove(d.segmentPath(rs.ID)) // a shard of an interrupted run: written again whole
		}
		if err := d.writeShard(h, shards[i]); err != nil {
			return err
		}
	}
	return nil
}

// rehydrateSnapshots writes every manifest and the latest retention record
// of each snapshot to every disk, leaving files already there.
func (v *Vault) rehydrateSnapshots(src Remote) (int, error) {
	manifests, retain, err := src.Manifests()
	if err != nil {
		return 0, err
	}
	n := 0
	for id, b := range manifests {
		if !ValidSnapshotID(id) {
			continue
		}
		if _, err := v.decodeManifest(id, b); err != nil {
			return n, fmt.Errorf("offsite copy of snapshot %s: %w", id, err)
		}
		for _, d := range v.disks {
			files := map[string][]byte{id + snapExt: b}
			if t, ok := retain[id]; ok {
				files[fmt.Sprintf("%s%s%d", id, retainInfix, t.Unix())] = nil
			}
			for name, data := range files {
				p := filepath.Join(d.snapshotDir(), name)
				if _, err := os.Stat(p); err == nil {
					continue
				}
				if err := durable.WriteFileVia(d.spool(), p, data, 0o444); err != nil {
					return n, &DiskError{Path: d.Path, Kind: diskErrKind(err), Err: err}
				}
			}
		}
		n++
	}
	return n, nil
}
