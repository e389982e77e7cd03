package agent_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestRestoreEarlierVersion guards --version: every selected file that had
// an earlier version of that id comes back with that version's bytes, and
// files without one are left out.
func TestRestoreEarlierVersion(t *testing.T) {
	sim, a, _ := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	u := sim.Users()[0]
	d, err := sim.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{} // "V1/<path>" -> content of version 1.0
	for _, it := range d.Items {
		if !it.Folder && len(it.Versions) > 1 && it.Versions[0].ID == "1.0" {
			want["V1/"+it.Path] = it.Versions[0].Content
		}
	}
	if len(want) == 0 {
		t.Fatal("the generated drive has no file with an earlier version 1.0")
	}
	rep, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: "latest", User: u.UPN, Kind: "files", Version: "1.0"},
		TargetFolder: "V1"})
	if err != nil || rep.Restored != len(want) || rep.Failed != 0 {
		t.Fatalf("restore of version 1.0: %v %+v; want %d files", err, rep, len(want))
	}
	now, err := sim.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := now.Files()
	for p, b := range want {
		if !bytes.Equal(got[p], b) {
			t.Errorf("%s: %d bytes, want version 1.0's %d", p, len(got[p]), len(b))
		}
	}
}

// TestRestoreAllVersionsThroughAgent guards --all-versions from the
// agent: a folder's files come back beneath another folder each with its
// whole history in order, the report counts the files selected (not
// their versions), and asking for --version too is refused.
func TestRestoreAllVersionsThroughAgent(t *testing.T) {
	sim, a, _ := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	u := sim.Users()[0]
	d, err := sim.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sel := agent.Selection{Snapshot: "latest", User: u.UPN, Kind: "files"}
	if _, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: "latest", User: u.UPN, Kind: "files", Version: "1.0"}, AllVersions: true}); err == nil {
		t.Fatal("--version with --all-versions accepted")
	}
	rep, err := a.Restore(ctx, agent.RestoreRequest{Selection: sel, TargetFolder: "All", AllVersions: true})
	files := len(d.Files())
	if err != nil || rep.Failed != 0 || rep.Selected != files || rep.Restored != files {
		t.Fatalf("restore with all versions: %v %+v, want %d files", err, rep, files)
	}
	now, err := sim.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]tenantsim.DriveItemDump{}
	for _, it := range now.Items {
		byPath[it.Path] = it
	}
	for _, it := range d.Items {
		if it.Folder {
			continue
		}
		back := byPath["All/"+it.Path]
		if len(back.Versions) != len(it.Versions) {
			t.Errorf("All/%s: %d versions, the original %d", it.Path, len(back.Versions), len(it.Versions))
			continue
		}
		for i := range it.Versions {
			if !bytes.Equal(back.Versions[i].Content, it.Versions[i].Content) {
				t.Errorf("All/%s: version %d differs", it.Path, i+1)
			}
		}
	}
}
