package metrics

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom/strongroom/storage/vault"
)

// StatusFunc returns the vault's current status; (*vault.Vault).Status has
// this shape. It is called once per scrape and may be called from several
// scrapes at the same time.
type StatusFunc func() (vault.Status, error)

// VaultCollector exports the vault's state, read through a StatusFunc when
// Prometheus scrapes. Reading on scrape, instead of copying into gauges
// when something changes, means the numbers cannot go stale while the agent
// is busy or after a disk disappears without anyone writing.
//
// If the StatusFunc fails, only strongroom_vault_scrape_error (1) is
// exported, so no alert acts on a number that was not read.
type VaultCollector struct {
	status StatusFunc
}

// NewVaultCollector returns a collector that calls status on every scrape.
func NewVaultCollector(status StatusFunc) *VaultCollector {
	return &VaultCollector{status: status}
}

var (
	descCapacity = newDesc("vault", "capacity_bytes", "Usable capacity of the vault: raw capacity of its disks times K/(K+M), disk directories on one file system sharing its bytes.")
	descUsed     = newDesc("vault", "used_bytes", "Raw bytes of shard files on all disks, parity included.")
	descStored   = newDesc("vault", "stored_bytes", "Payload bytes (compressed and encrypted) stored, before parity; compare with capacity_bytes.")
	descUnique   = newDesc("vault", "unique_bytes", "Plaintext bytes of distinct chunks.")
	descLogical  = newDesc("vault", "logical_bytes", "Sum of item sizes over all snapshots, before deduplication.")
	descDedup    = newDesc("vault", "dedup_ratio", "logical_bytes divided by unique_bytes; 0 for an empty vault.")
	descDisks    = newDesc("vault", "disks", "Disk slots of the layout by state (present, missing).", "state")
	descDiskUp   = newDesc("vault", "disk_up", "1 if the disk of the slot is present and labelled for this vault, else 0.", "slot")
	descDegraded = newDesc("vault", "degraded_segments", "Segments with a shard file missing; readable through parity, but with less redundancy.")
	descSnaps    = newDesc("vault", "snapshots", "Snapshots in the vault.")
	descLocked   = newDesc("vault", "locked_snapshots", "Snapshots whose retain-until lies in the future.")
	descError    = newDesc("vault", "scrape_error", "1 if reading the vault status failed on this scrape, else 0.")
	descJump     = newDesc("clock", "jump_pending",
		"1 if the compliance clock is frozen (a forward jump of the wall time, or a lost clock state) and awaits confirmation; expiry is paused meanwhile.")
	descWarden = newDesc("warden", "alerts",
		"Alerts the warden published (tampering, a frozen clock, a rebuilt ledger, a failed round), or 1 when it published no status.")
)

// Describe implements prometheus.Collector.
func (c *VaultCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descCapacity, descUsed, descStored, descUnique, descLogical, descDedup,
		descDisks, descDiskUp, descDegraded, descSnaps, descLocked, descError, descJump, descWarden,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *VaultCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	st, err := c.status()
	if err != nil {
		gauge(descError, 1)
		return
	}
	gauge(descError, 0)
	gauge(descCapacity, float64(st.CapacityBytes))
	gauge(descUsed, float64(st.UsedBytes))
	gauge(descStored, float64(st.StoredBytes))
	gauge(descUnique, float64(st.UniqueBytes))
	gauge(descLogical, float64(st.LogicalBytes))
	ratio := st.DedupRatio
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		ratio = 0
	}
	gauge(descDedup, ratio)

	present, missing := 0, 0
	for _, d := range st.Disks {
		up := 0.0
		if d.Present {
			present++
			up = 1
		} else {
			missing++
		}
		gauge(descDiskUp, up, strconv.Itoa(d.Index))
	}
	gauge(descDisks, float64(present), "present")
	gauge(descDisks, float64(missing), "missing")
	gauge(descDegraded, float64(st.DegradedSegments))
	gauge(descSnaps, float64(st.Snapshots))
	gauge(descLocked, float64(st.LockedSnapshots))
	jump := 0.0
	if st.Clock.JumpPending {
		jump = 1
	}
	gauge(descJump, jump)
	gauge(descWarden, float64(len(st.WardenAlerts)))
}
