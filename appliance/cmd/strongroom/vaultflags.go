package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/vault"
	"github.com/strongroom/strongroom/storage/warden"
)

// vaultFlags are the flags every vault and warden command shares: where
// the disks are and where the recovery key is (withKey).
func vaultFlags(cmd *cobra.Command, withKey bool) *vaultctl.Flags {
	var f vaultctl.Flags
	fl := cmd.Flags()
	fl.StringArrayVar(&f.Disks, "disk", nil, "vault disk directory (repeat for every disk)")
	fl.StringVar(&f.Config, "config", "", "read disks, key file and state directory from this YAML configuration file")
	fl.StringVar(&f.StateDir, "state-dir", "", "directory of the index (default: state/ on the first disk)")
	fl.StringVar(&f.WardenDir, "warden-dir", "", "the warden's state directory: trusted clock and ledger (default: warden/ in the state directory)")
	if withKey {
		fl.StringVar(&f.KeyFile, "key-file", "", "file holding the recovery key (default: $"+vaultctl.KeyFileEnv+")")
	}
	return &f
}

// onConfig makes c a command that runs fn on the vault configuration its
// flags (and withKey, its key flag) name.
func onConfig(c *cobra.Command, withKey bool, fn func(cmd *cobra.Command, args []string, vc config.Vault) error) *cobra.Command {
	f := vaultFlags(c, withKey)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		vc, err := f.Resolve()
		if err != nil {
			return err
		}
		return fn(cmd, args, vc)
	}
	return c
}

// onVault makes c a command that runs fn on the vault its flags name,
// open. With progress, the vault's progress lines go to stderr.
func onVault(c *cobra.Command, progress bool, fn func(cmd *cobra.Command, args []string, v *vault.Vault) error) *cobra.Command {
	return onConfig(c, true, func(cmd *cobra.Command, args []string, vc config.Vault) error {
		var lines func(string)
		if progress {
			lines = func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
		}
		return vaultctl.With(vc, lines, func(v *vault.Vault) error { return fn(cmd, args, v) })
	})
}

// onVaultJSON makes c a command with --json that runs op on the vault its
// flags name.
func onVaultJSON(c *cobra.Command, op func(o outcome.Output, v *vault.Vault) error) *cobra.Command {
	var asJSON bool
	onVault(c, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error { return op(output(cmd, asJSON), v) })
	return jsonFlag(c, &asJSON)
}

// onWarden makes c a command that runs fn on the warden its flags name.
func onWarden(c *cobra.Command, fn func(cmd *cobra.Command, w *warden.Warden) error) *cobra.Command {
	return onConfig(c, true, func(cmd *cobra.Command, _ []string, vc config.Vault) error {
		return vaultctl.WithWarden(vc, func(w *warden.Warden) error { return fn(cmd, w) })
	})
}
