package onedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"sync"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// node is one folder or file of the drive's tree as the new snapshot will
// hold it.
type node struct {
	id, name, parentID string
	folder, root       bool
	// item is the element Graph listed in this run; nil when the node is
	// carried from the previous snapshot unchanged.
	item *driveItem
	// prev is the previous snapshot's record of the node: a file's
	// content, a folder's record; nil for a node new in this run.
	prev *vault.Item
}

// Target is one drive to back up: where its items go and how they are
// labelled. OneDrive and SharePoint document libraries share this engine.
type Target struct {
	// Prefix is where the drive's items live in the snapshot.
	Prefix string
	// Record is the Graph path of the drive record: "/users/{id}/drive",
	// "/drives/{id}".
	Record string
	// Meta is set on every item (workload, owner or site, library).
	Meta map[string]string
	// Label names the drive in messages: "the drive of alice@contoso.com".
	Label string
}

type backup struct {
	c    *graph.Caller
	sink workloads.Sink
	prev workloads.Previous
	t    Target
	o    Options

	prefix  string
	driveID string
	tree    map[string]*node
	paths   map[string]string // folder id → display path, memoised

	mu  sync.Mutex
	res workloads.Result
	// failed is set when an item could not be backed up: the delta state
	// is then not advanced.
	failed  bool
	sinkErr error
}

// BackupDrive writes the OneDrive of user u into sink as of now, carrying
// unchanged files of prev over and downloading only what changed since.
//
// It returns an error wrapping workloads.ErrUnitGone when the user has no
// drive (or no longer exists), wrapping workloads.ErrStore when the sink
// failed, and another error when the drive could not be enumerated; in
// those cases nothing was written (Result.Written is 0) and the agent
// carries the previous snapshot's drive over. Failures of single files are
// counted in Result.Failed and named in Result.Errors.
func BackupDrive(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit, o Options) (workloads.Result, error) {
	return BackupTarget(ctx, g, sink, prev, userTarget(u), o)
}

// userTarget is the OneDrive of user u.
func userTarget(u workloads.Unit) Target {
	return Target{Prefix: PathPrefix(u.ID), Record: "/users/" + url.PathEscape(u.ID) + "/drive", Label: "the drive of " + u.Name,
		Meta: map[string]string{catalog.MetaWorkload: Name, catalog.MetaUserID: u.ID, catalog.MetaUser: u.Name}}
}

// BackupTarget is BackupDrive for any drive.
func BackupTarget(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, t Target, o Options) (workloads.Result, error) {
	o = o.withDefaults()
	b := &backup{c: &graph.Caller{G: g, PageSize: o.PageSize}, sink: sink, prev: workloads.OrEmpty(prev), t: t, o: o,
		prefix: t.Prefix, tree: map[string]*node{}, paths: map[string]string{}}
	err := b.run(ctx, g)
	return workloads.Finish(t.Label, b.c, &b.res, err, b.sinkErr)
}

func (b *backup) run(ctx context.Context, g *graph.Client) error {
	record, err := b.c.Get(ctx, b.t.Record, nil)
	if err != nil {
		if st, _ := graph.ErrorOf(err); st == 404 {
			return fmt.Errorf("back up %s: %w (no drive: %s)", b.t.Label, workloads.ErrUnitGone, graph.Describe(err))
		}
		return fmt.Errorf("back up %s: read the drive: %s", b.t.Label, graph.Describe(err))
	}
	if b.driveID, err = driveIDOf(record); err != nil {
		return fmt.Errorf("back up %s: %w", b.t.Label, err)
	}
	link, err := b.loadPrevious()
	if err != nil {
		return err
	}
	entries, full, newLink, err := b.enumerate(ctx, link)
	if err != nil {
		return fmt.Errorf("back up %s: enumerate: %s", b.t.Label, graph.Describe(err))
	}
	removed := b.apply(entries, full)
	// Nothing has been written so far; from here on failures are per item.
	b.put(vault.Item{Path: b.prefix + driveRecord, Meta: b.baseMeta(catalog.KindUser)}, record)
	b.res.RemovedItems = removed
	b.writeTree(ctx, g)
	if b.sinkErr != nil {
		return nil
	}
	b.writeState(newLink)
	return nil
}

// loadPrevious rebuilds the drive's tree as the previous snapshot holds it
// and returns its delta link ("" when there is none or the user's drive
// has changed).
func (b *backup) loadPrevious() (string, error) {
	if it, ok := b.prev.Get(b.prefix + driveRecord); ok && it.Meta[MetaDriveID] != b.driveID {
		return "", nil // a new drive: start afresh
	}
	err := b.prev.Each(b.prefix, func(it vault.Item) error {
		m := it.Meta
		var folder bool
		switch m[catalog.MetaKind] {
		case catalog.KindFile:
		case catalog.KindDriveFolder:
			folder = true
		default:
			return nil
		}
		b.tree[m[catalog.MetaItemID]] = &node{id: m[catalog.MetaItemID], name: m[catalog.MetaName], parentID: m[catalog.MetaParentID],
			folder: folder, root: folder && m[catalog.MetaParentID] == "", prev: &it}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read the previous backup of %s: %w", b.t.Label, err)
	}
	st, ok := b.prev.Get(b.prefix + deltaState)
	if !ok {
		return "", nil
	}
	link, err := b.prev.Read(st)
	if err != nil {
		return "", nil // no usable state: a full enumeration
	}
	return string(link), nil
}

// enumerate lists the drive's changes since link, or every item when link
// is "". When Graph refuses the link (410 with resyncChangesApplyDifferences
// or resyncChangesUploadDifferences) the drive is listed again in full,
// from the Location Graph names or else from the top: the listing is then
// compared with the previous snapshot, so only what changed is downloaded.
// full says the listing holds every item of the drive.
func (b *backup) enumerate(ctx context.Context, link string) (map[string]*driveItem, bool, string, error) {
	top, err := b.c.Request("/drives/"+url.PathEscape(b.driveID)+"/root/delta", nil)
	if err != nil {
		return nil, false, "", err
	}
	start, full := top, link == ""
	if !full {
		if start, err = b.c.LinkRequest(link); err != nil {
			return nil, false, "", err
		}
	}
	entries, next, err := b.list(ctx, start)
	if err == nil {
		return entries, full, next, nil
	}
	if st, _ := graph.ErrorOf(err); st != 410 {
		return nil, false, "", err
	}
	_, code := graph.ErrorOf(err)
	b.res.Resynced = append(b.res.Resynced, "drive ("+code+")")
	if loc := graph.ErrorHeader(err, "Location"); loc != "" {
		if top, err = b.c.LinkRequest(loc); err != nil {
			return nil, false, "", err
		}
	}
	entries, next, err = b.list(ctx, top)
	return entries, true, next, err
}

// list follows one enumeration to its end; the last report of an item
// wins.
func (b *backup) list(ctx context.Context, ri *abstractions.RequestInformation) (map[string]*driveItem, string, error) {
	entries := map[string]*driveItem{}
	next, err := b.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var it driveItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("decode a drive item: %w", err)
		}
		if it.ID == "" {
			return errors.New("a drive item without an id")
		}
		it.Raw = raw
		entries[it.ID] = &it
		return nil
	})
	return entries, next, err
}

// apply merges the listed changes into the previous tree (or replaces it
// by a full listing) and drops what is gone, including every node whose
// folder is gone. It returns how many files of the previous snapshot the
// new one no longer holds.
func (b *backup) apply(entries map[string]*driveItem, full bool) int {
	prevFiles := map[string]bool{}
	for id, n := range b.tree {
		if !n.folder {
			prevFiles[id] = true
		}
	}
	if full {
		for id := range b.tree {
			if e, ok := entries[id]; !ok || e.gone() {
				delete(b.tree, id)
			}
		}
	}
	for id, e := range entries {
		if e.gone() {
			delete(b.tree, id)
			continue
		}
		n := b.tree[id]
		if n == nil {
			n = &node{id: id}
			b.tree[id] = n
		}
		n.item, n.name, n.parentID = e, e.Name, e.Parent.ID
		n.root, n.folder = e.isRoot(), !e.isFile()
		if n.root {
			n.parentID = ""
		}
	}
	// Drop orphans: anything whose chain of parents does not reach the
	// root (its folder was deleted with it).
	for id := range b.tree {
		if !b.reachesRoot(id, 0) {
			delete(b.tree, id)
		}
	}
	removed := 0
	for id := range prevFiles {
		if _, ok := b.tree[id]; !ok {
			removed++
		}
	}
	return removed
}

func (b *backup) reachesRoot(id string, depth int) bool {
	n := b.tree[id]
	switch {
	case n == nil || depth > 512:
		return false
	case n.root:
		return true
	}
	return b.reachesRoot(n.parentID, depth+1)
}

// folderPath is the display path of folder id: names from the root down,
// "" for the root.
func (b *backup) folderPath(id string) string {
	if p, ok := b.paths[id]; ok {
		return p
	}
	n := b.tree[id]
	p := ""
	if n != nil && !n.root {
		p = strings.TrimPrefix(b.folderPath(n.parentID)+"/"+n.name, "/")
	}
	b.paths[id] = p
	return p
}

// writeTree records every folder, carries or downloads every file with
// its versions, and records sharing state; downloads run o.Downloads at a
// time.
func (b *backup) writeTree(ctx context.Context, g *graph.Client) {
	for _, n := range b.tree {
		b.folderPath(n.parentID) // fill the memo before workers read it
		if n.folder {
			b.folderPath(n.id)
		}
	}
	work := make(chan *node)
	var wg sync.WaitGroup
	for range b.o.Downloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				b.writeFile(ctx, g, n)
			}
		}()
	}
	for _, n := range b.tree {
		if b.stopped(ctx) {
			break
		}
		if n.folder {
			b.writeFolder(ctx, n)
			continue
		}
		work <- n
	}
	close(work)
	wg.Wait()
}

func (b *backup) stopped(ctx context.Context) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sinkErr != nil || ctx.Err() != nil
}

// baseMeta is the metadata every item of the drive carries.
func (b *backup) baseMeta(kind string) map[string]string {
	m := maps.Clone(b.t.Meta)
	if m == nil {
		m = map[string]string{}
	}
	m[catalog.MetaKind], m[MetaDriveID] = kind, b.driveID
	return m
}

// nodeMeta is the metadata of a folder or file as of this run: from the
// listing when Graph reported it, else the previous record's with its
// place brought up to date.
func (b *backup) nodeMeta(n *node, kind string) map[string]string {
	m := b.baseMeta(kind)
	if n.item == nil && n.prev != nil {
		maps.Copy(m, n.prev.Meta)
	}
	m[catalog.MetaItemID], m[catalog.MetaName], m[catalog.MetaParentID] = n.id, n.name, n.parentID
	m[catalog.MetaFolder] = b.folderPath(n.parentID)
	if n.root {
		m[catalog.MetaFolder], m[catalog.MetaName] = "", "root"
	}
	if it := n.item; it != nil {
		set := func(k, v string) {
			if v != "" {
				m[k] = v
			}
		}
		set(catalog.MetaDate, it.Modified)
		set(MetaCreated, it.Created)
		set(MetaCTag, it.CTag)
		set(MetaETag, it.ETag)
		set(MetaCreatedBy, it.CreatedBy.String())
		set(MetaModifiedBy, it.LastModifiedBy.String())
		if it.File != nil {
			set(MetaMime, it.File.MimeType)
			set(MetaQuickXor, it.File.Hashes.QuickXor)
			set(MetaSHA256, it.File.Hashes.SHA256)
		}
		if it.Shared != nil {
			set(MetaShared, it.Shared.Scope)
		}
	}
	return m
}

func (b *backup) writeFolder(ctx context.Context, n *node) {
	m := b.nodeMeta(n, catalog.KindDriveFolder)
	p := b.prefix + foldersDir + workloads.EscapeID(n.id) + ".json"
	b.mu.Lock()
	b.res.Collections++
	b.mu.Unlock()
	if n.item == nil && n.prev != nil {
		b.add(*n.prev, p, m)
		b.carryPermissions(n)
		return
	}
	b.put(vault.Item{Path: p, Meta: m}, n.item.Raw)
	b.writePermissions(ctx, n, m)
}

// writeState records the new delta link when every item made it, else
// carries the previous one so the next run sees the same changes again.
func (b *backup) writeState(link string) {
	if !b.failed && link != "" {
		b.put(vault.Item{Path: b.prefix + deltaState, Meta: b.baseMeta(catalog.KindState)}, []byte(link))
		return
	}
	if it, ok := b.prev.Get(b.prefix + deltaState); ok {
		b.add(it, it.Path, it.Meta)
	}
}

// put stores small content (records, state) and counts it as written.
func (b *backup) put(it vault.Item, body []byte) {
	if _, err := b.sink.Put(it, strings.NewReader(string(body))); err != nil {
		b.storeFailed(err)
		return
	}
	b.mu.Lock()
	b.res.Written++
	b.mu.Unlock()
}

// add records a previous item again, at path p with metadata m.
func (b *backup) add(it vault.Item, p string, m map[string]string) {
	it.Path, it.Meta = p, m
	if err := b.sink.Add(it); err != nil {
		b.storeFailed(err)
		return
	}
	b.mu.Lock()
	b.res.Written++
	b.mu.Unlock()
}

func (b *backup) storeFailed(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sinkErr == nil {
		b.sinkErr = err
	}
}

// fail counts a failed item; its previous version stays.
func (b *backup) fail(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed = true
	b.res.Failed++
	b.res.Errors = append(b.res.Errors, fmt.Sprintf(format, args...))
}
