package vault

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/strongroom/strongroom/storage/clock"
)

// DiskStatus describes one disk slot of the layout.
type DiskStatus struct {
	Index      int    `json:"index"`
	Path       string `json:"path"`
	Present    bool   `json:"present"`
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
	UsedBytes  uint64 `json:"used_bytes"` // shard files on this disk
	Shards     int    `json:"shards"`
	// Device is the device number (st_dev) of the disk's file system, 0
	// when not known.
	Device uint64 `json:"device"`
}

// Status is a summary of the vault for operators and metrics.
type Status struct {
	VaultID       string       `json:"vault_id"`
	Layout        string       `json:"layout"`
	K             int          `json:"k"`
	M             int          `json:"m"`
	Disks         []DiskStatus `json:"disks"`
	Degraded      bool         `json:"degraded"`
	CapacityBytes uint64       `json:"capacity_bytes"` // usable: raw capacity times K/(K+M), disks on one device sharing it
	FreeBytes     uint64       `json:"free_bytes"`     // usable capacity still free, as CapacityBytes
	// Placement says how the present disks lie on devices (disks on one
	// file system fail together); DeviceWarning says what that costs.
	Placement        Placement    `json:"placement"`
	DeviceWarning    string       `json:"device_warning,omitempty"`
	UsedBytes        uint64       `json:"used_bytes"`        // raw bytes of shard files
	StoredBytes      uint64       `json:"stored_bytes"`      // payload bytes (compressed, encrypted) before parity
	UniqueBytes      uint64       `json:"unique_bytes"`      // plaintext bytes of distinct chunks
	LogicalBytes     uint64       `json:"logical_bytes"`     // sum of item sizes over all snapshots
	DedupRatio       float64      `json:"dedup_ratio"`       // logical / unique
	Segments         int          `json:"segments"`          //
	DegradedSegments int          `json:"degraded_segments"` // segments with a shard file missing
	Snapshots        int          `json:"snapshots"`         //
	LockedSnapshots  int          `json:"locked_snapshots"`  // retain-until in the future
	LockedUntil      time.Time    `json:"locked_until"`      // latest retain-until
	DegradedReads    int64        `json:"degraded_reads"`    // reads that needed parity since open
	Clock            clock.Status `json:"clock"`             //
	// WardenAlerts are the alerts the warden last published (its
	// status.json), or one saying that it has published none.
	WardenAlerts []string `json:"warden_alerts,omitempty"`
	// UnreadableSnapshots are snapshot IDs no copy of whose manifest can
	// be read; every listing leaves them out.
	UnreadableSnapshots []string  `json:"unreadable_snapshots,omitempty"`
	LatestSnapshot      *Snapshot `json:"latest_snapshot,omitempty"`
}

// Status gathers the vault's state. It reads directory listings and
// manifests, not segment data.
func (v *Vault) Status() (Status, error) {
	st := Status{VaultID: v.id, Layout: v.layout.String(), K: v.layout.K, M: v.layout.M, Degraded: v.Degraded(), Clock: v.clock.Status(), WardenAlerts: v.wardenAlerts(),
		DegradedReads: degradedReads.Load()}
	var paths []string
	var totals, frees, devs []uint64
	for i, d := range v.disks {
		ds := DiskStatus{Index: i}
		if d == nil {
			ds.Path = "(missing)"
			if p, ok := v.missingPath[i]; ok {
				ds.Path = p
			}
			st.Disks = append(st.Disks, ds)
			continue
		}
		ds.Path, ds.Present = d.Path, true
		ds.FreeBytes, ds.TotalBytes, _ = freeBytes(d.Path)
		ds.Device, _ = deviceOf(d.Path)
		ids, err := d.listSegments(false)
		if err != nil {
			return st, err
		}
		ds.Shards = len(ids)
		for _, id := range ids {
			if fi, err := os.Stat(d.segmentPath(id)); err == nil {
				ds.UsedBytes += uint64(fi.Size())
			}
		}
		st.UsedBytes += ds.UsedBytes
		paths, totals, frees, devs = append(paths, ds.Path), append(totals, ds.TotalBytes), append(frees, ds.FreeBytes), append(devs, ds.Device)
		st.Disks = append(st.Disks, ds)
	}
	st.CapacityBytes = UsableBytes(v.layout, totals, devs)
	st.FreeBytes = UsableBytes(v.layout, frees, devs)
	st.Placement = PlaceOn(paths, devs, v.layout)
	st.DeviceWarning = st.Placement.Warning(v.layout)
	segs, err := v.index.Segments()
	if err != nil {
		return st, err
	}
	st.Segments = len(segs)
	for _, s := range segs {
		st.StoredBytes += s.PayloadLen
		st.UniqueBytes += s.RawBytes
	}
	v.mu.Lock()
	for _, n := range v.shards {
		if n < v.layout.Disks() {
			st.DegradedSegments++
		}
	}
	v.mu.Unlock()
	if st.DegradedSegments > 0 {
		st.Degraded = true
	}
	snaps, bad, err := v.snapshots()
	if err != nil {
		return st, err
	}
	for id := range bad {
		st.UnreadableSnapshots = append(st.UnreadableSnapshots, id)
	}
	sort.Strings(st.UnreadableSnapshots)
	now := v.clock.Now()
	st.Snapshots = len(snaps)
	for i, s := range snaps {
		st.LogicalBytes += uint64(s.Bytes)
		if s.RetainUntil.After(now) {
			st.LockedSnapshots++
		}
		if s.RetainUntil.After(st.LockedUntil) {
			st.LockedUntil = s.RetainUntil
		}
		if i == len(snaps)-1 {
			latest := s
			latest.ItemList, latest.Segments = nil, nil
			st.LatestSnapshot = &latest
		}
	}
	if st.UniqueBytes > 0 {
		st.DedupRatio = float64(st.LogicalBytes) / float64(st.UniqueBytes)
	}
	return st, nil
}

// wardenStatusFile is the status the warden publishes in its directory
// (storage/warden writes it); the vault reads only its alerts.
const wardenStatusFile = "status.json"

// wardenAlerts reads the alerts the warden published.
func (v *Vault) wardenAlerts() []string {
	b, err := os.ReadFile(filepath.Join(v.opts.WardenDir, wardenStatusFile))
	if err != nil {
		return []string{"the warden has published no status in " + v.opts.WardenDir + ": it is not running, or never ran (check 'systemctl status strongroom-warden')"}
	}
	var st struct {
		Alerts []string `json:"alerts"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return []string{"the warden's status in " + v.opts.WardenDir + " cannot be read: " + err.Error()}
	}
	return st.Alerts
}
