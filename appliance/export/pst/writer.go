package pst

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Node IDs and types of [MS-PST] 2.4.1.
const (
	nidMessageStore = 0x21
	nidNameToIDMap  = 0x61
	nidRootFolder   = 0x122
	nidIPMSubtree   = 0x8022
	nidSearchRoot   = 0x8042
	nidDeletedItems = 0x8062
	nidHierTemplate = 0x60D
	nidContTemplate = 0x60E
	nidAssocTmpl    = 0x60F
	nidAttachTable  = 0x671
	nidRecipTable   = 0x692

	typeFolder     = 0x02
	typeMessage    = 0x04
	typeAttachment = 0x05
	typeHierarchy  = 0x0D
	typeContents   = 0x0E
	typeAssoc      = 0x0F
)

// folder is what the writer keeps of a folder until Close.
type folder struct {
	nid      uint32
	parent   uint32
	name     string
	kind     FolderKind
	children []uint32
	contents []row
	count    int32
	unread   int32
}

// Writer writes one PST file. Add folders and items, then Close.
type Writer struct {
	n       *ndb
	name    string
	uid     [16]byte
	folders map[uint32]*folder
	order   []uint32
	next    uint32 // next NID index for folders and messages
	items   int
	closed  bool
}

// ErrClosed is returned for additions after Close.
var ErrClosed = errors.New("pst: writer closed")

// NewWriter starts a PST file on f, which it writes from offset 0; name
// is the store's display name (Outlook shows it as the root of the tree).
func NewWriter(f interface {
	io.Writer
	io.WriterAt
}, name string) *Writer {
	w := &Writer{n: newNDB(f), name: name, folders: map[uint32]*folder{}, next: 0x404}
	sum := sha256.Sum256([]byte("strongroom pst " + name))
	copy(w.uid[:], sum[:16])
	return w
}

// Root is the folder under which exported folders belong: "Top of
// Personal Folders", the IPM subtree.
func (w *Writer) Root() Folder { return nidIPMSubtree }

func (w *Writer) newNID(typ uint32) uint32 {
	nid := w.next<<5 | typ
	w.next++
	return nid
}

func (w *Writer) addFolder(nid, parent uint32, name string, kind FolderKind) {
	w.folders[nid] = &folder{nid: nid, parent: parent, name: name, kind: kind}
	w.order = append(w.order, nid)
	if p := w.folders[parent]; p != nil && parent != nid {
		p.children = append(p.children, nid)
	}
}

func (w *Writer) start() {
	if len(w.folders) == 0 {
		w.addFolder(nidRootFolder, nidRootFolder, "", MailFolder)
		w.addFolder(nidIPMSubtree, nidRootFolder, "Top of Personal Folders", MailFolder)
		w.addFolder(nidSearchRoot, nidRootFolder, "Search Root", MailFolder)
		w.addFolder(nidDeletedItems, nidIPMSubtree, "Deleted Items", MailFolder)
	}
}

// AddFolder adds a folder named name under parent (Root or a folder
// added before) for items of the given kind. Outlook allows no two
// folders of one name (in any case) under one parent: a folder of that
// name and kind there already is returned (under Root, "Deleted Items" is
// the store's own), one of another kind makes the new one "name (2)".
func (w *Writer) AddFolder(parent Folder, name string, kind FolderKind) (Folder, error) {
	if w.closed {
		return 0, ErrClosed
	}
	w.start()
	p := w.folders[uint32(parent)]
	if p == nil {
		return 0, fmt.Errorf("pst: add folder %q: unknown parent folder %#x", name, uint32(parent))
	}
	unique := name
	for n := 2; ; n++ {
		sibling := w.child(p, unique)
		if sibling == nil {
			break
		}
		if sibling.kind == kind {
			return Folder(sibling.nid), nil
		}
		unique = fmt.Sprintf("%s (%d)", name, n)
	}
	nid := w.newNID(typeFolder)
	w.addFolder(nid, uint32(parent), unique, kind)
	return Folder(nid), nil
}

// child returns p's subfolder of that name, in any case, or nil.
func (w *Writer) child(p *folder, name string) *folder {
	for _, c := range p.children {
		if f := w.folders[c]; strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}

// Items is the number of items added so far.
func (w *Writer) Items() int { return w.items }

// Size estimates the size of the file if it were closed now. See
// SizeWith.
func (w *Writer) Size() int64 { return w.SizeWith(0) }

// SizeWith estimates the size of the file if it were closed after adding
// extra more bytes of blocks: what has been written, the B-trees, folder
// tables and the rest of the last allocation map's span, which Close
// fills (a PST grows by whole AMap spans). The estimate errs on the large
// side, so a caller that splits at a limit stays below it.
func (w *Writer) SizeWith(extra int64) int64 {
	pages := int64(len(w.n.nodes)/15+len(w.n.blocks)/20+8) * 2
	tables := int64(w.items)*600 + int64(len(w.folders))*4*maxBlockData
	used := int64(w.n.pos) + extra + pages*pageSize + tables
	regions := (used - firstAMap + amapSpan - 1) / amapSpan
	return firstAMap + regions*amapSpan
}

// Close writes the folders, the message store, the name-to-ID map, the
// B-trees, the allocation maps and the header. f is not closed.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	w.start()
	for _, nid := range w.order {
		w.writeFolder(w.folders[nid])
	}
	b := &nodeBuilder{n: w.n}
	w.n.node(nidMessageStore, w.n.dataTree(b.propContext(w.storeProps())), w.n.subTree(b.subs), 0)
	b = &nodeBuilder{n: w.n}
	w.n.node(nidNameToIDMap, w.n.dataTree(b.propContext(nameIDMap())), w.n.subTree(b.subs), 0)
	for _, t := range []struct {
		nid  uint32
		cols []uint32
	}{{nidHierTemplate, hierarchyColumns}, {nidContTemplate, contentsColumns}, {nidAssocTmpl, contentsColumns},
		{nidAttachTable, attachmentColumns}, {nidRecipTable, recipientColumns}} {
		w.table(t.nid, t.cols, nil)
	}
	var rgnid [32]uint32
	for i := range rgnid {
		rgnid[i] = max(w.next, 0x400)
	}
	return w.n.finish(rgnid)
}

// table writes a table context node.
func (w *Writer) table(nid uint32, cols []uint32, rows []row) {
	b := &nodeBuilder{n: w.n}
	data := w.n.dataTree(b.tableContext(cols, rows))
	w.n.node(nid, data, w.n.subTree(b.subs), 0)
}

// entryID is a store's EntryID for a node: flags, the store's UID and
// the NID ([MS-PST] 2.4.3.2).
func (w *Writer) entryID(nid uint32) []byte {
	e := make([]byte, 4, 24)
	e = append(e, w.uid[:]...)
	return binary.LittleEndian.AppendUint32(e, nid)
}

func (w *Writer) storeProps() props {
	var ps props
	ps.bin(0x0FF90102, w.uid[:]) // PidTagRecordKey
	ps.str(0x3001001F, w.name)
	ps.long(0x340D0003, 0x00040000|0x00010000|0x00000800|0x00000020|0x00000001) // support mask: Unicode, HTML, RTF, attachments, entry IDs
	ps.long(0x35DF0003, 0x89)                                                   // valid folders: IPM subtree, wastebasket, finder
	ps.bin(0x35E00102, w.entryID(nidIPMSubtree))
	ps.bin(0x35E30102, w.entryID(nidDeletedItems))
	ps.bin(0x35E70102, w.entryID(nidSearchRoot))
	ps.long(0x67FF0003, 0) // no password
	return ps
}

// Columns of the tables.
var (
	hierarchyColumns = []uint32{0x3001001F, 0x36020003, 0x36030003, 0x360A000B, 0x3613001F}
	contentsColumns  = []uint32{0x00170003, 0x001A001F, 0x00360003, 0x0037001F, 0x00390040, 0x0042001F,
		0x0070001F, 0x0C1A001F, 0x0E03001F, 0x0E04001F, 0x0E060040, 0x0E070003, 0x0E080003, 0x0E170003, 0x30080040}
	attachmentColumns = []uint32{0x0E200003, 0x3704001F, 0x37050003, 0x370B0003, 0x3707001F}
	recipientColumns  = []uint32{0x0C150003, 0x0FFE0003, 0x3001001F, 0x3002001F, 0x3003001F, 0x39000003,
		0x39FE001F, 0x5FF6001F}
)

// writeFolder writes a folder's property context and its hierarchy,
// contents and associated contents tables.
func (w *Writer) writeFolder(f *folder) {
	var ps props
	if f.nid == nidRootFolder {
		ps = append(ps, prop{0x3001001F, nil})
	} else {
		ps.str(0x3001001F, f.name)
	}
	ps.long(0x36020003, f.count)
	ps.long(0x36030003, f.unread)
	ps.boolean(0x360A000B, len(f.children) > 0)
	if f.nid != nidRootFolder && f.nid != nidSearchRoot {
		ps.str(0x3613001F, f.kind.class())
	}
	b := &nodeBuilder{n: w.n}
	w.n.node(f.nid, w.n.dataTree(b.propContext(ps)), w.n.subTree(b.subs), f.parent)
	var rows []row
	for _, c := range f.children {
		child := w.folders[c]
		var vals props
		vals.str(0x3001001F, child.name)
		vals.long(0x36020003, child.count)
		vals.long(0x36030003, child.unread)
		vals.boolean(0x360A000B, len(child.children) > 0)
		vals.str(0x3613001F, child.kind.class())
		rows = append(rows, row{id: c, vals: vals})
	}
	base := f.nid &^ 0x1F
	w.table(base|typeHierarchy, hierarchyColumns, rows)
	w.table(base|typeContents, contentsColumns, f.contents)
	w.table(base|typeAssoc, contentsColumns, nil)
	f.contents = nil
}
