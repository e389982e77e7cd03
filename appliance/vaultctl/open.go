package vaultctl

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// KeyFileEnv names the environment variable that points at the recovery
// key file for unattended use.
const KeyFileEnv = "STRONGROOM_KEY_FILE"

// Flags are what a vault or warden command was told on its command line.
// Empty fields are taken from the configuration file named by Config, the
// key file last from the environment (KeyFileEnv).
type Flags struct {
	Disks     []string
	Config    string
	KeyFile   string
	StateDir  string
	WardenDir string
}

// Resolve merges the flags with the configuration file (flags win) and
// the environment.
func (f Flags) Resolve() (config.Vault, error) {
	var c config.Vault
	if f.Config != "" {
		fc, err := config.Read(f.Config)
		if err != nil {
			return c, err
		}
		c = fc.Vault
	}
	if len(f.Disks) > 0 {
		c.Disks = f.Disks
	}
	if f.StateDir != "" {
		c.StateDir = f.StateDir
	}
	if f.WardenDir != "" {
		c.WardenDir = f.WardenDir
	}
	if f.KeyFile != "" {
		c.KeyFile = f.KeyFile
	} else if env := os.Getenv(KeyFileEnv); env != "" {
		c.KeyFile = env
	}
	if len(c.Disks) == 0 {
		return c, outcome.Usage{Err: errors.New("no vault disks given: name each with --disk DIR, or give --config FILE")}
	}
	return c, nil
}

// ReadKey reads the recovery key the configuration names.
func ReadKey(c config.Vault) (keys.RecoveryKey, error) {
	if c.KeyFile == "" {
		return keys.RecoveryKey{}, outcome.Usage{Err: fmt.Errorf("no recovery key given: pass --key-file FILE or set %s (the key was printed by 'strongroom vault init')", KeyFileEnv)}
	}
	return sealed.ReadRecoveryKey(c.KeyFile)
}

// WardenDir is the warden's state directory of the configuration.
func WardenDir(c config.Vault) string {
	return vault.DefaultWardenDir(c.Disks, c.StateDir, c.WardenDir)
}

// Open opens the vault of the configuration with its recovery key.
// progress, when not nil, receives the vault's progress lines. Started by
// root, the process first becomes the vault's owner (RunAsOwner).
func Open(c config.Vault, progress func(string)) (*vault.Vault, error) {
	k, err := ReadKey(c)
	if err != nil {
		return nil, err
	}
	if err := RunAsOwner(c); err != nil {
		return nil, err
	}
	return vault.Open(vault.Options{Disks: c.Disks, Key: k, StateDir: c.StateDir, WardenDir: c.WardenDir, Progress: progress})
}

// With opens the vault, runs fn and closes the vault, keeping fn's error
// first.
func With(c config.Vault, progress func(string), fn func(v *vault.Vault) error) error {
	v, err := Open(c, progress)
	if err != nil {
		return err
	}
	err = fn(v)
	if cerr := v.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close vault: %w", cerr)
	}
	return err
}

// RunAsOwner makes a process started by root run as the user that owns
// the vault (the agent's user on the appliance): root would otherwise
// leave files in the agent's state the agent cannot open. It changes the
// process's user and group (every thread's) and does nothing when the
// caller is not root or root owns the vault.
func RunAsOwner(c config.Vault) error {
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
