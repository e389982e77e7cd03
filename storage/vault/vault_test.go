package vault_test

import (
	"os"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/vault"
)

func mkdir(p string) error { return os.MkdirAll(p, 0o755) }

// TestVaultRoundTrip guards the basic promise: what goes in comes back
// byte-identical after reopening, identical content is stored once, and an
// edited large item stores only its changed chunks.
func TestVaultRoundTrip(t *testing.T) {
	disks := testDisks(t, 4)
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	if res.Layout.String() != "2+2" {
		t.Fatalf("4 disks gave layout %s, want 2+2", res.Layout)
	}
	opts := smallOptions(disks, res)
	v, err := vault.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	big := randomBytes(1, 3<<20)
	f1 := fixture{"inbox/a.eml": randomBytes(2, 5000), "inbox/b.eml": randomBytes(2, 5000), "files/big.bin": big, "empty": nil}
	s1 := putAll(t, v, f1, time.Time{})
	edited := append([]byte(nil), big...)
	copy(edited[1<<20:], "an edit in the middle of the file")
	f2 := fixture{"files/big.bin": edited}
	s2 := putAll(t, v, f2, time.Time{})
	if s2.NewBytes > 600<<10 {
		t.Fatalf("editing 33 bytes of a 3 MiB item stored %d new bytes; want only the changed chunks", s2.NewBytes)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	v, err = vault.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	checkSnapshot(t, v, s1, f1)
	checkSnapshot(t, v, s2, f2)
	st, err := v.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Snapshots != 2 || st.Degraded {
		t.Fatalf("status: %d snapshots, degraded %v", st.Snapshots, st.Degraded)
	}
	if st.UniqueBytes >= st.LogicalBytes {
		t.Fatalf("no deduplication: unique %d, logical %d", st.UniqueBytes, st.LogicalBytes)
	}
}
