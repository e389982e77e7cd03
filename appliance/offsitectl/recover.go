package offsitectl

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/vault"
)

// Recovery says what 'vault recover --from-offsite' does: with Snapshot
// set, restore its items (below Path) straight from the bucket into Dest;
// with List, list the restore points; otherwise rebuild the vault on the
// disks of Vault.
type Recovery struct {
	Offsite  *config.Offsite
	Vault    config.Vault
	VaultID  string
	List     bool
	Snapshot string
	Path     string
	Dest     string
}

// Recover runs a recovery from the bucket with only the recovery key and
// the bucket's credentials. r's Vault holds what the command line gave
// (disks, key file); the rest comes from c.
func Recover(ctx context.Context, o outcome.Output, c *config.Config, r Recovery) error {
	var err error
	if r.Offsite, err = Section(c); err != nil {
		return err
	}
	if len(r.Vault.Disks) == 0 {
		r.Vault.Disks = c.Vault.Disks
	}
	if r.Vault.KeyFile == "" {
		r.Vault.KeyFile = os.Getenv(vaultctl.KeyFileEnv)
	}
	if r.Vault.KeyFile == "" {
		r.Vault.KeyFile = c.Vault.KeyFile
	}
	r.Vault.StateDir, r.Vault.WardenDir = c.Vault.StateDir, c.Vault.WardenDir
	key, err := vaultctl.ReadKey(r.Vault)
	if err != nil {
		return err
	}
	store, err := OpenStore(r.Offsite)
	if err != nil {
		return err
	}
	cp, err := offsite.OpenCopy(ctx, store, r.VaultID)
	if err != nil {
		return err
	}
	if r.List || r.Snapshot != "" {
		v, err := cp.Open(key)
		if err != nil {
			return err
		}
		defer v.Close()
		if r.List {
			return vaultctl.Snapshots(o, v)
		}
		return vaultctl.Restore(o, v, r.Snapshot, r.Path, r.Dest)
	}
	return rehydrate(o, r, cp, key)
}

func rehydrate(o outcome.Output, r Recovery, cp *offsite.Copy, key keys.RecoveryKey) error {
	if len(r.Vault.Disks) == 0 {
		return outcome.Usage{Err: fmt.Errorf("name the new, empty disks to rebuild vault %s on with --disk DIR (or vault.disks in --config), or give --snapshots or --restore", cp.VaultID())}
	}
	// Root acts as the owner of the new disks (the agent's user on the
	// appliance), so the agent can carry on in the rebuilt vault.
	if err := vaultctl.RunAsOwner(r.Vault); err != nil {
		return err
	}
	start := clock.Wall()
	last := start
	st, err := cp.Rehydrate(r.Vault.Disks, key, func(s vault.RehydrateStats) {
		if now := clock.Wall(); o.Progress != nil && now.Sub(last) >= 5*time.Second {
			last = now
			fmt.Fprintf(o.Progress, "recover: %d of %d segments, %s read from the bucket\n", s.Segments+s.Skipped, s.SegmentsTotal, units.Bytes(s.Bytes))
		}
	})
	if err != nil {
		return fmt.Errorf("%w\n  what to do: run the same command again; it resumes where it stopped", err)
	}
	return vaultctl.With(r.Vault, nil, func(v *vault.Vault) error {
		snaps, err := v.Snapshots()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.W, "Recovered vault %s onto %d disks (%s): %d segments written (%d already there), %s read, %s, in %s.\n",
			v.ID(), len(r.Vault.Disks), v.Layout(), st.Segments, st.Skipped, units.Bytes(st.Bytes), units.Count(len(snaps), "restore point"), clock.Wall().Sub(start).Round(time.Millisecond))
		fmt.Fprintln(o.W, "Start the agent with this configuration to carry on backing up with the same history; the warden will ask to confirm its clock (a new box has no clock state).")
		return nil
	})
}
