package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
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

// TestWholeSiteThroughAgent selects a whole site by its URL (no --kind):
// after the site is emptied, one restore with --permissions brings back
// its libraries, lists, pages and permissions, compared by name with the
// tenant's record from before; its permissions export as JSON and a
// restore of them alone without --permissions is refused.
func TestWholeSiteThroughAgent(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{ExtraBackupRoles: []string{"Sites.FullControl.All"}})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, sites := simSites(t, sim)
	site := sites[0]
	before, err := sim.DumpSite(site.ID)
	if err != nil {
		t.Fatal(err)
	}
	sel := agent.Selection{Snapshot: full.Snapshot, User: site.WebURL}
	_, found, err := a.Find(ctx, full.Snapshot, catalog.Query{User: site.WebURL, Kind: catalog.KindSitePermissions}, 10)
	if err != nil || len(found) != 1 {
		t.Fatalf("find the site's permissions: %v, %d found", err, len(found))
	}
	_, nodes, err := a.List(ctx, full.Snapshot, path.Dir(found[0].View))
	if err != nil || len(nodes) != 1 || nodes[0].Name != "Site permissions.json" {
		t.Fatalf("ls %s: %v %+v", path.Dir(found[0].View), err, nodes)
	}
	rep, err := a.Export(ctx, agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: site.WebURL, Kind: "permissions"}, Format: "json", Dest: filepath.Join(dir, "perms")})
	if err != nil || len(rep.Files) != 1 {
		t.Fatalf("export the site's permissions: %v %+v", err, rep)
	}
	var exported struct {
		App []json.RawMessage `json:"app"`
	}
	if b, err := os.ReadFile(rep.Files[0]); err != nil || json.Unmarshal(b, &exported) != nil || len(exported.App) != len(before.AppPermissions) {
		t.Fatalf("exported permissions: %v, %d applications, the site has %d", err, len(exported.App), len(before.AppPermissions))
	}
	if _, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: site.WebURL, Kind: "permissions"}}); err == nil || !strings.Contains(err.Error(), "--permissions") {
		t.Fatalf("restore of permissions without --permissions: %v, want a refusal naming --permissions", err)
	}
	if _, err := sim.Apply(tenantsim.Scenario{Name: "delete-site-content", Site: site.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Restore(ctx, agent.RestoreRequest{Selection: sel, Permissions: true, AllVersions: true})
	if err != nil || res.Failed != 0 || res.Workload != "sharepoint" {
		t.Fatalf("restore of the whole site: %v %+v", err, res)
	}
	after, err := sim.DumpSite(site.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range before.Libraries {
		if len(after.Libraries[name]) != len(files) {
			t.Errorf("library %s: %d files, had %d", name, len(after.Libraries[name]), len(files))
		}
		for p, b := range files {
			if !bytes.Equal(after.Libraries[name][p], b) {
				t.Errorf("library %s: %s differs", name, p)
			}
		}
	}
	if !reflect.DeepEqual(after.Lists, before.Lists) || !reflect.DeepEqual(after.Pages, before.Pages) {
		t.Errorf("lists or pages differ after the restore:\n%+v\n%+v\nwant\n%+v\n%+v", after.Lists, after.Pages, before.Lists, before.Pages)
	}
	if !reflect.DeepEqual(after.AppPermissions, before.AppPermissions) || !reflect.DeepEqual(after.LibraryAccess, before.LibraryAccess) {
		t.Errorf("permissions after the restore: %q %q, want %q %q", after.AppPermissions, after.LibraryAccess, before.AppPermissions, before.LibraryAccess)
	}
}
