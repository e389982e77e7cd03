package metrics_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestVaultCollectorReportsMissingDiskAndDegradedSegments guards what the
// disk and degradation alerts read: a four-disk vault with slot 2 gone,
// seven segments short of a shard and a pending clock jump.
func TestVaultCollectorReportsMissingDiskAndDegradedSegments(t *testing.T) {
	st := vault.Status{
		K: 3, M: 1,
		Disks: []vault.DiskStatus{
			{Index: 0, Path: "/srv/disk0", Present: true},
			{Index: 1, Path: "/srv/disk1", Present: true},
			{Index: 2, Path: "(missing)", Present: false},
			{Index: 3, Path: "/srv/disk3", Present: true},
		},
		Degraded:         true,
		CapacityBytes:    3 << 40,
		UsedBytes:        1 << 40,
		StoredBytes:      700 << 30,
		UniqueBytes:      900 << 30,
		LogicalBytes:     2700 << 30,
		DedupRatio:       3,
		Segments:         100,
		DegradedSegments: 7,
		Snapshots:        30,
		LockedSnapshots:  28,
		Clock:            clock.Status{JumpPending: true},
		WardenAlerts:     []string{"disk /srv/d3: snapshots/ is missing or not a directory (moved, removed or replaced)"},
	}
	calls := 0
	c := metrics.NewVaultCollector(func() (vault.Status, error) { calls++; return st, nil })
	want := `
# HELP strongroom_clock_jump_pending 1 if the compliance clock is frozen (a forward jump of the wall time, or a lost clock state) and awaits confirmation; expiry is paused meanwhile.
# TYPE strongroom_clock_jump_pending gauge
strongroom_clock_jump_pending 1
# HELP strongroom_vault_capacity_bytes Usable capacity of the vault: raw capacity of its disks times K/(K+M), disk directories on one file system sharing its bytes.
# TYPE strongroom_vault_capacity_bytes gauge
strongroom_vault_capacity_bytes 3.298534883328e+12
# HELP strongroom_vault_dedup_ratio logical_bytes divided by unique_bytes; 0 for an empty vault.
# TYPE strongroom_vault_dedup_ratio gauge
strongroom_vault_dedup_ratio 3
# HELP strongroom_vault_degraded_segments Segments with a shard file missing; readable through parity, but with less redundancy.
# TYPE strongroom_vault_degraded_segments gauge
strongroom_vault_degraded_segments 7
# HELP strongroom_vault_disk_up 1 if the disk of the slot is present and labelled for this vault, else 0.
# TYPE strongroom_vault_disk_up gauge
strongroom_vault_disk_up{slot="0"} 1
strongroom_vault_disk_up{slot="1"} 1
strongroom_vault_disk_up{slot="2"} 0
strongroom_vault_disk_up{slot="3"} 1
# HELP strongroom_vault_disks Disk slots of the layout by state (present, missing).
# TYPE strongroom_vault_disks gauge
strongroom_vault_disks{state="missing"} 1
strongroom_vault_disks{state="present"} 3
# HELP strongroom_vault_locked_snapshots Snapshots whose retain-until lies in the future.
# TYPE strongroom_vault_locked_snapshots gauge
strongroom_vault_locked_snapshots 28
# HELP strongroom_vault_logical_bytes Sum of item sizes over all snapshots, before deduplication.
# TYPE strongroom_vault_logical_bytes gauge
strongroom_vault_logical_bytes 2.899102924800e+12
# HELP strongroom_vault_scrape_error 1 if reading the vault status failed on this scrape, else 0.
# TYPE strongroom_vault_scrape_error gauge
strongroom_vault_scrape_error 0
# HELP strongroom_vault_snapshots Snapshots in the vault.
# TYPE strongroom_vault_snapshots gauge
strongroom_vault_snapshots 30
# HELP strongroom_vault_stored_bytes Payload bytes (compressed and encrypted) stored, before parity; compare with capacity_bytes.
# TYPE strongroom_vault_stored_bytes gauge
strongroom_vault_stored_bytes 7.516192768e+11
# HELP strongroom_vault_unique_bytes Plaintext bytes of distinct chunks.
# TYPE strongroom_vault_unique_bytes gauge
strongroom_vault_unique_bytes 9.66367641600e+11
# HELP strongroom_vault_used_bytes Raw bytes of shard files on all disks, parity included.
# TYPE strongroom_vault_used_bytes gauge
strongroom_vault_used_bytes 1.099511627776e+12
# HELP strongroom_warden_alerts Alerts the warden published (tampering, a frozen clock, a rebuilt ledger, a failed round), or 1 when it published no status.
# TYPE strongroom_warden_alerts gauge
strongroom_warden_alerts 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if calls != 1 {
		t.Errorf("status read %d times for one scrape, want 1", calls)
	}
}

// TestVaultCollectorStatusError guards that a failed read exports only the
// error gauge, so no capacity or disk alert acts on numbers never read.
func TestVaultCollectorStatusError(t *testing.T) {
	c := metrics.NewVaultCollector(func() (vault.Status, error) {
		return healthyStatus(), errors.New("open index: closed")
	})
	want := `
# HELP strongroom_vault_scrape_error 1 if reading the vault status failed on this scrape, else 0.
# TYPE strongroom_vault_scrape_error gauge
strongroom_vault_scrape_error 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestVaultCollectorReadsOnEveryScrape guards that the numbers follow the
// vault without anyone pushing them: a disk that disappears between scrapes
// shows on the next one.
func TestVaultCollectorReadsOnEveryScrape(t *testing.T) {
	st := healthyStatus()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewVaultCollector(func() (vault.Status, error) { return st, nil }))

	if got := sampleValue(t, reg, "strongroom_vault_disks", map[string]string{"state": "missing"}); got != 0 {
		t.Fatalf("missing disks before = %v, want 0", got)
	}
	st.Disks[1].Present = false
	st.DegradedSegments = 2
	if got := sampleValue(t, reg, "strongroom_vault_disks", map[string]string{"state": "missing"}); got != 1 {
		t.Errorf("missing disks after = %v, want 1", got)
	}
	if got := sampleValue(t, reg, "strongroom_vault_disk_up", map[string]string{"slot": "1"}); got != 0 {
		t.Errorf("disk_up{slot=1} after = %v, want 0", got)
	}
	if got := sampleValue(t, reg, "strongroom_vault_degraded_segments", nil); got != 2 {
		t.Errorf("degraded segments after = %v, want 2", got)
	}
}

// TestVaultCollectorDedupRatioFinite guards that a ratio the vault could
// not compute is exported as 0, not NaN or Inf that break comparisons.
func TestVaultCollectorDedupRatioFinite(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ratio float64
		want  float64
	}{
		{"empty vault", 0, 0},
		{"NaN", math.NaN(), 0},
		{"Inf", math.Inf(1), 0},
		{"normal", 2.5, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := healthyStatus()
			st.DedupRatio = tc.ratio
			reg := prometheus.NewRegistry()
			reg.MustRegister(metrics.NewVaultCollector(func() (vault.Status, error) { return st, nil }))
			if got := sampleValue(t, reg, "strongroom_vault_dedup_ratio", nil); got != tc.want {
				t.Errorf("dedup ratio = %v, want %v", got, tc.want)
			}
		})
	}
}
