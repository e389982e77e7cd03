package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
)

// TestSiteFilesThroughAgent selects a site's files by its URL: the agent
// exports them beneath their library's name, and restores them through
// the SharePoint workload beneath a folder of the same library.
func TestSiteFilesThroughAgent(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c, sites := simSites(t, sim)
	var drives struct {
		Value []simSite `json:"value"`
	}
	for _, s := range sites {
		getJSON(t, c, "/sites/"+url.PathEscape(s.ID)+"/drives", nil, &drives)
		for _, d := range drives.Value {
			lib, err := sim.DumpDrive(d.ID)
			if err != nil || len(lib.Files()) == 0 {
				continue
			}
			sel := agent.Selection{Snapshot: full.Snapshot, User: s.WebURL, Kind: "files", Folder: ""}
			rep, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "tar", Dest: filepath.Join(dir, "site")})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := readTar(t, rep.Files[0])
			for p, b := range lib.Files() {
				if !bytes.Equal(got[d.Name+"/"+p], b) {
					t.Errorf("export: %s/%s differs", d.Name, p)
				}
			}
			res, err := a.Restore(ctx, agent.RestoreRequest{Selection: sel, TargetFolder: "Back"})
			if err != nil || res.Workload != "sharepoint" || res.Failed != 0 || res.Restored != rep.Items {
				t.Fatalf("restore: %v %+v", err, res)
			}
			after, err := sim.DumpDrive(d.ID)
			if err != nil {
				t.Fatal(err)
			}
			now := after.Files()
			for p, b := range lib.Files() {
				if !bytes.Equal(now["Back/"+p], b) {
					t.Errorf("restore: Back/%s differs in %s", p, d.Name)
				}
			}
			return
		}
	}
	t.Fatal("no site library with files")
}

// TestSiteListsThroughAgent selects a site's lists by its URL (--kind
// lists): a list deleted since the backup comes back through the
// SharePoint workload with every item.
func TestSiteListsThroughAgent(t *testing.T) {
	sim, a, _ := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c, sites := simSites(t, sim)
	var lists struct {
		Value []struct{ ID, DisplayName string } `json:"value"`
	}
	getJSON(t, c, "/sites/"+url.PathEscape(sites[0].ID)+"/lists", nil, &lists)
	var items struct {
		Value []json.RawMessage `json:"value"`
	}
	getJSON(t, c, "/sites/"+url.PathEscape(sites[0].ID)+"/lists/"+lists.Value[0].ID+"/items", nil, &items)
	w := &graph.Caller{G: workloadtest.Client(t, sim, sim.RestoreApp())}
	if _, err := w.Write(ctx, abstractions.DELETE, "/sites/"+url.PathEscape(sites[0].ID)+"/lists/"+lists.Value[0].ID, "application/json", nil); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: sites[0].WebURL, Kind: "lists"}})
	if err != nil || rep.Workload != "sharepoint" || rep.Failed != 0 || rep.Restored != len(items.Value) || len(items.Value) == 0 {
		t.Fatalf("restore of the deleted list: %v %+v, want %d items", err, rep, len(items.Value))
	}
	getJSON(t, c, "/sites/"+url.PathEscape(sites[0].ID)+"/lists", nil, &lists)
	if len(lists.Value) != 1 || lists.Value[0].DisplayName == "" {
		t.Fatalf("lists after the restore: %+v", lists.Value)
	}
}
