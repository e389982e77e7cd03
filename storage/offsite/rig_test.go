package offsite_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/offsite/localstore"
	"github.com/strongroom/strongroom/storage/vault"
)

// fixture is a set of named contents stored as one snapshot.
type fixture map[string][]byte

// rig is a vault on temporary disks with a real S3 server beside it.
type rig struct {
	t     testing.TB
	disks []string
	key   keys.RecoveryKey
	opts  vault.Options
	v     *vault.Vault
	srv   *localstore.Server
	store *offsite.Store
}

func newRig(t testing.TB, nDisks int) *rig {
	t.Helper()
	r := &rig{t: t, srv: localstore.ForTest(t)}
	r.disks = makeDisks(t, nDisks)
	res, err := vault.Init(r.disks)
	if err != nil {
		t.Fatal(err)
	}
	r.key = res.RecoveryKey
	r.opts = smallOptions(r.disks, r.key)
	r.open()
	r.store = r.openStore(r.srv.Config())
	return r
}

// makeDisks makes n empty disk directories; sealed files in them are
// unsealed before the directory is removed.
func makeDisks(t testing.TB, n int) []string {
	root := t.TempDir()
	t.Cleanup(func() { immutable.ClearTree(root) })
	var disks []string
	for i := range n {
		d := filepath.Join(root, "disk"+string(rune('a'+i)))
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	return disks
}

func smallOptions(disks []string, key keys.RecoveryKey) vault.Options {
	return vault.Options{Disks: disks, Key: key, SegmentSize: 1 << 20,
		Chunking: chunk.Params{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}}
}

func (r *rig) open() {
	v, err := vault.Open(r.opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.v = v
	r.t.Cleanup(func() { v.Close() })
}

func (r *rig) openStore(cfg offsite.Config) *offsite.Store {
	s, err := offsite.Open(cfg, clock.Wall)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// backup stores f as one snapshot kept for retain from now.
func (r *rig) backup(f fixture, retain time.Duration) vault.Snapshot {
	r.t.Helper()
	w, err := r.v.NewWriter("test", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for name, data := range f {
		if _, err := w.Put(vault.Item{Path: name}, bytes.NewReader(data)); err != nil {
			r.t.Fatal(err)
		}
	}
	s, err := w.Commit(clock.Wall().Add(retain))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// seal does what the warden's seal round does to the files.
func (r *rig) seal() {
	r.t.Helper()
	c, err := vault.OpenCustody(r.disks, r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := c.Seal(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) copier() *offsite.Copier {
	sealed, err := vault.OpenSealed(r.disks, r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	return &offsite.Copier{Store: r.store, Vault: sealed, Now: clock.Wall, Parallel: 3}
}

func (r *rig) sync() offsite.Report {
	r.t.Helper()
	rep, err := r.copier().Sync(context.Background())
	if err != nil {
		r.t.Fatalf("offsite sync: %v\n%+v", err, rep)
	}
	return rep
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// sampleFixture is a few items, some large enough for several chunks and
// segments.
func sampleFixture(seed uint64) fixture {
	return fixture{
		"mail/alice/inbox/1.eml":   randomBytes(seed, 3<<10),
		"mail/alice/inbox/2.eml":   randomBytes(seed+1, 40<<10),
		"drive/bob/report.docx":    randomBytes(seed+2, 900<<10),
		"drive/bob/video.mp4":      randomBytes(seed+3, 2500<<10),
		"sites/hr/Documents/a.pdf": randomBytes(seed+4, 300<<10),
	}
}

// checkRestore restores every item of snapshot id from v into a new
// directory and compares the bytes with f.
func checkRestore(t *testing.T, v *vault.Vault, id string, f fixture) {
	t.Helper()
	s, err := v.Snapshot(id)
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	st, err := v.Restore(s, "", dest, nil)
	if err != nil {
		t.Fatalf("restore %s: %v", id, err)
	}
	if st.Items != int64(len(f)) {
		t.Fatalf("restore %s wrote %d items, want %d", id, st.Items, len(f))
	}
	for name, want := range f {
		got, err := os.ReadFile(filepath.Join(dest, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("restored %s differs from what was backed up (err %v)", name, err)
		}
	}
}

// remoteVault opens the bucket's only copy as a read-only vault.
func (r *rig) remoteVault(store *offsite.Store) *vault.Vault {
	r.t.Helper()
	copyOf, err := offsite.OpenCopy(context.Background(), store, "")
	if err != nil {
		r.t.Fatal(err)
	}
	remote, err := copyOf.Open(r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	return remote
}
