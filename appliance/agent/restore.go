package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/storage/safefs"
	"github.com/strongroom/strongroom/storage/vault"
)

// Selection names items of one snapshot: a user's whole mailbox, a folder
// (recursively), one kind of data, or single items by path.
type Selection struct {
	Snapshot string   `json:"snapshot"`         // id, unique prefix, or "latest"
	User     string   `json:"user,omitempty"`   // source mailbox, UPN or id
	Folder   string   `json:"folder,omitempty"` // display path, e.g. "Inbox/Signed Contracts"
	Kind     string   `json:"kind,omitempty"`   // mail, contacts, calendar; empty: all
	Paths    []string `json:"paths,omitempty"`  // exact vault item paths
	// Version selects, instead of files as they were, their earlier
	// version of this id (as ls shows under NAME.versions/); files
	// without one are not selected.
	Version string `json:"version,omitempty"`
}

// restoreKinds maps the names of restorable kinds ("mail", "files") to
// catalog kinds, over every registered workload that can restore.
func (a *Agent) restoreKinds() map[string]string {
	out := map[string]string{}
	for _, w := range a.workloads {
		if r, ok := w.(workloads.Restorer); ok {
			for name, kind := range r.Kinds() {
				out[name] = kind
			}
		}
	}
	return out
}

func kindNames(kinds map[string]string) string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// match reports whether an item is selected; kinds are the restorable
// kinds by name.
func (s Selection) match(it vault.Item, kinds map[string]string) bool {
	m := it.Meta
	kind := m[catalog.MetaKind]
	if s.Version != "" {
		// An earlier version stands in for its file.
		if kind != catalog.KindFileVersion || m[catalog.MetaVersion] != s.Version {
			return false
		}
		kind = catalog.KindFile
	}
	restorable := false
	for _, k := range kinds {
		restorable = restorable || kind == k
	}
	if !restorable {
		return false
	}
	if len(s.Paths) > 0 {
		for _, p := range s.Paths {
			if p == it.Path {
				return true
			}
		}
		return false
	}
	if s.User != "" && !strings.EqualFold(m[catalog.MetaUser], s.User) && m[catalog.MetaUserID] != s.User {
		return false
	}
	if s.Kind != "" && kind != kinds[s.Kind] {
		return false
	}
	if f := strings.Trim(s.Folder, "/"); f != "" {
		got := m[catalog.MetaFolder]
		if !strings.EqualFold(got, f) && !strings.HasPrefix(strings.ToLower(got), strings.ToLower(f)+"/") {
			return false
		}
	}
	return true
}

// ErrNoSnapshot refuses a restore or export that names no snapshot: an
// empty ID is a mistake (an unset variable, an empty argument), not
// a request for the latest backup.
var ErrNoSnapshot = errors.New("no snapshot given: name one (see 'strongroom snapshots') or say 'latest'")

// resolve finds the snapshot and the selected items of the restorable
// kinds.
func (a *Agent) resolve(sel Selection) (vault.Snapshot, []vault.Item, error) {
	return a.resolveKinds(sel, a.restoreKinds())
}

// resolveKinds finds the snapshot and the selected items of kinds (by
// name).
func (a *Agent) resolveKinds(sel Selection, kinds map[string]string) (vault.Snapshot, []vault.Item, error) {
	if strings.TrimSpace(sel.Snapshot) == "" {
		return vault.Snapshot{}, nil, ErrNoSnapshot
	}
	if sel.Kind != "" && kinds[sel.Kind] == "" {
		return vault.Snapshot{}, nil, fmt.Errorf("kind %q: use one of %s", sel.Kind, kindNames(kinds))
	}
	if sel.User == "" && len(sel.Paths) == 0 {
		return vault.Snapshot{}, nil, invalid("user paths", "name the mailbox, drive or site to restore from, or the items")
	}
	snap, err := a.v.Snapshot(sel.Snapshot)
	if err != nil {
		return snap, nil, err
	}
	var items []vault.Item
	err = a.v.EachItem(snap, func(it vault.Item) error {
		if sel.match(it, kinds) {
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return snap, nil, err
	}
	if len(items) == 0 {
		return snap, nil, fmt.Errorf("snapshot %s holds nothing matching %s; browse it with 'strongroom ls %s'", snap.ID, sel.describe(), snap.ID)
	}
	return snap, items, nil
}

func (s Selection) describe() string {
	var parts []string
	if s.User != "" {
		parts = append(parts, "user "+s.User)
	}
	if s.Folder != "" {
		parts = append(parts, "folder "+s.Folder)
	}
	if s.Kind != "" {
		parts = append(parts, "kind "+s.Kind)
	}
	if len(s.Paths) > 0 {
		parts = append(parts, fmt.Sprintf("%d item paths", len(s.Paths)))
	}
	return strings.Join(parts, ", ")
}

// RestoreRequest restores a selection into a mailbox or drive.
type RestoreRequest struct {
	Selection
	TargetUser   string `json:"target_user,omitempty"`   // default: the source mailbox
	TargetFolder string `json:"target_folder,omitempty"` // parent to restore beneath; default: each workload's (mail and files: the original places)
	Collision    string `json:"collision,omitempty"`     // skip (default), copy, replace
	// AllVersions and Permissions (files): see workloads.RestoreOptions.
	AllVersions bool `json:"all_versions,omitempty"`
	Permissions bool `json:"permissions,omitempty"`
	// From and To (Teams channels): a time window, see
	// workloads.RestoreOptions.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// RestoreReport is what a restore did.
type RestoreReport struct {
	workloads.RestoreResult
	Workload     string  `json:"workload"`
	Snapshot     string  `json:"snapshot"`
	Selected     int     `json:"selected"`
	TargetUser   string  `json:"target_user"`
	TargetFolder string  `json:"target_folder"`
	Seconds      float64 `json:"seconds"`
}

// Restore writes items from a snapshot back into a mailbox, using the
// restore app's credentials when configured.
func (a *Agent) Restore(ctx context.Context, req RestoreRequest) (*RestoreReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	start := a.now()
	switch req.Collision {
	case "":
		req.Collision = "skip"
	case "skip", "copy", "replace":
	default:
		return nil, fmt.Errorf("collision policy %q: use skip, copy or replace", req.Collision)
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return nil, invalid("from to", "the time window ends before it begins: --from must be before --to")
	}
	snap, items, err := a.resolve(req.Selection)
	if err != nil {
		return nil, err
	}
	picked := len(items)
	if items, err = a.withHistory(snap, items, req); err != nil {
		return nil, err
	}
	if items, err = a.withTeam(snap, items); err != nil {
		return nil, err
	}
	g, err := a.graphClient(true)
	if err != nil {
		return nil, err
	}
	target, name, err := a.restoreTarget(ctx, g, req.TargetUser, items[0])
	if err != nil {
		return nil, err
	}
	w, err := a.restorerOf(items)
	if err != nil {
		return nil, err
	}
	if (!req.From.IsZero() || !req.To.IsZero()) && w.Name() != teams.Name {
		return nil, invalid("from to", "--from and --to select Teams channel messages of a time window; select a team (--user its mail) and a channel (--folder)")
	}
	job := itemsJob("restore", "restoring", "items", fmt.Sprintf("restoring %d items", picked), a.now(), items)
	job.throttle = throttleSince(g.Governor, g.Governor.Stats())
	defer a.startJob(job)()
	opts := workloads.RestoreOptions{TargetUserID: target, TargetFolder: req.TargetFolder, SourceFolder: req.Folder,
		SnapshotTime: snap.Created, Collision: req.Collision, AllVersions: req.AllVersions, Permissions: req.Permissions,
		From: req.From, To: req.To}
	res, err := w.(workloads.Restorer).Restore(ctx, g, jobSource{next: a.v, a: a, job: job}, items, opts)
	folder := req.TargetFolder
	if folder == "" {
		folder = res.Folder
	}
	rep := &RestoreReport{RestoreResult: res, Workload: w.Name(), Snapshot: snap.ID, Selected: picked, TargetUser: name, TargetFolder: folder, Seconds: time.Since(start).Seconds()}
	return rep, err
}

// restoreTarget resolves the user a restore writes to: the one named
// (UPN or id), or the owner of the first item. It returns the id to
// write to and the name to show (the UPN when known).
func (a *Agent) restoreTarget(ctx context.Context, g *graph.Client, named string, first vault.Item) (id, name string, err error) {
	if named == "" {
		id, name = first.Meta[catalog.MetaUserID], first.Meta[catalog.MetaUser]
		if name == "" {
			name = id
		}
		return id, name, nil
	}
	if !strings.Contains(named, "@") {
		return named, named, nil // an id, or a site's URL
	}
	users, err := g.Users(ctx)
	if err != nil {
		return named, named, nil // the workload resolves a UPN itself
	}
	for _, u := range users {
		if strings.EqualFold(u.UPN, named) {
			return u.ID, u.UPN, nil
		}
	}
	return "", "", invalid("target_user", fmt.Sprintf("target user %s is not in the tenant: name one of its users by UPN or id", named))
}

// restorerOf finds the one workload the items belong to.
func (a *Agent) restorerOf(items []vault.Item) (workloads.Workload, error) {
	names := map[string]bool{}
	for _, it := range items {
		names[it.Meta[catalog.MetaWorkload]] = true
	}
	if len(names) != 1 {
		return nil, invalid("kind", fmt.Sprintf("the selection holds items of %d workloads: restore mail and files separately, one kind at a time", len(names)))
	}
	for _, w := range a.workloads {
		if _, ok := w.(workloads.Restorer); ok && names[w.Name()] {
			return w, nil
		}
	}
	return nil, fmt.Errorf("items of this selection cannot be restored through Graph yet")
}

// RestoreTestReport is the result of a scheduled restore test.
type RestoreTestReport struct {
	Snapshot string    `json:"snapshot"`
	At       time.Time `json:"at"`
	Items    int       `json:"items"`
	Bytes    int64     `json:"bytes"`
	OK       bool      `json:"ok"`
	Failures []string  `json:"failures,omitempty"`
}

// RestoreTest restores a random sample of items of the latest snapshot to
// a scratch directory, checks each against the hash recorded at backup
// time, and removes the scratch copies.
func (a *Agent) RestoreTest(ctx context.Context, sample int) (*RestoreTestReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	if sample <= 0 {
		sample = 50
	}
	snaps, err := a.v.Snapshots()
	if err != nil {
		return nil, err
	}
	latest := latestBackup(snaps)
	if latest == nil {
		return nil, fmt.Errorf("no backup to test yet: run 'strongroom backup' first")
	}
	var pool []vault.Item
	err = a.v.EachItem(*latest, func(it vault.Item) error {
		if it.Meta[catalog.MetaKind] != catalog.KindState {
			pool = append(pool, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	if len(pool) > sample {
		pool = pool[:sample]
	}
	job := itemsJob("restore-test", "checking", "items", fmt.Sprintf("checking %d items", len(pool)), a.now(), pool)
	defer a.startJob(job)()
	src := jobSource{next: a.v, a: a, job: job}
	scratch, err := os.MkdirTemp(a.v.StateDir(), "restore-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	root, err := safefs.OpenRoot(scratch)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rep := &RestoreTestReport{Snapshot: latest.ID, At: a.now(), OK: true}
	for i, it := range pool {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p := fmt.Sprintf("%06d", i)
		f, err := root.Create(p)
		if err == nil {
			err = src.WriteItem(f, it) // checks size and content hash
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			if fi, serr := root.Lstat(p); serr != nil || fi.Size() != it.Size {
				err = fmt.Errorf("scratch copy has the wrong size")
			}
		}
		if err != nil {
			rep.OK = false
			rep.Failures = append(rep.Failures, it.Path+": "+err.Error())
			continue
		}
		rep.Items++
		rep.Bytes += it.Size
	}
	a.obs.RestoreTest(rep.OK, rep.Items, len(rep.Failures))
	a.recordRestoreTest(rep)
	a.stateMu.Lock()
	a.lastTest = rep
	a.stateMu.Unlock()
	return rep, nil
}
