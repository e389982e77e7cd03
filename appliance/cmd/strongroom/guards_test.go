package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// filesUnder counts every entry below dir.
func filesUnder(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil && p != dir {
			n++
		}
		return nil
	})
	return n
}

// TestVaultRestoreRefusesSymlinks: symbolic links already in DEST, to
// places outside it, stop 'vault restore' with an error naming the link,
// and nothing is written outside DEST.
func TestVaultRestoreRefusesSymlinks(t *testing.T) {
	tv := newTestVault(t)
	dest := filepath.Join(tv.dir, "dest")
	outside := t.TempDir()
	for _, d := range []string{dest, filepath.Join(outside, "drive"), filepath.Join(outside, "mail")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"drive":                      filepath.Join(outside, "drive"),
		"mail":                       filepath.Join(outside, "mail"),
		"top level name with spaces": filepath.Join(outside, "top"), // dangling: a plain open would create it
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dest, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string // --path
		link string // the link the refusal names
	}{
		{"", "drive"}, // items are restored in path order: drive/ comes first
		{"mail", "mail"},
		{"top level name with spaces", "top level name with spaces"},
	} {
		args := tv.args("vault", "restore", tv.snaps[0], dest)
		if tc.path != "" {
			args = append(args, "--path", tc.path)
		}
		r := run(t, nil, args...)
		want := "refusing to follow symbolic link " + filepath.Join(dest, tc.link)
		if r.code != exitFailure || !strings.Contains(r.stderr, want) {
			t.Errorf("restore --path %q into a destination with links: exit %d, want 1 and %q\n%s", tc.path, r.code, want, r.stderr)
		}
		if n := filesUnder(t, outside); n != 2 { // the two directories made above
			t.Fatalf("restore --path %q wrote %d entries outside the destination", tc.path, n-2)
		}
	}
}

// TestEmptySnapshotRefused: an empty SNAPSHOT is a usage error naming what
// to give instead, not the latest snapshot (nor, with one snapshot, the
// only one).
func TestEmptySnapshotRefused(t *testing.T) {
	tv := newTestVault(t)
	dest := filepath.Join(tv.dir, "dest")
	const vaultMsg = "no snapshot given: name one (see 'strongroom vault snapshots') or say 'latest'"
	const agentMsg = "no snapshot given: name one (see 'strongroom snapshots') or say 'latest'"
	cfg := filepath.Join(tv.dir, "no-such-config.yaml")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{tv.args("vault", "restore", "", dest), vaultMsg},
		{tv.args("vault", "restore", " ", dest), vaultMsg},
		{tv.args("vault", "ls", ""), vaultMsg},
		{tv.args("vault", "retain", "", "--for", "30d"), vaultMsg},
		{tv.args("vault", "delete", ""), vaultMsg},
		// The agent's commands refuse before they look for the agent.
		{[]string{"restore", "", "--user", "a@b", "--config", cfg}, agentMsg},
		{[]string{"export", "", "--dest", dest, "--config", cfg}, agentMsg},
		{[]string{"ls", "", "--config", cfg}, agentMsg},
		{[]string{"find", "--snapshot", "", "--config", cfg}, agentMsg},
		{[]string{"delete", "", "--config", cfg}, agentMsg},
	} {
		r := run(t, nil, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("strongroom %q: exit %d, want 2 and %q\n%s", tc.args, r.code, tc.msg, r.stderr)
		}
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a refused restore created its destination (%v)", err)
	}
	// Both snapshots are still there, and "latest" still works.
	r := mustRun(t, tv.args("vault", "snapshots")...)
	if !strings.Contains(r.stdout, "2 snapshots") {
		t.Errorf("snapshots after the refusals:\n%s", r.stdout)
	}
	mustRun(t, tv.args("vault", "restore", "latest", dest)...)
	compareTrees(t, tv.src, dest)
}

// TestRetainForRange: 'retain --for' takes more than zero and at most 100
// years; a huge duration is refused with a message about its size instead
// of overflowing to a retain-until in year 0001.
func TestRetainForRange(t *testing.T) {
	tv := newTestVault(t)
	for _, tc := range []struct{ dur, want string }{
		{"1000000y", `--for: duration "1000000y" is more than 100 years: give at most 100y (36500d)`},
		{"101y", "more than 100 years"},
		{"36501d", "more than 100 years"},
		{"2562047h", "more than 100 years"},
		{"0d", "must be longer than zero"},
		{"-5d", "must be longer than zero"},
		{"-1h", "must be longer than zero"},
	} {
		r := run(t, nil, tv.args("vault", "retain", tv.snaps[0], "--for", tc.dur)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr+r.stdout, "0001") {
			t.Errorf("retain --for %s: exit %d, want 2 and %q\n%s%s", tc.dur, r.code, tc.want, r.stdout, r.stderr)
		}
	}
	r := mustRun(t, tv.args("vault", "snapshots")...)
	if strings.Contains(r.stdout, "(locked)") {
		t.Errorf("a refused retain locked a snapshot:\n%s", r.stdout)
	}
	r = mustRun(t, tv.args("vault", "retain", tv.snaps[0], "--for", "100y")...)
	if !strings.Contains(r.stdout, "retained until 21") { // now + 100 years
		t.Errorf("retain --for 100y: %s", r.stdout)
	}
}
