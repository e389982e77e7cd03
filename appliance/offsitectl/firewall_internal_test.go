package offsitectl

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestCheckFirewall guards the copier's firewall self-check: a connection
// that gets through, or fails for the network's reasons, is a warning;
// only the cgroup filter's EPERM counts as the unit's firewall refusing.
func TestCheckFirewall(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if refused, what := CheckFirewall(context.Background(), l.Addr().String()); refused || what != "connected" {
		t.Errorf("a listening address: refused=%v (%s), want a connection", refused, what)
	}
	var w bytes.Buffer
	sayFirewall(context.Background(), &w, l.Addr().String())
	if !strings.Contains(w.String(), "WARNING") || !strings.Contains(w.String(), "IPAddressDeny=") {
		t.Errorf("log line for an open address: %q, want a warning naming IPAddressDeny=", w.String())
	}

	eperm := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EPERM)}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{eperm, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, false},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, false},
		{context.DeadlineExceeded, false},
	} {
		if got := firewallRefused(c.err); got != c.want {
			t.Errorf("firewallRefused(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
