package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestVaultCommandAsRootRunsAsOwner guards issue 11's item 4: a vault command
// run as root on a vault another user owns (the agent's, on the appliance)
// runs as that user, so everything it creates (the index) stays usable by
// the owner.
func TestVaultCommandAsRootRunsAsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const owner = 65534 // nobody
	dir := t.TempDir()
	for p := dir; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	var args []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("d%d", i))
		os.Mkdir(d, 0o755)
		args = append(args, "--disk", d)
	}
	key := filepath.Join(dir, "recovery.key")
	mustRun(t, append([]string{"vault", "init", "--key-out", key}, args...)...)
	for i := 1; i <= 4; i++ {
		if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", owner, owner), filepath.Join(dir, fmt.Sprintf("d%d", i))).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v\n%s", err, out)
		}
	}
	mustRun(t, append([]string{"vault", "status", "--key-file", key}, args...)...)
	state := filepath.Join(dir, "d1", "state")
	n := 0
	err := filepath.WalkDir(state, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if uid := info.Sys().(*syscall.Stat_t).Uid; uid != owner {
			t.Errorf("%s is owned by uid %d after a vault command as root; want the vault's owner %d", p, uid, owner)
		}
		n++
		return nil
	})
	if err != nil || n < 2 {
		t.Fatalf("the command as root left no state to check (%d entries, %v)", n, err)
	}
}
