package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
	"github.com/strongroom/strongroom/storage/warden"
)

// TestAgentHandsVaultToWarden guards that expiry can run while the agent
// daemon keeps the vault open: the warden asks for the vault, the agent
// lets go between jobs, the warden expires what is past its retain-until,
// and the agent takes the vault back and forgets the expired restore points.
func TestAgentHandsVaultToWarden(t *testing.T) {
	_, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := a.SetRetention(ctx, time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // past the one-second retention
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	cfg, err := config.Load(filepath.Join(dir, "strongroom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rk, err := keys.ReadRecoveryKeyFile(cfg.Vault.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warden.Open(warden.Options{Disks: cfg.Vault.Disks, Key: rk, Dir: vault.DefaultWardenDir(cfg.Vault.Disks, cfg.Vault.StateDir, cfg.Vault.WardenDir), HandoverWait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// The agent backed up before any warden ran: its first start has no
	// clock state to go on, and an operator confirms the time once.
	if err := w.Confirm("test"); err != nil {
		t.Fatal(err)
	}
	rep, err := w.Expire()
	if err != nil || len(rep.Snapshots) != 1 {
		t.Fatalf("expire while the agent runs: %+v, %v; want the one expired restore point removed", rep, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		snaps, err := a.Snapshots(ctx)
		if err == nil && len(snaps) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not take the vault back: %v %+v", err, snaps)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, nodes, err := a.List(ctx, "latest", ""); err == nil {
		t.Fatalf("browsing after expiry still finds a restore point: %+v", nodes)
	}
	if vault.HandoverRequested(cfg.Vault.Disks) {
		t.Fatalf("hand-over request left behind: %v", err)
	}
	cancel()
	<-done
}
