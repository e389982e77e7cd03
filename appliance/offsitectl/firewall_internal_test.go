package offsitectl

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCheckFirewall guards the copier's firewall self-check: a datagram
// that leaves, or a send that fails for the network's reasons, is a
// warning; only the cgroup filter's EPERM counts as the unit's firewall
// refusing.
func TestCheckFirewall(t *testing.T) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if refused, what := CheckFirewall(context.Background(), l.LocalAddr().String()); refused || what != "a datagram was sent" {
		t.Errorf("an open address: refused=%v (%s), want a datagram sent", refused, what)
	}
	got := make([]byte, 8)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := l.ReadFrom(got); err != nil || n != 1 {
		t.Errorf("the probe datagram did not arrive: %d bytes, %v", n, err)
	}
	var w bytes.Buffer
	sayFirewall(context.Background(), &w, l.LocalAddr().String())
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
