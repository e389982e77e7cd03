package exchange

import (
	"errors"
	"io"
	"strings"

	"github.com/strongroom/strongroom/storage/vault"
)

// Sink receives the items of the snapshot being written; vault.Writer
// satisfies it. Put and Add are called from several goroutines at once.
type Sink interface {
	// Put stores new content read from r and records the item.
	Put(it vault.Item, r io.Reader) (vault.Item, error)
	// Add records an item whose content is already in the vault.
	Add(it vault.Item) error
}

// Previous is the last snapshot's items, for carrying unchanged items over
// without downloading them. It is only read, from several goroutines.
type Previous interface {
	// Get returns the item stored at path.
	Get(path string) (vault.Item, bool)
	// Each calls fn for every item whose path starts with prefix.
	Each(prefix string, fn func(vault.Item) error) error
	// Read returns the content of a previous item (used for small ones:
	// delta state).
	Read(it vault.Item) ([]byte, error)
}

// User is the mailbox to back up, as the agent found it in the directory.
type User struct {
	ID, UPN, DisplayName      string
	Deleted, Disabled, Shared bool
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

// Result says what a mailbox backup did.
type Result struct {
	User User
	// Folders counts collections (mail folders, contact folders,
	// calendars) enumerated.
	Folders int
	// Items counts messages, contacts and events in the new snapshot:
	// NewItems downloaded, CarriedItems carried over, MovedItems moved to
	// another folder since the previous snapshot (stored by reference to
	// the content it holds, not downloaded again).
	Items, NewItems, CarriedItems, MovedItems int
	// RemovedItems counts items of the previous snapshot that are gone
	// (deleted or moved away in the mailbox).
	RemovedItems int
	// Failed counts items that could not be downloaded and collections
	// that could not be enumerated; Errors names each one with the reason.
	Failed int
	// Bytes is the content downloaded.
	Bytes int64
	// Requests counts Graph calls made (the governor's retries excluded).
	Requests int64
	Errors   []string
	// Vanished names the items that were listed but answered 404 when
	// downloaded (deleted or moved in between): they are not in the
	// snapshot, nor counted in Items or Failed.
	Vanished []string `json:",omitempty"`
	// Written counts what was put or added to the sink, of every kind
	// (content, folder and user records, delta state).
	Written int
	// Resynced names the collections ("mail/Inbox") whose delta token was
	// refused and that were enumerated in full.
	Resynced []string
}

// ErrMailboxGone is wrapped by BackupMailbox when the user or their
// mailbox no longer exists (404): the agent carries their previous items
// over and marks them departed.
var ErrMailboxGone = errors.New("mailbox no longer exists")

// ErrStore is wrapped by BackupMailbox when the sink (the vault) failed
// to store or record an item. It is no failure of the mailbox: the
// snapshot being written is incomplete and must be aborted, and the run
// with it.
var ErrStore = errors.New("vault write failed")

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
func PathPrefix(userID string) string { return "exchange/" + EscapeID(userID) + "/" }

// EscapeID makes a Graph id safe as one path element: '%' and '/' are
// percent-encoded, which keeps distinct ids distinct.
func EscapeID(id string) string {
	if !strings.ContainsAny(id, "%/") {
		return id
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(id)
}

func collectionPrefix(userID, kind, collID string) string {
	return PathPrefix(userID) + kind + "/" + EscapeID(collID) + "/"
}

func statePath(userID, kind, collID string) string {
	return PathPrefix(userID) + stateDir + "/" + kind + "/" + EscapeID(collID) + ".delta"
}
