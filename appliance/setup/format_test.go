package setup_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/appliance/setup"
)

// loopDisk attaches a sparse file of size bytes as a loop device, after
// prepare (if any) has written to the file. It skips the test where loop
// devices cannot be made (not root, no loop driver).
func loopDisk(t *testing.T, size int64, prepare func(file string)) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("formatting needs root and loop devices")
	}
	f := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, size); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(f)
	}
	out, err := exec.Command("losetup", "--find", "--show", f).Output()
	if err != nil {
		t.Skipf("no loop device here (losetup: %v): FormatDisk is untested on this machine", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func find(t *testing.T, disks []setup.Disk, dev string) setup.Disk {
	t.Helper()
	for _, d := range disks {
		if d.Device == dev {
			return d
		}
	}
	t.Fatalf("%s not among the disks offered: %+v", dev, disks)
	return setup.Disk{}
}

// TestSystemFormatDisk guards the console's formatting on real block
// devices: a blank disk is formatted, labelled and mounted at once; a disk
// holding a file system or a partition table is left untouched until the
// erase is confirmed; a mounted data disk is never formatted again.
func TestSystemFormatDisk(t *testing.T) {
	blank := loopDisk(t, 64<<20, nil)
	oldFS := loopDisk(t, 64<<20, func(f string) { sh(t, "mkfs.ext4", "-q", "-F", "-L", "old-backups", f) })
	gpt := loopDisk(t, 64<<20, func(f string) {
		c := exec.Command("sfdisk", "-q", f)
		c.Stdin = strings.NewReader("label: gpt\n,16M\n,16M\n")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v\n%s", err, out)
		}
	})
	spare := loopDisk(t, 64<<20, nil)
	root := t.TempDir()
	// Three labels, as a machine whose fstab mounts three data disks.
	s := &setup.System{LoopDevices: []string{blank, oldFS, gpt, spare}, MountRoot: root, DataSlots: 3}
	t.Cleanup(func() {
		for i := 1; i <= 3; i++ {
			_ = unix.Unmount(filepath.Join(root, "disk"+string(rune('0'+i))), 0)
		}
	})
	ctx := context.Background()

	disks, err := s.Disks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := find(t, disks, blank); !d.Formattable || d.Contents != "" || d.Usable() || !strings.Contains(d.Problem, "blank") {
		t.Errorf("blank disk = %+v, want formattable, no contents, 'blank' problem", d)
	}
	if d := find(t, disks, oldFS); !d.Formattable || d.Contents != "ext4 file system labelled old-backups" {
		t.Errorf("disk with a file system = %+v, want its ext4 file system and label named", d)
	}
	if d := find(t, disks, gpt); !strings.Contains(d.Contents, "gpt partition table") {
		t.Errorf("partitioned disk = %+v, want its gpt partition table named", d)
	}

	got, err := s.FormatDisk(ctx, setup.FormatRequest{Device: blank})
	if err != nil {
		t.Fatalf("format the blank disk: %v", err)
	}
	if got.Label != "strongroom-data1" || got.Path != filepath.Join(root, "disk1") {
		t.Errorf("formatted = %+v, want strongroom-data1 on %s/disk1", got, root)
	}
	if l := sh(t, "blkid", "-p", "-s", "LABEL", "-o", "value", blank); l != "strongroom-data1" {
		t.Errorf("label on %s = %q", blank, l)
	}
	if err := os.WriteFile(filepath.Join(got.Path, "probe"), []byte("x"), 0o600); err != nil {
		t.Fatalf("write to the mounted disk: %v", err)
	}
	if err := os.Remove(filepath.Join(got.Path, "probe")); err != nil {
		t.Fatal(err)
	}

	// Not blank, erase not confirmed: refused, the old file system stays.
	_, err = s.FormatDisk(ctx, setup.FormatRequest{Device: oldFS})
	if !errors.Is(err, setup.ErrHoldsData) || !strings.Contains(err.Error(), "old-backups") {
		t.Fatalf("format a disk holding a file system without confirmation: err = %v, want ErrHoldsData naming it", err)
	}
	if l := sh(t, "blkid", "-p", "-s", "LABEL", "-o", "value", oldFS); l != "old-backups" {
		t.Errorf("refused format changed the disk: label %q", l)
	}
	if got, err = s.FormatDisk(ctx, setup.FormatRequest{Device: oldFS, Erase: true}); err != nil || got.Label != "strongroom-data2" {
		t.Fatalf("format with erase confirmed = %+v, %v; want strongroom-data2", got, err)
	}
	if got, err = s.FormatDisk(ctx, setup.FormatRequest{Device: gpt, Erase: true}); err != nil || got.Label != "strongroom-data3" {
		t.Fatalf("format the partitioned disk = %+v, %v; want strongroom-data3", got, err)
	}
	if sig := sh(t, "wipefs", "--no-act", "--output", "TYPE", "--noheadings", gpt); sig != "ext4" {
		t.Errorf("signatures left on the partitioned disk after formatting: %q, want only ext4", sig)
	}

	// Formatted disks are offered as empty, usable, mounted data disks and
	// cannot be formatted again.
	if disks, err = s.Disks(ctx); err != nil {
		t.Fatal(err)
	}
	for i, dev := range []string{blank, oldFS, gpt} {
		d := find(t, disks, dev)
		if !d.Usable() || d.Path != filepath.Join(root, "disk"+string(rune('1'+i))) {
			t.Errorf("%s after formatting = %+v, want usable on disk%d", dev, d, i+1)
		}
	}
	if _, err := s.FormatDisk(ctx, setup.FormatRequest{Device: blank, Erase: true}); err == nil || !strings.Contains(err.Error(), "is mounted at") {
		t.Errorf("format a mounted data disk again: err = %v, want refused as mounted", err)
	}
	if _, err := s.FormatDisk(ctx, setup.FormatRequest{Device: spare}); err == nil || !strings.Contains(err.Error(), "all 3 data disk labels") {
		t.Errorf("format a fourth disk where three labels are mounted: err = %v", err)
	}
	if _, err := s.FormatDisk(ctx, setup.FormatRequest{Device: "/dev/no-such-disk", Erase: true}); err == nil || !strings.Contains(err.Error(), "not offered") {
		t.Errorf("format a device that is not offered: err = %v", err)
	}
}
