package onedrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// Kinds implements workloads.Restorer.
func (Workload) Kinds() map[string]string { return map[string]string{"files": catalog.KindFile} }

// Restore implements workloads.Restorer with RestoreFiles.
func (Workload) Restore(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	return RestoreFiles(ctx, g, src, items, o)
}

// simpleUploadMax is the largest file sent in one PUT; larger ones go
// through an upload session.
const simpleUploadMax = 4 << 20

// child is an entry of a target folder.
type child struct {
	id     string
	folder bool
}

type restorer struct {
	c       *graph.Caller
	g       *graph.Client
	src     workloads.Source
	o       workloads.RestoreOptions
	driveID string
	rootID  string
	// folders maps a display path ("" the root) to its folder id;
	// children a folder id to its entries by lower-case name.
	folders  map[string]string
	children map[string]map[string]child
	// versions are a file's earlier versions (AllVersions), oldest
	// first, and perms its stored permissions, by itemKey.
	versions map[string][]vault.Item
	perms    map[string]vault.Item
}

// RestoreFiles writes files (of any snapshot) into the target user's
// drive with g, the restore app's client: each under TargetFolder in its
// original folder structure, or at its original place when TargetFolder
// is "". A file whose name is taken is skipped (skip), restored under a
// free name "name (restored N).ext" (copy), or written as a new version of
// the existing file (replace). An earlier version is restored as its file,
// under the file's name; other items are ignored.
// Failures of single files are counted; an error means nothing could be
// restored (no target drive, bad options).
func RestoreFiles(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	o, err := o.WithCollision()
	if err != nil {
		return workloads.RestoreResult{}, err
	}
	if o.TargetUserID == "" {
		return workloads.RestoreResult{}, errors.New("restore: no target user given")
	}
	driveID, err := userDrive(ctx, &graph.Caller{G: g}, o.TargetUserID)
	if err != nil {
		return workloads.RestoreResult{}, err
	}
	return RestoreToDrive(ctx, g, src, items, o, driveID)
}

// UserDrive returns the id of the OneDrive of a user (id or UPN).
func UserDrive(ctx context.Context, g *graph.Client, userID string) (string, error) {
	return userDrive(ctx, &graph.Caller{G: g}, userID)
}

// userDrive returns the id of a user's OneDrive.
func userDrive(ctx context.Context, c *graph.Caller, userID string) (string, error) {
	var d struct {
		ID string `json:"id"`
	}
	body, err := c.Get(ctx, "/users/"+url.PathEscape(userID)+"/drive", url.Values{"$select": {"id"}})
	if err == nil {
		err = json.Unmarshal(body, &d)
	}
	if err != nil || d.ID == "" {
		return "", fmt.Errorf("open the OneDrive of %s: %s (does the user have a OneDrive, and the restore app Files.ReadWrite.All?)", userID, describe(err))
	}
	return d.ID, nil
}

// RestoreToDrive is RestoreFiles into the drive driveID (a OneDrive or a
// SharePoint document library); o.TargetUserID is not used.
func RestoreToDrive(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions, driveID string) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	o, err := o.WithCollision()
	if err != nil {
		return res, err
	}
	r := &restorer{c: &graph.Caller{G: g}, g: g, src: src, o: o, driveID: driveID, folders: map[string]string{}, children: map[string]map[string]child{}}
	if err := r.openRoot(ctx); err != nil {
		return res, err
	}
	r.index(items)
	for _, it := range items {
		if k := it.Meta[catalog.MetaKind]; k != catalog.KindFile && (k != catalog.KindFileVersion || o.AllVersions) {
			continue
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		r.restoreFile(ctx, it, &res)
	}
	return res, nil
}

// openRoot finds the root folder of the target drive.
func (r *restorer) openRoot(ctx context.Context) error {
	var root struct {
		ID string `json:"id"`
	}
	body, err := r.c.Get(ctx, "/drives/"+url.PathEscape(r.driveID)+"/root", url.Values{"$select": {"id"}})
	if err == nil {
		err = json.Unmarshal(body, &root)
	}
	if err != nil || root.ID == "" {
		return fmt.Errorf("open drive %s: %s (does the restore app have Files.ReadWrite.All or Sites.ReadWrite.All?)", r.driveID, describe(err))
	}
	r.rootID = root.ID
	r.folders[""] = root.ID
	return nil
}

func describe(err error) string {
	if err == nil {
		return "the answer lacks an id"
	}
	return graph.Describe(err)
}

func (r *restorer) restoreFile(ctx context.Context, it vault.Item, res *workloads.RestoreResult) {
	dir := strings.Trim(path.Join(r.o.TargetFolder, it.Meta[catalog.MetaFolder]), "/")
	name := it.Meta[catalog.MetaName]
	where := strings.TrimPrefix(dir+"/"+name, "/")
	failf := func(format string, args ...any) {
		res.Failed++
		res.Errors = append(res.Errors, where+": "+fmt.Sprintf(format, args...))
	}
	if name == "" || strings.ContainsAny(name, "/\\") {
		failf("the stored item has no usable name")
		return
	}
	pid, err := r.folder(ctx, dir)
	if err != nil {
		failf("%v", err)
		return
	}
	kids, err := r.list(ctx, pid)
	if err != nil {
		failf("%v", err)
		return
	}
	existing, taken := kids[strings.ToLower(name)]
	switch {
	case taken && existing.folder:
		failf("a folder of that name is in the way")
		return
	case taken && r.o.Collision == workloads.CollisionSkip:
		res.Skipped++
		return
	case taken && r.o.Collision == workloads.CollisionCopy:
		name = freeName(kids, name)
	}
	id, written, err := r.uploadHistory(ctx, pid, name, it)
	res.Bytes += written
	if err != nil {
		failf("%v", err)
		return
	}
	kids[strings.ToLower(name)] = child{id: id}
	res.Restored++
	if taken && r.o.Collision == workloads.CollisionReplace {
		res.Replaced++
	}
	if r.o.Permissions {
		r.applySharing(ctx, id, it, where, res)
	}
}

// freeName is name with " (restored N)" before its extension, for the
// smallest N not taken in kids.
func freeName(kids map[string]child, name string) string {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for n := 1; ; n++ {
		cand := fmt.Sprintf("%s (restored %d)%s", base, n, ext)
		if n == 1 {
			cand = base + " (restored)" + ext
		}
		if _, ok := kids[strings.ToLower(cand)]; !ok {
			return cand
		}
	}
}

// folder returns the id of the folder at display path p, creating what
// is missing.
func (r *restorer) folder(ctx context.Context, p string) (string, error) {
	if id, ok := r.folders[p]; ok {
		return id, nil
	}
	parent, name := path.Split(p)
	pid, err := r.folder(ctx, strings.TrimSuffix(parent, "/"))
	if err != nil {
		return "", err
	}
	kids, err := r.list(ctx, pid)
	if err != nil {
		return "", err
	}
	if c, ok := kids[strings.ToLower(name)]; ok {
		if !c.folder {
			return "", fmt.Errorf("folder %s: a file of that name is in the way", p)
		}
		r.folders[p] = c.id
		return c.id, nil
	}
	body, err := r.c.WriteJSON(ctx, abstractions.POST, r.itemPath(pid)+"/children",
		map[string]any{"name": name, "folder": map[string]any{}, "@microsoft.graph.conflictBehavior": "fail"})
	if err != nil {
		return "", fmt.Errorf("create folder %s: %s", p, graph.Describe(err))
	}
	var made struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &made); err != nil || made.ID == "" {
		return "", fmt.Errorf("create folder %s: the answer has no id", p)
	}
	kids[strings.ToLower(name)] = child{id: made.ID, folder: true}
	r.folders[p] = made.ID
	return made.ID, nil
}

// listedChild is an entry of a folder's children listing.
type listedChild struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	Folder json.RawMessage `json:"folder"`
}

// list returns the entries of folder id, read once per restore.
func (r *restorer) list(ctx context.Context, id string) (map[string]child, error) {
	if kids, ok := r.children[id]; ok {
		return kids, nil
	}
	ri, err := r.c.Request(r.itemPath(id)+"/children", url.Values{"$select": {"id,name,folder"}})
	if err != nil {
		return nil, err
	}
	kids := map[string]child{}
	_, err = graph.Each(ctx, r.c, ri, func(e listedChild) error {
		kids[strings.ToLower(e.Name)] = child{id: e.ID, folder: e.Folder != nil}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the target folder: %s", graph.Describe(err))
	}
	r.children[id] = kids
	return kids, nil
}

func (r *restorer) itemPath(id string) string {
	return "/drives/" + url.PathEscape(r.driveID) + "/items/" + url.PathEscape(id)
}

// upload writes the content of it as file name in folder pid, replacing
// the content of a file of that name (a new version), and returns the
// file's id. With AllVersions a file's earlier versions (among the items)
// are uploaded first, oldest first; with Permissions its stored sharing
// is applied to the restored file.
func (r *restorer) upload(ctx context.Context, pid, name string, it vault.Item) (string, error) {
	at := r.itemPath(pid) + ":/" + url.PathEscape(name) + ":"
	if it.Size <= simpleUploadMax {
		var buf bytes.Buffer
		if err := r.src.WriteItem(&buf, it); err != nil {
			return "", fmt.Errorf("read the backup: %w", err)
		}
		body, err := r.c.Write(ctx, abstractions.PUT, at+"/content", contentType(it), buf.Bytes())
		if err != nil {
			return "", fmt.Errorf("upload: %s", graph.Describe(err))
		}
		return idOf(body)
	}
	body, err := r.c.WriteJSON(ctx, abstractions.POST, at+"/createUploadSession",
		map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "replace"}})
	if err != nil {
		return "", fmt.Errorf("start an upload session: %s", graph.Describe(err))
	}
	var s struct {
		URL string `json:"uploadUrl"`
	}
	if err := json.Unmarshal(body, &s); err != nil || s.URL == "" {
		return "", errors.New("start an upload session: the answer has no upload URL")
	}
	return r.uploadSession(ctx, s.URL, it)
}

// uploadSession streams the content of it to an upload URL in chunks,
// reading the vault as it goes: memory holds one chunk, whatever the
// file's size.
func (r *restorer) uploadSession(ctx context.Context, uploadURL string, it vault.Item) (string, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.src.WriteItem(pw, it)) }()
	defer pr.Close()
	body, err := r.g.Upload(ctx, uploadURL, pr, it.Size, graph.DriveChunk)
	if err != nil {
		return "", err
	}
	return idOf(body)
}

func idOf(body []byte) (string, error) {
	return graph.IDOf(body, "the upload's answer has no item id")
}

func contentType(it vault.Item) string {
	if m := it.Meta[MetaMime]; m != "" {
		return m
	}
	return "application/octet-stream"
}
