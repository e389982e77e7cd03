package main

import (
	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/vault"
)

// keyFileEnv names the environment variable that points at the recovery key
// file for unattended use.
const keyFileEnv = vaultctl.KeyFileEnv

// vaultFlags are the flags every vault command shares: where the disks are
// and where the recovery key is.
type vaultFlags struct{ vaultctl.Flags }

func (f *vaultFlags) register(cmd *cobra.Command, withKey bool) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.Disks, "disk", nil, "vault disk directory (repeat for every disk)")
	fl.StringVar(&f.Config, "config", "", "read disks, key file and state directory from this YAML configuration file")
	fl.StringVar(&f.StateDir, "state-dir", "", "directory of the index (default: state/ on the first disk)")
	fl.StringVar(&f.WardenDir, "warden-dir", "", "the warden's state directory: trusted clock and ledger (default: warden/ in the state directory)")
	if withKey {
		fl.StringVar(&f.KeyFile, "key-file", "", "file holding the recovery key (default: $"+keyFileEnv+")")
	}
}

// with resolves the flags and runs fn on the vault they name; progress,
// when not nil, receives the vault's progress lines.
func (f *vaultFlags) with(progress func(string), fn func(v *vault.Vault) error) error {
	c, err := f.Resolve()
	if err != nil {
		return err
	}
	return vaultctl.With(c, progress, fn)
}

// resolved runs fn on the configuration the flags name.
func (f *vaultFlags) resolved(fn func(c config.Vault) error) error {
	c, err := f.Resolve()
	if err != nil {
		return err
	}
	return fn(c)
}
