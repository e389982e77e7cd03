package agent_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
)

// TestRollbackSiteLibrary guards the rollback of a SharePoint library
// after ransomware encrypted it: the site named by its URL and the library
// by its name, a dry run that changes nothing, then every file back byte
// for byte as the simulator's ground truth from before the attack has
// it, the attacker's note quarantined in the library, and the other
// site's library left alone.
func TestRollbackSiteLibrary(t *testing.T) {
	sim, a, _ := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	c, sites := simSites(t, sim)
	if len(sites) < 2 {
		t.Fatalf("%d sites, want 2", len(sites))
	}
	libOf := func(s simSite) string {
		var drives struct {
			Value []struct{ ID, Name string } `json:"value"`
		}
		getJSON(t, c, "/sites/"+url.PathEscape(s.ID)+"/drives", nil, &drives)
		for _, d := range drives.Value {
			if d.Name == "Documents" {
				return d.ID
			}
		}
		t.Fatalf("site %s has no Documents library", s.WebURL)
		return ""
	}
	victim, bystander := sites[0], sites[1]
	driveID, otherID := libOf(victim), libOf(bystander)
	otherBefore, err := sim.DumpDrive(otherID)
	if err != nil {
		t.Fatal(err)
	}

	time.Sleep(10 * time.Millisecond)
	attack := time.Now()
	hit, err := sim.Apply(tenantsim.Scenario{Name: "ransomware", Site: victim.ID})
	if err != nil || hit.ItemsModified == 0 {
		t.Fatalf("ransomware on the library: %v %+v", err, hit)
	}
	truth, err := sim.DumpDriveAt(driveID, hit.Before)
	if err != nil {
		t.Fatal(err)
	}
	note := []byte("pay us")
	w := &graph.Caller{G: workloadtest.Client(t, sim, sim.RestoreApp())}
	if _, err := w.Write(ctx, abstractions.PUT, "/drives/"+url.PathEscape(driveID)+"/root:/DECRYPT-FILES.txt:/content", "text/plain", note); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}

	if _, err := a.Rollback(ctx, agent.RollbackRequest{Site: victim.WebURL, Library: "No Such Library", Before: attack}); !errors.Is(err, agent.ErrNoCleanPoint) {
		t.Fatalf("rollback of a library never backed up: %v, want ErrNoCleanPoint", err)
	}
	dry, err := a.Rollback(ctx, agent.RollbackRequest{Site: victim.WebURL, Library: "documents", Before: attack, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	files := len(truth.Files())
	if len(dry.Restored) != files || len(dry.Quarantined) != 1 || dry.Quarantined[0] != "Documents/DECRYPT-FILES.txt" || len(dry.Libraries) != 1 {
		t.Fatalf("dry run: restore %d of %d, quarantine %v, libraries %v", len(dry.Restored), files, dry.Quarantined, dry.Libraries)
	}
	if now, _ := sim.DumpDrive(driveID); equalFiles(now.Files(), truth.Files()) {
		t.Fatal("the attack changed nothing, or the dry run restored files")
	}

	// The whole site: its only library with files is Documents.
	rep, err := a.Rollback(ctx, agent.RollbackRequest{Site: victim.WebURL, Before: attack})
	if err != nil || rep.Failed != 0 || len(rep.Restored) != files || rep.Site != victim.WebURL {
		t.Fatalf("rollback: %v %+v", err, rep)
	}
	after, err := sim.DumpDrive(driveID)
	if err != nil {
		t.Fatal(err)
	}
	got := after.Files()
	moved := rep.QuarantineFolder + "/DECRYPT-FILES.txt"
	if !bytes.Equal(got[moved], note) {
		t.Fatalf("the note is not in %q of the library: %+v", rep.QuarantineFolder, rep)
	}
	delete(got, moved)
	for p, b := range truth.Files() {
		if !bytes.Equal(got[p], b) {
			t.Errorf("%s: %d bytes after the rollback, ground truth has %d", p, len(got[p]), len(b))
		}
	}
	if len(got) != files {
		t.Errorf("library holds %d files besides the note, ground truth %d", len(got), files)
	}
	if otherAfter, _ := sim.DumpDrive(otherID); !equalDrives(otherAfter, otherBefore) {
		t.Error("the rollback changed the other site's library")
	}
}
