package warden_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
	"github.com/strongroom/strongroom/storage/warden"
)

// The test binary doubles as the agent: run with agentRoleEnv set, it
// does one agent job (see TestMain) as whatever user started it.
const agentRoleEnv = "STRONGROOM_WARDEN_TEST_AGENT"

func TestMain(m *testing.M) {
	if role := os.Getenv(agentRoleEnv); role != "" {
		if err := agentJob(role); err != nil {
			fmt.Fprintln(os.Stderr, "agent job:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// agentJob backs up a fixture ("backup SEED RETAIN-UNIX") with the vault's
// own code, the way the agent does, and prints the snapshot ID.
func agentJob(role string) error {
	f := strings.Fields(role)
	if len(f) == 2 && f[0] == "drill" {
		pid, _ := strconv.Atoi(f[1])
		rep, err := warden.RunDrill(strings.Split(os.Getenv("SR_DISKS"), ":"), os.Getenv("SR_WARDEN"), pid, func(string, ...any) {})
		if err != nil {
			return err
		}
		fmt.Printf("%d %d %s\n", rep.Attacks, rep.Files, strings.Join(append(rep.Succeeded, rep.Changed...), "; "))
		return nil
	}
	if len(f) != 3 || f[0] != "backup" {
		return fmt.Errorf("unknown job %q", role)
	}
	seed, _ := strconv.ParseUint(f[1], 10, 64)
	sec, _ := strconv.ParseInt(f[2], 10, 64)
	k, err := keys.ReadRecoveryKeyFile(os.Getenv("SR_KEY"))
	if err != nil {
		return err
	}
	v, err := vault.Open(vaultOptions(strings.Split(os.Getenv("SR_DISKS"), ":"), k, os.Getenv("SR_STATE"), os.Getenv("SR_WARDEN"), nil))
	if err != nil {
		return err
	}
	defer v.Close()
	s, err := put(v, makeFixture(seed), time.Unix(sec, 0))
	if err != nil {
		return err
	}
	fmt.Println(s.ID)
	return nil
}

func vaultOptions(disks []string, k keys.RecoveryKey, state, wdir string, wall func() time.Time) vault.Options {
	return vault.Options{Disks: disks, Key: k, StateDir: state, WardenDir: wdir, Clock: wall, SegmentSize: 1 << 20,
		Chunking: chunk.Params{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}}
}

type fixture map[string][]byte

func makeFixture(seed uint64) fixture {
	r := rand.New(rand.NewPCG(seed, 11))
	f := fixture{}
	for i := range 3 {
		b := make([]byte, 200<<10+r.IntN(600<<10))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		f[fmt.Sprintf("mail/%d/item-%d.eml", seed, i)] = b
	}
	return f
}

func put(v *vault.Vault, f fixture, retain time.Time) (vault.Snapshot, error) {
	w, err := v.NewWriter("test", nil)
	if err != nil {
		return vault.Snapshot{}, err
	}
	for name, data := range f {
		if _, err := w.Put(vault.Item{Path: name}, bytes.NewReader(data)); err != nil {
			w.Abort()
			return vault.Snapshot{}, err
		}
	}
	return w.Commit(retain)
}

// fakeWall and fakeBoot are the warden's wall clock and monotonic witness
// in tests; advance moves both, as time passing does.
type fakeTime struct {
	mu    sync.Mutex
	wall  time.Time
	boot  string
	since time.Duration
}

func (f *fakeTime) Wall() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wall
}

func (f *fakeTime) Elapsed() (string, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.boot, f.since
}

func (f *fakeTime) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wall = f.wall.Add(d)
	f.since += d
}

// setWall moves the system time alone, as someone with CAP_SYS_TIME could.
func (f *fakeTime) setWall(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wall = t
}

// rig is a vault on four real directories with a warden beside it.
type rig struct {
	t         *testing.T
	root      string
	disks     []string
	key       keys.RecoveryKey
	keyFile   string
	state     string
	wardenDir string
	time      *fakeTime
	w         *warden.Warden
}

var t0 = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

func newRig(t *testing.T) *rig {
	t.Helper()
	root := t.TempDir()
	r := &rig{t: t, root: root, time: &fakeTime{wall: t0, boot: "boot-1", since: time.Hour}}
	for i := range 4 {
		d := filepath.Join(root, fmt.Sprintf("data%d", i+1))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		r.disks = append(r.disks, d)
	}
	t.Cleanup(func() { unsealAll(t, root) })
	res, err := vault.Init(r.disks)
	if err != nil {
		t.Fatal(err)
	}
	r.key = res.RecoveryKey
	r.keyFile = filepath.Join(root, "recovery.key")
	if err := os.WriteFile(r.keyFile, []byte(r.key.String()+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	r.state = filepath.Join(root, "state")
	r.wardenDir = filepath.Join(root, "warden")
	r.openWarden()
	return r
}

func (r *rig) openWarden() {
	r.t.Helper()
	w, err := warden.Open(warden.Options{Disks: r.disks, Key: r.key, Dir: r.wardenDir, Wall: r.time.Wall, Elapsed: r.time.Elapsed,
		OrphanGrace: 48 * time.Hour, HandoverWait: 5 * time.Second})
	if err != nil {
		r.t.Fatalf("open the warden: %v", err)
	}
	r.w = w
	r.t.Cleanup(func() { w.Close() })
}

func (r *rig) restartWarden() {
	r.t.Helper()
	r.w.Close()
	r.openWarden()
}

func (r *rig) vault() *vault.Vault {
	r.t.Helper()
	v, err := vault.Open(vaultOptions(r.disks, r.key, r.state, r.wardenDir, r.time.Wall))
	if err != nil {
		r.t.Fatalf("open the vault: %v", err)
	}
	return v
}

// backup stores the fixture of seed in process and returns its snapshot.
func (r *rig) backup(seed uint64, retain time.Time) vault.Snapshot {
	r.t.Helper()
	v := r.vault()
	defer v.Close()
	s, err := put(v, makeFixture(seed), retain)
	if err != nil {
		r.t.Fatalf("backup: %v", err)
	}
	return s
}

func (r *rig) seal() warden.SealReport {
	r.t.Helper()
	rep, err := r.w.Seal()
	if err != nil {
		r.t.Fatalf("seal: %v", err)
	}
	return rep
}

// checkRestorable reads every item of the snapshot back and compares it
// byte for byte with its fixture.
func (r *rig) checkRestorable(id string, seed uint64) {
	r.t.Helper()
	v := r.vault()
	defer v.Close()
	s, err := v.Snapshot(id)
	if err != nil {
		r.t.Fatalf("snapshot %s is gone: %v", id, err)
	}
	want := makeFixture(seed)
	items, err := v.Items(s)
	if err != nil || len(items) != len(want) {
		r.t.Fatalf("snapshot %s: %d items (%v), want %d", id, len(items), err, len(want))
	}
	for _, it := range items {
		var b bytes.Buffer
		if err := v.WriteItem(&b, it); err != nil || !bytes.Equal(b.Bytes(), want[it.Path]) {
			r.t.Fatalf("snapshot %s: item %s does not restore byte for byte (%v)", id, it.Path, err)
		}
	}
}

// unsealAll clears the immutable and append-only flags under root, so the
// test's directories can be removed.
func unsealAll(t *testing.T, root string) {
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if e != nil && (e.Type().IsRegular() || e.IsDir()) {
			immutable.Clear(p)
			immutable.ClearAppendOnly(p)
		}
		return nil
	})
}

// requireFlags skips the test where the filesystem or the process cannot
// set the attributes the warden relies on.
func requireFlags(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "probe")
	os.WriteFile(p, nil, 0o600)
	if err := immutable.SetAppendOnly(dir); err != nil {
		t.Skipf("cannot set the append-only attribute here (needs CAP_LINUX_IMMUTABLE on ext4 or similar): %v", err)
	}
	immutable.ClearAppendOnly(dir)
}

// lsattr returns the attribute letters lsattr prints for path, read by an
// independent tool.
func lsattr(t *testing.T, path string, dir bool) string {
	t.Helper()
	args := []string{path}
	if dir {
		args = []string{"-d", path}
	}
	out, err := exec.Command("lsattr", args...).Output()
	if err != nil {
		t.Fatalf("lsattr %s: %v", path, err)
	}
	flags, _, _ := strings.Cut(string(out), " ")
	return flags
}
