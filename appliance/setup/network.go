package setup

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strongroom/strongroom/storage/durable"
)

// NetworkState is the machine's network as it is now.
type NetworkState struct {
	Interfaces []Interface
	// Gateway and GatewayDev are the default route's next hop and
	// interface; empty when there is no default route.
	Gateway    string
	GatewayDev string
	DNS        []string
}

// Interface is one network interface.
type Interface struct {
	Name      string
	MAC       string
	State     string   // operstate: up, down, unknown
	Addresses []string // CIDR, e.g. 192.0.2.10/24
	Loopback  bool
	// DHCP is set when an address of the interface was leased (the kernel
	// marks it dynamic); otherwise its addresses are static.
	DHCP bool
}

// Source says where the interface's addresses come from: "DHCP",
// "static", or "" when it has none.
func (i Interface) Source() string {
	switch {
	case len(i.Addresses) == 0:
		return ""
	case i.DHCP:
		return "DHCP"
	}
	return "static"
}

// Problems lists what stops the appliance from reaching Microsoft 365,
// each with what to check. None means the network looks usable.
func (s NetworkState) Problems() []string {
	var out []string
	hasAddr := false
	for _, i := range s.Interfaces {
		if !i.Loopback && len(i.Addresses) > 0 {
			hasAddr = true
		}
	}
	if !hasAddr {
		out = append(out, "no interface has an address: plug in the cable, or choose DHCP or a static address")
	}
	if s.Gateway == "" {
		out = append(out, "no default route: the tenant cannot be reached; set a gateway")
	}
	if len(s.DNS) == 0 {
		out = append(out, "no DNS server: names cannot be resolved; set a DNS server")
	}
	return out
}

// Physical returns the interfaces a network file may be written for: all
// but loopback.
func (s NetworkState) Physical() []Interface {
	var out []Interface
	for _, i := range s.Interfaces {
		if !i.Loopback {
			out = append(out, i)
		}
	}
	return out
}

// NetworkMode is how the wizard leaves the network.
type NetworkMode int

// Network modes.
const (
	KeepNetwork NetworkMode = iota // write nothing
	DHCP                           // DHCP on one interface
	Static                         // fixed address, gateway and DNS
)

func (m NetworkMode) String() string {
	switch m {
	case DHCP:
		return "DHCP"
	case Static:
		return "static"
	}
	return "keep current settings"
}

// NetworkPlan is the network configuration to write.
type NetworkPlan struct {
	Mode      NetworkMode
	Interface string
	Address   string // CIDR, static only
	Gateway   string // static only
	DNS       []string
}

// Validate reports the first field that is wrong, naming the form to use.
func (p NetworkPlan) Validate() error {
	if p.Mode == KeepNetwork {
		return nil
	}
	if p.Interface == "" {
		return errors.New("choose the interface to configure")
	}
	if p.Mode == DHCP {
		return nil
	}
	pfx, err := netip.ParsePrefix(strings.TrimSpace(p.Address))
	if err != nil {
		return fmt.Errorf("address %q: write it with its prefix length, e.g. 192.168.1.20/24", p.Address)
	}
	gw, err := netip.ParseAddr(strings.TrimSpace(p.Gateway))
	if err != nil {
		return fmt.Errorf("gateway %q: write an IP address, e.g. 192.168.1.1", p.Gateway)
	}
	if !pfx.Masked().Contains(gw) {
		return fmt.Errorf("gateway %s is outside %s: it must be on the same subnet", gw, pfx.Masked())
	}
	if len(p.DNS) == 0 {
		return errors.New("give at least one DNS server")
	}
	for _, d := range p.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			return fmt.Errorf("DNS server %q: write an IP address, e.g. 192.168.1.1", d)
		}
	}
	return nil
}

// FileName is the systemd-networkd file the plan is written to.
func (p NetworkPlan) FileName() string { return "10-strongroom-" + p.Interface + ".network" }

// Render returns the systemd-networkd .network file for the plan.
func (p NetworkPlan) Render() []byte {
	var b bytes.Buffer
	b.WriteString("# Written by the Strongroom console setup. Change it with 'strongroom console'.\n")
	fmt.Fprintf(&b, "[Match]\nName=%s\n\n[Network]\n", p.Interface)
	if p.Mode == DHCP {
		b.WriteString("DHCP=yes\n")
	} else {
		fmt.Fprintf(&b, "Address=%s\nGateway=%s\n", strings.TrimSpace(p.Address), strings.TrimSpace(p.Gateway))
	}
	for _, d := range p.DNS {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	return b.Bytes()
}

// WriteNetworkFile writes the plan's .network file into dir atomically.
// It does not reload systemd-networkd (System.ApplyNetwork does).
func WriteNetworkFile(dir string, p NetworkPlan) (string, error) {
	if p.Mode == KeepNetwork {
		return "", nil
	}
	if err := p.Validate(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("network directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, p.FileName())
	return path, durable.WriteFile(path, p.Render(), 0o644)
}

// ipAddr is the part of `ip -j addr` the wizard reads.
type ipAddr struct {
	IfName   string   `json:"ifname"`
	Flags    []string `json:"flags"`
	Oper     string   `json:"operstate"`
	LinkType string   `json:"link_type"`
	Address  string   `json:"address"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Scope     string `json:"scope"`
		Dynamic   bool   `json:"dynamic"`
	} `json:"addr_info"`
}

// parseIPAddr reads the JSON of `ip -j addr`. Link-local IPv6 addresses
// are left out: they say nothing about reaching the tenant.
func parseIPAddr(b []byte) ([]Interface, error) {
	var links []ipAddr
	if err := json.Unmarshal(b, &links); err != nil {
		return nil, fmt.Errorf("read 'ip -j addr' output: %w", err)
	}
	var out []Interface
	for _, l := range links {
		i := Interface{Name: l.IfName, MAC: l.Address, State: strings.ToLower(l.Oper), Loopback: l.LinkType == "loopback"}
		for _, a := range l.AddrInfo {
			if a.Scope == "link" && a.Family == "inet6" {
				continue
			}
			i.Addresses = append(i.Addresses, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
			// IPv6 addresses from router advertisements are dynamic too, but
			// not DHCP: only leased IPv4 addresses count.
			i.DHCP = i.DHCP || (a.Dynamic && a.Family == "inet")
		}
		out = append(out, i)
	}
	return out, nil
}

// parseDefaultRoute reads the JSON of `ip -j route show default`.
func parseDefaultRoute(b []byte) (gateway, dev string, err error) {
	var routes []struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	}
	if err := json.Unmarshal(b, &routes); err != nil {
		return "", "", fmt.Errorf("read 'ip -j route' output: %w", err)
	}
	for _, r := range routes {
		if r.Dst == "default" || r.Dst == "" {
			return r.Gateway, r.Dev, nil
		}
	}
	return "", "", nil
}

// parseResolvConf returns the nameserver lines of a resolv.conf.
func parseResolvConf(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}

// sysInterfaces lists interfaces from /sys/class/net, for machines
// without the ip tool: names, MAC and operstate, no addresses.
func sysInterfaces(dir string) ([]Interface, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Interface
	for _, e := range ents {
		read := func(f string) string {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name(), f))
			return strings.TrimSpace(string(b))
		}
		out = append(out, Interface{Name: e.Name(), MAC: read("address"), State: read("operstate"), Loopback: read("type") == "772"})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}
