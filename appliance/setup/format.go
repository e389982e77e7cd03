package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Data disks: file systems labelled DataLabelPrefix+N, mounted by label
// on DataMountRoot/diskN. MaxDataDisks is the most disks a vault layout
// uses; the appliance mounts fewer (System.DataSlots: the labels its
// /etc/fstab names, strongroom-data1..4 today, since every label listed
// there but absent delays each boot by its device timeout).
const (
	DataLabelPrefix = "strongroom-data"
	DataMountRoot   = "/srv/strongroom"
	MaxDataDisks    = 12
)

// fstabDataSlots counts the data labels an fstab mounts (1..N in a row).
func fstabDataSlots(fstab []byte) int {
	n := 0
	for n < MaxDataDisks && strings.Contains(string(fstab), "LABEL="+DataLabelPrefix+strconv.Itoa(n+1)+" ") {
		n++
	}
	return n
}

// FormatRequest asks FormatDisk to make a data disk of a whole disk.
type FormatRequest struct {
	// Device is the disk, as Disk.Device names it (/dev/vdb).
	Device string
	// Erase is the operator's second, explicit confirmation that what the
	// disk holds (Disk.Contents) may be destroyed. Without it FormatDisk
	// formats only a disk that looks blank.
	Erase bool
}

// ErrHoldsData is returned (wrapped) by FormatDisk for a disk that holds a
// file system or a partition table when the request did not confirm
// erasing it.
var ErrHoldsData = errors.New("the disk is not blank")

// formatTarget checks a request against a fresh list of disks and returns
// the disk to format. The boot disk and partitions are never in the list,
// so they can never be formatted.
func formatTarget(disks []Disk, req FormatRequest) (Disk, error) {
	for _, d := range disks {
		if d.Device == "" || d.Device != req.Device {
			continue
		}
		switch {
		case !d.Formattable && d.Path != "":
			return Disk{}, fmt.Errorf("%s is mounted at %s: it is not formatted again; unmount it or choose another disk", d.Device, d.Path)
		case !d.Formattable:
			return Disk{}, fmt.Errorf("%s cannot be formatted: %s", d.Device, d.Problem)
		case d.Contents != "" && !req.Erase:
			return Disk{}, fmt.Errorf("%s holds %s: %w; confirm erasing it to format it", d.Device, d.Contents, ErrHoldsData)
		}
		return d, nil
	}
	return Disk{}, fmt.Errorf("%s is not offered as a data disk (the boot disk and partitions never are): look for disks again", req.Device)
}

// nextDataSlot returns the lowest N (up to slots) whose label no listed
// disk carries and whose mount point under root holds no mounted file
// system.
func nextDataSlot(disks []Disk, root string, slots int) (int, error) {
	taken := map[string]bool{}
	for _, d := range disks {
		taken[d.Label] = true
	}
	var rootSt unix.Stat_t
	rootErr := unix.Stat(root, &rootSt)
	for n := 1; n <= slots; n++ {
		if taken[DataLabelPrefix+strconv.Itoa(n)] {
			continue
		}
		var st unix.Stat_t
		dir := filepath.Join(root, "disk"+strconv.Itoa(n))
		if rootErr == nil && unix.Stat(dir, &st) == nil && st.Dev != rootSt.Dev {
			continue // something else is mounted there
		}
		return n, nil
	}
	return 0, fmt.Errorf("all %d data disk labels (%s1..%d) this machine mounts are in use: it takes no more data disks", slots, DataLabelPrefix, slots)
}

// wipefsSignatures is the output of `wipefs --no-act --json DEVICE`.
type wipefsSignatures struct {
	Signatures []struct {
		Type  string  `json:"type"`
		Label *string `json:"label"`
	} `json:"signatures"`
}

// parseWipefs describes the signatures wipefs found, "" for none.
func parseWipefs(b []byte) (string, error) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return "", nil
	}
	var w wipefsSignatures
	if err := json.Unmarshal(b, &w); err != nil {
		return "", fmt.Errorf("read wipefs output: %w", err)
	}
	var seen []string
	for _, s := range w.Signatures {
		desc := describeFS(s.Type, str(s.Label))
		switch s.Type {
		case "gpt", "dos", "PMBR":
			desc = s.Type + " partition table"
		}
		if len(seen) == 0 || seen[len(seen)-1] != desc {
			seen = append(seen, desc)
		}
	}
	return strings.Join(seen, ", "), nil
}

// probeContents fills Contents of formattable disks lsblk saw nothing on,
// from wipefs's own probe of the device (lsblk relies on udev's database,
// which may not have probed a disk yet).
func (s *System) probeContents(ctx context.Context, disks []Disk) error {
	for i, d := range disks {
		if !d.Formattable || d.Contents != "" {
			continue
		}
		out, err := s.run(ctx, "wipefs", "--no-act", "--json", d.Device)
		if err != nil {
			return fmt.Errorf("look for file systems on %s: %w", d.Device, err)
		}
		if disks[i].Contents, err = parseWipefs(out); err != nil {
			return err
		}
		disks[i].Problem = unformattedProblem(disks[i].Contents)
	}
	return nil
}

// FormatDisk implements Backend.
func (s *System) FormatDisk(ctx context.Context, req FormatRequest) (Disk, error) {
	disks, err := s.Disks(ctx)
	if err != nil {
		return Disk{}, err
	}
	d, err := formatTarget(disks, req)
	if err != nil {
		return Disk{}, err
	}
	root := s.mountRoot()
	slots := s.DataSlots
	if slots <= 0 {
		slots = MaxDataDisks
	}
	n, err := nextDataSlot(disks, root, slots)
	if err != nil {
		return Disk{}, err
	}
	label := DataLabelPrefix + strconv.Itoa(n)
	dir := filepath.Join(root, "disk"+strconv.Itoa(n))
	if d.Contents != "" {
		// Partition tables and old signatures go first: left behind, a
		// GPT backup header would make the disk look partitioned again.
		if _, err := s.run(ctx, "wipefs", "--all", "--quiet", d.Device); err != nil {
			return Disk{}, fmt.Errorf("erase the signatures on %s: %w", d.Device, err)
		}
	}
	// -m 0: no blocks reserved for root on a disk only the vault writes.
	if _, err := s.run(ctx, "mkfs.ext4", "-F", "-q", "-m", "0", "-L", label, d.Device); err != nil {
		return Disk{}, fmt.Errorf("format %s as %s: %w", d.Device, label, err)
	}
	if err := s.mountData(ctx, d.Device, dir); err != nil {
		return Disk{}, fmt.Errorf("%s is formatted as %s but not mounted on %s: %w; restart the appliance to mount it by label", d.Device, label, dir, err)
	}
	d.Path, d.Label, d.Contents, d.Problem, d.Formattable = dir, label, "", "", false
	return d, nil
}

func (s *System) mountRoot() string {
	if s.MountRoot != "" {
		return s.MountRoot
	}
	return DataMountRoot
}

// mountData mounts a freshly formatted disk on dir. On the appliance
// (MountUnits) systemd mounts it through the fstab entry for its label, in
// the system's mount namespace: a mount made by the console itself would
// stay inside the console service's private namespace, unseen by the agent.
func (s *System) mountData(ctx context.Context, dev, dir string) error {
	if s.MountUnits {
		unit := strings.ReplaceAll(strings.Trim(dir, "/"), "/", "-") + ".mount"
		if _, err := s.run(ctx, "systemctl", "start", unit); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if _, err := s.run(ctx, "mount", "-t", "ext4", "-o", "nosuid,nodev,noexec", dev, dir); err != nil {
			return err
		}
	}
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return err
	}
	if err := unix.Stat(filepath.Dir(dir), &parent); err != nil {
		return err
	}
	if st.Dev == parent.Dev {
		return errors.New("nothing is mounted there after mounting")
	}
	return nil
}
