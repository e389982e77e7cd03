package setup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strongroom/strongroom/storage/durable"
)

// Defaults for System.ApplyNetwork: new settings must come up within a
// minute (NetworkPolls checks, NetworkPollEvery apart), as a display mode
// change on a desktop is undone when nobody can see it worked.
const (
	NetworkPolls     = 60
	NetworkPollEvery = time.Second
)

// previousNetwork is what ApplyNetwork replaced, for RevertNetwork.
type previousNetwork struct {
	path  string
	iface string
	data  []byte // nil: there was no file
}

// networkUp reports whether the interface of p carries the plan's
// settings: the static address and a default route through its gateway,
// or a leased address and a default route. When not, missing says what
// of it is not there yet, for the operator.
func networkUp(st NetworkState, p NetworkPlan) (up bool, missing string) {
	var iface *Interface
	for i := range st.Interfaces {
		if st.Interfaces[i].Name == p.Interface {
			iface = &st.Interfaces[i]
		}
	}
	if iface == nil {
		return false, "the interface is gone"
	}
	addr := false
	if p.Mode == DHCP {
		addr = iface.DHCP
	} else if want, err := netip.ParsePrefix(strings.TrimSpace(p.Address)); err == nil {
		for _, a := range iface.Addresses {
			if got, err := netip.ParsePrefix(a); err == nil && got == want {
				addr = true
			}
		}
	}
	route := st.Gateway != "" && st.GatewayDev == p.Interface
	if route && p.Mode == Static {
		route = st.Gateway == strings.TrimSpace(p.Gateway)
	}
	switch {
	case addr && route:
		return true, ""
	case p.Mode == DHCP && !addr:
		return false, "no DHCP lease"
	case p.Mode == DHCP:
		return false, "a DHCP lease (" + strings.Join(iface.Addresses, ", ") + ") but no default route"
	case !addr:
		return false, "no address " + p.Address
	}
	return false, "address " + p.Address + " but no default route via " + p.Gateway
}

// ApplyNetwork implements Backend.
func (s *System) ApplyNetwork(ctx context.Context, p NetworkPlan) (NetworkState, error) {
	if p.Mode == KeepNetwork {
		return s.Network(ctx)
	}
	if err := p.Validate(); err != nil {
		return NetworkState{}, err
	}
	path := filepath.Join(s.NetworkDir, p.FileName())
	prev := previousNetwork{path: path, iface: p.Interface}
	if b, err := os.ReadFile(path); err == nil {
		prev.data = b
	} else if !errors.Is(err, os.ErrNotExist) {
		return NetworkState{}, fmt.Errorf("read the current network file: %w", err)
	}
	if _, err := WriteNetworkFile(s.NetworkDir, p); err != nil {
		return NetworkState{}, fmt.Errorf("write network configuration: %w", err)
	}
	s.mu.Lock()
	s.prevNet = &prev
	s.mu.Unlock()
	if !s.ApplyLive {
		st, err := s.Network(ctx)
		return st, err
	}
	var st NetworkState
	err := s.reloadNetwork(ctx, p.Interface)
	if err == nil {
		st, err = s.waitNetwork(ctx, p)
	}
	if err != nil {
		if rerr := s.RevertNetwork(ctx); rerr != nil {
			return st, fmt.Errorf("%w; putting the previous settings back failed too: %v (restart the appliance)", err, rerr)
		}
		return st, fmt.Errorf("%w: the previous settings are back", err)
	}
	return st, nil
}

// waitNetwork polls until the plan's settings are up. Half-way it asks
// systemd-networkd to apply them once more: a DHCP exchange lost on a busy
// network, or routes networkd did not install after a reconfigure, then
// get a second chance within the same minute.
func (s *System) waitNetwork(ctx context.Context, p NetworkPlan) (NetworkState, error) {
	polls, every := s.NetworkPolls, s.NetworkPollEvery
	if polls <= 0 {
		polls, every = NetworkPolls, NetworkPollEvery
	}
	var st NetworkState
	missing := "no answer from 'ip'"
	for i := 0; i < polls; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(every):
			}
		}
		if i == polls/2 && i > 0 {
			if err := s.reloadNetwork(ctx, p.Interface); err != nil {
				return st, err
			}
		}
		var err error
		if st, err = s.Network(ctx); err == nil {
			var up bool
			if up, missing = networkUp(st, p); up {
				return st, nil
			}
		}
	}
	return st, fmt.Errorf("%s on %s: %s after %s, applied twice (check the cable, the DHCP server or the address)", p.Mode, p.Interface, missing, time.Duration(polls)*every)
}

// RevertNetwork implements Backend.
func (s *System) RevertNetwork(ctx context.Context) error {
	s.mu.Lock()
	prev := s.prevNet
	s.prevNet = nil
	s.mu.Unlock()
	if prev == nil {
		return nil
	}
	if prev.data == nil {
		if err := os.Remove(prev.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	} else if err := durable.WriteFile(prev.path, prev.data, 0o644); err != nil {
		return err
	}
	if !s.ApplyLive {
		return nil
	}
	return s.reloadNetwork(ctx, prev.iface)
}

// reloadNetwork makes systemd-networkd read its files again and apply them
// to the interface now.
func (s *System) reloadNetwork(ctx context.Context, iface string) error {
	if _, err := s.run(ctx, "networkctl", "reload"); err != nil {
		return fmt.Errorf("reload systemd-networkd: %w", err)
	}
	if _, err := s.run(ctx, "networkctl", "reconfigure", iface); err != nil {
		return fmt.Errorf("apply the network settings to %s: %w", iface, err)
	}
	return nil
}
