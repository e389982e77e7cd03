package setup

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestParseLsblk guards that the boot disk, empty devices and partitions
// never appear as candidate data disks.
func TestParseLsblk(t *testing.T) {
	in := `{"blockdevices": [
	  {"name": "zram0", "size": 0, "model": null, "type": "disk", "mountpoints": [null]},
	  {"name": "sda", "size": 240057409536, "model": "SSD 240", "type": "disk", "mountpoints": [null],
	   "children": [{"name": "sda1", "size": 1000, "model": null, "type": "part", "mountpoints": ["/boot/efi"]},
	                {"name": "sda2", "size": 2000, "model": null, "type": "part", "mountpoints": ["/"]}]},
	  {"name": "sdb", "size": 4000787030016, "model": "WDC WD40EFRX ", "type": "disk", "mountpoints": [null],
	   "children": [{"name": "sdb1", "size": 4000785104896, "model": null, "type": "part", "mountpoints": ["/srv/disk1"]}]},
	  {"name": "sdc", "size": 4000787030016, "model": "WDC WD40EFRX", "type": "disk", "mountpoints": [null]},
	  {"name": "sr0", "size": 1073741312, "model": "DVD", "type": "rom", "mountpoints": [null]}
	]}`
	got, err := parseLsblk([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d disks, want sdb and sdc: %+v", len(got), got)
	}
	if got[0].Name != "sdb" || got[0].Path != "/srv/disk1" || got[0].Model != "WDC WD40EFRX" || got[0].SizeBytes != 4000787030016 || !got[0].Usable() {
		t.Errorf("sdb = %+v", got[0])
	}
	if got[1].Name != "sdc" || got[1].Usable() || !got[1].Formattable || !strings.Contains(got[1].Problem, "blank") {
		t.Errorf("sdc = %+v, want a blank, formattable, not yet usable disk", got[1])
	}
}

// TestParseLsblkAppliance guards, on the appliance's own layout (as lsblk
// shows it there: the verity root below slot A, the ESP on /efi, the state
// partition; a data disk formatted while the console ran listed twice at
// one path, as the console's mount namespace sees it), that the boot disk
// is never offered, while blank data disks
// and disks holding something are offered for formatting with what they
// hold, model and serial.
func TestParseLsblkAppliance(t *testing.T) {
	in := `{"blockdevices": [
	  {"name":"vda","size":2147483648,"model":null,"serial":null,"fstype":null,"pttype":"gpt","label":null,"partlabel":null,"type":"disk","mountpoints":[null],
	   "children":[
	    {"name":"vda1","size":134217728,"fstype":"vfat","pttype":"gpt","label":null,"partlabel":"esp","type":"part","mountpoints":["/efi"]},
	    {"name":"vda2","size":536870912,"fstype":"squashfs","pttype":"gpt","label":null,"partlabel":"sr-root-a","type":"part","mountpoints":[null],
	     "children":[{"name":"root","size":536870912,"fstype":"squashfs","type":"crypt","mountpoints":["/"]}]},
	    {"name":"vda3","size":536870912,"fstype":null,"pttype":"gpt","label":null,"partlabel":"sr-root-b","type":"part","mountpoints":[null]}]},
	  {"name":"vdb","size":268435456,"model":"QEMU HARDDISK","serial":"DATA-1","fstype":null,"pttype":null,"label":null,"partlabel":null,"type":"disk","mountpoints":[null]},
	  {"name":"vdc","size":268435456,"model":null,"serial":"DATA-2","fstype":"ext4","pttype":null,"label":"photos","partlabel":null,"type":"disk","mountpoints":[null]},
	  {"name":"vdd","size":268435456,"model":null,"serial":null,"fstype":null,"pttype":"dos","label":null,"partlabel":null,"type":"disk","mountpoints":[null],
	   "children":[{"name":"vdd1","size":1000,"fstype":"ntfs","type":"part","mountpoints":[null]},{"name":"vdd2","size":1000,"fstype":null,"type":"part","mountpoints":[null]}]},
	  {"name":"vde","size":268435456,"model":null,"serial":null,"fstype":"ext4","pttype":null,"label":"strongroom-data1","partlabel":null,"type":"disk","mountpoints":["/srv/strongroom/disk1","/srv/strongroom/disk1"]},
	  {"name":"vdf","size":1073741824,"model":"other appliance","serial":null,"fstype":null,"pttype":"gpt","label":null,"partlabel":null,"type":"disk","mountpoints":[null],
	   "children":[{"name":"vdf1","size":1000,"fstype":"ext4","partlabel":"sr-state","type":"part","mountpoints":[null]}]},
	  {"name":"loop0","size":67108864,"type":"loop","mountpoints":[null]}
	]}`
	got, err := parseLsblk([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Disk{
		{Name: "vdb", Device: "/dev/vdb", SizeBytes: 268435456, Model: "QEMU HARDDISK", Serial: "DATA-1", Formattable: true, Problem: "blank: f formats it for the vault"},
		{Name: "vdc", Device: "/dev/vdc", SizeBytes: 268435456, Serial: "DATA-2", Formattable: true,
			Contents: "ext4 file system labelled photos", Problem: "holds ext4 file system labelled photos: f erases and formats it"},
		{Name: "vdd", Device: "/dev/vdd", SizeBytes: 268435456, Formattable: true,
			Contents: "dos partition table with 2 partitions", Problem: "holds dos partition table with 2 partitions: f erases and formats it"},
		{Name: "vde", Device: "/dev/vde", SizeBytes: 268435456, Path: "/srv/strongroom/disk1", Label: "strongroom-data1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("disks =\n%+v\nwant\n%+v", got, want)
	}
}

// TestSharedDevice guards that two disks on one device are refused, and
// that directory disks (tests, demos) are not.
func TestSharedDevice(t *testing.T) {
	cases := []struct {
		name   string
		chosen []Disk
		want   string
	}{
		{"separate disks", []Disk{{Name: "vdb", Device: "/dev/vdb", FSDevice: 1}, {Name: "vdc", Device: "/dev/vdc", FSDevice: 2}}, ""},
		{"two names, one file system", []Disk{{Name: "sdb", Device: "/dev/sdb", FSDevice: 7}, {Name: "md0", Device: "/dev/md0", FSDevice: 7}},
			"sdb and md0 are on one device"},
		{"directories on one file system", []Disk{{Name: "d1", FSDevice: 7}, {Name: "d2", FSDevice: 7}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := SharedDevice(c.chosen)
			if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Errorf("SharedDevice = %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseNetwork(t *testing.T) {
	addr := `[{"ifname":"lo","link_type":"loopback","operstate":"UNKNOWN","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]},
	{"ifname":"eth0","link_type":"ether","operstate":"UP","address":"52:54:00:12:34:56","addr_info":[{"family":"inet","local":"192.168.1.20","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]`
	ifs, err := parseIPAddr([]byte(addr))
	if err != nil {
		t.Fatal(err)
	}
	want := []Interface{
		{Name: "lo", MAC: "00:00:00:00:00:00", State: "unknown", Addresses: []string{"127.0.0.1/8"}, Loopback: true},
		{Name: "eth0", MAC: "52:54:00:12:34:56", State: "up", Addresses: []string{"192.168.1.20/24"}},
	}
	if !reflect.DeepEqual(ifs, want) {
		t.Errorf("interfaces = %+v, want %+v", ifs, want)
	}
	gw, dev, err := parseDefaultRoute([]byte(`[{"dst":"default","gateway":"192.168.1.1","dev":"eth0","flags":[]}]`))
	if err != nil || gw != "192.168.1.1" || dev != "eth0" {
		t.Errorf("route = %q %q %v", gw, dev, err)
	}
	dns := parseResolvConf([]byte("# comment\nsearch example.com\nnameserver 192.168.1.1\nnameserver 9.9.9.9\n"))
	if !reflect.DeepEqual(dns, []string{"192.168.1.1", "9.9.9.9"}) {
		t.Errorf("dns = %v", dns)
	}
	st := NetworkState{Interfaces: ifs[:1]}
	if p := st.Problems(); len(p) != 3 {
		t.Errorf("problems of a loopback-only machine = %q, want address, route and DNS", p)
	}
}

func TestNetworkPlanValidate(t *testing.T) {
	cases := []struct {
		name string
		plan NetworkPlan
		want string
	}{
		{"keep", NetworkPlan{}, ""},
		{"dhcp", NetworkPlan{Mode: DHCP, Interface: "eth0"}, ""},
		{"dhcp without interface", NetworkPlan{Mode: DHCP}, "interface"},
		{"static", NetworkPlan{Mode: Static, Interface: "eth0", Address: "10.0.0.5/24", Gateway: "10.0.0.1", DNS: []string{"10.0.0.1"}}, ""},
		{"no prefix", NetworkPlan{Mode: Static, Interface: "eth0", Address: "10.0.0.5", Gateway: "10.0.0.1", DNS: []string{"10.0.0.1"}}, "prefix length"},
		{"gateway elsewhere", NetworkPlan{Mode: Static, Interface: "eth0", Address: "10.0.0.5/24", Gateway: "10.0.1.1", DNS: []string{"10.0.0.1"}}, "same subnet"},
		{"bad dns", NetworkPlan{Mode: Static, Interface: "eth0", Address: "10.0.0.5/24", Gateway: "10.0.0.1", DNS: []string{"dns.example"}}, "DNS server"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.plan.Validate()
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
}

func TestWriteNetworkFile(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteNetworkFile(dir, NetworkPlan{Mode: Static, Interface: "eth0", Address: "10.0.0.5/24", Gateway: "10.0.0.1", DNS: []string{"10.0.0.1", "9.9.9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"[Match]\nName=eth0\n", "Address=10.0.0.5/24\n", "Gateway=10.0.0.1\n", "DNS=10.0.0.1\nDNS=9.9.9.9\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", path, want, b)
		}
	}
}

func TestParseWindows(t *testing.T) {
	if w, err := ParseWindows("4h", "30d", "7y"); err != nil || w.Interval != 4*time.Hour || w.Rollback != 30*24*time.Hour {
		t.Errorf("ParseWindows = %+v, %v", w, err)
	}
	for _, bad := range [][3]string{{"10s", "30d", "7y"}, {"4h", "30d", "7d"}, {"4h", "soon", "7y"}} {
		if _, err := ParseWindows(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ParseWindows(%q) accepted", bad)
		}
	}
}

func TestDirDisksAndPreview(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"d1", "d2", "d3"} {
		os.Mkdir(filepath.Join(root, n), 0o755)
	}
	os.WriteFile(filepath.Join(root, "d3", "x"), []byte("x"), 0o644)
	s := &System{DiskDirs: filepath.Join(root, "d*"), NoBlockDevices: true}
	disks, err := s.Disks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(disks) != 3 || !disks[0].Usable() || disks[0].SizeBytes == 0 || disks[2].Usable() {
		t.Fatalf("disks = %+v, want d1, d2 usable and d3 refused as not empty", disks)
	}
	p, err := s.PreviewLayout(2)
	if err != nil || p.Layout != "1+1" || p.Warning == "" {
		t.Errorf("PreviewLayout(2) = %+v, %v", p, err)
	}
	if got := p.UsableBytes([]uint64{100, 50}); got != 50 {
		t.Errorf("UsableBytes = %d, want 50", got)
	}
	// d1 and d2 lie on the temporary directory's file system: one device,
	// which the 1+1 layout cannot lose, sharing its bytes.
	if disks[0].FSDevice == 0 || disks[0].FSDevice != disks[1].FSDevice {
		t.Fatalf("FSDevice of d1, d2 = %d, %d; want the same, non-zero", disks[0].FSDevice, disks[1].FSDevice)
	}
	on := p.On(disks[:2])
	if on.Usable != disks[0].SizeBytes/2 || on.Survives != "survives no disk failure" ||
		!strings.Contains(on.Warning, "count as one disk: "+disks[0].Path+", "+disks[1].Path+" share a device") || !strings.HasPrefix(on.Warning, p.Warning+"; ") {
		t.Errorf("Preview.On(d1, d2) = %+v", on)
	}
	apart := []Disk{disks[0], disks[1]}
	apart[1].FSDevice++
	if on := p.On(apart); on.Usable != disks[0].SizeBytes || on.Survives != p.Survives || on.Warning != p.Warning {
		t.Errorf("Preview.On on two devices = %+v; want %+v with all of the smaller disk usable", on, p)
	}
}

// TestCommitWritesKeyThenConfig guards the setup's end state: a key file
// only its owner reads, a configuration the agent loads, and a vault that
// opens with that key.
func TestCommitWritesKeyThenConfig(t *testing.T) {
	root := t.TempDir()
	var disks []string
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		disks = append(disks, filepath.Join(root, n))
		os.Mkdir(disks[len(disks)-1], 0o755)
	}
	s := &System{NetworkDir: filepath.Join(root, "network")}
	vi, err := s.InitVault(context.Background(), disks)
	if err != nil {
		t.Fatal(err)
	}
	p := Plan{ConfigPath: filepath.Join(root, "etc", "strongroom.yaml"), KeyFile: filepath.Join(root, "etc", "recovery.key"),
		Network: &NetworkPlan{Mode: DHCP, Interface: "eth0"}, Disks: disks, RecoveryKey: vi.RecoveryKey,
		Tenant:   Tenant{TenantID: "11111111-2222-3333-4444-555555555555", ClientID: "11111111-2222-3333-4444-555555555556", ClientSecret: "s"},
		Interval: time.Hour, Rollback: 30 * 24 * time.Hour, Audit: 365 * 24 * time.Hour}
	if err := s.Commit(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p.KeyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	c, err := config.Load(p.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.Audit.D() != p.Audit || len(c.Vault.Disks) != 4 || c.Vault.KeyFile != p.KeyFile {
		t.Errorf("config = %+v", c)
	}
	if _, err := os.Stat(filepath.Join(root, "network", "10-strongroom-eth0.network")); err != nil {
		t.Errorf("network file: %v", err)
	}
	rk, err := keys.ReadRecoveryKeyFile(c.Vault.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(vault.Options{Disks: c.Vault.Disks, Key: rk, StateDir: filepath.Join(root, "state")})
	if err != nil {
		t.Fatalf("vault does not open with the committed key: %v", err)
	}
	v.Close()
	if err := s.Commit(context.Background(), p); err == nil {
		t.Error("a second Commit over an existing configuration was accepted")
	}
}

// TestDiscardVaultLeavesEmptyDisks guards the interrupted wizard: after
// discarding, the disks are empty again and can be chosen.
func TestDiscardVaultLeavesEmptyDisks(t *testing.T) {
	root := t.TempDir()
	var disks []string
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		disks = append(disks, filepath.Join(root, n))
		os.Mkdir(disks[len(disks)-1], 0o755)
	}
	s := &System{}
	vi, err := s.InitVault(context.Background(), disks)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DiscardVault("someone-else", disks); err == nil {
		t.Error("DiscardVault of another vault id succeeded")
	}
	if err := s.DiscardVault(vi.VaultID, disks); err != nil {
		t.Fatal(err)
	}
	for _, d := range disks {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s still holds %v", d, ents)
		}
	}
}

// TestInitVaultMakesLockForTheAgent guards the first boot: the vault's
// lock file exists once the vault is created, so Commit's hand-over gives
// it to the agent's user; otherwise the warden, starting first, created it
// as its own user and the agent could not open it.
func TestInitVaultMakesLockForTheAgent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("handing files to another user needs root")
	}
	root := t.TempDir()
	var disks []string
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		disks = append(disks, filepath.Join(root, n))
		os.Mkdir(disks[len(disks)-1], 0o755)
	}
	if _, err := (&System{}).InitVault(context.Background(), disks); err != nil {
		t.Fatal(err)
	}
	agent := ids{uid: 65534, gid: 65534}
	for _, d := range disks {
		if err := chownTree(d, agent); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(d, vaultLockFile), &st); err != nil || int(st.Uid) != agent.uid {
			t.Errorf("%s/lock after the hand-over: uid %d, %v; want the agent's user %d", d, st.Uid, err, agent.uid)
		}
	}
}

// TestFstabDataSlots guards that the wizard formats no more disks than the
// image mounts: the labels counted in the image's own fstab.
func TestFstabDataSlots(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "image", "rootfs", "etc", "fstab"))
	if err != nil {
		t.Fatal(err)
	}
	if n := fstabDataSlots(b); n != 4 {
		t.Errorf("the image's fstab mounts %d data labels, want 4", n)
	}
	if n := fstabDataSlots([]byte("LABEL=strongroom-data1 /a auto\nLABEL=strongroom-data3 /c auto\n")); n != 1 {
		t.Errorf("labels 1 and 3: %d slots, want 1 (in a row)", n)
	}
}
