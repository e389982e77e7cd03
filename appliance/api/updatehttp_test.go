package api

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stepUpdater installs in three steps; Status says it is no appliance
// when notAppliance is set.
type stepUpdater struct {
	notAppliance bool
	applied      string
}

func (u *stepUpdater) Status() (*OSStatus, error) {
	if u.notAppliance {
		return nil, ErrNotAppliance
	}
	return &OSStatus{Slot: "a", NextBoot: "a", Entries: []OSEntry{{Slot: "a", State: OSGood}, {Slot: "b", State: OSBad}}}, nil
}

func (u *stepUpdater) Find() ([]OSCandidate, error) {
	return []OSCandidate{{Path: "/dev/sdf", Manifest: &OSManifest{ImageVersion: "2026.12.1"}}, {Path: "/dev/sdg", Problem: "signature does not verify"}}, nil
}

func (u *stepUpdater) Apply(ctx context.Context, path string, o OSApplyOptions) (*OSResult, error) {
	if !o.AllowDowngrade {
		return nil, errors.New("version 2026.12.1 is not newer than the running one: allow a downgrade to install it")
	}
	for i := int64(1); i <= 3; i++ {
		o.Progress(OSProgress{Step: "write root", Done: i, Total: 3})
		time.Sleep(10 * time.Millisecond) // let each step travel on its own
	}
	u.applied = path
	return &OSResult{Slot: "b", ImageVersion: "2026.12.1", Message: "slot b boots next, on trial"}, nil
}

func (u *stepUpdater) Rollback() (*OSResult, error) {
	return &OSResult{Slot: "b", Message: "rolled back"}, nil
}
func (u *stepUpdater) Reboot() error { return errors.New("refused in a test") }

func serveUpdater(t *testing.T, u Updater) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "update.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go ServeUpdates(l, u, Operators())
	return sock
}

// TestUpdateServiceOverItsSocket: the console's client gets the status,
// the bundles with their problems, every progress step of an
// installation and its result, the not-an-appliance answer as
// ErrNotAppliance, and the service's refusals as errors.
func TestUpdateServiceOverItsSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the client talks only to a service run by root")
	}
	u := &stepUpdater{}
	c := DialUpdater(serveUpdater(t, u))
	st, err := c.Status()
	if err != nil || st.Entry(st.Slot.Other()).State != OSBad {
		t.Fatalf("status: %v %+v", err, st)
	}
	cands, err := c.Find()
	if err != nil || len(cands) != 2 || cands[0].Manifest.ImageVersion != "2026.12.1" || cands[1].Problem == "" || cands[1].Manifest != nil {
		t.Fatalf("find: %v %+v", err, cands)
	}
	if _, err := c.Apply(context.Background(), "/dev/sdf", OSApplyOptions{}); err == nil || !strings.Contains(err.Error(), "allow a downgrade") {
		t.Fatalf("apply refused: %v", err)
	}
	var steps []int64
	res, err := c.Apply(context.Background(), "/dev/sdf", OSApplyOptions{AllowDowngrade: true, Progress: func(p OSProgress) { steps = append(steps, p.Done) }})
	if err != nil || res.Slot != "b" || u.applied != "/dev/sdf" {
		t.Fatalf("apply: %v %+v, applied %q", err, res, u.applied)
	}
	if len(steps) != 3 || steps[2] != 3 {
		t.Errorf("progress steps seen: %v, want 1 2 3", steps)
	}
	if err := c.Reboot(); err == nil || !strings.Contains(err.Error(), "refused in a test") {
		t.Errorf("reboot: %v", err)
	}
	if _, err := DialUpdater(serveUpdater(t, &stepUpdater{notAppliance: true})).Status(); !errors.Is(err, ErrNotAppliance) {
		t.Errorf("status off an appliance: %v, want ErrNotAppliance", err)
	}
	if _, err := DialUpdater(filepath.Join(t.TempDir(), "none.sock")).Status(); err == nil || !strings.Contains(err.Error(), "systemctl status strongroom-update") {
		t.Errorf("no service: %v, want the unit to check", err)
	}
}

// TestUpdateClientRefusesAServiceNotRunByRoot: a socket served by another
// user (65534, a Python listener run by setpriv) is never used.
func TestUpdateClientRefusesAServiceNotRunByRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a listener as another user")
	}
	for _, tool := range []string{"setpriv", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	os.Chmod(filepath.Dir(dir), 0o755)
	sock := filepath.Join(dir, "update.sock")
	py := `import socket,sys,os
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1],0o666); s.listen(4)
while True:
    c,_=s.accept(); c.recv(65536)
    c.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"slot":"b"}\n\n'); c.close()
`
	srv := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", py, sock) // not a shim in root's home
	var stderr strings.Builder
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err := DialUpdater(sock).Status()
	if err == nil || !strings.Contains(err.Error(), "not served by root (user id 65534)") {
		t.Fatalf("status from a non-root service: %v %+v; want a refusal (listener: %s)", err, st, stderr.String())
	}
}
