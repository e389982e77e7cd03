package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/vault"
)

// RollbackRequest puts a user's OneDrive back as it was before a time.
type RollbackRequest struct {
	// User is the drive's owner, UPN or id.
	User string `json:"user"`
	// Before is when the damage began: the rollback uses the last
	// restore point taken before it.
	Before time.Time `json:"before"`
	// DryRun reports what would change and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// RollbackReport is what a rollback did (or, dry, would do).
type RollbackReport struct {
	User     string    `json:"user"`
	Before   time.Time `json:"before"`
	Snapshot string    `json:"snapshot"`
	// SnapshotTime is when the restore point used was taken.
	SnapshotTime time.Time `json:"snapshot_time"`
	DryRun       bool      `json:"dry_run,omitempty"`
	// Restored names the files put back to their content at the restore
	// point (changed or deleted since); Quarantined the files created
	// since, moved into QuarantineFolder (never deleted).
	Restored         []string `json:"restored"`
	Quarantined      []string `json:"quarantined"`
	QuarantineFolder string   `json:"quarantine_folder,omitempty"`
	Unchanged        int      `json:"unchanged"`
	Bytes            int64    `json:"bytes"`
	Failed           int      `json:"failed"`
	Errors           []string `json:"errors,omitempty"`
	Seconds          float64  `json:"seconds"`
}

// ErrNoCleanPoint is wrapped when no restore point before the time holds
// the user's drive.
var ErrNoCleanPoint = errors.New("no restore point before that time holds the drive")

// Rollback finds the last restore point before req.Before that holds the
// user's drive, puts back every file changed or deleted since to its
// content then, and moves files that restore point does not hold (made
// since, save those Graph dates before req.Before) into a quarantine folder
// of the drive. It records its report in the state directory (rollbacks/).
func (a *Agent) Rollback(ctx context.Context, req RollbackRequest) (*RollbackReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	start := a.now()
	if req.User == "" || req.Before.IsZero() {
		return nil, errors.New("name the user (--user) and when the damage began (--before)")
	}
	snap, stored, err := a.cleanPoint(req)
	if err != nil {
		return nil, err
	}
	g, err := a.graphClient(true)
	if err != nil {
		return nil, err
	}
	owner := workloads.Unit{ID: stored[0].Meta[catalog.MetaUserID], Name: stored[0].Meta[catalog.MetaUser]}
	rep := &RollbackReport{User: owner.Name, Before: req.Before, Snapshot: snap.ID, SnapshotTime: snap.Created, DryRun: req.DryRun}
	defer a.startJob(&JobStatus{Kind: "rollback", Started: a.now(), Message: "rolling back the OneDrive of " + owner.Name})()
	live, err := onedrive.ListDrive(ctx, g, owner)
	if err != nil {
		return nil, err
	}
	restore, quarantine := rollbackPlan(stored, live, snap.Created, req.Before, rep)
	if !req.DryRun {
		a.applyRollback(ctx, owner, restore, quarantine, rep)
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := a.recordRollback(rep); err != nil {
		rep.Errors = append(rep.Errors, "record the report: "+err.Error())
	}
	return rep, nil
}

// cleanPoint is the newest backup taken before req.Before holding files
// of the user's drive, with those files.
func (a *Agent) cleanPoint(req RollbackRequest) (vault.Snapshot, []vault.Item, error) {
	snaps, err := a.v.Snapshots()
	if err != nil {
		return vault.Snapshot{}, nil, err
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if s.Meta["kind"] != "backup" || !s.Created.Before(req.Before) {
			continue
		}
		var items []vault.Item
		err := a.v.EachItem(s, func(it vault.Item) error {
			m := it.Meta
			if m[catalog.MetaKind] == catalog.KindFile && m[catalog.MetaWorkload] == onedrive.Name &&
				(strings.EqualFold(m[catalog.MetaUser], req.User) || m[catalog.MetaUserID] == req.User) {
				items = append(items, it)
			}
			return nil
		})
		if err != nil {
			return s, nil, err
		}
		if len(items) > 0 {
			return s, items, nil
		}
	}
	return vault.Snapshot{}, nil, fmt.Errorf("%w: %s before %s; see 'strongroom snapshots'", ErrNoCleanPoint, req.User, req.Before.UTC().Format(time.RFC3339))
}

// rollbackPlan compares the restore point taken at point with the drive
// now: files whose content differs or that are gone are restored; files
// the restore point does not hold are quarantined, unless Graph says they
// were made between point and before (before the damage began).
func rollbackPlan(stored []vault.Item, live []onedrive.LiveFile, point, before time.Time, rep *RollbackReport) ([]vault.Item, []onedrive.LiveFile) {
	byPath := map[string]onedrive.LiveFile{}
	for _, f := range live {
		byPath[strings.ToLower(f.Path)] = f
	}
	kept := map[string]bool{}
	var restore []vault.Item
	for _, it := range stored {
		p := strings.TrimPrefix(path.Join(it.Meta[catalog.MetaFolder], it.Meta[catalog.MetaName]), "/")
		kept[strings.ToLower(p)] = true
		f, ok := byPath[strings.ToLower(p)]
		if ok && sameFile(it.Meta, f) {
			rep.Unchanged++
			continue
		}
		restore = append(restore, it)
		rep.Restored = append(rep.Restored, p)
		rep.Bytes += it.Size
	}
	var quarantine []onedrive.LiveFile
	for _, f := range live {
		if kept[strings.ToLower(f.Path)] {
			continue
		}
		// Absent from the clean point: made after it, or after the
		// damage began. Graph's createdDateTime spares a file made
		// between the two; anything else is moved aside, never deleted.
		created, err := time.Parse(time.RFC3339, f.Created)
		if err == nil && !created.Before(point) && created.Before(before) {
			continue
		}
		quarantine = append(quarantine, f)
		rep.Quarantined = append(rep.Quarantined, f.Path)
	}
	sort.Strings(rep.Restored)
	sort.Strings(rep.Quarantined)
	return restore, quarantine
}

// sameFile compares a stored file with the live one by the content hashes
// Graph reports, else by content tag.
func sameFile(stored map[string]string, f onedrive.LiveFile) bool {
	if q := stored[onedrive.MetaQuickXor]; q != "" && f.QuickXor != "" {
		return q == f.QuickXor
	}
	if h := stored[onedrive.MetaSHA256]; h != "" && f.SHA256 != "" {
		return h == f.SHA256
	}
	return stored[onedrive.MetaCTag] != "" && stored[onedrive.MetaCTag] == f.CTag
}

func (a *Agent) applyRollback(ctx context.Context, owner workloads.Unit, restore []vault.Item, quarantine []onedrive.LiveFile, rep *RollbackReport) {
	g, err := a.graphClient(true)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return
	}
	if len(restore) > 0 {
		res, err := onedrive.RestoreFiles(ctx, g, a.v, restore, workloads.RestoreOptions{TargetUserID: owner.ID, Collision: workloads.CollisionReplace})
		if err != nil {
			res.Failed, res.Errors = len(restore), append(res.Errors, err.Error())
		}
		rep.Failed += res.Failed
		rep.Errors = append(rep.Errors, res.Errors...)
	}
	if len(quarantine) > 0 {
		rep.QuarantineFolder = "Quarantine " + a.now().UTC().Format("2006-01-02 1504")
		ids := make([]string, len(quarantine))
		for i, f := range quarantine {
			ids[i] = f.ID
		}
		moved, errs := onedrive.Quarantine(ctx, g, owner.ID, rep.QuarantineFolder, ids)
		rep.Failed += len(quarantine) - moved
		rep.Errors = append(rep.Errors, errs...)
	}
}

// recordRollback keeps the report beside the agent's other records.
func (a *Agent) recordRollback(rep *RollbackReport) error {
	dir := filepath.Join(a.v.StateDir(), "rollbacks")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	name := a.now().UTC().Format("20060102T150405.000000000Z") + ".json"
	return durable.WriteFile(filepath.Join(dir, name), b, 0o640)
}
