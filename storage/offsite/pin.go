package offsite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ErrPinnedUnreachable is returned (wrapped in the request's error) when
// none of the endpoint's pinned addresses accepts a connection: the
// store may have moved to addresses the copier's firewall does not allow,
// and the addresses must be resolved again (the service restarts for
// that).
var ErrPinnedUnreachable = errors.New("none of the offsite endpoint's pinned addresses answers")

// pinnedDialer connects only to the endpoint, and only at the addresses
// resolved for it when the copier started (Config.Addrs): the same list
// its unit's IP firewall allows, so a DNS answer that changed since, or a
// redirect to another host, never leads it elsewhere.
type pinnedDialer struct {
	host  string       // the endpoint's host name or address, as in URLs
	addrs []netip.Addr // where it may be reached
	d     net.Dialer
}

func newPinnedDialer(endpointHost string, addrs []string) (*pinnedDialer, error) {
	p := &pinnedDialer{host: endpointHost, d: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil {
			return nil, fmt.Errorf("offsite pinned address %q: %w", a, err)
		}
		p.addrs = append(p.addrs, ip.Unmap())
	}
	if len(p.addrs) == 0 {
		return nil, errors.New("offsite: no pinned addresses for the endpoint")
	}
	return p, nil
}

// DialContext is http.Transport's dialer: addr must be the endpoint's
// host and port; each pinned address is tried in turn.
func (p *pinnedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(host, p.host) {
		return nil, fmt.Errorf("offsite: refusing to connect to %s: only the endpoint %s may be reached", addr, p.host)
	}
	var errs []error
	for _, ip := range p.addrs {
		c, err := p.d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w (%s): %w", ErrPinnedUnreachable, addr, errors.Join(errs...))
}

// hostOnly is the host of a "host[:port]" as URLs carry it, without
// brackets around an IPv6 address.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
