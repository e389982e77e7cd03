package vault_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/immutable"
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

// initVault creates a vault on n fresh disks and opens it with small
// segments and chunks; the vault is closed when the test ends.
func initVault(t *testing.T, n int) ([]string, vault.Options, *vault.Vault) {
	t.Helper()
	disks := testDisks(t, n)
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatalf("init vault on %d disks: %v", n, err)
	}
	opts := smallOptions(disks, res)
	return disks, opts, openVault(t, opts)
}

// openVault opens a vault and closes it when the test ends (closing twice
// is harmless).
func openVault(t *testing.T, opts vault.Options) *vault.Vault {
	t.Helper()
	v, err := vault.Open(opts)
	if err != nil {
		t.Fatalf("open vault on %v: %v", opts.Disks, err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// closeVault closes v and fails the test if that fails.
func closeVault(t *testing.T, v *vault.Vault) {
	t.Helper()
	if err := v.Close(); err != nil {
		t.Fatalf("close vault: %v", err)
	}
}

// tryPutAll is putAll for tests that expect a failure: it returns the
// first error instead of failing the test, and aborts the writer.
func tryPutAll(v *vault.Vault, f fixture, retain time.Time) (vault.Snapshot, error) {
	w, err := v.NewWriter("test", nil)
	if err != nil {
		return vault.Snapshot{}, err
	}
	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := w.Put(vault.Item{Path: name}, bytes.NewReader(f[name])); err != nil {
			w.Abort()
			return vault.Snapshot{}, err
		}
	}
	return w.Commit(retain)
}

// incompressible returns n bytes that zstd cannot shrink.
func incompressible(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// shardFiles lists the shard files on one disk, sorted by segment.
func shardFiles(t *testing.T, disk string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(disk, "segments"), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".shard") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list shards on %s: %v", disk, err)
	}
	sort.Strings(out)
	return out
}

// segmentOf returns the segment ID a shard file name carries.
func segmentOf(t *testing.T, shard string) uint64 {
	t.Helper()
	id, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(shard), ".shard"), 16, 64)
	if err != nil {
		t.Fatalf("shard file %s: %v", shard, err)
	}
	return id
}

// clearImmutableOnCleanup clears the immutable flag of everything under
// root when the test ends, so that t.TempDir can remove it. Register it
// after the TempDir exists: cleanups run last-registered first.
func clearImmutableOnCleanup(t *testing.T, root string) {
	t.Helper()
	t.Cleanup(func() {
		filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if e != nil && (e.Type().IsRegular() || e.IsDir()) {
				if err := immutable.Clear(p); err != nil {
					t.Logf("clear immutable flag of %s: %v", p, err)
				}
			}
			return nil
		})
	})
}

// wantErr fails the test unless err matches target with errors.Is and its
// message contains every one of parts.
func wantErr(t *testing.T, err, target error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", target)
	}
	if !errors.Is(err, target) {
		t.Fatalf("got error %q, want one matching %q", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

// wantRemedy fails the test unless vault.Remedy(err) mentions every one of
// parts.
func wantRemedy(t *testing.T, err error, parts ...string) {
	t.Helper()
	r := vault.Remedy(err)
	if r == "" {
		t.Fatalf("error %q has no remedy for the operator", err)
	}
	for _, p := range parts {
		if !strings.Contains(r, p) {
			t.Fatalf("remedy %q for error %q does not mention %q", r, err, p)
		}
	}
}

// fakeWall is a settable wall clock for the vault's trusted clock.
type fakeWall struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeWall) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeWall) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

func (f *fakeWall) Add(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	return f.now
}
