package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// BackupRequest selects what a run backs up.
type BackupRequest struct {
	// Users limits the run to these mailboxes (UPN or id); everyone
	// else's data is carried over unchanged. Empty: every mailbox.
	Users []string `json:"users,omitempty"`
}

// UserReport is one mailbox's outcome.
type UserReport struct {
	exchange.Result
	UPN   string `json:"upn"`
	State string `json:"state"` // backed-up, failed, departed, carried (not selected), no-mailbox
	Error string `json:"error,omitempty"`
}

// BackupReport is what a run did.
type BackupReport struct {
	Snapshot  string       `json:"snapshot"`
	Result    string       `json:"result"` // success, partial, failed
	Started   time.Time    `json:"started"`
	Seconds   float64      `json:"seconds"`
	Users     []UserReport `json:"users"`
	Mailboxes int          `json:"mailboxes"`
	Failed    int          `json:"failed_mailboxes"`
	Departed  []string     `json:"departed,omitempty"`
	Items     int          `json:"items"`
	NewItems  int          `json:"new_items"`
	Carried   int          `json:"carried_items"`
	// Moved counts messages found in another folder than in the previous
	// snapshot, stored from the vault's copy instead of downloaded again.
	Moved       int       `json:"moved_items"`
	Removed     int       `json:"removed_items"`
	FailedItems int       `json:"failed_items"`
	Bytes       int64     `json:"downloaded_bytes"`
	StoredBytes int64     `json:"stored_new_bytes"`
	Requests    int64     `json:"graph_requests"`
	Throttled   int64     `json:"graph_throttled"`
	RetainUntil time.Time `json:"retain_until"`
	Errors      []string  `json:"errors,omitempty"`
}

// latestBackup is the newest snapshot made by a backup run.
func latestBackup(snaps []vault.Snapshot) *vault.Snapshot {
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].Meta["kind"] == "backup" {
			s := snaps[i]
			return &s
		}
	}
	return nil
}

// Backup runs one backup job now and commits one snapshot. The snapshot
// is acknowledged (returned) only once it is durable. A mailbox that fails
// does not fail the others: its previous data is carried over and the
// report says what did not complete.
func (a *Agent) Backup(ctx context.Context, req BackupRequest) (*BackupReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	start := a.v.Clock().Now()
	rep := &BackupReport{Started: start}
	job := &JobStatus{Kind: "backup", Started: start, Message: "listing users"}
	defer a.startJob(job)()
	a.obs.BackupStarted("exchange")
	rep, err := a.backup(ctx, req, rep, job)
	dur := a.v.Clock().Now().Sub(start)
	rep.Seconds = dur.Seconds()
	result := rep.Result
	if err != nil {
		result = "failed"
		rep.Result = "failed"
		rep.Errors = append(rep.Errors, err.Error())
	}
	a.obs.BackupFinished("exchange", result, dur, rep.Items, int(rep.Bytes), rep.FailedItems)
	a.stateMu.Lock()
	a.lastBackup = rep
	a.stateMu.Unlock()
	return rep, err
}

func (a *Agent) backup(ctx context.Context, req BackupRequest, rep *BackupReport, job *JobStatus) (*BackupReport, error) {
	g, err := a.graphClient(false)
	if err != nil {
		return rep, err
	}
	before := g.Governor.Stats()
	users, err := g.Users(ctx)
	if err != nil {
		return rep, err
	}
	snaps, err := a.v.Snapshots()
	if err != nil {
		return rep, err
	}
	prevSnap := latestBackup(snaps)
	prev, err := loadPrevious(a.v, prevSnap)
	if err != nil {
		return rep, fmt.Errorf("read previous snapshot: %w", err)
	}
	selected := map[string]bool{}
	for _, u := range req.Users {
		selected[strings.ToLower(u)] = true
	}
	var mailboxes []graph.User
	present := map[string]bool{}
	for _, u := range users {
		if u.Mail == "" && !u.Licensed {
			continue // no mailbox
		}
		present[u.ID] = true
		mailboxes = append(mailboxes, u)
	}
	if len(selected) > 0 {
		found := 0
		for _, u := range mailboxes {
			if selected[strings.ToLower(u.UPN)] || selected[strings.ToLower(u.ID)] {
				found++
			}
		}
		if found < len(selected) {
			return rep, fmt.Errorf("--user %s: not every named user has a mailbox in the tenant (found %d of %d); check the spelling of the UPN", strings.Join(req.Users, ","), found, len(selected))
		}
	}
	w, err := a.v.NewWriter("backup", map[string]string{"kind": "backup", "tenant": a.cfg.TenantID})
	if err != nil {
		return rep, err
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	a.updateJob(job, func(j *JobStatus) { j.UsersAll = len(mailboxes); j.Message = "backing up mailboxes" })

	// Departed users: in the previous snapshot, gone from the tenant.
	for _, id := range prev.userIDs() {
		if present[id] {
			continue
		}
		upn, err := a.carryUser(prev, w, id, true)
		if err != nil {
			return rep, err
		}
		rep.Departed = append(rep.Departed, upn)
		rep.Users = append(rep.Users, UserReport{Result: exchange.Result{User: exchange.User{ID: id, UPN: upn, Deleted: true}}, UPN: upn, State: "departed"})
	}

	type work struct{ u graph.User }
	jobs := make(chan work)
	var mu sync.Mutex
	var carryErr, storeErr error
	// A vault write that fails ends the run: the other mailboxes stop.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var sink exchange.Sink = w
	if a.wrapSink != nil {
		sink = a.wrapSink(w)
	}
	carry := func(id string, departed bool) {
		if _, err := a.carryUser(prev, w, id, departed); err != nil {
			mu.Lock()
			if carryErr == nil {
				carryErr = err
			}
			mu.Unlock()
		}
	}
	// keep keeps what a mailbox that failed (or is gone) had in the
	// previous snapshot. BackupMailbox writes nothing before it has read
	// the user record and listed the mail folders, and fails only there
	// (Result.Written is then 0): the agent carries the whole user over.
	// After its first write it no longer fails for a collection: a
	// collection it cannot read, 404 included, has its previous items and
	// state carried by BackupMailbox itself, and so do contacts and
	// calendars it cannot list; an error after writes (every collection
	// answered 404, the user gone mid-run) comes with the user's data
	// already carried, and carrying the user again would record each item
	// twice. Only the departed marker is then added.
	keep := func(u graph.User, res exchange.Result, departed bool) {
		if runCtx.Err() != nil {
			return // the run is ending and commits nothing
		}
		if res.Written == 0 {
			carry(u.ID, departed)
			return
		}
		if departed {
			if err := a.markDeparted(prev, w, u.ID, u.UPN); err != nil {
				mu.Lock()
				if carryErr == nil {
					carryErr = err
				}
				mu.Unlock()
			}
		}
	}
	var wg sync.WaitGroup
	workers := a.cfg.Workers
	opts := exchange.Options{IncludeContacts: true, IncludeCalendars: true}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				u := j.u
				eu := exchange.User{ID: u.ID, UPN: u.UPN, DisplayName: u.DisplayName, Disabled: !u.Enabled, Shared: !u.Licensed}
				ur := UserReport{UPN: u.UPN}
				if len(selected) > 0 && !selected[strings.ToLower(u.UPN)] && !selected[strings.ToLower(u.ID)] {
					carry(u.ID, false)
					ur.State, ur.User = "carried", eu
				} else {
					res, err := exchange.BackupMailbox(runCtx, g, sink, prev, eu, opts)
					ur.Result = res
					ur.State = "backed-up"
					switch {
					case err == nil:
					case errors.Is(err, exchange.ErrStore):
						ur.State, ur.Error = "failed", err.Error()
						mu.Lock()
						if storeErr == nil {
							storeErr = err
						}
						mu.Unlock()
						stopRun()
					case errors.Is(err, exchange.ErrMailboxGone):
						// A user without a mailbox: departed when
						// their mailbox was backed up before (its data
						// is kept), otherwise nothing to protect.
						ur.State = "no-mailbox"
						if prev.has(exchange.PathPrefix(u.ID)) {
							ur.State = "departed"
							keep(u, res, true)
						}
					default:
						ur.State, ur.Error = "failed", graph.Explain(err).Error()
						keep(u, res, false)
					}
				}
				mu.Lock()
				rep.Users = append(rep.Users, ur)
				mu.Unlock()
				a.updateJob(job, func(j *JobStatus) { j.UsersDone++; j.Items += ur.Items; j.Bytes += ur.Bytes })
			}
		}()
	}
	for _, u := range mailboxes {
		select {
		case jobs <- work{u}:
		case <-runCtx.Done():
		}
		if runCtx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if storeErr != nil {
		return rep, fmt.Errorf("%w; the run was stopped and nothing of it was committed. Check the disks: strongroom vault status; if chunks are missing from the index: strongroom vault rebuild-index", storeErr)
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("backup cancelled: %w; nothing of this run was committed, the next run starts again", err)
	}
	if carryErr != nil {
		// Committing now would make a restore point that silently lacks
		// data the previous one had.
		return rep, fmt.Errorf("%w; nothing of this run was committed", carryErr)
	}
	sort.Slice(rep.Users, func(i, j int) bool { return rep.Users[i].UPN < rep.Users[j].UPN })
	for _, u := range rep.Users {
		rep.Items += u.Items
		rep.NewItems += u.NewItems
		rep.Carried += u.CarriedItems
		rep.Moved += u.MovedItems
		rep.Removed += u.RemovedItems
		rep.FailedItems += u.Failed
		rep.Bytes += u.Bytes
		switch u.State {
		case "backed-up":
			rep.Mailboxes++
		case "failed":
			rep.Failed++
			rep.Errors = append(rep.Errors, u.UPN+": "+u.Error)
		case "departed":
			if !contains(rep.Departed, u.UPN) {
				rep.Departed = append(rep.Departed, u.UPN)
			}
		}
		for _, e := range u.Errors {
			rep.Errors = append(rep.Errors, u.UPN+": "+e)
		}
	}
	now := a.v.Clock().Now()
	first := true
	for _, s := range snaps {
		if s.Meta["kind"] == "backup" && s.Created.Year() == now.Year() && s.Created.Month() == now.Month() {
			first = false
		}
	}
	retain := a.cfg.Retention.RetainUntil(now, first)
	result := "success"
	if rep.Failed > 0 || rep.FailedItems > 0 {
		result = "partial"
	}
	w.SetMeta("result", result)
	w.SetMeta("mailboxes", fmt.Sprint(len(mailboxes)))
	w.SetMeta("failed_mailboxes", fmt.Sprint(rep.Failed))
	w.SetMeta("departed", fmt.Sprint(len(rep.Departed)))
	a.updateJob(job, func(j *JobStatus) { j.Message = "committing snapshot" })
	snap, err := w.Commit(retain)
	if err != nil {
		return rep, fmt.Errorf("commit snapshot: %w", err)
	}
	committed = true
	rep.Snapshot, rep.RetainUntil, rep.StoredBytes = snap.ID, snap.RetainUntil, snap.NewBytes
	after := g.Governor.Stats()
	rep.Requests, rep.Throttled = after.Requests-before.Requests, after.Throttled-before.Throttled
	rep.Result = result
	if err := a.cat.Add(snap.ID, func(fn func(vault.Item) error) error { return a.v.EachItem(snap, fn) }); err != nil {
		rep.Errors = append(rep.Errors, "catalog: "+err.Error())
	}
	noMailbox := 0
	for _, u := range rep.Users {
		if u.State == "no-mailbox" {
			noMailbox++
		}
	}
	a.stateMu.Lock()
	a.users = UserCoverage{All: len(mailboxes) - noMailbox, Protected: rep.Mailboxes, Departed: rep.Departed}
	for _, u := range rep.Users {
		if u.State == "failed" {
			a.users.Unprotected = append(a.users.Unprotected, u.UPN)
		}
	}
	a.stateMu.Unlock()
	a.obs.SetUsers(rep.Mailboxes, len(a.users.Unprotected), len(rep.Departed))
	return rep, nil
}

// carryUser adds every previous item of one user to the new snapshot and
// returns the user's UPN as last recorded. With departed, a departed
// marker is added when the user has none yet. An error means the new
// snapshot would lack some of the user's data: the run must not commit.
func (a *Agent) carryUser(prev *previous, w *vault.Writer, userID string, departed bool) (string, error) {
	upn := userID
	prefix := exchange.PathPrefix(userID)
	marker := prefix + "_departed.json"
	hasMarker := false
	err := prev.Each(prefix, func(it vault.Item) error {
		if u := it.Meta[catalog.MetaUser]; u != "" {
			upn = u
		}
		if it.Path == marker {
			hasMarker = true
		}
		return w.Add(it)
	})
	if err != nil {
		return upn, fmt.Errorf("carry over the backed-up data of %s: %w", upn, err)
	}
	if departed && !hasMarker {
		if err := a.putDepartedMarker(w, userID, upn); err != nil {
			return upn, err
		}
	}
	return upn, nil
}

// markDeparted records a user as departed when their items are already
// in the new snapshot: the previous marker is carried over, or a new one
// is written.
func (a *Agent) markDeparted(prev *previous, w *vault.Writer, userID, upn string) error {
	if it, ok := prev.Get(exchange.PathPrefix(userID) + "_departed.json"); ok {
		if err := w.Add(it); err != nil {
			return fmt.Errorf("mark %s as departed: %w", upn, err)
		}
		return nil
	}
	return a.putDepartedMarker(w, userID, upn)
}

func (a *Agent) putDepartedMarker(w *vault.Writer, userID, upn string) error {
	body, _ := json.Marshal(map[string]string{"user_id": userID, "upn": upn, "departed_at": a.v.Clock().Now().UTC().Format(time.RFC3339)})
	_, err := w.Put(vault.Item{Path: exchange.PathPrefix(userID) + "_departed.json", Meta: map[string]string{catalog.MetaKind: catalog.KindUser,
		catalog.MetaUserID: userID, catalog.MetaUser: upn, "departed": "true"}}, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mark %s as departed: %w", upn, err)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
