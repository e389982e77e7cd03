package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/storage/vault"
)

// maxHandover bounds how long the agent stays without its vault while the
// warden expires old restore points.
const maxHandover = 15 * time.Minute

// handOver lets the warden have the vault when it asks (a request file on
// the disks) and nothing is using it: the agent closes the vault, waits for
// the request to go, and opens the vault again. It reports whether it did.
func (a *Agent) handOver(ctx context.Context) (bool, error) {
	if !vault.HandoverRequested(a.cfg.Vault.Disks) {
		return false, nil
	}
	if !a.vmu.TryLock() {
		return false, nil // a job or a request is using the vault; next tick
	}
	defer a.vmu.Unlock()
	a.log.Info("handing the vault to the warden for expiry")
	if err := a.v.Close(); err != nil {
		a.log.Warn("close vault for the warden", "err", err)
	}
	deadline := a.ticks().Add(maxHandover)
	for vault.HandoverRequested(a.cfg.Vault.Disks) && a.ticks().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Second)
	}
	// The agent cannot work without its vault: keep trying to take it
	// back (the warden lets go within its own bound), saying why it fails.
	for {
		rk, err := sealed.ReadRecoveryKey(a.keyFile)
		if err == nil {
			var v *vault.Vault
			v, err = vault.OpenWhenFree(vault.Options{Disks: a.cfg.Vault.Disks, Key: rk, StateDir: a.cfg.Vault.StateDir, WardenDir: a.cfg.Vault.WardenDir}, time.Minute)
			if err == nil {
				a.v = v
				break
			}
		}
		a.log.Error("cannot take the vault back from the warden; retrying", "err", fmt.Errorf("%w", err))
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(10 * time.Second):
		}
	}
	if err := a.dropExpired(); err != nil {
		a.log.Warn("catalog after expiry", "err", err)
	}
	a.log.Info("vault back from the warden")
	return true, nil
}

// dropExpired removes from the catalog the snapshots the warden expired.
func (a *Agent) dropExpired() error {
	snaps, err := a.v.Snapshots()
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, s := range snaps {
		live[s.ID] = true
	}
	for _, id := range a.cat.Snapshots() {
		if !live[id] {
			if err := a.cat.Drop(id); err != nil {
				return err
			}
		}
	}
	return nil
}
