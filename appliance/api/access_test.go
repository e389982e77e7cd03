package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
)

// countingService answers status and set-retention and counts the
// retention changes that got through.
type countingService struct {
	Service
	changes int
}

func (s *countingService) Status(context.Context) (*Status, error) {
	return &Status{Interval: time.Hour}, nil
}

func (s *countingService) SetRetention(_ context.Context, r, a time.Duration) (*RetentionChange, error) {
	s.changes++
	return &RetentionChange{Rollback: r, Audit: a}, nil
}

func TestOperatorsPolicy(t *testing.T) {
	p := Operators(1000)
	for _, tc := range []struct {
		c    Caller
		need Access
		ok   bool
	}{
		{Caller{UID: 0, Known: true}, Operate, true},
		{Caller{UID: 1000, Known: true}, Operate, true},
		{Caller{UID: 1001, Known: true}, Operate, false},
		{Caller{UID: 1001, Known: true}, Read, true},
		{Caller{}, Operate, false}, // no credentials: never root
		{Caller{}, Read, true},
	} {
		if err := p(tc.c, tc.need); (err == nil) != tc.ok {
			t.Errorf("caller %+v, access %d: %v, want allowed=%v", tc.c, tc.need, err, tc.ok)
		}
	}
}

// TestSocketChecksPeerCredentials: over a real unix socket, a process of
// another user (65534, run by setpriv) may read the status but its
// retention change is refused with 403 and never reaches the agent, while
// the same call from this process (root) gets through. The client is curl,
// not this package.
func TestSocketChecksPeerCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	for _, tool := range []string{"setpriv", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir makes its parent private
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(sock, 0o666)
	svc := &countingService{}
	go Serve(l, svc, Operators())

	call := func(asNobody bool, method, body string) (int, string) {
		args := []string{"-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", sock, "-X", "POST", "-d", body, "http://agent/v1/" + method}
		cmd := exec.Command("curl", args...)
		if asNobody {
			cmd = exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "curl"}, args...)...)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		s := strings.TrimSpace(string(out))
		i := strings.LastIndex(s, "\n")
		if i < 0 {
			t.Fatalf("%s: %q", cmd, s)
		}
		var code int
		json.Unmarshal([]byte(s[i+1:]), &code)
		return code, s[:i]
	}
	retention := `{"Rollback": 86400000000000, "Audit": 172800000000000}`
	if code, body := call(true, "status", ""); code != 200 || !strings.Contains(body, `"interval_ns":3600000000000`) {
		t.Errorf("status as 65534: %d %s", code, body)
	}
	if code, body := call(true, "set-retention", retention); code != 403 || !strings.Contains(body, "user id 65534 may only read") || !strings.Contains(body, "remedy") {
		t.Errorf("set-retention as 65534: %d %s; want 403 naming the user", code, body)
	}
	if svc.changes != 0 {
		t.Fatalf("a refused call reached the agent %d times", svc.changes)
	}
	if code, body := call(false, "set-retention", retention); code != 200 || svc.changes != 1 {
		t.Errorf("set-retention as root: %d %s, %d changes", code, body, svc.changes)
	}
}

// refusingService refuses every export as the agent refuses a request
// without a destination.
type refusingService struct{ Service }

func (refusingService) Export(context.Context, ExportRequest) (*ExportReport, error) {
	return nil, &agent.Invalid{Fields: []string{"dest"}, Problem: "name the directory to export into"}
}

// TestRefusalsNameTheirFields: a request the agent refuses reaches the
// client, over the socket, as a RemoteError naming the fields to change.
func TestRefusalsNameTheirFields(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go Serve(l, refusingService{}, Operators(os.Getuid()))
	r, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Export(context.Background(), ExportRequest{Format: "eml"})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "name the directory to export into" || len(re.Fields) != 1 || re.Fields[0] != "dest" {
		t.Fatalf("export without a destination: %#v", err)
	}
}
