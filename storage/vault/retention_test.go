package vault_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/vault"
)

// sealedFiles lists what SealFiles must seal on one disk: label, keyfile,
// every shard and every snapshot record.
func sealedFiles(t *testing.T, disk string) []string {
	t.Helper()
	files := []string{filepath.Join(disk, "strongroom.disk"), filepath.Join(disk, "keyfile")}
	files = append(files, shardFiles(t, disk)...)
	ents, err := os.ReadDir(filepath.Join(disk, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		files = append(files, filepath.Join(disk, "snapshots", e.Name()))
	}
	return files
}

// checkLsattr checks with the lsattr tool, independently of package
// immutable, that every file carries the 'i' attribute.
func checkLsattr(t *testing.T, files []string) {
	t.Helper()
	if _, err := exec.LookPath("lsattr"); err != nil {
		t.Logf("lsattr not installed (e2fsprogs); relying on immutable.IsSet alone")
		return
	}
	out, err := exec.Command("lsattr", files...).CombinedOutput()
	if err != nil {
		t.Fatalf("lsattr: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("lsattr printed %d lines for %d files:\n%s", len(lines), len(files), out)
	}
	for _, l := range lines {
		flags, path, ok := strings.Cut(l, " ")
		if !ok || !strings.Contains(flags, "i") {
			t.Fatalf("lsattr says %s is not immutable: %q", path, l)
		}
	}
}

// TestRetentionAndImmutability guards retention locks end to end: nobody
// deletes or shortens a locked snapshot, sealed files resist everything the
// agent could try even as root, expiry waits for the trusted clock, stops
// at a forward clock jump until confirmed, and a backwards jump unlocks
// nothing.
func TestRetentionAndImmutability(t *testing.T) {
	t0 := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	wall := &fakeWall{now: t0}
	disks := testDisks(t, 4)
	clearImmutableOnCleanup(t, filepath.Dir(disks[0]))
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	opts := smallOptions(disks, res)
	opts.Clock = wall.Now
	v := openVault(t, opts)

	f1 := fixture{"mail/old.eml": randomBytes(51, 20000), "files/old.bin": randomBytes(52, 1200<<10)}
	f2 := fixture{"mail/new.eml": randomBytes(53, 30000), "files/new.bin": incompressible(54, 900<<10)}
	s1 := putAll(t, v, f1, t0.Add(72*time.Hour))
	s2 := putAll(t, v, f2, t0.Add(30*24*time.Hour))
	for _, id := range s1.Segments {
		if slices.Contains(s2.Segments, id) {
			t.Fatalf("snapshots share segment %d; the expiry checks below need them apart", id)
		}
	}

	// Nobody deletes or shortens a locked snapshot.
	err = v.DeleteSnapshot(s1.ID)
	wantErr(t, err, vault.ErrRetentionLocked, s1.ID, "2031-03-04T12:00:00Z")
	wantRemedy(t, err, "retain-until")
	for _, tc := range []struct {
		name  string
		until time.Time
	}{
		{name: "earlier date", until: t0.Add(48 * time.Hour)},
		{name: "same date", until: t0.Add(72 * time.Hour)},
	} {
		err := v.ExtendRetention(s1.ID, tc.until)
		if err == nil {
			t.Fatalf("ExtendRetention to the %s was accepted", tc.name)
		}
		wantErr(t, err, vault.ErrRetentionLocked, s1.ID, "can only be extended")
	}
	extended := t0.Add(96 * time.Hour)
	if err := v.ExtendRetention(s1.ID, extended); err != nil {
		t.Fatalf("extend retention to a later date: %v", err)
	}
	got, err := v.Snapshot(s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RetainUntil.Equal(extended) {
		t.Fatalf("after extending, Snapshots says retain-until %s, want %s", got.RetainUntil, extended)
	}
	wantErr(t, v.DeleteSnapshot(s1.ID), vault.ErrRetentionLocked, "2031-03-05T12:00:00Z")

	// The warden seals every file; the agent's code paths cannot undo it.
	rep, err := vault.SealFiles(disks)
	if err != nil {
		t.Skipf("cannot seal files (needs CAP_LINUX_IMMUTABLE and ext4-like filesystem): %v", err)
	}
	var all []string
	for _, d := range disks {
		files := sealedFiles(t, d)
		checkLsattr(t, files)
		all = append(all, files...)
	}
	if rep.Sealed != len(all) {
		t.Fatalf("SealFiles sealed %d files, the disks hold %d to seal", rep.Sealed, len(all))
	}
	for _, p := range all {
		set, err := immutable.IsSet(p)
		if err != nil || !set {
			t.Fatalf("%s: immutable %v (%v) after SealFiles", p, set, err)
		}
		before, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		attempts := []struct {
			name string
			do   func() error
		}{
			{name: "remove", do: func() error { return os.Remove(p) }},
			{name: "overwrite", do: func() error { return os.WriteFile(p, []byte("ransom"), 0o600) }},
			{name: "rename away", do: func() error { return os.Rename(p, p+".moved") }},
			{name: "rename over", do: func() error {
				other := p + ".tmp" // as writeFileDurable would
				if err := os.WriteFile(other, []byte("ransom"), 0o600); err != nil {
					t.Fatalf("the directory of %s refuses new files: %v", p, err)
				}
				defer os.Remove(other)
				return os.Rename(other, p)
			}},
		}
		for _, a := range attempts {
			if err := a.do(); err == nil {
				t.Fatalf("%s of sealed file %s succeeded as root", a.name, p)
			} else if !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("%s of sealed file %s failed with %v, want a permission error", a.name, p, err)
			}
		}
		after, err := os.ReadFile(p)
		if err != nil || string(after) != string(before) {
			t.Fatalf("sealed file %s changed or vanished (%v)", p, err)
		}
	}
	if rep, err := vault.SealFiles(disks); err != nil || rep.Sealed != 0 || rep.AlreadySealed != len(all) {
		t.Fatalf("second SealFiles: %+v, %v; want all %d already sealed", rep, err, len(all))
	}
	wantErr(t, v.DeleteSnapshot(s1.ID), vault.ErrRetentionLocked)

	expire := func(wantSnaps []string, wantSegs []uint64) {
		t.Helper()
		rep, err := v.Expire()
		if err != nil {
			t.Fatalf("expire at trusted time %s: %v", v.Clock().Now(), err)
		}
		if !slices.Equal(rep.Snapshots, wantSnaps) || !slices.Equal(rep.Segments, wantSegs) {
			t.Fatalf("expire at trusted time %s removed snapshots %v and segments %v; want %v and %v",
				v.Clock().Now(), rep.Snapshots, rep.Segments, wantSnaps, wantSegs)
		}
	}
	expire(nil, nil)

	// A backwards jump neither moves the trusted time back nor unlocks.
	before := v.Clock().Now()
	wall.Set(t0.Add(-365 * 24 * time.Hour))
	if now := v.Clock().Now(); now.Before(before) {
		t.Fatalf("wall clock set back a year: trusted time went from %s back to %s", before, now)
	}
	expire(nil, nil)
	wantErr(t, v.DeleteSnapshot(s1.ID), vault.ErrRetentionLocked)
	wall.Set(t0.Add(time.Hour))

	// Small steps forward past retain-until: s1 expires, s2 stays intact.
	for wall.Now().Before(extended.Add(-time.Hour)) {
		wall.Add(11 * time.Hour)
		v.Clock().Now()
		if wall.Now().Before(extended) {
			expire(nil, nil)
		}
	}
	wall.Add(2 * time.Hour)
	if !v.Clock().Now().After(extended) {
		t.Fatalf("trusted time %s did not follow the wall clock past %s in steps under 24h", v.Clock().Now(), extended)
	}
	expire([]string{s1.ID}, s1.Segments)
	for _, d := range disks {
		for _, p := range sealedFiles(t, d) {
			if strings.HasPrefix(filepath.Base(p), s1.ID) {
				t.Fatalf("expired snapshot record %s is still there", p)
			}
		}
		for _, p := range shardFiles(t, d) {
			if slices.Contains(s1.Segments, segmentOf(t, p)) {
				t.Fatalf("shard %s of expired segment is still there", p)
			}
		}
	}
	wantErr(t, v.DeleteSnapshot(s1.ID), vault.ErrNotFound)
	checkSnapshot(t, v, s2, f2)
	if rep, err := v.Scrub(false); err != nil || !rep.Healthy {
		t.Fatalf("scrub after expiry: %v, problems %+v", err, rep.Problems)
	}

	// A forward jump of more than 24h freezes expiry, across a restart,
	// until an operator confirms the time.
	wall.Add(40 * 24 * time.Hour)
	_, err = v.Expire()
	if err == nil || !strings.Contains(err.Error(), "expiry is frozen") || !strings.Contains(err.Error(), "clock confirm") {
		t.Fatalf("expire after a 40-day jump: %v; want it frozen until 'clock confirm'", err)
	}
	closeVault(t, v)
	v = openVault(t, opts)
	if _, err := v.Expire(); err == nil || !strings.Contains(err.Error(), "expiry is frozen") {
		t.Fatalf("expire after reopening with a pending jump: %v; want it still frozen", err)
	}
	checkSnapshot(t, v, s2, f2)
	if err := v.Clock().Confirm(); err != nil {
		t.Fatalf("confirm the clock: %v", err)
	}
	expire([]string{s2.ID}, s2.Segments)
	if snaps, err := v.Snapshots(); err != nil || len(snaps) != 0 {
		t.Fatalf("after every snapshot expired the vault lists %d (%v)", len(snaps), err)
	}
}

// TestClockStateLossKeepsLocks guards that losing the trusted clock's state
// (its directory deleted, or the disk that held it lost) does not let a
// wall clock set far ahead expire locked snapshots: the clock restarts from
// the newest snapshot and freezes expiry until an operator confirms.
func TestClockStateLossKeepsLocks(t *testing.T) {
	cases := []struct {
		name string
		// lose removes the clock's state; the wall then jumps ahead by
		// jump before the vault is reopened.
		lose       func(t *testing.T, disks []string)
		jump       time.Duration
		wantFrozen bool
	}{
		{name: "state directory deleted, wall 60 days ahead", jump: 60 * 24 * time.Hour, wantFrozen: true,
			lose: func(t *testing.T, disks []string) { os.RemoveAll(filepath.Join(disks[0], "state")) }},
		{name: "disk holding the state lost, wall 60 days ahead", jump: 60 * 24 * time.Hour, wantFrozen: true,
			lose: func(t *testing.T, disks []string) { os.RemoveAll(disks[0]) }},
		{name: "state directory deleted, wall 2 hours ahead", jump: 2 * time.Hour,
			lose: func(t *testing.T, disks []string) { os.RemoveAll(filepath.Join(disks[0], "state")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
			wall := &fakeWall{now: t0}
			disks := testDisks(t, 4)
			res, err := vault.Init(disks)
			if err != nil {
				t.Fatal(err)
			}
			opts := smallOptions(disks, res)
			opts.Clock = wall.Now
			v := openVault(t, opts)
			f := fixture{"mail/locked.eml": randomBytes(61, 50000)}
			s := putAll(t, v, f, t0.Add(30*24*time.Hour))
			closeVault(t, v)

			tc.lose(t, disks)
			wall.Add(tc.jump)
			v = openVault(t, opts)
			rep, err := v.Expire()
			switch {
			case tc.wantFrozen && (err == nil || !strings.Contains(err.Error(), "expiry is frozen")):
				t.Fatalf("clock state lost and wall %s ahead: expire gave %+v, %v; want it frozen", tc.jump, rep, err)
			case !tc.wantFrozen && (err != nil || len(rep.Snapshots) != 0):
				t.Fatalf("clock state lost and wall %s ahead: expire gave %+v, %v; want it allowed and nothing removed", tc.jump, rep, err)
			}
			wantErr(t, v.DeleteSnapshot(s.ID), vault.ErrRetentionLocked, s.ID)
			checkSnapshot(t, v, s, f)
			if tc.wantFrozen {
				if err := v.Clock().Confirm(); err != nil {
					t.Fatalf("confirm the clock: %v", err)
				}
				if v.Degraded() {
					// Expiry waits for every disk: expiring with one away
					// would leave its manifest copies naming gone segments.
					if _, err := v.Expire(); !errors.Is(err, vault.ErrDegradedWrite) {
						t.Fatalf("expire with a disk missing: %v; want it refused until the disk is replaced", err)
					}
					fresh := filepath.Join(t.TempDir(), "replacement")
					os.MkdirAll(fresh, 0o755)
					if rep, err := v.ReplaceDisk(disks[0], fresh); err != nil || !rep.Healthy {
						t.Fatalf("replace the lost disk: %+v, %v", rep, err)
					}
				}
				if rep, err := v.Expire(); err != nil || !slices.Equal(rep.Snapshots, []string{s.ID}) {
					t.Fatalf("expire after confirming a time past retain-until: %+v, %v; want %s removed", rep, err, s.ID)
				}
			}
		})
	}
}
