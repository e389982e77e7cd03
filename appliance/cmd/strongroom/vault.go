package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() { register(newVaultCmd) }

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

// onVault makes c a vault subcommand: flags that name the vault and its
// key, and a body that runs fn on the open vault. With progress, the
// vault's progress lines go to stderr.
func onVault(c *cobra.Command, progress bool, fn func(cmd *cobra.Command, args []string, v *vault.Vault) error) *cobra.Command {
	var f vaultFlags
	f.register(c, true)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		var lines func(string)
		if progress {
			lines = func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
		}
		return f.with(lines, func(v *vault.Vault) error { return fn(cmd, args, v) })
	}
	return c
}

// vaultSnapshotFirst checks the positional arguments with check and then
// refuses an empty SNAPSHOT, the first of them.
func vaultSnapshotFirst(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := usageArgs(check)(cmd, args); err != nil {
			return err
		}
		return snapshotArg(args[0], "strongroom vault snapshots")
	}
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
			return vaultctl.Init(cmd.OutOrStdout(), disks, keyOut)
		},
	}
	cmd.Flags().StringArrayVar(&disks, "disk", nil, "empty disk directory (repeat for every disk)")
	cmd.Flags().StringVar(&keyOut, "key-out", "", "also write the recovery key to this new file (mode 0600)")
	return cmd
}

func newVaultSnapshotsCmd() *cobra.Command {
	var asJSON bool
	cmd := onVault(&cobra.Command{
		Use:   "snapshots [--json]",
		Short: "List the vault's snapshots, oldest first",
		Args:  usageArgs(cobra.NoArgs),
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Snapshots(outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON}, v)
	})
	return jsonFlag(cmd, &asJSON)
}

func newVaultLsCmd() *cobra.Command {
	var asJSON bool
	cmd := onVault(&cobra.Command{
		Use:   "ls SNAPSHOT [PREFIX] [--json]",
		Short: "List the items of a snapshot (optionally those under PREFIX)",
		Long: `Lists the items of a snapshot in path order. SNAPSHOT is an ID, a unique
prefix of one, or "latest". With PREFIX only items at or below that path are
listed. --json prints a JSON array of {path, size, mtime, mode, hash}.`,
		Args: vaultSnapshotFirst(cobra.RangeArgs(1, 2)),
	}, false, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.List(cmd.OutOrStdout(), v, args[0], strings.Join(args[1:], ""), asJSON)
	})
	return jsonFlag(cmd, &asJSON)
}

func newVaultRestoreCmd() *cobra.Command {
	var prefix string
	cmd := onVault(&cobra.Command{
		Use:   "restore SNAPSHOT DEST [--path PREFIX]",
		Short: "Write a snapshot's items back as files below DEST",
		Long: `Writes the items of a snapshot (ID, unique ID prefix or "latest") as files
below DEST, with their modes and modification times, and checks every item
against the hash recorded at backup time. --path restores only the items at or
below PREFIX. Works with up to M disks missing (the restore then reads parity).
DEST is created if missing; a symbolic link inside DEST is never followed:
one in the way of an item stops the restore with an error naming it.
Progress goes to stderr every second.`,
		Args: vaultSnapshotFirst(cobra.ExactArgs(2)),
	}, true, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.Restore(cmd.OutOrStdout(), cmd.ErrOrStderr(), v, args[0], prefix, args[1])
	})
	cmd.Flags().StringVar(&prefix, "path", "", "restore only items at or below this path")
	return cmd
}

func newVaultStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := onVault(&cobra.Command{
		Use:   "status [--json]",
		Short: "Show disks, layout, capacity, usage, deduplication, segments and retention locks",
		Long: `Shows the vault's disks with their free and used space, the layout,
capacity, raw and stored bytes, unique and logical bytes and the dedup ratio,
the number of segments and of degraded segments (a shard file missing),
snapshots and retention locks, and the trusted clock. It reads directory
listings and manifests only, so it is quick.

Exits with code 3 when the vault is degraded (a disk or a shard missing).`,
		Args: usageArgs(cobra.NoArgs),
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Status(outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON}, v)
	})
	return jsonFlag(cmd, &asJSON)
}

func newVaultScrubCmd() *cobra.Command {
	var repair, asJSON bool
	cmd := onVault(&cobra.Command{
		Use:   "scrub [--repair] [--json]",
		Short: "Read and check every shard; with --repair rebuild damaged or missing shards",
		Long: `Reads every shard of every segment and checks its block checksums. With
--repair, shards that are missing or corrupt are rebuilt from the other disks
and written back, and snapshot manifests are copied to disks that lack them.

Exits with code 3 when the vault is not healthy after the run.`,
		Args: usageArgs(cobra.NoArgs),
	}, true, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Scrub(outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON}, v, repair)
	})
	cmd.Flags().BoolVar(&repair, "repair", false, "rebuild missing or corrupt shards from the other disks")
	return jsonFlag(cmd, &asJSON)
}

func newVaultReplaceDiskCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "replace-disk OLD NEW",
		Short: "Put an empty directory in the place of a lost disk and rebuild its shards",
		Long: `Replaces a lost disk: OLD is the path the lost disk had (as given with
--disk or in the configuration) or its slot number as shown by status; NEW is
an empty directory, normally the mount point of the new disk. Every shard of
the lost disk is rebuilt onto NEW from the other disks. Afterwards name NEW
instead of OLD with --disk or in the configuration file.`,
		Args: usageArgs(cobra.ExactArgs(2)),
	}, true, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.ReplaceDisk(cmd.OutOrStdout(), v, args[0], args[1])
	})
}

func newVaultRebuildIndexCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "rebuild-index",
		Short: "Recreate the chunk index from the segments alone",
		Long: `Throws the chunk index away and recreates it by reading every segment's
table. The rebuilt index answers every lookup exactly as the old one did
(compare with dump-index). Use it when the state directory was lost or damaged.`,
		Args: usageArgs(cobra.NoArgs),
	}, true, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.RebuildIndex(cmd.OutOrStdout(), v)
	})
}

func newVaultDumpIndexCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "dump-index",
		Short: "Print the chunk index in key order (debugging)",
		Long: `Prints the index's chunk and segment records in key order. Two indexes
that answer every lookup the same way print the same text, so
'dump-index > a; rebuild-index; dump-index > b; cmp a b' checks a rebuild.`,
		Args: usageArgs(cobra.NoArgs),
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error { return v.DumpIndex(cmd.OutOrStdout()) })
}

func newVaultRetainCmd() *cobra.Command {
	var until, forDur string
	var r vaultctl.Retention
	cmd := onVault(&cobra.Command{
		Use:   "retain SNAPSHOT --until DATE | --for DURATION",
		Short: "Extend a snapshot's retention lock (it can never be shortened)",
		Long: `Raises a snapshot's retain-until. Before that date nobody can delete the
snapshot or any segment it needs. Retention only grows: a date earlier than
the current retain-until is refused. --until takes YYYY-MM-DD or RFC 3339;
--for takes a duration from now on the trusted clock (30d, 7y, 36h; at most
100y).`,
		Args: vaultSnapshotFirst(cobra.ExactArgs(1)),
		PreRunE: func(*cobra.Command, []string) (err error) {
			r, err = vaultctl.ParseRetention(until, forDur)
			return err
		},
	}, false, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.Retain(cmd.OutOrStdout(), v, args[0], r)
	})
	cmd.Flags().StringVar(&until, "until", "", "new retain-until date (YYYY-MM-DD or RFC 3339)")
	cmd.Flags().StringVar(&forDur, "for", "", "retain for this long from now (30d, 7y, 36h)")
	return cmd
}

func newVaultDeleteCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "delete SNAPSHOT",
		Short: "Ask to delete a snapshot (refused while it is retention-locked)",
		Long: `Asks to delete a snapshot. While the snapshot is retention-locked this is
refused, whoever asks, and the refusal says until when. After its retain-until
the warden removes it ('strongroom warden expire'): its files are immutable and
only the warden may unseal them.`,
		Args: vaultSnapshotFirst(cobra.ExactArgs(1)),
	}, false, func(_ *cobra.Command, args []string, v *vault.Vault) error { return v.DeleteSnapshot(args[0]) })
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
	var asJSON bool
	status := onVault(&cobra.Command{
		Use:   "status [--json]",
		Short: "Show the trusted time, the wall time and whether a jump awaits confirmation",
		Args:  usageArgs(cobra.NoArgs),
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Clock(outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON}, v)
	})
	var f vaultFlags
	confirm := &cobra.Command{
		Use:   "confirm",
		Short: "Accept the current wall time after a forward jump and let expiry resume",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.resolved(func(c config.Vault) error { return vaultctl.Confirm(cmd.OutOrStdout(), c) })
		},
	}
	f.register(confirm, true)
	cmd.AddCommand(jsonFlag(status, &asJSON), confirm)
	return cmd
}
