package vault

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/segment"
)

// ErrNotSealed is returned for a segment some of whose shard files the
// warden has not sealed yet: the agent could still change them.
var ErrNotSealed = errors.New("not sealed yet")

// Sealed is a read-only view of what the warden has sealed, for a role that
// copies the vault elsewhere and must not trust the agent: only manifests
// and retention records that are immutable count, and a segment is read
// only once every shard file of it present is immutable. It takes no vault
// lock, opens no index and writes nothing, so it runs beside the agent and
// the warden.
type Sealed struct {
	v *Vault
}

// OpenSealed reads the disks' labels and unwraps the master key (needed to
// read the manifests: which segments a snapshot names, its retain-until).
func OpenSealed(disks []string, key keys.RecoveryKey) (*Sealed, error) {
	v, err := assembleDisks(disks, key)
	if err != nil {
		return nil, err
	}
	return &Sealed{v: v}, nil
}

// ID is the vault's identifier.
func (s *Sealed) ID() string { return s.v.id }

// Keyfile returns the wrapped master key (it opens only with the recovery
// key), as stored on the first disk that has it.
func (s *Sealed) Keyfile() ([]byte, error) {
	var firstErr error
	for _, d := range s.v.present() {
		b, err := os.ReadFile(filepath.Join(d.Path, keyFile))
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("read the vault's keyfile: %w", firstErr)
}

// SealedSnapshot is a snapshot as its sealed records say: the union of the
// segments its sealed manifest copies name, and the latest retain-until of
// those copies and of its sealed retention records.
type SealedSnapshot struct {
	Snapshot
	// Manifest is the bytes of one sealed copy that decodes.
	Manifest []byte
}

// Snapshots lists the snapshots with a sealed manifest that decodes, oldest
// first. Files the warden has not sealed are ignored.
func (s *Sealed) Snapshots() ([]SealedSnapshot, error) {
	manifests := map[string][]string{}
	retains := map[string]time.Time{}
	for _, d := range s.v.present() {
		ents, err := os.ReadDir(d.snapshotDir())
		if err != nil {
			return nil, fmt.Errorf("list snapshots on %s: %w", d.Path, err)
		}
		for _, e := range ents {
			p := filepath.Join(d.snapshotDir(), e.Name())
			if !e.Type().IsRegular() || !sealedFile(p) {
				continue
			}
			id, until, kind := parseSnapshotFile(e.Name())
			switch kind {
			case "manifest":
				manifests[id] = append(manifests[id], p)
			case "retain":
				if until.After(retains[id]) {
					retains[id] = until
				}
			}
		}
	}
	var out []SealedSnapshot
	for id, paths := range manifests {
		ss, ok := s.v.unionManifests(id, paths)
		if !ok {
			continue
		}
		if r := retains[id]; r.After(ss.RetainUntil) {
			ss.RetainUntil = r
		}
		out = append(out, ss)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// unionManifests decodes every copy and merges them: segments united,
// retain-until the latest (the copier then never locks too little).
func (v *Vault) unionManifests(id string, paths []string) (SealedSnapshot, bool) {
	var out SealedSnapshot
	segs := map[uint64]bool{}
	for _, p := range paths {
		st, err := os.Lstat(p)
		if err != nil || st.Size() > maxManifestSize {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		snap, err := v.decodeManifest(id, b)
		if err != nil {
			continue
		}
		if out.Manifest == nil {
			out.Snapshot, out.Manifest = *snap, b
		}
		if snap.RetainUntil.After(out.RetainUntil) {
			out.RetainUntil = snap.RetainUntil
		}
		for _, sid := range snap.Segments {
			segs[sid] = true
		}
	}
	if out.Manifest == nil {
		return out, false
	}
	out.Segments = out.Segments[:0]
	for sid := range segs {
		out.Segments = append(out.Segments, sid)
	}
	sort.Slice(out.Segments, func(i, j int) bool { return out.Segments[i] < out.Segments[j] })
	return out, true
}

func sealedFile(p string) bool {
	on, err := immutable.IsSet(p)
	return err == nil && on
}

// SealedSegment is the payload of one segment, read through its shards
// (parity used only to mend damage): the bytes an offsite copy keeps.
type SealedSegment struct {
	set *segment.Set
}

// Segment opens a segment's payload. It fails with ErrNotSealed while any
// shard file of it present is not yet immutable.
func (s *Sealed) Segment(id uint64) (*SealedSegment, error) {
	paths := s.v.shardPaths(id)
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if !sealedFile(p) {
			return nil, fmt.Errorf("segment %d: %s: %w", id, p, ErrNotSealed)
		}
	}
	set, err := segment.OpenSet(id, paths)
	if err != nil {
		return nil, err
	}
	return &SealedSegment{set: set}, nil
}

// Len is the payload's length in bytes.
func (g *SealedSegment) Len() int64 { return int64(g.set.Header.PayloadLen) }

// Created is when the segment was written (unix seconds, trusted clock).
func (g *SealedSegment) Created() int64 { return g.set.Header.Created }

// ReadAt reads payload bytes; it implements io.ReaderAt. Damaged blocks
// are rebuilt from parity.
func (g *SealedSegment) ReadAt(p []byte, off int64) (int, error) {
	n := len(p)
	if rest := g.Len() - off; int64(n) > rest {
		if rest <= 0 {
			return 0, io.EOF
		}
		n = int(rest)
	}
	if _, err := g.set.ReadAt(p[:n], off); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close closes the shard files.
func (g *SealedSegment) Close() error { return g.set.Close() }
