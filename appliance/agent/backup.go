package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// BackupRequest selects what a run backs up.
type BackupRequest struct {
	// Users limits the run to the units of these users or units (a UPN,
	// a unit's name or a Graph id); every other unit's data is carried
	// over unchanged. Empty: everything.
	Users []string `json:"users,omitempty"`
}

// UnitState is what became of one unit in a run.
type UnitState string

// States of a unit in a run.
const (
	UnitBackedUp UnitState = "backed-up" // backed up as of this run (items may have failed)
	UnitFailed   UnitState = "failed"    // could not be backed up: its previous data is carried
	UnitDeparted UnitState = "departed"  // gone from the tenant: its data is kept
	UnitCarried  UnitState = "carried"   // not selected for this run: carried unchanged
	UnitNoData   UnitState = "no-data"   // has nothing to protect (e.g. a user without a mailbox)
)

// RunResult is how a backup run ended.
type RunResult string

// Results of a backup run.
const (
	RunSuccess RunResult = "success" // every unit and item backed up
	RunPartial RunResult = "partial" // committed, but some units or items failed
	RunFailed  RunResult = "failed"  // nothing committed
)

// UnitReport is one unit's outcome.
type UnitReport struct {
	Workload string         `json:"workload"`
	Unit     workloads.Unit `json:"unit"`
	State    UnitState      `json:"state"`
	Error    string         `json:"error,omitempty"`
	workloads.Result
}

// addCarried counts n items the agent carried over for the unit.
func (u *UnitReport) addCarried(n int) {
	u.Items += n
	u.CarriedItems += n
}

// BackupReport is what a run did.
type BackupReport struct {
	Snapshot string       `json:"snapshot"`
	Result   RunResult    `json:"result"`
	Started  time.Time    `json:"started"`
	Seconds  float64      `json:"seconds"`
	Units    []UnitReport `json:"units"`
	// Coverage says per workload which units are protected.
	Coverage []Coverage `json:"coverage"`
	// Protected counts units backed up in this run, Failed those that
	// could not be; Departed names units gone from the tenant whose data
	// is kept.
	Protected int      `json:"protected_units"`
	Failed    int      `json:"failed_units"`
	Departed  []string `json:"departed,omitempty"`
	// Items counts the items the restore point holds (messages,
	// contacts, events, files, lists, pages: catalog.IsUserItem; folder
	// records, earlier versions and state are not items), the same
	// number snapshots, status and report show: NewItems downloaded,
	// Carried unchanged (those of units carried whole included) and
	// Moved.
	Items    int `json:"items"`
	NewItems int `json:"new_items"`
	Carried  int `json:"carried_items"`
	// Moved counts items found elsewhere than in the previous snapshot,
	// stored from the vault's copy instead of downloaded again.
	Moved int `json:"moved_items"`
	// Removed counts items of the previous restore point this one lacks:
	// deleted in the tenant since.
	Removed int `json:"removed_items"`
	// FailedItems counts items that could not be downloaded (their
	// previous version, if any, is kept; they are retried next run).
	FailedItems int   `json:"failed_items"`
	Bytes       int64 `json:"downloaded_bytes"`
	StoredBytes int64 `json:"stored_new_bytes"`
	Requests    int64 `json:"graph_requests"`
	Throttled   int64 `json:"graph_throttled"`
	// ResourceUnits is what the run cost against the tenant's OneDrive
	// and SharePoint resource-unit budget.
	ResourceUnits int64     `json:"resource_units"`
	RetainUntil   time.Time `json:"retain_until"`
	Errors        []string  `json:"errors,omitempty"`
}

// Coverage counts one workload's units by protection.
type Coverage struct {
	Workload string `json:"workload"`
	// Noun names the units: "mailboxes".
	Noun      string `json:"noun"`
	All       int    `json:"all"`
	Protected int    `json:"protected"`
	// Unprotected names units of the tenant not in the last snapshot as
	// of this run (they failed).
	Unprotected []string `json:"unprotected,omitempty"`
	Departed    []string `json:"departed,omitempty"`
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

// Backup runs one backup job now and commits one snapshot holding every
// workload's units. The snapshot is acknowledged (returned) only once it
// is durable. A unit that fails does not fail the others: its previous
// data is carried over and the report says what did not complete.
func (a *Agent) Backup(ctx context.Context, req BackupRequest) (*BackupReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	start := a.now()
	rep := &BackupReport{Started: start}
	job := &JobStatus{Kind: "backup", Started: start, Phase: "listing", Noun: "units", Message: "listing users"}
	defer a.startJob(job)()
	for _, w := range a.workloads {
		a.obs.BackupStarted(w.Name())
	}
	err := a.backup(ctx, req, rep, job)
	dur := a.now().Sub(start)
	rep.Seconds = dur.Seconds()
	if err != nil {
		rep.Result = RunFailed
		rep.Errors = append(rep.Errors, err.Error())
	}
	for _, w := range a.workloads {
		var sum workloads.Result
		for _, u := range rep.Units {
			if u.Workload == w.Name() {
				sum.Add(u.Result)
			}
		}
		a.obs.BackupFinished(w.Name(), string(rep.Result), dur, sum.Items, int(sum.Bytes), sum.Failed)
	}
	a.stateMu.Lock()
	a.lastBackup = rep
	a.stateMu.Unlock()
	return rep, err
}

// plannedUnit is one unit a run backs up.
type plannedUnit struct {
	w workloads.Workload
	u workloads.Unit
}

// backupPlan is what a run found before writing anything.
type backupPlan struct {
	snaps    []vault.Snapshot
	prev     *previous
	units    []plannedUnit
	found    map[string]int // units discovered, by workload
	selected map[string]bool
}

func (p *backupPlan) isSelected(u workloads.Unit) bool {
	if len(p.selected) == 0 {
		return true
	}
	for _, k := range []string{u.Name, u.ID, u.OwnerID} {
		if k != "" && p.selected[strings.ToLower(k)] {
			return true
		}
	}
	return false
}

// plan reads the directory and the previous snapshot and lets every
// workload discover its units.
func (a *Agent) plan(ctx context.Context, g *graph.Client, req BackupRequest) (*backupPlan, error) {
	users, err := g.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the tenant's users: %w", graph.Explain(err))
	}
	p := &backupPlan{found: map[string]int{}, selected: map[string]bool{}}
	if p.snaps, err = a.v.Snapshots(); err != nil {
		return nil, err
	}
	if p.prev, err = loadPrevious(a.v, latestBackup(p.snaps)); err != nil {
		return nil, fmt.Errorf("read previous snapshot: %w", err)
	}
	for _, u := range req.Users {
		p.selected[strings.ToLower(u)] = true
	}
	tenant := workloads.Tenant{Graph: g, Users: users}
	matched := map[string]bool{}
	for _, w := range a.workloads {
		units, err := w.Discover(ctx, tenant)
		if err != nil {
			return nil, fmt.Errorf("find the %s of the tenant: %w", nounMany(w), graph.Explain(err))
		}
		p.found[w.Name()] = len(units)
		for _, u := range units {
			p.units = append(p.units, plannedUnit{w, u})
			for _, k := range []string{u.Name, u.ID, u.OwnerID} {
				if p.selected[strings.ToLower(k)] {
					matched[strings.ToLower(k)] = true
				}
			}
		}
	}
	p.units = interleave(p.units)
	if len(matched) < len(p.selected) {
		var missing []string
		for _, u := range req.Users {
			if !matched[strings.ToLower(u)] {
				missing = append(missing, u)
			}
		}
		return nil, fmt.Errorf("%w: %s has nothing to back up in the tenant; check the spelling of the user principal name", ErrUnknownUnit, strings.Join(missing, ", "))
	}
	return p, nil
}

// interleave orders units one of each workload in turn (keeping each
// workload's own order), so that the workers start on every workload at
// once: each has a budget of its own at Graph (a mailbox's concurrency,
// the files' resource units, the Teams request limit), and a workload
// handed out last would leave its budget idle while the others spend
// theirs.
func interleave(units []plannedUnit) []plannedUnit {
	var order []string
	by := map[string][]plannedUnit{}
	for _, pu := range units {
		n := pu.w.Name()
		if _, ok := by[n]; !ok {
			order = append(order, n)
		}
		by[n] = append(by[n], pu)
	}
	out := make([]plannedUnit, 0, len(units))
	for len(out) < len(units) {
		for _, n := range order {
			if q := by[n]; len(q) > 0 {
				out = append(out, q[0])
				by[n] = q[1:]
			}
		}
	}
	return out
}

// ErrUnknownUnit is wrapped when a request names a user or unit the
// tenant does not have.
var ErrUnknownUnit = errors.New("unknown user or unit")

func nounMany(w workloads.Workload) string {
	_, many := w.Noun()
	return many
}

func (a *Agent) backup(ctx context.Context, req BackupRequest, rep *BackupReport, job *JobStatus) error {
	g, err := a.graphClient(false)
	if err != nil {
		return err
	}
	before := g.Governor.Stats()
	a.updateJob(job, func(j *JobStatus) { j.throttle = throttleSince(g.Governor, before) })
	p, err := a.plan(ctx, g, req)
	if err != nil {
		return err
	}
	w, err := a.v.NewWriter("backup", map[string]string{"kind": "backup", "tenant": a.cfg.TenantID})
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	a.updateJob(job, func(j *JobStatus) {
		j.UnitsAll, j.Phase, j.Message = len(p.units), "backing up", "backing up "+a.nouns()
	})
	r := &backupRun{a: a, g: g, p: p, w: w, rep: rep, job: job, sink: w}
	if a.wrapSink != nil {
		r.sink = a.wrapSink(w)
	}
	r.sink = jobSink{next: r.sink, a: a, job: job}
	if err := r.carryDeparted(); err != nil {
		return err
	}
	if err := r.backupUnits(ctx); err != nil {
		return err
	}
	rep.tally()
	rep.Coverage = p.coverage(a.workloads, rep.Units)
	after := g.Governor.Stats()
	rep.Requests, rep.Throttled = after.Requests-before.Requests, after.Throttled-before.Throttled
	rep.ResourceUnits = after.ResourceUnits - before.ResourceUnits
	a.updateJob(job, func(j *JobStatus) { j.Phase, j.Message = "committing", "committing snapshot" })
	snap, err := a.commit(w, p, rep)
	if err != nil {
		return err
	}
	committed = true
	if err := a.cat.Add(snap.ID, func(fn func(vault.Item) error) error { return a.v.EachItem(snap, fn) }); err != nil {
		rep.Errors = append(rep.Errors, "catalog: "+err.Error())
	}
	a.stateMu.Lock()
	a.coverage = rep.Coverage
	a.stateMu.Unlock()
	for _, c := range rep.Coverage {
		a.obs.SetCoverage(c.Workload, c.Protected, len(c.Unprotected), len(c.Departed))
	}
	return nil
}

// nouns names what a run backs up: "mailboxes and drives".
func (a *Agent) nouns() string {
	var ns []string
	for _, w := range a.workloads {
		ns = append(ns, nounMany(w))
	}
	return strings.Join(ns, ", ")
}

// commit seals the snapshot with the retention its month calls for.
func (a *Agent) commit(w *vault.Writer, p *backupPlan, rep *BackupReport) (vault.Snapshot, error) {
	now := a.now()
	rep.Result = RunSuccess
	if rep.Failed > 0 || rep.FailedItems > 0 {
		rep.Result = RunPartial
	}
	retain := a.cfg.Retention.RetainUntil(now, a.auditDue(p.snaps, now, rep.Result))
	w.SetMeta("result", string(rep.Result))
	// Units: those of the tenant the run found with data to protect, as
	// its coverage counts them (the same number status shows).
	all := 0
	for _, c := range rep.Coverage {
		all += c.All
	}
	w.SetMeta("units", fmt.Sprint(all))
	w.SetMeta("failed_units", fmt.Sprint(rep.Failed))
	w.SetMeta("failed_unit_names", strings.Join(rep.failedNames(), "\n"))
	w.SetMeta("items", fmt.Sprint(rep.Items))
	// What the status shows of the last run, also after a restart.
	if cov, err := json.Marshal(rep.Coverage); err == nil {
		w.SetMeta("coverage", string(cov))
	}
	w.SetMeta("graph_requests", fmt.Sprint(rep.Requests))
	w.SetMeta("graph_throttled", fmt.Sprint(rep.Throttled))
	w.SetMeta("departed", fmt.Sprint(len(rep.Departed)))
	snap, err := w.Commit(retain)
	if err != nil {
		return snap, fmt.Errorf("commit snapshot: %w", err)
	}
	rep.Snapshot, rep.RetainUntil, rep.StoredBytes = snap.ID, snap.RetainUntil, snap.NewBytes
	return snap, nil
}

// auditDue says whether a run ending with result at now gets the long
// audit retention: the first complete run of the month does, and so does
// a partial one while the month has no audit restore point yet (a month
// without any complete run keeps its most complete one); a complete run
// after a partial audit point gets the audit retention as well.
func (a *Agent) auditDue(snaps []vault.Snapshot, now time.Time, result RunResult) bool {
	long := a.cfg.Retention.Rollback.D() + 24*time.Hour
	anyAudit, completeAudit := false, false
	for _, s := range snaps {
		if s.Meta["kind"] != "backup" || s.Created.Year() != now.Year() || s.Created.Month() != now.Month() || s.RetainUntil.Sub(s.Created) <= long {
			continue
		}
		anyAudit = true
		completeAudit = completeAudit || s.Meta["result"] == string(RunSuccess)
	}
	if completeAudit {
		return false
	}
	return result == RunSuccess || !anyAudit
}

// failedNames names the units the run did not complete: those it could
// not back up, and those with items it could not download (with how
// many).
func (rep *BackupReport) failedNames() []string {
	var out []string
	for _, u := range rep.Units {
		switch {
		case u.State == UnitFailed:
			out = append(out, u.Unit.Name)
		case u.Failed > 0:
			out = append(out, fmt.Sprintf("%s (%s not completed)", u.Unit.Name, units.Count(u.Failed, "item")))
		}
	}
	return out
}

// tally sums the units' results into the run's.
func (rep *BackupReport) tally() {
	sort.Slice(rep.Units, func(i, j int) bool {
		if rep.Units[i].Workload != rep.Units[j].Workload {
			return rep.Units[i].Workload < rep.Units[j].Workload
		}
		return rep.Units[i].Unit.Name < rep.Units[j].Unit.Name
	})
	for _, u := range rep.Units {
		rep.Items += u.Items
		rep.NewItems += u.NewItems
		rep.Carried += u.CarriedItems
		rep.Moved += u.MovedItems
		rep.Removed += u.RemovedItems
		rep.FailedItems += u.Failed
		rep.Bytes += u.Bytes
		switch u.State {
		case UnitBackedUp:
			rep.Protected++
		case UnitFailed:
			rep.Failed++
			rep.Errors = append(rep.Errors, u.Unit.Name+": "+u.Error)
		case UnitDeparted:
			if !contains(rep.Departed, u.Unit.Name) {
				rep.Departed = append(rep.Departed, u.Unit.Name)
			}
		}
		for _, e := range u.Errors {
			rep.Errors = append(rep.Errors, u.Unit.Name+": "+e)
		}
	}
}

// coverage counts, per workload, the units found and what became of them.
func (p *backupPlan) coverage(ws []workloads.Workload, units []UnitReport) []Coverage {
	var out []Coverage
	for _, w := range ws {
		c := Coverage{Workload: w.Name(), Noun: nounMany(w), All: p.found[w.Name()]}
		for _, u := range units {
			if u.Workload != w.Name() {
				continue
			}
			switch u.State {
			case UnitBackedUp, UnitCarried:
				c.Protected++
			case UnitFailed:
				c.Unprotected = append(c.Unprotected, u.Unit.Name)
			case UnitDeparted:
				c.Departed = append(c.Departed, u.Unit.Name)
			case UnitNoData:
				c.All--
			}
		}
		out = append(out, c)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
