package agent_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
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
	// The attacker leaves a note beside the encrypted files.
	note := []byte("your files are encrypted")
	c := &graph.Caller{G: workloadtest.Client(t, sim, sim.RestoreApp())}
	if _, err := c.Write(ctx, abstractions.PUT, "/drives/"+url.PathEscape(clean.DriveID)+"/root:/README-RANSOM.txt:/content", "text/plain", note); err != nil {
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
	if len(dry.Restored) != files || dry.Unchanged != 0 || len(dry.Quarantined) != 1 || dry.Quarantined[0] != "README-RANSOM.txt" {
		t.Fatalf("dry run: %d to restore, %d unchanged, quarantine %v; want all %d files and the note", len(dry.Restored), dry.Unchanged, dry.Quarantined, files)
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
	// The note is kept, moved into the quarantine folder; everything
	// else is as it was before the attack.
	quarantined := rep.QuarantineFolder + "/README-RANSOM.txt"
	got := after.Files()
	if !bytes.Equal(got[quarantined], note) {
		t.Fatalf("the attacker's note is not in %s: %v", rep.QuarantineFolder, rep)
	}
	delete(got, quarantined)
	if !equalFiles(got, clean.Files()) {
		t.Fatal("after the rollback the drive differs from before the attack")
	}
	again, err := a.Rollback(ctx, agent.RollbackRequest{User: victim.UPN, Before: attack, DryRun: true})
	if err != nil || len(again.Restored) != 0 || again.Unchanged != files || len(again.Quarantined) != 1 {
		t.Fatalf("a rollback after the rollback still finds changes: %v %+v", err, again)
	}
	recorded, _ := filepath.Glob(filepath.Join(a.Vault().StateDir(), "rollbacks", "*.json"))
	if len(recorded) != 3 {
		t.Errorf("%d rollback reports recorded, want 3 (dry, real, dry): %v", len(recorded), recorded)
	}
}

// equalDrives compares the current content of every file by path.
func equalDrives(a, b tenantsim.DriveDump) bool { return equalFiles(a.Files(), b.Files()) }

func equalFiles(x, y map[string][]byte) bool {
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
