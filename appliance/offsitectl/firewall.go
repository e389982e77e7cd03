package offsitectl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/offsite"
)

// The copier's network is the endpoint and nothing else. Its unit denies
// every address but localhost (IPAddressDeny=any, the stub resolver on
// 127.0.0.53); before it starts, AllowEndpoint, run as root from the
// root-owned configuration (which the agent cannot write), resolves the
// endpoint, writes its addresses to a file the copier dials from, and adds
// exactly those to the unit's IPAddressAllow= with systemctl set-property
// --runtime. A copier whose pinned addresses all stop answering exits, and
// its restart resolves again.

// resolveWait bounds how long AllowEndpoint waits for the endpoint's name
// to resolve (the network may still be coming up at boot).
const resolveWait = 2 * time.Minute

// AllowEndpoint pins the endpoint's addresses to pinnedFile and opens
// unit's firewall to them.
func AllowEndpoint(ctx context.Context, out outcome.Output, c *config.Config, pinnedFile, unit string) error {
	o, err := Section(c)
	if err != nil {
		return err
	}
	host, err := offsite.Config{Endpoint: o.Endpoint}.Host()
	if err != nil {
		return outcome.Usage{Err: err}
	}
	addrs, err := resolveEndpoint(ctx, host, resolveWait)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, a := range addrs {
		fmt.Fprintln(&b, a)
	}
	if err := durable.WriteFile(pinnedFile, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the endpoint's addresses: %w", err)
	}
	cmd := exec.CommandContext(ctx, "systemctl", FirewallArgs(unit, addrs)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("open %s's firewall to %s: systemctl set-property: %v: %s", unit, host, err, strings.TrimSpace(string(msg)))
	}
	fmt.Fprintf(out.W, "offsite: %s pinned to %s; %s may reach only these addresses and localhost\n", host, strings.TrimSpace(strings.ReplaceAll(b.String(), "\n", " ")), unit)
	return nil
}

// FirewallArgs are systemctl's arguments that make unit's IP allow list
// localhost and addrs, replacing what an earlier start set.
func FirewallArgs(unit string, addrs []netip.Addr) []string {
	args := []string{"set-property", "--runtime", unit, "IPAddressAllow=", "IPAddressAllow=localhost"}
	for _, a := range addrs {
		args = append(args, "IPAddressAllow="+netip.PrefixFrom(a, a.BitLen()).String())
	}
	return args
}

// resolveEndpoint returns host's addresses: host itself when it is one,
// else its DNS answer, retried until wait has passed.
func resolveEndpoint(ctx context.Context, host string, wait time.Duration) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	deadline := time.Now().Add(wait)
	for {
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err == nil && len(addrs) > 0 {
			for i := range addrs {
				addrs[i] = addrs[i].Unmap()
			}
			return addrs, nil
		}
		if err == nil {
			err = errors.New("no addresses")
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("resolve the offsite endpoint %s: %w (check the box's DNS servers in the console's network settings, and offsite.endpoint)", host, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// ReadPinned reads the addresses AllowEndpoint wrote.
func ReadPinned(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pinned endpoint addresses: %w (written by 'strongroom offsite allow-endpoint' before the service starts)", err)
	}
	defer f.Close()
	var addrs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			addrs = append(addrs, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pinned endpoint addresses %s: %w", path, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("pinned endpoint addresses %s: empty (run 'strongroom offsite allow-endpoint' first)", path)
	}
	return addrs, nil
}

// FirewallProbe is an address no endpoint has (TEST-NET-1, RFC 5737, the
// discard port): the copier's unit must not be able to send to it.
const FirewallProbe = "192.0.2.1:9"

// CheckFirewall sends one UDP datagram to probe, which the unit's
// IPAddressDeny= must stop, and says whether it did. The cgroup's filter
// fails the send at once with EPERM (for a TCP connection it drops the
// SYN silently, which looks like any unreachable host, so UDP is what
// tells the firewall apart). A datagram that leaves, or any other error,
// means the copier could reach more than its endpoint.
func CheckFirewall(ctx context.Context, probe string) (refused bool, what string) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", probe)
	if err != nil {
		return firewallRefused(err), err.Error()
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0}); err != nil {
		return firewallRefused(err), err.Error()
	}
	return false, "a datagram was sent"
}

// firewallRefused reports whether a failed send was the firewall's
// refusal (EPERM) rather than the network's answer.
func firewallRefused(err error) bool { return errors.Is(err, syscall.EPERM) }

// sayFirewall writes CheckFirewall's finding as the service's log line.
func sayFirewall(ctx context.Context, w io.Writer, probe string) {
	if refused, what := CheckFirewall(ctx, probe); refused {
		fmt.Fprintf(w, "offsite: firewall in place: sending to %s, outside the pinned endpoint, was refused (%s)\n", probe, what)
	} else {
		fmt.Fprintf(w, "offsite: WARNING: sending to %s, outside the pinned endpoint, was not refused by the unit's firewall (%s): check IPAddressDeny= of strongroom-offsite.service\n", probe, what)
	}
}
