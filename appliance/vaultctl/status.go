package vaultctl

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
)

// Survives says how many lost disks a layout survives.
func Survives(l vault.Layout) string { return survivesLost(l.M) }

// Placed says how many lost disks a layout survives as its directories
// lie on devices: directories sharing one fail together.
func Placed(l vault.Layout, p vault.Placement) string {
	if len(p.Shared) == 0 {
		return Survives(l)
	}
	return fmt.Sprintf("%s: its %d disk directories lie on %s", survivesLost(p.Survives), l.Disks(), units.Count(p.Devices, "device"))
}

func survivesLost(n int) string {
	if n == 0 {
		return "survives no disk failure"
	}
	return "survives the loss of any " + units.Count(n, "disk")
}

// Status writes the vault's status and returns outcome.Degraded when the
// vault is not healthy.
func Status(o outcome.Output, v *vault.Vault) error {
	st, err := v.Status()
	if err != nil {
		return err
	}
	if err := outcome.Show(o, st, printStatus); err != nil {
		return err
	}
	return statusError(st)
}

// statusError is nil for a healthy vault; otherwise it says why the vault
// is not healthy (outcome.Degraded), wrapping the vault's sentinel so that
// its remedy can be found.
func statusError(st vault.Status) error {
	if !st.Degraded {
		return nil
	}
	var missing []string
	for _, d := range st.Disks {
		if !d.Present {
			missing = append(missing, fmt.Sprintf("slot %d (%s)", d.Index, d.Path))
		}
	}
	if len(missing) > 0 {
		return outcome.Degraded{Err: fmt.Errorf("%w; missing: %s; %d of %d segments lack a shard, reads use parity",
			vault.ErrDegradedWrite, strings.Join(missing, ", "), st.DegradedSegments, st.Segments)}
	}
	return outcome.Degraded{Err: fmt.Errorf("vault is degraded: %d of %d segments lack a shard file: %w",
		st.DegradedSegments, st.Segments, vault.ErrCorrupt)}
}

// printStatus writes the vault's status: its disks, then its figures.
func printStatus(w io.Writer, st vault.Status) {
	state := "healthy"
	if st.Degraded {
		state = "DEGRADED"
	}
	fmt.Fprintf(w, "Vault %s: %s\n\n", st.VaultID, state)
	printDisks(w, st.Disks)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	l := vault.Layout{K: st.K, M: st.M}
	fmt.Fprintf(tw, "layout\t%s (%s, %.0f%% of raw capacity holds data)\n", st.Layout, Placed(l, st.Placement), 100*l.Efficiency())
	fmt.Fprintf(tw, "capacity\t%s usable, %s of it free\n", units.Bytes(st.CapacityBytes), units.Bytes(st.FreeBytes))
	fmt.Fprintf(tw, "used\t%s raw on disks (with parity)\n", units.Bytes(st.UsedBytes))
	fmt.Fprintf(tw, "stored\t%s compressed and encrypted, before parity\n", units.Bytes(st.StoredBytes))
	fmt.Fprintf(tw, "unique\t%s of distinct chunks\n", units.Bytes(st.UniqueBytes))
	fmt.Fprintf(tw, "logical\t%s in all snapshots\n", units.Bytes(st.LogicalBytes))
	fmt.Fprintf(tw, "dedup ratio\t%.2f\n", st.DedupRatio)
	fmt.Fprintf(tw, "segments\t%d (%d degraded)\n", st.Segments, st.DegradedSegments)
	locked := fmt.Sprintf("%d locked", st.LockedSnapshots)
	if !st.LockedUntil.IsZero() {
		locked += ", latest retain-until " + st.LockedUntil.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "snapshots\t%d (%s)\n", st.Snapshots, locked)
	if l := st.LatestSnapshot; l != nil {
		fmt.Fprintf(tw, "latest\t%s %s, %d items, %s\n", l.ID, l.Created.UTC().Format(time.RFC3339), l.Items, units.Bytes(l.Bytes))
	}
	fmt.Fprintf(tw, "clock\t%s\n", ClockLine(st.Clock))
	tw.Flush()
	if st.DeviceWarning != "" {
		fmt.Fprintf(w, "\nWARNING: %s.\n", st.DeviceWarning)
	}
}

func printDisks(w io.Writer, disks []vault.DiskStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tDISK\tSTATE\tSHARDS\tUSED\tFREE\tTOTAL")
	for _, d := range disks {
		if !d.Present {
			fmt.Fprintf(tw, "%d\t%s\tMISSING\t-\t-\t-\t-\n", d.Index, d.Path)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\tok\t%d\t%s\t%s\t%s\n", d.Index, d.Path, d.Shards,
			units.Bytes(d.UsedBytes), units.Bytes(d.FreeBytes), units.Bytes(d.TotalBytes))
	}
	tw.Flush()
}

// ClockLine describes the trusted clock in one line: ok, waiting for the
// wall clock, or frozen until an operator confirms.
func ClockLine(c clock.Status) string {
	trusted := c.Trusted.UTC().Format(time.RFC3339)
	switch {
	case c.JumpPending && c.Reason == clock.ReasonMissing:
		return "FROZEN: the warden's trusted clock has no state yet (is the warden running?); expiry is paused until an operator confirms the time ('strongroom vault clock confirm' as root)"
	case c.JumpPending && c.Reason == clock.ReasonAhead:
		return fmt.Sprintf("FROZEN: the trusted time %s was found far ahead of the wall clock; expiry is paused until 'strongroom vault clock confirm'", trusted)
	case c.JumpPending:
		return fmt.Sprintf("FROZEN (%s): the wall clock is %s ahead of the trusted time %s; expiry is paused until 'strongroom vault clock confirm'",
			c.Reason, c.Jump.Round(time.Second), trusted)
	case c.Jump < -time.Second:
		return fmt.Sprintf("trusted %s; the wall clock is %s behind it (the trusted time waits)", trusted, (-c.Jump).Round(time.Second))
	}
	return fmt.Sprintf("trusted %s, ok", trusted)
}

// Clock writes the state of the vault's trusted clock.
func Clock(o outcome.Output, v *vault.Vault) error {
	return outcome.Show(o, v.Clock().Status(), printClock)
}

// printClock writes the trusted clock's state, one fact a line.
func printClock(w io.Writer, c clock.Status) {
	fmt.Fprintf(w, "trusted time   %s\n", c.Trusted.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "wall time      %s\n", c.Wall.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "difference     %s (largest accepted forward step %s)\n", c.Jump.Round(time.Second), c.MaxForwardJump)
	if c.JumpPending {
		fmt.Fprintf(w, "state          FROZEN (%s): expiry is paused; if the wall time is right, confirm at the console or run 'strongroom warden confirm' as root\n", c.Reason)
	} else {
		fmt.Fprintln(w, "state          ok")
	}
}
