package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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
	Serial    string
	// Label is the file system label of a mounted disk (strongroom-data1).
	Label string
	// Contents says what a disk that is not mounted holds ("ext4 file
	// system labelled backup", "gpt partition table with 2 partitions");
	// empty when it looks blank.
	Contents string
	// Formattable is set for a whole disk that is not mounted and not the
	// boot disk: FormatDisk may make it a data disk.
	Formattable bool
	// FSDevice is the device number (st_dev) of the file system at Path,
	// 0 when not known: directories with the same one fail together.
	FSDevice uint64
	// Vault, when set, is the vault the disk already holds (a box's disks
	// moved to this one): choosing its disks uses that vault, opened with
	// its recovery key, instead of creating one.
	Vault *VaultOnDisk
	// Problem, when set, says why the disk cannot be chosen and what to
	// do about it.
	Problem string
}

// VaultOnDisk is what a disk's vault label says (storage/FORMAT.md).
type VaultOnDisk struct {
	ID    string
	Index int
	K, M  int
}

// readVaultLabel reads the vault label of the disk at dir.
func readVaultLabel(dir string) (*VaultOnDisk, error) {
	l, err := vault.ReadDiskLabel(dir)
	if err != nil {
		return nil, fmt.Errorf("holds a vault label that cannot be read (%v): replace the disk with 'strongroom vault replace-disk'", err)
	}
	return &VaultOnDisk{ID: l.VaultID, Index: l.Index, K: l.K, M: l.M}, nil
}

// Short is the vault's identity as the console shows it.
func (v VaultOnDisk) Short() string {
	if len(v.ID) > 8 {
		return v.ID[:8]
	}
	return v.ID
}

// Adoption says whether the chosen disks make a new vault (empty disks:
// "", nil) or carry one already (its label, when every chosen disk is one
// of its disks and at least K of them are there to read it), or mix the
// two (an error that says what to choose instead).
func Adoption(chosen []Disk) (*VaultOnDisk, error) {
	var v *VaultOnDisk
	empty := ""
	seen := map[int]bool{}
	for _, d := range chosen {
		switch {
		case d.Vault == nil:
			if empty == "" {
				empty = d.Name
			}
			continue
		case v == nil:
			v = d.Vault
		case d.Vault.ID != v.ID:
			return nil, fmt.Errorf("%s holds vault %s, not %s: choose the disks of one vault only", d.Name, d.Vault.Short(), v.Short())
		}
		seen[d.Vault.Index] = true
	}
	switch {
	case v == nil:
		return nil, nil
	case empty != "":
		return nil, fmt.Errorf("%s holds no vault but other chosen disks hold vault %s: choose only that vault's disks to use it, or only empty disks for a new one", empty, v.Short())
	case len(seen) < v.K:
		return nil, fmt.Errorf("vault %s needs at least %d of its %d disks to be read, %d chosen: attach and choose the others", v.Short(), v.K, v.K+v.M, len(seen))
	}
	return v, nil
}

// Usable reports whether the disk can be chosen for the vault.
func (d Disk) Usable() bool { return d.Problem == "" && d.Path != "" }

// bootMounts are mount points that mark a disk as the system disk: on the
// appliance / (the verity device of a slot), the ESP on /efi and the state
// partition; on other machines /boot and the like.
var bootMounts = map[string]bool{"/": true, "/boot": true, "/boot/efi": true, "/efi": true, "/usr": true, "/var": true,
	"/var/lib/strongroom": true, "[SWAP]": true}

// bootPartLabel reports whether a GPT partition name is one of the
// appliance's own (image/build.sh: esp, sr-root-a, sr-state...): the disk
// holding them is the boot disk even where nothing of it is mounted (the
// inactive slot).
func bootPartLabel(l string) bool { return l == "esp" || strings.HasPrefix(l, "sr-") }

// lsblkColumns are the columns parseLsblk reads.
const lsblkColumns = "NAME,SIZE,MODEL,SERIAL,FSTYPE,PTTYPE,LABEL,PARTLABEL,TYPE,MOUNTPOINTS"

// lsblkDevice is one node of `lsblk -J -b -o ` + lsblkColumns.
type lsblkDevice struct {
	Name        string        `json:"name"`
	Size        json.Number   `json:"size"`
	Model       *string       `json:"model"`
	Serial      *string       `json:"serial"`
	FSType      *string       `json:"fstype"`
	PTType      *string       `json:"pttype"`
	Label       *string       `json:"label"`
	PartLabel   *string       `json:"partlabel"`
	Type        string        `json:"type"`
	Mountpoints []*string     `json:"mountpoints"`
	Children    []lsblkDevice `json:"children"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// boot reports whether the device or anything on it is part of the
// running system.
func (d lsblkDevice) boot() bool {
	for _, m := range d.mounts() {
		if bootMounts[m] {
			return true
		}
	}
	if bootPartLabel(str(d.PartLabel)) {
		return true
	}
	for _, c := range d.Children {
		if c.boot() {
			return true
		}
	}
	return false
}

// mountedLabel is the label of the device's mounted file system.
func (d lsblkDevice) mountedLabel() string {
	if len(d.Children) == 0 {
		return str(d.Label)
	}
	for _, c := range d.Children {
		if l := c.mountedLabel(); l != "" && len(c.mounts()) > 0 {
			return l
		}
	}
	return ""
}

// contents describes what lsblk sees on an unmounted disk, "" for
// nothing. (lsblk takes file system types from udev; where udev has not
// probed a disk, FormatDisk's own probe with wipefs still finds them.)
func (d lsblkDevice) contents() string {
	var parts int
	for _, c := range d.Children {
		if c.Type == "part" {
			parts++
		}
	}
	switch {
	case parts > 0:
		return strings.TrimSpace(str(d.PTType) + " partition table with " + units.Count(parts, "partition"))
	case str(d.PTType) != "":
		return str(d.PTType) + " partition table"
	case str(d.FSType) != "":
		return describeFS(str(d.FSType), str(d.Label))
	}
	return ""
}

// describeFS names a file system signature for the operator.
func describeFS(fstype, label string) string {
	s := fstype + " file system"
	if label != "" {
		s += " labelled " + label
	}
	return s
}

// mounts lists the mount points of the device and its children, each
// once: a service with its own mount namespace (the console) sees a file
// system mounted after it started once per propagated copy of the parent
// mount, all at the same path.
func (d lsblkDevice) mounts() []string {
	var out []string
	for _, m := range d.Mountpoints {
		if m != nil && *m != "" && !slices.Contains(out, *m) {
			out = append(out, *m)
		}
	}
	for _, c := range d.Children {
		for _, m := range c.mounts() {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// parseLsblk turns lsblk's JSON into candidate disks. Whole disks only;
// the disk holding the root file system, /boot or swap is left out, and
// so are empty devices (zram, card readers without a card).
func parseLsblk(b []byte) ([]Disk, error) { return parseLsblkWith(b, nil) }

// parseLsblkWith is parseLsblk that also offers the loop devices named in
// loops (tests).
func parseLsblkWith(b []byte, loops []string) ([]Disk, error) {
	var doc struct {
		Devices []lsblkDevice `json:"blockdevices"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read lsblk output: %w", err)
	}
	var out []Disk
	for _, d := range doc.Devices {
		wanted := d.Type == "disk" || (d.Type == "loop" && slices.Contains(loops, "/dev/"+d.Name))
		if !wanted || strings.HasPrefix(d.Name, "zram") {
			continue
		}
		size, _ := d.Size.Int64()
		if size <= 0 {
			continue
		}
		if d.boot() {
			continue
		}
		mounts := d.mounts()
		disk := Disk{Name: d.Name, Device: "/dev/" + d.Name, SizeBytes: uint64(size), Model: str(d.Model), Serial: str(d.Serial)}
		switch len(mounts) {
		case 0:
			disk.Formattable = true
			disk.Contents = d.contents()
			disk.Problem = unformattedProblem(disk.Contents)
		case 1:
			disk.Path = mounts[0]
			disk.Label = d.mountedLabel()
		default:
			disk.Problem = "several file systems mounted: give the vault a whole disk"
		}
		out = append(out, disk)
	}
	return out, nil
}

// unformattedProblem is the Problem of a disk that is not mounted.
func unformattedProblem(contents string) string {
	if contents == "" {
		return "blank: f formats it for the vault"
	}
	return "holds " + contents + ": f erases and formats it"
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

// markUsed notes the vault a disk holds, and sets Problem on disks that
// hold any other files: a vault is created only on empty disks.
func markUsed(disks []Disk) {
	for i, d := range disks {
		if d.Problem != "" || d.Path == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d.Path, vaultLabelFile)); err == nil {
			v, err := readVaultLabel(d.Path)
			if err != nil {
				disks[i].Problem = err.Error()
				continue
			}
			disks[i].Vault = v
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

// SharedDevice refuses a choice of disks of which two are on one device:
// the same block device twice, or two mounted disks whose file systems
// share a device number (they would fail together, so the layout would
// not survive what it promises). Directory disks (tests and demos, which
// put several on one file system) are left to Preview.On's warning.
func SharedDevice(chosen []Disk) error {
	seen := map[string]string{}
	for _, d := range chosen {
		if d.Device == "" {
			continue
		}
		keys := []string{"dev " + d.Device}
		if d.FSDevice != 0 {
			keys = append(keys, "fs "+strconv.FormatUint(d.FSDevice, 10))
		}
		for _, k := range keys {
			if other, ok := seen[k]; ok && other != d.Name {
				return fmt.Errorf("%s and %s are on one device: a vault needs separate disks; choose only one of them", other, d.Name)
			}
			seen[k] = d.Name
		}
	}
	return nil
}
