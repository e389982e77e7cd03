package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/export/pst/psttest"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestExportPSTCommand runs the command a user types: a backup, then an
// export of every mailbox as PST. It says how many items it wrote and
// names one PST per mailbox (shared ones too), and readpst reads that many
// items back.
func TestExportPSTCommand(t *testing.T) {
	sim := tenantsim.NewTest(t, tenantsim.Config{Users: 2, Seed: 5})
	dir := t.TempDir()
	var disks []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("d%d", i))
		os.MkdirAll(d, 0o755)
		disks = append(disks, d)
	}
	key := filepath.Join(dir, "recovery.key")
	args := []string{"vault", "init", "--key-out", key}
	for _, d := range disks {
		args = append(args, "--disk", d)
	}
	mustRun(t, args...)
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, sim.CAPEM(), 0o644)
	cfg := filepath.Join(dir, "strongroom.yaml")
	if err := tenantsim.WriteAgentConfig(cfg, sim.AgentConfig(ca)); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "vault: {disks: [%s], key_file: %s}\napi_socket: %s\n", strings.Join(disks, ", "), key, filepath.Join(dir, "agent.sock"))
	f.Close()
	mustRun(t, "backup", "--config", cfg)

	dest := filepath.Join(dir, "pst")
	r := mustRun(t, "export", "latest", "--format", "pst", "--dest", dest, "--config", cfg)
	m := regexp.MustCompile(`exported ([\d,]+) items .* as pst into (\d+) files under `).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("export said:\n%s", r.stdout)
	}
	var mailboxes []string
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted || u.Shared {
			mailboxes = append(mailboxes, u.UPN)
		}
	}
	files, items := 0, 0
	for _, l := range strings.Split(r.stdout, "\n") {
		if p := strings.TrimSpace(l); strings.HasSuffix(p, "-001.pst") {
			files++
			items += psttest.Readpst(t, p).Count()
		}
	}
	if files != len(mailboxes) || m[2] != fmt.Sprint(files) {
		t.Errorf("export named %d PST files (says %s) for the mailboxes %v:\n%s", files, m[2], mailboxes, r.stdout)
	}
	if want := strings.ReplaceAll(m[1], ",", ""); fmt.Sprint(items) != want {
		t.Errorf("readpst reads %d items from the files, the export says %s", items, want)
	}
}
