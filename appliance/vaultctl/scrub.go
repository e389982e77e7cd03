package vaultctl

import (
	"fmt"
	"io"
	"time"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/progress"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Scrub reads and checks every shard (with repair, rebuilding what is
// damaged or missing), writes what it found and returns outcome.Degraded
// when the vault is not healthy afterwards.
func Scrub(o outcome.Output, v *vault.Vault, repair bool) error {
	pr := progress.Start(o.Progress, o.Bar, "scrub")
	rep, err := v.ScrubWatched(repair, watchWork(pr, "checking shards"))
	pr.Finish()
	if err != nil {
		return err
	}
	if err := outcome.Show(o, rep, printScrub); err != nil {
		return err
	}
	return scrubError(rep, repair)
}

// ReplaceDisk rebuilds the lost disk old (its path or slot) onto the empty
// directory dir, showing its progress on o.Progress, says what it rebuilt
// and what to name from now on, and returns outcome.Degraded when the
// vault is not healthy afterwards.
func ReplaceDisk(o outcome.Output, v *vault.Vault, old, dir string) error {
	pr := progress.Start(o.Progress, o.Bar, "replace-disk")
	rep, err := v.ReplaceDiskWatched(old, dir, watchWork(pr, "rebuilding shards"))
	pr.Finish()
	if err != nil {
		return err
	}
	out := o.W
	printScrub(out, rep)
	fmt.Fprintf(out, "From now on name %s instead of %s with --disk or in the configuration.\n", dir, old)
	return scrubError(rep, true)
}

// RebuildIndex recreates the chunk index from the segments and says how
// long it took.
func RebuildIndex(out io.Writer, v *vault.Vault) error {
	start := time.Now()
	n, err := v.RebuildIndex()
	if err == nil {
		fmt.Fprintf(out, "Rebuilt the index from %d segments in %s.\n", n, time.Since(start).Round(time.Millisecond))
	}
	return err
}

// printScrub writes what a scrub (or a disk replacement) read, found and
// repaired, and whether the vault is healthy afterwards.
func printScrub(w io.Writer, rep vault.ScrubReport) {
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

// scrubError is nil when the scrub left the vault healthy; otherwise it
// says what is wrong and what to do (outcome.Degraded). repaired says
// whether the scrub tried to repair.
func scrubError(rep vault.ScrubReport, repaired bool) error {
	switch {
	case rep.Healthy:
		return nil
	case len(rep.Unrecoverable) > 0:
		return outcome.Degraded{Err: fmt.Errorf("%d segments cannot be rebuilt (%v): more of their shards are lost than the layout's parity covers; snapshots that use them cannot be fully restored. Find and mount the missing disks, then scrub again",
			len(rep.Unrecoverable), rep.Unrecoverable)}
	case len(rep.MissingDiskSlots) > 0:
		return outcome.Degraded{Err: fmt.Errorf("%w; disk slots %v are missing", vault.ErrDegradedWrite, rep.MissingDiskSlots)}
	case repaired:
		return outcome.Degraded{Err: fmt.Errorf("scrub --repair left %d problems: check the disks' kernel logs and free space, then scrub --repair again", len(rep.Problems))}
	}
	return outcome.Degraded{Err: fmt.Errorf("scrub found %d damaged or missing shards: %w", len(rep.Problems), vault.ErrCorrupt)}
}
