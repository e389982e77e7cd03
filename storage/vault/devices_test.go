package vault_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/storage/vault"
)

// TestPlaceOn guards what a layout survives and holds when its disk
// directories share devices: directories on one device fail together and
// share its bytes.
func TestPlaceOn(t *testing.T) {
	dirs := []string{"/a", "/b", "/c", "/d"}
	cases := []struct {
		name     string
		devs     []uint64
		l        vault.Layout
		devices  int
		survives int
		shared   int
		warn     string
		totals   []uint64
		usable   uint64
	}{
		{name: "four devices", devs: []uint64{1, 2, 3, 4}, l: vault.Layout{K: 2, M: 2}, devices: 4, survives: 2,
			totals: []uint64{100, 80, 100, 100}, usable: 160},
		{name: "one device", devs: []uint64{7, 7, 7, 7}, l: vault.Layout{K: 2, M: 2}, devices: 1, survives: 0, shared: 1,
			warn:   "/a, /b, /c, /d share a device, so layout 2+2 survives no disk failure: losing one device can lose every backup; give each disk directory a drive of its own",
			totals: []uint64{72, 72, 72, 72}, usable: 36},
		{name: "two pairs", devs: []uint64{1, 1, 2, 2}, l: vault.Layout{K: 2, M: 2}, devices: 2, survives: 1, shared: 2,
			warn:   "/a, /b; and /c, /d share a device, so layout 2+2 survives the loss of 1 of its 2 devices, not 2",
			totals: []uint64{100, 100, 60, 60}, usable: 60},
		{name: "three on one of two", devs: []uint64{5, 5, 5, 6}, l: vault.Layout{K: 2, M: 2}, devices: 2, survives: 0, shared: 1,
			warn: "/a, /b, /c share a device, so layout 2+2 survives no disk failure", totals: []uint64{90, 90, 90, 40}, usable: 60},
		{name: "unknown devices count apart", devs: []uint64{0, 0, 3, 3}, l: vault.Layout{K: 3, M: 1}, devices: 3, survives: 0, shared: 1,
			warn: "/c, /d share a device, so layout 3+1 survives no disk failure", totals: []uint64{10, 10, 10, 10}, usable: 15},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := vault.PlaceOn(dirs, c.devs, c.l)
			if p.Devices != c.devices || p.Survives != c.survives || len(p.Shared) != c.shared {
				t.Errorf("PlaceOn = %+v; want %d devices, surviving %d, %d shared", p, c.devices, c.survives, c.shared)
			}
			w := p.Warning(c.l)
			if (c.warn == "") != (w == "") || !strings.Contains(w, c.warn) {
				t.Errorf("Warning = %q; want one with %q", w, c.warn)
			}
			if got := vault.UsableBytes(c.l, c.totals, c.devs); got != c.usable {
				t.Errorf("UsableBytes = %d; want %d", got, c.usable)
			}
		})
	}
}

// TestSharedDeviceVault guards the operator's view of a vault whose disk
// directories lie on one file system (the test machine's temporary
// directories): init warns, and status reports the real capacity and the
// warning.
func TestSharedDeviceVault(t *testing.T) {
	disks := testDisks(t, 4)
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	if res.Placement.Devices != 1 || res.Placement.Survives != 0 || !strings.Contains(res.Placement.Warning(res.Layout), "survives no disk failure") {
		t.Fatalf("Init on four directories of one file system: placement %+v, warning %q", res.Placement, res.Placement.Warning(res.Layout))
	}
	v, err := vault.Open(vault.Options{Disks: disks, Key: res.RecoveryKey})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	st, err := v.Status()
	if err != nil {
		t.Fatal(err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(disks[0], &fs); err != nil {
		t.Fatal(err)
	}
	total := fs.Blocks * uint64(fs.Bsize)
	// Four shards of each segment share one file system: 2 of 4 hold
	// data, so half of it is usable, not twice all of it.
	if want := total / 4 * 2; st.CapacityBytes != want {
		t.Errorf("CapacityBytes = %d; want %d (half of the one file system's %d)", st.CapacityBytes, want, total)
	}
	if st.FreeBytes == 0 || st.FreeBytes > st.CapacityBytes {
		t.Errorf("FreeBytes = %d of capacity %d", st.FreeBytes, st.CapacityBytes)
	}
	if st.Disks[0].Device == 0 || st.Disks[0].Device != st.Disks[3].Device || !strings.Contains(st.DeviceWarning, "share a device") {
		t.Errorf("Status: disks %+v, warning %q; want one device and the warning", st.Disks, st.DeviceWarning)
	}
}

// TestDistinctDevices guards the case without a warning on real file
// systems: four tmpfs mounts are four devices (needs root to mount).
func TestDistinctDevices(t *testing.T) {
	root := t.TempDir()
	var disks []string
	for i := range 4 {
		d := filepath.Join(root, "disk"+string(rune('a'+i)))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", d, "tmpfs", 0, "size=4m"); err != nil {
			t.Skipf("cannot mount a tmpfs (%v): the injected-device cases of TestPlaceOn cover distinct devices", err)
		}
		t.Cleanup(func() { unix.Unmount(d, unix.MNT_DETACH) })
		disks = append(disks, d)
	}
	l := vault.Layout{K: 2, M: 2}
	p, err := vault.Place(disks, l)
	if err != nil || p.Devices != 4 || p.Survives != 2 || p.Warning(l) != "" {
		t.Errorf("Place on four tmpfs mounts = %+v, %v, warning %q; want 4 devices surviving 2, no warning", p, err, p.Warning(l))
	}
	if _, err := vault.Place(append(disks, filepath.Join(root, "gone")), l); err == nil || !strings.Contains(err.Error(), "stat disk") {
		t.Errorf("Place with a missing directory: %v; want the stat error", err)
	}
}
