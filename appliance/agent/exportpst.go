package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/appliance/export/pst"
	"github.com/strongroom/strongroom/storage/vault"
)

// DefaultPSTSplit is the size at which a PST export starts its next
// file: 20 GiB, the limit Outlook 2003 and 2007 set for a Unicode PST.
const DefaultPSTSplit = 20 << 30

// minPSTSplit keeps a split size from making a file per message.
const minPSTSplit = 1 << 20

// pstKinds are the kinds a PST holds, by the names a selection uses.
func (a *Agent) pstKinds() map[string]string {
	all := a.restoreKinds()
	out := map[string]string{}
	for _, k := range []string{"mail", "contacts", "calendar"} {
		if all[k] != "" {
			out[k] = all[k]
		}
	}
	return out
}

// resolveMailboxes selects the mail, contacts and events of the
// mailboxes named in sel.User (comma-separated; empty: every mailbox in
// the snapshot), narrowed by folder and kind like any selection.
func (a *Agent) resolveMailboxes(sel Selection) (vault.Snapshot, []vault.Item, error) {
	if strings.TrimSpace(sel.Snapshot) == "" {
		return vault.Snapshot{}, nil, ErrNoSnapshot
	}
	kinds := a.pstKinds()
	if sel.Kind != "" && kinds[sel.Kind] == "" {
		return vault.Snapshot{}, nil, fmt.Errorf("format pst holds mail, contacts and calendar, not %s: drop --kind or name one of those", sel.Kind)
	}
	var users []string
	for _, u := range strings.Split(sel.User, ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	snap, err := a.v.Snapshot(sel.Snapshot)
	if err != nil {
		return snap, nil, err
	}
	rest := sel
	rest.User = ""
	found := map[string]bool{}
	var items []vault.Item
	err = a.v.EachItem(snap, func(it vault.Item) error {
		if !rest.match(it, kinds) {
			return nil
		}
		for _, u := range users {
			if strings.EqualFold(it.Meta[catalog.MetaUser], u) || it.Meta[catalog.MetaUserID] == u {
				found[u] = true
				items = append(items, it)
				return nil
			}
		}
		if len(users) == 0 {
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return snap, nil, err
	}
	for _, u := range users {
		if !found[u] {
			return snap, nil, fmt.Errorf("snapshot %s holds no mail, contacts or calendar of %s matching the selection; list its mailboxes with 'strongroom ls %s'", snap.ID, u, snap.ID)
		}
	}
	if len(items) == 0 {
		return snap, nil, fmt.Errorf("snapshot %s holds no mail, contacts or calendar matching %s; browse it with 'strongroom ls %s'", snap.ID, sel.describe(), snap.ID)
	}
	return snap, items, nil
}

// pst writes one PST file per mailbox (more when one passes the split
// size): mail, contacts and calendars in their folders.
func (x *exporter) pst(ctx context.Context, snap vault.Snapshot, items []vault.Item, limit int64) error {
	if limit == 0 {
		limit = DefaultPSTSplit
	}
	if limit < minPSTSplit {
		return fmt.Errorf("PST split size %d bytes is below 1 MiB: give --split-size a larger value such as 20GB", limit)
	}
	byUser := map[string][]vault.Item{}
	for _, it := range items {
		u := it.Meta[catalog.MetaUser]
		if u == "" {
			u = it.Meta[catalog.MetaUserID]
		}
		byUser[u] = append(byUser[u], it)
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		group := byUser[u]
		sort.SliceStable(group, func(i, j int) bool { return group[i].Meta[catalog.MetaFolder] < group[j].Meta[catalog.MetaFolder] })
		out := &pstFile{x: x, user: u, base: safeName(u) + "-" + safeName(shortID(snap.ID)), limit: limit}
		err := out.write(ctx, group)
		if cerr := out.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("PST of %s: %w", u, err)
		}
	}
	return nil
}

// pstFile writes one mailbox's PST parts: base-001.pst, base-002.pst, ...
type pstFile struct {
	x       *exporter
	user    string
	base    string
	limit   int64
	part    int
	f       *os.File
	w       *pst.Writer
	folders map[string]pst.Folder
}

func (o *pstFile) write(ctx context.Context, items []vault.Item) error {
	for _, it := range items {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		data, err := o.x.read(it)
		if err != nil {
			return err
		}
		// Text is stored as UTF-16, so an item can take twice its MIME
		// size.
		if o.w == nil || o.w.Items() > 0 && o.w.SizeWith(2*int64(len(data))+1<<16) > o.limit {
			if err := o.next(); err != nil {
				return err
			}
		}
		if err := o.add(it, data); err != nil {
			return fmt.Errorf("item %s: %w", it.Path, err)
		}
		o.x.count(data)
	}
	return nil
}

// add converts one stored item and writes it into its folder.
func (o *pstFile) add(it vault.Item, data []byte) error {
	folder := it.Meta[catalog.MetaFolder]
	switch it.Meta[catalog.MetaKind] {
	case catalog.KindContact:
		return addConverted(o, data, export.ContactToPST, pst.ContactFolder, folder, "Contacts", o.w.AddContact)
	case catalog.KindEvent:
		return addConverted(o, data, export.EventToPST, pst.CalendarFolder, folder, "Calendar", o.w.AddAppointment)
	}
	m, err := export.MessageToPST(data)
	if err != nil {
		m = export.UnreadableToPST(data, it.Meta[catalog.MetaSubject], itemDate(it), err)
	}
	if m.Sent.IsZero() {
		m.Sent = itemDate(it)
		m.Received = m.Sent
	}
	f, err := o.folder(pst.MailFolder, folder, "Unfiled")
	if err != nil {
		return err
	}
	return o.w.AddMessage(f, m)
}

// addConverted converts data with convert and writes the result with add
// into the folder of kind at path (fallback when empty).
func addConverted[T any](o *pstFile, data []byte, convert func([]byte) (T, error), kind pst.FolderKind, path, fallback string,
	add func(pst.Folder, T) error) error {
	v, err := convert(data)
	if err != nil {
		return err
	}
	f, err := o.folder(kind, path, fallback)
	if err != nil {
		return err
	}
	return add(f, v)
}

// folder returns the PST folder for a display path, creating it and its
// parents in the current part.
func (o *pstFile) folder(kind pst.FolderKind, path, fallback string) (pst.Folder, error) {
	path = strings.Trim(path, "/")
	if path == "" {
		path = fallback
	}
	key := fmt.Sprint(kind) + "|" + path
	if f, ok := o.folders[key]; ok {
		return f, nil
	}
	parent := o.w.Root()
	name := path
	if i := strings.LastIndex(path, "/"); i >= 0 {
		var err error
		if parent, err = o.folder(kind, path[:i], fallback); err != nil {
			return 0, err
		}
		name = path[i+1:]
	}
	f, err := o.w.AddFolder(parent, name, kind)
	if err == nil {
		o.folders[key] = f
	}
	return f, err
}

// next closes the current part and starts the next one.
func (o *pstFile) next() error {
	if err := o.close(); err != nil {
		return err
	}
	o.part++
	rel := fmt.Sprintf("%s-%03d.pst", o.base, o.part)
	f, err := o.x.root.Create(rel)
	if err != nil {
		return err
	}
	name := o.user
	if o.part > 1 {
		name = fmt.Sprintf("%s (%d)", o.user, o.part)
	}
	o.f, o.w, o.folders = f, pst.NewWriter(f, name), map[string]pst.Folder{}
	o.x.rep.Files = append(o.x.rep.Files, filepath.Join(o.x.dest, rel))
	return nil
}

func (o *pstFile) close() error {
	if o.w == nil {
		return nil
	}
	err := o.w.Close()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.w, o.f = nil, nil
	return err
}
