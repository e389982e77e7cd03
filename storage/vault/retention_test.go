package vault_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/vault"
)

// TestRetentionLock guards the vault's side of retention: nobody deletes or
// shortens a locked snapshot through the vault's API.
func TestRetentionLock(t *testing.T) {
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

	// Sealing, expiry and the trusted clock are the warden's: see
	// storage/warden's tests.
}
