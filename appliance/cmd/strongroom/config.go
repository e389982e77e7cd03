package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// keyFileEnv names the environment variable that points at the recovery key
// file for unattended use.
const keyFileEnv = "STRONGROOM_KEY_FILE"

// fileConfig is the part of the agent's configuration file that vault
// commands read. Other sections of the file belong to other roles and are
// ignored here.
type fileConfig struct {
	Vault vaultConfig `yaml:"vault"`
}

// vaultConfig is the vault section of the configuration file:
//
//	vault:
//	  disks: [/srv/disk1, /srv/disk2, /srv/disk3, /srv/disk4]
//	  key_file: /etc/strongroom/recovery.key
//	  state_dir: /var/lib/strongroom
//	  warden_dir: /var/lib/strongroom-warden
type vaultConfig struct {
	Disks     []string `yaml:"disks"`
	KeyFile   string   `yaml:"key_file"`
	StateDir  string   `yaml:"state_dir"`
	WardenDir string   `yaml:"warden_dir"`
}

// loadConfig reads the configuration file at path. Relative paths inside it
// are taken relative to the file's directory.
func loadConfig(path string) (vaultConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return vaultConfig{}, fmt.Errorf("read configuration %s: %w", path, err)
	}
	var fc fileConfig
	if err := yaml.Unmarshal(b, &fc); err != nil {
		return vaultConfig{}, fmt.Errorf("parse configuration %s: %w", path, err)
	}
	base := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c := fc.Vault
	for i, d := range c.Disks {
		c.Disks[i] = rel(d)
	}
	c.KeyFile = rel(c.KeyFile)
	c.StateDir = rel(c.StateDir)
	c.WardenDir = config.WardenDirOr(rel(c.WardenDir))
	return c, nil
}

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
func (f *vaultFlags) resolve() (vaultConfig, error) {
	var c vaultConfig
	if f.config != "" {
		var err error
		if c, err = loadConfig(f.config); err != nil {
			return c, err
		}
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
func readKey(c vaultConfig) (keys.RecoveryKey, error) {
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
func runAsVaultOwner(c vaultConfig) error {
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
