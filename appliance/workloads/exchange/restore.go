package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// Collision policies, as workloads names them.
const (
	CollisionSkip    = workloads.CollisionSkip
	CollisionCopy    = workloads.CollisionCopy
	CollisionReplace = workloads.CollisionReplace
)

// Outcomes of restoring one item.
const (
	outcomeRestored = "restored"
	outcomeSkipped  = "skipped"
	outcomeReplaced = "replaced"
)

// RestoreItems' options. TargetUserID is the mailbox written to (id or
// UPN).
//
// Where items go: with TargetFolder "" each item goes back to its
// original place in the target mailbox (mail to its folder, by immutable
// id while the folder exists, else by its path; contacts to their contact
// folder, events to their calendar), missing folders and calendars
// created, existing ones merged into; restoring into another
// user's mailbox puts everything beneath "Restored from <user> <snapshot
// time>" instead. A TargetFolder names the parent explicitly: an item goes
// to TargetFolder/<its folder path below the parent of SourceFolder>, so
// "--folder 'Inbox/Signed Contracts' --target-folder Inbox" puts the
// folder back at Inbox/Signed Contracts. Contact paths start at the
// default contacts folder ("Contacts"), whose place a TargetFolder (made
// below it) takes; calendars cannot nest, so an event goes to the
// calendar "<TargetFolder> - <calendar>". Beneath the folder chosen for
// another user's mailbox, items keep their whole original path.
//
// Collisions: a message collides with one of the same Internet
// Message-ID in its target folder; a contact or an event with one of the
// same immutable ID (restoring into its own mailbox) or the same content
// key in its target folder or calendar: a contact's display name and
// e-mail addresses, an event's subject, start and end. Collision is skip
// (default: keep the existing item), copy (restore beside it) or replace
// (restore, then delete the existing one).

// RestoreItems writes items (messages, contacts, events of any snapshot)
// into the target mailbox with g, which should be the restore app's
// client. read returns an item's stored content. Items of other kinds
// (folder records, state) are ignored. Failures of single items are
// counted and named in the result; an error is returned only when nothing
// can be restored (bad options, target mailbox or folder unusable).
func RestoreItems(ctx context.Context, g *graph.Client, read func(vault.Item) ([]byte, error), items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	return restoreItems(ctx, g, read, nil, items, o)
}

// restoreItems is RestoreItems with open, which streams an item's stored
// content (nil: read's bytes are used).
func restoreItems(ctx context.Context, g *graph.Client, read func(vault.Item) ([]byte, error), open func(vault.Item) (io.ReadCloser, error),
	items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	if o.TargetUserID == "" {
		return res, errors.New("restore: no target mailbox given")
	}
	o, err := o.WithCollision()
	if err != nil {
		return res, err
	}
	r := newRestorer(g, read, o)
	if open != nil {
		r.open = open
	}
	for _, it := range items {
		if id := it.Meta[catalog.MetaItemID]; id != "" && r.own(it) {
			r.ownIDs[id] = true
		}
	}
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
			outcome, err = r.event(ctx, it)
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
		case outcome == outcomeSkipped:
			res.Skipped++
		case outcome == outcomeReplaced:
			res.Replaced++
		default:
			res.Restored++
		}
	}
	res.Folder = r.chosenFolder
	return res, nil
}

// fatalRestoreError ends a restore: the target itself is unusable.
type fatalRestoreError struct{ err error }

func (e *fatalRestoreError) Error() string { return e.err.Error() }

type restorer struct {
	c    *graph.Caller
	o    workloads.RestoreOptions
	read func(vault.Item) ([]byte, error)
	// open streams an item's content from its start, anew on every call:
	// a large message is read several times rather than held.
	open func(vault.Item) (io.ReadCloser, error)
	// mail and contacts are the target's folder trees, as far as seen.
	mail, contacts *tree
	// existing maps mail folder id -> Message-ID -> message ids; byID
	// maps a backed-up mail folder id to the target's folder of that id
	// ("" when it has none).
	existing map[string]map[string][]string
	byID     map[string]string
	// calendars are the target's calendars, once listed; pim maps a
	// contact folder or calendar id to what it holds.
	calendars []folderRef
	pim       map[string]*holdings
	// chosenFolder is the folder this restorer chose itself (restoring
	// into another mailbox without a TargetFolder).
	chosenFolder string
	// ownIDs are the immutable ids of the items being restored into their
	// own mailbox.
	ownIDs map[string]bool
}

func newRestorer(g *graph.Client, read func(vault.Item) ([]byte, error), o workloads.RestoreOptions) *restorer {
	r := &restorer{c: newCaller(g, 0), o: o, read: read, existing: map[string]map[string][]string{}, pim: map[string]*holdings{}, ownIDs: map[string]bool{}, byID: map[string]string{}}
	r.open = func(it vault.Item) (io.ReadCloser, error) {
		b, err := read(it)
		return io.NopCloser(bytes.NewReader(b)), err
	}
	r.mail = r.mailTree()
	r.contacts = r.contactTree()
	return r
}

// userPath is the Graph path of the target mailbox's user.
func (r *restorer) userPath() string { return "/users/" + url.PathEscape(r.o.TargetUserID) }

// own reports whether it was backed up from the target mailbox itself:
// only then can its immutable ID still be there.
func (r *restorer) own(it vault.Item) bool {
	return it.Meta[catalog.MetaUserID] == r.o.TargetUserID || strings.EqualFold(it.Meta[catalog.MetaUser], r.o.TargetUserID)
}

// placement says where an item goes (see RestoreItems' options): base
// is the folder path it goes beneath, "" when it goes back to its original
// place, and rel its folder path below base.
func (r *restorer) placement(it vault.Item) (base, rel string) {
	original := it.Meta[catalog.MetaFolder]
	base = strings.Trim(r.o.TargetFolder, "/")
	if base == "" && !r.own(it) {
		who := it.Meta[catalog.MetaUser]
		if who == "" {
			who = it.Meta[catalog.MetaUserID]
		}
		base = "Restored from " + who
		if !r.o.SnapshotTime.IsZero() {
			base += " " + r.o.SnapshotTime.UTC().Format("2006-01-02 15.04")
		}
		r.chosenFolder = base
		return base, original
	}
	if base == "" {
		return "", original
	}
	return base, relativeTo(original, r.o.SourceFolder)
}

// relativeTo is folder's path below the parent of source ("" or a
// folder that is not beneath source's parent: all of it).
func relativeTo(folder, source string) string {
	source = strings.Trim(source, "/")
	i := strings.LastIndex(source, "/")
	if i < 0 {
		return folder
	}
	parent := source[:i] + "/"
	if len(folder) > len(parent) && strings.EqualFold(folder[:len(parent)], parent) {
		return folder[len(parent):]
	}
	return folder
}

func splitPath(p string) []string {
	var out []string
	for _, e := range strings.Split(p, "/") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

// replaceOld deletes the items an item just restored replaces, through
// del. With replace, the existing copies are deleted only once the new
// one exists: a create that fails leaves the original in place. It
// returns the ids still there.
func (r *restorer) replaceOld(ctx context.Context, old []string, del func(ctx context.Context, id string) error) ([]string, error) {
	var kept, errs []string
	for _, id := range old {
		if err := del(ctx, id); err != nil && !isNotFound(err) {
			kept = append(kept, id)
			errs = append(errs, graph.Describe(err))
		}
	}
	if len(errs) > 0 {
		return kept, fmt.Errorf("replace: restored, but the existing item could not be deleted and is still there beside it (%s)", strings.Join(errs, "; "))
	}
	return nil, nil
}

// deletePath sends a DELETE to a path under the Graph root.
func (r *restorer) deletePath(ctx context.Context, path string) error {
	ri, err := r.c.Request(path, nil)
	if err != nil {
		return err
	}
	ri.Method = abstractions.DELETE
	_, err = r.c.Send(ctx, ri)
	return err
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
	// A series' exceptions and deleted occurrences are written after
	// the series is created (restoreSeries).
	delete(m, export.AnnotationExceptions)
	delete(m, export.AnnotationCancelled)
	return json.Marshal(m)
}

// postJSON sends body as the JSON of a create request to a path under
// the Graph root and returns the created item's id. The body is sent raw
// because the SDK's backing store would serialize a model parsed from
// storage as "unchanged", that is empty.
func (r *restorer) postJSON(ctx context.Context, path string, body []byte) (string, error) {
	out, err := r.c.Write(ctx, abstractions.POST, path, "application/json", body)
	if err != nil {
		return "", err
	}
	var created struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(out, &created)
	return created.ID, nil
}

func ptr[T any](v T) *T { return &v }
