package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// keyFileEnv names the environment variable that points at the recovery key
// file for unattended use.
const keyFileEnv = "STRONGROOM_KEY_FILE"

// vaultFlags are the flags every vault command shares: where the disks are
// and where the recovery key is.
type vaultFlags struct {
	disks     []string
	config    string
	keyFile   string
	stateDir  string
	wardenDir string
}

func (f *vaultFlags) register(cmd *cobra.Command, withKey bool) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.disks, "disk", nil, "vault disk directory (repeat for every disk)")
	fl.StringVar(&f.config, "config", "", "read disks, key file and state directory from this YAML configuration file")
	fl.StringVar(&f.stateDir, "state-dir", "", "directory of the index (default: state/ on the first disk)")
	fl.StringVar(&f.wardenDir, "warden-dir", "", "the warden's state directory: trusted clock and ledger (default: warden/ in the state directory)")
	if withKey {
		fl.StringVar(&f.keyFile, "key-file", "", "file holding the recovery key (default: $"+keyFileEnv+")")
	}
}

// resolve merges the flags with the configuration file: flags win.
func (f *vaultFlags) resolve() (config.Vault, error) {
	var c config.Vault
	if f.config != "" {
		fc, err := config.Read(f.config)
		if err != nil {
			return c, err
		}
		c = fc.Vault
	}
	if len(f.disks) > 0 {
		c.Disks = f.disks
	}
	if f.stateDir != "" {
		c.StateDir = f.stateDir
	}
	if f.wardenDir != "" {
		c.WardenDir = f.wardenDir
	}
	if f.keyFile != "" {
		c.KeyFile = f.keyFile
	} else if env := os.Getenv(keyFileEnv); env != "" {
		c.KeyFile = env
	}
	if len(c.Disks) == 0 {
		return c, usageError{errors.New("no vault disks given: name each with --disk DIR, or give --config FILE")}
	}
	return c, nil
}

// readKey reads the recovery key named by the configuration.
func readKey(c config.Vault) (keys.RecoveryKey, error) {
	if c.KeyFile == "" {
		return keys.RecoveryKey{}, usageError{fmt.Errorf("no recovery key given: pass --key-file FILE or set %s (the key was printed by 'strongroom vault init')", keyFileEnv)}
	}
	return keys.ReadRecoveryKeyFile(c.KeyFile)
}

// openVault opens the vault the flags describe. progress, when not nil,
// receives the vault's progress lines.
func (f *vaultFlags) openVault(progress func(string)) (*vault.Vault, error) {
	c, err := f.resolve()
	if err != nil {
		return nil, err
	}
	k, err := readKey(c)
	if err != nil {
		return nil, err
	}
	if err := runAsVaultOwner(c); err != nil {
		return nil, err
	}
	return vault.Open(vault.Options{Disks: c.Disks, Key: k, StateDir: c.StateDir, WardenDir: c.WardenDir, Progress: progress})
}

// runAsVaultOwner makes a vault command started by root run as the user
// that owns the vault (the agent's user on the appliance): root would
// otherwise leave files in the agent's state the agent cannot open. It
// changes this process's user and group (every thread's) and does nothing
// when the caller is not root or root owns the vault.
func runAsVaultOwner(c config.Vault) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, ok := vault.Owner(c.Disks, c.StateDir)
	if !ok || uid == 0 {
		return nil
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("run as the vault's owner (uid %d): %w", uid, err)
	}
	if err := syscall.Setgid(int(gid)); err != nil {
		return fmt.Errorf("run as the vault's owner (gid %d): %w", gid, err)
	}
	if err := syscall.Setuid(int(uid)); err != nil {
		return fmt.Errorf("run as the vault's owner (uid %d): %w", uid, err)
	}
	return nil
}
