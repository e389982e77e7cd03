package warden_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/warden"
)

// TestTrapsFromTheReview: the attacks a security review found against the
// first version of the warden, each now met.
func TestTrapsFromTheReview(t *testing.T) {
	requireFlags(t)
	t.Run("hard link to a kept shard", func(t *testing.T) {
		r := newRig(t)
		locked := r.backup(20, t0.Add(365*24*time.Hour))
		// Before the warden seals: a second name for a shard the locked
		// snapshot needs, as an unused segment ID in the same group.
		for _, d := range r.disks {
			shards, _ := filepath.Glob(filepath.Join(d, "segments", "0000", "*.shard"))
			if err := os.Link(shards[0], filepath.Join(d, "segments", "0000", "0000000000000fff.shard")); err != nil {
				t.Fatal(err)
			}
		}
		rep := r.seal()
		if !strings.Contains(strings.Join(rep.Problems, "\n"), "hard links") {
			t.Fatalf("seal problems %q do not name the hard links", rep.Problems)
		}
		r.time.advance(10 * 24 * time.Hour) // past the orphan grace
		if _, err := r.w.Expire(); !errors.Is(err, warden.ErrFrozen) {
			t.Fatalf("expire with hard-linked shards: %v, want frozen", err)
		}
		r.checkRestorable(locked.ID, 20)
	})
	t.Run("retention record without a manifest", func(t *testing.T) {
		r := newRig(t)
		locked := r.backup(21, t0.Add(365*24*time.Hour))
		phantom := "20310301T120000.000000Z-0badc0de"
		for _, d := range r.disks {
			for _, n := range []string{phantom + ".retain-1", phantom + ".retain-999999999999"} {
				if err := os.WriteFile(filepath.Join(d, "snapshots", n), nil, 0o444); err != nil {
					t.Fatal(err)
				}
			}
		}
		r.seal()
		if n := r.w.Status().Snapshots; n != 1 {
			t.Fatalf("the ledger keeps %d snapshots, want only the real one (no phantom from a retention record)", n)
		}
		r.time.advance(2 * time.Hour)
		if rep, err := r.w.Expire(); err != nil || len(rep.Snapshots) != 0 {
			t.Fatalf("expire beside a phantom retention record: %+v, %v", rep, err)
		}
		r.checkRestorable(locked.ID, 21)
	})
	t.Run("unreadable manifest is never expired", func(t *testing.T) {
		r := newRig(t)
		locked := r.backup(22, t0.Add(365*24*time.Hour))
		junk := "20310301T120001.000000Z-deadbeef"
		for _, d := range r.disks {
			if err := os.WriteFile(filepath.Join(d, "snapshots", junk+".snap"), []byte("SRSNAP01 not a manifest"), 0o444); err != nil {
				t.Fatal(err)
			}
		}
		r.seal()
		r.time.advance(48 * time.Hour)
		if _, err := r.w.Expire(); !errors.Is(err, warden.ErrFrozen) {
			t.Fatalf("expire with an unreadable manifest: %v, want frozen", err)
		}
		for _, d := range r.disks {
			if _, err := os.Stat(filepath.Join(d, "snapshots", junk+".snap")); err != nil {
				t.Fatalf("the unreadable manifest was removed: %v", err)
			}
		}
		r.checkRestorable(locked.ID, 22)
	})
	t.Run("hand-over request is no link", func(t *testing.T) {
		r := newRig(t)
		r.backup(23, t0.Add(365*24*time.Hour))
		r.seal()
		for _, d := range r.disks {
			if err := os.Symlink(filepath.Join(r.wardenDir, "confirm.request"), filepath.Join(d, "spool", "warden.request")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.w.Expire(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(r.wardenDir, "confirm.request")); !os.IsNotExist(err) {
			t.Fatalf("the hand-over request followed a planted link into the warden's directory: %v", err)
		}
	})
}
