package vaultctl

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/storage/vault"
)

// Init creates a vault on the empty directories disks and shows its
// recovery key once on out; keyOut, when not empty, is a new file (mode
// 0600) that also receives the key. An existing keyOut is refused before
// anything is created.
func Init(out io.Writer, disks []string, keyOut string) error {
	if len(disks) == 0 {
		return outcome.Usage{Err: errors.New("vault init needs the disk directories: --disk DIR (repeat for each disk)")}
	}
	if keyOut != "" {
		if _, err := os.Stat(keyOut); err == nil {
			return outcome.Usage{Err: fmt.Errorf("--key-out %s already exists: refusing to overwrite a recovery key", keyOut)}
		}
	}
	res, err := vault.Init(disks)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created vault %s on %d disks.\n", res.VaultID, len(disks))
	fmt.Fprintf(out, "Layout %s: %d data + %d parity shards per segment; %s; %.0f%% of raw capacity holds data.\n",
		res.Layout, res.Layout.K, res.Layout.M, Placed(res.Layout, res.Placement), 100*res.Layout.Efficiency())
	for _, w := range []string{res.Warning, res.Placement.Warning(res.Layout)} {
		if w != "" {
			fmt.Fprintf(out, "\nWARNING: %s.\n", w)
		}
	}
	key := res.RecoveryKey.String()
	fmt.Fprintf(out, "\nRecovery key (shown only this once):\n\n    %s\n\n", key)
	fmt.Fprintln(out, "Write this down now and keep it somewhere safe, away from this appliance.")
	fmt.Fprintln(out, "Every backup in the vault is encrypted; without this key none of it can be read or restored.")
	if keyOut == "" {
		return nil
	}
	if err := writeNewKeyFile(keyOut, key); err != nil {
		return fmt.Errorf("vault %s was created, but writing the recovery key to %s: %w (copy the key printed above instead)", res.VaultID, keyOut, err)
	}
	fmt.Fprintf(out, "The key was also written to %s (mode 0600) for --key-file / %s.\n", keyOut, KeyFileEnv)
	return nil
}

// writeNewKeyFile writes key to a file that must not exist yet.
func writeNewKeyFile(path, key string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, key)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
