// Package workloads says what a workload is: a kind of Microsoft 365 data
// (Exchange mailboxes, OneDrive drives, SharePoint sites, ...) that the
// agent finds as protected units in the tenant and backs up, one unit at a
// time, into the snapshot being written.
//
// A workload lives in workloads/NAME/ and implements Workload; the agent
// registers it with one line (see agent/workloads.go) and then discovers
// its units, carries departed ones, backs each up against the previous
// snapshot, counts coverage and reports on it without knowing anything else
// of the workload.
//
// Every workload keeps a unit's items under one path prefix of the
// snapshot, "NAME/<escaped unit id>/", so that the agent can carry a unit
// over as a whole and tell which units a snapshot holds.
package workloads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/strongroom/strongroom/appliance/graph"
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

// Unit is one protected thing of a workload as the agent found it in the
// tenant: a mailbox, a user's drive, a site.
type Unit struct {
	// ID is the Graph id the unit's items are stored under.
	ID string `json:"id"`
	// Name is how operators name it: a user principal name for a mailbox
	// or a drive, a site's URL.
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	// OwnerID is the Graph id of the user a unit belongs to, when it
	// belongs to one (a mailbox's or a drive's user).
	OwnerID string `json:"owner_id,omitempty"`
	// Deleted: the unit is gone from the tenant (its data is kept).
	// Disabled: its user cannot sign in. Shared: a mailbox without a
	// licence of its own (shared or resource mailbox).
	Deleted  bool `json:"deleted,omitempty"`
	Disabled bool `json:"disabled,omitempty"`
	Shared   bool `json:"shared,omitempty"`
}

// Result says what backing up one unit did.
type Result struct {
	// Collections counts containers enumerated (mail folders, contact
	// folders, calendars, drive folders, lists).
	Collections int `json:"collections"`
	// Items counts user items in the new snapshot: NewItems downloaded,
	// CarriedItems carried over unchanged, MovedItems found elsewhere than
	// in the previous snapshot and stored by reference to the content the
	// vault holds, not downloaded again.
	Items        int `json:"items"`
	NewItems     int `json:"new_items"`
	CarriedItems int `json:"carried_items"`
	MovedItems   int `json:"moved_items"`
	// RemovedItems counts items of the previous snapshot that the new one
	// lacks: deleted in the tenant (an item moved elsewhere is not removed).
	RemovedItems int `json:"removed_items"`
	// Failed counts items that could not be downloaded and collections
	// that could not be enumerated; Errors names each with the reason.
	Failed int `json:"failed_items"`
	// Bytes is the content downloaded.
	Bytes int64 `json:"downloaded_bytes"`
	// Requests counts Graph calls made (the governor's retries excluded).
	Requests int64    `json:"graph_requests"`
	Errors   []string `json:"errors,omitempty"`
	// Vanished names items that were listed but answered 404 when
	// downloaded (deleted or moved in between): they are not in the
	// snapshot, nor counted in Items or Failed.
	Vanished []string `json:"vanished,omitempty"`
	// Written counts what was put or added to the sink, of every kind
	// (content, folder and unit records, delta state). When a backup
	// fails with Written 0 the agent carries the unit over itself.
	Written int `json:"written"`
	// Resynced names the collections whose delta token was refused and
	// that were enumerated in full.
	Resynced []string `json:"resynced,omitempty"`
}

// Add adds the counts of r to the receiver (Errors, Vanished and Resynced
// are not merged).
func (t *Result) Add(r Result) {
	t.Collections += r.Collections
	t.Items += r.Items
	t.NewItems += r.NewItems
	t.CarriedItems += r.CarriedItems
	t.MovedItems += r.MovedItems
	t.RemovedItems += r.RemovedItems
	t.Failed += r.Failed
	t.Bytes += r.Bytes
	t.Requests += r.Requests
	t.Written += r.Written
}

// ErrUnitGone is wrapped by Backup when the unit (or its owner) no longer
// exists in the tenant: the agent carries its previous items over and
// marks it departed.
var ErrUnitGone = errors.New("no longer exists in the tenant")

// ErrStore is wrapped by Backup when the sink (the vault) failed to store
// or record an item. It is no failure of the unit: the snapshot being
// written is incomplete and must be aborted, and the run with it.
var ErrStore = errors.New("vault write failed")

// UserUnit is the unit of a user's own data (a mailbox, a drive): named by
// the user's principal name and owned by the user.
func UserUnit(u graph.User) Unit {
	return Unit{ID: u.ID, Name: u.UPN, DisplayName: u.DisplayName, OwnerID: u.ID, Disabled: !u.Enabled}
}

// OrEmpty is prev, or an empty Previous when there is none.
func OrEmpty(prev Previous) Previous {
	if prev == nil {
		return EmptyPrevious{}
	}
	return prev
}

// ReadRecord reads the record of the unit named what ("site Sales") at
// path, as its backup begins. A 404 means the unit is gone: the error
// wraps ErrUnitGone. Any other error is told through describe.
func ReadRecord(ctx context.Context, c *graph.Caller, path, what string, describe func(error) string) ([]byte, error) {
	rec, err := c.Get(ctx, path, nil)
	if err != nil {
		if st, _ := graph.ErrorOf(err); st == 404 {
			return nil, fmt.Errorf("back up %s: %w (%s)", what, ErrUnitGone, graph.Describe(err))
		}
		return nil, fmt.Errorf("back up %s: %s", what, describe(err))
	}
	return rec, nil
}

// Finish ends the backup of the unit named what, which ended with err:
// it adds the requests c made to res and, when err is nil, returns a
// write the sink refused (sinkErr) as the unit's error, wrapping
// ErrStore.
func Finish(what string, c *graph.Caller, res *Result, err, sinkErr error) (Result, error) {
	res.Requests += c.Requests()
	if err == nil && sinkErr != nil {
		err = fmt.Errorf("back up %s: %w: %w", what, ErrStore, sinkErr)
	}
	return *res, err
}

// Tenant is what the agent knows of the tenant when a run starts, shared
// by every workload's discovery.
type Tenant struct {
	Graph *graph.Client
	// Users is the directory, read once per run.
	Users []graph.User
}

// Workload is one kind of Microsoft 365 data the appliance protects.
type Workload interface {
	// Name is the workload's name, the first element of its paths in a
	// snapshot and the value of the metrics' workload label: "exchange".
	Name() string
	// Noun names one unit and many in reports: "mailbox", "mailboxes".
	Noun() (one, many string)
	// Discover lists the units of the tenant this workload protects.
	Discover(ctx context.Context, t Tenant) ([]Unit, error)
	// Backup writes unit u into sink as of now, carrying unchanged items
	// of prev over. It returns an error wrapping ErrUnitGone when the unit
	// is gone, wrapping ErrStore when the sink failed, and any other error
	// when the unit could not be backed up at all; failures of single
	// items or collections are counted in Result instead.
	Backup(ctx context.Context, g *graph.Client, sink Sink, prev Previous, u Unit) (Result, error)
}

// Prefix is where the items of unit id of workload name live in a
// snapshot: "name/<escaped id>/".
func Prefix(name, id string) string { return name + "/" + EscapeID(id) + "/" }

// EscapeID makes a Graph id safe as one path element: '%' and '/' are
// percent-encoded, which keeps distinct ids distinct.
func EscapeID(id string) string {
	if !strings.ContainsAny(id, "%/") {
		return id
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(id)
}

// UnescapeID reverses EscapeID.
func UnescapeID(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	return strings.NewReplacer("%2F", "/", "%25", "%").Replace(s)
}

// EmptyPrevious is the previous state of a first backup: it holds nothing.
type EmptyPrevious struct{}

// Get finds nothing.
func (EmptyPrevious) Get(string) (vault.Item, bool) { return vault.Item{}, false }

// Each visits nothing.
func (EmptyPrevious) Each(string, func(vault.Item) error) error { return nil }

// Read has nothing to read.
func (EmptyPrevious) Read(vault.Item) ([]byte, error) {
	return nil, errors.New("no previous snapshot")
}
