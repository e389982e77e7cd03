package vaultctl

import (
	"fmt"
	"io"

	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// PrintScrub writes what a scrub (or a disk replacement) read, found and
// repaired, and whether the vault is healthy afterwards.
func PrintScrub(w io.Writer, rep vault.ScrubReport) {
	mbps := 0.0
	if rep.Seconds > 0 {
		mbps = float64(rep.BytesRead) / 1e6 / rep.Seconds
	}
	fmt.Fprintf(w, "Checked %d shards of %d segments, %s in %.1fs (%.0f MB/s).\n",
		rep.ShardsChecked, rep.Segments, units.Bytes(rep.BytesRead), rep.Seconds, mbps)
	for _, p := range rep.Problems {
		fixed := ""
		if p.Repaired {
			fixed = " (repaired)"
		}
		fmt.Fprintf(w, "  segment %d shard %d on %s: %s%s\n", p.Segment, p.Shard, p.Disk, p.Problem, fixed)
	}
	if len(rep.MissingDiskSlots) > 0 {
		fmt.Fprintf(w, "Missing disk slots: %v\n", rep.MissingDiskSlots)
	}
	if rep.Repaired > 0 || rep.ManifestsCopied > 0 {
		fmt.Fprintf(w, "Repaired %d shards, copied %d snapshot manifests.\n", rep.Repaired, rep.ManifestsCopied)
	}
	if len(rep.Unrecoverable) > 0 {
		fmt.Fprintf(w, "UNRECOVERABLE segments (more shards lost than parity): %v\n", rep.Unrecoverable)
	}
	if rep.Healthy {
		fmt.Fprintln(w, "Vault is healthy.")
	} else {
		fmt.Fprintln(w, "Vault is NOT healthy.")
	}
}

// ScrubError is nil when the scrub left the vault healthy; otherwise it
// says what is wrong and what to do (Unhealthy). repaired says whether the
// scrub tried to repair.
func ScrubError(rep vault.ScrubReport, repaired bool) error {
	switch {
	case rep.Healthy:
		return nil
	case len(rep.Unrecoverable) > 0:
		return Unhealthy{fmt.Errorf("%d segments cannot be rebuilt (%v): more of their shards are lost than the layout's parity covers; snapshots that use them cannot be fully restored. Find and mount the missing disks, then scrub again",
			len(rep.Unrecoverable), rep.Unrecoverable)}
	case len(rep.MissingDiskSlots) > 0:
		return Unhealthy{fmt.Errorf("%w; disk slots %v are missing", vault.ErrDegradedWrite, rep.MissingDiskSlots)}
	case repaired:
		return Unhealthy{fmt.Errorf("scrub --repair left %d problems: check the disks' kernel logs and free space, then scrub --repair again", len(rep.Problems))}
	}
	return Unhealthy{fmt.Errorf("scrub found %d damaged or missing shards: %w", len(rep.Problems), vault.ErrCorrupt)}
}
