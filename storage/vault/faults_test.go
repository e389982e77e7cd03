package vault_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// faultVault is a vault holding one committed snapshot, closed, ready for
// a fault case to damage.
type faultVault struct {
	disks []string
	opts  vault.Options
	snap  vault.Snapshot
	data  fixture
}

// faultFixture spans two segments and has a multi-chunk item, and is small
// enough for the 24 MiB disk of the disk-full case.
func faultFixture() fixture {
	return fixture{
		"mail/1.eml":   randomBytes(11, 7000),
		"mail/2.eml":   randomBytes(12, 300),
		"files/a.bin":  incompressible(13, 900<<10),
		"files/b.docx": randomBytes(14, 600<<10),
		"empty":        nil,
	}
}

// mountTmpfs mounts a tmpfs of the given size on dir, or skips the test
// saying why when this machine does not allow it.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a %s tmpfs on %s to simulate a full disk (needs root and CAP_SYS_ADMIN): %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount tmpfs %s: %v", dir, err)
		}
	})
}

// damageShard changes the first shard file of disk 1 with fn and returns
// its segment ID.
func damageShard(t *testing.T, fv *faultVault, fn func(path string) error) uint64 {
	t.Helper()
	shards := shardFiles(t, fv.disks[1])
	if len(shards) < 2 {
		t.Fatalf("disk %s holds %d shard files, want at least 2 segments", fv.disks[1], len(shards))
	}
	if err := fn(shards[0]); err != nil {
		t.Fatalf("damage %s: %v", shards[0], err)
	}
	return segmentOf(t, shards[0])
}

// checkScrubRepairs checks that reads survive a damaged shard, that a scrub
// names the segment, shard and disk, that a repairing scrub fixes it and
// that the next scrub finds the vault healthy.
func checkScrubRepairs(t *testing.T, fv *faultVault, seg uint64) {
	t.Helper()
	v := openVault(t, fv.opts)
	checkSnapshot(t, v, fv.snap, fv.data)
	rep, err := v.Scrub(false)
	if err != nil {
		t.Fatalf("scrub: %v", err)
	}
	if rep.Healthy || len(rep.Problems) != 1 {
		t.Fatalf("scrub of a vault with one damaged shard: healthy %v, problems %+v; want exactly one problem", rep.Healthy, rep.Problems)
	}
	p := rep.Problems[0]
	if p.Segment != seg || p.Shard != 1 || p.Disk != fv.disks[1] || p.Problem == "" || p.Repaired {
		t.Fatalf("scrub reported %+v; want segment %d shard 1 on disk %s, with a reason, not repaired", p, seg, fv.disks[1])
	}
	rep, err = v.Scrub(true)
	if err != nil {
		t.Fatalf("scrub --repair: %v", err)
	}
	if rep.Repaired != 1 || !rep.Healthy {
		t.Fatalf("scrub --repair repaired %d shards, healthy %v, problems %+v; want the one shard repaired", rep.Repaired, rep.Healthy, rep.Problems)
	}
	rep, err = v.Scrub(false)
	if err != nil {
		t.Fatalf("scrub after repair: %v", err)
	}
	if !rep.Healthy || len(rep.Problems) != 0 {
		t.Fatalf("scrub after repair: healthy %v, problems %+v", rep.Healthy, rep.Problems)
	}
	checkSnapshot(t, v, fv.snap, fv.data)
	closeVault(t, v)
}

// TestFaults guards that each disk fault and each kind of damage gives a
// clear error naming the disk or segment and the fix, and that nothing
// already stored is lost.
func TestFaults(t *testing.T) {
	cases := []struct {
		name string
		// prepare runs on the empty disk directories before Init.
		prepare func(t *testing.T, disks []string)
		// fault damages the closed vault and checks what the vault says;
		// it may change fv.opts for the final reopen.
		fault func(t *testing.T, fv *faultVault)
	}{
		{
			name: "disk directory missing",
			fault: func(t *testing.T, fv *faultVault) {
				gone := fv.disks[2]
				if err := os.RemoveAll(gone); err != nil {
					t.Fatal(err)
				}
				v := openVault(t, fv.opts)
				checkSnapshot(t, v, fv.snap, fv.data)
				st, err := v.Status()
				if err != nil {
					t.Fatal(err)
				}
				if !v.Degraded() || !st.Degraded || st.Disks[2].Present || st.Disks[2].Path != gone {
					t.Fatalf("with %s missing: Degraded %v, status degraded %v, disk 2 %+v; want degraded and disk 2 missing at its path",
						gone, v.Degraded(), st.Degraded, st.Disks[2])
				}
				_, err = v.NewWriter("refused", nil)
				wantErr(t, err, vault.ErrDegradedWrite, gone)
				wantRemedy(t, err, "replace-disk")
				closeVault(t, v)
			},
		},
		{
			name: "disk read-only",
			fault: func(t *testing.T, fv *faultVault) {
				ro := fv.disks[1]
				// The whole disk turns read-only: its directory and the
				// spool where writes start.
				for _, p := range []string{ro, filepath.Join(ro, "spool")} {
					if err := immutable.Set(p); err != nil {
						t.Skipf("cannot make %s immutable to simulate a read-only disk: %v", p, err)
					}
					t.Cleanup(func() { immutable.Clear(p) })
				}
				v := openVault(t, fv.opts)
				_, err := v.NewWriter("refused", nil)
				wantErr(t, err, vault.ErrDiskReadOnly, ro)
				wantRemedy(t, err, ro, "read-write")
				checkSnapshot(t, v, fv.snap, fv.data)
				closeVault(t, v)
			},
		},
		{
			name: "disk full",
			prepare: func(t *testing.T, disks []string) {
				mountTmpfs(t, disks[3], "24m")
			},
			fault: func(t *testing.T, fv *faultVault) {
				full := fv.disks[3]
				v := openVault(t, fv.opts)
				// 20 MiB of incompressible data puts 10 MiB of shards on
				// each disk of a 2+2 layout; the 24 MiB disk runs out.
				_, err := tryPutAll(v, fixture{"huge.bin": incompressible(21, 20<<20)}, time.Time{})
				// The numbers must add up for the operator: what is free,
				// what the segment needs and the reserve that is kept.
				wantErr(t, err, vault.ErrDiskFull, full, "KiB free", "needs", "reserve")
				wantRemedy(t, err, "add disks")
				// The failed backup released the writer: the next one only
				// fails for lack of space, not because one is "in progress".
				_, err = tryPutAll(v, fixture{"again.bin": incompressible(22, 20<<20)}, time.Time{})
				wantErr(t, err, vault.ErrDiskFull, full)
				checkSnapshot(t, v, fv.snap, fv.data)
				closeVault(t, v)
			},
		},
		{
			name: "disk holding another vault's data",
			fault: func(t *testing.T, fv *faultVault) {
				other := testDisks(t, 4)
				if _, err := vault.Init(other); err != nil {
					t.Fatal(err)
				}
				mixed := append(append([]string(nil), fv.disks[:3]...), other[3])
				opts := fv.opts
				opts.Disks = mixed
				_, err := vault.Open(opts)
				wantErr(t, err, vault.ErrForeignDisk, other[3])
				wantRemedy(t, err, other[3], "--disk")
				_, err = vault.Init([]string{t.TempDir(), t.TempDir(), t.TempDir(), fv.disks[0]})
				wantErr(t, err, vault.ErrForeignDisk, fv.disks[0])
				wantRemedy(t, err, "empty disk")
			},
		},
		{
			name: "shard corrupted mid-file",
			fault: func(t *testing.T, fv *faultVault) {
				seg := damageShard(t, fv, func(p string) error {
					f, err := os.OpenFile(p, os.O_RDWR, 0)
					if err != nil {
						return err
					}
					defer f.Close()
					st, err := f.Stat()
					if err != nil {
						return err
					}
					buf := make([]byte, 64)
					off := st.Size() / 2
					if _, err := f.ReadAt(buf, off); err != nil {
						return err
					}
					for i := range buf {
						buf[i] ^= 0xa5
					}
					_, err = f.WriteAt(buf, off)
					return err
				})
				checkScrubRepairs(t, fv, seg)
			},
		},
		{
			name: "shard truncated",
			fault: func(t *testing.T, fv *faultVault) {
				seg := damageShard(t, fv, func(p string) error {
					st, err := os.Stat(p)
					if err != nil {
						return err
					}
					return os.Truncate(p, st.Size()/3)
				})
				checkScrubRepairs(t, fv, seg)
			},
		},
		{
			name: "shard truncated inside its header",
			fault: func(t *testing.T, fv *faultVault) {
				seg := damageShard(t, fv, func(p string) error { return os.Truncate(p, 20) })
				checkScrubRepairs(t, fv, seg)
			},
		},
		{
			name: "shard file deleted",
			fault: func(t *testing.T, fv *faultVault) {
				seg := damageShard(t, fv, os.Remove)
				checkScrubRepairs(t, fv, seg)
			},
		},
		{
			name: "wrong recovery key",
			fault: func(t *testing.T, fv *faultVault) {
				wrong, err := keys.NewRecoveryKey()
				if err != nil {
					t.Fatal(err)
				}
				opts := fv.opts
				opts.Key = wrong
				_, err = vault.Open(opts)
				wantErr(t, err, keys.ErrWrongKey, "recovery key does not open this vault", "--key-file")
				// A refused key leaves no lock behind: the right key opens.
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			disks := testDisks(t, 4)
			if tc.prepare != nil {
				tc.prepare(t, disks)
			}
			res, err := vault.Init(disks)
			if err != nil {
				t.Fatal(err)
			}
			fv := &faultVault{disks: disks, opts: smallOptions(disks, res), data: faultFixture()}
			v := openVault(t, fv.opts)
			fv.snap = putAll(t, v, fv.data, time.Time{})
			closeVault(t, v)

			tc.fault(t, fv)

			v = openVault(t, fv.opts)
			snaps, err := v.Snapshots()
			if err != nil {
				t.Fatal(err)
			}
			if len(snaps) != 1 || snaps[0].ID != fv.snap.ID {
				t.Fatalf("after the fault the vault lists %d snapshots, want only %s", len(snaps), fv.snap.ID)
			}
			checkSnapshot(t, v, fv.snap, fv.data)
			if !v.Degraded() {
				rep, err := v.Scrub(false)
				if err != nil {
					t.Fatalf("final scrub: %v", err)
				}
				if !rep.Healthy {
					t.Fatalf("final scrub is not healthy: %+v", rep.Problems)
				}
			}
		})
	}
}

// TestOpenEmptyDiskNamesIt guards that an empty directory given as a disk
// (a new disk not yet put in with replace-disk) is named in the error,
// with the replace-disk command as the fix.
func TestOpenEmptyDiskNamesIt(t *testing.T) {
	disks := testDisks(t, 4)
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{"a.eml": randomBytes(3, 30000)}
	v := openVault(t, smallOptions(disks, res))
	s := putAll(t, v, f, time.Time{})
	closeVault(t, v)

	// A disk swapped for a new, empty one at the same mount point: the
	// vault opens degraded with that path as the missing disk, and
	// replace-disk rebuilds onto it in place.
	os.RemoveAll(disks[3])
	if err := mkdir(disks[3]); err != nil {
		t.Fatal(err)
	}
	v = openVault(t, smallOptions(disks, res))
	if !v.Degraded() {
		t.Fatal("a vault with an empty directory in a disk's place does not say it is degraded")
	}
	_, err = v.NewWriter("x", nil)
	wantErr(t, err, vault.ErrDegradedWrite, disks[3])
	if rep, err := v.ReplaceDisk(disks[3], disks[3]); err != nil || !rep.Healthy {
		t.Fatalf("replace-disk onto the same mount point: %+v, %v", rep, err)
	}
	closeVault(t, v)
	v = openVault(t, smallOptions(disks, res))
	defer closeVault(t, v)
	if v.Degraded() {
		t.Fatal("still degraded after rebuilding onto the new disk")
	}
	checkSnapshot(t, v, s, f)

	// A directory with other data in it is not silently taken as a disk.
	other := filepath.Join(t.TempDir(), "other")
	mkdir(other)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o644)
	_, err = vault.Open(smallOptions(append(disks[:3:3], other), res))
	wantErr(t, err, vault.ErrNotVault, "disk "+other)
	wantRemedy(t, err, "replace-disk", other)
}
