package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestAgentRetentionOnlyGrows guards the retention promise from the
// operator's side: a longer window extends existing locks, a shorter one
// never shortens them, and the configuration keeps the new windows.
func TestAgentRetentionOnlyGrows(t *testing.T) {
	_, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	rep, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	ch, err := a.SetRetention(ctx, 60*day, 10*365*day)
	if err != nil || ch.Extended != 1 {
		t.Fatalf("longer retention: %v, extended %+v; want the one restore point extended", err, ch)
	}
	snaps, _ := a.Snapshots(ctx)
	longer := snaps[0].RetainUntil
	if !longer.After(rep.RetainUntil) {
		t.Fatalf("retain-until %s did not grow past %s", longer, rep.RetainUntil)
	}
	ch, err = a.SetRetention(ctx, 10*day, 365*day)
	if err != nil || ch.Extended != 0 {
		t.Fatalf("shorter retention: %v %+v", err, ch)
	}
	snaps, _ = a.Snapshots(ctx)
	if !snaps[0].RetainUntil.Equal(longer) {
		t.Fatalf("a shorter window changed an existing lock from %s to %s", longer, snaps[0].RetainUntil)
	}
	cfg, err := config.Load(filepath.Join(dir, "strongroom.yaml"))
	if err != nil || cfg.Retention.Rollback.D() != 10*day {
		t.Fatalf("saved configuration: %v %+v", err, cfg.Retention)
	}
	if _, err := a.SetRetention(ctx, 30*day, day); err == nil {
		t.Fatal("audit shorter than rollback was accepted")
	}
	// More than 100 years would be saved, and the configuration would then
	// not load again.
	if _, err := a.SetRetention(ctx, 30*day, 101*365*day); err == nil || !strings.Contains(err.Error(), "more than 100 years") {
		t.Fatalf("audit of 101 years: %v, want a refusal", err)
	}
}

// TestAgentReplaceDisk guards the console's replace-a-disk action: the
// lost disk's shards are rebuilt onto a new directory, which the
// configuration then names, and the vault opens healthy from it.
func TestAgentReplaceDisk(t *testing.T) {
	_, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	cfgPath := filepath.Join(dir, "strongroom.yaml")
	cfg, _ := config.Load(cfgPath)
	lost := cfg.Vault.Disks[1]
	os.RemoveAll(lost)
	b, err := agent.New(agent.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := b.Status(ctx)
	if !st.Vault.Degraded {
		t.Fatal("a vault with a lost disk does not say it is degraded")
	}
	fresh := filepath.Join(dir, "new-disk")
	os.MkdirAll(fresh, 0o755)
	rep, err := b.ReplaceDisk(ctx, lost, fresh)
	if err != nil || !rep.Healthy || rep.Repaired == 0 {
		t.Fatalf("replace disk: %v %+v", err, rep)
	}
	b.Close()
	cfg2, err := config.Load(cfgPath)
	if err != nil || cfg2.Vault.Disks[1] != fresh {
		t.Fatalf("configuration after replace: %v %v", err, cfg2.Vault.Disks)
	}
	c, err := agent.New(agent.Options{Config: cfg2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, _ = c.Status(ctx)
	test, err := c.RestoreTest(ctx, 30)
	if st.Vault.Degraded || err != nil || !test.OK {
		t.Fatalf("after replacement: degraded %v, restore test %v %+v", st.Vault.Degraded, err, test)
	}
}
