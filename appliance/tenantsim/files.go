package tenantsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// drive is a OneDrive or a SharePoint document library. Its items form a
// tree under rootID; log is the drive's change collection: every item,
// the root included, is a member, which backs drive delta.
type drive struct {
	id, name, driveType string
	owner               *user // OneDrive only
	site                *site // document library only
	items               map[string]*driveItem
	rootID              string
	log                 *collection
	deleted             bool
	created             time.Time
}

// driveItem is a folder or a file. A file's versions are oldest first;
// the last one is the current content.
type driveItem struct {
	id, name, parentID string
	folder             bool
	children           []string
	versions           []*fileVersion
	created            time.Time
	shared             bool
	// links are the sharing links made with createLink, oldest first.
	links []*sharingLink
	// grants are the people given access with invite.
	grants []*grant
	// createdBy is who created the item; nil for generated items (see
	// drive.creator).
	createdBy *identity
	// seq is the change sequence number at which the item was added.
	seq uint64
}

func (it *driveItem) current() *fileVersion { return it.versions[len(it.versions)-1] }

// fileVersion is one version of a file. Generated content is a function
// of seed; uploaded content is kept in data.
type fileVersion struct {
	id       string
	size     int
	seed     uint64
	data     []byte
	modified time.Time
	ct       string
	// by is who wrote the version; nil for generated ones (see
	// drive.author).
	by *identity
	// seq is the change sequence number that made the version; 0 for
	// generated versions, which exist from the item's creation.
	seq uint64
	// sparse, when set, is the content, made on demand; dropped marks
	// a large upload whose bytes were not kept (see sparse.go).
	sparse  *sparseContent
	dropped bool

	// The content's hashes, computed once on first use: content never
	// changes once a version exists.
	hashOnce         sync.Once
	sha256, quickXor string
}

// hashes returns the SHA-256 (upper-case hex) and QuickXorHash (base64)
// of the version's content.
func (v *fileVersion) hashes() (sha, qx string) {
	v.hashOnce.Do(func() {
		b := v.content()
		sum := sha256.Sum256(b)
		v.sha256 = strings.ToUpper(hex.EncodeToString(sum[:]))
		v.quickXor = QuickXorHash(b)
	})
	return v.sha256, v.quickXor
}

// content is the version's bytes; nil for a sparse or dropped version,
// which is only ever streamed (reader).
func (v *fileVersion) content() []byte {
	if v.sparse != nil || v.dropped {
		return nil
	}
	if v.data != nil {
		return v.data
	}
	a := attachment{contentType: v.ct, size: v.size, seed: v.seed}
	return a.content()
}

// site is a SharePoint site with document libraries and lists.
type site struct {
	id, name, displayName string
	drives                []*drive
	lists                 []*spList
	group                 *group
	pages                 []*sitePage
	// appGrants are the applications' permissions on the site.
	appGrants []*appGrant
}

type spList struct {
	id, name, displayName string
	items                 []map[string]any // fields, "id" included
	// columns are columnDefinitions, as Graph lists them.
	columns  []map[string]any
	template string // "" is genericList
	created  time.Time
}

// group is a Microsoft 365 group; a team when team is set.
type group struct {
	id, displayName, mail string
	members               []*user
	site                  *site
	channels              []*channel
	conversations         []*conversation
	// team holds what a team adds to its group (nil for a group that is
	// not a team; see isTeam). owners are among members or departed.
	team    *teamInfo
	owners  []*user
	deleted bool
}

type channel struct {
	id, displayName string
	messages        []*chatMessage
	// log has every top-level message as a member; it backs the
	// channel's messages delta.
	log *collection
	// membershipType is standard, private or shared; tabs are pinned
	// apps. migration: created in migration mode and not completed yet.
	membershipType string
	tabs           []*channelTab
	created        time.Time
	migration      bool
}

type chatMessage struct {
	id      string
	from    *user
	body    string
	created time.Time
	replies []*chatMessage
	// hosted are images pasted into the message; its body is then HTML
	// that references them.
	hosted []*hostedContent
	msgExtras
}

var (
	fileStems = []string{"Angebot", "Budget 2025", "Präsentation Q3", "Compte rendu", "Roadmap", "議事録", "Vertrag Müller", "notes", "Inventur", "Design – Entwurf"}
	fileKinds = []struct{ ext, ct string }{{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"}, {"pdf", "application/pdf"}, {"txt", "text/plain"}, {"png", "image/png"}}
)

func driveID(parts ...any) string { return "b!" + itemID("", parts...) }

// newDrive makes an empty drive with its root folder.
func (s *Sim) newDrive(id, name, driveType string, created time.Time) *drive {
	d := &drive{id: id, name: name, driveType: driveType, items: map[string]*driveItem{}, created: created}
	d.log = &collection{id: "drivelog:" + id}
	root := &driveItem{id: itemID("01ROOT", id), name: "root", folder: true, created: created}
	d.rootID = root.id
	d.items[root.id] = root
	s.logAdd(d.log, root.id)
	s.drives[id] = d
	return d
}

func (s *Sim) addDriveItem(d *drive, parent *driveItem, it *driveItem) {
	it.parentID = parent.id
	parent.children = append(parent.children, it.id)
	d.items[it.id] = it
	s.logAdd(d.log, it.id)
	it.seq = s.seq
}

// fillDrive generates folders and files; Office files get several
// versions.
func (s *Sim) fillDrive(d *drive, r *rand.Rand, files int) {
	root := d.items[d.rootID]
	folders := []*driveItem{root}
	for i, name := range []string{"Dokumente", "Projekte – Ω", "Archiv 2024", "Photos"} {
		parent := folders[r.IntN(len(folders))]
		f := &driveItem{id: itemID("01FOLD", d.id, i), name: name, folder: true, created: genEpoch.Add(time.Duration(i) * time.Hour)}
		s.addDriveItem(d, parent, f)
		folders = append(folders, f)
	}
	for i := range files {
		k := fileKinds[r.IntN(len(fileKinds))]
		f := &driveItem{id: itemID("01FILE", d.id, i), name: fmt.Sprintf("%s %d.%s", fileStems[r.IntN(len(fileStems))], i+1, k.ext), created: genEpoch.Add(time.Duration(r.IntN(200*24)) * time.Hour), shared: r.IntN(5) == 0}
		nv := 1
		if strings.Contains(k.ct, "officedocument") {
			nv = 1 + r.IntN(12)
		}
		size := pickSize(r, s.cfg.Profile.LargeAttachmentBytes)
		for v := range nv {
			size = max(100, size+r.IntN(4096)-1024)
			f.versions = append(f.versions, &fileVersion{id: fmt.Sprintf("%d.0", v+1), size: size, seed: seedOf(f.id, v), ct: k.ct, modified: f.created.Add(time.Duration(v) * 26 * time.Hour)})
		}
		s.addDriveItem(d, folders[r.IntN(len(folders))], f)
	}
}

// generateWorkloads makes every licensed user's OneDrive, two sites with a
// library and a list, a Microsoft 365 group per site and a team with
// channels on the first.
func (s *Sim) generateWorkloads() {
	for i, u := range s.users {
		if !u.licensed {
			continue
		}
		r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), 20_000+uint64(i)))
		d := s.newDrive(driveID(s.cfg.Seed, "onedrive", u.id), "OneDrive", "business", genEpoch)
		d.owner = u
		u.drive = d
		s.fillDrive(d, r, s.cfg.Profile.FilesPerUser)
	}
	var live []*user
	for _, u := range s.users {
		if u.licensed && !u.deleted {
			live = append(live, u)
		}
	}
	for i, name := range []string{"Finance – Ünited", "Projekte"} {
		r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), 30_000+uint64(i)))
		st := &site{id: fmt.Sprintf("%s.sharepoint.com,%s,%s", strings.TrimSuffix(tenantDomain, ".onmicrosoft.com"), guid(s.cfg.Seed, "site", i), guid(s.cfg.Seed, "web", i)), name: []string{"finance", "projekte"}[i], displayName: name}
		lib := s.newDrive(driveID(s.cfg.Seed, "library", i), "Documents", "documentLibrary", genEpoch)
		lib.site = st
		s.fillDrive(lib, r, s.cfg.Profile.FilesPerUser)
		st.drives = append(st.drives, lib)
		l := &spList{id: guid(s.cfg.Seed, "list", i), name: "Vertragsregister", displayName: "Vertragsregister – Contracts", columns: genericColumns(), created: genEpoch}
		for n := range 8 {
			l.items = append(l.items, map[string]any{"id": fmt.Sprint(n + 1), "Title": fmt.Sprintf("Vertrag %d – %s", n+1, surnames[r.IntN(len(surnames))]), "Amount": 1000 * (1 + r.IntN(90)), "Status": []string{"Entwurf", "Signed", "Expired"}[r.IntN(3)]})
		}
		st.lists = append(st.lists, l)
		g := &group{id: guid(s.cfg.Seed, "group", i), displayName: name, mail: st.name + "@" + tenantDomain, site: st}
		for j, u := range live {
			if (j+i)%2 == 0 {
				g.members = append(g.members, u)
			}
		}
		st.group = g
		if i == 0 && len(g.members) > 0 {
			for c, cname := range []string{"General", "Projekt Ω – Planung"} {
				ch := &channel{id: fmt.Sprintf("19:%s@thread.tacv2", shortHash(g.id, c)), displayName: cname}
				for m := range 6 {
					when := genEpoch.Add(time.Duration(r.IntN(200*24)) * time.Hour)
					msg := &chatMessage{id: fmt.Sprint(1700000000000 + int64(c)*1000 + int64(m)), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: when}
					for rp := range r.IntN(3) {
						msg.replies = append(msg.replies, &chatMessage{id: fmt.Sprint(1800000000000 + int64(c)*100000 + int64(m)*10 + int64(rp)), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: when.Add(time.Duration(rp+1) * time.Minute)})
					}
					ch.messages = append(ch.messages, msg)
				}
				g.channels = append(g.channels, ch)
			}
		}
		s.sites = append(s.sites, st)
		s.groups = append(s.groups, g)
	}
}

// drivePath is the path of an item's parent as Graph reports it:
// /drive/root: for top-level items, /drive/root:/A/B below.
func (d *drive) parentPath(it *driveItem) string {
	var parts []string
	for p := d.items[it.parentID]; p != nil && p.id != d.rootID; p = d.items[p.parentID] {
		parts = append(parts, p.name)
	}
	slices.Reverse(parts)
	if len(parts) == 0 {
		return "/drive/root:"
	}
	return "/drive/root:/" + strings.Join(parts, "/")
}

// itemPath is an item's path from the root, "A/B/file.docx".
func (d *drive) itemPath(it *driveItem) string {
	p := strings.TrimPrefix(strings.TrimPrefix(d.parentPath(it), "/drive/root:"), "/")
	if p == "" {
		return it.name
	}
	return p + "/" + it.name
}

func (s *Sim) driveItemJSON(d *drive, it *driveItem) map[string]any {
	modified := it.created
	if !it.folder {
		modified = it.current().modified
	}
	j := map[string]any{
		"@odata.etag":          fmt.Sprintf(`"{%s},%d"`, it.id, len(it.versions)+1),
		"id":                   it.id,
		"name":                 it.name,
		"createdDateTime":      ts(it.created),
		"lastModifiedDateTime": ts(modified),
		"eTag":                 fmt.Sprintf(`"{%s},%d"`, it.id, len(it.versions)+1),
		"cTag":                 fmt.Sprintf(`"c:{%s},%d"`, it.id, len(it.versions)+1),
		"webUrl":               "https://contoso-sim.sharepoint.com/" + d.id + "/" + it.id,
		"fileSystemInfo":       map[string]any{"createdDateTime": ts(it.created), "lastModifiedDateTime": ts(modified)},
	}
	created := d.creator(it)
	last := created
	if !it.folder {
		last = d.author(it, it.current())
	}
	if created != nil {
		j["createdBy"] = created.json()
	}
	if last != nil {
		j["lastModifiedBy"] = last.json()
	}
	if it.id == d.rootID {
		j["root"] = map[string]any{}
		j["parentReference"] = map[string]any{"driveId": d.id, "driveType": d.driveType}
	} else {
		j["parentReference"] = map[string]any{"driveId": d.id, "driveType": d.driveType, "id": it.parentID, "path": d.parentPath(it)}
	}
	if it.folder {
		j["folder"] = map[string]any{"childCount": len(it.children)}
		size := 0
		for _, c := range it.children {
			if ci := d.items[c]; ci != nil && !ci.folder {
				size += ci.current().size
			}
		}
		j["size"] = size
		return j
	}
	v := it.current()
	sha, qx := v.hashes()
	j["size"] = v.size
	j["file"] = map[string]any{"mimeType": v.ct, "hashes": map[string]any{"quickXorHash": qx, "sha256Hash": sha}}
	if u := s.downloadURL(d, it, v); u != "" {
		j["@microsoft.graph.downloadUrl"] = u
	}
	if it.shared {
		j["shared"] = map[string]any{"scope": "organization"}
	} else if len(it.links) > 0 {
		j["shared"] = map[string]any{"scope": it.links[0].scope}
	} else if len(it.grants) > 0 {
		j["shared"] = map[string]any{"scope": "users"}
	}
	return j
}

// DriveDump is the exact current content of a drive.
type DriveDump struct {
	DriveID string          `json:"drive_id"`
	Name    string          `json:"name"`
	Items   []DriveItemDump `json:"items"`
}

// DriveItemDump is one item of a DriveDump. Versions are oldest first;
// the last is the content /content serves.
type DriveItemDump struct {
	ID       string             `json:"id"`
	Path     string             `json:"path"`
	Folder   bool               `json:"folder"`
	Versions []DriveVersionDump `json:"versions,omitempty"`
}

// DriveVersionDump is one version of a file with its bytes.
type DriveVersionDump struct {
	ID      string `json:"id"`
	Content []byte `json:"content"`
}

// Files maps the path of every file in the dump to its current content:
// what a user of the drive sees, to compare a restored drive with.
func (d DriveDump) Files() map[string][]byte {
	out := make(map[string][]byte)
	for _, it := range d.Items {
		if !it.Folder && len(it.Versions) > 0 {
			out[it.Path] = it.Versions[len(it.Versions)-1].Content
		}
	}
	return out
}

// DumpDrive returns a drive, by id or by owner id/UPN, depth-first.
func (s *Sim) DumpDrive(key string) (DriveDump, error) {
	return s.DumpDriveAt(key, math.MaxUint64)
}

// DumpDriveAt returns a drive as it stood when the tenant's change
// sequence number was seq (a scenario reports its starting point as
// ScenarioResult.Before): the items that existed then, each with the
// versions it had then. Deleted items are not kept, so a drive that
// lost an item after seq cannot be rebuilt and DumpDriveAt fails.
func (s *Sim) DumpDriveAt(key string, seq uint64) (DriveDump, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.drives[key]
	if d == nil {
		if u, gerr := s.lookupUser(key); gerr == nil {
			d = u.drive
		}
	}
	if d == nil || d.deleted {
		return DriveDump{}, fmt.Errorf("dump drive: no drive %q", key)
	}
	// An item gone now that was logged by seq existed then.
	gone := map[string]bool{}
	for i := len(d.log.log) - 1; i >= 0 && d.log.log[i].seq > seq; i-- {
		if id := d.log.log[i].id; d.items[id] == nil {
			gone[id] = true
		}
	}
	for _, ch := range d.log.log {
		if ch.seq > seq || len(gone) == 0 {
			break
		}
		if gone[ch.id] {
			return DriveDump{}, fmt.Errorf("dump drive %s at %d: item %s was deleted since and is not kept", d.id, seq, ch.id)
		}
	}
	out := DriveDump{DriveID: d.id, Name: d.name, Items: []DriveItemDump{}}
	var walk func(id string)
	walk = func(id string) {
		it := d.items[id]
		if it.seq > seq {
			return
		}
		if id != d.rootID {
			di := DriveItemDump{ID: it.id, Path: d.itemPath(it), Folder: it.folder}
			for _, v := range it.versions {
				if v.seq <= seq {
					di.Versions = append(di.Versions, DriveVersionDump{ID: v.id, Content: v.content()})
				}
			}
			out.Items = append(out.Items, di)
		}
		for _, c := range it.children {
			walk(c)
		}
	}
	walk(d.rootID)
	return out, nil
}

// ransomware replaces every file of d with a new version of random bytes,
// as an encrypting attacker syncing through the OneDrive client would.
func (s *Sim) ransomware(d *drive, res *ScenarioResult) {
	for _, id := range slices.Sorted(maps.Keys(d.items)) {
		it := d.items[id]
		if it.folder {
			continue
		}
		seq := s.seq + 1
		cur := it.current()
		garbage := make([]byte, cur.size+16)
		r := s.newRand(seq)
		for i := range garbage {
			garbage[i] = byte(r.Uint32())
		}
		it.versions = append(it.versions, &fileVersion{id: fmt.Sprintf("%d.0", len(it.versions)+1), size: len(garbage), data: garbage, ct: "application/octet-stream", modified: s.logicalNow(seq), by: d.author(it, nil), seq: seq})
		s.logTouch(d.log, it.id)
		res.ItemsModified++
		res.IDs = append(res.IDs, it.id)
	}
}

// deleteFiles removes up to n files from the folder at path (the root
// when empty), in listing order. Their delta entries then carry the
// "deleted" facet.
func (s *Sim) deleteFiles(d *drive, path string, n int, res *ScenarioResult) {
	folder := d.items[d.rootID]
	for _, it := range d.items {
		if it.folder && path != "" && strings.EqualFold(d.itemPath(it), path) {
			folder = it
		}
	}
	for _, id := range slices.Clone(folder.children) {
		if res.ItemsDeleted == n {
			return
		}
		it := d.items[id]
		if it.folder {
			continue
		}
		folder.children = slices.DeleteFunc(folder.children, func(c string) bool { return c == id })
		delete(d.items, id)
		s.logRemove(d.log, id)
		res.ItemsDeleted++
		res.IDs = append(res.IDs, id)
	}
}
