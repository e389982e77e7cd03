package vault_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/vault"
)

// sealedRemote serves a vault's sealed files as a remote copy would, and
// counts the ranged reads of segments: what the index checkpoints save.
type sealedRemote struct {
	s           *vault.Sealed
	checkpoints [][]byte
	reads       atomic.Int64
}

func (r *sealedRemote) snaps() []vault.SealedSnapshot {
	snaps, _ := r.s.Snapshots()
	return snaps
}

func (r *sealedRemote) Manifests() (map[string][]byte, map[string]time.Time, error) {
	out := map[string][]byte{}
	for _, s := range r.snaps() {
		out[s.ID] = s.Manifest
	}
	return out, nil, nil
}

func (r *sealedRemote) Segments() ([]vault.RemoteSegment, error) {
	var out []vault.RemoteSegment
	seen := map[uint64]bool{}
	for _, s := range r.snaps() {
		for _, id := range s.Segments {
			if seen[id] {
				continue
			}
			seen[id] = true
			g, err := r.s.Segment(id)
			if err != nil {
				return nil, err
			}
			out = append(out, vault.RemoteSegment{ID: id, Len: uint64(g.Len())})
			g.Close()
		}
	}
	return out, nil
}

func (r *sealedRemote) ReadSegment(id uint64, p []byte, off int64) error {
	r.reads.Add(1)
	g, err := r.s.Segment(id)
	if err != nil {
		return err
	}
	defer g.Close()
	_, err = g.ReadAt(p, off)
	return err
}

func (r *sealedRemote) Checkpoints() ([][]byte, error) { return r.checkpoints, nil }

func (r *sealedRemote) OpenSegment(uint64) (io.ReadCloser, int64, error) {
	return nil, 0, errors.New("not served")
}

// TestRemoteUsesIndexCheckpoints: restoring straight from a remote copy
// reads each segment's table from the copy's index checkpoint instead of
// two ranged reads per segment; a checkpoint record that does not open (a
// flipped byte) only sends that segment back to its own table, and every
// restore is byte-identical.
func TestRemoteUsesIndexCheckpoints(t *testing.T) {
	disks, opts, v := initVault(t, 4)
	t.Cleanup(func() { immutable.ClearTree(filepath.Dir(disks[0])) })
	f := fixture{"a/big": randomBytes(1, 3<<20), "a/small": randomBytes(2, 10<<10), "b/mid": randomBytes(3, 700<<10)}
	s := putAll(t, v, f, time.Now().Add(time.Hour))
	c, err := vault.OpenCustody(disks, opts.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Seal(); err != nil {
		t.Fatal(err)
	}
	sealed, err := vault.OpenSealed(disks, opts.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyfile, err := sealed.Keyfile()
	if err != nil {
		t.Fatal(err)
	}
	var recs []vault.TableRecord
	for _, id := range s.Segments {
		g, err := sealed.Segment(id)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := g.TableRecord()
		g.Close()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	good := vault.EncodeCheckpoint(recs)
	damaged := bytes.Clone(good)
	damaged[len(damaged)-1] ^= 1 // inside the last segment's sealed table
	reads := map[string]int64{}
	for name, cps := range map[string][][]byte{"none": nil, "good": {good}, "damaged": {damaged}} {
		src := &sealedRemote{s: sealed, checkpoints: cps}
		rv, err := vault.OpenRemote(src, v.ID(), keyfile, opts.Key)
		if err != nil {
			t.Fatal(err)
		}
		checkSnapshot(t, rv, s, f)
		reads[name] = src.reads.Load()
	}
	n := int64(len(s.Segments))
	if n < 2 || reads["none"]-reads["good"] != 2*n || reads["damaged"]-reads["good"] != 2 {
		t.Fatalf("ranged reads with no checkpoint %d, a good one %d, a damaged one %d over %d segments; want 2 per segment saved, 2 lost to the damaged record",
			reads["none"], reads["good"], reads["damaged"], n)
	}
}

// FuzzDecodeCheckpoint: garbage never panics, and what decodes encodes back
// to the same bytes.
func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(vault.EncodeCheckpoint([]vault.TableRecord{{Segment: 7, TableOff: 99, Sealed: []byte("sealed")}}))
	f.Add([]byte("SRIDX001\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		recs, err := vault.DecodeCheckpoint(b)
		if err != nil {
			return
		}
		if got := vault.EncodeCheckpoint(recs); !bytes.Equal(got, b) {
			t.Fatalf("decoded %d records that encode to other bytes", len(recs))
		}
	})
}
