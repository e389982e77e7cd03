package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/offsitectl"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() {
	register(func() *cobra.Command {
		return group("vault", "Create, inspect, check and repair the erasure-coded backup vault", "vault",
			newVaultInitCmd(), newVaultSnapshotsCmd(), newVaultLsCmd(), newVaultRestoreCmd(),
			newVaultStatusCmd(), newVaultScrubCmd(), newVaultReplaceDiskCmd(), newVaultRebuildIndexCmd(),
			newVaultDumpIndexCmd(), newVaultRetainCmd(), newVaultDeleteCmd(), newVaultClockCmd(), offsitectl.Wiring{Flags: agentFlags, Output: output, Help: help}.RecoverCommand())
	}, func() *cobra.Command {
		return group("offsite", "Copy the vault to an S3 bucket with Object Lock, and check the copy", "offsite", offsitectl.Wiring{Flags: agentFlags, Output: output, Help: help}.Commands()...)
	})
}

// listSnapshots is the command that lists the vault's snapshots.
const listSnapshots = "strongroom vault snapshots"

func newVaultInitCmd() *cobra.Command {
	var disks []string
	var keyOut string
	c := command("init --disk DIR [--disk DIR ...] [--key-out FILE]",
		"Create a new vault on empty disk directories and print its recovery key", "vault-init", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error { return vaultctl.Init(cmd.OutOrStdout(), disks, keyOut) }
	c.Flags().StringArrayVar(&disks, "disk", nil, "empty disk directory (repeat for every disk)")
	c.Flags().StringVar(&keyOut, "key-out", "", "also write the recovery key to this new file (mode 0600)")
	return c
}

func newVaultSnapshotsCmd() *cobra.Command {
	return onVaultJSON(command("snapshots [--json]", "List the vault's snapshots, oldest first", "", cobra.NoArgs), vaultctl.Snapshots)
}

func newVaultLsCmd() *cobra.Command {
	var asJSON bool
	c := command("ls SNAPSHOT [PREFIX] [--json]", "List the items of a snapshot (optionally those under PREFIX)", "vault-ls",
		snapshotFirst(listSnapshots, cobra.RangeArgs(1, 2)))
	return jsonFlag(onVault(c, false, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.List(cmd.OutOrStdout(), v, args[0], strings.Join(args[1:], ""), asJSON)
	}), &asJSON)
}

func newVaultRestoreCmd() *cobra.Command {
	var prefix string
	c := command("restore SNAPSHOT DEST [--path PREFIX]", "Write a snapshot's items back as files below DEST", "vault-restore",
		snapshotFirst(listSnapshots, cobra.ExactArgs(2)))
	onVault(c, true, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.Restore(output(cmd, false), v, args[0], prefix, args[1])
	})
	c.Flags().StringVar(&prefix, "path", "", "restore only items at or below this path")
	return c
}

func newVaultStatusCmd() *cobra.Command {
	return onVaultJSON(command("status [--json]", "Show disks, layout, capacity, usage, deduplication, segments and retention locks", "vault-status", cobra.NoArgs),
		vaultctl.Status)
}

func newVaultScrubCmd() *cobra.Command {
	var repair, asJSON bool
	c := command("scrub [--repair] [--json]", "Read and check every shard; with --repair rebuild damaged or missing shards", "vault-scrub", cobra.NoArgs)
	onVault(c, true, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.Scrub(output(cmd, asJSON), v, repair)
	})
	c.Flags().BoolVar(&repair, "repair", false, "rebuild missing or corrupt shards from the other disks")
	return jsonFlag(c, &asJSON)
}

func newVaultReplaceDiskCmd() *cobra.Command {
	c := command("replace-disk OLD NEW", "Put an empty directory in the place of a lost disk and rebuild its shards", "vault-replace-disk", cobra.ExactArgs(2))
	return onVault(c, true, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.ReplaceDisk(output(cmd, false), v, args[0], args[1])
	})
}

func newVaultRebuildIndexCmd() *cobra.Command {
	c := command("rebuild-index", "Recreate the chunk index from the segments alone", "vault-rebuild-index", cobra.NoArgs)
	return onVault(c, true, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		return vaultctl.RebuildIndex(cmd.OutOrStdout(), v)
	})
}

func newVaultDumpIndexCmd() *cobra.Command {
	c := command("dump-index", "Print the chunk index in key order (debugging)", "vault-dump-index", cobra.NoArgs)
	return onVault(c, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error { return v.DumpIndex(cmd.OutOrStdout()) })
}

func newVaultRetainCmd() *cobra.Command {
	var until, forDur string
	var r vaultctl.Retention
	c := command("retain SNAPSHOT --until DATE | --for DURATION", "Extend a snapshot's retention lock (it can never be shortened)", "vault-retain",
		snapshotFirst(listSnapshots, cobra.ExactArgs(1)))
	c.PreRunE = func(*cobra.Command, []string) (err error) {
		r, err = vaultctl.ParseRetention(until, forDur)
		return err
	}
	onVault(c, false, func(cmd *cobra.Command, args []string, v *vault.Vault) error {
		return vaultctl.Retain(cmd.OutOrStdout(), v, args[0], r)
	})
	c.Flags().StringVar(&until, "until", "", "new retain-until date (YYYY-MM-DD or RFC 3339)")
	c.Flags().StringVar(&forDur, "for", "", "retain for this long from now (30d, 7y, 36h)")
	return c
}

func newVaultDeleteCmd() *cobra.Command {
	c := command("delete SNAPSHOT", "Ask to delete a snapshot (refused while it is retention-locked)", "vault-delete",
		snapshotFirst(listSnapshots, cobra.ExactArgs(1)))
	return onVault(c, false, func(_ *cobra.Command, args []string, v *vault.Vault) error { return v.DeleteSnapshot(args[0]) })
}

func newVaultClockCmd() *cobra.Command {
	status := command("status [--json]", "Show the trusted time, the wall time and whether a jump awaits confirmation", "", cobra.NoArgs)
	return group("clock status|confirm", "Show or confirm the trusted compliance clock", "vault-clock",
		onVaultJSON(status, vaultctl.Clock), newConfirmCmd("Accept the current wall time after a forward jump and let expiry resume", ""))
}

// newConfirmCmd makes a command that confirms the trusted clock (vault
// clock confirm, warden confirm).
func newConfirmCmd(short, long string) *cobra.Command {
	return onConfig(command("confirm", short, long, cobra.NoArgs), true, func(cmd *cobra.Command, _ []string, vc config.Vault) error {
		return vaultctl.Confirm(cmd.OutOrStdout(), vc)
	})
}
