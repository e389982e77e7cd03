package vault_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestUnreadableManifestHidesNothingElse: one manifest no copy of which
// decodes (damaged on every disk, or planted) is named in the status and
// left out of listings; every other snapshot stays listed and restorable.
func TestUnreadableManifestHidesNothingElse(t *testing.T) {
	disks, _, v := initVault(t, 4)
	f := fixture{"mail/a.eml": randomBytes(71, 40000)}
	s := putAll(t, v, f, time.Now().Add(time.Hour))
	junk := "20310301T120001.000000Z-deadbeef"
	for _, d := range disks {
		if err := os.WriteFile(filepath.Join(d, "snapshots", junk+".snap"), []byte("SRSNAP01 garbage"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	snaps, err := v.Snapshots()
	if err != nil || len(snaps) != 1 || snaps[0].ID != s.ID {
		t.Fatalf("Snapshots beside an unreadable manifest: %d, %v; want only %s", len(snaps), err, s.ID)
	}
	checkSnapshot(t, v, s, f)
	st, err := v.Status()
	if err != nil || !slices.Equal(st.UnreadableSnapshots, []string{junk}) {
		t.Fatalf("status names unreadable snapshots %v (%v), want [%s]", st.UnreadableSnapshots, err, junk)
	}
}
