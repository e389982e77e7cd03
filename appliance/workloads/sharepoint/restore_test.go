package sharepoint_test

import (
	"bytes"
	"context"
	"net/url"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/sharepoint"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestRestoreLibrary overwrites every file of a site's library (as
// ransomware would), restores the library from the snapshot before with
// replace and compares it with what it held; then deletes the library,
// restores it (which creates it again), and restores it into the library
// of that name of another site, named by its URL, beneath a folder, and
// compares both.
func TestRestoreLibrary(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 3, Seed: 4})
	ctx := context.Background()
	w := sharepoint.Workload{}
	sites, err := w.Discover(ctx, workloads.Tenant{Graph: e.Backup})
	if err != nil || len(sites) < 2 {
		t.Fatalf("discover: %v, %d sites", err, len(sites))
	}
	_, snap := e.Run(nil, func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error) {
		var sum workloads.Result
		for _, s := range sites {
			res, err := w.Backup(ctx, e.Backup, sink, p, s)
			if err != nil {
				return sum, err
			}
			sum.Add(res)
		}
		return sum, nil
	})

	// The first site with files in Documents is the victim; another site
	// with a Documents library takes the files after the library is gone.
	libs := map[string]string{} // site id → drive id of Documents
	byDrive := map[string][]vault.Item{}
	for _, it := range e.Items(&snap) {
		if it.Meta["kind"] == "file" && it.Meta["library"] == "Documents" {
			libs[it.Meta["user_id"]] = it.Meta["drive_id"]
			byDrive[it.Meta["drive_id"]] = append(byDrive[it.Meta["drive_id"]], it)
		}
	}
	var victim, other workloads.Unit
	for _, s := range sites {
		switch {
		case libs[s.ID] == "":
		case victim.ID == "":
			victim = s
		case other.ID == "":
			other = s
		}
	}
	if other.ID == "" {
		t.Fatalf("fewer than two sites with files in Documents: %v", libs)
	}
	driveID := libs[victim.ID]
	items := byDrive[driveID]
	clean := dumpFiles(t, e, driveID)
	if len(clean) != len(items) {
		t.Fatalf("the library holds %d files, the snapshot %d", len(clean), len(items))
	}

	d, err := e.Sim.DumpDrive(driveID)
	if err != nil {
		t.Fatal(err)
	}
	c := &graph.Caller{G: e.Restore}
	for _, di := range d.Items {
		if !di.Folder {
			junk := bytes.Repeat([]byte("encrypted "), 100)
			if _, err := c.Write(ctx, abstractions.PUT, "/drives/"+url.PathEscape(driveID)+"/items/"+url.PathEscape(di.ID)+"/content", "application/octet-stream", junk); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := w.Restore(ctx, e.Restore, e.V, items, workloads.RestoreOptions{Collision: workloads.CollisionReplace})
	if err != nil || res.Failed != 0 || res.Replaced != len(items) {
		t.Fatalf("restore with replace: %v %+v", err, res)
	}
	now := dumpFiles(t, e, driveID)
	for p, b := range clean {
		if !bytes.Equal(now[p], b) {
			t.Errorf("%s after restore: %d bytes, want the %d before the attack", p, len(now[p]), len(b))
		}
	}
	if len(now) != len(clean) {
		t.Errorf("library holds %d files after restore, %d before", len(now), len(clean))
	}

	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-library", Site: victim.ID, Folder: "Documents"}); err != nil {
		t.Fatal(err)
	}
	// The library is gone: the restore creates it again.
	res, err = w.Restore(ctx, e.Restore, e.V, items, workloads.RestoreOptions{})
	if err != nil || res.Failed != 0 || res.Restored != len(items) {
		t.Fatalf("restore into the deleted library: %v %+v, want every file restored", err, res)
	}
	newID, err := sharepoint.LibraryDrive(ctx, e.Restore, victim.ID, "Documents")
	if err != nil || newID == driveID {
		t.Fatalf("the recreated library: %q (%v), the deleted one was %q", newID, err, driveID)
	}
	if back := dumpFiles(t, e, newID); !equalFileMaps(back, clean) {
		t.Errorf("the recreated library holds %d files, not the %d it had", len(back), len(clean))
	}
	res, err = w.Restore(ctx, e.Restore, e.V, items, workloads.RestoreOptions{TargetUserID: other.Name, TargetFolder: "From " + victim.DisplayName})
	if err != nil || res.Failed != 0 || res.Restored != len(items) {
		t.Fatalf("restore into another site: %v %+v", err, res)
	}
	there := dumpFiles(t, e, libs[other.ID])
	for p, b := range clean {
		if !bytes.Equal(there["From "+victim.DisplayName+"/"+p], b) {
			t.Errorf("%s restored into %s differs", p, other.Name)
		}
	}
}

func dumpFiles(t *testing.T, e *workloadtest.Env, driveID string) map[string][]byte {
	t.Helper()
	d, err := e.Sim.DumpDrive(driveID)
	if err != nil {
		t.Fatal(err)
	}
	return d.Files()
}

func equalFileMaps(x, y map[string][]byte) bool {
	if len(x) != len(y) {
		return false
	}
	for p, b := range x {
		if !bytes.Equal(b, y[p]) {
			return false
		}
	}
	return true
}
