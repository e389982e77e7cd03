package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() {
	register(func() *cobra.Command {
		return group("vault", "Create, inspect, check and repair the erasure-coded backup vault", help("vault"),
			newVaultInitCmd(), newVaultSnapshotsCmd(), newVaultLsCmd(), newVaultRestoreCmd(),
			newVaultStatusCmd(), newVaultScrubCmd(), newVaultReplaceDiskCmd(), newVaultRebuildIndexCmd(),
			newVaultDumpIndexCmd(), newVaultRetainCmd(), newVaultDeleteCmd(), newVaultClockCmd())
	})
}

// listSnapshots is the command that lists the vault's snapshots.
const listSnapshots = "strongroom vault snapshots"

func newVaultInitCmd() *cobra.Command {
	var disks []string
	var keyOut string
	cmd := &cobra.Command{
		Use:   "init --disk DIR [--disk DIR ...] [--key-out FILE]",
		Short: "Create a new vault on empty disk directories and print its recovery key",
		Long:  help("vault-init"),
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return vaultctl.Init(cmd.OutOrStdout(), disks, keyOut) },
	}
	cmd.Flags().StringArrayVar(&disks, "disk", nil, "empty disk directory (repeat for every disk)")
	cmd.Flags().StringVar(&keyOut, "key-out", "", "also write the recovery key to this new file (mode 0600)")
	return cmd
}

func newVaultSnapshotsCmd() *cobra.Command {
	var asJSON bool
	return jsonFlag(onVault(&cobra.Command{
		Use:   "snapshots [--json]",
		Short: "List the vault's snapshots, oldest first",
		Args:  cobra.NoArgs,
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Snapshots(output(cmd, asJSON), v)
	}), &asJSON)
}

func newVaultLsCmd() *cobra.Command {
	var asJSON bool
	return jsonFlag(onVault(&cobra.Command{
		Use:   "ls SNAPSHOT [PREFIX] [--json]",
		Short: "List the items of a snapshot (optionally those under PREFIX)",
		Long:  help("vault-ls"),
		Args:  snapshotFirst(listSnapshots, cobra.RangeArgs(1, 2)),
	}, false, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.List(cmd.OutOrStdout(), v, args[0], strings.Join(args[1:], ""), asJSON)
	}), &asJSON)
}

func newVaultRestoreCmd() *cobra.Command {
	var prefix string
	cmd := onVault(&cobra.Command{
		Use:   "restore SNAPSHOT DEST [--path PREFIX]",
		Short: "Write a snapshot's items back as files below DEST",
		Long:  help("vault-restore"),
		Args:  snapshotFirst(listSnapshots, cobra.ExactArgs(2)),
	}, true, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.Restore(cmd.OutOrStdout(), cmd.ErrOrStderr(), v, args[0], prefix, args[1])
	})
	cmd.Flags().StringVar(&prefix, "path", "", "restore only items at or below this path")
	return cmd
}

func newVaultStatusCmd() *cobra.Command {
	var asJSON bool
	return jsonFlag(onVault(&cobra.Command{
		Use:   "status [--json]",
		Short: "Show disks, layout, capacity, usage, deduplication, segments and retention locks",
		Long:  help("vault-status"),
		Args:  cobra.NoArgs,
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Status(output(cmd, asJSON), v)
	}), &asJSON)
}

func newVaultScrubCmd() *cobra.Command {
	var repair, asJSON bool
	cmd := onVault(&cobra.Command{
		Use:   "scrub [--repair] [--json]",
		Short: "Read and check every shard; with --repair rebuild damaged or missing shards",
		Long:  help("vault-scrub"),
		Args:  cobra.NoArgs,
	}, true, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Scrub(output(cmd, asJSON), v, repair)
	})
	cmd.Flags().BoolVar(&repair, "repair", false, "rebuild missing or corrupt shards from the other disks")
	return jsonFlag(cmd, &asJSON)
}

func newVaultReplaceDiskCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "replace-disk OLD NEW",
		Short: "Put an empty directory in the place of a lost disk and rebuild its shards",
		Long:  help("vault-replace-disk"),
		Args:  cobra.ExactArgs(2),
	}, true, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.ReplaceDisk(cmd.OutOrStdout(), v, args[0], args[1])
	})
}

func newVaultRebuildIndexCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "rebuild-index",
		Short: "Recreate the chunk index from the segments alone",
		Long:  help("vault-rebuild-index"),
		Args:  cobra.NoArgs,
	}, true, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.RebuildIndex(cmd.OutOrStdout(), v)
	})
}

func newVaultDumpIndexCmd() *cobra.Command {
	return onVault(&cobra.Command{
		Use:   "dump-index",
		Short: "Print the chunk index in key order (debugging)",
		Long:  help("vault-dump-index"),
		Args:  cobra.NoArgs,
	}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error { return v.DumpIndex(cmd.OutOrStdout()) })
}

func newVaultRetainCmd() *cobra.Command {
	var until, forDur string
	var r vaultctl.Retention
	cmd := onVault(&cobra.Command{
		Use:   "retain SNAPSHOT --until DATE | --for DURATION",
		Short: "Extend a snapshot's retention lock (it can never be shortened)",
		Long:  help("vault-retain"),
		Args:  snapshotFirst(listSnapshots, cobra.ExactArgs(1)),
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
		Long:  help("vault-delete"),
		Args:  snapshotFirst(listSnapshots, cobra.ExactArgs(1)),
	}, false, func(_ *cobra.Command, args []string, v *vault.Vault) error { return v.DeleteSnapshot(args[0]) })
}

func newVaultClockCmd() *cobra.Command {
	var asJSON bool
	return group("clock status|confirm", "Show or confirm the trusted compliance clock", help("vault-clock"),
		jsonFlag(onVault(&cobra.Command{
			Use:   "status [--json]",
			Short: "Show the trusted time, the wall time and whether a jump awaits confirmation",
			Args:  cobra.NoArgs,
		}, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
			return vaultctl.Clock(output(cmd, asJSON), v)
		}), &asJSON),
		newConfirmCmd("Accept the current wall time after a forward jump and let expiry resume", ""))
}

// newConfirmCmd makes the command that confirms the trusted clock (vault
// clock confirm, warden confirm).
func newConfirmCmd(short, long string) *cobra.Command {
	return onConfig(&cobra.Command{
		Use:   "confirm",
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
	}, true, func(cmd *cobra.Command, _ []string, vc config.Vault) error {
		return vaultctl.Confirm(cmd.OutOrStdout(), vc)
	})
}
