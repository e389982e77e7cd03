package exchange

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
)

// Collision policies, as workloads names them.
const (
	CollisionSkip    = workloads.CollisionSkip
	CollisionCopy    = workloads.CollisionCopy
	CollisionReplace = workloads.CollisionReplace
)

// RestoreItems' options: TargetUserID is the mailbox written to (id or
// UPN). TargetFolder is the folder created (or reused, when it exists)
// under the mailbox's top of information store; items go beneath it in
// their original folder structure (default "Restored <UTC time>"); contacts
// go to a contact folder of the same name, events to the default calendar.
// Collision is skip (default), copy or replace: a message collides with one
// of the same Internet Message-ID in its target folder; contacts and
// events never collide.

// RestoreItems writes items (messages, contacts, events of any snapshot)
// into the target mailbox with g, which should be the restore app's
// client. read returns an item's stored content. Items of other kinds
// (folder records, state) are ignored. Failures of single items are
// counted and named in the result; an error is returned only when nothing
// can be restored (bad options, target mailbox or folder unusable).
func RestoreItems(ctx context.Context, g *graph.Client, read func(vault.Item) ([]byte, error), items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	if o.TargetUserID == "" {
		return res, errors.New("restore: no target mailbox given")
	}
	switch o.Collision {
	case "":
		o.Collision = CollisionSkip
	case CollisionSkip, CollisionCopy, CollisionReplace:
	default:
		return res, fmt.Errorf("restore: collision policy %q: want skip, copy or replace", o.Collision)
	}
	if o.TargetFolder == "" {
		o.TargetFolder = "Restored " + clock.Wall().UTC().Format("2006-01-02 15.04.05")
	}
	r := &restorer{c: newCaller(g, 0), o: o, read: read, children: map[string][]folderRef{}, existing: map[string]map[string][]string{}, paths: map[string]string{}}
	ub := g.SDK.Users().ByUserId(o.TargetUserID)
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var outcome string
		var err error
		switch it.Meta[catalog.MetaKind] {
		case catalog.KindMessage:
			outcome, err = r.message(ctx, it)
		case catalog.KindContact:
			outcome, err = r.contact(ctx, it)
		case catalog.KindEvent:
			var body []byte
			if body, err = r.body(it); err == nil {
				var ri *abstractions.RequestInformation
				if ri, err = ub.Events().ToPostRequestInformation(ctx, models.NewEvent(), nil); err == nil {
					_, err = r.postJSON(ctx, ri, body)
				}
				outcome = "restored"
			}
		default:
			continue
		}
		var fe *fatalRestoreError
		switch {
		case errors.As(err, &fe):
			return res, fe.err
		case err != nil:
			res.Failed++
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %s", it.Path, graph.Describe(err)))
		case outcome == "skipped":
			res.Skipped++
		case outcome == "replaced":
			res.Replaced++
		default:
			res.Restored++
		}
	}
	return res, nil
}

// fatalRestoreError ends a restore: the target itself is unusable.
type fatalRestoreError struct{ err error }

func (e *fatalRestoreError) Error() string { return e.err.Error() }

type folderRef struct{ id, name string }

type restorer struct {
	c    *graph.Caller
	o    workloads.RestoreOptions
	read func(vault.Item) ([]byte, error)
	// children caches the listed child folders of a folder ("" is the
	// top of information store); paths maps a restored folder path to
	// its id; existing maps folder id -> Message-ID -> message ids.
	children      map[string][]folderRef
	paths         map[string]string
	existing      map[string]map[string][]string
	contactFolder string
}

func (r *restorer) users() *users.UserItemRequestBuilder {
	return r.c.G.SDK.Users().ByUserId(r.o.TargetUserID)
}

func (r *restorer) message(ctx context.Context, it vault.Item) (string, error) {
	fid, err := r.folder(ctx, it.Meta[catalog.MetaFolder])
	if err != nil {
		return "", err
	}
	mime, err := r.read(it)
	if err != nil {
		return "", fmt.Errorf("read from vault: %w", err)
	}
	outcome := "restored"
	mid := it.Meta[catalog.MetaMessageID]
	// With replace, the existing copies are deleted only once the new one
	// exists: a create that fails leaves the original in place.
	var old []string
	if mid != "" && r.o.Collision != CollisionCopy {
		have, err := r.messageIDs(ctx, fid)
		if err != nil {
			return "", err
		}
		if ids := have[mid]; len(ids) > 0 {
			if r.o.Collision == CollisionSkip {
				return "skipped", nil
			}
			old = slices.Clone(ids)
		}
	}
	// Graph takes MIME as base64 in a text/plain body.
	ri, err := r.users().MailFolders().ByMailFolderId(fid).Messages().ToPostRequestInformation(ctx, models.NewMessage(), nil)
	if err != nil {
		return "", err
	}
	ri.Headers.Remove("Content-Type")
	ri.SetStreamContentAndContentType([]byte(base64.StdEncoding.EncodeToString(mime)), "text/plain")
	body, err := r.c.Send(ctx, ri)
	if err != nil {
		return "", err
	}
	var created struct {
		ID                string `json:"id"`
		InternetMessageID string `json:"internetMessageId"`
	}
	_ = json.Unmarshal(body, &created)
	have := r.existing[fid]
	if len(old) > 0 {
		var kept []string
		var errs []string
		for _, id := range old {
			r.c.Count()
			if err := r.users().Messages().ByMessageId(id).Delete(ctx, nil); err != nil && !isNotFound(err) {
				kept = append(kept, id)
				errs = append(errs, graph.Describe(err))
			}
		}
		if have != nil {
			have[mid] = kept
		}
		outcome = "replaced"
		if len(errs) > 0 {
			if have != nil && created.ID != "" {
				have[mid] = append(have[mid], created.ID)
			}
			return "", fmt.Errorf("replace: restored, but the existing message could not be deleted and is still there beside it (%s)", strings.Join(errs, "; "))
		}
	}
	if have != nil && created.InternetMessageID != "" {
		have[created.InternetMessageID] = append(have[created.InternetMessageID], created.ID)
	}
	return outcome, nil
}

// folder returns the id of TargetFolder/<original path>, creating what
// is missing.
func (r *restorer) folder(ctx context.Context, original string) (string, error) {
	full := r.o.TargetFolder
	if original != "" {
		full += "/" + original
	}
	if id, ok := r.paths[full]; ok {
		return id, nil
	}
	parent, p := "", ""
	for i, name := range strings.Split(full, "/") {
		if i > 0 {
			p += "/"
		}
		p += name
		if id, ok := r.paths[p]; ok {
			parent = id
			continue
		}
		id, err := r.child(ctx, parent, name)
		if err != nil {
			err = fmt.Errorf("folder %q: %w", p, err)
			if i == 0 {
				return "", &fatalRestoreError{fmt.Errorf("restore into %s: %w", r.o.TargetUserID, err)}
			}
			return "", err
		}
		r.paths[p] = id
		parent = id
	}
	return parent, nil
}

// child finds the folder name under parent ("" for the top) or creates it.
func (r *restorer) child(ctx context.Context, parent, name string) (string, error) {
	kids, ok := r.children[parent]
	if !ok {
		var ri *abstractions.RequestInformation
		var err error
		if parent == "" {
			ri, err = r.users().MailFolders().ToGetRequestInformation(ctx, &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemMailFoldersRequestBuilderGetQueryParameters{Top: ptr(int32(999))}})
		} else {
			ri, err = r.users().MailFolders().ByMailFolderId(parent).ChildFolders().ToGetRequestInformation(ctx, &users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemMailFoldersItemChildFoldersRequestBuilderGetQueryParameters{Top: ptr(int32(999))}})
		}
		if err != nil {
			return "", err
		}
		if _, err := r.c.Pages(ctx, ri, func(raw json.RawMessage) error {
			var f struct{ ID, DisplayName string }
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			kids = append(kids, folderRef{f.ID, f.DisplayName})
			return nil
		}); err != nil {
			return "", err
		}
		r.children[parent] = kids
	}
	for _, k := range kids {
		if strings.EqualFold(k.name, name) {
			return k.id, nil
		}
	}
	f := models.NewMailFolder()
	f.SetDisplayName(&name)
	r.c.Count()
	var created models.MailFolderable
	var err error
	if parent == "" {
		created, err = r.users().MailFolders().Post(ctx, f, nil)
	} else {
		created, err = r.users().MailFolders().ByMailFolderId(parent).ChildFolders().Post(ctx, f, nil)
	}
	if err != nil {
		return "", err
	}
	id := *created.GetId()
	r.children[parent] = append(kids, folderRef{id, name})
	r.children[id] = nil // new: no children to list
	r.existing[id] = map[string][]string{}
	return id, nil
}

// messageIDs lists the Internet Message-IDs already in a folder.
func (r *restorer) messageIDs(ctx context.Context, fid string) (map[string][]string, error) {
	if have, ok := r.existing[fid]; ok {
		return have, nil
	}
	ri, err := r.users().MailFolders().ByMailFolderId(fid).Messages().ToGetRequestInformation(ctx, &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{Select: []string{"id", "internetMessageId"}, Top: ptr(int32(1000))}})
	if err != nil {
		return nil, err
	}
	have := map[string][]string{}
	if _, err := r.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var m struct{ ID, InternetMessageID string }
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		have[m.InternetMessageID] = append(have[m.InternetMessageID], m.ID)
		return nil
	}); err != nil {
		return nil, err
	}
	r.existing[fid] = have
	return have, nil
}

func (r *restorer) contact(ctx context.Context, it vault.Item) (string, error) {
	if r.contactFolder == "" {
		id, err := r.ensureContactFolder(ctx)
		if err != nil {
			return "", &fatalRestoreError{fmt.Errorf("restore into %s: contact folder %q: %w", r.o.TargetUserID, r.o.TargetFolder, err)}
		}
		r.contactFolder = id
	}
	body, err := r.body(it)
	if err != nil {
		return "", err
	}
	ri, err := r.users().ContactFolders().ByContactFolderId(r.contactFolder).Contacts().ToPostRequestInformation(ctx, models.NewContact(), nil)
	if err != nil {
		return "", err
	}
	_, err = r.postJSON(ctx, ri, body)
	return "restored", err
}

func (r *restorer) ensureContactFolder(ctx context.Context) (string, error) {
	ri, err := r.users().ContactFolders().ToGetRequestInformation(ctx, nil)
	if err != nil {
		return "", err
	}
	found := ""
	if _, err := r.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var f struct{ ID, DisplayName string }
		if json.Unmarshal(raw, &f) == nil && strings.EqualFold(f.DisplayName, r.o.TargetFolder) {
			found = f.ID
		}
		return nil
	}); err != nil {
		return "", err
	}
	if found != "" {
		return found, nil
	}
	f := models.NewContactFolder()
	f.SetDisplayName(&r.o.TargetFolder)
	r.c.Count()
	created, err := r.users().ContactFolders().Post(ctx, f, nil)
	if err != nil {
		return "", err
	}
	return *created.GetId(), nil
}

// serverOwned are properties Graph sets itself and refuses or ignores on
// create.
var serverOwned = []string{"id", "@odata.etag", "@odata.context", "changeKey", "createdDateTime", "lastModifiedDateTime",
	"parentFolderId", "iCalUId", "uid", "webLink", "seriesMasterId", "originalStart"}

// body is the stored JSON of a contact or event without server-owned
// properties, as a create request takes it.
func (r *restorer) body(it vault.Item) ([]byte, error) {
	raw, err := r.read(it)
	if err != nil {
		return nil, fmt.Errorf("read from vault: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("stored JSON: %w", err)
	}
	for _, k := range serverOwned {
		delete(m, k)
	}
	return json.Marshal(m)
}

// postJSON sends body as the JSON of a create request built by the SDK.
// The body is set raw because the SDK's backing store would serialize a
// model parsed from storage as "unchanged", that is empty.
func (r *restorer) postJSON(ctx context.Context, ri *abstractions.RequestInformation, body []byte) ([]byte, error) {
	ri.Headers.Remove("Content-Type")
	ri.SetStreamContentAndContentType(body, "application/json")
	return r.c.Send(ctx, ri)
}

func ptr[T any](v T) *T { return &v }
