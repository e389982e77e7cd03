package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/sandbox"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/offsite/localstore"
	"github.com/strongroom/strongroom/storage/vault"
)

// errNotSealed: the demo could not seal the vault's files as the warden
// does, so there is nothing the offsite copier may copy.
var errNotSealed = errors.New("the vault's files could not be sealed")

// offsiteStage copies the vault to a real S3 server with Object Lock on
// loopback, loses every local disk, rebuilds the vault from the bucket on
// new disks and restores the deleted mailbox folder again, byte for byte.
// Without a versitygw binary it is skipped with a word on how to get one.
func (d *demo) offsiteStage(ctx context.Context) error {
	srv, err := localstore.Start(filepath.Join(d.sb.Dir, "s3"), "strongroom-demo", nil)
	if errors.Is(err, localstore.ErrNoBinary) && os.Getenv(localstore.RequireEnv) != "1" {
		d.step("offsite: skipped: %v", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	cfg := *d.sb.Config
	key, err := keys.ReadRecoveryKeyFile(cfg.Vault.KeyFile)
	if err != nil {
		return err
	}
	if err := d.copyOffsite(ctx, srv, cfg.Vault.Disks, key); errors.Is(err, errNotSealed) && os.Getenv(localstore.RequireEnv) != "1" {
		d.step("offsite: skipped: %v", err)
		return nil
	} else if err != nil {
		return err
	}
	// The fire: the agent stops, every disk (and the state on the first)
	// is gone.
	d.a.Close()
	for _, disk := range cfg.Vault.Disks {
		immutable.ClearTree(disk)
		if err := os.RemoveAll(disk); err != nil {
			return err
		}
	}
	d.step("disaster: all %d disks of the vault and the agent's state are gone", len(cfg.Vault.Disks))
	if err := d.recoverOffsite(ctx, srv, &cfg, key); err != nil {
		return err
	}
	if _, err := d.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: d.victim.ID, Folder: folder}); err != nil {
		return err
	}
	d.step("the user deletes %q again; restoring it from the recovered vault", folder)
	return d.restore(ctx)
}

// copyOffsite seals the vault's files as the warden does and runs one
// offsite sync.
func (d *demo) copyOffsite(ctx context.Context, srv *localstore.Server, disks []string, key keys.RecoveryKey) error {
	custody, err := vault.OpenCustody(disks, key)
	if err != nil {
		return err
	}
	if _, err := custody.Seal(); err != nil {
		return fmt.Errorf("%w (the warden's chattr needs root or CAP_LINUX_IMMUTABLE): %v", errNotSealed, err)
	}
	store, err := offsite.Open(srv.Config(), clock.Wall)
	if err != nil {
		return err
	}
	sealed, err := vault.OpenSealed(disks, key)
	if err != nil {
		return err
	}
	rep, err := (&offsite.Copier{Store: store, Vault: sealed, Now: clock.Wall}).Sync(ctx)
	if err != nil {
		return err
	}
	d.step("offsite: %d restore points copied to bucket %s on a real S3 server (versitygw %s, Object Lock): %d objects, %s, each COMPLIANCE-locked until its retain-until and checked with HEAD",
		rep.SnapshotsOffsite, srv.Bucket, localstore.Version, rep.ObjectsCopied, units.Bytes(rep.BytesCopied))
	return nil
}

// recoverOffsite rebuilds the vault from the bucket on new disks with only
// the recovery key and the bucket's credentials, and opens a new agent on it.
func (d *demo) recoverOffsite(ctx context.Context, srv *localstore.Server, cfg *config.Config, key keys.RecoveryKey) error {
	store, err := offsite.Open(srv.Config(), clock.Wall)
	if err != nil {
		return err
	}
	cp, err := offsite.OpenCopy(ctx, store, "")
	if err != nil {
		return err
	}
	var disks []string
	for i := 1; i <= sandbox.Disks; i++ {
		disk := filepath.Join(d.sb.Dir, fmt.Sprintf("new-disk%d", i))
		if err := os.MkdirAll(disk, 0o750); err != nil {
			return err
		}
		disks = append(disks, disk)
	}
	st, err := cp.Rehydrate(disks, key, nil)
	if err != nil {
		return err
	}
	cfg.Vault.Disks = disks
	a, err := agent.New(agent.Options{Config: cfg, Log: d.log})
	if err != nil {
		return err
	}
	d.a, d.sb.Agent = a, a
	d.step("recovered: vault %s rebuilt from the bucket on %d new disks (%d segments, %s read, %d restore points)",
		cp.VaultID()[:8], len(disks), st.Segments, units.Bytes(st.Bytes), st.Snapshots)
	return nil
}
