package warden_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/warden"
)

// TestSealAndExpire: the warden seals files immutable and directories
// append-only (checked with lsattr), records every snapshot, and expires a
// snapshot only once its retain-until has passed on its own clock, with
// the segments no kept snapshot needs; a forward jump of the system time
// freezes expiry until confirmed, and a backwards one unlocks nothing.
func TestSealAndExpire(t *testing.T) {
	requireFlags(t)
	r := newRig(t)
	short := r.backup(1, t0.Add(72*time.Hour))
	long := r.backup(2, t0.Add(30*24*time.Hour))
	rep := r.seal()
	if len(rep.NewSnapshots) != 2 || rep.NewSegments == 0 || len(rep.Problems) > 0 {
		t.Fatalf("first seal: %+v; want both snapshots and their segments recorded, no problems", rep)
	}
	for _, d := range r.disks {
		for _, dir := range []string{d, filepath.Join(d, "segments"), filepath.Join(d, "segments", "0000"), filepath.Join(d, "snapshots")} {
			if f := lsattr(t, dir, true); !strings.Contains(f, "a") {
				t.Fatalf("lsattr: %s is not append-only after sealing (%s)", dir, f)
			}
		}
		ents, _ := os.ReadDir(filepath.Join(d, "snapshots"))
		for _, e := range ents {
			if f := lsattr(t, filepath.Join(d, "snapshots", e.Name()), false); !strings.Contains(f, "i") {
				t.Fatalf("lsattr: %s is not immutable (%s)", e.Name(), f)
			}
		}
		// Even root without the warden's steps cannot hide or remove them.
		if err := os.Rename(filepath.Join(d, "snapshots"), filepath.Join(d, ".h")); err == nil {
			t.Fatal("renamed a sealed snapshots/ directory")
		}
	}
	if again := r.seal(); again.Sealed != 0 || len(again.NewSnapshots) != 0 {
		t.Fatalf("second seal changed something: %+v", again)
	}
	expire := func(wantSnaps []string) warden.ExpireReport {
		t.Helper()
		rep, err := r.w.Expire()
		if err != nil {
			t.Fatalf("expire at %s: %v", r.w.Clock().Now(), err)
		}
		if !slices.Equal(rep.Snapshots, wantSnaps) {
			t.Fatalf("expire at %s removed %v, want %v", r.w.Clock().Now(), rep.Snapshots, wantSnaps)
		}
		return rep
	}
	expire(nil)
	// The system time set back a year moves nothing back.
	r.time.setWall(t0.Add(-365 * 24 * time.Hour))
	expire(nil)
	r.time.setWall(t0)
	for range 6 {
		r.time.advance(11 * time.Hour)
		expire(nil)
	}
	r.time.advance(7 * time.Hour)
	got := expire([]string{short.ID})
	for _, id := range got.Segments {
		if slices.Contains(long.Segments, id) {
			t.Fatalf("expired segment %d that the kept snapshot needs", id)
		}
	}
	r.checkRestorable(long.ID, 2)

	// The system time jumps 40 days ahead while running: frozen, also
	// after a restart, until confirmed.
	r.time.setWall(r.time.Wall().Add(40 * 24 * time.Hour))
	if _, err := r.w.Expire(); !errors.Is(err, warden.ErrFrozen) {
		t.Fatalf("expire after a 40-day jump: %v, want frozen", err)
	}
	r.restartWarden()
	if _, err := r.w.Expire(); !errors.Is(err, warden.ErrFrozen) {
		t.Fatalf("expire after a restart with a jump pending: %v, want frozen", err)
	}
	st, _ := warden.ReadStatus(r.wardenDir)
	if len(st.Alerts) == 0 || !st.Clock.JumpPending {
		t.Fatalf("published status %+v: want the frozen clock alerted", st)
	}
	r.checkRestorable(long.ID, 2)
	if err := warden.RequestConfirm(r.wardenDir); err != nil {
		t.Fatal(err)
	}
	if msg, err := r.w.HandleRequests(); err != nil || !strings.Contains(msg, "confirmed") {
		t.Fatalf("confirmation request: %q, %v", msg, err)
	}
	expire([]string{long.ID})
	if n := r.w.Status().Snapshots; n != 0 {
		t.Fatalf("ledger keeps %d snapshots after both expired", n)
	}
}

// TestLostWardenStateFreezes: a deleted clock state or ledger is never
// "ok": expiry waits for a confirmation, and the ledger is rebuilt from the
// sealed manifests so nothing locked looks unreferenced.
func TestLostWardenStateFreezes(t *testing.T) {
	requireFlags(t)
	for _, lose := range []string{"clock.json", "ledger.jsonl", "both"} {
		t.Run(lose, func(t *testing.T) {
			r := newRig(t)
			locked := r.backup(3, t0.Add(7*365*24*time.Hour))
			r.seal()
			r.w.Close()
			for _, n := range []string{"clock.json", "ledger.jsonl", "ledger.head"} {
				if lose == "both" || strings.HasPrefix(n, strings.TrimSuffix(lose, ".jsonl")) {
					p := filepath.Join(r.wardenDir, n)
					immutable.ClearAppendOnly(p)
					if err := os.Remove(p); err != nil {
						t.Fatal(err)
					}
				}
			}
			r.time.setWall(t0.Add(8 * 365 * 24 * time.Hour)) // and the wall far ahead
			r.openWarden()
			if _, err := r.w.Expire(); !errors.Is(err, warden.ErrFrozen) {
				t.Fatalf("expire with the warden's %s lost: %v, want frozen", lose, err)
			}
			if st := r.w.Status(); len(st.Alerts) == 0 {
				t.Fatalf("no alert with the warden's %s lost", lose)
			}
			r.checkRestorable(locked.ID, 3)
		})
	}
}

// TestTamperingFreezesExpiry: what only a more privileged attacker could
// do (with CAP_LINUX_IMMUTABLE) is still met by "do nothing and alert":
// a hidden snapshots/ directory, a disagreeing manifest copy, a truncated
// ledger.
func TestTamperingFreezesExpiry(t *testing.T) {
	requireFlags(t)
	r := newRig(t)
	locked := r.backup(4, t0.Add(7*365*24*time.Hour))
	short := r.backup(5, t0.Add(time.Hour))
	r.seal()
	r.time.advance(2 * time.Hour)

	// Hide snapshots/ on every disk.
	for _, d := range r.disks {
		immutable.ClearAppendOnly(d)
		immutable.ClearAppendOnly(filepath.Join(d, "snapshots"))
		if err := os.Rename(filepath.Join(d, "snapshots"), filepath.Join(d, ".h")); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := r.w.Expire()
	if !errors.Is(err, warden.ErrFrozen) || len(rep.Segments) > 0 {
		t.Fatalf("expire with snapshots/ hidden: %+v, %v; want frozen and nothing removed", rep, err)
	}
	if st, _ := warden.ReadStatus(r.wardenDir); !strings.Contains(strings.Join(st.Alerts, "\n"), "snapshots/ is missing") {
		t.Fatalf("alerts %q do not name the missing directory", st.Alerts)
	}
	for _, d := range r.disks {
		immutable.ClearAppendOnly(d) // the warden sealed the disk again meanwhile
		if err := os.Rename(filepath.Join(d, ".h"), filepath.Join(d, "snapshots")); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = r.w.Expire()
	if err != nil || !slices.Equal(rep.Snapshots, []string{short.ID}) {
		t.Fatalf("expire once the directories are back: %+v, %v; want %s removed", rep, err, short.ID)
	}
	r.checkRestorable(locked.ID, 4)

	// Truncate the ledger (root-only: the agent cannot even read it).
	r.w.Close()
	p := filepath.Join(r.wardenDir, "ledger.jsonl")
	immutable.ClearAppendOnly(p)
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	r.openWarden()
	if _, err := r.w.Expire(); !errors.Is(err, warden.ErrFrozen) {
		t.Fatalf("expire with a truncated ledger: %v, want frozen", err)
	}
	damaged, _ := filepath.Glob(p + ".damaged-*")
	if len(damaged) != 1 {
		t.Fatalf("the damaged ledger was not kept aside: %v", damaged)
	}
	if st := r.w.Status(); st.Rebuilt == "" || st.Snapshots != 1 {
		t.Fatalf("status after rebuild %+v: want rebuilt from the one manifest left", st)
	}
	r.checkRestorable(locked.ID, 4)
}
