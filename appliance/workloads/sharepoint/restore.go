package sharepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// Kinds implements workloads.Restorer: library files, lists, pages and
// site permissions.
func (Workload) Kinds() map[string]string {
	return map[string]string{"files": catalog.KindFile, "lists": catalog.KindList, "pages": catalog.KindPage, "permissions": catalog.KindSitePermissions}
}

// Restore implements workloads.Restorer: library files with
// RestoreLibraries, lists with RestoreLists, pages with RestorePages, in
// that order, then, only when o.Permissions asks for it, site permissions
// with RestorePermissions (a selection of nothing but them without it is
// refused). Items of a whole site go back in one call.
func (Workload) Restore(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	byKind := map[string][]vault.Item{}
	for _, it := range items {
		byKind[it.Meta[catalog.MetaKind]] = append(byKind[it.Meta[catalog.MetaKind]], it)
	}
	files := append(append(byKind[catalog.KindFile], byKind[catalog.KindFileVersion]...), byKind[catalog.KindPermissions]...)
	steps := []restoreStep{{files, RestoreLibraries}, {byKind[catalog.KindList], RestoreLists}, {byKind[catalog.KindPage], RestorePages}}
	if perms := byKind[catalog.KindSitePermissions]; o.Permissions || len(perms) == len(items) {
		steps = append(steps, restoreStep{perms, RestorePermissions})
	}
	for _, st := range steps {
		if len(st.items) == 0 {
			continue
		}
		r, err := st.run(ctx, g, src, st.items, o)
		addResult(&res, r, "")
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// restoreStep is one kind of a site's items and what restores it.
type restoreStep struct {
	items []vault.Item
	run   func(context.Context, *graph.Client, workloads.Source, []vault.Item, workloads.RestoreOptions) (workloads.RestoreResult, error)
}

// addResult adds r to res, its errors prefixed with prefix.
func addResult(res *workloads.RestoreResult, r workloads.RestoreResult, prefix string) {
	res.Restored += r.Restored
	res.Skipped += r.Skipped
	res.Replaced += r.Replaced
	res.Failed += r.Failed
	res.Bytes += r.Bytes
	for _, e := range r.Errors {
		res.Errors = append(res.Errors, prefix+e)
	}
}

// RestoreLibraries writes library files (of any snapshot) back with g, the
// restore app's client, into the library of the same name of the site
// o.TargetUserID (a site id or URL; "" the site each file came from), with
// the OneDrive engine: beneath o.TargetFolder in their folder structure or
// at their original places, skipping, copying or replacing a file whose
// name is taken. A library the target site lacks (deleted since) is
// created first. Items other than library files are ignored.
func RestoreLibraries(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	c := &graph.Caller{G: g, PageSize: 200}
	// Group the files by target site and library, in a stable order.
	type key struct{ site, library string }
	groups := map[key][]vault.Item{}
	var keys []key
	for _, it := range items {
		if k := it.Meta[catalog.MetaKind]; k != catalog.KindFile && k != catalog.KindFileVersion && k != catalog.KindPermissions || it.Meta[catalog.MetaLibrary] == "" {
			continue
		}
		k := key{o.TargetUserID, it.Meta[catalog.MetaLibrary]}
		if k.site == "" {
			k.site = it.Meta[catalog.MetaUserID]
		}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], it)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].site != keys[j].site {
			return keys[i].site < keys[j].site
		}
		return keys[i].library < keys[j].library
	})
	sites := map[string]string{}
	for _, k := range keys {
		siteID, ok := sites[k.site]
		if !ok {
			id, err := findSite(ctx, c, k.site)
			if err != nil {
				return res, err
			}
			sites[k.site], siteID = id, id
		}
		driveID, err := findLibrary(ctx, c, siteID, k.library)
		if errors.Is(err, errNoLibrary) {
			driveID, err = createLibrary(ctx, c, siteID, k.library)
		}
		if err != nil {
			res.Failed += len(groups[k])
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		r, err := onedrive.RestoreToDrive(ctx, g, src, groups[k], o, driveID)
		if err != nil {
			return res, fmt.Errorf("library %s: %w", k.library, err)
		}
		addResult(&res, r, k.library+"/")
	}
	return res, nil
}

// LibraryDrive returns the drive id of the document library named library
// (case ignored) of the site named by its id or URL.
func LibraryDrive(ctx context.Context, g *graph.Client, siteName, library string) (string, error) {
	c := &graph.Caller{G: g, PageSize: 200}
	siteID, err := findSite(ctx, c, siteName)
	if err != nil {
		return "", err
	}
	return findLibrary(ctx, c, siteID, library)
}

// findSite returns the id of the site named by an id or its URL.
func findSite(ctx context.Context, c *graph.Caller, name string) (string, error) {
	if !strings.Contains(name, "://") {
		var s site
		body, err := c.Get(ctx, "/sites/"+url.PathEscape(name), url.Values{"$select": {"id"}})
		if err == nil {
			err = json.Unmarshal(body, &s)
		}
		if err != nil || s.ID == "" {
			return "", fmt.Errorf("open site %s: %s", name, describe(err))
		}
		return s.ID, nil
	}
	units, err := Workload{}.Discover(ctx, workloads.Tenant{Graph: c.G})
	if err != nil {
		return "", fmt.Errorf("find site %s: %s", name, graph.Describe(err))
	}
	for _, u := range units {
		if strings.EqualFold(strings.TrimSuffix(u.Name, "/"), strings.TrimSuffix(name, "/")) {
			return u.ID, nil
		}
	}
	return "", fmt.Errorf("no site has the URL %s", name)
}

// findLibrary returns the drive id of the document library of a site
// named name (case ignored).
func findLibrary(ctx context.Context, c *graph.Caller, siteID, name string) (string, error) {
	ri, err := c.Request("/sites/"+url.PathEscape(siteID)+"/drives", url.Values{"$select": {"id,name"}})
	if err != nil {
		return "", err
	}
	var found string
	_, err = graph.Each(ctx, c, ri, func(l library) error {
		if found == "" && strings.EqualFold(l.Name, name) {
			found = l.ID
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("list the libraries of site %s: %s", siteID, graph.Describe(err))
	}
	if found == "" {
		return "", fmt.Errorf("site %s: %w %q", siteID, errNoLibrary, name)
	}
	return found, nil
}

// errNoLibrary is wrapped when a site has no library of a name.
var errNoLibrary = errors.New("no document library")

// createLibrary makes a document library name in the site and returns
// its drive id.
func createLibrary(ctx context.Context, c *graph.Caller, siteID, name string) (string, error) {
	_, err := c.WriteJSON(ctx, abstractions.POST, "/sites/"+url.PathEscape(siteID)+"/lists",
		map[string]any{"displayName": name, "list": map[string]any{"template": "documentLibrary"}})
	if err != nil {
		return "", fmt.Errorf("create the library %q in site %s: %s (does the restore app have Sites.ReadWrite.All or Sites.Manage.All?)", name, siteID, graph.Describe(err))
	}
	return findLibrary(ctx, c, siteID, name)
}

func describe(err error) string {
	if err == nil {
		return "the answer lacks an id"
	}
	return graph.Describe(err)
}
