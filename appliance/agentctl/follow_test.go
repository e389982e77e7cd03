package agentctl

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/sandbox"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestBackupShowsProgress guards what an operator sees while a long
// backup runs with its output going to a file or a pipe: plain progress
// lines on the progress writer while the call blocks, read from the
// agent's status (in this process, and over its socket as the command
// line reaches the daemon), with units, items, throttling, and a last line
// when the run is done. Every Graph answer is slowed and some are 503s
// with Retry-After, so the run lasts seconds and is throttled.
func TestBackupShowsProgress(t *testing.T) {
	// Each way gets a tenant and vault of its own, so each run is a full
	// one that meets the simulator's 503s.
	rig := func(t *testing.T) (*tenantsim.Sim, *sandbox.Sandbox) {
		sim := tenantsim.NewTest(t, tenantsim.Config{Users: 3, Seed: 11,
			Faults: tenantsim.Faults{SlowRate: 1, SlowDelay: 15 * time.Millisecond, ServerErrorRate: 0.03, ServerErrorBurst: 1}})
		sb, err := sandbox.New(t.TempDir(), sim, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sb.Close() })
		return sim, sb
	}
	for _, overSocket := range []bool{false, true} {
		name := map[bool]string{false: "in process", true: "over the socket"}[overSocket]
		t.Run(name, func(t *testing.T) {
			sim, sb := rig(t)
			var svc api.Service = api.NewLocal(sb.Agent)
			if overSocket {
				svc = serveSocket(t, svc, filepath.Join(sb.Dir, "agent.sock"))
			}
			var out, prog bytes.Buffer
			o := outcome.Output{W: &out, Progress: &prog, ProgressEvery: 200 * time.Millisecond}
			if err := Backup(context.Background(), svc, o, nil); err != nil {
				t.Fatalf("backup: %v\n%s", err, out.String())
			}
			m := regexp.MustCompile(`(\d+) throttled, `).FindStringSubmatch(out.String())
			if m == nil || m[1] == "0" {
				t.Fatalf("the run met no throttling although the simulator answered 503s; report:\n%s", out.String())
			}
			checkProgressLines(t, prog.String())
			if !overSocket {
				restoreShowsProgress(t, sim, svc)
			}
		})
	}
}

// restoreShowsProgress restores a user's OneDrive files beside them and
// checks the progress ends with every item and byte done.
func restoreShowsProgress(t *testing.T, sim *tenantsim.Sim, svc api.Service) {
	upn := ""
	for _, u := range sim.Users() {
		if u.Licensed && upn == "" {
			upn = u.UPN
		}
	}
	var out, prog bytes.Buffer
	o := outcome.Output{W: &out, Progress: &prog, ProgressEvery: 100 * time.Millisecond}
	req := api.RestoreRequest{Selection: api.Selection{Snapshot: "latest", User: upn, Kind: "files"}, TargetFolder: "Progress check", Collision: "copy"}
	if err := Restore(context.Background(), svc, o, req); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`restored (\d+) of (\d+) items`).FindStringSubmatch(out.String())
	lines := strings.Split(strings.TrimSpace(prog.String()), "\n")
	last := lines[len(lines)-1]
	if m == nil || m[2] == "0" || !strings.HasPrefix(last, "restore: done, "+m[2]+"/"+m[2]+" items, ") || !strings.Contains(last, " of ") {
		t.Errorf("restore report:\n%s\nprogress:\n%s\nwant a last line with every item and byte done", out.String(), prog.String())
	}
}

// checkProgressLines checks the plain progress lines of one backup.
func checkProgressLines(t *testing.T, text string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d progress lines for a run of seconds at one every 200 ms, want several:\n%s", len(lines), text)
	}
	units := regexp.MustCompile(`, (\d+)/(\d+) units, (\d+) items`)
	sawRunning, sawThrottle := false, false
	for _, l := range lines {
		if !strings.HasPrefix(l, "backup: ") || !strings.Contains(l, " elapsed") {
			t.Errorf("not a progress line: %q", l)
		}
		if m := units.FindStringSubmatch(l); m != nil && m[1] != m[2] {
			sawRunning = true
		}
		sawThrottle = sawThrottle || strings.Contains(l, " throttled (paused ")
	}
	last := units.FindStringSubmatch(lines[len(lines)-1])
	if last == nil || last[1] != last[2] || last[2] == "0" {
		t.Errorf("last line does not show every unit done: %q", lines[len(lines)-1])
	} else if !strings.HasPrefix(lines[len(lines)-1], "backup: done, ") {
		t.Errorf("last line does not say the run is done: %q", lines[len(lines)-1])
	} else if n, _ := strconv.Atoi(last[3]); n == 0 {
		t.Errorf("last line counts no items: %q", lines[len(lines)-1])
	}
	if !sawRunning {
		t.Errorf("no line shows the run part done:\n%s", text)
	}
	if !sawThrottle {
		t.Errorf("no line shows the throttling the run met:\n%s", text)
	}
}

// serveSocket serves svc on a unix socket at path, as the daemon does
// (operations for this process's user), and returns a client of it.
func serveSocket(t *testing.T, svc api.Service, path string) api.Service {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go api.Serve(l, svc, api.Operators(os.Getuid()))
	t.Cleanup(func() { l.Close() })
	r, err := api.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
