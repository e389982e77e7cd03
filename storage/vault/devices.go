package vault

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// A vault's disk directories are meant to lie on separate drives: each
// holds one shard of every segment, and the layout's parity covers the
// loss of M of them. Directories on one file system (one st_dev) fail
// together, so what the layout survives, and how much it holds, depends on
// how the directories fall on devices, not on how many there are.

// DeviceGroup is one device (file system) that holds more than one of a
// vault's disk directories.
type DeviceGroup struct {
	Device uint64   `json:"device"`
	Paths  []string `json:"paths"`
}

// Placement is how a vault's disk directories lie on devices.
type Placement struct {
	// Devices is the number of distinct devices.
	Devices int `json:"devices"`
	// Shared lists the devices that hold more than one directory.
	Shared []DeviceGroup `json:"shared,omitempty"`
	// Survives is how many devices may be lost with every segment still
	// readable: the most devices whose directories together hold no more
	// than M shards of a segment.
	Survives int `json:"survives_lost_devices"`
}

// deviceOf returns the device number of the file system dir is on.
func deviceOf(dir string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("stat disk %s: %w", dir, err)
	}
	return uint64(st.Dev), nil
}

// Place says how the directories dirs of a vault of layout l lie on
// devices.
func Place(dirs []string, l Layout) (Placement, error) {
	devs := make([]uint64, len(dirs))
	for i, d := range dirs {
		dev, err := deviceOf(d)
		if err != nil {
			return Placement{}, err
		}
		devs[i] = dev
	}
	return PlaceOn(dirs, devs, l), nil
}

// PlaceOn is Place for directories whose devices are known: devs[i] is
// the device of dirs[i], 0 for one not known (counted as a device of its
// own).
func PlaceOn(dirs []string, devs []uint64, l Layout) Placement {
	groups := map[uint64][]string{}
	var order []uint64
	unknown := 0
	for i, d := range dirs {
		if devs[i] == 0 {
			unknown++
			continue
		}
		if _, ok := groups[devs[i]]; !ok {
			order = append(order, devs[i])
		}
		groups[devs[i]] = append(groups[devs[i]], d)
	}
	p := Placement{Devices: len(order) + unknown}
	counts := make([]int, 0, p.Devices)
	for _, dev := range order {
		counts = append(counts, len(groups[dev]))
		if len(groups[dev]) > 1 {
			p.Shared = append(p.Shared, DeviceGroup{Device: dev, Paths: groups[dev]})
		}
	}
	for range unknown {
		counts = append(counts, 1)
	}
	// The worst loss of j devices is that of the j holding the most
	// directories.
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	lost := 0
	for _, c := range counts {
		if lost+c > l.M {
			break
		}
		lost += c
		p.Survives++
	}
	return p
}

// Warning says what sharing devices costs, with the fix; "" when every
// directory has a device of its own.
func (p Placement) Warning(l Layout) string {
	if len(p.Shared) == 0 {
		return ""
	}
	var groups []string
	for _, g := range p.Shared {
		groups = append(groups, strings.Join(g.Paths, ", "))
	}
	what := fmt.Sprintf("disk directories on one file system count as one disk: %s", strings.Join(groups, "; and "))
	if p.Survives == 0 {
		what += fmt.Sprintf(" share a device, so layout %s survives no disk failure: losing one device can lose every backup", l)
	} else {
		what += fmt.Sprintf(" share a device, so layout %s survives the loss of %d of its %d devices, not %d", l, p.Survives, p.Devices, l.M)
	}
	return what + "; give each disk directory a drive of its own"
}

// UsableBytes is the capacity for backups of layout l on directories whose
// file systems hold totals[i] bytes, devs[i] being the device of
// directory i (0 for unknown, counted as its own). Every directory
// receives one shard of each segment, so directories sharing a device
// share its bytes, and the fullest device bounds them all.
func UsableBytes(l Layout, totals []uint64, devs []uint64) uint64 {
	share := map[uint64]uint64{}
	for _, dev := range devs {
		if dev != 0 {
			share[dev]++
		}
	}
	var perShard uint64
	for i, t := range totals {
		n := max(share[devs[i]], 1)
		if s := t / n; i == 0 || s < perShard {
			perShard = s
		}
	}
	return perShard * uint64(l.K)
}
