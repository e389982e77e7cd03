package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"sync"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// downloadWorkers is how many downloads of one mailbox run at once;
// Exchange allows 4 concurrent requests per mailbox and the governor
// enforces it, so more would only queue.
const downloadWorkers = 4

// messageFields are the message properties a delta query selects: enough
// for the catalog and for telling versions apart.
var messageFields = []string{"id", "changeKey", "lastModifiedDateTime", "subject", "from", "toRecipients",
	"receivedDateTime", "internetMessageId", "parentFolderId", "isDraft"}

// collection is one mail folder, contact folder or calendar being synced.
type collection struct {
	kind       string // kindMail, kindContacts, kindCalendars
	itemKind   string // catalog kind of its members
	recordKind string // catalog kind of the collection itself
	id         string
	name       string
	parentID   string
	path       string // display path, "Inbox/Signed Contracts"
	ext        string // of member items
	// first builds the first request of a full delta enumeration.
	first func(ctx context.Context) (*abstractions.RequestInformation, error)
	// list builds a plain listing, for collections whose delta Graph
	// does not serve; nil when there is none.
	list func(ctx context.Context) (*abstractions.RequestInformation, error)
}

func (c *collection) label() string { return c.kind + "/" + c.path }

// listing is the outcome of enumerating one collection.
type listing struct {
	entries   []entry // by id, the last report of each
	full      bool    // every member is listed (no token, or a resync)
	deltaLink string
}

type backup struct {
	c    *graph.Caller
	sink workloads.Sink
	prev workloads.Previous
	u    workloads.Unit
	o    Options

	mu      sync.Mutex
	res     workloads.Result
	sinkErr error
	// kept holds the item ids of the messages, contacts and events
	// written to the new snapshot.
	kept map[string]bool
	// synced counts collections whose sync got as far as enumerating
	// them (and kinds whose collections could not be listed); notFound
	// counts those that answered 404.
	synced, notFound int
	// byID indexes the previous snapshot's messages of this mailbox by
	// item ID, built on the first message that is new in its folder.
	byIDOnce sync.Once
	byID     map[string]vault.Item
}

// BackupMailbox writes the mailbox of u into sink as of now, carrying
// unchanged items of prev over and downloading only what changed since.
//
// It returns an error wrapping workloads.ErrUnitGone when the user or mailbox no
// longer exists, and any other error when the mailbox could not be
// enumerated at all. Failures of single items or collections are not
// errors: they are counted in Result.Failed and named in Result.Errors,
// and the previous items and delta state of a collection that could not
// be enumerated, a 404 included (deleted since it was listed), are
// carried over. When every collection answered 404 the backup is not a
// success: the user record is read again and an error wrapping
// workloads.ErrUnitGone is returned when it is gone too (the user was deleted
// mid-run), another error otherwise. Result.Written says whether anything
// was written to sink before an error: when it is 0 the agent may carry
// the previous items over itself; otherwise they were already carried
// per collection. An error from sink (the vault) ends the backup and is
// returned wrapping workloads.ErrStore; the snapshot must then be aborted.
func BackupMailbox(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit, o Options) (workloads.Result, error) {
	b := &backup{c: newCaller(g, o.withDefaults().PageSize), sink: sink, prev: workloads.OrEmpty(prev), u: u, o: o.withDefaults(), res: workloads.Result{}, kept: map[string]bool{}}
	res, err := b.run(ctx)
	res.Requests = b.c.Requests()
	return res, err
}

func (b *backup) run(ctx context.Context) (workloads.Result, error) {
	userJSON, err := b.userRecord(ctx)
	if err != nil {
		return b.res, b.fatal("read user", err)
	}
	// The three kinds of collections are listed side by side.
	var folders, contacts, cals []*collection
	var contactsErr, calsErr error
	var lists sync.WaitGroup
	if b.o.IncludeContacts {
		lists.Add(1)
		go func() { defer lists.Done(); contacts, contactsErr = b.contactFolders(ctx) }()
	}
	if b.o.IncludeCalendars {
		lists.Add(1)
		go func() { defer lists.Done(); cals, calsErr = b.calendars(ctx) }()
	}
	folders, err = b.mailFolders(ctx)
	lists.Wait()
	if err != nil {
		return b.res, b.fatal("list mail folders", err)
	}
	// Nothing has been written so far; from here on failures are per
	// collection or item.
	b.put(vault.Item{Path: PathPrefix(b.u.ID) + userRecord, Meta: b.baseMeta(catalog.KindUser, nil)}, userJSON)
	all := folders
	if b.o.IncludeContacts {
		if contactsErr != nil {
			b.carryKind(kindContacts, "list contact folders", contactsErr)
		} else {
			all = append(all, contacts...)
		}
	}
	if b.o.IncludeCalendars {
		if calsErr != nil {
			b.carryKind(kindCalendars, "list calendars", calsErr)
		} else {
			all = append(all, cals...)
		}
	}
	b.syncAll(ctx, all)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.res.RemovedItems = b.removedItems()
	if b.sinkErr != nil {
		return b.res, fmt.Errorf("back up mailbox %s: %w: %w", b.u.Name, workloads.ErrStore, b.sinkErr)
	}
	if err := ctx.Err(); err != nil {
		return b.res, fmt.Errorf("back up mailbox %s: %w", b.u.Name, err)
	}
	if b.synced > 0 && b.notFound == b.synced {
		// Not one collection could be read: the mailbox or the user went
		// away during the run. What was there is carried over, but this
		// is no backup of the mailbox.
		b.mu.Unlock()
		_, err := b.userRecord(ctx)
		b.mu.Lock()
		if err != nil {
			return b.res, b.fatal("read user again after every collection answered 404", err)
		}
		return b.res, fmt.Errorf("back up mailbox %s: every collection answered 404 (not found) although the user exists; the previous items were kept", b.u.Name)
	}
	return b.res, nil
}

// folderWorkers is how many collections of one mailbox sync at once. A
// folder's delta pages come one after another, so syncing folders side by
// side is what lets a mailbox use the 4 concurrent requests Exchange
// allows (the governor enforces that limit).
const folderWorkers = 4

// syncAll syncs collections, folderWorkers at a time.
func (b *backup) syncAll(ctx context.Context, cs []*collection) {
	sem := make(chan struct{}, folderWorkers)
	var wg sync.WaitGroup
	for _, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func(c *collection) {
			defer func() { <-sem; wg.Done() }()
			b.sync(ctx, c)
		}(c)
	}
	wg.Wait()
}

func (b *backup) fatal(op string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("back up mailbox %s: %s: %w (%s)", b.u.Name, op, workloads.ErrUnitGone, graph.Describe(err))
	}
	return fmt.Errorf("back up mailbox %s: %s: %s", b.u.Name, op, graph.Describe(err))
}

func (b *backup) pageSize(limit int) *int32 {
	n := int32(min(b.o.PageSize, limit))
	return &n
}

func (b *backup) preferHeaders() *abstractions.RequestHeaders {
	h := abstractions.NewRequestHeaders()
	b.c.AddPrefer(h)
	return h
}

func (b *backup) userRecord(ctx context.Context) ([]byte, error) {
	ri, err := b.c.G.SDK.Users().ByUserId(b.u.ID).ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{
			"id", "userPrincipalName", "displayName", "mail", "accountEnabled", "assignedLicenses",
			"givenName", "surname", "jobTitle", "department", "officeLocation", "preferredLanguage", "usageLocation", "userType"}},
	})
	if err != nil {
		return nil, err
	}
	return b.c.Send(ctx, ri)
}

// mailFolders lists every mail folder, hidden ones included, depth first.
// Folders without children cost no childFolders request.
func (b *backup) mailFolders(ctx context.Context) ([]*collection, error) {
	hidden := "true"
	mb := b.c.G.SDK.Users().ByUserId(b.u.ID).MailFolders()
	ri, err := mb.ToGetRequestInformation(ctx, &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailFoldersRequestBuilderGetQueryParameters{IncludeHiddenFolders: &hidden, Top: b.pageSize(999)},
	})
	if err != nil {
		return nil, err
	}
	// The tree is walked level by level with the child listings of
	// sibling folders fetched side by side (the governor keeps the mailbox
	// at 4 requests in flight); the result keeps the tree's order.
	var walk func(ri *abstractions.RequestInformation, parentPath string) ([]*collection, error)
	walk = func(ri *abstractions.RequestInformation, parentPath string) ([]*collection, error) {
		type folder struct {
			ID               string `json:"id"`
			DisplayName      string `json:"displayName"`
			ParentFolderID   string `json:"parentFolderId"`
			ChildFolderCount int    `json:"childFolderCount"`
		}
		var level []folder
		if _, err := b.c.Pages(ctx, ri, func(raw json.RawMessage) error {
			var f folder
			if err := json.Unmarshal(raw, &f); err != nil {
				return fmt.Errorf("decode mail folder: %w", err)
			}
			level = append(level, f)
			return nil
		}); err != nil {
			return nil, err
		}
		paths := make([]string, len(level))
		for i, f := range level {
			paths[i] = f.DisplayName
			if parentPath != "" {
				paths[i] = parentPath + "/" + f.DisplayName
			}
		}
		children := func(i int) (*abstractions.RequestInformation, error) {
			if level[i].ChildFolderCount == 0 {
				return nil, nil
			}
			return mb.ByMailFolderId(level[i].ID).ChildFolders().ToGetRequestInformation(ctx, &users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemMailFoldersItemChildFoldersRequestBuilderGetQueryParameters{IncludeHiddenFolders: &hidden, Top: b.pageSize(999)},
			})
		}
		return walkLevel(len(level), children, func(i int, cri *abstractions.RequestInformation) ([]*collection, error) {
			return walk(cri, paths[i])
		}, func(i int) *collection {
			f := level[i]
			return b.mailCollection(f.ID, f.DisplayName, f.ParentFolderID, paths[i])
		})
	}
	return walk(ri, "")
}

// walkLevel walks the children of a level of n folders side by side:
// children gives the request listing folder i's children (nil when it has
// none), walk what is below them. It returns, in the level's order, each
// folder's collection (self) followed by its descendants'.
func walkLevel(n int, children func(i int) (*abstractions.RequestInformation, error),
	walk func(i int, ri *abstractions.RequestInformation) ([]*collection, error), self func(i int) *collection) ([]*collection, error) {
	subs := make([][]*collection, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		ri, err := children(i)
		if err != nil {
			return nil, err
		}
		if ri == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			subs[i], errs[i] = walk(i, ri)
		}()
	}
	wg.Wait()
	var out []*collection
	for i := range n {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, self(i))
		out = append(out, subs[i]...)
	}
	return out, nil
}

func (b *backup) mailCollection(id, name, parentID, p string) *collection {
	return &collection{
		kind: kindMail, itemKind: catalog.KindMessage, recordKind: catalog.KindMailFolder,
		id: id, name: name, parentID: parentID, path: p, ext: ".eml",
		first: func(ctx context.Context) (*abstractions.RequestInformation, error) {
			return b.c.G.SDK.Users().ByUserId(b.u.ID).MailFolders().ByMailFolderId(id).Messages().Delta().ToGetRequestInformation(ctx,
				&users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{
					Headers:         b.preferHeaders(),
					QueryParameters: &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetQueryParameters{Select: messageFields},
				})
		},
	}
}

// contactFolders is the default contacts folder (id "contacts") and every
// contact folder Graph lists, child folders included, depth first.
// Graph gives contact folders no child count, so every folder costs one
// childFolders request; like the mail folders, the tree is walked level
// by level with the child listings of siblings fetched side by side.
func (b *backup) contactFolders(ctx context.Context) ([]*collection, error) {
	ub := b.c.G.SDK.Users().ByUserId(b.u.ID)
	def := &collection{kind: kindContacts, itemKind: catalog.KindContact, recordKind: catalog.KindContactFolder,
		id: "contacts", name: "Contacts", path: "Contacts", ext: ".json",
		first: func(ctx context.Context) (*abstractions.RequestInformation, error) {
			return ub.Contacts().Delta().ToGetRequestInformation(ctx, &users.ItemContactsDeltaRequestBuilderGetRequestConfiguration{Headers: b.preferHeaders()})
		},
	}
	ri, err := ub.ContactFolders().ToGetRequestInformation(ctx, &users.ItemContactFoldersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemContactFoldersRequestBuilderGetQueryParameters{Top: b.pageSize(999)},
	})
	if err != nil {
		return nil, err
	}
	var walk func(ri *abstractions.RequestInformation, parentPath string) ([]*collection, error)
	walk = func(ri *abstractions.RequestInformation, parentPath string) ([]*collection, error) {
		var level []*collection
		if _, err := b.c.Pages(ctx, ri, func(raw json.RawMessage) error {
			var f struct {
				ID, DisplayName, ParentFolderID string
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				return fmt.Errorf("decode contact folder: %w", err)
			}
			level = append(level, b.contactCollection(f.ID, f.DisplayName, f.ParentFolderID, parentPath+"/"+f.DisplayName))
			return nil
		}); err != nil {
			return nil, err
		}
		children := func(i int) (*abstractions.RequestInformation, error) {
			return ub.ContactFolders().ByContactFolderId(level[i].id).ChildFolders().ToGetRequestInformation(ctx, &users.ItemContactFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemContactFoldersItemChildFoldersRequestBuilderGetQueryParameters{Top: b.pageSize(999)},
			})
		}
		return walkLevel(len(level), children, func(i int, cri *abstractions.RequestInformation) ([]*collection, error) {
			return walk(cri, level[i].path)
		}, func(i int) *collection { return level[i] })
	}
	sub, err := walk(ri, def.path)
	if err != nil {
		return nil, err
	}
	return append([]*collection{def}, sub...), nil
}

// contactCollection is the contact folder id, at display path p; its
// contacts come from /contactFolders/{id}/contacts/delta, which Graph
// serves for child folders too.
func (b *backup) contactCollection(id, name, parentID, p string) *collection {
	return &collection{kind: kindContacts, itemKind: catalog.KindContact, recordKind: catalog.KindContactFolder,
		id: id, name: name, parentID: parentID, path: p, ext: ".json",
		first: func(ctx context.Context) (*abstractions.RequestInformation, error) {
			return b.c.G.SDK.Users().ByUserId(b.u.ID).ContactFolders().ByContactFolderId(id).Contacts().Delta().ToGetRequestInformation(ctx,
				&users.ItemContactFoldersItemContactsDeltaRequestBuilderGetRequestConfiguration{Headers: b.preferHeaders()})
		},
	}
}

// calendars lists the calendars; events come from each calendar's delta,
// or from a plain listing where Graph does not serve that delta.
func (b *backup) calendars(ctx context.Context) ([]*collection, error) {
	ub := b.c.G.SDK.Users().ByUserId(b.u.ID)
	ri, err := ub.Calendars().ToGetRequestInformation(ctx, &users.ItemCalendarsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemCalendarsRequestBuilderGetQueryParameters{Top: b.pageSize(999)},
	})
	if err != nil {
		return nil, err
	}
	var out []*collection
	_, err = b.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var f struct{ ID, Name string }
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("decode calendar: %w", err)
		}
		id := f.ID
		cb := ub.Calendars().ByCalendarId(id)
		out = append(out, &collection{kind: kindCalendars, itemKind: catalog.KindEvent, recordKind: catalog.KindCalendar,
			id: id, name: f.Name, path: f.Name, ext: ".json",
			first: func(ctx context.Context) (*abstractions.RequestInformation, error) {
				return cb.Events().Delta().ToGetRequestInformation(ctx, &users.ItemCalendarsItemEventsDeltaRequestBuilderGetRequestConfiguration{Headers: b.preferHeaders()})
			},
			list: func(ctx context.Context) (*abstractions.RequestInformation, error) {
				return cb.Events().ToGetRequestInformation(ctx, &users.ItemCalendarsItemEventsRequestBuilderGetRequestConfiguration{
					QueryParameters: &users.ItemCalendarsItemEventsRequestBuilderGetQueryParameters{Top: b.pageSize(1000)},
				})
			},
		})
		return nil
	})
	return out, err
}

// sync writes one collection: its record, its members (carried over or
// downloaded) and its new delta state.
func (b *backup) sync(ctx context.Context, c *collection) {
	if ctx.Err() != nil || b.stopped() {
		return
	}
	prefix := collectionPrefix(b.u.ID, c.kind, c.id)
	sp := statePath(b.u.ID, c.kind, c.id)
	prevState, hasState := b.prev.Get(sp)
	l, err := b.enumerate(ctx, c, prevState, hasState)
	b.mu.Lock()
	b.synced++
	if err != nil && isNotFound(err) {
		b.notFound++
	}
	b.mu.Unlock()
	if err != nil {
		// Nothing is known about what changed: keep the previous
		// items and state so the next run tries again. A 404 is no
		// exception: the folder (or the whole user) was deleted after
		// it was listed, and the next run, which no longer lists it,
		// records the deletion; dropping it now would turn a failed
		// read into a silent deletion.
		reason := graph.Describe(err)
		if isNotFound(err) {
			reason = "gone since the folders were listed: " + reason
		}
		b.failf("%s: enumerate: %s", c.label(), reason)
		b.putRecord(c)
		_ = b.prev.Each(prefix, func(it vault.Item) error {
			if path.Base(it.Path) != folderRecord {
				b.carry(c, it)
			}
			return nil
		})
		if hasState {
			b.add(prevState)
		}
		return
	}
	b.mu.Lock()
	b.res.Collections++
	b.mu.Unlock()
	b.putRecord(c)

	seen := make(map[string]bool, len(l.entries))
	for _, e := range l.entries {
		seen[e.ID] = true
	}
	// A delta reports only changes: every previous member it does not
	// mention is unchanged. A full listing names every member: previous
	// ones it lacks are gone (counted in removedItems).
	_ = b.prev.Each(prefix, func(it vault.Item) error {
		if path.Base(it.Path) == folderRecord || seen[it.Meta[catalog.MetaItemID]] || l.full {
			return nil
		}
		b.carry(c, it)
		return nil
	})
	var todo []*entry
	for i := range l.entries {
		e := &l.entries[i]
		pit, had := b.prev.Get(prefix + workloads.EscapeID(e.ID) + c.ext)
		switch {
		case e.removed():
		case had && e.sameVersion(pit.Meta):
			b.carry(c, pit)
		case c.kind == kindMail && b.moved(c, prefix, e):
		default:
			todo = append(todo, e)
		}
	}

	failed := b.download(ctx, c, prefix, todo)
	switch {
	case failed > 0 || ctx.Err() != nil:
		// The state must not move past items this snapshot lacks.
		if hasState {
			b.add(prevState)
		}
	case l.deltaLink != "":
		b.put(vault.Item{Path: sp, Meta: b.baseMeta(catalog.KindState, c)}, []byte(l.deltaLink))
	}
}

// enumerate lists a collection: from the previous delta link when there
// is one, in full otherwise or when Graph refuses the link.
func (b *backup) enumerate(ctx context.Context, c *collection, prevState vault.Item, hasState bool) (listing, error) {
	if hasState {
		link, err := b.prev.Read(prevState)
		if err == nil && len(link) > 0 {
			ri, err := b.c.LinkRequest(string(link))
			if err == nil {
				l, err := b.collect(ctx, ri, false)
				if err == nil || !isResync(err) {
					return l, err
				}
			}
		}
		b.mu.Lock()
		b.res.Resynced = append(b.res.Resynced, c.label())
		b.mu.Unlock()
	}
	ri, err := c.first(ctx)
	if err != nil {
		return listing{}, err
	}
	l, err := b.collect(ctx, ri, true)
	if err != nil && c.list != nil && isUnsupported(err) {
		if ri, err = c.list(ctx); err != nil {
			return listing{}, err
		}
		l, err = b.collect(ctx, ri, true)
		l.deltaLink = ""
	}
	return l, err
}

func (b *backup) collect(ctx context.Context, ri *abstractions.RequestInformation, full bool) (listing, error) {
	l := listing{full: full}
	at := map[string]int{}
	link, err := b.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		e, err := parseEntry(raw)
		if err != nil {
			return fmt.Errorf("decode item: %w", err)
		}
		if e.ID == "" {
			return nil
		}
		if i, ok := at[e.ID]; ok {
			l.entries[i] = e
			return nil
		}
		at[e.ID] = len(l.entries)
		l.entries = append(l.entries, e)
		return nil
	})
	l.deltaLink = link
	return l, err
}

// download fetches and stores todo, downloadWorkers at a time, and
// returns how many could not be stored.
func (b *backup) download(ctx context.Context, c *collection, prefix string, todo []*entry) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	sem := make(chan struct{}, downloadWorkers)
	for _, e := range todo {
		if ctx.Err() != nil || b.stopped() {
			mu.Lock()
			failed++
			mu.Unlock()
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(e *entry) {
			defer func() { <-sem; wg.Done() }()
			if !b.store(ctx, c, prefix, e) {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}(e)
	}
	wg.Wait()
	return failed
}

// store downloads one item with retries and puts it. A failed item is
// reported; when the previous snapshot holds an older version, that
// version is kept rather than losing the item.
func (b *backup) store(ctx context.Context, c *collection, prefix string, e *entry) bool {
	p := prefix + workloads.EscapeID(e.ID) + c.ext
	it := vault.Item{Path: p, Meta: itemMeta(b.u, c, e)}
	if t, err := time.Parse(time.RFC3339Nano, e.Modified); err == nil {
		it.ModTime = t.UnixNano()
	}
	var n int64
	var err error
	for attempt := 0; attempt <= b.o.ItemRetries; attempt++ {
		n, err = b.putItem(ctx, c, e, it)
		if err == nil || isNotFound(err) || ctx.Err() != nil || b.stopped() {
			break
		}
	}
	switch {
	case b.stopped():
		// The vault failed: the run ends, nothing more is reported.
		return false
	case isNotFound(err):
		// Deleted (or moved) between listing and download: it is not in
		// this snapshot and is reported as such. It counts as not
		// stored, so the delta state does not move past it and the next
		// run sees what became of it.
		b.mu.Lock()
		b.res.Vanished = append(b.res.Vanished, fmt.Sprintf("%s: item %s", c.label(), e.ID))
		b.mu.Unlock()
		return false
	case err != nil:
		b.failf("%s: item %s: download: %s", c.label(), e.ID, graph.Describe(err))
		if pit, ok := b.prev.Get(p); ok {
			b.carry(c, pit)
		}
		return false
	}
	b.mu.Lock()
	b.res.Items++
	b.res.NewItems++
	b.res.Bytes += n
	b.mu.Unlock()
	return true
}

// putItem downloads an item's content and puts it as it: a message's
// MIME streams from Graph into the vault (a message may be 150 MB and
// is never held whole), a contact or an event is the JSON the listing
// returned (a series master with its exceptions and deleted
// occurrences). It returns the bytes stored.
func (b *backup) putItem(ctx context.Context, c *collection, e *entry, it vault.Item) (int64, error) {
	if c.kind == kindMail {
		return b.putMIME(ctx, e, it)
	}
	content := e.Raw
	if c.kind == kindCalendars && e.Type == "seriesMaster" {
		var err error
		if content, err = b.seriesMaster(ctx, e); err != nil {
			return 0, err
		}
	}
	if !b.put(it, content) {
		return 0, errStopped
	}
	return int64(len(content)), nil
}

// errStopped: the mailbox's writes stopped because the vault failed.
var errStopped = errors.New("the vault failed")

// putMIME streams a message's MIME ($value) into the vault. A body that
// ends short of its Content-Length, fails or is empty is not stored: the
// error is the download's, not the vault's, and the caller may try again.
func (b *backup) putMIME(ctx context.Context, e *entry, it vault.Item) (int64, error) {
	h := http.Header{}
	h.Add("Prefer", immutableIDs)
	b.c.Count()
	body, err := b.c.G.DownloadWith(ctx, "/users/"+url.PathEscape(b.u.ID)+"/messages/"+url.PathEscape(e.ID)+"/$value", h)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	v := &mimeReader{r: body, want: body.Size}
	if !b.write("put", it, func() error {
		_, err := b.sink.Put(it, v)
		if err != nil && v.err != nil {
			return fmt.Errorf("%w: %w", errSource, v.err)
		}
		return err
	}) {
		if v.err != nil {
			return 0, v.err
		}
		return 0, errStopped
	}
	return v.n, nil
}

// errSource marks a write that failed because its content could not be
// read (a download cut short), not because the vault failed.
var errSource = errors.New("the content could not be read")

// mimeReader reads a message's MIME as it streams and fails, instead of
// ending, when it is empty or shorter than want (-1: unknown).
type mimeReader struct {
	r    io.Reader
	want int64
	n    int64
	err  error
}

func (m *mimeReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.r.Read(p)
	m.n += int64(n)
	switch {
	case err == io.EOF && m.want >= 0 && m.n != m.want:
		m.err = fmt.Errorf("truncated MIME: %d of %d bytes", m.n, m.want)
	case err == io.EOF && m.n == 0:
		m.err = errors.New("empty MIME")
	case err != nil && err != io.EOF:
		m.err = err
	}
	if m.err != nil {
		return n, m.err
	}
	return n, err
}

// moved stores a message that is new in collection c but was in another
// folder of this mailbox in the previous snapshot (same immutable ID and
// Internet message ID) by reference to the stored content, without
// downloading it again. A message's MIME does not change when it is moved;
// drafts, whose content may change, are always downloaded.
func (b *backup) moved(c *collection, prefix string, e *entry) bool {
	if e.IsDraft {
		return false
	}
	b.byIDOnce.Do(func() {
		b.byID = map[string]vault.Item{}
		_ = b.prev.Each(PathPrefix(b.u.ID)+kindMail+"/", func(it vault.Item) error {
			if it.Meta[catalog.MetaKind] == catalog.KindMessage && it.Meta[catalog.MetaItemID] != "" {
				b.byID[it.Meta[catalog.MetaItemID]] = it
			}
			return nil
		})
	})
	old, ok := b.byID[e.ID]
	p := prefix + workloads.EscapeID(e.ID) + c.ext
	if !ok || old.Path == p || len(old.Chunks) == 0 || old.Meta[catalog.MetaMessageID] != e.InternetMessageID {
		return false
	}
	it := vault.Item{Path: p, Size: old.Size, Mode: old.Mode, Chunks: old.Chunks, Hash: old.Hash, Meta: itemMeta(b.u, c, e)}
	if t, err := time.Parse(time.RFC3339Nano, e.Modified); err == nil {
		it.ModTime = t.UnixNano()
	}
	if !b.add(it) {
		return false
	}
	b.mu.Lock()
	b.res.Items++
	b.res.MovedItems++
	b.mu.Unlock()
	return true
}

// carryKind keeps every previous item and state of a kind (contacts or
// calendars) when its collections could not even be listed.
func (b *backup) carryKind(kind, op string, err error) {
	b.mu.Lock()
	b.synced++
	if isNotFound(err) {
		b.notFound++
	}
	b.mu.Unlock()
	b.failf("%s: %s: %s", kind, op, graph.Describe(err))
	for _, prefix := range []string{PathPrefix(b.u.ID) + kind + "/", PathPrefix(b.u.ID) + stateDir + "/" + kind + "/"} {
		_ = b.prev.Each(prefix, func(it vault.Item) error {
			if it.Meta[catalog.MetaKind] == catalog.KindContact || it.Meta[catalog.MetaKind] == catalog.KindEvent {
				b.mu.Lock()
				b.res.Items++
				b.res.CarriedItems++
				b.mu.Unlock()
			}
			b.add(it)
			return nil
		})
	}
}

// carry records a previous item again, with the folder path and user
// name as they are now (a folder may have been renamed or moved).
func (b *backup) carry(c *collection, it vault.Item) {
	meta := maps.Clone(it.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[catalog.MetaFolder] = c.path
	meta[catalog.MetaUser] = b.u.Name
	it.Meta = meta
	if b.add(it) {
		b.mu.Lock()
		b.res.Items++
		b.res.CarriedItems++
		b.mu.Unlock()
	}
}

func (b *backup) putRecord(c *collection) {
	rec, _ := json.Marshal(map[string]string{"id": c.id, "displayName": c.name, "parentFolderId": c.parentID, "path": c.path})
	meta := b.baseMeta(c.recordKind, c)
	meta[catalog.MetaName] = c.name
	if c.parentID != "" {
		meta[catalog.MetaParentID] = c.parentID
	}
	b.put(vault.Item{Path: collectionPrefix(b.u.ID, c.kind, c.id) + folderRecord, Meta: meta}, rec)
}

func (b *backup) baseMeta(kind string, c *collection) map[string]string {
	m := map[string]string{
		catalog.MetaKind: kind, catalog.MetaWorkload: "exchange",
		catalog.MetaUserID: b.u.ID, catalog.MetaUser: b.u.Name,
	}
	if c != nil {
		m[catalog.MetaFolderID] = c.id
		m[catalog.MetaFolder] = c.path
	}
	return m
}

func (b *backup) put(it vault.Item, content []byte) bool {
	return b.write("put", it, func() error {
		_, err := b.sink.Put(it, bytes.NewReader(content))
		return err
	})
}

func (b *backup) add(it vault.Item) bool {
	return b.write("add", it, func() error { return b.sink.Add(it) })
}

// write runs one sink call; the first sink error stops the mailbox's
// writes (the agent aborts the run on it).
func (b *backup) write(op string, it vault.Item, fn func() error) bool {
	if b.stopped() {
		return false
	}
	err := fn()
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		if b.sinkErr == nil && !errors.Is(err, errSource) {
			b.sinkErr = fmt.Errorf("%s %s: %w", op, it.Path, err)
		}
		return false
	}
	b.res.Written++
	if isUserItem(it) {
		b.kept[it.Meta[catalog.MetaItemID]] = true
	}
	return true
}

// isUserItem reports a message, contact or event (not a folder record,
// the user record or delta state).
func isUserItem(it vault.Item) bool {
	k := it.Meta[catalog.MetaKind]
	return (k == catalog.KindMessage || k == catalog.KindContact || k == catalog.KindEvent) && it.Meta[catalog.MetaItemID] != ""
}

// removedItems counts the messages, contacts and events of the previous
// snapshot that this one does not hold: deleted in the mailbox since (a
// message moved to another folder is not removed). Call it with b.mu
// held, once every collection is written.
func (b *backup) removedItems() int {
	n := 0
	_ = b.prev.Each(PathPrefix(b.u.ID), func(it vault.Item) error {
		if isUserItem(it) && !b.kept[it.Meta[catalog.MetaItemID]] {
			n++
		}
		return nil
	})
	return n
}

func (b *backup) stopped() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sinkErr != nil
}

func (b *backup) failf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.res.Failed++
	b.res.Errors = append(b.res.Errors, fmt.Sprintf(format, args...))
}
