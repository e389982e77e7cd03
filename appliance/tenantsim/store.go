package tenantsim

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// itemKind says what a collection holds.
type itemKind int

const (
	kindMessage itemKind = iota
	kindContact
	kindEvent
)

// collection is a container of items with its own change log: a mail
// folder, a contact folder or a calendar. Every mutation of a member gets
// the next tenant-wide sequence number; delta tokens are positions in that
// sequence.
type collection struct {
	id, parentID, name, wellKnown string
	kind                          itemKind
	user                          *user
	children                      []string
	// order holds the current members by the sequence number at which
	// they entered the collection, ascending; a full delta pages through it
	// by that number so that concurrent removals cannot make it skip a
	// member.
	order []member
	// log holds every change to membership or content, ascending by seq.
	log []change
}

type member struct {
	pos uint64
	id  string
}

type change struct {
	seq uint64
	id  string
}

// item is a message, contact or event.
type item struct {
	id       string
	kind     itemKind
	coll     *collection
	msg      *message       // messages only
	props    map[string]any // contacts and events: their Graph JSON without id
	series   *series        // series masters with a changed or cancelled occurrence
	created  time.Time
	modified time.Time
	version  int
}

func (it *item) changeKey() string { return shortHash(it.id, it.version) }

// user is a directory account and, when licensed, its mailbox.
type user struct {
	id, upn, mail                   string
	displayName, givenName, surname string
	jobTitle, department, office    string
	lang                            string
	enabled, licensed, deleted      bool
	// shared marks a shared mailbox: an unlicensed account whose sign-in
	// is blocked but which has a mailbox, as Exchange Online creates them.
	shared    bool
	deletedAt time.Time
	colls     map[string]*collection
	wellKnown map[string]*collection
	items     map[string]*item
	mailRoot  *collection
	// folderLog has every mail folder but the root as a member; it backs
	// mailFolders/delta.
	folderLog    *collection
	drive        *drive
	contactsRoot *collection
	calendar     *collection
	// contactFolderIDs and calendarIDs keep listing order stable.
	contactFolderIDs, calendarIDs []string
}

// hasMailbox says whether u has an Exchange mailbox: licensed users and
// shared mailboxes do, unless deleted.
func (u *user) hasMailbox() bool { return (u.licensed || u.shared) && !u.deleted }

// folderPath names a mail folder by its display names from the top,
// separated by "/", e.g. "Inbox/Signed Contracts/2025".
func (u *user) folderPath(c *collection) string {
	var parts []string
	for c != nil && c != u.mailRoot && c != u.contactsRoot {
		parts = append(parts, c.name)
		c = u.colls[c.parentID]
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

// collection resolves an id or well-known name ("inbox") of kind k.
func (u *user) collection(id string, k itemKind) *collection {
	c := u.colls[id]
	if c == nil {
		c = u.wellKnown[strings.ToLower(id)]
	}
	if c == nil || c.kind != k {
		return nil
	}
	return c
}

// The mutators below require the Sim's write lock.

func (s *Sim) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// logAdd makes id a member of c and logs the change.
func (s *Sim) logAdd(c *collection, id string) {
	seq := s.nextSeq()
	c.order = append(c.order, member{pos: seq, id: id})
	c.log = append(c.log, change{seq: seq, id: id})
}

// logRemove drops id from c's members and logs the change.
func (s *Sim) logRemove(c *collection, id string) {
	seq := s.nextSeq()
	if i := slices.IndexFunc(c.order, func(m member) bool { return m.id == id }); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.log = append(c.log, change{seq: seq, id: id})
}

// logTouch logs a change to a member that stays.
func (s *Sim) logTouch(c *collection, id string) {
	c.log = append(c.log, change{seq: s.nextSeq(), id: id})
}

func (s *Sim) addItem(c *collection, it *item) {
	if it.msg != nil && it.msg.bodyPreview == "" {
		it.msg.bodyPreview = preview(it.msg.body)
	}
	it.coll = c
	c.user.items[it.id] = it
	s.logAdd(c, it.id)
}

func (s *Sim) removeItem(it *item) {
	s.logRemove(it.coll, it.id)
	delete(it.coll.user.items, it.id)
}

func (s *Sim) moveItem(it *item, to *collection) {
	s.removeItem(it)
	it.version++
	s.addItem(to, it)
}

func (s *Sim) addCollection(u *user, c *collection) {
	c.user = u
	u.colls[c.id] = c
	if p := u.colls[c.parentID]; p != nil {
		p.children = append(p.children, c.id)
	}
	if c.kind == kindMessage && u.folderLog != nil && c != u.mailRoot {
		s.logAdd(u.folderLog, c.id)
	}
}

// deleteCollection removes c, its subfolders and every item in them. Each
// removed item is logged in its collection so that a delta token taken
// before the deletion cannot be used to miss it (the folder's delta then
// answers 404, as Graph does for a deleted folder).
func (s *Sim) deleteCollection(c *collection) (items int) {
	u := c.user
	for _, child := range slices.Clone(c.children) {
		if cc := u.colls[child]; cc != nil {
			items += s.deleteCollection(cc)
		}
	}
	for _, m := range slices.Clone(c.order) {
		if it := u.items[m.id]; it != nil {
			s.removeItem(it)
			items++
		}
	}
	delete(u.colls, c.id)
	if c.kind == kindMessage && u.folderLog != nil {
		s.logRemove(u.folderLog, c.id)
	}
	if p := u.colls[c.parentID]; p != nil {
		p.children = slices.DeleteFunc(p.children, func(id string) bool { return id == c.id })
	}
	return items
}

// fullPage returns up to limit members that entered at or before snapshot
// and after position after, and the position to continue from.
func (c *collection) fullPage(after, snapshot uint64, limit int) (ids []string, next uint64, more bool) {
	i := sort.Search(len(c.order), func(i int) bool { return c.order[i].pos > after })
	for ; i < len(c.order) && c.order[i].pos <= snapshot; i++ {
		if len(ids) == limit {
			return ids, next, true
		}
		ids = append(ids, c.order[i].id)
		next = c.order[i].pos
	}
	return ids, next, false
}

// changesPage returns the distinct items changed in (from, to], up to
// limit of them, and the sequence number to continue from.
func (c *collection) changesPage(from, to uint64, limit int) (ids []string, next uint64, more bool) {
	i := sort.Search(len(c.log), func(i int) bool { return c.log[i].seq > from })
	seen := make(map[string]bool)
	next = from
	for ; i < len(c.log) && c.log[i].seq <= to; i++ {
		id := c.log[i].id
		if !seen[id] {
			if len(ids) == limit {
				return ids, next, true
			}
			seen[id] = true
			ids = append(ids, id)
		}
		next = c.log[i].seq
	}
	return ids, next, false
}
