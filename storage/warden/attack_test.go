package warden_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/warden"
)

// agentUser is the unprivileged user the attack test creates to play the
// agent: it owns the vault's files, as the agent's user does on the
// appliance, and holds no capability.
const agentUser = "sr-attack-agent"

// asAgent returns a command that runs as the agent's user.
func asAgent(uid, gid uint32, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}
	cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
	return cmd
}

// makeAgentUser creates the agent's stand-in user (removed at the end) and
// returns its uid and gid.
func makeAgentUser(t *testing.T) (uint32, uint32) {
	t.Helper()
	if _, err := user.Lookup(agentUser); err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", agentUser).CombinedOutput()
		if err != nil {
			t.Fatalf("create the agent's user: %v\n%s", err, out)
		}
		t.Cleanup(func() { exec.Command("userdel", agentUser).Run() })
	}
	u, err := user.Lookup(agentUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uint32(uid), uint32(gid)
}

// TestAgentUserCannotShortenRetention is the attack drill of issue 11 as a
// test: a real unprivileged user owns the vault's files and writes the
// backups, as the agent does; it then tries every way found to make the
// warden delete locked data or move its clock. Every attempt must fail,
// and after the warden's next rounds the locked snapshot restores byte for
// byte while the legitimately expired one is gone.
func TestAgentUserCannotShortenRetention(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a user and plays the warden with its capabilities")
	}
	requireFlags(t)
	uid, gid := makeAgentUser(t)
	r := newRig(t)
	// The agent's user must reach its files: open the test's directories.
	for p := r.root; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	if err := os.Mkdir(r.state, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(slices.Clone(r.disks), r.state, r.keyFile) {
		if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", uid, gid), p).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v\n%s", p, err, out)
		}
	}
	// The test binary plays the agent; go test keeps it where only root
	// can reach, so the agent's user gets a copy.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(r.root, "agent.test")
	if out, err := exec.Command("cp", exe, self).CombinedOutput(); err != nil {
		t.Fatalf("copy the test binary: %v\n%s", err, out)
	}
	os.Chmod(self, 0o755)
	job := func(role string) string {
		t.Helper()
		cmd := asAgent(uid, gid, self)
		cmd.Env = append(cmd.Env, agentRoleEnv+"="+role,
			"SR_KEY="+r.keyFile, "SR_DISKS="+strings.Join(r.disks, ":"), "SR_STATE="+r.state, "SR_WARDEN="+r.wardenDir)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("%s as the agent's user: %v\n%s", role, err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	backup := func(seed uint64, retain time.Time) string {
		return job(fmt.Sprintf("backup %d %d", seed, retain.Unix()))
	}
	locked := backup(10, t0.Add(7*365*24*time.Hour))
	short := backup(11, t0.Add(time.Hour))
	if rep := r.seal(); len(rep.NewSnapshots) != 2 {
		t.Fatalf("seal after the agent's backups: %+v", rep)
	}

	w := r.wardenDir
	clockAhead := func(d time.Duration) string {
		return fmt.Sprintf(`printf '{"version":2,"trusted":"%s","jump_pending":false}' > %s/clock.json`, t0.Add(d).Format(time.RFC3339), w)
	}
	attacks := []string{
		// The vault's directories and files.
		"mv {d}/snapshots {d}/.h",
		"mv {d}/segments {d}/.s",
		"rm -rf {d}/snapshots",
		"rm -f {d}/snapshots/*",
		"rm -f {d}/segments/0000/*",
		"mv {d}/segments/0000 {d}/segments/.0",
		"chmod 000 {d}/snapshots",
		"chmod 000 {d}/segments/0000",
		": > {d}/snapshots/" + locked + ".snap",
		"mv {d}/strongroom.disk {d}/label.old",
		"ln -sfT /tmp {d}/snapshots",
		"rm -rf {d}/segments && ln -s /tmp {d}/segments",
		"mv {d} {d}.old",
		"rm -rf {d} && ln -s /tmp {d}",
		"for f in {d}/segments/0000/*; do : > $f; done",
		// The warden's record and clock.
		"truncate -s 0 " + w + "/ledger.jsonl",
		"cat " + w + "/ledger.jsonl",
		"rm -f " + w + "/ledger.jsonl " + w + "/ledger.head",
		clockAhead(time.Hour),
		clockAhead(23*time.Hour + 54*time.Minute),
		clockAhead(100 * 365 * 24 * time.Hour),
		"rm -f " + w + "/clock.json",
		"chmod 000 " + w + "/clock.json",
		"mv " + w + " " + w + ".old",
		"echo confirmed > " + w + "/confirm.request",
		// The warden itself (it runs in this process).
		fmt.Sprintf("kill -STOP %d", os.Getpid()),
		fmt.Sprintf("kill -KILL %d", os.Getpid()),
	}
	for _, a := range attacks {
		disks := []string{""}
		if strings.Contains(a, "{d}") {
			disks = r.disks
		}
		for _, d := range disks {
			script := strings.ReplaceAll(a, "{d}", d)
			out, err := asAgent(uid, gid, "/bin/sh", "-c", script).CombinedOutput()
			if err == nil {
				t.Errorf("attack as the agent's user succeeded: %s\n%s", script, out)
			}
		}
	}
	// The drill the appliance's firmware test runs, as the agent's user.
	var n, files int
	var bad string
	fmt.Sscanf(job(fmt.Sprintf("drill %d", os.Getpid())), "%d %d %s", &n, &files, &bad)
	t.Logf("drill: %d attacks, %d sealed files compared", n, files)
	if n < 100 || files == 0 || bad != "" {
		t.Fatalf("drill as the agent's user: %d attacks on %d sealed files; went through or changed: %q", n, files, bad)
	}

	// What the agent may do: add entries, and commit a snapshot of its own
	// that names the locked one's segments with a retention about to end.
	for _, d := range r.disks {
		if out, err := asAgent(uid, gid, "/bin/sh", "-c", "ln -s / "+d+"/snapshots/zz-evil.snap && mkdir "+d+"/segments/ffff").CombinedOutput(); err != nil {
			t.Fatalf("the agent's user cannot add entries: %v\n%s", err, out)
		}
	}
	forged := backup(10, t0.Add(time.Second))

	// Time passes (2 h on the warden's clock): the warden seals and expires.
	r.time.advance(2 * time.Hour)
	r.seal()
	rep, err := r.w.Expire()
	if err != nil {
		t.Fatalf("expire after the attacks: %v", err)
	}
	slices.Sort(rep.Snapshots)
	want := []string{short, forged}
	slices.Sort(want)
	if !slices.Equal(rep.Snapshots, want) {
		t.Fatalf("expiry removed %v; want exactly the short-lived %s and the forged %s", rep.Snapshots, short, forged)
	}
	r.checkRestorable(locked, 10)
	if st := r.w.Status(); st.Clock.JumpPending || st.Snapshots != 1 {
		t.Fatalf("warden status after the attacks: %+v", st)
	}
	// The warden restarted (as after a reboot, same boot) keeps all of it.
	r.restartWarden()
	if rep, err := r.w.Expire(); err != nil || len(rep.Snapshots) != 0 {
		t.Fatalf("expire after a restart: %+v, %v", rep, err)
	}
	r.checkRestorable(locked, 10)
	if _, err := warden.ReadStatus(w); err != nil {
		t.Fatalf("the agent's user cannot read the warden's published status: %v", err)
	}
	if out, err := asAgent(uid, gid, "/bin/cat", filepath.Join(w, "status.json"), filepath.Join(w, "clock.json")).CombinedOutput(); err != nil {
		t.Fatalf("the agent's user cannot read the clock and status (it needs them): %v\n%s", err, out)
	}
}
