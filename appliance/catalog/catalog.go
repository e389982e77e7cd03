package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/strongroom/strongroom/storage/vault"
)

// Entry is what the catalog keeps of one item.
type Entry struct {
	Path string            `json:"path"` // vault item path
	View string            `json:"view"` // display path: user/Mail/Inbox/Subject
	Size int64             `json:"size"`
	Meta map[string]string `json:"meta,omitempty"`
}

// Catalog is an open catalog. Safe for concurrent use.
type Catalog struct {
	db *badger.DB
}

// Open opens or creates the catalog in dir.
func Open(dir string) (*Catalog, error) {
	opts := badger.DefaultOptions(dir).WithLogger(nil).
		WithMemTableSize(8 << 20).WithNumMemtables(2).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(4 << 20).WithBlockCacheSize(16 << 20).WithIndexCacheSize(8 << 20).
		WithValueLogFileSize(32 << 20).WithNumCompactors(2)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w (it is derived data: delete the directory and it is rebuilt from the vault)", dir, err)
	}
	return &Catalog{db: db}, nil
}

// Close closes the catalog.
func (c *Catalog) Close() error { return c.db.Close() }

func itemKey(snap, p string) []byte { return []byte("i/" + snap + "/" + p) }
func doneKey(snap string) []byte    { return []byte("d/" + snap) }

// Indexed reports whether a snapshot is completely in the catalog.
func (c *Catalog) Indexed(snap string) bool {
	err := c.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(doneKey(snap))
		return err
	})
	return err == nil
}

// Add records every item of a snapshot; each yields items in any order.
// The snapshot counts as indexed only after the last item is in.
func (c *Catalog) Add(snap string, each func(fn func(vault.Item) error) error) error {
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	err := each(func(it vault.Item) error {
		e := Entry{Path: it.Path, View: ViewPath(it), Size: it.Size, Meta: it.Meta}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return wb.Set(itemKey(snap, it.Path), b)
	})
	if err != nil {
		return fmt.Errorf("catalog snapshot %s: %w", snap, err)
	}
	if err := wb.Set(doneKey(snap), []byte{1}); err != nil {
		return err
	}
	return wb.Flush()
}

// Snapshots lists the snapshots completely in the catalog.
func (c *Catalog) Snapshots() []string {
	var out []string
	c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("d/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().Key()[2:]))
		}
		return nil
	})
	return out
}

// Drop forgets a snapshot (after the warden expired it).
func (c *Catalog) Drop(snap string) error {
	return c.db.DropPrefix([]byte("i/"+snap+"/"), doneKey(snap))
}

// Each calls fn for every entry of a snapshot in item-path order.
func (c *Catalog) Each(snap string, fn func(Entry) error) error {
	if !c.Indexed(snap) {
		return fmt.Errorf("snapshot %s is not in the catalog yet", snap)
	}
	prefix := []byte("i/" + snap + "/")
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e Entry
			err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) })
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrStop ends an iteration early without an error.
var ErrStop = errors.New("stop")

// Node is one line of a directory-style listing.
type Node struct {
	Name  string `json:"name"`
	View  string `json:"view"`
	Items int    `json:"items"` // items at or below this node
	Bytes int64  `json:"bytes"`
	Leaf  *Entry `json:"item,omitempty"`
}

// List returns the children of a display path (ViewPath form) like ls.
func (c *Catalog) List(snap, dir string) ([]Node, error) {
	dir = strings.Trim(dir, "/")
	nodes := map[string]*Node{}
	var exact *Entry
	err := c.Each(snap, func(e Entry) error {
		if e.Meta[MetaKind] == KindState {
			return nil
		}
		rest := e.View
		if dir != "" {
			if e.View == dir && exact == nil {
				ec := e
				exact = &ec // ls of one item lists that item
			}
			if !strings.HasPrefix(e.View, dir+"/") {
				return nil
			}
			rest = e.View[len(dir)+1:]
		}
		name, below, _ := strings.Cut(rest, "/")
		n := nodes[name]
		if n == nil {
			n = &Node{Name: name, View: path.Join(dir, name)}
			nodes[name] = n
		}
		n.Items++
		n.Bytes += e.Size
		if below == "" {
			ec := e
			n.Leaf = &ec
		}
		return nil
	})
	if err == nil && dir != "" && len(nodes) == 0 {
		if exact != nil {
			return []Node{{Name: path.Base(dir), View: dir, Items: 1, Bytes: exact.Size, Leaf: exact}}, nil
		}
		return nil, fmt.Errorf("%q: %w", dir, ErrNoPath)
	}
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// ErrNoPath is wrapped by List when nothing of the snapshot is at or
// below the path (an unknown user, area or folder).
var ErrNoPath = errors.New("not in this restore point")

// Query selects items for Find. Empty fields match everything; text
// matches are case-insensitive substrings.
type Query struct {
	User    string    `json:"user,omitempty"`    // user principal name or id
	Kind    string    `json:"kind,omitempty"`    // message, contact, event, ...
	Folder  string    `json:"folder,omitempty"`  // display path prefix
	Subject string    `json:"subject,omitempty"` //
	From    string    `json:"from,omitempty"`    //
	After   time.Time `json:"after,omitzero"`    // item date on or after
	Before  time.Time `json:"before,omitzero"`   // item date before
}

// Match reports whether an entry satisfies the query.
func (q Query) Match(e Entry) bool {
	m := e.Meta
	has := func(field, want string) bool {
		return want == "" || strings.Contains(strings.ToLower(m[field]), strings.ToLower(want))
	}
	if m[MetaKind] == KindState || m[MetaKind] == KindUser {
		return false
	}
	if q.User != "" && !strings.EqualFold(m[MetaUser], q.User) && m[MetaUserID] != q.User {
		return false
	}
	if q.Kind != "" && m[MetaKind] != q.Kind {
		return false
	}
	if q.Folder != "" && !strings.HasPrefix(strings.ToLower(m[MetaFolder]), strings.ToLower(strings.Trim(q.Folder, "/"))) {
		return false
	}
	if !has(MetaSubject, q.Subject) || !has(MetaFrom, q.From) {
		return false
	}
	if !q.After.IsZero() || !q.Before.IsZero() {
		t, err := time.Parse(time.RFC3339, m[MetaDate])
		if err != nil || (!q.After.IsZero() && t.Before(q.After)) || (!q.Before.IsZero() && !t.Before(q.Before)) {
			return false
		}
	}
	return true
}

// Find calls fn for every entry of a snapshot that matches q.
func (c *Catalog) Find(snap string, q Query, fn func(Entry) error) error {
	err := c.Each(snap, func(e Entry) error {
		if q.Match(e) {
			return fn(e)
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// ViewPath is the display path of an item: who it belongs to, the kind of
// data, the folder's display path, and a readable leaf name.
//
//	alice@contoso.com/Mail/Inbox/Signed Contracts/Contract 7 [AAMkAD..].eml
func ViewPath(it vault.Item) string {
	m := it.Meta
	user := m[MetaUser]
	if user == "" {
		user = m[MetaUserID]
	}
	if user == "" {
		return it.Path
	}
	clean := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "/", "∕") }
	// A site is named by its URL: its slashes must not make levels.
	user = strings.TrimPrefix(user, "https://")
	user = clean(user)
	var area, leaf string
	switch m[MetaKind] {
	case KindMessage:
		area, leaf = "Mail", clean(m[MetaSubject])+" ["+short(m[MetaItemID])+"].eml"
	case KindMailFolder:
		area, leaf = "Mail", ".folder"
	case KindContact:
		area, leaf = "Contacts", clean(m[MetaSubject])+" ["+short(m[MetaItemID])+"].vcf"
	case KindContactFolder:
		area, leaf = "Contacts", ".folder"
	case KindEvent:
		area, leaf = "Calendar", clean(m[MetaSubject])+" ["+short(m[MetaItemID])+"].ics"
	case KindCalendar:
		area, leaf = "Calendar", ".folder"
	case KindFile:
		area, leaf = driveArea(m), clean(m[MetaName])
	case KindFileVersion:
		area, leaf = driveArea(m), clean(m[MetaName])+".versions/"+clean(m[MetaVersion])
	case KindDriveFolder:
		area, leaf = driveArea(m), ".folder"
	case KindList:
		area, leaf = "Lists", clean(m[MetaName])+".json"
	case KindPage:
		area, leaf = "Pages", clean(m[MetaName])+".json"
	case KindSitePermissions:
		area, leaf = "Permissions", clean(m[MetaName])+".json"
	case KindChannel:
		area, leaf = "Channels", ".channel"
	case KindChannelMessage:
		area, leaf = "Channels", messageLeaf(m)
	case KindHostedContent:
		area, leaf = "Channels", ".hosted/"+short(m[MetaItemID])
	case KindGroupThread:
		area, leaf = "Conversations", clean(m[MetaSubject])+" ["+short(m[MetaItemID])+"].json"
	case KindState, KindUser, KindPermissions, KindSite, KindTeam, KindGroup:
		return path.Join(user, ".state", path.Base(path.Dir(it.Path)), path.Base(it.Path))
	default:
		return path.Join(user, it.Path)
	}
	parts := []string{user, area}
	if f := strings.Trim(m[MetaFolder], "/"); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(append(parts, leaf), "/")
}

// messageLeaf names a channel message by its time, author and first
// words: "2026-03-14T09:30Z Alice Example – Budget frei [1700000000].json".
func messageLeaf(m map[string]string) string {
	t, subject := m[MetaDate], m[MetaSubject]
	if len(t) >= 16 {
		t = t[:16] + "Z"
	}
	name := strings.TrimSpace(t + " " + m[MetaFrom])
	if subject != "" {
		name += " – " + subject
	}
	if m[MetaDeleted] != "" {
		name += " (deleted)"
	}
	return strings.ReplaceAll(name, "/", "∕") + " [" + short(m[MetaItemID]) + "].json"
}

// driveArea is where a drive's files show: a library under its name, a
// user's drive as OneDrive.
func driveArea(m map[string]string) string {
	if l := m[MetaLibrary]; l != "" {
		return "Libraries/" + strings.ReplaceAll(l, "/", "∕")
	}
	return "OneDrive"
}

func short(id string) string {
	if len(id) > 10 {
		return id[len(id)-10:]
	}
	return id
}
