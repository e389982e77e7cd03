// Package sharepoint backs up SharePoint sites through Microsoft Graph:
// each site's record, every document library through the same drive
// engine as OneDrive (versions, folders, sharing of shared items), every
// list with its columns and items, and every site page with its canvas
// layout.
//
// Layout of a site in a snapshot (ids escaped with workloads.EscapeID):
//
//	sharepoint/<site>/_site.json                      the site record
//	sharepoint/<site>/drives/<drive>/...              a library, laid out as a OneDrive
//	sharepoint/<site>/lists/<list>.json               {"list": ..., "columns": [...], "items": [...]}
//	sharepoint/<site>/pages/<page>.json               the page with its canvasLayout
//	sharepoint/<site>/permissions.json                {"app": [...], "libraries": [{"id", "name", "permissions"}]} (permissions.go)
//
// Libraries are incremental by drive delta like OneDrive. Lists and pages
// have no delta in Graph: they are read in full each run, and deduplication
// stores an unchanged list or page again at no cost in space.
package sharepoint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// Name is the workload's name: the first element of its paths in a
// snapshot and its metrics label.
const Name = "sharepoint"

// Workload protects every site of the tenant.
type Workload struct {
	// Drive tunes the libraries' backup.
	Drive onedrive.Options
}

// Name implements workloads.Workload.
func (Workload) Name() string { return Name }

// Noun implements workloads.Workload.
func (Workload) Noun() (string, string) { return "site", "sites" }

// site is the part of a Graph site a backup reads.
type site struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	WebURL      string `json:"webUrl"`
}

// Discover lists every site of the tenant (root, team, communication and
// group-connected sites).
func (Workload) Discover(ctx context.Context, t workloads.Tenant) ([]workloads.Unit, error) {
	c := &graph.Caller{G: t.Graph, PageSize: 200}
	ri, err := c.Request("/sites", url.Values{"search": {"*"}, "$select": {"id,name,displayName,webUrl"}})
	if err != nil {
		return nil, err
	}
	var out []workloads.Unit
	_, err = graph.Each(ctx, c, ri, func(s site) error {
		out = append(out, workloads.Unit{ID: s.ID, Name: siteName(s), DisplayName: s.DisplayName})
		return nil
	})
	return out, err
}

// siteName is how operators name a site: its URL, else its name.
func siteName(s site) string {
	if s.WebURL != "" {
		return s.WebURL
	}
	return s.Name
}

// PathPrefix is where a site lives in a snapshot.
func PathPrefix(siteID string) string { return workloads.Prefix(Name, siteID) }

type backup struct {
	c    *graph.Caller
	g    *graph.Client
	sink workloads.Sink
	prev workloads.Previous
	u    workloads.Unit
	o    onedrive.Options

	mu      sync.Mutex
	res     workloads.Result
	sinkErr error
}

// Backup implements workloads.Workload: the site record first (a site
// that answers 404 is gone), then its libraries, lists and pages. A
// library, list or page that fails is counted and the rest goes on; a
// library that fails as a whole has its previous items carried.
func (w Workload) Backup(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit) (workloads.Result, error) {
	b := &backup{c: &graph.Caller{G: g, PageSize: 200}, g: g, sink: sink, prev: workloads.OrEmpty(prev), u: u, o: w.Drive}
	err := b.run(ctx)
	return workloads.Finish("site "+u.Name, b.c, &b.res, err, b.sinkErr)
}

func (b *backup) run(ctx context.Context) error {
	record, err := workloads.ReadRecord(ctx, b.c, "/sites/"+url.PathEscape(b.u.ID), "site "+b.u.Name, graph.Describe)
	if err != nil {
		return err
	}
	b.put(PathPrefix(b.u.ID)+"_site.json", b.meta(catalog.KindSite, b.u.Name), record)
	libs := b.libraries(ctx)
	b.lists(ctx)
	b.pages(ctx)
	b.permissions(ctx, libs)
	return nil
}

func (b *backup) meta(kind, name string) map[string]string {
	return map[string]string{catalog.MetaKind: kind, catalog.MetaWorkload: Name, catalog.MetaUserID: b.u.ID,
		catalog.MetaUser: b.u.Name, catalog.MetaName: name}
}

func (b *backup) put(p string, meta map[string]string, body []byte) {
	if _, err := b.sink.Put(vault.Item{Path: p, Meta: meta}, bytes.NewReader(body)); err != nil {
		b.mu.Lock()
		if b.sinkErr == nil {
			b.sinkErr = err
		}
		b.mu.Unlock()
		return
	}
	b.res.Written++
}

// record stores a list or page of n items: carried when the previous
// snapshot holds the same bytes, put as new otherwise.
func (b *backup) record(p string, meta map[string]string, body []byte, n int) {
	b.res.Items += n
	if it, ok := b.prev.Get(p); ok {
		if old, err := b.prev.Read(it); err == nil && bytes.Equal(old, body) {
			it.Meta = meta
			if err := b.sink.Add(it); err != nil {
				b.sinkErr = err
				return
			}
			b.res.Written++
			b.res.CarriedItems += n
			return
		}
	}
	b.put(p, meta, body)
	b.res.NewItems += n
}

func (b *backup) fail(format string, args ...any) {
	b.res.Failed++
	b.res.Errors = append(b.res.Errors, fmt.Sprintf(format, args...))
}

// library is a site's document library.
type library struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// libraries backs up each document library with the drive engine and
// returns them (none when they cannot be listed).
func (b *backup) libraries(ctx context.Context) []library {
	raws, err := b.c.All(ctx, "/sites/"+url.PathEscape(b.u.ID)+"/drives", url.Values{"$select": {"id,name"}})
	libs := make([]library, len(raws))
	for i, raw := range raws {
		if err == nil {
			err = json.Unmarshal(raw, &libs[i])
		}
	}
	if err != nil {
		b.fail("list the document libraries: %s", graph.Describe(err))
		b.carry(PathPrefix(b.u.ID) + "drives/")
		return nil
	}
	for _, l := range libs {
		prefix := PathPrefix(b.u.ID) + "drives/" + workloads.EscapeID(l.ID) + "/"
		t := onedrive.Target{Prefix: prefix, Record: "/drives/" + url.PathEscape(l.ID), Label: "library " + l.Name + " of " + b.u.Name,
			Meta: map[string]string{catalog.MetaWorkload: Name, catalog.MetaUserID: b.u.ID, catalog.MetaUser: b.u.Name, catalog.MetaLibrary: l.Name}}
		res, err := onedrive.BackupTarget(ctx, b.g, b.sink, b.prev, t, b.o)
		b.res.Add(res)
		b.res.Errors = append(b.res.Errors, res.Errors...)
		b.res.Resynced = append(b.res.Resynced, res.Resynced...)
		b.res.Vanished = append(b.res.Vanished, res.Vanished...)
		if err != nil && b.sinkErr == nil && res.Written == 0 {
			// The engine wrote nothing: keep what the library had.
			b.fail("library %s: %v", l.Name, err)
			b.carry(prefix)
		}
	}
	return libs
}

// carry records the previous snapshot's items under prefix again.
func (b *backup) carry(prefix string) {
	_ = b.prev.Each(prefix, func(it vault.Item) error {
		if err := b.sink.Add(it); err != nil {
			b.sinkErr = err
			return err
		}
		b.res.Written++
		return nil
	})
}

// allOrCarry is all, or, when the listing fails, nothing: the failure is
// counted as what and the previous snapshot's items under dir are kept.
func (b *backup) allOrCarry(ctx context.Context, path string, q url.Values, what, dir string) []json.RawMessage {
	raws, err := b.c.All(ctx, path, q)
	if err != nil {
		b.fail("list %s: %s", what, graph.Describe(err))
		b.carry(PathPrefix(b.u.ID) + dir)
		return nil
	}
	return raws
}

// lists stores each list with its columns and items as one JSON record.
func (b *backup) lists(ctx context.Context) {
	base := "/sites/" + url.PathEscape(b.u.ID) + "/lists"
	for _, raw := range b.allOrCarry(ctx, base, nil, "the lists", "lists/") {
		var l struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
		}
		if json.Unmarshal(raw, &l) != nil || l.ID == "" {
			continue
		}
		rec := map[string]any{"list": raw}
		items, err := b.c.All(ctx, base+"/"+url.PathEscape(l.ID)+"/items", url.Values{"$expand": {"fields"}})
		p := PathPrefix(b.u.ID) + "lists/" + workloads.EscapeID(l.ID) + ".json"
		if err != nil {
			b.fail("list %s: %s", l.DisplayName, graph.Describe(err))
			if it, ok := b.prev.Get(p); ok {
				b.carry(it.Path)
			}
			continue
		}
		rec["items"] = items
		if cols, err := b.c.All(ctx, base+"/"+url.PathEscape(l.ID)+"/columns", nil); err == nil {
			rec["columns"] = cols
		}
		body, _ := json.Marshal(rec)
		name := l.DisplayName
		if name == "" {
			name = l.Name
		}
		m := b.meta(catalog.KindList, name)
		m[catalog.MetaItemID] = l.ID
		b.record(p, m, body, len(items))
		b.res.Collections++
	}
}

// pages stores each site page with its canvas layout; when they cannot
// all be read, the previous snapshot's pages are kept instead.
func (b *backup) pages(ctx context.Context) {
	pages := b.allOrCarry(ctx, "/sites/"+url.PathEscape(b.u.ID)+"/pages/microsoft.graph.sitePage", url.Values{"$expand": {"canvasLayout"}}, "the pages", "pages/")
	for _, raw := range pages {
		var pg struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal(raw, &pg); err != nil || pg.ID == "" {
			b.fail("pages: a page without an id")
			continue
		}
		name := pg.Title
		if name == "" {
			name = pg.Name
		}
		m := b.meta(catalog.KindPage, name)
		m[catalog.MetaItemID] = pg.ID
		b.record(PathPrefix(b.u.ID)+"pages/"+workloads.EscapeID(pg.ID)+".json", m, raw, 1)
	}
}
