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
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/appliance/workloads/sharepoint"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/vault"
)

// RollbackRequest puts a user's OneDrive, or a SharePoint site's document
// libraries, back as they were before a time.
type RollbackRequest struct {
	// User is the drive's owner, UPN or id.
	User string `json:"user,omitempty"`
	// Site, instead of User, is a SharePoint site (URL or id) whose
	// document libraries are rolled back.
	Site string `json:"site,omitempty"`
	// Library limits a site's rollback to its library of that name.
	Library string `json:"library,omitempty"`
	// Before is when the damage began: the rollback uses the last
	// restore point taken before it.
	Before time.Time `json:"before"`
	// DryRun reports what would change and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// RollbackReport is what a rollback did (or, dry, would do).
type RollbackReport struct {
	User string `json:"user,omitempty"`
	// Site and Libraries name what a site's rollback covered; paths
	// in Restored and Quarantined then begin with the library's name.
	Site      string    `json:"site,omitempty"`
	Libraries []string  `json:"libraries,omitempty"`
	Before    time.Time `json:"before"`
	Snapshot  string    `json:"snapshot"`
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
// the user's drive or the site's libraries.
var ErrNoCleanPoint = errors.New("no restore point before that time holds the drive or library")

// rollbackDrive is one drive a rollback puts back: a OneDrive or one
// document library, with its files at the clean restore point.
type rollbackDrive struct {
	label   string // "the OneDrive of alice@contoso.com"
	library string // the library's name; "" for a OneDrive
	owner   string // the user's or the site's id
	stored  []vault.Item
}

// Rollback finds the last restore point before req.Before that holds the
// user's drive (or the site's libraries), puts back every file changed or
// deleted since to its content then, and moves files that restore point
// does not hold (made since, save those Graph dates before req.Before)
// into a quarantine folder of the drive or library. It records its report
// in the state directory (rollbacks/).
func (a *Agent) Rollback(ctx context.Context, req RollbackRequest) (*RollbackReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	start := a.now()
	if (req.User == "") == (req.Site == "") || req.Before.IsZero() {
		return nil, invalid("user site before", "name the user or the site, and when the damage began")
	}
	if req.Library != "" && req.Site == "" {
		return nil, invalid("site", "a library belongs to a site: name the site too")
	}
	snap, drives, err := a.cleanPoint(req)
	if err != nil {
		return nil, err
	}
	g, err := a.graphClient(true)
	if err != nil {
		return nil, err
	}
	rep := &RollbackReport{Before: req.Before, Snapshot: snap.ID, SnapshotTime: snap.Created, DryRun: req.DryRun}
	if req.Site != "" {
		rep.Site = drives[0].stored[0].Meta[catalog.MetaUser]
	} else {
		rep.User = drives[0].stored[0].Meta[catalog.MetaUser]
	}
	job := &JobStatus{Kind: "rollback", Started: a.now(), Phase: "listing", Noun: "files", Message: "rolling back " + firstNonEmpty(rep.User, rep.Site)}
	job.throttle = throttleSince(g.Governor, g.Governor.Stats())
	defer a.startJob(job)()
	quarantine := "Quarantine " + a.now().UTC().Format("2006-01-02 1504")
	for _, d := range drives {
		if d.library != "" {
			rep.Libraries = append(rep.Libraries, d.library)
		}
		if err := a.rollbackOne(ctx, g, d, snap.Created, req, quarantine, rep, job); err != nil {
			if len(drives) == 1 {
				return nil, err
			}
			rep.Failed += len(d.stored)
			rep.Errors = append(rep.Errors, err.Error())
		}
	}
	sort.Strings(rep.Restored)
	sort.Strings(rep.Quarantined)
	rep.Seconds = time.Since(start).Seconds()
	if err := a.recordRollback(rep); err != nil {
		rep.Errors = append(rep.Errors, "record the report: "+err.Error())
	}
	return rep, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// rollbackOne compares one drive with its clean restore point and, unless
// dry, puts it back, counting the files it puts back into job.
func (a *Agent) rollbackOne(ctx context.Context, g *graph.Client, d rollbackDrive, point time.Time, req RollbackRequest, quarantine string, rep *RollbackReport, job *JobStatus) error {
	var driveID string
	var err error
	if d.library == "" {
		driveID, err = onedrive.UserDrive(ctx, g, d.owner)
	} else if driveID, err = sharepoint.LibraryDrive(ctx, g, d.owner, d.library); err != nil {
		err = fmt.Errorf("%w; a deleted library comes back with 'strongroom restore SNAPSHOT --user %s --kind files'", err, rep.Site)
	}
	if err != nil {
		return err
	}
	live, err := onedrive.ListDriveID(ctx, g, driveID, d.label)
	if err != nil {
		return err
	}
	prefix := ""
	if d.library != "" {
		prefix = d.library + "/"
	}
	restore, moved := rollbackPlan(d.stored, live, point, req.Before, prefix, rep)
	if !req.DryRun {
		a.updateJob(job, func(j *JobStatus) {
			j.Phase, j.UnitsAll = "restoring", j.UnitsAll+len(restore)
			for _, it := range restore {
				j.BytesAll += it.Size
			}
		})
		a.applyRollback(ctx, g, driveID, restore, moved, quarantine, rep, job)
	}
	return nil
}

// cleanPoint is the newest backup taken before req.Before holding files
// of the user's drive or of the site's libraries, with those files by
// drive.
func (a *Agent) cleanPoint(req RollbackRequest) (vault.Snapshot, []rollbackDrive, error) {
	snaps, err := a.v.Snapshots()
	if err != nil {
		return vault.Snapshot{}, nil, err
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if s.Meta["kind"] != "backup" || !s.Created.Before(req.Before) {
			continue
		}
		byLib := map[string][]vault.Item{}
		err := a.v.EachItem(s, func(it vault.Item) error {
			if req.selects(it.Meta) {
				byLib[it.Meta[catalog.MetaLibrary]] = append(byLib[it.Meta[catalog.MetaLibrary]], it)
			}
			return nil
		})
		if err != nil {
			return s, nil, err
		}
		if len(byLib) > 0 {
			return s, req.drives(byLib), nil
		}
	}
	what := req.User
	if req.Site != "" {
		what = strings.TrimSpace(req.Site + " " + req.Library)
	}
	return vault.Snapshot{}, nil, fmt.Errorf("%w: %s before %s; see 'strongroom snapshots'", ErrNoCleanPoint, what, req.Before.UTC().Format(time.RFC3339))
}

// selects reports whether a stored item is a file the rollback covers.
func (req RollbackRequest) selects(m map[string]string) bool {
	if m[catalog.MetaKind] != catalog.KindFile {
		return false
	}
	if req.User != "" {
		return m[catalog.MetaWorkload] == onedrive.Name && (strings.EqualFold(m[catalog.MetaUser], req.User) || m[catalog.MetaUserID] == req.User)
	}
	site := strings.TrimSuffix(req.Site, "/")
	return m[catalog.MetaWorkload] == sharepoint.Name &&
		(strings.EqualFold(strings.TrimSuffix(m[catalog.MetaUser], "/"), site) || m[catalog.MetaUserID] == req.Site) &&
		(req.Library == "" || strings.EqualFold(m[catalog.MetaLibrary], req.Library))
}

// drives groups the selected files by drive, libraries by name.
func (req RollbackRequest) drives(byLib map[string][]vault.Item) []rollbackDrive {
	var out []rollbackDrive
	for lib, items := range byLib {
		m := items[0].Meta
		d := rollbackDrive{library: lib, owner: m[catalog.MetaUserID], stored: items, label: "the OneDrive of " + m[catalog.MetaUser]}
		if lib != "" {
			d.label = "library " + lib + " of " + m[catalog.MetaUser]
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].library < out[j].library })
	return out
}

// rollbackPlan compares the restore point taken at point with the drive
// now: files whose content differs or that are gone are restored; files
// the restore point does not hold are quarantined, unless Graph says they
// were made between point and before (before the damage began). Paths in
// the report begin with prefix.
func rollbackPlan(stored []vault.Item, live []onedrive.LiveFile, point, before time.Time, prefix string, rep *RollbackReport) ([]vault.Item, []onedrive.LiveFile) {
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
		rep.Restored = append(rep.Restored, prefix+p)
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
		rep.Quarantined = append(rep.Quarantined, prefix+f.Path)
	}
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

// applyRollback writes the stored files back into the drive driveID as
// new versions (counting them into job) and moves the files to quarantine
// into folder.
func (a *Agent) applyRollback(ctx context.Context, g *graph.Client, driveID string, restore []vault.Item, quarantine []onedrive.LiveFile, folder string, rep *RollbackReport, job *JobStatus) {
	if len(restore) > 0 {
		res, err := onedrive.RestoreToDrive(ctx, g, jobSource{next: a.v, a: a, job: job}, restore, workloads.RestoreOptions{Collision: workloads.CollisionReplace}, driveID)
		if err != nil {
			res.Failed, res.Errors = len(restore), append(res.Errors, err.Error())
		}
		rep.Failed += res.Failed
		rep.Errors = append(rep.Errors, res.Errors...)
	}
	if len(quarantine) > 0 {
		a.updateJob(job, func(j *JobStatus) { j.Phase = "quarantining" })
		rep.QuarantineFolder = folder
		ids := make([]string, len(quarantine))
		for i, f := range quarantine {
			ids[i] = f.ID
		}
		moved, errs := onedrive.QuarantineInDrive(ctx, g, driveID, folder, ids)
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
