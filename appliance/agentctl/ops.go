package agentctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/outcome"
)

// degraded is the error of work done only in part.
func degraded(format string, args ...any) error {
	return outcome.Degraded{Err: fmt.Errorf(format, args...)}
}

// Backup runs one backup of users (every mailbox when empty) and writes
// its report, also when it failed after committing a snapshot. A run that
// completed only in part is outcome.Degraded.
func Backup(ctx context.Context, svc api.Service, o outcome.Output, users []string) error {
	stop := follow(ctx, svc, o, "backup")
	r, err := svc.Backup(ctx, api.BackupRequest{Users: users})
	stop(err == nil)
	if err != nil && (r == nil || r.Snapshot == "") {
		return err
	}
	if serr := outcome.Show(o, r, writeBackup); err == nil {
		err = serr
	}
	if err == nil && r.Result != "success" {
		err = degraded("backup %s: %d units failed, %d items not completed; they are retried on the next run", r.Result, r.Failed, r.FailedItems)
	}
	return err
}

// Snapshots writes the restore points.
func Snapshots(ctx context.Context, svc api.Service, o outcome.Output) error {
	snaps, err := svc.Snapshots(ctx)
	if err != nil {
		return err
	}
	return outcome.Show(o, snaps, writeSnapshots)
}

// List writes one level of restore point snapshot below the display path
// dir ("" for its users).
func List(ctx context.Context, svc api.Service, o outcome.Output, snapshot, dir string) error {
	var l listing
	var err error
	if l.Snapshot, l.Entries, err = svc.List(ctx, snapshot, dir); err != nil {
		return err
	}
	return outcome.Show(o, l, writeList)
}

// Find writes what a search of restore point snapshot found, at most
// limit items (0: all).
func Find(ctx context.Context, svc api.Service, o outcome.Output, snapshot string, q api.Query, limit int) error {
	var f found
	var err error
	if f.Snapshot, f.Entries, err = svc.Find(ctx, snapshot, q, limit); err != nil {
		return err
	}
	return outcome.Show(o, f, writeFind)
}

// Restore writes items back into a mailbox and says what it did, also
// when it failed after restoring some. Items not restored are
// outcome.Degraded.
func Restore(ctx context.Context, svc api.Service, o outcome.Output, req api.RestoreRequest) error {
	stop := follow(ctx, svc, o, "restore")
	r, err := svc.Restore(ctx, req)
	stop(err == nil)
	if err != nil && (r == nil || r.Selected == 0) {
		return err
	}
	if serr := outcome.Show(o, r, writeRestore); err == nil {
		err = serr
	}
	if err == nil && r.Failed > 0 {
		err = degraded("%d items were not restored", r.Failed)
	}
	return err
}

// Rollback puts a drive back as it was before a time and writes what it
// did (or would do, dry). Files not put back are outcome.Degraded.
func Rollback(ctx context.Context, svc api.Service, o outcome.Output, req api.RollbackRequest) error {
	stop := follow(ctx, svc, o, "rollback")
	r, err := svc.Rollback(ctx, req)
	stop(err == nil)
	if err != nil {
		return err
	}
	if err := outcome.Show(o, r, writeRollback); err != nil {
		return err
	}
	if r.Failed > 0 {
		return degraded("%d files were not rolled back", r.Failed)
	}
	return nil
}

// Export writes the selected items as files below req.Dest and says what
// it wrote.
func Export(ctx context.Context, svc api.Service, o outcome.Output, req api.ExportRequest) error {
	stop := follow(ctx, svc, o, "export")
	r, err := svc.Export(ctx, req)
	stop(err == nil)
	if err != nil {
		return err
	}
	return outcome.Show(o, r, func(w io.Writer, r *api.ExportReport) { writeExport(w, r, req.Dest) })
}

// RestoreTest restores sample random items of the latest backup to
// scratch space and verifies them; a failed test is outcome.Degraded.
func RestoreTest(ctx context.Context, svc api.Service, o outcome.Output, sample int) error {
	stop := follow(ctx, svc, o, "restore-test")
	r, err := svc.RestoreTest(ctx, sample)
	stop(err == nil)
	if err == nil {
		err = outcome.Show(o, r, writeRestoreTest)
	}
	if err == nil && !r.OK {
		err = degraded("restore test failed: run 'strongroom vault scrub --repair' and check the disks")
	}
	return err
}

// Status writes the protection status; open alerts are outcome.Degraded.
func Status(ctx context.Context, svc api.Service, o outcome.Output) error {
	st, err := svc.Status(ctx)
	if err == nil {
		err = outcome.Show(o, st, writeStatus)
	}
	if err == nil && len(st.Alerts) > 0 {
		err = degraded("%d alerts: %s", len(st.Alerts), strings.Join(st.Alerts, "; "))
	}
	return err
}

// Report writes the protection report of the period up to the agent's
// now.
func Report(ctx context.Context, svc api.Service, o outcome.Output, period time.Duration) error {
	st, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	r, err := svc.Report(ctx, st.Now.Add(-period))
	if err != nil {
		return err
	}
	return outcome.Show(o, r, writeReport)
}
