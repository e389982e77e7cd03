package sharepoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/sharepoint"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// backupSites backs up every site of the tenant into one snapshot and
// returns the sites and the snapshot's items.
func backupSites(t *testing.T, e *workloadtest.Env) ([]workloads.Unit, []vault.Item) {
	t.Helper()
	w := sharepoint.Workload{}
	sites, err := w.Discover(context.Background(), workloads.Tenant{Graph: e.Backup})
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
			if res.Failed != 0 {
				t.Errorf("site %s: %d failed: %v", s.Name, res.Failed, res.Errors)
			}
			sum.Add(res)
		}
		return sum, nil
	})
	return sites, e.Items(&snap)
}

// siteItems are the restorable items of one site: what a restore of the
// whole site (--user SITE, no --kind) selects.
func siteItems(items []vault.Item, siteID string) []vault.Item {
	kinds := sharepoint.Workload{}.Kinds()
	var out []vault.Item
	for _, it := range items {
		for _, k := range kinds {
			if it.Meta[catalog.MetaKind] == k && it.Meta[catalog.MetaUserID] == siteID {
				out = append(out, it)
			}
		}
	}
	return out
}

// TestSitePermissionsBackup checks that a site's permissions are kept
// with the site: every application's permission with its roles (read by
// id, as Graph lists them without), and who has access to each library,
// shown by ls under Permissions; and that a backup app without
// Sites.FullControl.All keeps the rest and says why the applications'
// permissions are missing, failing nothing.
func TestSitePermissionsBackup(t *testing.T) {
	for _, full := range []bool{true, false} {
		cfg := tenantsim.Config{Users: 3, Seed: 4}
		if full {
			cfg.ExtraBackupRoles = []string{"Sites.FullControl.All"}
		}
		e := workloadtest.New(t, cfg)
		sites, items := backupSites(t, e)
		for _, s := range sites {
			truth, err := e.Sim.DumpSite(s.ID)
			if err != nil {
				t.Fatal(err)
			}
			var rec struct {
				App []struct {
					Roles      []string `json:"roles"`
					Identities []struct {
						Application struct{ ID, DisplayName string } `json:"application"`
					} `json:"grantedToIdentitiesV2"`
				} `json:"app"`
				AppSkipped string `json:"app_skipped"`
				Libraries  []struct {
					Name        string            `json:"name"`
					Permissions []json.RawMessage `json:"permissions"`
				} `json:"libraries"`
			}
			var found vault.Item
			for _, it := range items {
				if it.Meta[catalog.MetaKind] == catalog.KindSitePermissions && it.Meta[catalog.MetaUserID] == s.ID {
					found = it
				}
			}
			b, err := e.Read(found)
			if err != nil || json.Unmarshal(b, &rec) != nil {
				t.Fatalf("site %s: no readable permissions record (%v)", s.Name, err)
			}
			if p := catalog.ViewPath(found); !strings.HasSuffix(p, "/Permissions/Site permissions.json") {
				t.Errorf("ls shows the permissions at %q, want them under the site's Permissions", p)
			}
			var got []string
			for _, a := range rec.App {
				got = append(got, a.Identities[0].Application.ID+":"+a.Identities[0].Application.DisplayName+":"+strings.Join(a.Roles, ","))
			}
			sort.Strings(got)
			switch {
			case full && !reflect.DeepEqual(got, truth.AppPermissions):
				t.Errorf("site %s: applications' permissions %q, the tenant has %q", s.Name, got, truth.AppPermissions)
			case !full && (len(got) != 0 || !strings.Contains(rec.AppSkipped, "Sites.FullControl.All")):
				t.Errorf("site %s without Sites.FullControl.All: %q kept, skipped because %q", s.Name, got, rec.AppSkipped)
			}
			for _, l := range rec.Libraries {
				var all []string
				for _, p := range l.Permissions {
					all = append(all, string(p))
				}
				access := strings.Join(all, ",")
				for _, who := range truth.LibraryAccess[l.Name] {
					if !strings.Contains(strings.ToLower(access), strings.Split(who, ":")[0]) {
						t.Errorf("site %s library %s: %s not in the stored access %s", s.Name, l.Name, who, access)
					}
				}
				if !strings.Contains(access, `"siteGroup"`) {
					t.Errorf("site %s library %s: the site's groups are not in %s", s.Name, l.Name, access)
				}
			}
			if len(rec.Libraries) != len(truth.Libraries) {
				t.Errorf("site %s: %d libraries' access kept, the site has %d", s.Name, len(rec.Libraries), len(truth.Libraries))
			}
		}
	}
}

// TestWholeSiteRestore empties a site (every library, list, page and the
// applications' permissions, the delete-site-content scenario), restores
// the whole site from the restore point before in one call with
// --permissions and compares it with the tenant's record from before by
// name: library files byte for byte, people with access to each library,
// lists with their columns and items, pages with their canvas, the
// applications' permissions. A second restore skips everything; replace
// puts back roles changed since; copy adds a second copy beside each.
func TestWholeSiteRestore(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 3, Seed: 4, ExtraBackupRoles: []string{"Sites.FullControl.All"}})
	ctx := context.Background()
	sites, items := backupSites(t, e)
	victim := sites[0]
	before, err := e.Sim.DumpSite(victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Libraries["Documents"]) == 0 || len(before.Lists) == 0 || len(before.Pages) == 0 || len(before.AppPermissions) == 0 || len(before.LibraryAccess["Documents"]) == 0 {
		t.Fatalf("the site lacks content to test with: %+v", before)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-site-content", Site: victim.ID}); err != nil {
		t.Fatal(err)
	}
	if gone, _ := e.Sim.DumpSite(victim.ID); len(gone.Libraries)+len(gone.Lists)+len(gone.Pages)+len(gone.AppPermissions) != 0 {
		t.Fatalf("the scenario left %+v", gone)
	}
	sel := siteItems(items, victim.ID)
	w := sharepoint.Workload{}
	res, err := w.Restore(ctx, e.Restore, e.V, sel, workloads.RestoreOptions{Permissions: true})
	if err != nil || res.Failed != 0 || res.Restored == 0 {
		t.Fatalf("restore of the whole site: %v %+v", err, res)
	}
	compareSites(t, "after the restore", e, victim.ID, before)

	res, err = w.Restore(ctx, e.Restore, e.V, sel, workloads.RestoreOptions{Permissions: true, Collision: workloads.CollisionSkip})
	if err != nil || res.Failed != 0 || res.Restored != 0 || res.Skipped == 0 {
		t.Fatalf("a second restore with skip: %v %+v, want everything skipped", err, res)
	}
	compareSites(t, "after skip", e, victim.ID, before)

	// An application's roles changed since: replace puts them back.
	c := &graph.Caller{G: e.Restore}
	var list struct {
		Value []struct{ ID string } `json:"value"`
	}
	body, err := c.Get(ctx, "/sites/"+url.PathEscape(victim.ID)+"/permissions", nil)
	if err != nil || json.Unmarshal(body, &list) != nil || len(list.Value) == 0 {
		t.Fatalf("list the site's permissions: %v", err)
	}
	if _, err := c.WriteJSON(ctx, abstractions.PATCH, "/sites/"+url.PathEscape(victim.ID)+"/permissions/"+url.PathEscape(list.Value[0].ID), map[string]any{"roles": []string{"fullcontrol"}}); err != nil {
		t.Fatal(err)
	}
	res, err = w.Restore(ctx, e.Restore, e.V, sel, workloads.RestoreOptions{Permissions: true, Collision: workloads.CollisionReplace})
	if err != nil || res.Failed != 0 || res.Replaced == 0 {
		t.Fatalf("restore with replace: %v %+v", err, res)
	}
	compareSites(t, "after replace", e, victim.ID, before)

	res, err = w.Restore(ctx, e.Restore, e.V, sel, workloads.RestoreOptions{Collision: workloads.CollisionCopy})
	if err != nil || res.Failed != 0 {
		t.Fatalf("restore with copy: %v %+v", err, res)
	}
	after, _ := e.Sim.DumpSite(victim.ID)
	if len(after.Libraries["Documents"]) != 2*len(before.Libraries["Documents"]) || len(after.Pages) != 2*len(before.Pages) || len(after.Lists[0].Items) != 2*len(before.Lists[0].Items) {
		t.Errorf("copy: %d files, %d pages, %d list items; want twice the %d, %d, %d", len(after.Libraries["Documents"]), len(after.Pages), len(after.Lists[0].Items),
			len(before.Libraries["Documents"]), len(before.Pages), len(before.Lists[0].Items))
	}
	if !reflect.DeepEqual(after.AppPermissions, before.AppPermissions) {
		t.Errorf("copy without --permissions changed the applications' permissions: %q", after.AppPermissions)
	}
}

// compareSites compares the site with the record from before by name.
func compareSites(t *testing.T, when string, e *workloadtest.Env, siteID string, want tenantsim.SiteDump) {
	t.Helper()
	got, err := e.Sim.DumpSite(siteID)
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range want.Libraries {
		if !equalFileMaps(got.Libraries[name], files) {
			t.Errorf("%s: library %s holds %d files, not the %d it had", when, name, len(got.Libraries[name]), len(files))
		}
	}
	if !reflect.DeepEqual(got.LibraryAccess, want.LibraryAccess) {
		t.Errorf("%s: access to the libraries %q, want %q", when, got.LibraryAccess, want.LibraryAccess)
	}
	if !reflect.DeepEqual(got.Lists, want.Lists) {
		t.Errorf("%s: lists\n%+v\nwant\n%+v", when, got.Lists, want.Lists)
	}
	if !reflect.DeepEqual(got.Pages, want.Pages) {
		t.Errorf("%s: pages\n%+v\nwant\n%+v", when, got.Pages, want.Pages)
	}
	if !reflect.DeepEqual(got.AppPermissions, want.AppPermissions) {
		t.Errorf("%s: applications' permissions %q, want %q", when, got.AppPermissions, want.AppPermissions)
	}
}

// TestWholeSiteRestoreIntoAnotherSite restores a whole site into another
// site named by its URL, its library files beneath a folder: the other
// site then holds every file of it byte for byte beneath that folder,
// every page and list of it by name (a list's items by title), the
// people with access to its library and its applications' permissions,
// beside what it had.
func TestWholeSiteRestoreIntoAnotherSite(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 3, Seed: 4, ExtraBackupRoles: []string{"Sites.FullControl.All"}})
	sites, items := backupSites(t, e)
	from, into := sites[0], sites[1]
	src, err := e.Sim.DumpSite(from.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sharepoint.Workload{}.Restore(context.Background(), e.Restore, e.V, siteItems(items, from.ID),
		workloads.RestoreOptions{TargetUserID: into.Name, TargetFolder: "Von Finance", Permissions: true})
	if err != nil || res.Failed != 0 || res.Restored == 0 {
		t.Fatalf("restore into another site: %v %+v", err, res)
	}
	got, err := e.Sim.DumpSite(into.ID)
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range src.Libraries["Documents"] {
		if !bytes.Equal(got.Libraries["Documents"]["Von Finance/"+p], b) {
			t.Errorf("Von Finance/%s differs or is missing in %s", p, into.Name)
		}
	}
	pages := map[string]bool{}
	for _, pg := range got.Pages {
		pages[pg.Name] = true
	}
	for _, pg := range src.Pages {
		if !pages[pg.Name] {
			t.Errorf("page %s is not in %s", pg.Name, into.Name)
		}
	}
	for _, l := range src.Lists {
		titles := map[string]bool{}
		for _, gl := range got.Lists {
			for _, it := range gl.Items {
				if gl.DisplayName == l.DisplayName {
					titles[fmt.Sprint(it["Title"])] = true
				}
			}
		}
		for _, it := range l.Items {
			if !titles[fmt.Sprint(it["Title"])] {
				t.Errorf("list %s: item %v is not in %s", l.DisplayName, it["Title"], into.Name)
			}
		}
	}
	for _, want := range [][2][]string{{src.AppPermissions, got.AppPermissions}, {src.LibraryAccess["Documents"], got.LibraryAccess["Documents"]}} {
		for _, p := range want[0] {
			if !slices.Contains(want[1], p) {
				t.Errorf("%s is not granted on %s: %q", p, into.Name, want[1])
			}
		}
	}
}
