package setup_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/setup"
)

// fakeNet answers the commands ApplyNetwork runs: networkctl calls are
// recorded, and `ip -j addr` shows the lease or address only from the
// upAt-th look on (never when upAt is 0). The default route comes with
// it, or when routeAt > 0 only once networkctl has been called routeAt
// times (as when networkd installs routes only on a second reconfigure).
type fakeNet struct {
	calls   []string
	looks   int
	upAt    int
	routeAt int
	addr    string // ip -j addr's addr_info entry once up
}

func (f *fakeNet) run(_ context.Context, name string, args ...string) ([]byte, error) {
	cmd := name + " " + strings.Join(args, " ")
	switch {
	case name == "networkctl":
		f.calls = append(f.calls, cmd)
		return nil, nil
	case cmd == "ip -j addr":
		f.looks++
		info := ""
		if f.upAt > 0 && f.looks >= f.upAt {
			info = f.addr
		}
		return []byte(`[{"ifname":"eth0","link_type":"ether","operstate":"UP","address":"52:54:00:12:34:56","addr_info":[` + info + `]}]`), nil
	case cmd == "ip -j route show default":
		if f.upAt > 0 && f.looks >= f.upAt && len(f.calls) >= f.routeAt {
			return []byte(`[{"dst":"default","gateway":"10.0.2.2","dev":"eth0"}]`), nil
		}
		return []byte(`[]`), nil
	}
	return nil, os.ErrNotExist
}

const leased = `{"family":"inet","local":"10.0.2.15","prefixlen":24,"scope":"global","dynamic":true}`

// TestSystemApplyNetwork guards applying network settings from the
// console: networkd is reloaded, the new address is returned once it is
// up, and settings that do not come up within the polls are replaced by
// the previous file (or none) again, as is a change the operator does not
// confirm.
func TestSystemApplyNetwork(t *testing.T) {
	dhcp := setup.NetworkPlan{Mode: setup.DHCP, Interface: "eth0"}
	static := setup.NetworkPlan{Mode: setup.Static, Interface: "eth0", Address: "10.0.2.30/24", Gateway: "10.0.2.2", DNS: []string{"10.0.2.3"}}
	previous := []byte("[Match]\nName=eth0\n[Network]\nDHCP=yes\n")
	cases := []struct {
		name      string
		plan      setup.NetworkPlan
		prev      []byte // the file before; nil: none
		upAt      int
		routeAt   int
		addr      string
		wantErr   string
		wantAddr  string
		wantFile  []byte // nil: no file afterwards
		wantCalls int
	}{
		{"DHCP comes up", dhcp, nil, 2, 0, leased, "", "10.0.2.15/24", dhcp.Render(), 2},
		{"DHCP up after the half-way reapply", dhcp, nil, 3, 0, leased, "", "10.0.2.15/24", dhcp.Render(), 4},
		{"DHCP route only after the reapply", dhcp, nil, 1, 4, leased, "", "10.0.2.15/24", dhcp.Render(), 4},
		{"static comes up", static, previous, 1, 0, `{"family":"inet","local":"10.0.2.30","prefixlen":24,"scope":"global"}`, "", "10.0.2.30/24", static.Render(), 2},
		{"static never up, previous file back", static, previous, 0, 0, "", "the previous settings are back", "", previous, 6},
		{"DHCP without a lease, no file left", dhcp, nil, 0, 0, "", "no DHCP lease after 4ms, applied twice", "", nil, 6},
		{"DHCP lease without a route", dhcp, nil, 1, 99, leased, "a DHCP lease (10.0.2.15/24) but no default route", "", nil, 6},
		{"static address without its route is not up", static, nil, 1, 0, `{"family":"inet","local":"10.0.2.31","prefixlen":24,"scope":"global"}`, "no address 10.0.2.30/24", "", nil, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, c.plan.FileName())
			if c.prev != nil {
				if err := os.WriteFile(path, c.prev, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := &fakeNet{upAt: c.upAt, routeAt: c.routeAt, addr: c.addr}
			s := &setup.System{NetworkDir: dir, ApplyLive: true, NetworkPolls: 4, NetworkPollEvery: time.Millisecond, ResolvConf: filepath.Join(dir, "resolv.conf"), Run: f.run}
			st, err := s.ApplyNetwork(context.Background(), c.plan)
			if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if c.wantAddr != "" {
				if len(st.Interfaces) != 1 || strings.Join(st.Interfaces[0].Addresses, " ") != c.wantAddr {
					t.Errorf("state = %+v, want %s on eth0", st, c.wantAddr)
				}
			}
			got, rerr := os.ReadFile(path)
			switch {
			case c.wantFile == nil && rerr == nil:
				t.Errorf("file left behind:\n%s", got)
			case c.wantFile != nil && string(got) != string(c.wantFile):
				t.Errorf("file =\n%s\nwant\n%s", got, c.wantFile)
			}
			if len(f.calls) != c.wantCalls || f.calls[0] != "networkctl reload" || f.calls[1] != "networkctl reconfigure eth0" {
				t.Errorf("networkctl calls = %q, want %d (reload, reconfigure eth0 per change)", f.calls, c.wantCalls)
			}
		})
	}
	t.Run("not confirmed", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, dhcp.FileName())
		if err := os.WriteFile(path, previous, 0o644); err != nil {
			t.Fatal(err)
		}
		f := &fakeNet{upAt: 1, addr: leased}
		s := &setup.System{NetworkDir: dir, ApplyLive: true, NetworkPolls: 4, ResolvConf: filepath.Join(dir, "resolv.conf"), Run: f.run}
		if _, err := s.ApplyNetwork(context.Background(), static); err == nil {
			t.Fatal("static address came up on a DHCP-only fake")
		}
		if _, err := s.ApplyNetwork(context.Background(), dhcp); err != nil {
			t.Fatal(err)
		}
		if err := s.RevertNetwork(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != string(previous) {
			t.Errorf("after revert the file is\n%s\nwant the previous one", got)
		}
		if err := s.RevertNetwork(context.Background()); err != nil {
			t.Errorf("a second revert: %v, want nothing to do", err)
		}
	})
}
