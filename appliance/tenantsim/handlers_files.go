package tenantsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Permissions of the file, site, group and Teams routes.
var (
	permFilesRead   = permission{"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"}
	permFilesWrite  = permission{"Files.ReadWrite.All", "Sites.ReadWrite.All"}
	permSitesRead   = permission{"Sites.Read.All", "Sites.ReadWrite.All"}
	permSitesWrite  = permission{"Sites.ReadWrite.All"}
	permGroupRead   = permission{"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}
	permChannelRead = permission{"ChannelMessage.Read.All"}
)

var errDriveItemNotFound = errf(http.StatusNotFound, "itemNotFound", "The resource could not be found.")

func (s *Sim) registerFileRoutes() {
	rt := &s.routes
	const get, post, put = http.MethodGet, http.MethodPost, http.MethodPut
	rt.add(get, "users/{uid}/drive", "files", permFilesRead, handleUserDrive)
	rt.add(get, "users/{uid}/drives", "files", permFilesRead, handleUserDrive)
	rt.add(get, "drives/{did}", "files", permFilesRead, handleGetDrive)
	for _, item := range []string{"drives/{did}/root", "drives/{did}/items/{iid}"} {
		rt.add(get, item+"/delta()", "files.delta", permFilesRead, handleDriveDelta)
		rt.add(get, item, "files", permFilesRead, handleGetDriveItem)
		rt.add(get, item+"/children", "files", permFilesRead, handleListChildren)
		rt.add(post, item+"/children", "files", permFilesWrite, handleCreateDriveFolder)
		rt.add(get, item+"/content", "files.content", permFilesRead, handleDriveContent)
		rt.add(get, item+"/versions", "files", permFilesRead, handleListVersions)
		rt.add(get, item+"/versions/{vid}/content", "files.content", permFilesRead, handleDriveContent)
		rt.add(get, item+"/permissions", "files", permFilesRead, handleListPermissions)
		rt.add(post, item+"/createLink", "files", permFilesWrite, handleCreateLink)
		rt.add(post, item+"/invite", "files", permFilesWrite, handleInvite)
	}
	rt.add(http.MethodPatch, "drives/{did}/items/{iid}", "files", permFilesWrite, handlePatchDriveItem)
	rt.add(put, "drives/{did}/items/{pid}/{name}/content", "files.upload", permFilesWrite, handleUpload)
	rt.add(put, "drives/{did}/items/{iid}/content", "files.upload", permFilesWrite, handleUploadByID)
	rt.add(post, "drives/{did}/items/{pid}/{name}/createUploadSession", "files.upload", permFilesWrite, handleCreateUploadSession)
	for _, prefix := range []string{"users/{uid}/messages/{mid}", "users/{uid}/mailFolders/{fid}/messages/{mid}"} {
		rt.add(post, prefix+"/attachments/createUploadSession", "mail.attachments", permMailWrite, handleCreateAttachmentUpload)
	}

	rt.add(get, "sites", "sites", permSitesRead, handleListSites)
	rt.add(get, "sites/{sid}", "sites", permSitesRead, handleGetSite)
	rt.add(get, "sites/{sid}/drives", "sites", permSitesRead, handleSiteDrives)
	rt.add(get, "sites/{sid}/drive", "sites", permSitesRead, handleSiteDrives)
	rt.add(get, "sites/{sid}/pages", "sites", permSitesRead, handleListPages)
	// Graph takes the type cast with its namespace or its alias; the SDK
	// sends the alias.
	for _, cast := range []string{"microsoft.graph.sitePage", "graph.sitePage"} {
		rt.add(get, "sites/{sid}/pages/"+cast, "sites", permSitesRead, handleListPages)
	}
	rt.add(get, "sites/{sid}/pages/{pgid}", "sites", permSitesRead, handleGetPage)
	for _, cast := range []string{"microsoft.graph.sitePage", "graph.sitePage"} {
		page := "sites/{sid}/pages/{pgid}/" + cast
		rt.add(get, page, "sites", permSitesRead, handleGetPage)
		rt.add(get, page+"/canvasLayout", "sites", permSitesRead, handlePageCanvas)
		rt.add(get, page+"/webParts", "sites", permSitesRead, handlePageWebParts)
	}
	s.pageRoutes()
	s.sitePermissionRoutes()
	rt.add(get, "sites/{sid}/lists", "sites", permSitesRead, handleListLists)
	rt.add(post, "sites/{sid}/lists", "sites", permSitesWrite, handleCreateList)
	rt.add(get, "sites/{sid}/lists/{lid}", "sites", permSitesRead, handleGetList)
	rt.add(http.MethodDelete, "sites/{sid}/lists/{lid}", "sites", permSitesWrite, handleDeleteList)
	rt.add(get, "sites/{sid}/lists/{lid}/columns", "sites", permSitesRead, handleListColumns)
	rt.add(get, "sites/{sid}/lists/{lid}/items", "sites", permSitesRead, handleListListItems)
	rt.add(post, "sites/{sid}/lists/{lid}/items", "sites", permSitesWrite, handleCreateListItem)
	rt.add(http.MethodDelete, "sites/{sid}/lists/{lid}/items/{iid}", "sites", permSitesWrite, handleDeleteListItem)
	rt.add(http.MethodPatch, "sites/{sid}/lists/{lid}/items/{iid}/fields", "sites", permSitesWrite, handlePatchListItemFields)

	rt.add(get, "groups", "groups", permGroupRead, handleListGroups)
	rt.add(get, "groups/{gid}/members", "groups", permGroupRead, handleGroupMembers)
	rt.add(get, "teams/{gid}/channels", "teams", permChannelRead, handleListChannels)
	rt.add(get, "teams/{gid}/channels/{chid}/messages", "teams", permChannelRead, handleChannelMessages)
	rt.add(get, "teams/{gid}/channels/{chid}/messages/{cmid}/replies", "teams", permChannelRead, handleChannelMessages)
	s.registerTeamsRoutes()
	s.registerTeamsStateRoutes()
	s.registerGroupRoutes()
	s.registerImportRoutes()
}

func driveJSON(d *drive) map[string]any {
	used := 0
	for _, it := range d.items {
		if !it.folder {
			used += it.current().size
		}
	}
	j := map[string]any{
		"id": d.id, "name": d.name, "driveType": d.driveType,
		"createdDateTime": ts(d.created), "webUrl": "https://contoso-sim.sharepoint.com/" + d.id,
		"quota": map[string]any{"total": int64(1) << 40, "used": used, "remaining": int64(1)<<40 - int64(used), "deleted": 0, "state": "normal"},
	}
	if d.owner != nil {
		j["owner"] = map[string]any{"user": map[string]any{"id": d.owner.id, "displayName": d.owner.displayName, "email": d.owner.mail}}
	}
	return j
}

func (q *request) drive() (*drive, *graphError) {
	d := q.sim.drives[q.param("did")]
	if d == nil || d.deleted || (d.owner != nil && d.owner.deleted) {
		return nil, errDriveItemNotFound
	}
	return d, nil
}

// driveItem resolves {iid}, or the root when the path says root.
func (q *request) driveItem(d *drive) (*driveItem, *graphError) {
	id := q.param("iid")
	if id == "" || strings.EqualFold(id, "root") {
		id = d.rootID
	}
	it := d.items[id]
	if it == nil {
		return nil, errDriveItemNotFound
	}
	return it, nil
}

// driveAndItem resolves {did} and then {iid}.
func (q *request) driveAndItem() (*drive, *driveItem, *graphError) {
	return within(q.drive, q.driveItem)
}

func handleUserDrive(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		u, gerr := q.sim.lookupUser(q.param("uid"))
		if gerr != nil {
			return nil, gerr
		}
		if u.drive == nil {
			return nil, errNoMySite
		}
		if strings.HasSuffix(q.r.URL.Path, "/drives") {
			return q.listPage("drives", []map[string]any{driveJSON(u.drive)}, 100, 999)
		}
		return driveJSON(u.drive), nil
	})
}

func handleGetDrive(q *request) *graphError {
	return readOf(q, q.drive, func(d *drive) (any, *graphError) {
		return driveJSON(d), nil
	})
}

func handleGetDriveItem(q *request) *graphError {
	return readPair(q, q.driveAndItem, func(d *drive, it *driveItem) (any, *graphError) {
		return project(q.sim.driveItemJSON(d, it), selectFields(q.r)), nil
	})
}

func handleListChildren(q *request) *graphError {
	return readPair(q, q.driveAndItem, func(d *drive, it *driveItem) (any, *graphError) {
		sel := selectFields(q.r)
		all := []map[string]any{}
		for _, c := range it.children {
			all = append(all, project(q.sim.driveItemJSON(d, d.items[c]), sel))
		}
		return q.listPage("drives('"+d.id+"')/items", all, 200, 1000)
	})
}

// handleDriveDelta serves delta on a drive's root: every item, the root
// included; changed files come back whole. Deleted items come back with
// a "deleted" facet, as Graph marks them, rather than "@removed". The
// token may come as delta(token='...'), as ?token=... or in a link's
// $deltatoken; token "latest" answers an empty page whose delta link
// starts now. A token that can no longer be used answers 410 as drive
// delta does (see driveResync). Links name the drive's canonical delta
// path.
func handleDriveDelta(q *request) *graphError {
	return readOf(q, q.drive, func(d *drive) (any, *graphError) {
		if it, gerr := q.driveItem(d); gerr != nil || it.id != d.rootID {
			return nil, errf(http.StatusBadRequest, "invalidRequest", "Delta is only supported on the root of a drive.")
		}
		s := q.sim
		q.linkPath = "/drives/" + d.id + "/root/delta"
		tok := firstNonEmpty(q.param("token"), q.r.URL.Query().Get("token"))
		if strings.EqualFold(tok, "latest") {
			st := deltaState{Coll: d.log.id, Epoch: s.deltaEpoch, After: s.seq, Select: q.r.URL.Query().Get("$select")}
			return map[string]any{
				"@odata.context":   s.baseURL + "/$metadata#Collection(driveItem)",
				"value":            []any{},
				"@odata.deltaLink": s.baseURL + q.linkPath + "?" + url.Values{"$deltatoken": {s.encodeDelta(st)}}.Encode(),
			}, nil
		}
		if tok != "" {
			v := q.r.URL.Query()
			v.Del("token")
			v.Set("$deltatoken", tok)
			q.r.URL.RawQuery = v.Encode()
		}
		q.resync = func(old deltaState, ok bool) *graphError { return s.driveResync(d, old, ok) }
		return q.serveDelta(d.log, "#microsoft.graph.driveItem", func(id string) map[string]any {
			var j map[string]any
			if it := d.items[id]; it != nil {
				j = s.driveItemJSON(d, it)
			} else {
				j = map[string]any{"id": id, "deleted": map[string]any{"state": "deleted"}, "parentReference": map[string]any{"driveId": d.id}}
			}
			j["@odata.type"] = "#microsoft.graph.driveItem"
			return j
		})
	})
}

// Drive delta's 410 codes. Graph answers a delta token it can no longer
// serve with one of them and a Location header holding a link that
// starts a fresh enumeration; the client then compares what it gets with
// its own state: with ApplyDifferences the server's state wins, deletions
// included; with UploadDifferences the client keeps what the server did
// not return and keeps both copies where they differ.
const (
	resyncApply  = "resyncChangesApplyDifferences"
	resyncUpload = "resyncChangesUploadDifferences"
)

// resyncCode is the code d's voided tokens get in the current delta
// epoch: a function of the seed, the drive and the epoch, so runs repeat
// and each ExpireDeltaTokens may choose again.
func (s *Sim) resyncCode(d *drive) string {
	if seedOf(s.cfg.Seed, "drive-resync", d.id, s.deltaEpoch)%2 == 0 {
		return resyncApply
	}
	return resyncUpload
}

// driveResync is the 410 for a drive delta token that can no longer be
// used. Its Location starts a full enumeration as of now, keeping the
// $select and page size of the voided token when it could be read.
func (s *Sim) driveResync(d *drive, old deltaState, ok bool) *graphError {
	code := s.resyncCode(d)
	msg := "Resync required: the delta token can no longer be used. Enumerate the drive again from the Location URL; the server's state wins, deletions included."
	if code == resyncUpload {
		msg = "Resync required: the delta token can no longer be used. Enumerate the drive again from the Location URL; keep local items the server does not return, and both copies where they differ."
	}
	e := errf(http.StatusGone, code, msg)
	fresh := deltaState{Coll: d.log.id, Epoch: s.deltaEpoch, Full: true, Upto: s.seq}
	if ok {
		fresh.Select, fresh.Top = old.Select, old.Top
	}
	e.location = s.baseURL + "/drives/" + d.id + "/root/delta?" + url.Values{"$skiptoken": {s.encodeDelta(fresh)}}.Encode()
	return e
}

func handleListVersions(q *request) *graphError {
	return readPair(q, q.driveAndItem, func(d *drive, it *driveItem) (any, *graphError) {
		all := []map[string]any{}
		for i := len(it.versions) - 1; i >= 0; i-- {
			v := it.versions[i]
			j := map[string]any{"id": v.id, "lastModifiedDateTime": ts(v.modified), "size": v.size}
			if by := d.author(it, v); by != nil {
				j["lastModifiedBy"] = by.json()
			}
			if u := q.sim.downloadURL(d, it, v); u != "" {
				j["@microsoft.graph.downloadUrl"] = u
			}
			all = append(all, j)
		}
		return q.listPage("drives('"+d.id+"')/items('"+it.id+"')/versions", all, 100, 1000)
	})
}

func handleListPermissions(q *request) *graphError {
	return readPair(q, q.driveAndItem, func(d *drive, it *driveItem) (any, *graphError) {
		all := []map[string]any{{"id": "owner-" + shortHash(it.id, 4), "roles": []any{"owner"}}}
		if d.owner != nil {
			all[0]["grantedToV2"] = map[string]any{"user": map[string]any{"id": d.owner.id, "displayName": d.owner.displayName}}
		}
		if d.site != nil && it.id == d.rootID {
			all = siteGroupPermissions(d.site) // the site's groups stand for the owner
		}
		for _, l := range it.sharingLinks() {
			all = append(all, l.json())
		}
		for _, g := range it.grants {
			all = append(all, g.json())
		}
		return q.listPage("permissions", all, 100, 1000)
	})
}

// handleUpload is the simple upload, PUT /drives/{id}/items/{parent}:/{name}:/content,
// with ?@microsoft.graph.conflictBehavior= fail, replace (the default for
// PUT) or rename.
func handleUpload(q *request) *graphError {
	pid, name, gerr := q.uploadPath()
	if gerr != nil {
		return gerr
	}
	conflict, gerr := q.conflictBehavior("replace")
	if gerr != nil {
		return gerr
	}
	d, parent, gerr := q.uploadParent(pid)
	if gerr != nil {
		return gerr
	}
	return q.commitUpload(d, parent.id, name, conflict)
}

// handleUploadByID replaces an existing file's content, PUT
// /drives/{id}/items/{id}/content: a new version.
func handleUploadByID(q *request) *graphError {
	q.sim.mu.RLock()
	d, it, gerr := q.driveAndItem()
	var parentID, name string
	if gerr == nil {
		parentID, name = it.parentID, it.name
		if it.folder || it.id == d.rootID {
			gerr = errf(http.StatusBadRequest, "invalidRequest", "Only a file's content can be replaced.")
		}
	}
	q.sim.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	return q.commitUpload(d, parentID, name, "replace")
}

func (q *request) commitUpload(d *drive, parentID, name, conflict string) *graphError {
	data, err := io.ReadAll(q.r.Body)
	if err != nil {
		return errf(http.StatusRequestEntityTooLarge, "requestTooLarge", "The upload is too large for a simple upload; use an upload session.")
	}
	ct := q.r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	status, body, gerr := q.sim.commitFile(d, parentID, name, data, ct, q.appIdentity(), conflict)
	if gerr != nil {
		return gerr
	}
	writeJSON(q.w, status, body)
	return nil
}

func handleCreateDriveFolder(q *request) *graphError {
	var in struct {
		Name   string          `json:"name"`
		Folder json.RawMessage `json:"folder"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if in.Name == "" || in.Folder == nil {
		return errf(http.StatusBadRequest, "invalidRequest", "Only folders are created here: name and folder are required.")
	}
	return writePair(q, q.driveAndItem, func(d *drive, parent *driveItem) (any, *graphError) {
		for _, c := range parent.children {
			if strings.EqualFold(d.items[c].name, in.Name) {
				return nil, errf(http.StatusConflict, "nameAlreadyExists", "An item with the same name already exists under the parent.")
			}
		}
		seq := q.sim.nextSeq()
		it := &driveItem{id: itemID("01NEWF", d.id, seq), name: in.Name, folder: true, created: q.sim.logicalNow(seq), createdBy: q.appIdentity()}
		q.sim.addDriveItem(d, parent, it)
		return q.sim.driveItemJSON(d, it), nil
	})
}

func siteJSON(st *site) map[string]any {
	return map[string]any{
		"id": st.id, "name": st.name, "displayName": st.displayName,
		"webUrl":          "https://contoso-sim.sharepoint.com/sites/" + st.name,
		"createdDateTime": ts(genEpoch),
	}
}

func (q *request) site() (*site, *graphError) {
	for _, st := range q.sim.sites {
		if st.id == q.param("sid") {
			return st, nil
		}
	}
	return nil, errf(http.StatusNotFound, "itemNotFound", "Requested site could not be found.")
}

func handleListSites(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		var all []map[string]any
		for _, st := range q.sim.sites {
			all = append(all, siteJSON(st))
		}
		return q.listPage("sites", all, 100, 999)
	})
}

func handleGetSite(q *request) *graphError {
	return readOf(q, q.site, func(st *site) (any, *graphError) {
		return siteJSON(st), nil
	})
}

func handleSiteDrives(q *request) *graphError {
	return readOf(q, q.site, func(st *site) (any, *graphError) {
		all := []map[string]any{}
		for _, d := range st.drives {
			if !d.deleted {
				all = append(all, driveJSON(d))
			}
		}
		if strings.HasSuffix(q.r.URL.Path, "/drive") {
			if len(all) == 0 {
				return nil, errDriveItemNotFound
			}
			return all[0], nil
		}
		return q.listPage("drives", all, 100, 999)
	})
}

func (q *request) list() (*spList, *graphError) {
	st, gerr := q.site()
	if gerr != nil {
		return nil, gerr
	}
	for _, l := range st.lists {
		if l.id == q.param("lid") || strings.EqualFold(l.name, q.param("lid")) {
			return l, nil
		}
	}
	return nil, errf(http.StatusNotFound, "itemNotFound", "List not found.")
}

func handleListLists(q *request) *graphError {
	return readOf(q, q.site, func(st *site) (any, *graphError) {
		all := []map[string]any{}
		for _, l := range st.lists {
			all = append(all, listJSON(l))
		}
		return q.listPage("lists", all, 100, 999)
	})
}

func listItemJSON(f map[string]any) map[string]any {
	return map[string]any{"id": f["id"], "createdDateTime": ts(genEpoch), "lastModifiedDateTime": ts(genEpoch), "fields": f}
}

func handleListListItems(q *request) *graphError {
	return readOf(q, q.list, func(l *spList) (any, *graphError) {
		var all []map[string]any
		for _, f := range l.items {
			all = append(all, listItemJSON(f))
		}
		return q.listPage("listItems", all, 200, 999)
	})
}

func handleCreateListItem(q *request) *graphError {
	var in struct {
		Fields map[string]any `json:"fields"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if in.Fields == nil {
		return errf(http.StatusBadRequest, "invalidRequest", "fields is required.")
	}
	return writeOf(q, q.list, func(l *spList) (any, *graphError) {
		if gerr := l.checkFields(in.Fields); gerr != nil {
			return nil, gerr
		}
		in.Fields["id"] = l.nextItemID()
		l.items = append(l.items, in.Fields)
		q.sim.nextSeq()
		return listItemJSON(in.Fields), nil
	})
}

func (q *request) group() (*group, *graphError) {
	for _, g := range q.sim.groups {
		if g.id == q.param("gid") && !g.deleted {
			return g, nil
		}
	}
	return nil, errf(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+q.param("gid")+"' does not exist.")
}

func handleListGroups(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		var all []map[string]any
		for _, g := range q.sim.groups {
			if g.deleted {
				continue
			}
			all = append(all, project(groupJSON(g), selectFields(q.r)))
		}
		return q.listPage("groups", all, 100, 999)
	})
}

func handleGroupMembers(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		var all []map[string]any
		for _, u := range g.members {
			m := project(userJSON(u), defaultUserFields)
			m["@odata.type"] = "#microsoft.graph.user"
			all = append(all, m)
		}
		return q.listPage("directoryObjects", all, 100, 999)
	})
}

func handleListChannels(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		if !g.isTeam() {
			return nil, errf(http.StatusNotFound, "NotFound", "No team found with Group Id "+g.id)
		}
		kind, gerr := membershipFilter(q.r)
		if gerr != nil {
			return nil, gerr
		}
		all := []map[string]any{}
		for _, ch := range g.channels {
			if j := channelJSON(g, ch); kind == "" || j["membershipType"] == kind {
				all = append(all, j)
			}
		}
		return q.listPage("channels", all, 100, 999)
	})
}

func chatMessageJSON(base string, g *group, ch *channel, m *chatMessage, replyTo string) map[string]any {
	body := map[string]any{"contentType": "text", "content": m.body}
	if len(m.hosted) > 0 {
		body = map[string]any{"contentType": "html", "content": hostedBodyHTML(base, g, ch, m)}
	}
	j := map[string]any{
		"id": m.id, "messageType": "message", "createdDateTime": ts(m.created), "lastModifiedDateTime": ts(m.created),
		"from":            map[string]any{"user": map[string]any{"id": m.from.id, "displayName": m.from.displayName, "userIdentityType": "aadUser"}},
		"body":            body,
		"channelIdentity": map[string]any{"teamId": g.id, "channelId": ch.id},
		"importance":      "normal",
		"attachments":     []any{},
		"mentions":        []any{},
		"reactions":       []any{},
	}
	if replyTo != "" {
		j["replyToId"] = replyTo
	}
	msgExtrasJSON(j, m)
	return j
}

func handleChannelMessages(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		i := slices.IndexFunc(g.channels, func(c *channel) bool { return c.id == q.param("chid") })
		if i < 0 {
			return nil, errf(http.StatusNotFound, "NotFound", "Channel not found.")
		}
		ch := g.channels[i]
		msgs, replyTo := ch.messages, ""
		if cmid := q.param("cmid"); cmid != "" {
			j := slices.IndexFunc(ch.messages, func(m *chatMessage) bool { return m.id == cmid })
			if j < 0 {
				return nil, errf(http.StatusNotFound, "NotFound", "Message not found.")
			}
			msgs, replyTo = ch.messages[j].replies, cmid
		}
		all := []map[string]any{}
		for _, m := range msgs {
			all = append(all, chatMessageJSON(q.sim.baseURL, g, ch, m, replyTo))
		}
		body, gerr := q.listPage("chatMessages", all, 20, 50)
		if gerr == nil {
			q.sim.counters.servedMessages(body)
		}
		return body, gerr
	})
}
