package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// cliTenant is a simulated tenant and a vault the built binary backs it
// up into, without a daemon: every command opens the agent anew, as after
// a restart.
type cliTenant struct {
	t   *testing.T
	sim *tenantsim.Sim
	cfg string
}

func newCLITenant(t *testing.T, cfg tenantsim.Config) *cliTenant {
	t.Helper()
	sim := tenantsim.NewTest(t, cfg)
	dir := t.TempDir()
	var disks []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	key := filepath.Join(dir, "recovery.key")
	args := []string{"vault", "init", "--key-out", key}
	for _, d := range disks {
		args = append(args, "--disk", d)
	}
	mustRun(t, args...)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, sim.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "strongroom.yaml")
	if err := tenantsim.WriteAgentConfig(cfgPath, sim.AgentConfig(ca)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "vault: {disks: [%s], key_file: %s}\napi_socket: %s\n", strings.Join(disks, ", "), key, filepath.Join(dir, "agent.sock"))
	f.Close()
	return &cliTenant{t: t, sim: sim, cfg: cfgPath}
}

// run runs a command of the agent with the tenant's configuration.
func (c *cliTenant) run(args ...string) result {
	c.t.Helper()
	return run(c.t, nil, append(args, "--config", c.cfg)...)
}

// must runs a command that must exit 0.
func (c *cliTenant) must(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("strongroom %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// backup runs a backup and returns its restore point and item count.
func (c *cliTenant) backup(wantCode int) (out, snap string, items int) {
	c.t.Helper()
	r := c.run("backup")
	if r.code != wantCode {
		c.t.Fatalf("backup: exit %d, want %d\n%s%s", r.code, wantCode, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`(?m)^snapshot (\S+) .*\n(?s:.*)^items in the restore point: (\d+) \(`).FindStringSubmatch(r.stdout)
	if m == nil {
		c.t.Fatalf("backup output lacks the snapshot and its items:\n%s", r.stdout)
	}
	items, _ = strconv.Atoi(m[2])
	return r.stdout, m[1], items
}

func wantIn(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestCLICountsAgree guards issue 13 point 5 as an operator meets it: the
// items a backup reports are the items snapshots, status and report show
// for its restore point (each command a new process, as after a
// restart); deleted messages are reported as removed; status shows the
// coverage of the last run; retention reads in days; a partial run's
// report names the mailbox that did not complete; ls of an unknown user
// fails and says what to do.
func TestCLICountsAgree(t *testing.T) {
	c := newCLITenant(t, tenantsim.Config{Users: 4, Seed: 13})
	var user tenantsim.UserInfo
	for _, u := range c.sim.Users() {
		if u.Licensed && !u.Deleted {
			user = u
			break
		}
	}
	out1, s1, n1 := c.backup(0)
	wantIn(t, "first backup", out1, "; 0 removed since the last one, 0 not completed")
	if n1 == 0 {
		t.Fatalf("the first backup reports no items:\n%s", out1)
	}
	if _, err := c.sim.Apply(tenantsim.Scenario{Name: "delete-messages", User: user.UPN, Folder: "Inbox", Count: 10}); err != nil {
		t.Fatal(err)
	}
	out2, s2, n2 := c.backup(0)
	wantIn(t, "backup after 10 deletions", out2, "; 10 removed since the last one")
	if n2 != n1-10 {
		t.Errorf("items after deleting 10 messages: %d, want %d", n2, n1-10)
	}

	snaps := c.must("snapshots")
	for snap, n := range map[string]int{s1: n1, s2: n2} {
		if !regexp.MustCompile(`(?m)^` + snap + `\s+\S+ \S+\s+success\s+` + strconv.Itoa(n) + `\s`).MatchString(snaps) {
			t.Errorf("snapshots does not show %s with the %d items its backup reported:\n%s", snap, n, snaps)
		}
	}
	// Exit 3 is expected here: no warden runs beside this vault.
	st := c.run("status")
	if st.code != 0 && st.code != 3 {
		t.Fatalf("status: exit %d\n%s", st.code, st.stderr)
	}
	status := st.stdout
	wantIn(t, "status", status, fmt.Sprintf("last successful backup: %s (", s2), fmt.Sprintf("), %d items", n2))
	if m := regexp.MustCompile(`mailboxes: (\d+) of (\d+) protected`).FindStringSubmatch(status); m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("status after a restart does not show the last run's mailbox coverage:\n%s", status)
	}
	units := 0
	for _, m := range regexp.MustCompile(`(?m)^\w+: \d+ of (\d+) protected`).FindAllStringSubmatch(status, -1) {
		n, _ := strconv.Atoi(m[1])
		units += n
	}
	report := c.must("report")
	wantIn(t, "report", report, "backups: 2 (2 complete, 0 partial)", fmt.Sprintf(" %d items ", n1), fmt.Sprintf(" %d items ", n2),
		fmt.Sprintf(" %d units (0 failed)", units), "every restore point 30 days, first of each month 2555 days (7y)")

	r := c.run("ls", "latest", "nobody@x/Mail")
	if r.code == 0 || !strings.Contains(r.stderr, `holds nothing of "nobody@x"`) || !strings.Contains(r.stderr, "what to do: 'strongroom ls ") {
		t.Errorf("ls of an unknown user: exit %d, stderr %q; want a failure naming the user and what to do", r.code, r.stderr)
	}
	r = c.run("ls", "latest", user.UPN+"/Mail/No such folder")
	if r.code == 0 || !strings.Contains(r.stderr, "holds nothing at") {
		t.Errorf("ls of an unknown folder: exit %d, stderr %q; want a failure", r.code, r.stderr)
	}

	// A file whose every download is corrupted cannot complete: the run is
	// partial (exit 3) and the report names its owner.
	var file string
	if d, err := c.sim.DumpDrive(user.ID); err == nil {
		for _, it := range d.Items {
			if !it.Folder {
				file = it.ID
				break
			}
		}
	}
	if file == "" {
		t.Fatalf("%s has no OneDrive file to corrupt", user.UPN)
	}
	if err := c.sim.SetFaults(tenantsim.Faults{CorruptContent: map[string]int{file: -1}}); err != nil {
		t.Fatal(err)
	}
	// Every file changes, so every file is downloaded again.
	if _, err := c.sim.Apply(tenantsim.Scenario{Name: "ransomware", User: user.UPN}); err != nil {
		t.Fatal(err)
	}
	out3, _, _ := c.backup(3)
	wantIn(t, "partial backup", out3, "1 not completed")
	report = c.must("report")
	wantIn(t, "report after a partial run", report, "1 partial)", "; not completed: "+user.UPN+" (1 item not completed)")
}

// TestCLIRestoreInPlace guards issue 13 point 3 as an operator meets it: a
// deleted folder restored without --target-folder is back at its path,
// restoring it again with its parent as --target-folder skips every
// message (no Inbox/Inbox), and the output names the mailbox by UPN.
func TestCLIRestoreInPlace(t *testing.T) {
	c := newCLITenant(t, tenantsim.Config{Users: 2, Seed: 17})
	var user tenantsim.UserInfo
	for _, u := range c.sim.Users() {
		if u.Licensed && !u.Deleted {
			user = u
			break
		}
	}
	const folder = "Inbox/" + tenantsim.SignedContractsFolder
	d, err := c.sim.DumpMailbox(user.ID)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, m := range d.Messages {
		if m.FolderPath == folder || strings.HasPrefix(m.FolderPath, folder+"/") {
			k++
		}
	}
	_, s1, _ := c.backup(0)
	if _, err := c.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: user.UPN, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	c.backup(0)
	out := c.must("restore", s1, "--user", user.UPN, "--folder", folder)
	wantIn(t, "restore", out, fmt.Sprintf("restored %d of %d items from %s to their original places in %s in ", k, k, s1, user.UPN), "(0 skipped, 0 replaced, 0 failed)")
	out = c.must("restore", s1, "--user", user.UPN, "--folder", folder, "--target-folder", "Inbox")
	wantIn(t, "restore into the parent", out, fmt.Sprintf(`restored 0 of %d items from %s beneath "Inbox" of %s`, k, s1, user.UPN), fmt.Sprintf("(%d skipped,", k))
	after, err := c.sim.DumpMailbox(user.ID)
	if err != nil {
		t.Fatal(err)
	}
	back := 0
	for _, m := range after.Messages {
		switch {
		case strings.HasPrefix(m.FolderPath, "Inbox/Inbox"):
			t.Errorf("message in %s: --target-folder Inbox made a folder Inbox in Inbox", m.FolderPath)
		case m.FolderPath == folder || strings.HasPrefix(m.FolderPath, folder+"/"):
			back++
		}
	}
	if back != k {
		t.Errorf("%d messages at %s after the restores, want the %d backed up", back, folder, k)
	}
	r := c.run("restore", s1, "--user", user.UPN, "--folder", folder, "--target-user", "nobody@x")
	if r.code != 2 || !strings.Contains(r.stderr, "target user nobody@x is not in the tenant") || !strings.Contains(r.stderr, "--target-user") {
		t.Errorf("restore into an unknown user: exit %d, stderr %q; want 2, the problem and the flag to check", r.code, r.stderr)
	}
	folders := 0
	for _, f := range after.Folders {
		if f.Path == folder || strings.HasPrefix(f.Path, folder+"/") {
			folders++
		}
	}
	c.backup(0)
	ls := c.must("ls", "latest", user.UPN+"/Mail/Inbox")
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(tenantsim.SignedContractsFolder) + `/\s+` + strconv.Itoa(k+folders) + ` items`).MatchString(ls) {
		t.Errorf("ls of the Inbox does not show %s with its %d messages and %d folder records:\n%s", tenantsim.SignedContractsFolder, k, folders, ls)
	}
}
