package setup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/sealed"
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
	disks := newDiskDirs(root, "d1", "d2", "d3", "d4")
	s := &System{NetworkDir: filepath.Join(root, "network")}
	vi, err := s.InitVault(context.Background(), disks)
	if err != nil {
		t.Fatal(err)
	}
	p := testPlan(filepath.Join(root, "etc"), "s", disks, vi.RecoveryKey)
	p.Network = &NetworkPlan{Mode: DHCP, Interface: "eth0"}
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
	disks := newDiskDirs(root, "d1", "d2", "d3", "d4")
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
	disks := newDiskDirs(root, "d1", "d2", "d3", "d4")
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

// TestCommitSealsSecrets guards setup on a machine with a TPM: the
// recovery key and the client secret reach systemd-creds on stdin only,
// no file setup leaves holds either in the clear, the configuration names
// them as the units' credentials, and once unsealed into a credentials
// directory they open the vault and sign in as before. The TPM is played
// by a stand-in for systemd-creds that checks how it is called.
func TestCommitSealsSecrets(t *testing.T) {
	root := t.TempDir()
	disks := newDiskDirs(root, "d1", "d2", "d3", "d4")
	tpm := map[string][]byte{} // ciphertext -> plaintext, the stand-in TPM's memory
	seal := &sealed.Sealer{Run: func(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
		want := []string{"encrypt", "--with-key=tpm2", "--tpm2-pcrs=7"}
		if name != "systemd-creds" || len(args) != 6 || !reflect.DeepEqual(args[:3], want) || args[4] != "-" || args[5] != "-" {
			t.Fatalf("ran %s %q", name, args)
		}
		ct := []byte(fmt.Sprintf("sealed %s #%d", strings.TrimPrefix(args[3], "--name="), len(tpm)))
		tpm[string(ct)] = append([]byte(nil), stdin...)
		return ct, nil
	}}
	s := &System{NetworkDir: filepath.Join(root, "network"), Seal: seal}
	vi, err := s.InitVault(context.Background(), disks)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "client-secret-that-must-not-leak"
	p := testPlan(filepath.Join(root, "etc"), secret, disks, vi.RecoveryKey)
	if err := s.Commit(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.KeyFile); !os.IsNotExist(err) {
		t.Errorf("a plain recovery key file was written: %v", err)
	}
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, clear := range []string{vi.RecoveryKey, secret} {
			if strings.Contains(string(b), clear) {
				t.Errorf("%s holds a secret in the clear", path)
			}
		}
		return nil
	})
	credDir := filepath.Join(root, "etc", CredentialsDir)
	unsealed := t.TempDir()
	for _, name := range []string{sealed.RecoveryKey, sealed.BackupAppSecret} {
		path := filepath.Join(credDir, name+".cred")
		ct, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("sealed %s: %v", name, err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", path, fi.Mode())
		}
		os.WriteFile(filepath.Join(unsealed, name), tpm[string(ct)], 0o400)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", unsealed)
	c, err := config.Load(p.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.BackupApp.ClientSecret != "" || c.BackupApp.ClientSecretFile != filepath.Join(unsealed, sealed.BackupAppSecret) {
		t.Errorf("backup app = %+v", c.BackupApp)
	}
	if b, err := sealed.ReadFile(c.BackupApp.ClientSecretFile); err != nil || string(b) != secret {
		t.Errorf("unsealed client secret %q, %v", b, err)
	}
	b, err := sealed.ReadFile(c.Vault.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := keys.ParseRecoveryKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(vault.Options{Disks: c.Vault.Disks, Key: rk, StateDir: filepath.Join(root, "state")})
	if err != nil {
		t.Fatalf("vault does not open with the unsealed key: %v", err)
	}
	v.Close()
}

// TestAdoptVaultOnAnotherBox guards setting up a box on disks that carry
// a vault already (the old box died; its disks moved): the disks are
// offered with their vault, only a whole vault (at least K of its disks,
// no strangers) is accepted, only its own recovery key opens it, and the
// committed configuration opens the same vault with that key.
func TestAdoptVaultOnAnotherBox(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	var disks []string
	for _, n := range []string{"d1", "d2", "d3", "d4", "e1", "f1", "f2"} {
		os.Mkdir(filepath.Join(root, n), 0o755)
		if n[0] == 'd' {
			disks = append(disks, filepath.Join(root, n))
		}
	}
	old := &System{NetworkDir: filepath.Join(root, "network")}
	vi, err := old.InitVault(ctx, disks)
	if err != nil {
		t.Fatal(err)
	}
	other, err := old.InitVault(ctx, []string{filepath.Join(root, "f1"), filepath.Join(root, "f2")})
	if err != nil {
		t.Fatal(err)
	}

	box := &System{DiskDirs: filepath.Join(root, "*[0-9]"), NoBlockDevices: true, NetworkDir: filepath.Join(root, "network2")}
	found, err := box.Disks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Disk{}
	for _, d := range found {
		byName[d.Name] = d
	}
	for i, n := range []string{"d1", "d2", "d3", "d4"} {
		d := byName[n]
		if !d.Usable() || d.Vault == nil || d.Vault.ID != vi.VaultID || d.Vault.Index != i || d.Vault.K != 2 || d.Vault.M != 2 {
			t.Fatalf("%s = %+v (vault %+v), want usable, disk %d of vault %s, 2+2", n, d, d.Vault, i, vi.VaultID)
		}
	}
	if d := byName["e1"]; !d.Usable() || d.Vault != nil {
		t.Fatalf("the empty disk = %+v", d)
	}
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"d1", "d2", "d3", "d4"}, ""},
		{[]string{"d2", "d4"}, ""},
		{[]string{"e1"}, ""},
		{[]string{"d1"}, "needs at least 2 of its 4 disks"},
		{[]string{"d1", "d2", "e1"}, "e1 holds no vault"},
		{[]string{"e1", "d1", "d2"}, "e1 holds no vault"},
		{[]string{"d1", "d2", "f1"}, "f1 holds vault " + other.VaultID[:8]},
	} {
		var chosen []Disk
		for _, n := range c.names {
			chosen = append(chosen, byName[n])
		}
		v, err := Adoption(chosen)
		switch {
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Adoption(%v) = %v, %v; want an error saying %q", c.names, v, err, c.want)
		case c.want == "" && err != nil:
			t.Errorf("Adoption(%v): %v", c.names, err)
		case c.want == "" && (v == nil) != (c.names[0] == "e1"):
			t.Errorf("Adoption(%v) = %+v", c.names, v)
		}
	}

	if _, err := box.AdoptVault(ctx, disks, other.RecoveryKey); err == nil || !strings.Contains(err.Error(), "does not open vault "+vi.VaultID[:8]) {
		t.Errorf("another vault's key: %v", err)
	}
	if _, err := box.AdoptVault(ctx, disks, "not-a-key"); err == nil || !strings.Contains(err.Error(), "not the recovery key") {
		t.Errorf("a malformed key: %v", err)
	}
	got, err := box.AdoptVault(ctx, disks, strings.ToUpper(vi.RecoveryKey))
	if err != nil || got.VaultID != vi.VaultID || got.Layout != "2+2" || got.RecoveryKey != vi.RecoveryKey {
		t.Fatalf("AdoptVault with the key = %+v, %v", got, err)
	}
	p := testPlan(filepath.Join(root, "box2"), "s", disks, got.RecoveryKey)
	p.Adopted = true
	if err := box.Commit(ctx, p); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := sealed.ReadRecoveryKey(c.Vault.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(vault.Options{Disks: c.Vault.Disks, Key: rk, StateDir: filepath.Join(root, "state2")})
	if err != nil {
		t.Fatalf("the adopted vault does not open with the committed key: %v", err)
	}
	if v.ID() != vi.VaultID {
		t.Errorf("opened vault %s, want %s", v.ID(), vi.VaultID)
	}
	v.Close()
}

// newDiskDirs makes a directory under root for each name, the disks of a
// test vault.
func newDiskDirs(root string, names ...string) []string {
	var disks []string
	for _, n := range names {
		disks = append(disks, filepath.Join(root, n))
		os.Mkdir(disks[len(disks)-1], 0o755)
	}
	return disks
}

// testPlan is a complete plan for the vault on disks with its recovery
// key, writing its files in dir and signing in with secret.
func testPlan(dir, secret string, disks []string, key string) Plan {
	return Plan{ConfigPath: filepath.Join(dir, "strongroom.yaml"), KeyFile: filepath.Join(dir, "recovery.key"),
		Disks: disks, RecoveryKey: key,
		Tenant:   Tenant{TenantID: "11111111-2222-3333-4444-555555555555", ClientID: "11111111-2222-3333-4444-555555555556", ClientSecret: secret},
		Interval: time.Hour, Rollback: 30 * 24 * time.Hour, Audit: 365 * 24 * time.Hour}
}
