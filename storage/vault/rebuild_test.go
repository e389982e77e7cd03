package vault_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongroom/strongroom/storage/vault"
)

// dumpIndex returns the vault's index as text.
func dumpIndex(t *testing.T, v *vault.Vault) string {
	t.Helper()
	var b bytes.Buffer
	if err := v.DumpIndex(&b); err != nil {
		t.Fatalf("dump index: %v", err)
	}
	if b.Len() == 0 {
		t.Fatal("index dump is empty")
	}
	return b.String()
}

// firstDiff describes where two index dumps part, for a readable failure.
func firstDiff(a, b string) string {
	al, bl := bytes.Split([]byte(a), []byte("\n")), bytes.Split([]byte(b), []byte("\n"))
	for i := 0; i < len(al) && i < len(bl); i++ {
		if !bytes.Equal(al[i], bl[i]) {
			return fmt.Sprintf("line %d: before %q, after %q", i+1, al[i], bl[i])
		}
	}
	return "one dump is a prefix of the other"
}

// TestRebuildIndexEquivalence guards that the index recreated from the
// segments alone, by RebuildIndex or by the recovery at Open after the
// index was lost, answers exactly as the live index did.
func TestRebuildIndexEquivalence(t *testing.T) {
	disks, opts, v := initVault(t, 4)
	stored := threeSnapshots(t, v)
	want := dumpIndex(t, v)

	n, err := v.RebuildIndex()
	if err != nil {
		t.Fatalf("rebuild index: %v", err)
	}
	st, err := v.Status()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != st.Segments {
		t.Fatalf("rebuild indexed %d segments, status counts %d", n, st.Segments)
	}
	if got := dumpIndex(t, v); got != want {
		t.Fatalf("index after RebuildIndex differs from the live one: %s", firstDiff(want, got))
	}
	for _, s := range stored {
		checkSnapshot(t, v, s.snap, s.data)
	}
	closeVault(t, v)

	state := filepath.Join(disks[0], "state")
	cases := []struct {
		name   string
		damage func() error
	}{
		{name: "index directory deleted", damage: func() error { return os.RemoveAll(filepath.Join(state, "index")) }},
		{name: "whole state directory deleted", damage: func() error { return os.RemoveAll(state) }},
		{name: "index directory holds garbage", damage: func() error {
			ix := filepath.Join(state, "index")
			if err := os.RemoveAll(ix); err != nil {
				return err
			}
			if err := os.MkdirAll(ix, 0o750); err != nil {
				return err
			}
			for _, name := range []string{"MANIFEST", "000001.vlog", "KEYREGISTRY", "000002.sst"} {
				if err := os.WriteFile(filepath.Join(ix, name), randomBytes(41, 4096), 0o600); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.damage(); err != nil {
				t.Fatal(err)
			}
			v := openVault(t, opts)
			if got := dumpIndex(t, v); got != want {
				t.Fatalf("index recovered at open differs from the live one: %s", firstDiff(want, got))
			}
			for _, s := range stored {
				checkSnapshot(t, v, s.snap, s.data)
			}
			closeVault(t, v)
		})
	}
}
