package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/bench"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/immutable"
)

// binary is the strongroom binary built once by TestMain; the tests run it
// as an operator would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strongroom-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "strongroom")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build strongroom:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary with args and an environment without
// STRONGROOM_KEY_FILE plus the given extra variables.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, vaultctl.KeyFileEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run strongroom %v: %v", args, err)
	}
	return r
}

func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("strongroom %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// testVault is a vault on four disk directories holding two snapshots of
// a generated source tree.
type testVault struct {
	dir, src, key string
	disks         []string
	snaps         []string
}

func (tv *testVault) diskArgs() []string {
	var a []string
	for _, d := range tv.disks {
		a = append(a, "--disk", d)
	}
	return a
}

// args returns the disk and key flags followed by extra.
func (tv *testVault) args(cmd ...string) []string {
	return append(append(cmd, tv.diskArgs()...), "--key-file", tv.key)
}

func makeSource(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 3<<20+123)
	rng.Read(random)
	files := map[string][]byte{
		"mail/anna/00001.eml":          []byte(strings.Repeat("Subject: budget\n\nplease review\n", 40)),
		"mail/anna/00002.eml":          []byte("short"),
		"mail/bob/attachment.pdf":      random,
		"drive/bob/Documents/copy.pdf": random,
		"drive/bob/Documents/notes.md": []byte(strings.Repeat("notes ", 20000)),
		"drive/empty.txt":              nil,
		"top level name with spaces":   []byte("x"),
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "mail/anna/00002.eml"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "mail/bob/attachment.pdf"), old, old); err != nil {
		t.Fatal(err)
	}
}

func newTestVault(t *testing.T) *testVault {
	t.Helper()
	dir := t.TempDir()
	// The warden (run by 'clock confirm') seals; unseal for the removal.
	t.Cleanup(func() { immutable.ClearTree(dir) })
	tv := &testVault{dir: dir, src: filepath.Join(dir, "src"), key: filepath.Join(dir, "recovery.key")}
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		tv.disks = append(tv.disks, d)
	}
	makeSource(t, tv.src)
	r := mustRun(t, append(append([]string{"vault", "init"}, tv.diskArgs()...), "--key-out", tv.key)...)
	for _, want := range []string{"Layout 2+2", "Recovery key", "Write this down"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("vault init output lacks %q:\n%s", want, r.stdout)
		}
	}
	if fi, err := os.Stat(tv.key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want mode 0600", err, fi.Mode())
	}
	key, _ := os.ReadFile(tv.key)
	if !strings.Contains(r.stdout, strings.TrimSpace(string(key))) {
		t.Errorf("vault init did not print the recovery key written to --key-out")
	}
	r = mustRun(t, tv.args("bench", "ingest", tv.src)...)
	var res bench.IngestResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("bench ingest printed %q: %v", r.stdout, err)
	}
	if res.Items != 7 || len(res.Snapshots) != 2 || res.SecondReused != 7 {
		t.Fatalf("bench ingest: %+v; want 7 items, 2 snapshots, 7 reused in the second", res)
	}
	tv.snaps = res.Snapshots
	return tv
}

// compareTrees checks that got holds exactly the regular files of want with
// the same content, permissions and modification times.
func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		seen[rel] = true
		wi, _ := d.Info()
		gi, err := os.Stat(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("restored tree lacks %s: %v", rel, err)
			return nil
		}
		wb, _ := os.ReadFile(p)
		gb, _ := os.ReadFile(filepath.Join(got, rel))
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s: restored content differs (%d bytes, want %d)", rel, len(gb), len(wb))
		}
		if wi.Mode().Perm() != gi.Mode().Perm() {
			t.Errorf("%s: mode %v, want %v", rel, gi.Mode().Perm(), wi.Mode().Perm())
		}
		if !wi.ModTime().Equal(gi.ModTime()) {
			t.Errorf("%s: mtime %v, want %v", rel, gi.ModTime(), wi.ModTime())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(got, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if rel, _ := filepath.Rel(got, p); !seen[rel] {
				t.Errorf("restored tree has an extra file %s", rel)
			}
		}
		return nil
	})
}

func TestVaultRoundTrip(t *testing.T) {
	tv := newTestVault(t)

	r := mustRun(t, tv.args("vault", "status")...)
	for _, want := range []string{"healthy", "2+2", "dedup ratio", "segments", "clock"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, tv.args("vault", "status", "--json")...)
	var st struct {
		Degraded  bool `json:"degraded"`
		Snapshots int  `json:"snapshots"`
		K, M      int
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Degraded || st.Snapshots != 2 || st.K != 2 || st.M != 2 {
		t.Errorf("status --json: %+v, %v\n%s", st, err, r.stdout)
	}

	r = mustRun(t, tv.args("vault", "snapshots", "--json")...)
	var snaps []struct {
		ID    string `json:"id"`
		Items int64  `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil || len(snaps) != 2 {
		t.Fatalf("snapshots --json: %v\n%s", err, r.stdout)
	}
	r = mustRun(t, tv.args("vault", "snapshots")...)
	if !strings.Contains(r.stdout, tv.snaps[0]) || !strings.Contains(r.stdout, "2 snapshots") {
		t.Errorf("snapshots lacks %s:\n%s", tv.snaps[0], r.stdout)
	}

	r = mustRun(t, tv.args("vault", "ls", tv.snaps[0], "mail")...)
	if n := strings.Count(r.stdout, "\n"); n != 3 || !strings.Contains(r.stdout, "mail/bob/attachment.pdf") {
		t.Errorf("ls SNAPSHOT mail: want 3 lines, got:\n%s", r.stdout)
	}
	r = mustRun(t, tv.args("vault", "ls", "--json", tv.snaps[1])...)
	var items []vaultctl.ListedItem
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil || len(items) != 7 {
		t.Errorf("ls --json: %v, %d items\n%s", err, len(items), r.stdout)
	}

	for _, snap := range tv.snaps {
		dest := filepath.Join(tv.dir, "restore-"+snap)
		mustRun(t, tv.args("vault", "restore", snap, dest)...)
		compareTrees(t, tv.src, dest)
	}
	if _, err := exec.LookPath("diff"); err == nil {
		dest := filepath.Join(tv.dir, "restore-"+tv.snaps[0])
		if out, err := exec.Command("diff", "-r", tv.src, dest).CombinedOutput(); err != nil {
			t.Errorf("diff -r: %v\n%s", err, out)
		}
	}

	partial := filepath.Join(tv.dir, "partial")
	mustRun(t, tv.args("vault", "restore", tv.snaps[0], partial, "--path", "drive/bob")...)
	if _, err := os.Stat(filepath.Join(partial, "drive/bob/Documents/notes.md")); err != nil {
		t.Errorf("restore --path drive/bob: %v", err)
	}
	if _, err := os.Stat(filepath.Join(partial, "mail")); err == nil {
		t.Errorf("restore --path drive/bob also restored mail/")
	}
}

func TestDegradedExit3(t *testing.T) {
	tv := newTestVault(t)
	if err := os.RemoveAll(tv.disks[1]); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, tv.args("vault", "status")...)
	if r.code != exitDegraded {
		t.Fatalf("status with a disk missing: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "DEGRADED") || !strings.Contains(r.stdout, "MISSING") {
		t.Errorf("status does not show the degraded vault:\n%s", r.stdout)
	}
	for _, want := range []string{"degraded", tv.disks[1], "what to do:", "replace-disk"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = run(t, nil, tv.args("vault", "scrub")...)
	if r.code != exitDegraded || !strings.Contains(r.stdout, "NOT healthy") {
		t.Errorf("scrub with a disk missing: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}

	dest := filepath.Join(tv.dir, "restore")
	mustRun(t, tv.args("vault", "restore", tv.snaps[0], dest)...)
	compareTrees(t, tv.src, dest)

	fresh := filepath.Join(tv.dir, "disk5")
	if err := os.Mkdir(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, tv.args("vault", "replace-disk", tv.disks[1], fresh)...)
	if !strings.Contains(r.stdout, "Vault is healthy") {
		t.Errorf("replace-disk:\n%s", r.stdout)
	}
	tv.disks[1] = fresh
	mustRun(t, tv.args("vault", "scrub", "--repair")...)
	mustRun(t, tv.args("vault", "status")...)
}

func TestWrongKeyFile(t *testing.T) {
	tv := newTestVault(t)
	// A valid recovery key, but of another vault.
	wrong := filepath.Join(tv.dir, "wrong.key")
	mustRun(t, "vault", "init", "--disk", t.TempDir(), "--key-out", wrong)

	r := run(t, nil, append(append([]string{"vault", "snapshots"}, tv.diskArgs()...), "--key-file", wrong)...)
	if r.code != exitFailure {
		t.Fatalf("wrong key: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"recovery key does not open this vault", "--key-file"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("wrong key message lacks %q:\n%s", want, r.stderr)
		}
	}

	// The environment variable works the same way as the flag.
	r = run(t, []string{vaultctl.KeyFileEnv + "=" + wrong}, append([]string{"vault", "snapshots"}, tv.diskArgs()...)...)
	if r.code != exitFailure || !strings.Contains(r.stderr, "does not open this vault") {
		t.Errorf("wrong key via %s: exit %d\n%s", vaultctl.KeyFileEnv, r.code, r.stderr)
	}
	r = run(t, []string{vaultctl.KeyFileEnv + "=" + tv.key}, append([]string{"vault", "snapshots"}, tv.diskArgs()...)...)
	if r.code != 0 {
		t.Errorf("right key via %s: exit %d\n%s", vaultctl.KeyFileEnv, r.code, r.stderr)
	}

	// A mistyped key names the file.
	bad := filepath.Join(tv.dir, "bad.key")
	os.WriteFile(bad, []byte("not-a-key\n"), 0o600)
	r = run(t, nil, append(append([]string{"vault", "snapshots"}, tv.diskArgs()...), "--key-file", bad)...)
	if r.code != exitFailure || !strings.Contains(r.stderr, bad) {
		t.Errorf("malformed key file: exit %d\n%s", r.code, r.stderr)
	}
}

func TestBadUsageExit2(t *testing.T) {
	dir := t.TempDir()
	cases := [][]string{
		{"vault", "status", "--bogus"},
		{"vault", "status"},                   // no disks
		{"vault", "snapshots", "--disk", dir}, // no key
		{"vault", "init"},
		{"vault", "restore", "only-one-arg", "--disk", dir},
		{"vault", "retain", "x", "--disk", dir, "--key-file", "k"},
		{"vault", "retain", "x", "--for", "soon", "--disk", dir, "--key-file", "k"},
		{"vault", "no-such-command"},
		{"warden", "run", "--interval", "-1s", "--disk", dir},
		{"bench", "ingest", "--disk", dir},
	}
	for _, args := range cases {
		r := run(t, nil, args...)
		if r.code != exitUsage {
			t.Errorf("strongroom %s: exit %d, want 2\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "strongroom: ") {
			t.Errorf("strongroom %s: stderr %q does not start with \"strongroom: \"", strings.Join(args, " "), r.stderr)
		}
	}
}

func TestRetentionAndConfig(t *testing.T) {
	tv := newTestVault(t)
	cfg := filepath.Join(tv.dir, "strongroom.yaml")
	var b strings.Builder
	b.WriteString("vault:\n  disks:\n")
	for _, d := range tv.disks {
		fmt.Fprintf(&b, "    - %s\n", filepath.Base(d)) // relative to the file
	}
	b.WriteString("  key_file: recovery.key\nother_role:\n  anything: 1\n")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "vault", "status", "--config", cfg)

	r := mustRun(t, "vault", "retain", tv.snaps[0], "--for", "30d", "--config", cfg)
	if !strings.Contains(r.stdout, "retained until") {
		t.Errorf("retain: %s", r.stdout)
	}
	r = run(t, nil, "vault", "retain", tv.snaps[0], "--until", "2001-01-01", "--config", cfg)
	if r.code != exitFailure || !strings.Contains(r.stderr, "can only be extended") {
		t.Errorf("shortening retention: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, nil, "vault", "delete", tv.snaps[0], "--config", cfg)
	if r.code != exitFailure || !strings.Contains(r.stderr, "retention-locked until") || !strings.Contains(r.stderr, "what to do:") {
		t.Errorf("delete of a locked snapshot: exit %d\n%s", r.code, r.stderr)
	}
	r = mustRun(t, "vault", "status", "--config", cfg)
	if !strings.Contains(r.stdout, "1 locked") {
		t.Errorf("status does not count the locked snapshot:\n%s", r.stdout)
	}
	r = mustRun(t, "vault", "clock", "status", "--config", cfg)
	if !strings.Contains(r.stdout, "trusted time") {
		t.Errorf("clock status:\n%s", r.stdout)
	}
	// No warden has run yet while the vault holds snapshots: its clock
	// starts frozen, an operator confirms once, and then nothing waits.
	r = mustRun(t, "vault", "clock", "confirm", "--config", cfg)
	if !strings.Contains(r.stdout, "Confirmed") {
		t.Errorf("first clock confirm:\n%s", r.stdout)
	}
	r = run(t, nil, "vault", "clock", "confirm", "--config", cfg)
	if r.code != exitFailure || !strings.Contains(r.stderr, "nothing awaits confirmation") {
		t.Errorf("clock confirm with nothing pending: exit %d\n%s", r.code, r.stderr)
	}

	a := mustRun(t, "vault", "dump-index", "--config", cfg)
	mustRun(t, "vault", "rebuild-index", "--config", cfg)
	b2 := mustRun(t, "vault", "dump-index", "--config", cfg)
	if a.stdout != b2.stdout || a.stdout == "" {
		t.Errorf("dump-index differs after rebuild-index (%d vs %d bytes)", len(a.stdout), len(b2.stdout))
	}
}
