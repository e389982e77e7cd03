package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Status is everything the console's status screen and `strongroom
// status` show.
type Status struct {
	Now             time.Time          `json:"now"`
	Vault           vault.Status       `json:"vault"`
	Job             *JobStatus         `json:"job,omitempty"`  // the oldest running job
	Jobs            []JobStatus        `json:"jobs,omitempty"` // every running job, oldest first
	LastBackup      *SnapshotSummary   `json:"last_backup,omitempty"`
	LastSuccess     *SnapshotSummary   `json:"last_success,omitempty"`
	LastRun         *BackupReport      `json:"last_run,omitempty"`
	Coverage        []Coverage         `json:"coverage,omitempty"`
	Throttle        graph.Stats        `json:"throttle"`
	LastScrub       *vault.ScrubReport `json:"last_scrub,omitempty"`
	LastScrubAt     time.Time          `json:"last_scrub_at,omitempty"`
	LastRestoreTest *RestoreTestReport `json:"last_restore_test,omitempty"`
	Interval        time.Duration      `json:"interval_ns"`
	Retention       RetentionWindows   `json:"retention"`
	Offsite         *OffsiteSummary    `json:"offsite,omitempty"`
	Alerts          []string           `json:"alerts,omitempty"`
}

// SnapshotSummary is a backup snapshot without its item list.
type SnapshotSummary struct {
	ID          string    `json:"id"`
	Created     time.Time `json:"created"`
	RetainUntil time.Time `json:"retain_until"`
	Result      string    `json:"result"`
	// Items counts the items the restore point holds, as the backup run
	// that made it counted them (BackupReport.Items); for restore points
	// made before runs recorded it, every record of the snapshot (folder
	// records, earlier versions and state included).
	Items int64 `json:"items"`
	Bytes int64 `json:"bytes"`
	// Units and Failed count the units the run found and those it could
	// not back up (empty for snapshots that do not say).
	Units      string  `json:"units"`
	Failed     string  `json:"failed_units"`
	AgeSeconds float64 `json:"age_seconds"`
	// FailedNames names the units the run did not complete (failed, or
	// with items not completed). It stays in the agent: the alerts say it.
	FailedNames []string `json:"-"`
}

func summarize(s vault.Snapshot, now time.Time) *SnapshotSummary {
	items := s.Items
	if n, err := strconv.ParseInt(s.Meta["items"], 10, 64); err == nil {
		items = n
	}
	var failed []string
	if names := s.Meta["failed_unit_names"]; names != "" {
		failed = strings.Split(names, "\n")
	}
	return &SnapshotSummary{ID: s.ID, Created: s.Created, RetainUntil: s.RetainUntil, Result: s.Meta["result"], Items: items, Bytes: s.Bytes,
		Units: metaOr(s.Meta, "units", "mailboxes"), Failed: metaOr(s.Meta, "failed_units", "failed_mailboxes"), FailedNames: failed,
		AgeSeconds: now.Sub(s.Created).Seconds()}
}

// metaOr returns the snapshot metadata under key, or under old, the name
// snapshots written before workloads had one seam used.
func metaOr(meta map[string]string, key, old string) string {
	if v, ok := meta[key]; ok {
		return v
	}
	return meta[old]
}

// Status gathers the agent's state. It does not contact the tenant.
func (a *Agent) Status(ctx context.Context) (*Status, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	vs, err := a.v.Status()
	if err != nil {
		return nil, err
	}
	now := a.now()
	st := &Status{Now: now, Vault: vs, Interval: a.cfg.Schedule.Interval.D()}
	snaps, err := a.v.Snapshots()
	if err != nil {
		return nil, err
	}
	var last *vault.Snapshot
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if s.Meta["kind"] != "backup" {
			continue
		}
		if st.LastBackup == nil {
			st.LastBackup = summarize(s, now)
			last = &snaps[i]
		}
		if s.Meta["result"] == "success" {
			st.LastSuccess = summarize(s, now)
			break
		}
	}
	a.stateMu.Lock()
	for _, j := range a.jobs {
		if j.throttle != nil {
			j.throttle(j)
		}
		st.Jobs = append(st.Jobs, *j)
	}
	if len(st.Jobs) > 0 {
		j := st.Jobs[0]
		st.Job = &j
	}
	st.LastRun, st.Coverage, st.LastScrub, st.LastScrubAt, st.LastRestoreTest = a.lastBackup, a.coverage, a.lastScrub, a.lastScrubAt, a.lastTest
	st.Retention = a.windows
	a.stateMu.Unlock()
	if a.backupG != nil {
		st.Throttle = a.backupG.Governor.Stats()
	}
	if st.Coverage == nil && last != nil {
		fromRecord(st, last.Meta)
	}
	st.Offsite = a.offsiteSummary()
	st.Alerts = append(alerts(st), offsiteAlerts(st.Offsite)...)
	return st, nil
}

// fromRecord fills what an agent that has not run a backup since it
// started knows only from the last restore point's record: the coverage
// its run found and the Graph requests it made.
func fromRecord(st *Status, meta map[string]string) {
	if c := meta["coverage"]; c != "" {
		_ = json.Unmarshal([]byte(c), &st.Coverage)
	}
	if st.Throttle.Requests == 0 {
		st.Throttle.Requests, _ = strconv.ParseInt(meta["graph_requests"], 10, 64)
		st.Throttle.Throttled, _ = strconv.ParseInt(meta["graph_throttled"], 10, 64)
	}
}

// alerts mirrors the Prometheus rules for the console.
func alerts(st *Status) []string {
	var out []string
	if st.LastSuccess == nil {
		out = append(out, "no successful backup yet: run one now")
	} else if age := st.Now.Sub(st.LastSuccess.Created); age > 2*st.Interval {
		out = append(out, fmt.Sprintf("last successful backup is %s old (schedule: every %s)", units.Age(age), units.Window(st.Interval)))
	}
	switch b := st.LastBackup; {
	case st.LastRun != nil && st.LastRun.Result == RunFailed:
		out = append(out, fmt.Sprintf("last backup run failed: %s", strings.Join(st.LastRun.Errors, "; ")))
	case b != nil && b.Result != string(RunSuccess) && len(b.FailedNames) > 0:
		// From the restore point's record: said again after a restart.
		out = append(out, fmt.Sprintf("last backup %s is %s; not completed: %s", b.ID, b.Result, strings.Join(b.FailedNames, ", ")))
	case st.LastRun != nil && st.LastRun.Result != RunSuccess:
		out = append(out, fmt.Sprintf("last backup run %s: %d units failed, %d items not completed", st.LastRun.Result, st.LastRun.Failed, st.LastRun.FailedItems))
	}
	for _, c := range st.Coverage {
		if n := len(c.Unprotected); n > 0 {
			out = append(out, fmt.Sprintf("%d %s unprotected", n, c.Noun))
		}
	}
	for _, d := range st.Vault.Disks {
		if !d.Present {
			out = append(out, fmt.Sprintf("disk %d (%s) missing: replace it", d.Index, d.Path))
		}
	}
	if st.Vault.DegradedSegments > 0 {
		out = append(out, fmt.Sprintf("vault degraded: %d segments lack a shard; run a scrub with repair", st.Vault.DegradedSegments))
	}
	if st.Vault.CapacityBytes > 0 && float64(st.Vault.UsedBytes) > 0.85*float64(st.Vault.CapacityBytes*uint64(st.Vault.K+st.Vault.M))/float64(st.Vault.K) {
		out = append(out, "vault over 85% full")
	}
	if st.LastScrub != nil && !st.LastScrub.Healthy {
		out = append(out, fmt.Sprintf("last scrub found %d problems", len(st.LastScrub.Problems)))
	}
	if st.LastRestoreTest != nil && !st.LastRestoreTest.OK {
		out = append(out, "last restore test failed")
	}
	if st.Vault.Clock.JumpPending {
		out = append(out, "trusted clock frozen ("+st.Vault.Clock.Reason+"): expiry waits until the time is confirmed at the console")
	}
	if n := len(st.Vault.UnreadableSnapshots); n > 0 {
		out = append(out, fmt.Sprintf("%d restore points have no readable manifest (%s): run a scrub with repair", n, strings.Join(st.Vault.UnreadableSnapshots, ", ")))
	}
	for _, a := range st.Vault.WardenAlerts {
		out = append(out, "warden: "+a)
	}
	return out
}

// Scrub checks (and with repair, fixes) every shard.
func (a *Agent) Scrub(ctx context.Context, repair bool) (*vault.ScrubReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	job := &JobStatus{Kind: "scrub", Started: a.now(), Phase: "checking shards", Noun: "segments"}
	defer a.startJob(job)()
	rep, err := a.v.ScrubWatched(repair, a.watchVault(job))
	if err != nil {
		return nil, err
	}
	unrepaired := 0
	for _, p := range rep.Problems {
		if !p.Repaired {
			unrepaired++
		}
	}
	a.obs.ScrubFinished(len(rep.Problems), unrepaired)
	a.stateMu.Lock()
	a.lastScrub, a.lastScrubAt = &rep, a.now()
	a.stateMu.Unlock()
	return &rep, nil
}

// Snapshots lists backup snapshots without their item lists.
func (a *Agent) Snapshots(ctx context.Context) ([]SnapshotSummary, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	snaps, err := a.v.Snapshots()
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := make([]SnapshotSummary, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, *summarize(s, now))
	}
	return out, nil
}

// ErrClockNotAgents is what the agent answers when asked to confirm the
// trusted clock: the clock belongs to the warden, and only an operator at
// the console (root) confirms it.
var ErrClockNotAgents = errors.New("the agent cannot confirm the trusted clock: it belongs to the warden; confirm at the appliance console (key c) or run 'strongroom warden confirm' as root")

// ConfirmClock refuses: see ErrClockNotAgents.
func (a *Agent) ConfirmClock(ctx context.Context) error {
	return ErrClockNotAgents
}

// DeleteSnapshot asks to delete a restore point. Before its retain-until
// the vault refuses, whoever asks, and the refusal is counted; after it,
// expiry is the warden's job and the answer says so.
func (a *Agent) DeleteSnapshot(ctx context.Context, id string) error {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	err := a.v.DeleteSnapshot(id)
	if errors.Is(err, vault.ErrRetentionLocked) {
		a.obs.RetentionRefused()
		a.log.Warn("refused to delete a retention-locked snapshot", "snapshot", id)
	}
	return err
}
