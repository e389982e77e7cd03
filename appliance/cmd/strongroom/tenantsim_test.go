package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTenantSimCommands guards the simulator's command line as the README
// writes it: fault modes as --faults, dump --user, and faults changed on a
// running simulator; bad input is a usage error (exit 2) that says what to
// write.
func TestTenantSimCommands(t *testing.T) {
	for _, bad := range []struct{ spec, want string }{
		{"bogus=1", "unknown mode"},
		{"truncate=2", "want a probability between 0 and 1"},
		{"slow", "want MODE=VALUE"},
	} {
		r := run(t, nil, "tenant-sim", "--faults", bad.spec)
		if r.code != exitUsage || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("tenant-sim --faults %s: exit %d, stderr %q; want exit 2 and %q", bad.spec, r.code, r.stderr, bad.want)
		}
	}

	cfg := filepath.Join(t.TempDir(), "sim.yaml")
	sim := exec.Command(binary, "tenant-sim", "--users", "2", "--seed", "3", "--config-out", cfg,
		"--faults", "truncate=0.25,503=0.1,burst=2,slow=0.5:5ms")
	stdout, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sim.Process.Kill(); sim.Wait() }()
	var said []string
	upn := ""
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "serving; interrupt to stop" {
		said = append(said, lines.Text())
		if f := strings.Fields(lines.Text()); len(f) == 4 && f[0] == "user:" && f[3] == "(licensed)" && upn == "" {
			upn = f[2]
		}
	}
	if !strings.Contains(strings.Join(said, "\n"), "faults:           truncate=0.25,503=0.1,burst=2,slow=0.5:5ms") || upn == "" {
		t.Fatalf("the simulator's description names no faults or no licensed user:\n%s", strings.Join(said, "\n"))
	}

	var faults map[string]any
	r := mustRun(t, "tenant-sim", "faults", "--config", cfg)
	if err := json.Unmarshal([]byte(r.stdout), &faults); err != nil || faults["truncate_rate"] != 0.25 || faults["server_error_burst"] != 2.0 || faults["slow_delay"] != 5e6 {
		t.Errorf("tenant-sim faults: %v %q; want the faults given with --faults", err, r.stdout)
	}
	r = mustRun(t, "tenant-sim", "faults", "--config", cfg, "none")
	faults = nil
	if err := json.Unmarshal([]byte(r.stdout), &faults); err != nil || faults["truncate_rate"] != nil || faults["slow_rate"] != nil {
		t.Errorf("tenant-sim faults none: %v %q; want no fault left", err, r.stdout)
	}
	if r := run(t, nil, "tenant-sim", "faults", "--config", cfg, "reset=x"); r.code != exitUsage || !strings.Contains(r.stderr, "fault reset=x") {
		t.Errorf("tenant-sim faults reset=x: exit %d %q; want a usage error", r.code, r.stderr)
	}

	var dump struct {
		UPN      string            `json:"upn"`
		Messages []json.RawMessage `json:"messages"`
	}
	r = mustRun(t, "tenant-sim", "dump", "--config", cfg, "--user", upn)
	if err := json.Unmarshal([]byte(r.stdout), &dump); err != nil || dump.UPN != upn || len(dump.Messages) == 0 ||
		!strings.Contains(r.stdout, `"path": "Inbox/Signed Contracts"`) {
		t.Errorf("tenant-sim dump --user %s: %v, upn %q, %d messages, Signed Contracts listed: %v", upn, err, dump.UPN, len(dump.Messages),
			strings.Contains(r.stdout, `"path": "Inbox/Signed Contracts"`))
	}
	// The README's scenario, then the README's dump shows it done.
	r = mustRun(t, "tenant-sim", "scenario", "delete-folder", "--config", cfg, "--user", upn, "--folder", "Inbox/Signed Contracts")
	if !strings.Contains(r.stdout, `"folders_deleted"`) {
		t.Errorf("scenario delete-folder: %s", r.stdout)
	}
	r = mustRun(t, "tenant-sim", "dump", "--config", cfg, "--user", upn)
	if strings.Contains(r.stdout, `"path": "Inbox/Signed Contracts"`) {
		t.Errorf("dump after delete-folder still lists Inbox/Signed Contracts")
	}
	if r := run(t, nil, "tenant-sim", "dump", "--config", cfg); r.code != exitUsage || !strings.Contains(r.stderr, "--user is required") {
		t.Errorf("tenant-sim dump without --user: exit %d %q; want a usage error naming --user", r.code, r.stderr)
	}
	if r := run(t, nil, "tenant-sim", "dump", "--config", cfg, upn); r.code != exitUsage {
		t.Errorf("tenant-sim dump USER (positional): exit %d %q; want a usage error", r.code, r.stderr)
	}
}
