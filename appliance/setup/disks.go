package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Disk is a candidate data disk.
type Disk struct {
	Name   string // sdb, or the directory's base name
	Device string // /dev/sdb; empty for a directory disk
	// Path is the directory the vault writes to: the disk's mount point,
	// or the directory itself. Empty when the disk is not mounted.
	Path      string
	SizeBytes uint64
	Model     string
	// FSDevice is the device number (st_dev) of the file system at Path,
	// 0 when not known: directories with the same one fail together.
	FSDevice uint64
	// Problem, when set, says why the disk cannot be chosen and what to
	// do about it.
	Problem string
}

// Usable reports whether the disk can be chosen for the vault.
func (d Disk) Usable() bool { return d.Problem == "" && d.Path != "" }

// bootMounts are mount points that mark a disk as the system disk.
var bootMounts = map[string]bool{"/": true, "/boot": true, "/boot/efi": true, "/usr": true, "/var": true, "[SWAP]": true}

// lsblkDevice is one node of `lsblk -J -b -o NAME,SIZE,MODEL,TYPE,MOUNTPOINTS`.
type lsblkDevice struct {
	Name        string        `json:"name"`
	Size        json.Number   `json:"size"`
	Model       *string       `json:"model"`
	Type        string        `json:"type"`
	Mountpoints []*string     `json:"mountpoints"`
	Children    []lsblkDevice `json:"children"`
}

func (d lsblkDevice) mounts() []string {
	var out []string
	for _, m := range d.Mountpoints {
		if m != nil && *m != "" {
			out = append(out, *m)
		}
	}
	for _, c := range d.Children {
		out = append(out, c.mounts()...)
	}
	return out
}

// parseLsblk turns lsblk's JSON into candidate disks. Whole disks only;
// the disk holding the root file system, /boot or swap is left out, and
// so are empty devices (zram, card readers without a card).
func parseLsblk(b []byte) ([]Disk, error) {
	var doc struct {
		Devices []lsblkDevice `json:"blockdevices"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read lsblk output: %w", err)
	}
	var out []Disk
	for _, d := range doc.Devices {
		if d.Type != "disk" || strings.HasPrefix(d.Name, "zram") {
			continue
		}
		size, _ := d.Size.Int64()
		if size <= 0 {
			continue
		}
		mounts := d.mounts()
		boot := false
		for _, m := range mounts {
			boot = boot || bootMounts[m]
		}
		if boot {
			continue
		}
		disk := Disk{Name: d.Name, Device: "/dev/" + d.Name, SizeBytes: uint64(size)}
		if d.Model != nil {
			disk.Model = strings.TrimSpace(*d.Model)
		}
		switch len(mounts) {
		case 0:
			disk.Problem = "not mounted: format it and mount it (e.g. at /srv/" + d.Name + "), then look again"
		case 1:
			disk.Path = mounts[0]
		default:
			disk.Problem = "several file systems mounted: give the vault a whole disk"
		}
		out = append(out, disk)
	}
	return out, nil
}

// dirDisks lists directories matching the glob patterns (separated by
// spaces or colons) as disks, sized by their file system. They stand in
// for disks in tests and demos.
func dirDisks(patterns string) ([]Disk, error) {
	var out []Disk
	for _, pat := range strings.FieldsFunc(patterns, func(r rune) bool { return r == ':' || r == ' ' }) {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("disk directory pattern %q: %w", pat, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil || !st.IsDir() {
				continue
			}
			abs, err := filepath.Abs(m)
			if err != nil {
				return nil, err
			}
			d := Disk{Name: filepath.Base(abs), Path: abs, Model: "directory"}
			var fs unix.Statfs_t
			if err := unix.Statfs(abs, &fs); err == nil {
				d.SizeBytes = fs.Blocks * uint64(fs.Bsize)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// markDevices sets FSDevice of every disk with a path.
func markDevices(disks []Disk) {
	for i, d := range disks {
		var st unix.Stat_t
		if d.Path != "" && unix.Stat(d.Path, &st) == nil {
			disks[i].FSDevice = uint64(st.Dev)
		}
	}
}

// markUsed sets Problem on disks that already hold a vault, or any files
// at all: the vault is created only on empty disks.
func markUsed(disks []Disk) {
	for i, d := range disks {
		if d.Problem != "" || d.Path == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d.Path, vaultLabelFile)); err == nil {
			disks[i].Problem = "already holds a vault: wipe it first (this destroys its backups)"
			continue
		}
		ents, err := os.ReadDir(d.Path)
		if err != nil {
			disks[i].Problem = "cannot be read: " + err.Error()
			continue
		}
		for _, e := range ents {
			if e.Name() != "lost+found" {
				disks[i].Problem = "not empty: the vault needs an empty file system"
				break
			}
		}
	}
}

// Files vault.Init creates on each disk (storage/FORMAT.md, "Directory
// tree"). DiscardVault removes exactly these, and the two directories only
// while they are empty.
const (
	vaultLabelFile = "strongroom.disk"
	vaultKeyFile   = "keyfile"
	vaultLockFile  = "lock"
)

var vaultDirs = []string{"segments", "snapshots", "spool"}

// discardVault removes a vault that setup created but never committed. It
// checks each disk's label names vaultID first, so it cannot remove a
// vault someone else made, and leaves any directory that holds data.
func discardVault(vaultID string, disks []string) error {
	var errs []error
	for _, d := range disks {
		b, err := os.ReadFile(filepath.Join(d, vaultLabelFile))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		var l struct {
			VaultID string `json:"vault_id"`
		}
		if err != nil || json.Unmarshal(b, &l) != nil || l.VaultID != vaultID {
			errs = append(errs, fmt.Errorf("disk %s: label does not name vault %s: left as it is", d, vaultID))
			continue
		}
		for _, sub := range vaultDirs {
			if err := os.Remove(filepath.Join(d, sub)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("disk %s: %w", d, err))
			}
		}
		for _, f := range []string{vaultKeyFile, vaultLockFile, vaultLabelFile} {
			if err := os.Remove(filepath.Join(d, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("disk %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// preview describes the layout for n disks.
func preview(n int) (Preview, error) {
	l, warning, err := vault.ChooseLayout(n)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Layout: l.String(), K: l.K, M: l.M, Warning: warning}
	p.Survives = survives(l.M)
	return p, nil
}

// On is the preview for the chosen disks: Usable is their real capacity
// for backups, and when some of them share a file system (directories of
// one device fail together) Survives says what the layout really survives
// and Warning says so, with the fix.
func (p Preview) On(disks []Disk) Preview {
	l := vault.Layout{K: p.K, M: p.M}
	paths := make([]string, len(disks))
	devs := make([]uint64, len(disks))
	sizes := make([]uint64, len(disks))
	for i, d := range disks {
		paths[i], devs[i], sizes[i] = d.Path, d.FSDevice, d.SizeBytes
	}
	p.Usable = vault.UsableBytes(l, sizes, devs)
	pl := vault.PlaceOn(paths, devs, l)
	if w := pl.Warning(l); w != "" {
		p.Survives = survives(pl.Survives)
		p.Warning = strings.TrimPrefix(p.Warning+"; "+w, "; ")
	}
	return p
}

// survives says how many lost disks a layout survives.
func survives(n int) string {
	if n == 0 {
		return "survives no disk failure"
	}
	return "survives the loss of any " + units.Count(n, "disk")
}
