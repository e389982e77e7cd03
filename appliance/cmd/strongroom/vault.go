package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() { register(newVaultCmd) }

// exitError carries an exit code other than 1 (3: degraded or unhealthy).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
func (e exitError) exitCode() int { return e.code }

func newVaultCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Create, inspect, check and repair the erasure-coded backup vault",
		Long: `The vault stores backups as encrypted, deduplicated, write-once segments
striped across local disks with Reed-Solomon parity.

Every command except init opens the vault from its disks, named with --disk
(once per disk, in any order) or read from the agent's configuration file
(--config FILE, section "vault"). Commands that read or change data need the
recovery key printed by 'strongroom vault init': give the file holding it with
--key-file FILE or the environment variable STRONGROOM_KEY_FILE.

Exit codes: 0 ok, 1 failure, 2 bad command line, 3 vault degraded or unhealthy.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newVaultInitCmd(), newVaultSnapshotsCmd(), newVaultLsCmd(), newVaultRestoreCmd(),
		newVaultStatusCmd(), newVaultScrubCmd(), newVaultReplaceDiskCmd(), newVaultRebuildIndexCmd(),
		newVaultDumpIndexCmd(), newVaultRetainCmd(), newVaultDeleteCmd(), newVaultClockCmd())
	flagErrorsAreUsage(cmd)
	return cmd
}

// flagErrorsAreUsage makes bad flags of cmd and its subcommands exit with
// the usage code.
func flagErrorsAreUsage(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
}

// usageArgs wraps a cobra positional-argument check so that its failure
// exits with the usage code.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// snapshotArg refuses an empty snapshot argument (an empty string, an
// unset shell variable): it is a mistake, not a request for the latest
// snapshot. list is the command that lists the snapshots.
func snapshotArg(ref, list string) error {
	if strings.TrimSpace(ref) == "" {
		return usageError{fmt.Errorf("no snapshot given: name one (see '%s') or say 'latest'", list)}
	}
	return nil
}

func stderrProgress(cmd *cobra.Command) func(string) {
	return func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withVault opens the vault, runs fn and closes the vault, keeping fn's
// error first.
func withVault(f *vaultFlags, progress func(string), fn func(v *vault.Vault) error) error {
	v, err := f.openVault(progress)
	if err != nil {
		return err
	}
	err = fn(v)
	if cerr := v.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close vault: %w", cerr)
	}
	return err
}

func survives(l vault.Layout) string {
	if l.M == 0 {
		return "survives no disk failure"
	}
	return "survives the loss of any " + units.Count(l.M, "disk")
}

func newVaultInitCmd() *cobra.Command {
	var disks []string
	var keyOut string
	cmd := &cobra.Command{
		Use:   "init --disk DIR [--disk DIR ...] [--key-out FILE]",
		Short: "Create a new vault on empty disk directories and print its recovery key",
		Long: `Creates a new vault across the given empty disk directories. The layout
follows from the number of disks: 4 disks give 2+2, 6 give 4+2, 12 give 8+4
(1 to 3 disks are accepted with a warning: they survive at most one lost disk).

The recovery key is printed once and never stored on the vault's disks in
readable form. Write it down and keep it off the appliance: without it no
backup can be read. --key-out additionally writes it to a file (mode 0600)
for unattended use with --key-file or STRONGROOM_KEY_FILE.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(disks) == 0 {
				return usageError{errors.New("vault init needs the disk directories: --disk DIR (repeat for each disk)")}
			}
			if keyOut != "" {
				if _, err := os.Stat(keyOut); err == nil {
					return usageError{fmt.Errorf("--key-out %s already exists: refusing to overwrite a recovery key", keyOut)}
				}
			}
			res, err := vault.Init(disks)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created vault %s on %d disks.\n", res.VaultID, len(disks))
			fmt.Fprintf(out, "Layout %s: %d data + %d parity shards per segment; %s; %.0f%% of raw capacity holds data.\n",
				res.Layout, res.Layout.K, res.Layout.M, survives(res.Layout), 100*res.Layout.Efficiency())
			if res.Warning != "" {
				fmt.Fprintf(out, "\nWARNING: %s.\n", res.Warning)
			}
			key := res.RecoveryKey.String()
			fmt.Fprintf(out, "\nRecovery key (shown only this once):\n\n    %s\n\n", key)
			fmt.Fprintln(out, "Write this down now and keep it somewhere safe, away from this appliance.")
			fmt.Fprintln(out, "Every backup in the vault is encrypted; without this key none of it can be read or restored.")
			if keyOut != "" {
				f, err := os.OpenFile(keyOut, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err == nil {
					_, err = fmt.Fprintln(f, key)
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
				if err != nil {
					return fmt.Errorf("vault %s was created, but writing the recovery key to %s: %w (copy the key printed above instead)", res.VaultID, keyOut, err)
				}
				fmt.Fprintf(out, "The key was also written to %s (mode 0600) for --key-file / %s.\n", keyOut, keyFileEnv)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&disks, "disk", nil, "empty disk directory (repeat for every disk)")
	cmd.Flags().StringVar(&keyOut, "key-out", "", "also write the recovery key to this new file (mode 0600)")
	return cmd
}

func newVaultSnapshotsCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "snapshots [--json]",
		Short: "List the vault's snapshots, oldest first",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&f, nil, func(v *vault.Vault) error {
				snaps, err := v.Snapshots()
				if err != nil {
					return err
				}
				if asJSON {
					for i := range snaps {
						snaps[i].ItemList = nil
					}
					if snaps == nil {
						snaps = []vault.Snapshot{}
					}
					return printJSON(cmd.OutOrStdout(), snaps)
				}
				now := v.Clock().Now()
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCREATED\tITEMS\tSIZE\tNEW\tRETAIN UNTIL\tNAME")
				for _, s := range snaps {
					retain := "-"
					if !s.RetainUntil.IsZero() {
						retain = s.RetainUntil.UTC().Format(time.RFC3339)
						if s.RetainUntil.After(now) {
							retain += " (locked)"
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Created.UTC().Format(time.RFC3339), s.Items,
						units.Bytes(s.Bytes), units.Bytes(s.NewBytes), retain, s.Name)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d snapshots\n", len(snaps))
				return nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// listedItem is how ls shows an item.
type listedItem struct {
	Path    string            `json:"path"`
	Size    int64             `json:"size"`
	ModTime time.Time         `json:"mtime"`
	Mode    string            `json:"mode"`
	Hash    string            `json:"hash"`
	Meta    map[string]string `json:"meta,omitempty"`
}

func newVaultLsCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls SNAPSHOT [PREFIX] [--json]",
		Short: "List the items of a snapshot (optionally those under PREFIX)",
		Long: `Lists the items of a snapshot in path order. SNAPSHOT is an ID, a unique
prefix of one, or "latest". With PREFIX only items at or below that path are
listed. --json prints a JSON array of {path, size, mtime, mode, hash}.`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := snapshotArg(args[0], "strongroom vault snapshots"); err != nil {
				return err
			}
			prefix := ""
			if len(args) == 2 {
				prefix = strings.Trim(args[1], "/")
			}
			return withVault(&f, nil, func(v *vault.Vault) error {
				s, err := v.Snapshot(args[0])
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				n := 0
				if asJSON {
					fmt.Fprint(out, "[")
				}
				err = v.EachItem(s, func(it vault.Item) error {
					if prefix != "" && it.Path != prefix && !strings.HasPrefix(it.Path, prefix+"/") {
						return nil
					}
					li := listedItem{Path: it.Path, Size: it.Size, ModTime: time.Unix(0, it.ModTime).UTC(),
						Mode: os.FileMode(it.Mode).String(), Hash: it.Hash.String(), Meta: it.Meta}
					if asJSON {
						b, err := json.Marshal(li)
						if err != nil {
							return err
						}
						if n > 0 {
							fmt.Fprint(out, ",")
						}
						_, err = fmt.Fprintf(out, "\n  %s", b)
						n++
						return err
					}
					n++
					_, err := fmt.Fprintf(out, "%s %12d %s %s\n", li.Mode, li.Size, li.ModTime.Format("2006-01-02 15:04:05"), li.Path)
					return err
				})
				if asJSON {
					fmt.Fprint(out, "\n]\n")
				}
				return err
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newVaultRestoreCmd() *cobra.Command {
	var f vaultFlags
	var prefix string
	cmd := &cobra.Command{
		Use:   "restore SNAPSHOT DEST [--path PREFIX]",
		Short: "Write a snapshot's items back as files below DEST",
		Long: `Writes the items of a snapshot (ID, unique ID prefix or "latest") as files
below DEST, with their modes and modification times, and checks every item
against the hash recorded at backup time. --path restores only the items at or
below PREFIX. Works with up to M disks missing (the restore then reads parity).
DEST is created if missing; a symbolic link inside DEST is never followed:
one in the way of an item stops the restore with an error naming it.
Progress goes to stderr every second.`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := snapshotArg(args[0], "strongroom vault snapshots"); err != nil {
				return err
			}
			return withVault(&f, stderrProgress(cmd), func(v *vault.Vault) error {
				s, err := v.Snapshot(args[0])
				if err != nil {
					return err
				}
				var items, bytes atomic.Int64
				start := time.Now()
				done := make(chan struct{})
				stopped := make(chan struct{})
				go func() {
					defer close(stopped)
					t := time.NewTicker(time.Second)
					defer t.Stop()
					for {
						select {
						case <-done:
							return
						case <-t.C:
							b := bytes.Load()
							el := time.Since(start).Seconds()
							pct := 0.0
							if s.Bytes > 0 {
								pct = 100 * float64(b) / float64(s.Bytes)
							}
							fmt.Fprintf(cmd.ErrOrStderr(), "restore: %d/%d items, %s (%.0f%%), %.1f MB/s\n",
								items.Load(), s.Items, units.Bytes(b), pct, float64(b)/1e6/el)
						}
					}
				}()
				st, err := v.Restore(s, prefix, args[1], func(rs vault.RestoreStats) {
					items.Store(rs.Items)
					bytes.Store(rs.Bytes)
				})
				close(done)
				<-stopped
				if err != nil {
					return err
				}
				el := time.Since(start)
				fmt.Fprintf(cmd.OutOrStdout(), "Restored %d items (%s) of snapshot %s to %s in %s.\n",
					st.Items, units.Bytes(st.Bytes), s.ID, args[1], el.Round(time.Millisecond))
				if v.Degraded() {
					fmt.Fprintln(cmd.OutOrStdout(), "The vault is degraded: the restore read parity shards. Replace the missing disk with 'strongroom vault replace-disk OLD NEW'.")
				}
				return nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&prefix, "path", "", "restore only items at or below this path")
	return cmd
}

// degradedErr explains why a vault is not healthy, wrapping the vault's
// sentinel so that main prints the vault's remedy.
func degradedErr(st vault.Status) error {
	var missing []string
	for _, d := range st.Disks {
		if !d.Present {
			missing = append(missing, fmt.Sprintf("slot %d (%s)", d.Index, d.Path))
		}
	}
	if len(missing) > 0 {
		return exitError{exitDegraded, fmt.Errorf("%w; missing: %s; %d of %d segments lack a shard, reads use parity",
			vault.ErrDegradedWrite, strings.Join(missing, ", "), st.DegradedSegments, st.Segments)}
	}
	return exitError{exitDegraded, fmt.Errorf("vault is degraded: %d of %d segments lack a shard file: %w",
		st.DegradedSegments, st.Segments, vault.ErrCorrupt)}
}

func newVaultStatusCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show disks, layout, capacity, usage, deduplication, segments and retention locks",
		Long: `Shows the vault's disks with their free and used space, the layout,
capacity, raw and stored bytes, unique and logical bytes and the dedup ratio,
the number of segments and of degraded segments (a shard file missing),
snapshots and retention locks, and the trusted clock. It reads directory
listings and manifests only, so it is quick.

Exits with code 3 when the vault is degraded (a disk or a shard missing).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&f, nil, func(v *vault.Vault) error {
				st, err := v.Status()
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(cmd.OutOrStdout(), st); err != nil {
						return err
					}
				} else {
					printStatus(cmd.OutOrStdout(), v, st)
				}
				if st.Degraded {
					return degradedErr(st)
				}
				return nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printStatus(w io.Writer, v *vault.Vault, st vault.Status) {
	state := "healthy"
	if st.Degraded {
		state = "DEGRADED"
	}
	fmt.Fprintf(w, "Vault %s: %s\n\n", st.VaultID, state)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tDISK\tSTATE\tSHARDS\tUSED\tFREE\tTOTAL")
	for _, d := range st.Disks {
		if !d.Present {
			fmt.Fprintf(tw, "%d\t%s\tMISSING\t-\t-\t-\t-\n", d.Index, d.Path)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\tok\t%d\t%s\t%s\t%s\n", d.Index, d.Path, d.Shards,
			units.Bytes(d.UsedBytes), units.Bytes(d.FreeBytes), units.Bytes(d.TotalBytes))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "layout\t%s (%s, %.0f%% of raw capacity holds data)\n", st.Layout, survives(v.Layout()), 100*v.Layout().Efficiency())
	fmt.Fprintf(tw, "capacity\t%s usable\n", units.Bytes(st.CapacityBytes))
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
	if st.LatestSnapshot != nil {
		fmt.Fprintf(tw, "latest\t%s %s, %d items, %s\n", st.LatestSnapshot.ID, st.LatestSnapshot.Created.UTC().Format(time.RFC3339),
			st.LatestSnapshot.Items, units.Bytes(st.LatestSnapshot.Bytes))
	}
	fmt.Fprintf(tw, "clock\t%s\n", clockLine(st))
	tw.Flush()
}

func clockLine(st vault.Status) string {
	c := st.Clock
	switch {
	case c.JumpPending && c.Reason == clock.ReasonMissing:
		return "FROZEN: the warden's trusted clock has no state yet (is the warden running?); expiry is paused until an operator confirms the time ('strongroom vault clock confirm' as root)"
	case c.JumpPending && c.Reason == clock.ReasonAhead:
		return fmt.Sprintf("FROZEN: the trusted time %s was found far ahead of the wall clock; expiry is paused until 'strongroom vault clock confirm'", c.Trusted.UTC().Format(time.RFC3339))
	case c.JumpPending:
		return fmt.Sprintf("FROZEN (%s): the wall clock is %s ahead of the trusted time %s; expiry is paused until 'strongroom vault clock confirm'",
			c.Reason, c.Jump.Round(time.Second), c.Trusted.UTC().Format(time.RFC3339))
	}
	if c.Jump < -time.Second {
		return fmt.Sprintf("trusted %s; the wall clock is %s behind it (the trusted time waits)", c.Trusted.UTC().Format(time.RFC3339), (-c.Jump).Round(time.Second))
	}
	return fmt.Sprintf("trusted %s, ok", c.Trusted.UTC().Format(time.RFC3339))
}

func newVaultScrubCmd() *cobra.Command {
	var f vaultFlags
	var repair, asJSON bool
	cmd := &cobra.Command{
		Use:   "scrub [--repair] [--json]",
		Short: "Read and check every shard; with --repair rebuild damaged or missing shards",
		Long: `Reads every shard of every segment and checks its block checksums. With
--repair, shards that are missing or corrupt are rebuilt from the other disks
and written back, and snapshot manifests are copied to disks that lack them.

Exits with code 3 when the vault is not healthy after the run.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&f, stderrProgress(cmd), func(v *vault.Vault) error {
				rep, err := v.Scrub(repair)
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
						return err
					}
				} else {
					printScrub(cmd.OutOrStdout(), rep)
				}
				return scrubErr(rep, repair)
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&repair, "repair", false, "rebuild missing or corrupt shards from the other disks")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

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

func scrubErr(rep vault.ScrubReport, repaired bool) error {
	if rep.Healthy {
		return nil
	}
	if len(rep.Unrecoverable) > 0 {
		return exitError{exitDegraded, fmt.Errorf("%d segments cannot be rebuilt (%v): more of their shards are lost than the layout's parity covers; snapshots that use them cannot be fully restored. Find and mount the missing disks, then scrub again",
			len(rep.Unrecoverable), rep.Unrecoverable)}
	}
	if len(rep.MissingDiskSlots) > 0 {
		return exitError{exitDegraded, fmt.Errorf("%w; disk slots %v are missing", vault.ErrDegradedWrite, rep.MissingDiskSlots)}
	}
	if repaired {
		return exitError{exitDegraded, fmt.Errorf("scrub --repair left %d problems: check the disks' kernel logs and free space, then scrub --repair again", len(rep.Problems))}
	}
	return exitError{exitDegraded, fmt.Errorf("scrub found %d damaged or missing shards: %w", len(rep.Problems), vault.ErrCorrupt)}
}

func newVaultReplaceDiskCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "replace-disk OLD NEW",
		Short: "Put an empty directory in the place of a lost disk and rebuild its shards",
		Long: `Replaces a lost disk: OLD is the path the lost disk had (as given with
--disk or in the configuration) or its slot number as shown by status; NEW is
an empty directory, normally the mount point of the new disk. Every shard of
the lost disk is rebuilt onto NEW from the other disks. Afterwards name NEW
instead of OLD with --disk or in the configuration file.`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withVault(&f, stderrProgress(cmd), func(v *vault.Vault) error {
				rep, err := v.ReplaceDisk(args[0], args[1])
				if err != nil {
					return err
				}
				printScrub(cmd.OutOrStdout(), rep)
				fmt.Fprintf(cmd.OutOrStdout(), "From now on name %s instead of %s with --disk or in the configuration.\n", args[1], args[0])
				return scrubErr(rep, true)
			})
		},
	}
	f.register(cmd, true)
	return cmd
}

func newVaultRebuildIndexCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "rebuild-index",
		Short: "Recreate the chunk index from the segments alone",
		Long: `Throws the chunk index away and recreates it by reading every segment's
table. The rebuilt index answers every lookup exactly as the old one did
(compare with dump-index). Use it when the state directory was lost or damaged.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&f, stderrProgress(cmd), func(v *vault.Vault) error {
				start := time.Now()
				n, err := v.RebuildIndex()
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Rebuilt the index from %d segments in %s.\n", n, time.Since(start).Round(time.Millisecond))
				return nil
			})
		},
	}
	f.register(cmd, true)
	return cmd
}

func newVaultDumpIndexCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "dump-index",
		Short: "Print the chunk index in key order (debugging)",
		Long: `Prints the index's chunk and segment records in key order. Two indexes
that answer every lookup the same way print the same text, so
'dump-index > a; rebuild-index; dump-index > b; cmp a b' checks a rebuild.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&f, nil, func(v *vault.Vault) error { return v.DumpIndex(cmd.OutOrStdout()) })
		},
	}
	f.register(cmd, true)
	return cmd
}

// parseDate accepts RFC 3339 or a plain date (midnight UTC).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD or RFC 3339 (2030-01-31T00:00:00Z)", s)
}

func newVaultRetainCmd() *cobra.Command {
	var f vaultFlags
	var until, forDur string
	cmd := &cobra.Command{
		Use:   "retain SNAPSHOT --until DATE | --for DURATION",
		Short: "Extend a snapshot's retention lock (it can never be shortened)",
		Long: `Raises a snapshot's retain-until. Before that date nobody can delete the
snapshot or any segment it needs. Retention only grows: a date earlier than
the current retain-until is refused. --until takes YYYY-MM-DD or RFC 3339;
--for takes a duration from now on the trusted clock (30d, 7y, 36h; at most
100y).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (until == "") == (forDur == "") {
				return usageError{errors.New("give exactly one of --until DATE or --for DURATION")}
			}
			if err := snapshotArg(args[0], "strongroom vault snapshots"); err != nil {
				return err
			}
			var t time.Time
			var d time.Duration
			var err error
			if until != "" {
				if t, err = parseDate(until); err != nil {
					return usageError{err}
				}
			} else if d, err = config.ParseDuration(forDur); err != nil {
				// More than zero and at most 100 years.
				return usageError{fmt.Errorf("--for: %w", err)}
			}
			return withVault(&f, nil, func(v *vault.Vault) error {
				if d > 0 {
					t = v.Clock().Now().Add(d)
				}
				s, err := v.Snapshot(args[0])
				if err != nil {
					return err
				}
				if err := v.ExtendRetention(s.ID, t); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Snapshot %s is now retained until %s.\n", s.ID, t.UTC().Truncate(time.Second).Format(time.RFC3339))
				return nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&until, "until", "", "new retain-until date (YYYY-MM-DD or RFC 3339)")
	cmd.Flags().StringVar(&forDur, "for", "", "retain for this long from now (30d, 7y, 36h)")
	return cmd
}

func newVaultDeleteCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "delete SNAPSHOT",
		Short: "Ask to delete a snapshot (refused while it is retention-locked)",
		Long: `Asks to delete a snapshot. While the snapshot is retention-locked this is
refused, whoever asks, and the refusal says until when. After its retain-until
the warden removes it ('strongroom warden expire'): its files are immutable and
only the warden may unseal them.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := snapshotArg(args[0], "strongroom vault snapshots"); err != nil {
				return err
			}
			return withVault(&f, nil, func(v *vault.Vault) error { return v.DeleteSnapshot(args[0]) })
		},
	}
	f.register(cmd, true)
	return cmd
}

func newVaultClockCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clock status|confirm",
		Short: "Show or confirm the trusted compliance clock",
		Long: `Retention is judged by the warden's trusted clock, which never goes
backwards and, while the machine runs, advances only with the kernel's
monotonic clock. When the system time is more than 24 hours ahead of it, or
its state is lost, expiry freezes until an operator confirms the time
('strongroom vault clock confirm' as root, or c at the console). A
backwards jump never unlocks anything. The agent only reads this clock.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var sf vaultFlags
	var asJSON bool
	status := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the trusted time, the wall time and whether a jump awaits confirmation",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&sf, nil, func(v *vault.Vault) error {
				c := v.Clock().Status()
				if asJSON {
					return printJSON(cmd.OutOrStdout(), c)
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "trusted time   %s\n", c.Trusted.UTC().Format(time.RFC3339))
				fmt.Fprintf(out, "wall time      %s\n", c.Wall.UTC().Format(time.RFC3339))
				fmt.Fprintf(out, "difference     %s (largest accepted forward step %s)\n", c.Jump.Round(time.Second), c.MaxForwardJump)
				if c.JumpPending {
					fmt.Fprintf(out, "state          FROZEN (%s): expiry is paused; if the wall time is right, confirm at the console or run 'strongroom warden confirm' as root\n", c.Reason)
				} else {
					fmt.Fprintln(out, "state          ok")
				}
				return nil
			})
		},
	}
	sf.register(status, true)
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var cf vaultFlags
	confirm := &cobra.Command{
		Use:   "confirm",
		Short: "Accept the current wall time after a forward jump and let expiry resume",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.resolve()
			if err != nil {
				return err
			}
			return confirmWarden(cmd.OutOrStdout(), &cf, wardenDir(c))
		},
	}
	cf.register(confirm, true)
	cmd.AddCommand(status, confirm)
	return cmd
}
