package vault_test

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/vault"
)

// testDisks makes n empty disk directories on the real filesystem.
func testDisks(t *testing.T, n int) []string {
	t.Helper()
	root := t.TempDir()
	var disks []string
	for i := 0; i < n; i++ {
		disks = append(disks, filepath.Join(root, "disk"+string(rune('a'+i))))
	}
	for _, d := range disks {
		if err := mkdir(d); err != nil {
			t.Fatal(err)
		}
	}
	return disks
}

// smallOptions uses small segments and chunks so tests span many of each.
func smallOptions(disks []string, res vault.InitResult) vault.Options {
	return vault.Options{Disks: disks, Key: res.RecoveryKey, SegmentSize: 1 << 20,
		Chunking: chunk.Params{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32() >> 3 % 64) // compressible-ish
	}
	return b
}

// fixture is a set of named contents to store.
type fixture map[string][]byte

func putAll(t *testing.T, v *vault.Vault, f fixture, retain time.Time) vault.Snapshot {
	t.Helper()
	w, err := v.NewWriter("test", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range f {
		if _, err := w.Put(vault.Item{Path: name}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := w.Commit(retain)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkSnapshot(t *testing.T, v *vault.Vault, s vault.Snapshot, f fixture) {
	t.Helper()
	items, err := v.Items(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(f) {
		t.Fatalf("snapshot %s has %d items, want %d", s.ID, len(items), len(f))
	}
	for _, it := range items {
		var buf bytes.Buffer
		if err := v.WriteItem(&buf, it); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), f[it.Path]) {
			t.Fatalf("item %s differs after restore", it.Path)
		}
	}
}
