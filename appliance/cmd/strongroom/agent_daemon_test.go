package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestAgentDaemonEndToEnd guards the daemon as it runs on the box: the real
// binary backs up a simulated tenant on its own schedule, serves
// Prometheus metrics, and answers the CLI over its socket while it holds
// the vault; SIGTERM stops it cleanly.
func TestAgentDaemonEndToEnd(t *testing.T) {
	sim := tenantsim.NewTest(t, tenantsim.Config{Users: 3, Seed: 5})
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
	if r := run(t, nil, args...); r.code != 0 {
		t.Fatalf("vault init: %s", r.stderr)
	}
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, sim.CAPEM(), 0o644)
	cfgPath := filepath.Join(dir, "strongroom.yaml")
	if err := tenantsim.WriteAgentConfig(cfgPath, sim.AgentConfig(ca)); err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	metricsAddr := l.Addr().String()
	l.Close()
	f, _ := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "vault: {disks: [%s], key_file: %s}\nmetrics_listen: %s\napi_socket: %s\n",
		strings.Join(disks, ", "), key, metricsAddr, filepath.Join(dir, "agent.sock"))
	f.Close()

	daemon := exec.Command(binary, "agent", "--config", cfgPath)
	var logs strings.Builder
	daemon.Stderr = &logs
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer daemon.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- daemon.Wait() }()

	// The first backup starts at once; wait for its restore point through
	// the CLI, which must reach the daemon over the socket. The wait ends
	// when the daemon dies or the test's own deadline nears, not after a
	// fixed time a loaded machine may need more than.
	var snaps []map[string]any
	deadline := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Minute)
	}
	for {
		r := run(t, nil, "snapshots", "--config", cfgPath, "--json")
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &snaps) == nil && len(snaps) > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the daemon exited (%v) before a restore point; last CLI answer %q %q; daemon log:\n%s", err, r.stdout, r.stderr, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no restore point from the daemon before the test's deadline; last CLI answer %q %q; daemon log:\n%s", r.stdout, r.stderr, logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if snaps[0]["result"] != "success" {
		t.Fatalf("the daemon's first backup: %+v", snaps[0])
	}
	// The run's metrics are recorded just after its snapshot is durable:
	// wait for them as for the snapshot.
	for _, want := range []string{"strongroom_build_info", `strongroom_backup_runs_total{result="success",workload="exchange"} 1`, "strongroom_vault_snapshots 1"} {
		for {
			resp, err := http.Get("http://" + metricsAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("metrics lack %q before the test's deadline:\n%s", want, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	r := run(t, nil, "find", "--config", cfgPath, "--json", "--kind", "message")
	if r.code != 0 || !strings.Contains(r.stdout, `"entries"`) {
		t.Fatalf("find over the socket: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A backup from the command line while the daemon runs, slowed to
	// last seconds: the call blocks on the socket, and with stderr not a
	// terminal the progress read from the daemon's status ends in a plain
	// "done" line.
	if err := sim.SetFaults(tenantsim.Faults{SlowRate: 1, SlowDelay: 80 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "backup", "--config", cfgPath)
	if r.code != 0 || !regexp.MustCompile(`(?m)^backup: done, (\d+)/(\d+) units, `).MatchString(r.stderr) || strings.Contains(r.stderr, "\r") {
		t.Fatalf("backup over the socket: exit %d\nstdout:\n%s\nstderr (want plain progress lines):\n%s", r.code, r.stdout, r.stderr)
	}
	daemon.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop within 30s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, "agent.sock")); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
}
