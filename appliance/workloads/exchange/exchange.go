package exchange

import (
	"bytes"
	"context"
	"io"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// Name is the workload's name: the first element of its paths in a
// snapshot and its metrics label.
const Name = "exchange"

// Workload protects every mailbox of the tenant: the mail, contacts and
// calendars of users with a mailbox, shared mailboxes included.
type Workload struct {
	// Options tunes each mailbox's backup.
	Options Options
}

// Name implements workloads.Workload.
func (Workload) Name() string { return Name }

// Noun implements workloads.Workload.
func (Workload) Noun() (string, string) { return "mailbox", "mailboxes" }

// Discover finds the mailboxes: every user with a mail address or a
// licence (unlicensed users without an address have none).
func (Workload) Discover(_ context.Context, t workloads.Tenant) ([]workloads.Unit, error) {
	var out []workloads.Unit
	for _, u := range t.Users {
		if u.Mail == "" && !u.Licensed {
			continue
		}
		unit := workloads.UserUnit(u)
		unit.Shared = !u.Licensed
		out = append(out, unit)
	}
	return out, nil
}

// Kinds implements workloads.Restorer.
func (Workload) Kinds() map[string]string {
	return map[string]string{"mail": catalog.KindMessage, "contacts": catalog.KindContact, "calendar": catalog.KindEvent}
}

// Restore implements workloads.Restorer with RestoreItems.
func (Workload) Restore(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	read := func(it vault.Item) ([]byte, error) {
		var buf bytes.Buffer
		err := src.WriteItem(&buf, it)
		return buf.Bytes(), err
	}
	// A reader stops reading early by closing its end of the pipe, which
	// ends WriteItem with an error nobody reads.
	open := func(it vault.Item) (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(src.WriteItem(pw, it)) }()
		return pr, nil
	}
	return restoreItems(ctx, g, read, open, items, o)
}

// Backup implements workloads.Workload with BackupMailbox.
func (w Workload) Backup(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit) (workloads.Result, error) {
	return BackupMailbox(ctx, g, sink, prev, u, w.Options)
}

// Options tunes a mailbox backup. The zero value backs up mail only.
type Options struct {
	IncludeContacts, IncludeCalendars bool
	// PageSize is the page size asked for with Prefer odata.maxpagesize
	// (default 200).
	PageSize int
	// ItemRetries is how often a failed or truncated download is retried
	// before the item is reported as failed (default 3; negative: none).
	ItemRetries int
}

func (o Options) withDefaults() Options {
	if o.PageSize <= 0 {
		o.PageSize = 200
	}
	if o.ItemRetries == 0 {
		o.ItemRetries = 3
	}
	if o.ItemRetries < 0 {
		o.ItemRetries = 0
	}
	return o
}

// Meta keys this package sets besides the catalog's.
const (
	MetaChangeKey = "change_key" // Graph changeKey of the stored version
	MetaModified  = "modified"   // lastModifiedDateTime of the stored version, RFC 3339 UTC
)

// Kinds of collections, the directory names under exchange/<user>/.
const (
	kindMail      = "mail"
	kindContacts  = "contacts"
	kindCalendars = "calendars"
)

const (
	folderRecord = "_folder.json"
	userRecord   = "_user.json"
	stateDir     = "_state"
)

// PathPrefix is where a user's items live in a snapshot:
// "exchange/<userID>/".
func PathPrefix(userID string) string { return workloads.Prefix(Name, userID) }

func collectionPrefix(userID, kind, collID string) string {
	return PathPrefix(userID) + kind + "/" + workloads.EscapeID(collID) + "/"
}

func statePath(userID, kind, collID string) string {
	return PathPrefix(userID) + stateDir + "/" + kind + "/" + workloads.EscapeID(collID) + ".delta"
}
