package agent_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestRollbackAfterRansomware guards the one-command answer to an
// encrypted OneDrive: after the attack, a rollback to the time before it
// puts every file back byte for byte, and a dry run before it changes
// nothing.
func TestRollbackAfterRansomware(t *testing.T) {
	sim, a, _ := newAgent(t, 3, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	var victim tenantsim.UserInfo
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			victim = u
			break
		}
	}
	clean, err := sim.DumpDrive(victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	attack := time.Now()
	if _, err := sim.Apply(tenantsim.Scenario{Name: "ransomware", User: victim.UPN}); err != nil {
		t.Fatal(err)
	}
	// A backup after the attack: the rollback must skip it.
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rollback(ctx, agent.RollbackRequest{User: victim.UPN, Before: attack.Add(-time.Hour)}); !errors.Is(err, agent.ErrNoCleanPoint) {
		t.Fatalf("rollback to before the first backup: %v, want ErrNoCleanPoint", err)
	}

	dry, err := a.Rollback(ctx, agent.RollbackRequest{User: victim.UPN, Before: attack, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, it := range clean.Items {
		if !it.Folder {
			files++
		}
	}
	if len(dry.Restored) != files || dry.Unchanged != 0 {
		t.Fatalf("dry run: %d to restore, %d unchanged; want all %d files", len(dry.Restored), dry.Unchanged, files)
	}
	if after, _ := sim.DumpDrive(victim.ID); equalDrives(after, clean) {
		t.Fatal("the attack changed nothing, or the dry run restored files")
	}

	rep, err := a.Rollback(ctx, agent.RollbackRequest{User: victim.UPN, Before: attack})
	if err != nil || rep.Failed != 0 {
		t.Fatalf("rollback: %v %+v", err, rep)
	}
	after, err := sim.DumpDrive(victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !equalDrives(after, clean) {
		t.Fatal("after the rollback the drive differs from before the attack")
	}
	again, err := a.Rollback(ctx, agent.RollbackRequest{User: victim.UPN, Before: attack, DryRun: true})
	if err != nil || len(again.Restored) != 0 || again.Unchanged != files {
		t.Fatalf("a rollback after the rollback still finds changes: %v %+v", err, again)
	}
	recorded, _ := filepath.Glob(filepath.Join(a.Vault().StateDir(), "rollbacks", "*.json"))
	if len(recorded) != 3 {
		t.Errorf("%d rollback reports recorded, want 3 (dry, real, dry): %v", len(recorded), recorded)
	}
}

// equalDrives compares the current content of every file by path.
func equalDrives(a, b tenantsim.DriveDump) bool {
	cur := func(d tenantsim.DriveDump) map[string][]byte {
		m := map[string][]byte{}
		for _, it := range d.Items {
			if !it.Folder {
				m[it.Path] = it.Versions[len(it.Versions)-1].Content
			}
		}
		return m
	}
	x, y := cur(a), cur(b)
	if len(x) != len(y) {
		return false
	}
	for p, c := range x {
		if !bytes.Equal(c, y[p]) {
			return false
		}
	}
	return true
}
